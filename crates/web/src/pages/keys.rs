//! Security keys and passkeys in the browser: the JSON steps `assets/webauthn.js` calls around
//! `navigator.credentials.create/get`. Every step is a CSRF-protected form post answered with
//! JSON (`{"challenge", "options"}` to start, `{"location"}` when done, `{"error"}` when not).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::credentials::Password;
use latchkey_core::second_factor::{BeginSignIn, Ceremony, SecondFactorError, SignInStep};
use serde::Deserialize;
use serde_json::json;

use crate::error::{Failure, message_page};
use crate::extract::{
    Client, CookieNames, CsrfForm, MaybeSignedIn, SignedIn, pending_cookie, pending_cookie_removal,
    session_cookie,
};
use crate::pages::login::{NoFields, step_path};
use crate::pages::sign_in_again;
use crate::state::AppState;
use latchkey_core::return_to::ReturnTo;

fn ceremony(c: Ceremony) -> Response {
    let Ceremony { challenge, options } = c;
    Json(json!({ "challenge": challenge, "options": options })).into_response()
}

fn error(e: SecondFactorError) -> Response {
    let failure = Failure::from(e);
    (failure.status, Json(json!({ "error": failure.message }))).into_response()
}

fn go(location: &str) -> Response {
    Json(json!({ "location": location })).into_response()
}

pub async fn register_begin(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.second_factor().begin_key_registration(&me).await {
        Ok(c) => ceremony(c),
        Err(SecondFactorError::SignInAgain) => go(&sign_in_again("/account/security")),
        Err(e) => error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FinishForm {
    challenge: String,
    credential: String,
    nickname: String,
    next: String,
}

pub async fn register_finish(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Response {
    match state
        .core
        .second_factor()
        .finish_key_registration(&me, &form.challenge, &form.credential, &form.nickname)
        .await
    {
        Ok(()) => go("/account/security?notice=key_added"),
        Err(e) => error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RenameForm {
    nickname: String,
}

pub async fn rename(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Response {
    match state.core.second_factor().rename_security_key(me.account(), &id, &form.nickname).await {
        Ok(true) => Redirect::to("/account/security?notice=key_renamed").into_response(),
        Ok(false) => message_page(StatusCode::NOT_FOUND, "Key not found", "That key is gone."),
        Err(e) => crate::error::failure_page(&Failure::from(e), "Could not rename the key"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoveForm {
    password: String,
}

/// Removing a key needs a recent sign-in (which included the second step) and the password.
pub async fn remove(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Response {
    let Ok(password) = Password::for_verification(&form.password) else {
        return crate::error::failure_page(
            &Failure::from(SecondFactorError::WrongPassword),
            "Could not remove the key",
        );
    };
    match state.core.second_factor().remove_security_key(&me, &password, &id).await {
        Ok(true) => Redirect::to("/account/security?notice=key_removed").into_response(),
        Err(SecondFactorError::SignInAgain) => {
            Redirect::to(&sign_in_again("/account/security")).into_response()
        }
        Ok(false) => message_page(StatusCode::NOT_FOUND, "Key not found", "That key is gone."),
        Err(e) => crate::error::failure_page(&Failure::from(e), "Could not remove the key"),
    }
}

fn pending_token(state: &AppState, jar: &CookieJar) -> String {
    crate::extract::pending_token(CookieNames::new(state.settings.secure_cookies()), jar)
}

pub async fn second_factor_begin(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.second_factor().begin_key_second_factor(&pending_token(&state, &jar)).await {
        Ok(c) => ceremony(c),
        Err(e) => error(e),
    }
}

/// Sets the new session's cookie (core ended the browser's earlier session) and answers
/// where to go.
fn signed_in(state: &AppState, jar: CookieJar, token: &str, next: &ReturnTo) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    let cookie =
        session_cookie(names, token.to_owned(), state.core.settings().session_lifetime_secs);
    (jar.add(cookie).add(pending_cookie_removal(names)), go(next.as_str())).into_response()
}

pub async fn second_factor_finish(
    State(state): State<AppState>,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Response {
    let pending = pending_token(&state, &jar);
    match state
        .core
        .second_factor()
        .finish_key_second_factor(&pending, &form.challenge, &form.credential, previous.as_deref())
        .await
    {
        Ok(SignInStep::SignedIn(success, next)) => {
            state.metrics.login("success");
            signed_in(&state, jar, success.cookie.token.expose(), &next)
        }
        Ok(SignInStep::Next(step)) => go(step_path(step)).into_response(),
        Err(e) => error(e),
    }
}

/// A security key or passkey as the factor a policy requires, set up during the sign-in.
pub async fn required_key_begin(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    let pending = pending_token(&state, &jar);
    match state.core.second_factor().begin_required_key(&pending).await {
        Ok(c) => ceremony(c),
        Err(e) => error(e),
    }
}

pub async fn required_key_finish(
    State(state): State<AppState>,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Response {
    let pending = pending_token(&state, &jar);
    let second_factor = state.core.second_factor();
    let finished = second_factor
        .finish_required_key(
            &pending,
            &form.challenge,
            &form.credential,
            &form.nickname,
            previous.as_deref(),
        )
        .await;
    match finished {
        Ok(SignInStep::SignedIn(success, next)) => {
            state.metrics.login("success");
            signed_in(&state, jar, success.cookie.token.expose(), &next)
        }
        Ok(SignInStep::Next(step)) => go(step_path(step)),
        Err(e) => error(e),
    }
}

pub async fn passwordless_begin(
    State(state): State<AppState>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.second_factor().begin_passwordless().await {
        Ok(c) => ceremony(c),
        Err(e) => error(e),
    }
}

pub async fn passwordless_finish(
    State(state): State<AppState>,
    Client(client): Client,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Response {
    let next = ReturnTo::parse_or_account(&form.next);
    match state
        .core
        .second_factor()
        .finish_passwordless(&form.challenge, &form.credential, client, &next, previous.as_deref())
        .await
    {
        Ok(BeginSignIn::SignedIn(success)) => {
            state.metrics.login("success");
            signed_in(&state, jar, success.cookie.token.expose(), &next)
        }
        Ok(BeginSignIn::Pending(token, step)) => {
            state.metrics.login("pending");
            let names = CookieNames::new(state.settings.secure_cookies());
            let cookie = pending_cookie(names, token.expose().to_owned());
            (jar.add(cookie), go(step_path(step))).into_response()
        }
        Err(e) => {
            state.metrics.login("passkey_refused");
            error(e)
        }
    }
}

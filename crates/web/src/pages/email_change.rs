//! Changing the account's email: the request on `/account` (recent sign-in and the password),
//! the confirmation link mailed to the new address, and the "this wasn't me" link mailed to
//! the old one. Links open a page with a button (a POST), so mail scanners that follow links
//! change nothing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::Email;
use latchkey_core::credentials::Password;
use latchkey_core::flows::ChangeEmailError;
use serde::Deserialize;

use crate::error::{PageError, message_page, render, unexpected_page};
use crate::extract::{
    CookieNames, CsrfForm, CsrfToken, MaybeSignedIn, PageQuery, SignedIn, session_cookie_removal,
};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangeForm {
    new_email: String,
    current_password: String,
}

fn refused(e: &ChangeEmailError) -> Response {
    let status = match e {
        ChangeEmailError::WrongPassword => StatusCode::UNAUTHORIZED,
        ChangeEmailError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ChangeEmailError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        ChangeEmailError::Unexpected(u) => return unexpected_page(u),
        _ => StatusCode::BAD_REQUEST,
    };
    message_page(status, "Your email was not changed", &e.to_string())
}

pub async fn request(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Response {
    let new = match Email::parse(&form.new_email) {
        Ok(e) => e,
        Err(e) => {
            return message_page(StatusCode::BAD_REQUEST, "Not an email address", &e.to_string());
        }
    };
    let Ok(password) = Password::for_verification(&form.current_password) else {
        return refused(&ChangeEmailError::WrongPassword);
    };
    match state.core.accounts().request_email_change(&me, &password, &new).await {
        Ok(()) => Redirect::to("/account/email?notice=email_change_sent").into_response(),
        Err(ChangeEmailError::SignInAgain) => {
            Redirect::to(&crate::pages::sign_in_again("/account/email")).into_response()
        }
        Err(e) => refused(&e),
    }
}

#[derive(Template)]
#[template(path = "email_link.html")]
struct LinkPage {
    csrf: String,
    heading: &'static str,
    explanation: &'static str,
    action: &'static str,
    button: &'static str,
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

async fn link_page(
    state: &AppState,
    token: String,
    csrf: String,
    revert: bool,
) -> Result<Response, PageError> {
    if !state.core.accounts().email_link_is_valid(&token, revert).await? {
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "This link is not valid any more",
            "It was used already or has expired.",
        ));
    }
    Ok(render(&if revert {
        LinkPage {
            csrf,
            heading: "Undo the email change",
            explanation: "This puts your old address back, signs the account out everywhere and asks you to choose a new password (a link is mailed to this address).",
            action: "/account/email/revert",
            button: "This wasn't me: undo it",
            token,
        }
    } else {
        LinkPage {
            csrf,
            heading: "Confirm your new email address",
            explanation: "Your account's email becomes this address; the old one can no longer be used to sign in.",
            action: "/account/email/confirm",
            button: "Confirm the new address",
            token,
        }
    }))
}

pub async fn confirm_show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    link_page(&state, q.token, csrf.0, false).await
}

pub async fn revert_show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    link_page(&state, q.token, csrf.0, true).await
}

pub async fn confirm_submit(
    State(state): State<AppState>,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    CsrfForm(form): CsrfForm<TokenQuery>,
) -> Response {
    match state.core.accounts().confirm_email_change(&form.token, signed_in.as_deref()).await {
        Ok(_) => Redirect::to("/account?notice=email_changed").into_response(),
        Err(e) => refused(&e),
    }
}

pub async fn revert_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<TokenQuery>,
) -> Response {
    match state.core.accounts().revert_email_change(&form.token).await {
        Ok(_) => {
            let names = CookieNames::new(state.settings.secure_cookies());
            (jar.add(session_cookie_removal(names)), Redirect::to("/login?notice=email_reverted"))
                .into_response()
        }
        Err(e) => refused(&e),
    }
}

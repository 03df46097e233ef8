//! `/login` and `/logout`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::Email;
use latchkey_core::credentials::Password;
use latchkey_core::flows::{LoginError, LoginOutcome, LoginSuccess};
use latchkey_core::second_factor::{PendingStep, SecondFactorError, SignInStep};
use serde::Deserialize;

use crate::error::{Failure, PageError, leads_to_products, render};
use crate::extract::{
    Client, CookieNames, CsrfForm, CsrfToken, MaybeSignedIn, PageQuery, pending_cookie,
    pending_cookie_removal, pending_token, session_cookie, session_cookie_removal,
};
use crate::pages::notice_text;
use crate::state::AppState;
use latchkey_core::return_to::ReturnTo;

/// The login and second-step pages: their forms end at a product after sign-in.
fn form_page<T: Template>(page: &T) -> Response {
    leads_to_products(render(page))
}

#[derive(Template, Default)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    /// "Sign in with a passkey" (when the public URL allows WebAuthn).
    passkeys: bool,
    /// Home-realm discovery (some organization signs in through its identity provider): the
    /// email alone first; the password is the next step for everyone else.
    email_first: bool,
    /// The product the sign-in continues to ("to continue to Wiki").
    product: Option<String>,
    /// The password step after the email: the address is shown, with a way back.
    email_known: bool,
    /// `/login?next=…`: back to the email step.
    change_email: String,
    email: String,
    next: String,
    notice: Option<&'static str>,
    form_error: Option<String>,
    email_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
    /// A product asked for a fresh sign-in (`prompt=login`, `max_age`): show the form even
    /// to someone already signed in.
    reauth: Option<String>,
    login_hint: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
    /// `email` when the form was the email step of home-realm discovery.
    step: String,
}

pub async fn login_show(
    State(state): State<AppState>,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    csrf: CsrfToken,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Response {
    let next = query
        .next
        .as_deref()
        .and_then(ReturnTo::parse)
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    let reauth = query.reauth.is_some();
    if signed_in.is_some() && !reauth {
        return Redirect::to(if next.is_empty() { "/account" } else { &next }).into_response();
    }
    let hint = query.login_hint.as_deref().and_then(|h| Email::parse(h).ok());
    let email = match (&signed_in, hint) {
        (Some(s), _) => s.account().email.to_string(),
        (None, Some(h)) => h.to_string(),
        (None, None) => String::new(),
    };
    let notice = match query.notice.as_deref() {
        Some("policy") => Some("policy"),
        _ if reauth => Some("reauth"),
        other => other,
    };
    form_page(&LoginPage {
        csrf: csrf.0,
        passkeys: state.core.second_factor().security_keys_available(),
        email_first: state.core.saml().configured_anywhere().await.unwrap_or(false),
        product: product_name(&state, &next).await,
        next,
        email,
        notice: notice_text(notice),
        ..LoginPage::default()
    })
}

/// The name of the product an authorization request in `next` comes from.
async fn product_name(state: &AppState, next: &str) -> Option<String> {
    let query = next.strip_prefix("/oauth/authorize?")?;
    let client_id = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())?;
    state.core.oidc().find_client(&client_id).await.ok().flatten().map(|c| c.name)
}

/// `/login` again, keeping where the sign-in goes.
fn login_href(next: &str) -> String {
    if next.is_empty() {
        return "/login".to_owned();
    }
    let query: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
    format!("/login?{query}")
}

pub async fn login_submit(
    State(state): State<AppState>,
    Client(client): Client,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let next = ReturnTo::parse_or_account(&form.next);
    let discovery = state.core.saml().configured_anywhere().await.unwrap_or(false);
    let mut page = LoginPage {
        csrf: csrf.0,
        passkeys: state.core.second_factor().security_keys_available(),
        email: form.email.chars().take(254).collect(),
        next: form.next.clone(),
        change_email: login_href(&form.next),
        product: product_name(&state, &form.next).await,
        ..LoginPage::default()
    };
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => {
            page.email_error = Some(e.to_string());
            page.email_first = discovery;
            return (StatusCode::BAD_REQUEST, form_page(&page)).into_response();
        }
    };
    // Past the email: the address is fixed on the password step (a wrong password comes back
    // to it too).
    page.email_known = discovery;
    if form.password.is_empty() {
        return single_sign_on(&state, &email, &next, form.step == "email", page).await;
    }
    let Ok(password) = Password::for_verification(&form.password) else {
        page.form_error = Some(LoginError::InvalidCredentials.to_string());
        return (StatusCode::UNAUTHORIZED, form_page(&page)).into_response();
    };
    match state.core.accounts().log_in(&email, &password, client, &next, previous.as_deref()).await
    {
        Ok(LoginOutcome::SignedIn(success)) => {
            state.metrics.login("success");
            signed_in(&state, jar, &success, &next)
        }
        Ok(LoginOutcome::Upgraded(success)) => {
            state.metrics.login("success");
            let welcome = crate::pages::upgraded::path(&next);
            signed_in(&state, jar, &success, &welcome)
        }
        Ok(LoginOutcome::Pending(pending, step)) => {
            state.metrics.login(match step {
                PendingStep::SecondFactor => "second_factor",
                PendingStep::NewPassword => "new_password",
                PendingStep::Enrolment => "two_step_setup",
            });
            let names = CookieNames::new(state.settings.secure_cookies());
            let cookie = pending_cookie(names, pending.expose().to_owned());
            (jar.add(cookie), Redirect::to(step_path(step))).into_response()
        }
        Err(e) => {
            state.metrics.login(match &e {
                LoginError::InvalidCredentials => "invalid_credentials",
                LoginError::Deactivated => "deactivated",
                LoginError::Throttled(_) => "throttled",
                LoginError::Busy => "busy",
                LoginError::SsoRequired => "sso_required",
                LoginError::Unexpected(_) => "error",
            });
            let failure = Failure::from(e);
            page.form_error = Some(failure.message.clone());
            failure.apply(form_page(&page))
        }
    }
}

/// The email alone: an address on a domain bound to a SAML connection goes to that identity
/// provider; any other is asked for its password (which says nothing about accounts: the
/// answer depends on the domain only). `email_step`: the form was the email step, so the
/// password step is the answer, not an error.
async fn single_sign_on(
    state: &AppState,
    email: &Email,
    next: &ReturnTo,
    email_step: bool,
    mut page: LoginPage,
) -> Response {
    let saml = state.core.saml();
    match saml.connection_for_email(email).await {
        Ok(Some(connection)) => match saml.begin_login(&connection, next, false).await {
            Ok(url) => Redirect::to(&url).into_response(),
            Err(e) => crate::error::unexpected_page(&e),
        },
        Ok(None) if email_step => form_page(&page),
        Ok(None) => {
            page.form_error = Some("Enter your password.".to_owned());
            (StatusCode::BAD_REQUEST, form_page(&page)).into_response()
        }
        Err(e) => crate::error::unexpected_page(&e),
    }
}

/// The page of a pending login's step.
pub(crate) fn step_path(step: PendingStep) -> &'static str {
    match step {
        PendingStep::SecondFactor => "/login/second-factor",
        PendingStep::NewPassword => "/login/new-password",
        PendingStep::Enrolment => "/login/two-step-setup",
    }
}

/// Where a step left the sign-in: signed in (on to `next`), or on to the next step's page.
pub(crate) fn after_step(state: &AppState, jar: CookieJar, step: SignInStep) -> Response {
    match step {
        SignInStep::SignedIn(success, next) => {
            state.metrics.login("success");
            signed_in(state, jar, &success, &next)
        }
        SignInStep::Next(step) => Redirect::to(step_path(step)).into_response(),
    }
}

/// Sets the new session's cookie (core ended the browser's earlier session) and goes on to
/// `next`.
pub(crate) fn signed_in(
    state: &AppState,
    jar: CookieJar,
    success: &LoginSuccess,
    next: &ReturnTo,
) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    let cookie = session_cookie(
        names,
        success.cookie.token.expose().to_owned(),
        state.core.settings().session_lifetime_secs,
    );
    (jar.add(cookie).add(pending_cookie_removal(names)), Redirect::to(next.as_str()))
        .into_response()
}

#[derive(Template, Default)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    csrf: String,
    /// The account has security keys: offer them.
    keys: bool,
    form_error: Option<String>,
}

/// `/login/second-factor`: the code step after a right password.
pub async fn second_factor_show(
    State(state): State<AppState>,
    jar: CookieJar,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let names = CookieNames::new(state.settings.secure_cookies());
    let token = pending_token(names, &jar);
    let Some(pending) = state.core.second_factor().pending_login(&token).await? else {
        return Ok(Redirect::to("/login?notice=second_factor_expired").into_response());
    };
    match pending.steps.next() {
        Some(PendingStep::SecondFactor) => {}
        Some(other) => return Ok(Redirect::to(step_path(other)).into_response()),
        None => return Ok(Redirect::to("/login?notice=second_factor_expired").into_response()),
    }
    let status = state.core.second_factor().two_factor_status(&pending.account).await?;
    let keys = status.security_keys > 0 && state.core.second_factor().security_keys_available();
    Ok(form_page(&SecondFactorPage { csrf: csrf.0, keys, form_error: None }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SecondFactorForm {
    code: String,
}

pub async fn second_factor_submit(
    State(state): State<AppState>,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<SecondFactorForm>,
) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    let token = pending_token(names, &jar);
    let code: String = form.code.chars().take(64).collect();
    match state
        .core
        .second_factor()
        .complete_second_factor(&token, &code, previous.as_deref())
        .await
    {
        Ok(step) => after_step(&state, jar, step),
        Err(SecondFactorError::Expired) => (
            jar.add(pending_cookie_removal(names)),
            Redirect::to("/login?notice=second_factor_expired"),
        )
            .into_response(),
        Err(e) => {
            state.metrics.login("wrong_second_factor");
            let failure = Failure::from(e);
            let keys = state.core.second_factor().security_keys_available();
            let page =
                SecondFactorPage { csrf: csrf.0, keys, form_error: Some(failure.message.clone()) };
            failure.apply(form_page(&page))
        }
    }
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    csrf: String,
    signed_in: bool,
}

pub async fn logout_show(MaybeSignedIn(signed_in): MaybeSignedIn, csrf: CsrfToken) -> Response {
    render(&LogoutPage { csrf: csrf.0, signed_in: signed_in.is_some() })
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

pub async fn logout_submit(
    State(state): State<AppState>,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    if let Some(s) = signed_in {
        state.core.sessions().end_session(&s.account().id, &s.session().id).await?;
        tracing::info!(account = %s.account().id, "logout");
    }
    let names = CookieNames::new(state.settings.secure_cookies());
    Ok((jar.add(session_cookie_removal(names)), Redirect::to("/logout")).into_response())
}

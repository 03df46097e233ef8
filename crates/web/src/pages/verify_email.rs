//! `/verify-email` (the emailed link: a confirmation button, then sign-in) and
//! `/verify-email/resend`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::flows::EmailVerified;
use serde::Deserialize;

use crate::error::{Failure, PageError, render};
use crate::extract::{
    Client, CookieNames, CsrfForm, CsrfToken, MaybeSignedIn, PageQuery, session_cookie,
};
use crate::pages::email_request::{EmailForm, EmailRequest};
use crate::state::AppState;

const INVALID: &str = "This verification link has expired or was already used. Request a new one.";

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyPage<'a> {
    csrf: String,
    token: String,
    valid: bool,
    message: &'a str,
    /// A used link opened by someone signed in whose address is verified: say so, not
    /// "expired".
    already_verified: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenParam {
    token: String,
}

pub async fn verify_show(
    State(state): State<AppState>,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenParam>,
) -> Result<Response, PageError> {
    let valid = state.core.accounts().verification_link_is_valid(&q.token).await?;
    // Only about the signed-in person's own address: says nothing of the link's owner.
    let already_verified = signed_in
        .filter(|s| !valid && s.account().email_verified())
        .map(|s| s.account().email.to_string());
    let status =
        if valid || already_verified.is_some() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = VerifyPage {
        csrf: csrf.0,
        token: if valid { q.token } else { String::new() },
        valid,
        message: INVALID,
        already_verified,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn verify_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<TokenParam>,
) -> Response {
    match state.core.accounts().verify_email(&form.token, client).await {
        Ok(EmailVerified::LogInNext(_)) => {
            Redirect::to("/login?notice=verified_log_in").into_response()
        }
        Ok(EmailVerified::SignedIn(success)) => {
            let names = CookieNames::new(state.settings.secure_cookies());
            let cookie = session_cookie(
                names,
                success.cookie.token.expose().to_owned(),
                state.core.settings().session_lifetime_secs,
            );
            (jar.add(cookie), Redirect::to("/account?notice=verified")).into_response()
        }
        Err(e) => {
            let failure = Failure::from(e);
            let page = VerifyPage {
                csrf: csrf.0,
                token: String::new(),
                valid: false,
                message: &failure.message,
                already_verified: None,
            };
            failure.apply(render(&page))
        }
    }
}

pub async fn resend_show(csrf: CsrfToken) -> Response {
    EmailRequest::ResendVerification.show(csrf.0)
}

pub async fn resend_submit(
    State(state): State<AppState>,
    Client(client): Client,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Response {
    EmailRequest::ResendVerification.submit(&state, &client.ip, csrf.0, form).await
}

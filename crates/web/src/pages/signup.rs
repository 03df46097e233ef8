//! `/signup`: create an account; the answer never reveals whether the address was taken.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::credentials::Password;
use latchkey_core::flows::SignUpRequest;
use serde::Deserialize;

use crate::error::{Failure, render};
use crate::extract::{Client, CsrfForm, CsrfToken, MaybeSignedIn};
use crate::state::AppState;

#[derive(Template, Default)]
#[template(path = "signup.html")]
struct SignUpPage {
    csrf: String,
    email: String,
    name: String,
    form_error: Option<String>,
    email_error: Option<String>,
    name_error: Option<String>,
    password_error: Option<String>,
}

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    csrf: String,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignUpForm {
    email: String,
    name: String,
    password: String,
}

pub async fn signup_show(MaybeSignedIn(signed_in): MaybeSignedIn, csrf: CsrfToken) -> Response {
    if signed_in.is_some() {
        return Redirect::to("/account").into_response();
    }
    render(&SignUpPage { csrf: csrf.0, ..SignUpPage::default() })
}

/// The flash purpose of the address a sign-up link went to.
const SIGNED_UP: &str = "signed_up";

/// `/signup/check-email`: after a sign-up (POST/redirect/GET). The address comes once from
/// the sign-up; a reload shows the page without it.
pub async fn check_email(
    State(state): State<AppState>,
    jar: CookieJar,
    csrf: CsrfToken,
) -> Response {
    let (jar, value) = crate::flash::take(&state, jar, SIGNED_UP);
    let email = value.and_then(|v| v["email"].as_str().map(str::to_owned)).unwrap_or_default();
    (jar, render(&CheckEmailPage { csrf: csrf.0, email })).into_response()
}

pub async fn signup_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<SignUpForm>,
) -> Response {
    let email = Email::parse(&form.email);
    let name = DisplayName::parse(&form.name);
    let password = Password::parse(&form.password);
    let mut page = SignUpPage {
        csrf: csrf.0.clone(),
        email: form.email.chars().take(254).collect(),
        name: form.name.chars().take(100).collect(),
        ..SignUpPage::default()
    };
    let (Ok(email), Ok(name), Ok(password)) = (&email, &name, &password) else {
        page.email_error = email.err().map(|e| e.to_string());
        page.name_error = name.err().map(|e| e.to_string());
        page.password_error = password.err().map(|e| e.to_string());
        return (StatusCode::BAD_REQUEST, render(&page)).into_response();
    };
    let request = SignUpRequest {
        email: email.clone(),
        name: name.clone(),
        password: password.clone(),
        ip: client.ip,
    };
    match state.core.accounts().sign_up(request).await {
        Ok(()) => crate::flash::redirect_with(
            &state,
            jar,
            SIGNED_UP,
            serde_json::json!({ "email": email.as_str() }),
            "/signup/check-email",
        ),
        Err(e @ latchkey_core::flows::SignUpError::Rule(_)) => {
            page.password_error = Some(e.to_string());
            (StatusCode::BAD_REQUEST, render(&page)).into_response()
        }
        Err(e) => {
            let failure = Failure::from(e);
            page.form_error = Some(failure.message.clone());
            failure.apply(render(&page))
        }
    }
}

//! The steps a policy adds to a sign-in, between the password and the session:
//! `/login/new-password` (the password has run out, or an admin asked for new ones) and
//! `/login/two-step-setup` (two-step verification is required and not set up yet). Both work
//! on the pending login in its cookie; neither reaches anything else.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::credentials::Password;
use latchkey_core::flows::NewPasswordStepError;
use latchkey_core::second_factor::{PendingStep, SecondFactorError, SignInStep};
use serde::Deserialize;

use crate::error::{Failure, PageError, leads_to_products, render};
use crate::extract::{CookieNames, CsrfForm, CsrfToken, MaybeSignedIn, pending_cookie_removal};
use crate::pages::login::{after_step, signed_in, step_path};
use crate::pages::security::qr_data_uri;
use crate::state::AppState;

const EXPIRED: &str = "/login?notice=second_factor_expired";

fn pending_token(state: &AppState, jar: &CookieJar) -> String {
    crate::extract::pending_token(CookieNames::new(state.settings.secure_cookies()), jar)
}

/// The pending login is at `step`; otherwise where the browser should go instead.
async fn at_step(
    state: &AppState,
    token: &str,
    step: PendingStep,
) -> Result<Result<(), Response>, PageError> {
    Ok(match state.core.second_factor().pending_step(token).await? {
        Some(s) if s == step => Ok(()),
        Some(other) => Err(Redirect::to(step_path(other)).into_response()),
        None => Err(Redirect::to(EXPIRED).into_response()),
    })
}

fn expired(state: &AppState, jar: CookieJar) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    (jar.add(pending_cookie_removal(names)), Redirect::to(EXPIRED)).into_response()
}

#[derive(Template, Default)]
#[template(path = "new_password.html")]
struct NewPasswordPage {
    csrf: String,
    min_length: u32,
    form_error: Option<String>,
}

pub async fn new_password_show(
    State(state): State<AppState>,
    jar: CookieJar,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let token = pending_token(&state, &jar);
    if let Err(elsewhere) = at_step(&state, &token, PendingStep::NewPassword).await? {
        return Ok(elsewhere);
    }
    let min_length = min_length(&state, &token).await?;
    Ok(leads_to_products(render(&NewPasswordPage { csrf: csrf.0, min_length, form_error: None })))
}

async fn min_length(state: &AppState, token: &str) -> Result<u32, PageError> {
    let rules = state.core.accounts().pending_password_rules(token).await?;
    Ok(rules.unwrap_or_default().password_min_length)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPasswordForm {
    password: String,
    confirm: String,
}

pub async fn new_password_submit(
    State(state): State<AppState>,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let token = pending_token(&state, &jar);
    let min = min_length(&state, &token).await?;
    let page = |error: String| NewPasswordPage {
        csrf: csrf.0.clone(),
        min_length: min,
        form_error: Some(error),
    };
    let password = match Password::parse(&form.password) {
        Ok(p) => p,
        Err(e) => {
            let f = Failure::new(axum::http::StatusCode::BAD_REQUEST, e.to_string());
            return Ok(f.apply(render(&page(f.message.clone()))));
        }
    };
    if form.password != form.confirm {
        let f = Failure::new(axum::http::StatusCode::BAD_REQUEST, "The two passwords differ.");
        return Ok(f.apply(render(&page(f.message.clone()))));
    }
    match state.core.accounts().choose_new_password(&token, &password, previous.as_deref()).await {
        Ok(step) => Ok(after_step(&state, jar, step)),
        Err(NewPasswordStepError::Expired) => Ok(expired(&state, jar)),
        Err(e) => {
            let f = Failure::from(e);
            Ok(f.apply(leads_to_products(render(&page(f.message.clone())))))
        }
    }
}

#[derive(Template)]
#[template(path = "security_enrol.html")]
struct RequiredEnrolPage {
    csrf: String,
    secret: String,
    otpauth_uri: String,
    qr: String,
    form_error: Option<String>,
    action: &'static str,
    required: bool,
    /// Security keys can be offered (the public URL allows WebAuthn).
    keys: bool,
}

impl RequiredEnrolPage {
    fn secret_groups(&self) -> String {
        crate::pages::key_groups(&self.secret)
    }
}

fn enrol_page(
    state: &AppState,
    csrf: String,
    e: latchkey_core::second_factor::Enrolment,
    error: Option<String>,
) -> RequiredEnrolPage {
    RequiredEnrolPage {
        keys: state.core.second_factor().security_keys_available(),
        csrf,
        secret: e.secret_base32,
        qr: qr_data_uri(&e.otpauth_uri),
        otpauth_uri: e.otpauth_uri,
        form_error: error,
        action: "/login/two-step-setup",
        required: true,
    }
}

pub async fn two_step_setup_show(
    State(state): State<AppState>,
    jar: CookieJar,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let token = pending_token(&state, &jar);
    if let Err(elsewhere) = at_step(&state, &token, PendingStep::Enrolment).await? {
        return Ok(elsewhere);
    }
    Ok(match state.core.second_factor().begin_required_totp(&token).await {
        Ok(e) => leads_to_products(render(&enrol_page(&state, csrf.0, e, None))),
        Err(SecondFactorError::Expired) => expired(&state, jar),
        Err(e) => crate::error::failure_page(&Failure::from(e), "Set up two-step verification"),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[derive(Template)]
#[template(path = "security_codes.html")]
struct CodesPage {
    codes: Vec<String>,
    done: String,
}

impl CodesPage {
    fn download(&self) -> String {
        crate::pages::codes_download(&self.codes)
    }
}

pub async fn two_step_setup_submit(
    State(state): State<AppState>,
    MaybeSignedIn(previous): MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let token = pending_token(&state, &jar);
    let code: String = form.code.chars().take(64).collect();
    let second_factor = state.core.second_factor();
    match second_factor.confirm_required_totp(&token, &code, previous.as_deref()).await {
        // The recovery codes are shown once, with the way on to where the sign-in was going.
        Ok((codes, SignInStep::SignedIn(success, next))) => {
            state.metrics.login("success");
            let page = render(&CodesPage { codes, done: next.as_str().to_owned() });
            let (parts, _) = signed_in(&state, jar, &success, &next).into_parts();
            let mut response = page;
            for (name, value) in &parts.headers {
                if name == axum::http::header::SET_COOKIE {
                    response.headers_mut().append(name, value.clone());
                }
            }
            Ok(response)
        }
        Ok((codes, SignInStep::Next(step))) => {
            Ok(render(&CodesPage { codes, done: step_path(step).to_owned() }))
        }
        Err(SecondFactorError::Expired) => Ok(expired(&state, jar)),
        Err(e) => {
            let failure = Failure::from(e);
            match second_factor.begin_required_totp(&token).await {
                Ok(en) => Ok(failure.apply(render(&enrol_page(
                    &state,
                    csrf.0,
                    en,
                    Some(failure.message.clone()),
                )))),
                Err(_) => Ok(expired(&state, jar)),
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StrengthForm {
    password: String,
    email: String,
    name: String,
}

/// `POST /password/strength`: the live meter's verdict (zxcvbn score 0–4 and a hint). The
/// server's check when the password is submitted is the one that counts.
pub async fn strength(
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<StrengthForm>,
) -> Json<latchkey_core::policies::Strength> {
    let password: String = form.password.chars().take(256).collect();
    let email: String = form.email.chars().take(254).collect();
    let name: String = form.name.chars().take(100).collect();
    Json(state.core.policies().strength(&password, &[&email, &name]))
}

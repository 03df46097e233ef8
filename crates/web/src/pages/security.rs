//! `/account/security`: two-step verification (authenticator app and recovery codes). Turning
//! it on, or making new recovery codes, needs a sign-in from the last ten minutes (step-up);
//! turning it off needs the password and a current code.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::credentials::Password;
use latchkey_core::second_factor::SecondFactorError;
use serde::Deserialize;

use crate::error::{Failure, PageError, render};
use crate::extract::{CsrfForm, CsrfToken, PageQuery, SignedIn};
use crate::pages::login::NoFields;
use crate::pages::{format_time, notice_text, sign_in_again};
use crate::state::AppState;

const HERE: &str = "/account/security";

struct KeyRow {
    id: String,
    nickname: String,
    added: String,
    last_used: String,
}

#[derive(Template, Default)]
#[template(path = "security.html")]
#[allow(clippy::struct_excessive_bools, reason = "a template's yes/no facts")]
struct SecurityPage {
    section: &'static str,
    site_admin: bool,
    csrf: String,
    notice: Option<&'static str>,
    email: String,
    totp: bool,
    enabled: bool,
    recovery_codes_left: u32,
    keys_available: bool,
    keys: Vec<KeyRow>,
    form_error: Option<String>,
    api_tokens: Option<crate::pages::api_tokens::TokenSection>,
}

#[derive(Template)]
#[template(path = "security_enrol.html")]
struct EnrolPage {
    csrf: String,
    secret: String,
    otpauth_uri: String,
    qr: String,
    form_error: Option<String>,
    action: &'static str,
    required: bool,
    keys: bool,
}

impl EnrolPage {
    fn secret_groups(&self) -> String {
        crate::pages::key_groups(&self.secret)
    }
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

/// The QR code of an `otpauth://` URI as a `data:` URI of an SVG, drawn here (no outside
/// service ever sees the secret).
pub(crate) fn qr_data_uri(otpauth_uri: &str) -> String {
    use base64::Engine as _;
    let svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
    )
}

/// The page a refused change shows; a sign-in that is not recent enough goes back to login.
fn refused(e: SecondFactorError, heading: &str) -> Response {
    if matches!(e, SecondFactorError::SignInAgain) {
        return Redirect::to(&sign_in_again(HERE)).into_response();
    }
    crate::error::failure_page(&Failure::from(e), heading)
}

async fn page(state: &AppState, me: &SignedIn, csrf: String) -> Result<SecurityPage, PageError> {
    let status = state.core.second_factor().two_factor_status(&me.account().id).await?;
    let keys = state
        .core
        .second_factor()
        .list_security_keys(&me.account().id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            nickname: k.nickname,
            added: format_time(k.created_at.unix()).0,
            last_used: k
                .last_used_at
                .map_or_else(|| "never".to_owned(), |t| format_time(t.unix()).0),
        })
        .collect();
    Ok(SecurityPage {
        section: "security",
        site_admin: me.account().site_admin,
        csrf,
        email: me.account().email.to_string(),
        totp: status.totp,
        enabled: status.enabled(),
        recovery_codes_left: status.recovery_codes_left,
        keys_available: state.core.second_factor().security_keys_available(),
        keys,
        api_tokens: Some(crate::pages::api_tokens::section(state, me).await?),
        ..SecurityPage::default()
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let mut p = page(&state, &me, csrf.0).await?;
    p.notice = notice_text(q.notice.as_deref());
    Ok(render(&p))
}

pub async fn totp_start(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.second_factor().begin_totp_enrolment(&me).await {
        Ok(e) => render(&EnrolPage {
            csrf: csrf.0,
            secret: e.secret_base32,
            qr: qr_data_uri(&e.otpauth_uri),
            otpauth_uri: e.otpauth_uri,
            form_error: None,
            action: "/account/security/totp/confirm",
            required: false,
            keys: false,
        }),
        Err(e) => refused(e, "Could not set up an authenticator app"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let code: String = form.code.chars().take(64).collect();
    match state.core.second_factor().confirm_totp_enrolment(&me, &code).await {
        Ok(codes) => render(&CodesPage { codes, done: HERE.to_owned() }),
        Err(e @ SecondFactorError::EmailNotVerified) => refused(e, "Could not set up the app"),
        Err(e) => {
            let failure = Failure::from(e);
            // The same secret stays pending: show it again with the error.
            match state.core.second_factor().pending_totp_enrolment(me.account()).await {
                Ok(Some(e)) => failure.apply(render(&EnrolPage {
                    csrf: csrf.0,
                    secret: e.secret_base32,
                    qr: qr_data_uri(&e.otpauth_uri),
                    otpauth_uri: e.otpauth_uri,
                    form_error: Some(failure.message.clone()),
                    action: "/account/security/totp/confirm",
                    required: false,
                    keys: false,
                })),
                Ok(None) => crate::error::failure_page(&failure, "Could not set up the app"),
                Err(e) => crate::error::failure_page(&Failure::from(e), "Could not set up the app"),
            }
        }
    }
}

pub async fn recovery_codes(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.second_factor().regenerate_recovery_codes(&me).await {
        Ok(codes) => render(&CodesPage { codes, done: HERE.to_owned() }),
        Err(e) => refused(e, "Could not make new recovery codes"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DisableForm {
    password: String,
    code: String,
}

pub async fn totp_disable(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> Response {
    let mut page = match page(&state, &me, csrf.0).await {
        Ok(p) => p,
        Err(r) => return r.into(),
    };
    let Ok(password) = Password::for_verification(&form.password) else {
        page.form_error = Some("Your password is incorrect.".into());
        return (axum::http::StatusCode::UNAUTHORIZED, render(&page)).into_response();
    };
    let code: String = form.code.chars().take(64).collect();
    match state.core.second_factor().disable_two_factor(&me, &password, &code).await {
        Ok(()) => Redirect::to("/account/security?notice=two_factor_off").into_response(),
        Err(SecondFactorError::SignInAgain) => Redirect::to(&sign_in_again(HERE)).into_response(),
        Err(e) => {
            let failure = Failure::from(e);
            page.form_error = Some(failure.message.clone());
            failure.apply(render(&page))
        }
    }
}

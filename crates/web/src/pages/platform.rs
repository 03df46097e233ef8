//! `/admin/platform`: the installation's look (name, logo and colour on every page and mail),
//! and the platform's own credentials — admin API tokens (revoke, after a confirmation) and the
//! signing keys products verify tokens with (rotate, after a confirmation; the new keys are
//! published before they sign).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::branding::{Brand, BrandInput, BrandingError};
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::format_time;
use crate::state::AppState;

struct TokenRow {
    id: String,
    label: String,
    account: String,
    created: String,
    last_used: String,
    revoked: bool,
}

struct KeyRow {
    kid: String,
    alg: String,
}

#[derive(Template)]
#[template(path = "admin_platform.html")]
struct PlatformPage {
    section: &'static str,
    csrf: String,
    notice: Option<&'static str>,
    brand: BrandForm,
    brand_is_default: bool,
    brand_error: Option<String>,
    tokens: Vec<TokenRow>,
    keys: Vec<KeyRow>,
}

/// The branding form, as shown and as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BrandForm {
    name: String,
    logo_uri: String,
    colour: String,
}

impl BrandForm {
    fn of(brand: &Brand) -> Self {
        Self {
            name: brand.name().to_owned(),
            logo_uri: brand.logo_uri().unwrap_or_default().to_owned(),
            colour: brand.colour().map(|c| c.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("revoked") => Some("The admin token was revoked; it stops working at once."),
        Some("rotated") => Some(
            "New signing keys are published now and start signing in ten minutes; the old ones stay published until their tokens expire.",
        ),
        Some("branding") => {
            Some("The new look is saved. Every page and mail uses it within a few seconds.")
        }
        Some("branding_reset") => Some("Pages and mail use Latchkey's own name and colours again."),
        _ => None,
    };
    let brand = state.core.branding().current().await;
    let form = BrandForm::of(&brand);
    Ok(render(&page(&state, &me, csrf, notice, form, None).await?))
}

/// Saves the look; a refusal shows the form again with what was typed and why, and changes
/// nothing.
pub async fn save_branding(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<BrandForm>,
) -> Result<Response, PageError> {
    let input = BrandInput {
        name: form.name.clone(),
        logo_uri: Some(form.logo_uri.clone()),
        colour: Some(form.colour.clone()),
    };
    match state.core.branding().update_branding(&me.admin, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/platform?notice=branding").into_response()),
        Err(BrandingError::Invalid(e)) => {
            let message = capitalised(&e.to_string());
            let mut response = render(&page(&state, &me, csrf, None, form, Some(message)).await?);
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(BrandingError::Repo(e)) => Err(e.into()),
    }
}

pub async fn reset_branding_confirm(_me: ConsoleAdmin, csrf: CsrfToken) -> Response {
    render(&ConfirmPage {
        csrf: csrf.0,
        heading: "Go back to Latchkey's own look?".to_owned(),
        message: "Every page and mail shows the name Latchkey and its colours again, without your logo. You can set your own look again at any time.".to_owned(),
        action: "/admin/platform/branding/reset".to_owned(),
        button: "Use Latchkey's look",
        cancel: "/admin/platform#branding-h".to_owned(),
        fields: vec![],
    })
}

pub async fn reset_branding(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    state.core.branding().reset_branding(&me.admin).await?;
    Ok(Redirect::to("/admin/platform?notice=branding_reset").into_response())
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str().trim_end_matches('.'))
    })
}

async fn page(
    state: &AppState,
    me: &ConsoleAdmin,
    csrf: CsrfToken,
    notice: Option<&'static str>,
    brand: BrandForm,
    brand_error: Option<String>,
) -> Result<PlatformPage, PageError> {
    let tokens = state
        .core
        .accounts()
        .list_admin_tokens(&me.admin)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            label: t.label,
            account: t.account.as_str().to_owned(),
            created: format_time(t.created_at.unix()).0,
            last_used: t
                .last_used_at
                .map_or_else(|| "never".to_owned(), |at| format_time(at.unix()).0),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let jwks = state.core.oidc().jwks().await?;
    let keys = serde_json::to_value(&jwks)
        .ok()
        .and_then(|v| v.get("keys").and_then(serde_json::Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|k| KeyRow {
            kid: k.get("kid").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
            alg: k.get("alg").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
        })
        .collect();
    Ok(PlatformPage {
        section: "platform",
        csrf: csrf.0,
        notice,
        brand,
        brand_is_default: state.core.branding().current().await.is_default(),
        brand_error,
        tokens,
        keys,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenField {
    token: String,
}

pub async fn revoke_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenField>,
) -> Result<Response, PageError> {
    let tokens = state.core.accounts().list_admin_tokens(&me.admin).await?;
    let Some(token) = tokens.iter().find(|t| t.id == q.token && t.revoked_at.is_none()) else {
        return Ok(message_page(StatusCode::NOT_FOUND, "Not found", "No such live admin token."));
    };
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Revoke the admin token \u{201c}{}\u{201d}?", token.label),
        message: "Scripts using it get 401 from the admin API at once. This cannot be undone; create a new token with latchkey admin-token create.".to_owned(),
        action: "/admin/platform/tokens/revoke".to_owned(),
        button: "Revoke the token",
        cancel: "/admin/platform".to_owned(),
        fields: vec![("token", token.id.clone())],
    }))
}

pub async fn revoke(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<TokenField>,
) -> Result<Response, PageError> {
    if !state.core.accounts().revoke_admin_token(&me.admin, &form.token).await? {
        return Ok(message_page(StatusCode::NOT_FOUND, "Not found", "No such live admin token."));
    }
    Ok(Redirect::to("/admin/platform?notice=revoked").into_response())
}

pub async fn rotate_confirm(_me: ConsoleAdmin, csrf: CsrfToken) -> Response {
    render(&ConfirmPage {
        csrf: csrf.0,
        heading: "Rotate the signing keys?".to_owned(),
        message: "New keys are published at once and sign tokens from ten minutes on, so products that cache the key set pick them up first. Tokens signed with the old keys stay valid until they expire.".to_owned(),
        action: "/admin/platform/keys/rotate".to_owned(),
        button: "Rotate the keys",
        cancel: "/admin/platform".to_owned(),
        fields: vec![],
    })
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

pub async fn rotate(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    state.core.oidc().rotate_signing_keys(&me.admin).await?;
    Ok(Redirect::to("/admin/platform?notice=rotated").into_response())
}

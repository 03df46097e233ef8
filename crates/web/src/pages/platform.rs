//! `/admin/platform`: the platform's own credentials — admin API tokens (revoke, after a
//! confirmation) and the signing keys products verify tokens with (rotate, after a
//! confirmation; the new keys are published before they sign).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
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
    notice: Option<&'static str>,
    tokens: Vec<TokenRow>,
    keys: Vec<KeyRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
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
    Ok(render(&PlatformPage {
        section: "platform",
        notice: match q.notice.as_deref() {
            Some("revoked") => Some("The admin token was revoked; it stops working at once."),
            Some("rotated") => Some(
                "New signing keys are published now and start signing in ten minutes; the old ones stay published until their tokens expire.",
            ),
            _ => None,
        },
        tokens,
        keys,
    }))
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

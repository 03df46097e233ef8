//! `/api/v1/users/{email}/api-tokens` (any account's API tokens) and `/api/v1/bots`: the
//! admin API's side of API tokens and bot accounts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::api_tokens::{ApiTokenError, BotOwner, TokenRequest, TokenView};
use serde::Deserialize;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body, parse_email};
use crate::state::AppState;

impl From<ApiTokenError> for ApiError {
    fn from(e: ApiTokenError) -> Self {
        match e {
            ApiTokenError::NotFound | ApiTokenError::UnknownAccount | ApiTokenError::NotManaged => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            ApiTokenError::Unexpected(u) => u.into(),
            ApiTokenError::NotAllowed | ApiTokenError::Protected => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            other => ApiError::invalid(other.to_string()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    name: String,
    #[serde(default)]
    expires_days: Option<u32>,
    /// Client ids; empty or missing: every product.
    #[serde(default)]
    products: Vec<String>,
}

pub(super) async fn api_tokens_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let tokens = state.core.api_tokens().list_as_site_admin(&caller.admin, &email).await?;
    let items: Vec<_> = tokens.iter().map(TokenView::summary).collect();
    Ok(Json(json!({ "tokens": items })).into_response())
}

pub(super) async fn api_tokens_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
    Body(body): Body<NewToken>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let request =
        TokenRequest { name: body.name, expires_days: body.expires_days, products: body.products };
    let (view, secret) =
        state.core.api_tokens().create_as_site_admin(&caller.admin, &email, &request).await?;
    let mut doc = view.summary();
    doc["token"] = secret.into();
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

pub(super) async fn api_tokens_revoke(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((email, id)): Path<(String, String)>,
) -> ApiResult {
    let email = parse_email(&email)?;
    state.core.api_tokens().revoke_as_site_admin(&caller.admin, &email, &id).await?;
    Ok(Json(json!({ "id": id, "revoked": true })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewBot {
    name: String,
    #[serde(default)]
    org: Option<String>,
}

fn bot_json(bot: &latchkey_core::accounts::Account) -> serde_json::Value {
    json!({
        "id": bot.id.as_str(),
        "email": bot.email.as_str(),
        "name": bot.name.as_str(),
        "org": bot.bot_org_id,
        "status": bot.status.as_str(),
        "created_at": bot.created_at.rfc3339(),
    })
}

pub(super) async fn bots_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewBot>,
) -> ApiResult {
    let owner = BotOwner::Site(&caller.admin, body.org.as_deref());
    let bot = state.core.api_tokens().create_bot(owner, &body.name).await?;
    Ok((StatusCode::CREATED, Json(bot_json(&bot))).into_response())
}

pub(super) async fn bots_list(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let bots = state.core.api_tokens().list_bots_as_site_admin(&caller.admin).await?;
    Ok(Json(json!({ "bots": bots.iter().map(bot_json).collect::<Vec<_>>() })).into_response())
}

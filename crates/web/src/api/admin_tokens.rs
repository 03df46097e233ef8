//! `/api/v1/admin-tokens`: the admin API's own tokens — list, revoke (as the Platform page
//! and `latchkey admin-token list|revoke`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::{Admin, ApiError, ApiResult};
use crate::state::AppState;

pub(super) async fn admin_tokens_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult {
    let tokens = state.core.accounts().list_admin_tokens(&caller.admin).await?;
    let items: Vec<_> = tokens.iter().map(latchkey_core::flows::AdminToken::describe).collect();
    Ok(Json(json!({ "tokens": items })).into_response())
}

pub(super) async fn admin_tokens_revoke(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    if state.core.accounts().revoke_admin_token(&caller.admin, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such live admin token"))
    }
}

//! `/api/v1/branding`: the installation's look (as the Platform page and `latchkey branding`):
//! show, replace, and go back to Latchkey's own.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::branding::{BrandInput, BrandingError};
use serde::Deserialize;

use super::{Admin, ApiError, ApiResult, Body};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BrandBody {
    name: String,
    #[serde(default)]
    logo_uri: Option<String>,
    #[serde(default)]
    colour: Option<String>,
}

pub(super) async fn branding_show(State(state): State<AppState>, _admin: Admin) -> ApiResult {
    Ok(Json(state.core.branding().current().await.describe()).into_response())
}

pub(super) async fn branding_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<BrandBody>,
) -> ApiResult {
    let input = BrandInput { name: body.name, logo_uri: body.logo_uri, colour: body.colour };
    match state.core.branding().update_branding(&caller.admin, &input).await {
        Ok(brand) => Ok(Json(brand.describe()).into_response()),
        Err(BrandingError::Invalid(e)) => Err(ApiError::invalid(e.to_string())),
        Err(BrandingError::Repo(e)) => Err(e.into()),
    }
}

pub(super) async fn branding_reset(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult {
    state.core.branding().reset_branding(&caller.admin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

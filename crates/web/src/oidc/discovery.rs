//! `/.well-known/openid-configuration` and the JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latchkey_protocol::oidc::ProviderMetadata;

use crate::error::unexpected_page;
use crate::state::AppState;

pub async fn discovery(State(state): State<AppState>) -> Response {
    let metadata = ProviderMetadata::new(&state.settings.public_url);
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(metadata)).into_response()
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.core.jwks().await {
        // New keys are published ten minutes before they sign; five minutes of caching is safe.
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(e) => unexpected_page(&e),
    }
}

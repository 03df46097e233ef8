//! `/.well-known/openid-configuration` and the JWKS.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latchkey_protocol::oidc::ProviderMetadata;

use crate::error::PageError;
use crate::state::AppState;

/// The discovery document never changes while the process runs: it is serialized once, when
/// the router is built, and every request gets the same bytes.
pub fn discovery(public_url: &str) -> impl Fn() -> std::future::Ready<Response> + Clone + use<> {
    let body =
        Bytes::from(serde_json::to_vec(&ProviderMetadata::new(public_url)).unwrap_or_default());
    move || {
        std::future::ready(
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "public, max-age=300"),
                ],
                body.clone(),
            )
                .into_response(),
        )
    }
}

pub async fn jwks(State(state): State<AppState>) -> Result<Response, PageError> {
    let set = state.core.oidc().jwks().await?;
    // New keys are published ten minutes before they sign; five minutes of caching is safe.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response())
}

//! `POST /oauth/basic-auth/verify`: a product asks whether a basic-auth pair it received is
//! good. Client authentication is the token endpoint's; the form carries `username` and
//! `password` as the product received them, and optionally `client_ip`, the address its own
//! caller came from (throttling counts per address; without it, the product's address is used).

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::api_tokens::VerifyError;
use latchkey_protocol::oidc::OAuthError;

use crate::extract::Client;
use crate::oidc::oauth_error;
use crate::oidc::token::{client, read, server_error};
use crate::state::AppState;

pub async fn verify(
    State(state): State<AppState>,
    Client(caller): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut params, basic) = match read(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    let product = match client(&state, &mut params, basic).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (username, password) = match (params.require("username"), params.require("password")) {
        (Ok(u), Ok(p)) => (u, p),
        (Err(e), _) | (_, Err(e)) => return oauth_error(&e),
    };
    let ip = match params.get("client_ip").map(str::parse::<IpAddr>) {
        None => caller.ip,
        Some(Ok(ip)) => ip.to_string(),
        Some(Err(_)) => {
            return oauth_error(&OAuthError::invalid_request("client_ip must be an IP address"));
        }
    };
    let answer =
        state.core.api_tokens().verify_basic_auth(&product.id, username, password, &ip).await;
    match answer {
        Ok(answer) => ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response(),
        Err(VerifyError::Busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1"), (header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({
                "error": "temporarily_unavailable",
                "error_description": "password verification is busy; try again shortly",
            })),
        )
            .into_response(),
        Err(VerifyError::Unexpected(e)) => server_error(&e),
    }
}

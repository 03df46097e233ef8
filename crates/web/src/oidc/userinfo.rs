//! `/oauth/userinfo` (OIDC Core §5.3), bearer tokens per RFC 6750 (header, or form body on POST).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::oidc_provider::UserInfoError;

use crate::state::AppState;

fn bearer_error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut response =
        (status, Json(serde_json::json!({ "error": code, "error_description": description })))
            .into_response();
    let challenge =
        format!("Bearer realm=\"latchkey\", error=\"{code}\", error_description=\"{description}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn bearer_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    form.then(|| {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    })
    .flatten()
}

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = bearer_token(&headers, &body) else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "a bearer access token is required",
        );
    };
    match state.core.oidc().userinfo(&token).await {
        Ok(claims) => Json(claims).into_response(),
        Err(UserInfoError::InvalidToken) => bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is invalid, expired or revoked",
        ),
        Err(UserInfoError::InsufficientScope) => bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token does not carry the openid scope",
        ),
        Err(UserInfoError::Unexpected(e)) if latchkey_core::errors::is_unavailable(&e) => {
            tracing::warn!(error = %e, "storage unavailable");
            crate::oidc::temporarily_unavailable()
        }
        Err(UserInfoError::Unexpected(e)) => {
            tracing::error!(error = %e, "userinfo failure");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

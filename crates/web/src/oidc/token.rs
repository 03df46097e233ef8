//! `/oauth/token` (RFC 6749 §3.2), `/oauth/introspect` (RFC 7662), `/oauth/revoke`
//! (RFC 7009): client-authenticated form posts answered with JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::oidc_provider::{ClientAuthentication, TokenEndpointError};
use latchkey_protocol::oidc::{ClientCredentialsInBody, OAuthError, Params, TokenRequest};

use crate::extract::Client;
use crate::oidc::{basic_credentials, oauth_error, require_form};
use crate::state::AppState;

pub(crate) fn server_error(e: &(dyn std::error::Error + 'static)) -> Response {
    if latchkey_core::errors::is_unavailable(e) {
        tracing::warn!(error = %e, "storage unavailable");
        return crate::oidc::temporarily_unavailable();
    }
    tracing::error!(error = %e, "token endpoint failure");
    oauth_error(&OAuthError::new(
        latchkey_protocol::oidc::ErrorCode::ServerError,
        "the server could not complete the request",
    ))
}

/// Parses the form and the client's credentials, common to all three endpoints.
pub(crate) fn read(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Params, Option<(String, String)>), OAuthError> {
    require_form(headers)?;
    let basic = basic_credentials(headers)?;
    Ok((Params::from_urlencoded(body)?, basic))
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (params, basic) = match read(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    let (request, in_body) = match TokenRequest::parse(params) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    let auth = ClientAuthentication { basic, body: in_body };
    match state.core.oidc().token(request, &auth).await {
        Ok(response) => ([(header::PRAGMA, "no-cache")], Json(response)).into_response(),
        Err(TokenEndpointError::OAuth(e)) => oauth_error(&e),
        Err(TokenEndpointError::Unexpected(e)) => server_error(&e),
    }
}

/// Authenticates the calling client from the form and headers.
pub(crate) async fn client(
    state: &AppState,
    params: &mut Params,
    basic: Option<(String, String)>,
) -> Result<latchkey_core::oidc_provider::Client, Response> {
    let auth = ClientAuthentication { basic, body: ClientCredentialsInBody::take(params) };
    match state.core.oidc().authenticate_token_client(&auth).await {
        Ok(c) if !c.is_public() => Ok(c),
        Ok(_) => Err(oauth_error(&OAuthError::new(
            latchkey_protocol::oidc::ErrorCode::InvalidClient,
            "public clients cannot use this endpoint",
        ))),
        Err(TokenEndpointError::OAuth(e)) => Err(oauth_error(&e)),
        Err(TokenEndpointError::Unexpected(e)) => Err(server_error(&e)),
    }
}

/// The form of an introspection or revocation request: the authenticated (confidential)
/// client and the `token` it asks about (RFC 7662 §2.1, RFC 7009 §2.1).
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(latchkey_core::oidc_provider::Client, String), Response> {
    let (mut params, basic) = read(headers, body).map_err(|e| oauth_error(&e))?;
    let client = client(state, &mut params, basic).await?;
    let token = params.require("token").map_err(|e| oauth_error(&e))?.to_owned();
    Ok((client, token))
}

pub async fn introspect(
    State(state): State<AppState>,
    Client(caller): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, token) = match client_and_token(&state, &headers, &body).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match state.core.oidc().introspect(&client, &token, &caller.ip).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => server_error(&e),
    }
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, token) = match client_and_token(&state, &headers, &body).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match state.core.oidc().revoke_token(&client, &token).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => server_error(&e),
    }
}

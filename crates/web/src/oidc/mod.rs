//! The OpenID Provider's endpoints, thin over `Core`: discovery and JWKS, the authorization
//! endpoint, the token endpoint, `UserInfo`, introspection and revocation. Errors are the
//! protocol's JSON (`error`, `error_description`) or redirects carrying them.

pub mod authorize;
pub mod basic_auth;
pub mod discovery;
pub mod end_session;
pub mod token;
pub mod userinfo;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_protocol::oidc::{ErrorCode, OAuthError};

/// An OAuth error as JSON with the status RFC 6749 §5.2 gives it.
pub fn oauth_error(e: &OAuthError) -> Response {
    let status = match e.error {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (status, Json(e)).into_response();
    if e.error == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"latchkey\", charset=\"UTF-8\""),
        );
    }
    response
}

/// The database is out of reach for a moment: `503 temporarily_unavailable` with
/// `Retry-After`, so a product retries instead of treating it as a failure of its request.
pub(crate) fn temporarily_unavailable() -> Response {
    let mut response = oauth_error(&OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "the server is briefly unavailable; try again shortly",
    ));
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `Authorization: Basic` client credentials, each form-urlencoded first (RFC 6749 §2.3.1).
/// `Err` for a malformed header.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    use base64::Engine as _;
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let bad = || OAuthError::new(ErrorCode::InvalidClient, "malformed Authorization header");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))
    else {
        return Err(bad());
    };
    let decoded =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Ok(Some((unescape(id).ok_or_else(bad)?, unescape(secret).ok_or_else(bad)?)))
}

/// Form bodies only (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1).
pub fn require_form(headers: &HeaderMap) -> Result<(), OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        Ok(())
    } else {
        Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_malformed_ones_refused() {
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret");
        assert_eq!(
            basic_credentials(&headers(&format!("Basic {enc}"))).unwrap(),
            Some(("my id".into(), "s:cret".into()))
        );
        for bad in [
            "Bearer x",
            "Basic !!!",
            "Basic",
            &format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("nocolon")),
        ] {
            assert!(basic_credentials(&headers(bad)).is_err(), "{bad}");
        }
        assert_eq!(basic_credentials(&HeaderMap::new()).unwrap(), None);
    }
}

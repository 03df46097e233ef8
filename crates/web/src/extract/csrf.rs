//! CSRF protection for every form: a random token in an `HttpOnly` cookie that each form
//! repeats in a hidden field (double submit), compared in constant time. The router adds
//! Fetch-metadata checks (`tower_http::csrf`) in front as a second line.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use latchkey_core::secret::constant_time_eq;
use serde::de::DeserializeOwned;

use crate::error::message_page;
use crate::extract::CookieNames;
use crate::state::AppState;

/// The CSRF token to embed in forms on this page.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The token this request's cookie carries, if any (before a fresh one is issued).
#[derive(Debug, Clone)]
struct PresentedCookie(Option<String>);

/// Makes sure every browser holds a CSRF cookie, and exposes its value to handlers.
pub async fn csrf_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    let existing = CookieJar::from_headers(req.headers())
        .get(names.csrf)
        .map(|c| c.value().to_owned())
        .filter(|v| latchkey_core::secret::OpaqueToken::parse(v).is_some());
    let (token, fresh) = match &existing {
        Some(v) => (v.clone(), false),
        None => (state.core.kernel().new_opaque_token().expose().to_owned(), true),
    };
    req.extensions_mut().insert(PresentedCookie(existing));
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    if fresh {
        let cookie = Cookie::build((names.csrf, token))
            .path("/")
            .http_only(true)
            .secure(names.secure)
            .same_site(SameSite::Lax)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfToken {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A url-encoded form whose `csrf_token` field matches the CSRF cookie. Unknown fields are
/// ignored; missing ones take their defaults so the handler can say which is missing.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(message_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported form",
                "This address only accepts forms sent from this site's own pages.",
            ));
        }
        let presented = req.extensions().get::<PresentedCookie>().cloned();
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                message_page(
                    status,
                    "Form too large",
                    "The form you sent is larger than we accept. Shorten the fields and try again.",
                )
            } else {
                message_page(
                    StatusCode::BAD_REQUEST,
                    "Unreadable form",
                    "We could not read the form you sent. Go back and try again.",
                )
            }
        })?;
        let field = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned());
        let cookie = presented.and_then(|p| p.0);
        let ok = matches!((&field, &cookie), (Some(f), Some(c)) if constant_time_eq(f.as_bytes(), c.as_bytes()));
        if !ok {
            tracing::warn!("rejected a form with a missing or wrong CSRF token");
            return Err(csrf_rejection());
        }
        serde_urlencoded::from_bytes::<T>(&body).map(CsrfForm).map_err(|_| {
            message_page(
                StatusCode::BAD_REQUEST,
                "Unreadable form",
                "Some fields of the form were missing or malformed. Go back and try again.",
            )
        })
    }
}

/// The page for a cross-site request refused by the Fetch-metadata layer.
pub fn csrf_rejection_response() -> Response {
    csrf_rejection()
}

pub(crate) fn csrf_rejection() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your security we could not accept this form: it was open too long or came from \
         another site. Go back, reload the page and try again.",
    )
    .into_response()
}

/// For forms that are not url-encoded (the console's file upload): the CSRF token this
/// request's cookie carries, to compare with the form's field by [`csrf_matches`] once the
/// body is read.
pub(crate) fn presented_csrf(req: &axum::extract::Request) -> Option<String> {
    req.extensions().get::<PresentedCookie>().and_then(|p| p.0.clone())
}

pub(crate) fn csrf_matches(cookie: Option<&str>, field: &str) -> bool {
    cookie.is_some_and(|c| constant_time_eq(field.as_bytes(), c.as_bytes()))
}

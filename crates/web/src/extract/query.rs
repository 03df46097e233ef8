//! A page's query string: a value that does not parse (`?offset=abc`) gets the normal error
//! page with status 400, never the deserializer's message.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::error::message_page;

#[derive(Debug, Clone, Copy, Default)]
pub struct PageQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for PageQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).map(PageQuery).map_err(
            |_| {
                message_page(
                    StatusCode::BAD_REQUEST,
                    "This address is not valid",
                    "Part of the address does not make sense (a page number that is not a number, for example). Go back and follow the link again.",
                )
            },
        )
    }
}

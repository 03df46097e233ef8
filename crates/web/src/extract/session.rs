//! The signed-in capability: a live session and its active account, resolved from the
//! session cookie. Pages that need it redirect anonymous visitors to `/login`.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::error::PageError;
use crate::extract::CookieNames;
use crate::state::AppState;

/// Proof that the request carries a live session of an active account (core's capability,
/// which only core mints).
#[derive(Debug, Clone)]
pub struct SignedIn(pub latchkey_core::authority::SignedIn);

impl std::ops::Deref for SignedIn {
    type Target = latchkey_core::authority::SignedIn;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The session if there is one; for pages that serve both visitors and members.
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<SignedIn>);

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<SignedIn>, Response> {
    if let Some(cached) = parts.extensions.get::<MaybeSignedIn>() {
        return Ok(cached.0.clone());
    }
    let names = CookieNames::new(state.settings.secure_cookies());
    let jar = CookieJar::from_headers(&parts.headers);
    let found = match jar.get(names.session) {
        Some(cookie) => state
            .core
            .sessions()
            .resolve_session(cookie.value())
            .await
            .map_err(PageError::from)?
            .map(SignedIn),
        None => None,
    };
    parts.extensions.insert(MaybeSignedIn(found.clone()));
    Ok(found)
}

impl<S> FromRequestParts<S> for MaybeSignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(resolve(parts, &AppState::from_ref(state)).await?))
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(signed_in) = resolve(parts, &AppState::from_ref(state)).await? {
            return Ok(signed_in);
        }
        let path = parts.uri.path();
        let target = if path == "/account" {
            "/login".to_owned()
        } else {
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            format!("/login?next={next}")
        };
        Err(Redirect::to(&target).into_response())
    }
}

//! POST/redirect/GET with something to show once: the POST seals it (core's `flash`) into a
//! short-lived cookie and redirects; the GET page takes it and removes the cookie, so a reload
//! resubmits nothing and shows no secret twice.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde_json::Value;

use crate::extract::{CookieNames, flash_cookie, flash_cookie_removal};
use crate::state::AppState;

/// Redirects to `to`, carrying `value` for the page of `purpose`.
pub(crate) fn redirect_with(
    state: &AppState,
    jar: CookieJar,
    purpose: &str,
    value: Value,
    to: &str,
) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    match state.core.flash().seal(purpose, value) {
        Some(sealed) => (jar.add(flash_cookie(names, sealed)), Redirect::to(to)).into_response(),
        None => Redirect::to(to).into_response(),
    }
}

/// The message for `purpose`, if one came with this request, and the jar that removes it.
pub(crate) fn take(state: &AppState, jar: CookieJar, purpose: &str) -> (CookieJar, Option<Value>) {
    let names = CookieNames::new(state.settings.secure_cookies());
    let value = jar.get(names.flash).and_then(|c| state.core.flash().open(purpose, c.value()));
    (jar.add(flash_cookie_removal(names)), value)
}

/// A page that shows a secret: never cached.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

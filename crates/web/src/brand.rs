//! The installation's look on every page: each request runs inside [`scoped`], which holds the
//! brand as core had it when the request arrived, so the templates (`base.html`, the error
//! pages) and the handlers' own sentences read it without passing it through every page's
//! fields. Outside a request (never in practice) the default look serves.

use std::sync::Arc;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use latchkey_core::branding::Brand;

use crate::state::AppState;

tokio::task_local! {
    static BRAND: Arc<Brand>;
}

/// Runs `served` (the rest of the request) with this node's copy of the brand.
pub async fn scoped(state: &AppState, served: impl Future<Output = Response>) -> Response {
    let brand = state.core.branding().current().await;
    BRAND.scope(brand, served).await
}

/// The brand of the request being served.
pub fn current() -> Arc<Brand> {
    BRAND.try_with(Arc::clone).unwrap_or_default()
}

/// The installation's name ("Latchkey" unless a site admin changed it).
pub fn name() -> String {
    BRAND.try_with(|b| b.name().to_owned()).unwrap_or_else(|_| Brand::default().name().to_owned())
}

/// For `base.html`: the logo beside the name, if one is set.
pub fn logo_uri() -> Option<String> {
    BRAND.try_with(|b| b.logo_uri().map(str::to_owned)).ok().flatten()
}

/// For `base.html`: changes with the brand, so browsers fetch `/assets/brand.css` again.
pub fn version() -> i64 {
    BRAND.try_with(|b| b.updated_at().unwrap_or_default()).unwrap_or_default()
}

/// `/assets/brand.css`: the brand colour over the stylesheet's default (pages carry no inline
/// style). Cached for an hour under the version in its query string.
pub async fn stylesheet() -> impl IntoResponse {
    let brand = current();
    let css = match brand.colour() {
        Some(colour) => format!(":root {{ --brand: {colour}; }}\n"),
        None => "/* Latchkey's own colours. */\n".to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        css,
    )
}

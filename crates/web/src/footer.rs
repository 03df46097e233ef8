//! What every page's footer says: where people with account trouble get help. The support
//! address is the operator's `support_url` (a web page or a `mailto:`), set once when the
//! server starts; without one the footer points to their administrator.

use std::sync::OnceLock;

static SUPPORT_URL: OnceLock<String> = OnceLock::new();

/// Sets the support address (the first server in the process wins; tests share one).
pub fn set_support_url(url: Option<&str>) {
    if let Some(url) = url.filter(|u| !u.is_empty()) {
        let _ = SUPPORT_URL.set(url.to_owned());
    }
}

/// For the templates: `{% if let Some(url) = crate::footer::support_url() %}`.
pub fn support_url() -> Option<&'static str> {
    SUPPORT_URL.get().map(String::as_str)
}

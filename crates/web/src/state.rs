//! What every handler can reach: the domain core and the web layer's own settings.

use std::net::IpAddr;
use std::sync::Arc;

use latchkey_core::Core;

use crate::health::ReadinessProbe;
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `LATCHKEY_PUBLIC_URL` without a trailing slash.
    pub public_url: String,
    /// Peers whose `X-Forwarded-For` we believe (reverse proxies). Empty: use the socket.
    pub trusted_proxies: Vec<IpAddr>,
    /// Whether `/metrics` is served.
    pub metrics_enabled: bool,
    /// Host names requests may name besides `localhost` and IP literals (lower case; `*`
    /// allows any): by default the public URL's host.
    pub allowed_hosts: Vec<String>,
}

impl WebSettings {
    /// Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// What every handler and middleware holds: one `Arc`, so the per-request clones the layers
/// make (each `from_fn_with_state` takes its own) are one counter bump each.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

pub struct AppParts {
    pub core: Core,
    pub settings: Arc<WebSettings>,
    pub readiness: Arc<dyn ReadinessProbe>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

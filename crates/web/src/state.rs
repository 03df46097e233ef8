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

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<WebSettings>,
    pub readiness: Arc<dyn ReadinessProbe>,
    pub metrics: Arc<Metrics>,
}

//! Back-channel logout delivery over HTTP (Back-Channel Logout 1.0 §2.5): a form POST of
//! `logout_token`, 200 or 204 counts as delivered. The URIs are registered by site admins, so
//! any address is allowed (the contract's rule for admin-registered product URLs); redirects
//! are not followed and every call is bounded in time.

use std::time::Duration;

use async_trait::async_trait;
use latchkey_core::ports::LogoutNotifier;

pub struct HttpLogoutNotifier {
    http: reqwest::Client,
}

/// An HTTP client for calls to URLs a site admin registered for a product: no redirects
/// followed, bounded in time, and saying who calls and why.
pub(crate) fn product_client(purpose: &str) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .user_agent(format!("Latchkey/{} {purpose}", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

impl HttpLogoutNotifier {
    pub fn new() -> Result<Self, String> {
        Ok(Self { http: product_client("back-channel logout")? })
    }
}

#[async_trait]
impl LogoutNotifier for HttpLogoutNotifier {
    async fn notify(&self, uri: &str, logout_token: &str) -> Result<(), String> {
        let response = self
            .http
            .post(uri)
            .header("cache-control", "no-store")
            .form(&[("logout_token", logout_token)])
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        match response.status().as_u16() {
            200 | 204 => Ok(()),
            other => Err(format!("the product answered {other}")),
        }
    }
}

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

impl HttpLogoutNotifier {
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("Latchkey/", env!("CARGO_PKG_VERSION"), " back-channel logout"))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http })
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

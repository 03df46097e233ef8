//! Fetching a product's published JWK Set (`jwks_uri`, for `private_key_jwt`). The URL is
//! registered by a site admin, so any address is allowed (the contract's rule for
//! admin-registered product URLs); redirects are not followed, and time and size are bounded.

use async_trait::async_trait;
use latchkey_core::ports::KeyFetcher;

const MAX_BYTES: usize = 64 * 1024;

pub struct HttpKeyFetcher {
    http: reqwest::Client,
}

impl HttpKeyFetcher {
    pub fn new() -> Result<Self, String> {
        Ok(Self { http: crate::backchannel::product_client("jwks")? })
    }
}

#[async_trait]
impl KeyFetcher for HttpKeyFetcher {
    async fn fetch_jwks(&self, uri: &str) -> Result<String, String> {
        let mut response = self
            .http
            .get(uri)
            .header("accept", "application/json, application/jwk-set+json")
            .send()
            .await
            .map_err(|e| format!("fetching {uri}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{uri} answered {}", response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading {uri}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BYTES {
                return Err(format!("{uri} sent more than 64 KiB"));
            }
        }
        String::from_utf8(body).map_err(|_| format!("{uri} did not send UTF-8"))
    }
}

//! Access tokens whose signature was already verified, keyed by their SHA-256: a resource
//! server introspects the same token on every call it serves, and an ECDSA verification costs
//! more than everything else introspection does. Only the signature check is skipped on a hit;
//! expiry, revocation and the session are checked every time. Bounded: when full it starts
//! over, which costs one verification per token and nothing else.

use std::collections::HashMap;
use std::sync::Mutex;

use latchkey_protocol::oidc::AccessTokenClaims;
use sha2::{Digest, Sha256};

const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct VerifiedTokens {
    inner: Mutex<HashMap<[u8; 32], AccessTokenClaims>>,
}

impl VerifiedTokens {
    pub fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<AccessTokenClaims> {
        self.inner.lock().ok().and_then(|m| m.get(key).cloned())
    }

    pub fn insert(&self, key: [u8; 32], claims: AccessTokenClaims) {
        if let Ok(mut m) = self.inner.lock() {
            if m.len() >= CAPACITY {
                m.clear();
            }
            m.insert(key, claims);
        }
    }
}

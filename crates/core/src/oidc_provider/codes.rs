//! Authorization codes as sealed envelopes: everything the token request must match (client,
//! redirect URI, PKCE challenge, nonce, session, expiry) is encrypted and authenticated with
//! AES-256-GCM under a key derived from the master key (HKDF-SHA256, its own label), so issuing
//! a code writes nothing. The SSO hop (a second product's authorization request) is then one
//! session read. Single use is enforced where it matters, at redemption: the code's hash is
//! claimed in the database once (`OidcRepo::claim_code`), and a second claim finds the grant
//! the first one made, to revoke it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::oidc_provider::KeyError;
use crate::ports::Rng;
use crate::sessions::SessionId;

/// What an authorization code stands for: everything the token request must match.
#[derive(Debug, Clone)]
pub struct CodeContents {
    pub client_id: String,
    pub account: AccountId,
    pub session: SessionId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

const LABEL: &[u8] = b"latchkey authorization codes v1";
const AAD: &[u8] = b"code.v1";
/// Codes longer than this are not ours (the parameter limit is larger).
const MAX_CODE_CHARS: usize = 4096;

/// What a code carries, compactly named.
#[derive(Serialize, Deserialize)]
struct Envelope {
    c: String,
    a: String,
    s: String,
    r: String,
    sc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    at: i64,
    iat: i64,
    exp: i64,
}

pub struct CodeSealer {
    key: LessSafeKey,
}

impl CodeSealer {
    pub fn new(master_key: &[u8; 32]) -> Result<Self, KeyError> {
        let prk = Salt::new(HKDF_SHA256, b"latchkey").extract(master_key);
        let okm = prk
            .expand(&[LABEL], &AES_256_GCM)
            .map_err(|_| KeyError::Crypto("cannot derive the authorization code key".into()))?;
        Ok(Self { key: LessSafeKey::new(UnboundKey::from(okm)) })
    }

    /// The code to hand out.
    pub fn seal(&self, code: &CodeContents, rng: &dyn Rng) -> Option<String> {
        let envelope = Envelope {
            c: code.client_id.clone(),
            a: code.account.as_str().to_owned(),
            s: code.session.as_str().to_owned(),
            r: code.redirect_uri.clone(),
            sc: code.scope.clone(),
            n: code.nonce.clone(),
            p: code.code_challenge.clone(),
            at: code.auth_time.unix(),
            iat: code.created_at.unix(),
            exp: code.expires_at.unix(),
        };
        let mut buf = serde_json::to_vec(&envelope).ok()?;
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(AAD), &mut buf)
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend(buf);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// The code's contents if it is one we sealed (expired or not: the caller decides).
    pub fn open(&self, code: &str) -> Option<CodeContents> {
        if code.len() > MAX_CODE_CHARS {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(code).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(AAD), &mut body).ok()?;
        let e: Envelope = serde_json::from_slice(plain).ok()?;
        Some(CodeContents {
            client_id: e.c,
            account: AccountId::from_stored(e.a),
            session: SessionId::from_stored(e.s),
            redirect_uri: e.r,
            scope: e.sc,
            nonce: e.n,
            code_challenge: e.p,
            auth_time: Timestamp::from_unix(e.at),
            created_at: Timestamp::from_unix(e.iat),
            expires_at: Timestamp::from_unix(e.exp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);

    impl Rng for Counter {
        fn fill(&self, buf: &mut [u8]) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            buf.fill(n);
        }
    }

    fn contents() -> CodeContents {
        CodeContents {
            client_id: "client".into(),
            account: AccountId::from_stored("acct".into()),
            session: SessionId::from_stored("sess".into()),
            redirect_uri: "https://rp.example/cb".into(),
            scope: "openid email".into(),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: None,
            auth_time: Timestamp::from_unix(1_000),
            created_at: Timestamp::from_unix(2_000),
            expires_at: Timestamp::from_unix(2_060),
        }
    }

    #[test]
    fn codes_open_only_under_the_key_that_sealed_them_and_untampered() {
        let rng = Counter(std::sync::atomic::AtomicU8::new(1));
        let sealer = CodeSealer::new(&[7; 32]).unwrap();
        let code = sealer.seal(&contents(), &rng).unwrap();
        let opened = sealer.open(&code).unwrap();
        assert_eq!(opened.redirect_uri, "https://rp.example/cb");
        assert_eq!(opened.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
        assert_eq!(opened.expires_at, Timestamp::from_unix(2_060));
        assert_ne!(sealer.seal(&contents(), &rng).unwrap(), code, "a fresh nonce each time");

        assert!(CodeSealer::new(&[8; 32]).unwrap().open(&code).is_none(), "another master key");
        let mut bytes = URL_SAFE_NO_PAD.decode(&code).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(sealer.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_none(), "tampered");
        for junk in ["", "abc", "!!!!", &"A".repeat(5000), &code[..code.len() - 4]] {
            assert!(sealer.open(junk).is_none(), "{junk:.20}");
        }
    }
}

//! Authorization codes as sealed envelopes: everything the token request must match (client,
//! redirect URI, PKCE challenge, nonce, session, expiry) is encrypted and authenticated with
//! AES-256-GCM under a key derived from the master key (HKDF-SHA256, its own label), so issuing
//! a code writes nothing. The SSO hop (a second product's authorization request) is then one
//! session read. Single use is enforced where it matters, at redemption: the code's hash is
//! claimed in the database once (`OidcRepo::claim_code`), and a second claim finds the grant
//! the first one made, to revoke it.

use serde::{Deserialize, Serialize};

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::oidc_provider::KeyError;
use crate::sealed::Sealer;
use crate::secret::Rng;
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

pub struct CodeSealer(Sealer);

impl CodeSealer {
    pub fn new(master_key: &[u8; 32]) -> Result<Self, KeyError> {
        Ok(Self(Sealer::new(master_key, LABEL)?))
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
        self.0.seal(&serde_json::to_vec(&envelope).ok()?, rng)
    }

    /// The code's contents if it is one we sealed (expired or not: the caller decides).
    pub fn open(&self, code: &str) -> Option<CodeContents> {
        let plain = self.0.open(code)?;
        let e: Envelope = serde_json::from_slice(&plain).ok()?;
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

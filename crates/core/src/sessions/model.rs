//! The session record and the client details shown back to its owner.

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::policies::model::AuthMethod;
use crate::secret::TokenHash;

crate::id::uuid_id!(
    /// Public id of a session (shown on `/account` to sign it out); never the cookie value.
    SessionId
);

/// What we note about the browser that signed in, to help its owner recognise it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub user_agent: String,
    pub ip: String,
}

impl ClientInfo {
    const MAX_USER_AGENT: usize = 512;

    /// Bounds what a client may make us store.
    pub fn new(user_agent: &str, ip: &str) -> Self {
        let user_agent: String =
            user_agent.chars().filter(|c| !c.is_control()).take(Self::MAX_USER_AGENT).collect();
        Self { user_agent, ip: ip.chars().take(64).collect() }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: TokenHash,
    pub account: AccountId,
    pub client: ClientInfo,
    /// When the person authenticated (OIDC `auth_time`).
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// How the person signed in (OIDC `amr`).
    pub amr: Vec<AuthMethod>,
}

impl Session {
    /// What operators see of a session (CLI `--json`, admin API): never its token.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id.as_str(),
            "user_agent": self.client.user_agent,
            "ip": self.client.ip,
            "created_at": self.created_at.unix(),
            "last_seen_at": self.last_seen_at.unix(),
            "expires_at": self.expires_at.unix(),
        })
    }
}

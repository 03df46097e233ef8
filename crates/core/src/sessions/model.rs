//! The session record and the client details shown back to its owner.

use std::fmt;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::secret::TokenHash;

/// Public id of a session (shown on `/account` to sign it out); never the cookie value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::try_parse(raw).ok().map(|u| Self(u.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

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
}

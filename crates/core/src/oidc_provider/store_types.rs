//! Records of the provider that storage keeps: codes, grants, refresh tokens.

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::secret::TokenHash;
use crate::sessions::SessionId;

/// The outcome of claiming an authorization code at redemption (codes are single-use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeClaim {
    /// First use: go on.
    First,
    /// Already used: the grant its first use created, if it got that far.
    Reused(Option<String>),
}

/// What one code redemption (or client credentials request) granted; refresh tokens rotate
/// within it and die with it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub account: AccountId,
    pub session: SessionId,
    pub scope: String,
    /// The access token issued with the grant, revoked with it if the code is replayed.
    pub access_jti: String,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub hash: TokenHash,
    pub grant_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    Fresh(String),
    /// Already used once: a stolen copy, or a client bug; the grant is revoked either way.
    Reused(String),
    Invalid,
}

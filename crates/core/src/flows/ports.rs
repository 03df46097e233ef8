//! The ports of the flows: single-use emailed links, throttle counters, admin tokens and email changes.

use async_trait::async_trait;

use crate::accounts::{Account, AccountId, Email};
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::secret::TokenHash;

/// Why a single-use emailed token exists; a token is only ever accepted for its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewOneTimeToken {
    pub hash: TokenHash,
    pub purpose: TokenPurpose,
    pub account: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait OneTimeTokenRepo: Send + Sync {
    async fn insert(&self, token: &NewOneTimeToken) -> RepoResult<()>;
    /// The account the token belongs to, if it exists, has this purpose, is unexpired and
    /// unused; does not use it up.
    async fn peek(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>>;
    /// Atomically marks the token used and returns its account; `None` if it was unknown,
    /// expired, already used or for another purpose. Two racing calls cannot both succeed.
    async fn consume(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>>;
    /// Uses up every outstanding token of the account for this purpose.
    async fn revoke_all(
        &self,
        account: &AccountId,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<()>;
}

/// Admin API tokens (stored as SHA-256).
#[async_trait]
pub trait AdminTokenRepo: Send + Sync {
    async fn insert(&self, token: &crate::flows::AdminToken, hash: &TokenHash) -> RepoResult<()>;
    /// The unrevoked token with this hash, with its account.
    async fn find_live(
        &self,
        hash: &TokenHash,
    ) -> RepoResult<Option<(crate::flows::AdminToken, Account)>>;
    async fn touch(&self, id: &str, at: Timestamp) -> RepoResult<()>;
    /// Every token, newest first.
    async fn list(&self) -> RepoResult<Vec<crate::flows::AdminToken>>;
    /// False when there was no live token with this id.
    async fn revoke(&self, id: &str, at: Timestamp) -> RepoResult<bool>;
}

/// What an email-change link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeKind {
    /// Sent to the new address: confirms the change.
    Confirm,
    /// Sent to the old address: undoes the change.
    Revert,
}

impl EmailChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Revert => "revert",
        }
    }
}

#[async_trait]
pub trait EmailChangeRepo: Send + Sync {
    /// Stores a link; `email` is the new address (confirm) or the old one (revert).
    #[allow(clippy::too_many_arguments)]
    async fn insert_email_change(
        &self,
        hash: &TokenHash,
        account: &AccountId,
        kind: EmailChangeKind,
        email: &Email,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> RepoResult<()>;
    /// The link's account and address if it is unused and unexpired (does not use it).
    async fn peek_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>>;
    /// Uses the link once; `None` if unknown, used, expired or of the other kind.
    async fn use_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>>;
    /// Uses up the account's outstanding links of this kind.
    async fn cancel_email_changes(
        &self,
        account: &AccountId,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<()>;
}

//! The sessions feature's storage port.

use async_trait::async_trait;

use crate::accounts::{Account, AccountId};
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::secret::TokenHash;
use crate::sessions::model::{Session, SessionId};

#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn insert(&self, session: &Session) -> RepoResult<()>;
    /// The live session behind a cookie together with its account, if both still exist.
    async fn find_by_token_hash(&self, hash: &TokenHash) -> RepoResult<Option<(Session, Account)>>;
    async fn touch(&self, id: &SessionId, at: Timestamp) -> RepoResult<()>;
    /// A session by its public id, with its account (for tokens that name a session).
    async fn find_by_id(&self, id: &SessionId) -> RepoResult<Option<(Session, Account)>>;
    async fn list_for_account(&self, account: &AccountId) -> RepoResult<Vec<Session>>;
    /// Deletes one of the account's sessions; false when it was not there.
    async fn delete(&self, account: &AccountId, id: &SessionId) -> RepoResult<bool>;
    /// Deletes every session of the account except `keep`; returns the ones that went.
    async fn delete_all_for_account(
        &self,
        account: &AccountId,
        keep: Option<&SessionId>,
    ) -> RepoResult<Vec<SessionId>>;
    /// Deletes sessions past `expires_at` or last seen before `idle_before`.
    async fn delete_expired(&self, now: Timestamp, idle_before: Timestamp) -> RepoResult<u64>;
}

/// Told when sessions end, so what signed in under them ends too: the OpenID provider revokes
/// its grants and queues back-channel logout. Implemented by a feature above this one and
/// plugged in by the wiring, so sessions never import it.
#[async_trait]
pub trait SessionEndListener: Send + Sync {
    /// Returns the ids of the deliveries queued, for a receipt.
    async fn sessions_ended(&self, ended: &[SessionId]) -> RepoResult<Vec<String>>;
    /// A sealed receipt for those deliveries (`None` when there are none).
    fn receipt(&self, deliveries: &[String]) -> Option<String>;
}

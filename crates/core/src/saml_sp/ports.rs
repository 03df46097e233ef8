//! Storage for SAML connections, logins in flight, seen assertions and external identities.

use async_trait::async_trait;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::saml_sp::model::{PendingSamlLogin, SamlConnection, SpKey};
use crate::secret::TokenHash;

/// Why a connection could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveConnectionError {
    /// Another connection already answers for this domain.
    #[error("{0} is already bound to another SAML connection")]
    DomainTaken(String),
    #[error(transparent)]
    Unexpected(#[from] crate::errors::RepoError),
}

#[async_trait]
pub trait SamlRepo: Send + Sync {
    /// Inserts or replaces the connection and its domains, in one transaction.
    async fn save_connection(&self, connection: &SamlConnection)
    -> Result<(), SaveConnectionError>;
    async fn find_connection(&self, id: &str) -> RepoResult<Option<SamlConnection>>;
    async fn list_connections(&self, org: &str) -> RepoResult<Vec<SamlConnection>>;
    async fn all_connections(&self) -> RepoResult<Vec<SamlConnection>>;
    /// The connection answering for `domain` (lowercase ASCII).
    async fn connection_for_domain(&self, domain: &str) -> RepoResult<Option<SamlConnection>>;
    /// Whether any connection exists (the login page then asks for the email first).
    async fn any_connection(&self) -> RepoResult<bool>;
    async fn delete_connection(&self, id: &str) -> RepoResult<bool>;
    /// Stores `key` for a connection that has none yet (a concurrent first one wins).
    async fn set_sp_key_if_absent(&self, id: &str, key: &SpKey) -> RepoResult<()>;
    /// Records that the admins were told about this certificate's expiry; false when they
    /// already were (by this node or another).
    async fn claim_expiry_notice(
        &self,
        connection: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;

    async fn insert_pending(
        &self,
        relay: &TokenHash,
        login: &PendingSamlLogin,
        now: Timestamp,
    ) -> RepoResult<()>;
    /// Reads without taking: the response is checked against it first.
    async fn find_pending(
        &self,
        relay: &TokenHash,
        connection: &str,
        now: Timestamp,
    ) -> RepoResult<Option<PendingSamlLogin>>;
    /// Takes it, once: false when another request took it first.
    async fn take_pending(
        &self,
        relay: &TokenHash,
        connection: &str,
        request_id: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;

    /// Records an assertion ID; false when it was already seen (a replay).
    async fn remember_assertion(
        &self,
        connection: &str,
        assertion_id: &str,
        expires_at: Timestamp,
    ) -> RepoResult<bool>;

    async fn find_identity(&self, provider: &str, subject: &str) -> RepoResult<Option<AccountId>>;
    /// Links (or re-uses) the identity; false when it is linked to another account.
    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool>;

    /// Forgets logins in flight and assertion IDs past their expiry.
    async fn purge_expired(&self, now: Timestamp) -> RepoResult<u64>;
}

/// Fetches an identity provider's metadata from the URL an organization admin gave: the same
/// guards as the HTTPS domain proof (https only, public addresses only unless the operator
/// allows private ones, redirects only on the same host, bounded time), at most 1 MiB.
#[async_trait]
pub trait MetadataFetcher: Send + Sync {
    async fn idp_metadata(&self, url: &str) -> Result<String, String>;
}

//! The OpenID provider's ports: clients, signing keys, codes and grants, consents, and the outbound calls to products.

use async_trait::async_trait;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::errors::RepoResult;
pub use crate::oidc_provider::store_types::{CodeClaim, Grant, NewRefreshToken, RefreshUse};
use crate::secret::TokenHash;
use crate::sessions::model::SessionId;

/// Delivers a back-channel logout token to a product (Back-Channel Logout 1.0 §2.5).
#[async_trait]
pub trait LogoutNotifier: Send + Sync {
    /// `Ok` when the product answered 200 or 204.
    async fn notify(&self, uri: &str, logout_token: &str) -> Result<(), String>;
}

/// Fetches a product's published JWK Set (`jwks_uri`, registered by a site admin), bounded
/// in time and size.
#[async_trait]
pub trait KeyFetcher: Send + Sync {
    async fn fetch_jwks(&self, uri: &str) -> Result<String, String>;
}

#[async_trait]
pub trait ClientRepo: Send + Sync {
    async fn insert(&self, client: &crate::oidc_provider::Client) -> RepoResult<()>;
    async fn list(&self) -> RepoResult<Vec<crate::oidc_provider::Client>>;
    /// Writes the settings a site admin may change (name, URIs, logo, first party, scopes);
    /// false when there is no such client.
    async fn update_settings(&self, client: &crate::oidc_provider::Client) -> RepoResult<bool>;
    async fn set_secret_hash(&self, id: &str, hash: &TokenHash) -> RepoResult<bool>;
    /// Disables (`Some`) or enables (`None`); false when the client was already so, or is unknown.
    async fn set_disabled(&self, id: &str, at: Option<Timestamp>) -> RepoResult<bool>;
    /// Deletes the client and everything that belongs to it (grants, refresh tokens, codes,
    /// consents, basic-auth bindings, legacy records).
    async fn delete(&self, id: &str) -> RepoResult<bool>;
    async fn usage(&self, id: &str) -> RepoResult<crate::oidc_provider::ClientUsage>;
}

/// A signing key as stored: the private half sealed under the master key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: latchkey_protocol::jose::SigningAlg,
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: Timestamp,
    /// Published from creation; signs from this time.
    pub active_from: Timestamp,
    /// Unpublished from this time.
    pub retire_at: Option<Timestamp>,
}

#[async_trait]
pub trait SigningKeyRepo: Send + Sync {
    async fn insert(&self, key: &StoredKey) -> RepoResult<()>;
    async fn list(&self) -> RepoResult<Vec<StoredKey>>;
    async fn set_retire_at(&self, kid: &str, at: Timestamp) -> RepoResult<()>;
}

#[async_trait]
pub trait OidcRepo: Send + Sync {
    /// Claims an authorization code (by hash) for its one use; remembered until `keep_until`.
    /// A second claim reports the grant the first one created, so it can be revoked
    /// (RFC 6749 §4.1.2). Two racing claims cannot both be first.
    async fn claim_code(&self, hash: &TokenHash, keep_until: Timestamp) -> RepoResult<CodeClaim>;
    async fn insert_grant(&self, grant: &Grant, code: Option<&TokenHash>) -> RepoResult<()>;
    async fn find_grant(&self, id: &str) -> RepoResult<Option<Grant>>;
    /// Revokes the grant and its refresh tokens; returns the grant if it was live.
    async fn revoke_grant(&self, id: &str, now: Timestamp) -> RepoResult<Option<Grant>>;
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> RepoResult<()>;
    /// Uses a refresh token once (rotation). Reuse of a used token is reported so the whole
    /// family can be revoked.
    async fn use_refresh_token(&self, hash: &TokenHash, now: Timestamp) -> RepoResult<RefreshUse>;
    /// A refresh token's grant, expiry and whether it was used (introspection, revocation).
    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> RepoResult<Option<(String, Timestamp, bool)>>;
    /// Live grants made under a Latchkey session (the products signed in through it).
    async fn grants_for_session(&self, session: &SessionId) -> RepoResult<Vec<Grant>>;
    /// Live grants made under any of these sessions, in one round trip per hundred sessions.
    async fn grants_for_sessions(&self, sessions: &[SessionId]) -> RepoResult<Vec<Grant>>;
    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> RepoResult<()>;
    /// Every revoked access token that has not expired yet.
    async fn revoked_access_tokens(&self, now: Timestamp) -> RepoResult<Vec<String>>;
    /// Remembers a client assertion's `jti` until `expires_at`; false if it was already seen.
    async fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
    ) -> RepoResult<bool>;
    /// Forgets expired assertions, codes and revoked-token entries.
    async fn purge_expired(&self, now: Timestamp) -> RepoResult<u64>;
    /// The scopes a person allowed a third-party client, if any.
    async fn find_consent(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Option<Consent>>;
    /// Records (or widens) a consent.
    async fn save_consent(&self, consent: &Consent) -> RepoResult<()>;
    async fn list_consents(&self, account: &AccountId) -> RepoResult<Vec<Consent>>;
    /// Removes a consent; false when there was none.
    async fn delete_consent(&self, account: &AccountId, client_id: &str) -> RepoResult<bool>;
    /// Every live grant of an account, whatever the client.
    async fn live_grants_for_account(&self, account: &AccountId) -> RepoResult<Vec<Grant>>;
    /// The live grants a client holds for an account.
    async fn grants_for_client(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Vec<Grant>>;
}

/// What a person allowed a third-party product to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account: AccountId,
    pub client_id: String,
    /// Space-separated, as in OAuth.
    pub scope: String,
    pub granted_at: Timestamp,
}

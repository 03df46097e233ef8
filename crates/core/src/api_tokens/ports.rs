//! The API-token port: tokens, bots, use counts and basic-auth bindings, shared by every node.

use async_trait::async_trait;

use crate::accounts::ports::InsertAccountError;
use crate::accounts::{Account, AccountId, NewAccount};
use crate::api_tokens::model::ApiToken;
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::secret::TokenHash;

/// Uses of one token on one UTC day (`day` = Unix seconds / 86400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUsage {
    pub token_id: String,
    pub account: AccountId,
    pub day: i64,
    pub uses: u64,
}

#[async_trait]
pub trait ApiTokenRepo: Send + Sync {
    async fn insert(&self, token: &ApiToken, hash: &TokenHash) -> RepoResult<()>;
    /// The token with this hash (revoked and expired ones too) and its account.
    async fn find_by_hash(&self, hash: &TokenHash) -> RepoResult<Option<(ApiToken, Account)>>;
    async fn find(&self, id: &str) -> RepoResult<Option<ApiToken>>;
    /// Newest first.
    async fn list_for_accounts(&self, accounts: &[AccountId]) -> RepoResult<Vec<ApiToken>>;
    /// False when the token was not live or not the account's.
    async fn revoke(&self, id: &str, account: &AccountId, at: Timestamp) -> RepoResult<bool>;
    /// Revokes every live token of the account; how many.
    async fn revoke_all(&self, account: &AccountId, at: Timestamp) -> RepoResult<u64>;
    /// Records uses counted in memory: the last use (time and address) and the day's count.
    async fn record_use(
        &self,
        id: &str,
        at: Timestamp,
        ip: &str,
        day: i64,
        uses: u64,
    ) -> RepoResult<()>;
    /// Takes (deletes and returns) the use counts of days before `day`: each row is handed
    /// to exactly one caller, however many nodes ask at once.
    async fn take_usage_before(&self, day: i64) -> RepoResult<Vec<TokenUsage>>;
    /// Creates a bot account (no password, no verified mailbox), owned by `org` if given.
    async fn insert_bot(
        &self,
        bot: &NewAccount,
        org: Option<&str>,
    ) -> Result<(), InsertAccountError>;
    /// Bots owned by `org`, or every bot (`None`), oldest first.
    async fn list_bots(&self, org: Option<&str>) -> RepoResult<Vec<Account>>;
    /// Products the account has signed in to through OpenID Connect (any grant, ever kept).
    async fn products_signed_in(&self, account: &AccountId) -> RepoResult<Vec<String>>;
    /// The product the account's password basic auth is bound to, binding it to `client_id`
    /// if it is bound to none (atomically: the first product to ask wins).
    async fn bind_basic_auth(
        &self,
        account: &AccountId,
        client_id: &str,
        at: Timestamp,
    ) -> RepoResult<String>;
    /// The bound product, without binding.
    async fn basic_auth_binding(&self, account: &AccountId) -> RepoResult<Option<String>>;
}

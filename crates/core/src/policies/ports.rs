//! The policies' storage port.

use async_trait::async_trait;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::policies::model::{Policy, PolicyId};

/// Everything a node needs to tell which policy covers whom, loaded at once and cached.
#[derive(Debug, Clone, Default)]
pub struct PolicyData {
    /// Bumped by every change that can move someone to another policy or change its rules.
    pub epoch: i64,
    pub policies: Vec<Policy>,
    /// Verified domains and the organization holding each.
    pub verified_domains: Vec<(String, String)>,
}

#[async_trait]
pub trait PolicyRepo: Send + Sync {
    /// The current epoch alone (cheap: checked every few seconds).
    async fn policy_epoch(&self) -> RepoResult<i64>;
    async fn load_policies(&self) -> RepoResult<PolicyData>;
    /// Inserts the policy (a default one only if its scope has none yet: false then) and
    /// bumps the epoch.
    async fn insert_policy(&self, policy: &Policy) -> RepoResult<bool>;
    /// Saves name, settings and the two moments, and bumps the epoch.
    async fn update_policy(&self, policy: &Policy) -> RepoResult<()>;
    /// Puts the account under `policy` (`None`: its default) and bumps the epoch.
    async fn assign_policy(&self, account: &AccountId, policy: Option<&PolicyId>)
    -> RepoResult<()>;
    /// Bumps the epoch (a domain became verified or stopped being so).
    async fn bump_policy_epoch(&self) -> RepoResult<()>;
    /// The account's earlier password hashes, newest first.
    async fn password_history(&self, account: &AccountId, limit: u32) -> RepoResult<Vec<String>>;
    /// Records a password hash the account had, keeping the newest `keep`.
    async fn push_password_history(
        &self,
        id: &str,
        account: &AccountId,
        hash: &str,
        at: Timestamp,
        keep: u32,
    ) -> RepoResult<()>;
    /// Which of these accounts have a second factor (an app or a key).
    async fn accounts_with_second_factor(&self, ids: &[AccountId]) -> RepoResult<Vec<AccountId>>;
}

//! The accounts feature's storage port.

use async_trait::async_trait;

use crate::accounts::{Account, AccountId, AccountStatus, DisplayName, Email, NewAccount};
use crate::clock::Timestamp;
use crate::errors::{RepoError, RepoResult};

#[derive(Debug, thiserror::Error)]
pub enum InsertAccountError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// What an organization's console shows about an account's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountActivity {
    pub account: AccountId,
    pub last_active_at: Option<Timestamp>,
    pub products: Vec<String>,
}

#[async_trait]
pub trait AccountRepo: Send + Sync {
    async fn insert(&self, account: &NewAccount) -> Result<(), InsertAccountError>;
    async fn find_by_id(&self, id: &AccountId) -> RepoResult<Option<Account>>;
    async fn find_by_email(&self, email: &Email) -> RepoResult<Option<Account>>;
    /// Accounts ordered by creation, oldest first.
    async fn list(&self, limit: u32, offset: u32) -> RepoResult<Vec<Account>>;
    /// One page of the search in its order (see `ListPosition`), each account with its
    /// position, at most `limit + 1` of them (the extra one says there is more in that
    /// direction). A page position of the other order reads as the first page.
    async fn search(
        &self,
        search: &crate::accounts::AccountSearch,
    ) -> RepoResult<Vec<(Account, crate::accounts::ListPosition)>>;
    /// Accounts whose email is on `domain` (the ASCII form after the `@`), oldest first.
    async fn list_by_email_domain(
        &self,
        domain: &str,
        limit: u32,
        offset: u32,
    ) -> RepoResult<Vec<Account>>;
    async fn count_site_admins(&self) -> RepoResult<u64>;
    /// When each account was last active (its last sign-in to Latchkey as the audit log has it,
    /// or to a product) and the products it has signed in to, by name; accounts that do not
    /// exist are left out.
    async fn activity(&self, ids: &[AccountId]) -> RepoResult<Vec<AccountActivity>>;
    /// Closes the account: status `closed`, its personal data to be erased after `erase_after`.
    async fn close(&self, id: &AccountId, now: Timestamp, erase_after: Timestamp)
    -> RepoResult<()>;
    /// Active again, closure forgotten; false when the data was already erased.
    async fn reopen(&self, id: &AccountId, now: Timestamp) -> RepoResult<bool>;
    /// Closed accounts whose grace period has passed and that still hold personal data.
    async fn due_for_erasure(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<AccountId>>;
    /// Erases the account's personal data (email, name, password, second factors, consents,
    /// tokens, pending requests), keeping the id as a tombstone.
    async fn erase(&self, id: &AccountId, now: Timestamp) -> RepoResult<()>;
    /// Records a person's request to close their account; false if one is already open.
    async fn request_closure(
        &self,
        id: &AccountId,
        reason: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Open closure requests, oldest first: (account, when, reason).
    async fn closure_requests(&self) -> RepoResult<Vec<(AccountId, Timestamp, String)>>;
    /// Records when the email was verified; keeps the first time if it already was.
    async fn mark_email_verified(&self, id: &AccountId, at: Timestamp) -> RepoResult<()>;
    /// A newly chosen password: also records when it was chosen (for expiry).
    async fn set_password_hash(&self, id: &AccountId, hash: &str, at: Timestamp) -> RepoResult<()>;
    /// The same password under today's hashing parameters (expiry unchanged); only while the
    /// stored hash is still `old`.
    async fn rehash_password(&self, id: &AccountId, old: &str, new: &str) -> RepoResult<()>;
    async fn set_name(&self, id: &AccountId, name: &DisplayName, at: Timestamp) -> RepoResult<()>;
    /// Changes the email (and marks it verified); false when another account has it.
    async fn set_email(&self, id: &AccountId, email: &Email, at: Timestamp) -> RepoResult<bool>;
    /// Removes the password (the person must reset it).
    async fn clear_password(&self, id: &AccountId, at: Timestamp) -> RepoResult<()>;
    async fn set_status(
        &self,
        id: &AccountId,
        status: AccountStatus,
        at: Timestamp,
    ) -> RepoResult<()>;
    /// Sets a site admin's status only if another active site admin remains, in one atomic
    /// step (two admins acting on each other at once cannot both succeed); false otherwise.
    async fn set_site_admin(&self, id: &AccountId, on: bool, at: Timestamp) -> RepoResult<()>;
    /// Takes the site-admin flag away only if another active site admin remains (atomic, as
    /// [`Self::set_status_keeping_a_site_admin`]); false otherwise.
    async fn revoke_site_admin_keeping_one(
        &self,
        id: &AccountId,
        at: Timestamp,
    ) -> RepoResult<bool>;
    async fn set_status_keeping_a_site_admin(
        &self,
        id: &AccountId,
        status: AccountStatus,
        at: Timestamp,
    ) -> RepoResult<bool>;
}

//! The legacy upgrade's port: imported records, rollout states and links, shared by every node.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::accounts::{AccountId, Email};
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::legacy::model::{
    ImportSummary, LegacyRecord, LegacyStats, NewLinkChange, Rollout, Service, StoredRecord,
};
use crate::secret::TokenHash;

#[async_trait]
pub trait LegacyRepo: Send + Sync {
    /// `None`: no such product; `Some(None)`: a product without legacy users.
    async fn rollout(&self, client_id: &str) -> RepoResult<Option<Option<Rollout>>>;
    async fn set_rollout(&self, client_id: &str, rollout: Rollout) -> RepoResult<bool>;
    /// A product without legacy users moves to `legacy` (its first records were imported);
    /// any other state stays.
    async fn start_rollout(&self, client_id: &str) -> RepoResult<()>;
    /// Fingerprints of the product's records among `ids`.
    async fn fingerprints(
        &self,
        client_id: &str,
        ids: &[&str],
    ) -> RepoResult<HashMap<String, String>>;
    /// Inserts new records and updates changed ones, in one transaction.
    async fn upsert(&self, records: &[&LegacyRecord], now: Timestamp) -> RepoResult<()>;
    /// Records with this address in any product, with their links and rollout states.
    async fn for_email(&self, email: &Email) -> RepoResult<Vec<StoredRecord>>;
    /// The product's records with this username (its own login name), exactly.
    async fn for_username(&self, client_id: &str, username: &str) -> RepoResult<Vec<StoredRecord>>;
    /// Links a record to an account; false when the account already has a record linked for
    /// that product, or the record is linked to someone else.
    async fn link(
        &self,
        client_id: &str,
        legacy_id: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// The legacy user id linked to the account for this product.
    async fn linked_id(&self, account: &AccountId, client_id: &str) -> RepoResult<Option<String>>;
    async fn stats(&self, client_id: &str) -> RepoResult<LegacyStats>;
    /// Forgets the hashes of the product's upgraded records and, with `unused_since`, of the
    /// records not used since then (last sign-in, else creation, else import); how many. With
    /// `dry_run`, only counts.
    async fn purge_hashes(
        &self,
        client_id: &str,
        unused_since: Option<Timestamp>,
        dry_run: bool,
    ) -> RepoResult<u64>;
    /// Every first-party product's name and rollout state, by name.
    async fn rollouts(&self) -> RepoResult<Vec<(String, Option<Rollout>)>>;
    /// The account's linked records: (client id, product name, legacy user id).
    async fn linked_for(&self, account: &AccountId) -> RepoResult<Vec<(String, String, String)>>;

    async fn record_import(&self, summary: &ImportSummary) -> RepoResult<()>;
    /// One finished import of the product.
    async fn import_summary(&self, client_id: &str, id: &str) -> RepoResult<Option<ImportSummary>>;
    /// The product's latest finished import.
    async fn last_import(&self, client_id: &str) -> RepoResult<Option<ImportSummary>>;

    // "Change account" links and the links they change.

    /// The products the account uses: signed in to through Latchkey, or holding a legacy
    /// record linked to it or at `email` (normalized), by name.
    async fn services(&self, account: &AccountId, email: &Email) -> RepoResult<Vec<Service>>;
    /// Stores a new link; the account's earlier unused links for the product stop working.
    async fn insert_link_change(&self, change: &NewLinkChange) -> RepoResult<()>;
    /// An unused, unexpired link: (asking account, client id, address).
    async fn peek_link_change(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String, String)>>;
    /// Deletes the links that expired before `now`; how many.
    async fn purge_link_changes(&self, now: Timestamp) -> RepoResult<u64>;
    /// Uses the link, only if it is unused, unexpired and was asked for by `account`.
    async fn claim_link_change(
        &self,
        token: &TokenHash,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// In one transaction: the account's record for the product is unlinked and `legacy_id`
    /// linked to it instead (taken from whoever had it). The previous owner of `legacy_id`.
    async fn relink(
        &self,
        client_id: &str,
        legacy_id: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>>;
}

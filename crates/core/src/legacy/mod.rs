//! Upgrading products' own user databases to Latchkey accounts: the import of their records
//! (with their password hashes, as they are), each product's rollout state, and the upgrade at
//! sign-in, where a legacy password proven once becomes the account's password (rehashed with
//! argon2id) and the record is linked to the account. `docs/upgrading-products.md` has the
//! rules.

mod basic_auth;
pub mod model;
pub mod ports;
pub mod reader;
mod services;

pub use basic_auth::LegacyBasicAuth;
pub use model::ImportSummary;

/// How an import ran, for its record.
#[derive(Debug, Clone, Copy)]
pub struct ImportRun<'a> {
    /// `cli`, `api` or `console`.
    pub source: &'a str,
    pub dry_run: bool,
    pub milliseconds: u64,
}
pub use model::{
    ImportReport, LegacyRecord, LegacyStats, LineError, LinkChange, LinkChoice, RawLegacyRecord,
    Rollout, Service,
};
pub use services::LinkChangeError;

use std::collections::HashMap;
use std::sync::Arc;

use crate::accounts::ports::{AccountRepo, InsertAccountError};
use crate::accounts::{Account, AccountId, DisplayName, Email, NewAccount};
use crate::audit::{Actor, Audit, Record};
use crate::authority::SiteAdmin;
use crate::credentials::legacy::LegacyHash;
use crate::credentials::{HashError, Password, PasswordHasher};
use crate::errors::{RepoError, Unexpected};
use crate::guard::Guard;
use crate::kernel::Kernel;
use crate::legacy::ports::LegacyRepo;
use crate::sessions::model::ClientInfo;

#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("There is no product with client id {0:?}.")]
    UnknownProduct(String),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for LegacyError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// What an upgrade at sign-in found.
#[derive(Debug)]
pub enum UpgradeAttempt {
    /// No legacy record to try: sign in as usual.
    NotApplicable,
    /// Records were tried (and cost a login's time); none took the password.
    Failed,
    /// The password matched a record: the account (created or completed) now has it.
    Upgraded(Box<Account>),
}

#[derive(Clone)]
pub struct Legacy {
    repo: Arc<dyn LegacyRepo>,
    accounts: Arc<dyn AccountRepo>,
    hasher: PasswordHasher,
    audit: Audit,
    kernel: Kernel,
    guard: Guard,
}

impl Legacy {
    pub fn new(
        repo: Arc<dyn LegacyRepo>,
        accounts: Arc<dyn AccountRepo>,
        hasher: PasswordHasher,
        audit: Audit,
        kernel: Kernel,
        guard: Guard,
    ) -> Self {
        Self { repo, accounts, hasher, audit, kernel, guard }
    }

    async fn known(&self, client_id: &str) -> Result<Option<Rollout>, LegacyError> {
        self.repo
            .rollout(client_id)
            .await?
            .ok_or_else(|| LegacyError::UnknownProduct(client_id.chars().take(80).collect()))
    }

    /// Starts an import into a product: its rollout state. A product without legacy users
    /// moves to `legacy` with the first record written, so a file refused at its first line
    /// changes nothing.
    pub async fn begin_import(
        &self,
        _admin: &SiteAdmin,
        client_id: &str,
        _dry_run: bool,
    ) -> Result<Rollout, LegacyError> {
        Ok(self.known(client_id).await?.unwrap_or(Rollout::Legacy))
    }

    /// Validates and stores one batch of lines (`(line number, record)`): new records are
    /// inserted, changed ones updated, unchanged ones left alone. With `dry_run`, nothing is
    /// written and the counts say what would happen.
    pub async fn import_batch(
        &self,
        _admin: &SiteAdmin,
        client_id: &str,
        lines: Vec<(u64, RawLegacyRecord)>,
        dry_run: bool,
    ) -> Result<ImportReport, LegacyError> {
        let mut report = ImportReport::default();
        let mut valid: Vec<(u64, LegacyRecord)> = Vec::with_capacity(lines.len());
        for (line, raw) in lines {
            match raw.validate(client_id) {
                Ok((record, warning)) => {
                    if let Some(reason) = warning {
                        report.errors.push(LineError { line, reason });
                    }
                    valid.push((line, record));
                }
                Err(reason) => {
                    report.skipped += 1;
                    report.errors.push(LineError { line, reason });
                }
            }
        }
        // A legacy id repeated within the batch: the later line wins.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, (_, r)) in valid.iter().enumerate() {
            last.insert(r.legacy_id.as_str(), i);
        }
        let ids: Vec<&str> = last.keys().copied().collect();
        let stored = self.repo.fingerprints(client_id, &ids).await?;
        let mut writes: Vec<&LegacyRecord> = Vec::new();
        for (i, (line, record)) in valid.iter().enumerate() {
            if last.get(record.legacy_id.as_str()) != Some(&i) {
                report.skipped += 1;
                let reason =
                    "legacy_id repeated later in the file (the later line wins)".to_owned();
                report.errors.push(LineError { line: *line, reason });
                continue;
            }
            match stored.get(&record.legacy_id) {
                None => report.imported += 1,
                Some(f) if *f == record.fingerprint => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => report.updated += 1,
            }
            writes.push(record);
        }
        if !dry_run && !writes.is_empty() {
            self.repo.upsert(&writes, self.kernel.now()).await?;
            self.repo.start_rollout(client_id).await?;
        }
        Ok(report)
    }

    /// [`import_batch`](Self::import_batch) for lines as an [`reader::ImportReader`] hands
    /// them out: the lines that could not be read are counted as skipped, with their reason.
    pub async fn import_read(
        &self,
        admin: &SiteAdmin,
        client_id: &str,
        lines: Vec<reader::ReadLine>,
        dry_run: bool,
    ) -> Result<ImportReport, LegacyError> {
        let mut unread = ImportReport::default();
        let mut good = Vec::with_capacity(lines.len());
        for (line, parsed) in lines {
            match parsed {
                Ok(raw) => good.push((line, raw)),
                Err(reason) => {
                    unread.skipped += 1;
                    unread.errors.push(LineError { line, reason });
                }
            }
        }
        let mut report = self.import_batch(admin, client_id, good, dry_run).await?;
        report.add(unread);
        Ok(report)
    }

    /// Records the finished import: kept for the console (its id is returned) and in the
    /// audit log.
    pub async fn finish_import(
        &self,
        admin: &SiteAdmin,
        client_id: &str,
        report: &ImportReport,
        run: ImportRun<'_>,
    ) -> Result<String, LegacyError> {
        let now = self.kernel.now();
        let errors = report.errors.len() as u64 + report.errors_not_listed;
        let summary = ImportSummary {
            id: self.kernel.new_id(now),
            client_id: client_id.to_owned(),
            source: run.source.to_owned(),
            dry_run: run.dry_run,
            imported: report.imported,
            updated: report.updated,
            unchanged: report.unchanged,
            skipped: report.skipped,
            errors,
            first_errors: report.errors.iter().take(model::KEPT_LINE_ERRORS).cloned().collect(),
            milliseconds: run.milliseconds,
            finished_at: now.unix(),
        };
        self.repo.record_import(&summary).await?;
        let record = Record::new("legacy.imported", Actor::Site(admin))
            .about(format!("product {client_id}"))
            .details(serde_json::json!({
                "client_id": client_id,
                "source": run.source,
                "dry_run": run.dry_run,
                "imported": report.imported,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "errors": errors,
            }));
        self.audit.record(record).await;
        Ok(summary.id)
    }

    /// A finished import of the product, and the product's latest.
    pub async fn import_summary(
        &self,
        _admin: &SiteAdmin,
        client_id: &str,
        id: Option<&str>,
    ) -> Result<Option<ImportSummary>, RepoError> {
        match id {
            Some(id) => self.repo.import_summary(client_id, id).await,
            None => self.repo.last_import(client_id).await,
        }
    }

    pub async fn set_rollout(
        &self,
        admin: &SiteAdmin,
        client_id: &str,
        rollout: Rollout,
    ) -> Result<(), LegacyError> {
        let before = self.known(client_id).await?;
        self.repo.set_rollout(client_id, rollout).await?;
        tracing::info!(client = %client_id, rollout = rollout.as_str(), "rollout changed");
        let record = Record::new("legacy.rollout_changed", Actor::Site(admin))
            .about(format!("product {client_id}"))
            .details(serde_json::json!({
                "client_id": client_id,
                "from": before.map(Rollout::as_str),
                "to": rollout.as_str(),
            }));
        self.audit.record(record).await;
        Ok(())
    }

    pub async fn status(
        &self,
        _admin: &SiteAdmin,
        client_id: &str,
    ) -> Result<(Option<Rollout>, LegacyStats), LegacyError> {
        let rollout = self.known(client_id).await?;
        Ok((rollout, self.repo.stats(client_id).await?))
    }

    /// `latchkey client legacy purge`: the old hashes of upgraded records (their people sign in
    /// with their Latchkey password now) and, with `older_than_days`, of records unused that
    /// long (they can still upgrade through a password reset). The records themselves stay, so
    /// products keep their `legacy_user_id`.
    pub async fn purge(
        &self,
        admin: &SiteAdmin,
        client_id: &str,
        older_than_days: Option<u32>,
        dry_run: bool,
    ) -> Result<u64, LegacyError> {
        self.known(client_id).await?;
        let now = self.kernel.now();
        let since = older_than_days.map(|d| now.plus_secs(-i64::from(d) * 24 * 3600));
        let purged = self.repo.purge_hashes(client_id, since, dry_run).await?;
        if !dry_run {
            let record = Record::new("legacy.purged", Actor::Site(admin))
                .about(format!("product {client_id}"))
                .details(serde_json::json!({ "client_id": client_id, "hashes": purged, "older_than_days": older_than_days }));
            self.audit.record(record).await;
        }
        Ok(purged)
    }

    /// `/status`: which products sign in with Latchkey already and which follow (first-party
    /// products only, by name).
    pub async fn rollout_overview(&self) -> Result<Vec<(String, Option<Rollout>)>, RepoError> {
        self.repo.rollouts().await
    }

    /// The product's own id for the account, when a legacy record is linked.
    pub async fn legacy_user_id(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> Result<Option<String>, RepoError> {
        self.repo.linked_id(account, client_id).await
    }

    /// The products whose legacy accounts are linked to this one: (client id, product name,
    /// legacy user id).
    pub async fn linked_products(
        &self,
        account: &AccountId,
    ) -> Result<Vec<(String, String, String)>, RepoError> {
        self.repo.linked_for(account).await
    }

    /// Tries the password against the address's legacy records in products being upgraded,
    /// for an account that has no password yet (or no account). Costs one hashing job either
    /// way.
    pub(crate) async fn upgrade(
        &self,
        email: &Email,
        password: &Password,
        account: Option<&Account>,
        client: &ClientInfo,
    ) -> Result<UpgradeAttempt, UpgradeError> {
        let candidates: Vec<_> = self
            .repo
            .for_email(email)
            .await?
            .into_iter()
            .filter(|s| {
                s.rollout.is_some_and(Rollout::upgrades)
                    && s.record.active
                    && s.record.hash_format.is_some()
                    && s.account
                        .as_ref()
                        .is_none_or(|linked| account.is_some_and(|a| &a.id == linked))
            })
            .collect();
        let hashes: Vec<LegacyHash> = candidates
            .iter()
            .filter_map(|s| {
                s.record.password_hash.as_deref().and_then(|h| LegacyHash::parse(h).ok())
            })
            .collect();
        if hashes.is_empty() || hashes.len() != candidates.len() {
            return Ok(UpgradeAttempt::NotApplicable);
        }
        let Some((i, fresh)) =
            self.hasher.verify_legacy(password, hashes, self.kernel.rng()).await?
        else {
            return Ok(UpgradeAttempt::Failed);
        };
        let proven = &candidates[i].record;
        let now = self.kernel.now();
        let created = account.is_none();
        let account = if let Some(a) = account {
            self.accounts.set_password_hash(&a.id, &fresh, now).await?;
            a.id.clone()
        } else {
            let name =
                DisplayName::parse(&proven.name).unwrap_or_else(|_| DisplayName::from_email(email));
            let new = NewAccount {
                id: AccountId::from_stored(self.kernel.new_id(now)),
                email: email.clone(),
                name,
                password_hash: Some(crate::secret::Secret::new(fresh)),
                email_verified_at: None,
                site_admin: false,
                created_at: now,
            };
            match self.accounts.insert(&new).await {
                Ok(()) => new.id,
                // Someone upgraded the same address a moment ago: sign in normally.
                Err(InsertAccountError::EmailTaken) => return Ok(UpgradeAttempt::Failed),
                Err(InsertAccountError::Unexpected(e)) => return Err(e.into()),
            }
        };
        self.repo.link(&proven.client_id, &proven.legacy_id, &account, now).await?;
        let upgraded = self.accounts.find_by_id(&account).await?.ok_or_else(|| {
            UpgradeError::Unexpected(RepoError("the upgraded account is missing".into()).into())
        })?;
        tracing::info!(account = %upgraded.id, client = %proven.client_id, "legacy account upgraded");
        let record = Record::new("account.upgraded", Actor::Person(&upgraded))
            .target(&upgraded)
            .from(client)
            .details(serde_json::json!({
                "client_id": proven.client_id,
                "legacy_user_id": proven.legacy_id,
                "hash_format": proven.hash_format,
                "created": created,
            }));
        self.audit.record(record).await;
        Ok(UpgradeAttempt::Upgraded(Box::new(upgraded)))
    }

    /// A "forgot password" for an address with no account but with records in a product being
    /// upgraded (a record whose hash could not be imported, or a forgotten password): the
    /// account is created from the first such record, without a password, so the reset link
    /// can give it one. The link proves the mailbox; the records are linked at the next
    /// sign-in.
    pub(crate) async fn account_for_reset(
        &self,
        email: &Email,
    ) -> Result<Option<Account>, RepoError> {
        let records = self.repo.for_email(email).await?;
        let Some(first) = records.iter().find(|s| {
            s.account.is_none() && s.record.active && s.rollout.is_some_and(Rollout::upgrades)
        }) else {
            return Ok(None);
        };
        tracing::info!(client = %first.record.client_id, "account created for a legacy password reset");
        self.account_from_record(email, &first.record.name).await
    }

    /// The address's account, created from a legacy record's name without a password if
    /// there is none yet.
    async fn account_from_record(
        &self,
        email: &Email,
        name: &str,
    ) -> Result<Option<Account>, RepoError> {
        let now = self.kernel.now();
        let new = NewAccount {
            id: AccountId::from_stored(self.kernel.new_id(now)),
            email: email.clone(),
            name: DisplayName::parse(name).unwrap_or_else(|_| DisplayName::from_email(email)),
            password_hash: None,
            email_verified_at: None,
            site_admin: false,
            created_at: now,
        };
        match self.accounts.insert(&new).await {
            Ok(()) | Err(InsertAccountError::EmailTaken) => {}
            Err(InsertAccountError::Unexpected(e)) => return Err(e),
        }
        self.accounts.find_by_email(email).await
    }

    /// After a sign-in with the account's own password: links the unlinked records with its
    /// (verified) address in products being upgraded, so they need no second proof.
    pub(crate) async fn link_on_sign_in(&self, account: &Account) -> Result<u64, RepoError> {
        if !account.email_verified() {
            return Ok(0);
        }
        let now = self.kernel.now();
        let mut linked = 0;
        for s in self.repo.for_email(&account.email).await? {
            if s.account.is_none()
                && s.rollout.is_some_and(Rollout::upgrades)
                && s.record.active
                && self
                    .repo
                    .link(&s.record.client_id, &s.record.legacy_id, &account.id, now)
                    .await?
            {
                linked += 1;
            }
        }
        Ok(linked)
    }
}

/// Hashing is saturated, or something broke.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for UpgradeError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashError> for UpgradeError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            HashError::Unexpected(_) => Self::Unexpected(Unexpected(Box::new(e))),
        }
    }
}

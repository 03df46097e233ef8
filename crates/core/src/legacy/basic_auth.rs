//! Legacy passwords over basic auth: a product's bot or script that used its old account keeps
//! working through `POST /oauth/basic-auth/verify` until the account is upgraded, checked
//! against the imported hash each time (the hash is not replaced: nobody signed in, and the
//! person may still upgrade with it). The API-token service decides when this applies and
//! what the product may be told; this part finds the records and checks the password.

use crate::accounts::{Account, Email};
use crate::credentials::Password;
use crate::credentials::legacy::LegacyHash;
use crate::errors::RepoError;
use crate::legacy::model::StoredRecord;
use crate::legacy::{Legacy, Rollout, UpgradeError};

/// A legacy password proven for a product over basic auth.
#[derive(Debug)]
pub struct LegacyBasicAuth {
    /// The account the record belongs to (created without a password if there was none).
    pub account: Account,
    pub legacy_id: String,
}

impl Legacy {
    /// The product's records a basic-auth username names (an address, or the product's own
    /// login name) that could take a legacy password now: active, with a usable hash, in a
    /// product being upgraded, all at one address. The address is the first record's.
    pub(crate) async fn records_named(
        &self,
        client_id: &str,
        username: &str,
    ) -> Result<(Option<Email>, Vec<StoredRecord>), RepoError> {
        let (email, mut records) = if let Ok(email) = Email::parse(username) {
            let records = self.repo.for_email(&email).await?;
            (Some(email), records)
        } else {
            let records = self.repo.for_username(client_id, username.trim()).await?;
            (records.first().map(|s| s.record.email.clone()), records)
        };
        records.retain(|s| {
            s.record.client_id == client_id
                && email.as_ref().is_some_and(|e| e.normalized() == s.record.email.normalized())
                && s.record.active
                && s.record.hash_format.is_some()
                && s.rollout.is_some_and(Rollout::upgrades)
        });
        Ok((email, records))
    }

    /// Whether the address has legacy records in products other than `client_id`: then its
    /// old password is not one product's alone.
    pub(crate) async fn used_elsewhere(
        &self,
        email: &Email,
        client_id: &str,
    ) -> Result<bool, RepoError> {
        Ok(self.repo.for_email(email).await?.iter().any(|s| s.record.client_id != client_id))
    }

    /// Checks the password against `records` (one hashing job, whatever their number; the
    /// caller runs a dummy one when there are none). On a match the record's account is
    /// found or created (without a password: the person still upgrades by signing in) and
    /// the record linked to it when it is not linked yet.
    pub(crate) async fn verify_for_basic_auth(
        &self,
        email: &Email,
        records: &[StoredRecord],
        account: Option<&Account>,
        password: &Password,
    ) -> Result<Option<LegacyBasicAuth>, UpgradeError> {
        // A record linked to another account is that account's, not this address's.
        let candidates: Vec<&StoredRecord> = records
            .iter()
            .filter(|s| {
                s.account.as_ref().is_none_or(|linked| account.is_some_and(|a| &a.id == linked))
            })
            .collect();
        let hashes: Vec<LegacyHash> = candidates
            .iter()
            .filter_map(|s| s.record.password_hash.as_deref())
            .filter_map(|h| LegacyHash::parse(h).ok())
            .collect();
        if hashes.len() != candidates.len() {
            return Ok(None);
        }
        let Some(i) = self.hasher.matches_legacy(password, hashes).await? else {
            return Ok(None);
        };
        let proven = &candidates[i].record;
        let account = match account {
            Some(a) => a.clone(),
            None => match self.account_from_record(email, &proven.name).await? {
                Some(a) => a,
                None => return Ok(None),
            },
        };
        self.repo
            .link(&proven.client_id, &proven.legacy_id, &account.id, self.kernel.now())
            .await?;
        Ok(Some(LegacyBasicAuth { account, legacy_id: proven.legacy_id.clone() }))
    }
}

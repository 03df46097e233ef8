//! `EmailChangeRepo` on SQL: single use is one conditional UPDATE … RETURNING.

use async_trait::async_trait;
use latchkey_core::accounts::{AccountId, Email};
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{EmailChangeKind, EmailChangeRepo, RepoResult};
use latchkey_core::secret::TokenHash;

use super::{Run, unexpected};
use crate::SqlStore;

#[async_trait]
impl EmailChangeRepo for SqlStore {
    async fn insert_email_change(
        &self,
        hash: &TokenHash,
        account: &AccountId,
        kind: EmailChangeKind,
        email: &Email,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO email_changes (token_hash, account_id, kind, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash.as_str())
        .bind(account.as_str())
        .bind(kind.as_str())
        .bind(email.as_str())
        .bind(now.unix())
        .bind(expires_at.unix())
        .run(&self.pool).await?;
        Ok(())
    }

    async fn peek_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT account_id, email FROM email_changes \
             WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash.as_str())
        .bind(kind.as_str())
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(a, e)| (AccountId::from_stored(a), e)))
    }

    async fn use_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE email_changes SET used_at = $1 \
             WHERE token_hash = $2 AND kind = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING account_id, email",
        )
        .bind(now.unix())
        .bind(hash.as_str())
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(a, e)| (AccountId::from_stored(a), e)))
    }

    async fn cancel_email_changes(
        &self,
        account: &AccountId,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "UPDATE email_changes SET used_at = $1 \
             WHERE account_id = $2 AND kind = $3 AND used_at IS NULL",
        )
        .bind(now.unix())
        .bind(account.as_str())
        .bind(kind.as_str())
        .run(&self.pool)
        .await?;
        Ok(())
    }
}

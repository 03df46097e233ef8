//! `OneTimeTokenRepo` on SQL. Consuming is one conditional UPDATE, so two concurrent uses of
//! the same link cannot both succeed on either engine.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{NewOneTimeToken, OneTimeTokenRepo, RepoResult, TokenPurpose};
use latchkey_core::secret::TokenHash;

use super::{Run, unexpected};
use crate::SqlStore;

#[async_trait]
impl OneTimeTokenRepo for SqlStore {
    async fn insert(&self, t: &NewOneTimeToken) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.hash.as_str())
        .bind(t.purpose.as_str())
        .bind(t.account.as_str())
        .bind(t.created_at.unix())
        .bind(t.expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn peek(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT account_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash.as_str())
        .bind(purpose.as_str())
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(id.map(AccountId::from_stored))
    }

    async fn consume(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>> {
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE one_time_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 \
             AND used_at IS NULL AND expires_at > $1 RETURNING account_id",
        )
        .bind(now.unix())
        .bind(hash.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(id.map(AccountId::from_stored))
    }

    async fn revoke_all(
        &self,
        account: &AccountId,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1 \
             WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(now.unix())
        .bind(account.as_str())
        .bind(purpose.as_str())
        .run(&self.pool)
        .await?;
        Ok(())
    }
}

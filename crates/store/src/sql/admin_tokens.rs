//! `AdminTokenRepo` on SQL.

use async_trait::async_trait;
use latchkey_core::accounts::{Account, AccountId};
use latchkey_core::clock::Timestamp;
use latchkey_core::flows::AdminToken;
use latchkey_core::ports::{AccountRepo as _, AdminTokenRepo, RepoResult};
use latchkey_core::secret::TokenHash;

use super::{Run, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    account_id: String,
    label: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> AdminToken {
        AdminToken {
            id: self.id,
            account: AccountId::from_stored(self.account_id),
            label: self.label,
            created_at: Timestamp::from_unix(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp::from_unix),
            revoked_at: self.revoked_at.map(Timestamp::from_unix),
        }
    }
}

#[async_trait]
impl AdminTokenRepo for SqlStore {
    async fn insert(&self, t: &AdminToken, hash: &TokenHash) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO admin_tokens (id, token_hash, account_id, label, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.id.as_str())
        .bind(hash.as_str())
        .bind(t.account.as_str())
        .bind(t.label.as_str())
        .bind(t.created_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_live(&self, hash: &TokenHash) -> RepoResult<Option<(AdminToken, Account)>> {
        let row = sqlx::query_as::<_, TokenRow>(
            "SELECT id, account_id, label, created_at, last_used_at, revoked_at \
             FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        let Some(token) = row.map(TokenRow::into_token) else { return Ok(None) };
        Ok(self.find_by_id(&token.account).await?.map(|account| (token, account)))
    }

    async fn touch(&self, id: &str, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at.unix())
            .bind(id)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn list(&self) -> RepoResult<Vec<AdminToken>> {
        Ok(sqlx::query_as::<_, TokenRow>(
            "SELECT id, account_id, label, created_at, last_used_at, revoked_at \
             FROM admin_tokens ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(TokenRow::into_token)
        .collect())
    }

    async fn revoke(&self, id: &str, at: Timestamp) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(at.unix())
        .bind(id)
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }
}

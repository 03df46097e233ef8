//! `ApiTokenRepo` on SQL. A verification is one indexed read of the token joined with its
//! account; use counts are one upsert per token and minute, written by whichever node saw them.

use async_trait::async_trait;
use latchkey_core::accounts::{Account, AccountId, NewAccount};
use latchkey_core::api_tokens::ApiToken;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{ApiTokenRepo, InsertAccountError, RepoResult, TokenUsage};
use latchkey_core::secret::TokenHash;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::accounts::AccountRow;
use super::{Run, to_u64, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    account_id: String,
    name: String,
    products: String,
    created_by: Option<String>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    last_used_ip: Option<String>,
}

macro_rules! token_columns {
    () => {
        "id, account_id, name, products, created_by, created_at, expires_at, revoked_at, \
         last_used_at, last_used_ip"
    };
}

impl TokenRow {
    fn into_token(self) -> ApiToken {
        ApiToken {
            id: self.id,
            account: AccountId::from_stored(self.account_id),
            name: self.name,
            products: self
                .products
                .split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            created_by: self.created_by.map(AccountId::from_stored),
            created_at: Timestamp::from_unix(self.created_at),
            expires_at: Timestamp::from_unix(self.expires_at),
            revoked_at: self.revoked_at.map(Timestamp::from_unix),
            last_used_at: self.last_used_at.map(Timestamp::from_unix),
            last_used_ip: self.last_used_ip,
        }
    }
}

fn token_and_account(row: &AnyRow) -> RepoResult<(ApiToken, Account)> {
    let token = TokenRow {
        id: row.try_get("t_id").map_err(unexpected)?,
        account_id: row.try_get("id").map_err(unexpected)?,
        name: row.try_get("t_name").map_err(unexpected)?,
        products: row.try_get("t_products").map_err(unexpected)?,
        created_by: row.try_get("t_created_by").map_err(unexpected)?,
        created_at: row.try_get("t_created_at").map_err(unexpected)?,
        expires_at: row.try_get("t_expires_at").map_err(unexpected)?,
        revoked_at: row.try_get("t_revoked_at").map_err(unexpected)?,
        last_used_at: row.try_get("t_last_used_at").map_err(unexpected)?,
        last_used_ip: row.try_get("t_last_used_ip").map_err(unexpected)?,
    };
    let account: AccountRow = sqlx::FromRow::from_row(row).map_err(unexpected)?;
    Ok((token.into_token(), account.into_account()?))
}

/// Basic-auth verification of a bot's API token (when not in the node's cache).
pub(crate) const API_TOKEN_BY_HASH: &str = "SELECT t.id AS t_id, t.name AS t_name, t.products AS t_products, \
     t.created_by AS t_created_by, t.created_at AS t_created_at, \
     t.expires_at AS t_expires_at, t.revoked_at AS t_revoked_at, \
     t.last_used_at AS t_last_used_at, t.last_used_ip AS t_last_used_ip, \
     a.id, a.email, a.name, a.password_hash, a.email_verified_at, a.status, \
     a.site_admin, a.created_at, a.updated_at, a.password_changed_at, a.policy_id, \
     a.bot, a.bot_org_id \
     FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1";

#[async_trait]
impl ApiTokenRepo for SqlStore {
    async fn insert(&self, t: &ApiToken, hash: &TokenHash) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, account_id, name, products, created_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.id.as_str())
        .bind(hash.as_str())
        .bind(t.account.as_str())
        .bind(t.name.as_str())
        .bind(t.products.join(" "))
        .bind(t.created_by.as_ref().map(AccountId::as_str))
        .bind(t.created_at.unix())
        .bind(t.expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> RepoResult<Option<(ApiToken, Account)>> {
        let row = sqlx::query(API_TOKEN_BY_HASH)
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        row.as_ref().map(token_and_account).transpose()
    }

    async fn find(&self, id: &str) -> RepoResult<Option<ApiToken>> {
        let sql = concat!("SELECT ", token_columns!(), " FROM api_tokens WHERE id = $1");
        Ok(sqlx::query_as::<_, TokenRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?
            .map(TokenRow::into_token))
    }

    async fn list_for_accounts(&self, accounts: &[AccountId]) -> RepoResult<Vec<ApiToken>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {} FROM api_tokens WHERE account_id IN ({})",
                token_columns!(),
                marks.join(", ")
            );
            let mut query = sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            out.extend(
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unexpected)?
                    .into_iter()
                    .map(TokenRow::into_token),
            );
        }
        out.sort_by(|a, b| (b.created_at.unix(), &b.id).cmp(&(a.created_at.unix(), &a.id)));
        Ok(out)
    }

    async fn revoke(&self, id: &str, account: &AccountId, at: Timestamp) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 \
             WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
        )
        .bind(at.unix())
        .bind(id)
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn revoke_all(&self, account: &AccountId, at: Timestamp) -> RepoResult<u64> {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(at.unix())
        .bind(account.as_str())
        .run(&self.pool)
        .await
    }

    async fn record_use(
        &self,
        id: &str,
        at: Timestamp,
        ip: &str,
        day: i64,
        uses: u64,
    ) -> RepoResult<()> {
        let uses = i64::try_from(uses).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 \
             WHERE id = $3 AND (last_used_at IS NULL OR last_used_at <= $1)",
        )
        .bind(at.unix())
        .bind(ip)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query(
            "INSERT INTO api_token_usage (token_id, day, uses) \
             SELECT id, $2, $3 FROM api_tokens WHERE id = $1 \
             ON CONFLICT (token_id, day) DO UPDATE SET uses = api_token_usage.uses + excluded.uses",
        )
        .bind(id)
        .bind(day)
        .bind(uses)
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)
    }

    async fn take_usage_before(&self, day: i64) -> RepoResult<Vec<TokenUsage>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "DELETE FROM api_token_usage WHERE day < $1 RETURNING token_id, day, uses",
        )
        .bind(day)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        let mut out = Vec::with_capacity(rows.len());
        for (token_id, day, uses) in rows {
            let owner: Option<(String,)> =
                sqlx::query_as("SELECT account_id FROM api_tokens WHERE id = $1")
                    .bind(token_id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unexpected)?;
            if let Some((account,)) = owner {
                out.push(TokenUsage {
                    token_id,
                    account: AccountId::from_stored(account),
                    day,
                    uses: to_u64(uses),
                });
            }
        }
        out.sort_by(|a, b| (a.day, &a.token_id).cmp(&(b.day, &b.token_id)));
        Ok(out)
    }

    async fn insert_bot(
        &self,
        bot: &NewAccount,
        org: Option<&str>,
    ) -> Result<(), InsertAccountError> {
        let result = sqlx::query(
            "INSERT INTO accounts (id, email, email_normalized, name, password_hash, \
             email_verified_at, status, site_admin, created_at, updated_at, bot, bot_org_id) \
             VALUES ($1, $2, $3, $4, NULL, NULL, 'active', 0, $5, $5, 1, $6)",
        )
        .bind(bot.id.as_str())
        .bind(bot.email.as_str())
        .bind(bot.email.normalized())
        .bind(bot.name.as_str())
        .bind(bot.created_at.unix())
        .bind(org)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(InsertAccountError::EmailTaken)
            }
            Err(e) => Err(InsertAccountError::Unexpected(unexpected(e))),
        }
    }

    async fn list_bots(&self, org: Option<&str>) -> RepoResult<Vec<Account>> {
        let rows = match org {
            Some(org) => {
                sqlx::query_as::<_, AccountRow>(concat!(
                    "SELECT ",
                    super::accounts::account_columns!(),
                    " FROM accounts WHERE bot = 1 AND bot_org_id = $1 ORDER BY created_at, id"
                ))
                .bind(org)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query_as::<_, AccountRow>(concat!(
                    "SELECT ",
                    super::accounts::account_columns!(),
                    " FROM accounts WHERE bot = 1 ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await
            }
        };
        rows.map_err(unexpected)?.into_iter().map(AccountRow::into_account).collect()
    }

    async fn products_signed_in(&self, account: &AccountId) -> RepoResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT client_id FROM grants WHERE account_id = $1")
                .bind(account.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    async fn bind_basic_auth(
        &self,
        account: &AccountId,
        client_id: &str,
        at: Timestamp,
    ) -> RepoResult<String> {
        sqlx::query(
            "INSERT INTO basic_auth_bindings (account_id, client_id, bound_at) \
             VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account.as_str())
        .bind(client_id)
        .bind(at.unix())
        .run(&self.pool)
        .await?;
        self.basic_auth_binding(account).await?.ok_or_else(|| {
            latchkey_core::ports::RepoError("the basic-auth binding vanished".into())
        })
    }

    async fn basic_auth_binding(&self, account: &AccountId) -> RepoResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT client_id FROM basic_auth_bindings WHERE account_id = $1")
                .bind(account.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(row.map(|(c,)| c))
    }
}

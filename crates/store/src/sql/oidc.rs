//! `OidcRepo` on SQL: redeemed codes, grants, refresh tokens, revoked access tokens, client
//! assertions, consents. Single use is one conditional INSERT or UPDATE each, atomic on both
//! engines.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{
    CodeClaim, Consent, Grant, NewRefreshToken, OidcRepo, RefreshUse, RepoResult,
};
use latchkey_core::secret::TokenHash;
use latchkey_core::sessions::SessionId;

use super::{Run, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    client_id: String,
    account_id: String,
    session_id: String,
    scope: String,
    access_jti: String,
    auth_time: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl GrantRow {
    fn into_grant(self) -> Grant {
        Grant {
            id: self.id,
            client_id: self.client_id,
            account: AccountId::from_stored(self.account_id),
            session: SessionId::from_stored(self.session_id),
            scope: self.scope,
            access_jti: self.access_jti,
            auth_time: Timestamp::from_unix(self.auth_time),
            created_at: Timestamp::from_unix(self.created_at),
            revoked_at: self.revoked_at.map(Timestamp::from_unix),
        }
    }
}

macro_rules! grant_columns {
    () => {
        "id, client_id, account_id, session_id, scope, access_jti, auth_time, created_at, revoked_at"
    };
}

impl SqlStore {
    /// Unrevoked grants selected by one key (`$1`), oldest first.
    async fn live_grants(&self, select: &'static str, key: &str) -> RepoResult<Vec<Grant>> {
        let rows = sqlx::query_as::<_, GrantRow>(select)
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(rows.into_iter().map(GrantRow::into_grant).collect())
    }
}

/// The refresh-token grant.
pub(crate) const REFRESH_TOKEN_BY_HASH: &str =
    "SELECT grant_id, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1";

/// Every node's reload of revoked access tokens (introspection, `UserInfo`), once a second.
pub(crate) const REVOKED_ACCESS_TOKENS: &str =
    "SELECT jti FROM revoked_access_tokens WHERE expires_at > $1";

/// A third-party product's SSO hop: has the person allowed it?
pub(crate) const CONSENT: &str =
    "SELECT scope, granted_at FROM consents WHERE account_id = $1 AND client_id = $2";

/// Single logout: the products a session signed in to.
pub(crate) const GRANTS_OF_SESSION: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE session_id = $1 AND revoked_at IS NULL ORDER BY created_at, id"
);

/// `/account`: the live grants of a person's sessions (`n` placeholders).
pub(crate) fn grants_of_sessions(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT {} FROM grants WHERE session_id IN ({}) AND revoked_at IS NULL \
         ORDER BY created_at, id",
        grant_columns!(),
        marks.join(", ")
    )
}

#[async_trait]
impl OidcRepo for SqlStore {
    async fn claim_code(&self, hash: &TokenHash, keep_until: Timestamp) -> RepoResult<CodeClaim> {
        let claimed = sqlx::query(
            "INSERT INTO redeemed_codes (code_hash, keep_until) VALUES ($1, $2) \
             ON CONFLICT (code_hash) DO NOTHING",
        )
        .bind(hash.as_str())
        .bind(keep_until.unix())
        .run(&self.pool)
        .await?;
        if claimed == 1 {
            return Ok(CodeClaim::First);
        }
        let grant: Option<Option<String>> =
            sqlx::query_scalar("SELECT grant_id FROM redeemed_codes WHERE code_hash = $1")
                .bind(hash.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(CodeClaim::Reused(grant.flatten()))
    }

    async fn insert_grant(&self, g: &Grant, code: Option<&TokenHash>) -> RepoResult<()> {
        // One transaction: a crash between the two statements must not leave a grant that its
        // code does not name (a replay of the code could then not revoke it).
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(concat!(
            "INSERT INTO grants (",
            grant_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(g.id.as_str())
        .bind(g.client_id.as_str())
        .bind(g.account.as_str())
        .bind(g.session.as_str())
        .bind(g.scope.as_str())
        .bind(g.access_jti.as_str())
        .bind(g.auth_time.unix())
        .bind(g.created_at.unix())
        .bind(g.revoked_at.map(Timestamp::unix))
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        if let Some(code) = code {
            sqlx::query("UPDATE redeemed_codes SET grant_id = $1 WHERE code_hash = $2")
                .bind(g.id.as_str())
                .bind(code.as_str())
                .execute(&mut *tx)
                .await
                .map_err(unexpected)?;
        }
        tx.commit().await.map_err(unexpected)?;
        Ok(())
    }

    async fn find_grant(&self, id: &str) -> RepoResult<Option<Grant>> {
        Ok(sqlx::query_as::<_, GrantRow>(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?
        .map(GrantRow::into_grant))
    }

    async fn revoke_grant(&self, id: &str, now: Timestamp) -> RepoResult<Option<Grant>> {
        // One transaction: a grant is never left revoked with live refresh tokens.
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        let row = sqlx::query_as::<_, GrantRow>(concat!(
            "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING ",
            grant_columns!()
        ))
        .bind(now.unix())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)?;
        Ok(row.map(GrantRow::into_grant))
    }

    async fn insert_refresh_token(&self, t: &NewRefreshToken) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(t.hash.as_str())
        .bind(t.grant_id.as_str())
        .bind(t.created_at.unix())
        .bind(t.expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn use_refresh_token(&self, hash: &TokenHash, now: Timestamp) -> RepoResult<RefreshUse> {
        let fresh: Option<String> = sqlx::query_scalar(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING grant_id",
        )
        .bind(now.unix())
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        if let Some(grant) = fresh {
            return Ok(RefreshUse::Fresh(grant));
        }
        Ok(match self.find_refresh_token(hash).await? {
            Some((grant, _, true)) => RefreshUse::Reused(grant),
            _ => RefreshUse::Invalid,
        })
    }

    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> RepoResult<Option<(String, Timestamp, bool)>> {
        let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(REFRESH_TOKEN_BY_HASH)
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(row.map(|(g, exp, used)| (g, Timestamp::from_unix(exp), used.is_some())))
    }

    async fn grants_for_session(&self, session: &SessionId) -> RepoResult<Vec<Grant>> {
        self.live_grants(GRANTS_OF_SESSION, session.as_str()).await
    }

    async fn grants_for_sessions(&self, sessions: &[SessionId]) -> RepoResult<Vec<Grant>> {
        let mut out = Vec::new();
        // The placeholders are generated, never the values.
        for chunk in sessions.chunks(100) {
            let sql = grants_of_sessions(chunk.len());
            let mut query = sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql));
            for session in chunk {
                query = query.bind(session.as_str());
            }
            let rows = query.fetch_all(&self.pool).await.map_err(unexpected)?;
            out.extend(rows.into_iter().map(GrantRow::into_grant));
        }
        Ok(out)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoked_access_tokens(&self, now: Timestamp) -> RepoResult<Vec<String>> {
        sqlx::query_scalar(REVOKED_ACCESS_TOKENS)
            .bind(now.unix())
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)
    }

    async fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
    ) -> RepoResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(inserted == 1)
    }

    async fn purge_expired(&self, now: Timestamp) -> RepoResult<u64> {
        let mut purged = 0;
        for statement in [
            "DELETE FROM client_assertions WHERE expires_at <= $1",
            "DELETE FROM revoked_access_tokens WHERE expires_at <= $1",
            "DELETE FROM redeemed_codes WHERE keep_until <= $1",
        ] {
            purged += sqlx::query(statement).bind(now.unix()).run(&self.pool).await?;
        }
        Ok(purged)
    }

    async fn find_consent(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Option<Consent>> {
        let row: Option<(String, i64)> = sqlx::query_as(CONSENT)
            .bind(account.as_str())
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(row.map(|(scope, at)| Consent {
            account: account.clone(),
            client_id: client_id.to_owned(),
            scope,
            granted_at: Timestamp::from_unix(at),
        }))
    }

    async fn save_consent(&self, c: &Consent) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO consents (account_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, client_id) \
             DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(c.account.as_str())
        .bind(c.client_id.as_str())
        .bind(c.scope.as_str())
        .bind(c.granted_at.unix())
        .run(&self.pool).await?;
        Ok(())
    }

    async fn list_consents(&self, account: &AccountId) -> RepoResult<Vec<Consent>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT client_id, scope, granted_at FROM consents WHERE account_id = $1 \
             ORDER BY granted_at, client_id",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|(client_id, scope, at)| Consent {
                account: account.clone(),
                client_id,
                scope,
                granted_at: Timestamp::from_unix(at),
            })
            .collect())
    }

    async fn delete_consent(&self, account: &AccountId, client_id: &str) -> RepoResult<bool> {
        let deleted = sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account.as_str())
            .bind(client_id)
            .run(&self.pool)
            .await?;
        Ok(deleted > 0)
    }

    async fn live_grants_for_account(&self, account: &AccountId) -> RepoResult<Vec<Grant>> {
        self.live_grants(
            concat!(
                "SELECT ",
                grant_columns!(),
                " FROM grants WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id"
            ),
            account.as_str(),
        )
        .await
    }

    async fn grants_for_client(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Vec<Grant>> {
        Ok(sqlx::query_as::<_, GrantRow>(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(account.as_str())
        .bind(client_id)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(GrantRow::into_grant)
        .collect())
    }
}

//! `SessionRepo` on SQL. `find_by_token_hash` is the hot path of every signed-in request:
//! one indexed lookup joined with the account.

use async_trait::async_trait;
use latchkey_core::accounts::{Account, AccountId};
use latchkey_core::clock::Timestamp;
use latchkey_core::policies::AuthMethod;
use latchkey_core::ports::{RepoResult, SessionRepo};
use latchkey_core::secret::TokenHash;
use latchkey_core::sessions::{ClientInfo, Session, SessionId};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::accounts::AccountRow;
use super::{Run, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    token_hash: String,
    account_id: String,
    user_agent: String,
    ip: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    amr: String,
}

impl SessionRow {
    fn into_session(self) -> Session {
        Session {
            id: SessionId::from_stored(self.id),
            token_hash: TokenHash::from_stored(self.token_hash),
            account: AccountId::from_stored(self.account_id),
            client: ClientInfo { user_agent: self.user_agent, ip: self.ip },
            created_at: Timestamp::from_unix(self.created_at),
            last_seen_at: Timestamp::from_unix(self.last_seen_at),
            expires_at: Timestamp::from_unix(self.expires_at),
            amr: AuthMethod::split(&self.amr),
        }
    }
}

/// A session joined with its account, aliased so both row types decode from one row.
macro_rules! session_join {
    () => {
        "SELECT s.id AS s_id, s.token_hash AS s_token_hash, s.user_agent AS s_user_agent, \
         s.ip AS s_ip, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, \
         s.expires_at AS s_expires_at, s.amr AS s_amr, a.id, a.email, a.name, \
         a.password_hash, a.email_verified_at, a.status, a.site_admin, a.created_at, \
         a.updated_at, a.password_changed_at, a.policy_id, a.bot, a.bot_org_id \
         FROM sessions s JOIN accounts a ON a.id = s.account_id"
    };
}

/// The session check of every signed-in request and of every SSO hop.
pub(crate) const SESSION_BY_TOKEN: &str = concat!(session_join!(), " WHERE s.token_hash = $1");

/// An account's sessions (the sessions page, "sign out everywhere").
pub(crate) const SESSIONS_OF_ACCOUNT: &str = "SELECT id, token_hash, account_id, user_agent, ip, created_at, last_seen_at, \
     expires_at, amr FROM sessions WHERE account_id = $1 ORDER BY last_seen_at DESC, id";

fn session_and_account(row: &AnyRow) -> RepoResult<(Session, Account)> {
    let session = SessionRow {
        id: row.try_get("s_id").map_err(unexpected)?,
        token_hash: row.try_get("s_token_hash").map_err(unexpected)?,
        account_id: row.try_get("id").map_err(unexpected)?,
        user_agent: row.try_get("s_user_agent").map_err(unexpected)?,
        ip: row.try_get("s_ip").map_err(unexpected)?,
        created_at: row.try_get("s_created_at").map_err(unexpected)?,
        last_seen_at: row.try_get("s_last_seen_at").map_err(unexpected)?,
        expires_at: row.try_get("s_expires_at").map_err(unexpected)?,
        amr: row.try_get("s_amr").map_err(unexpected)?,
    };
    let account: AccountRow = sqlx::FromRow::from_row(row).map_err(unexpected)?;
    Ok((session.into_session(), account.into_account()?))
}

#[async_trait]
impl SessionRepo for SqlStore {
    async fn insert(&self, s: &Session) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, account_id, user_agent, ip, created_at, \
             last_seen_at, expires_at, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.id.as_str())
        .bind(s.token_hash.as_str())
        .bind(s.account.as_str())
        .bind(s.client.user_agent.as_str())
        .bind(s.client.ip.as_str())
        .bind(s.created_at.unix())
        .bind(s.last_seen_at.unix())
        .bind(s.expires_at.unix())
        .bind(AuthMethod::join(&s.amr))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_by_token_hash(&self, hash: &TokenHash) -> RepoResult<Option<(Session, Account)>> {
        let row = sqlx::query(SESSION_BY_TOKEN)
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        row.as_ref().map(session_and_account).transpose()
    }

    async fn find_by_id(&self, id: &SessionId) -> RepoResult<Option<(Session, Account)>> {
        let row = sqlx::query(concat!(session_join!(), " WHERE s.id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        row.as_ref().map(session_and_account).transpose()
    }

    async fn touch(&self, id: &SessionId, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(at.unix())
            .bind(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_for_account(&self, account: &AccountId) -> RepoResult<Vec<Session>> {
        let rows = sqlx::query_as::<_, SessionRow>(SESSIONS_OF_ACCOUNT)
            .bind(account.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(rows.into_iter().map(SessionRow::into_session).collect())
    }

    async fn delete(&self, account: &AccountId, id: &SessionId) -> RepoResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND account_id = $2")
            .bind(id.as_str())
            .bind(account.as_str())
            .run(&self.pool)
            .await?;
        Ok(done > 0)
    }

    async fn delete_all_for_account(
        &self,
        account: &AccountId,
        keep: Option<&SessionId>,
    ) -> RepoResult<Vec<SessionId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE account_id = $1 AND id <> $2 RETURNING id",
        )
        .bind(account.as_str())
        .bind(keep.map_or("", SessionId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(ids.into_iter().map(SessionId::from_stored).collect())
    }

    async fn delete_expired(&self, now: Timestamp, idle_before: Timestamp) -> RepoResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(now.unix())
            .bind(idle_before.unix())
            .run(&self.pool)
            .await?;
        Ok(done)
    }
}

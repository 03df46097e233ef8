//! `AccountRepo` on SQL.

use async_trait::async_trait;
use latchkey_core::accounts::{
    Account, AccountId, AccountStatus, DisplayName, Email, ListKey, ListPosition, NewAccount,
};
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{AccountActivity, AccountRepo, InsertAccountError, RepoResult};

use super::{Bind, Run, corrupt, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    email_verified_at: Option<i64>,
    status: String,
    site_admin: i64,
    created_at: i64,
    updated_at: i64,
    password_changed_at: Option<i64>,
    policy_id: Option<String>,
    bot: i64,
    bot_org_id: Option<String>,
}

/// A row of the console's search: the account and the text it matched, if it was searched for.
#[derive(sqlx::FromRow)]
struct SearchRow {
    #[sqlx(flatten)]
    account: AccountRow,
    sort_text: Option<String>,
}

impl SearchRow {
    fn into_found(self) -> RepoResult<(Account, ListPosition)> {
        let id = self.account.id.clone();
        let key = match self.sort_text {
            Some(text) => ListKey::Matched(text),
            None => ListKey::Created(self.account.created_at),
        };
        Ok((self.account.into_account()?, ListPosition { key, id }))
    }
}

/// The column list every account query selects, as a literal so statements stay `&'static str`.
macro_rules! account_columns {
    () => {
        "id, email, name, password_hash, email_verified_at, status, site_admin, created_at, \
         updated_at, password_changed_at, policy_id, bot, bot_org_id"
    };
}
pub(crate) use account_columns;

/// Login, sign-up, reset: the account behind an address.
pub(crate) const ACCOUNT_BY_EMAIL: &str =
    concat!("SELECT ", account_columns!(), " FROM accounts WHERE email_normalized = $1");

impl AccountRow {
    pub(crate) fn into_account(self) -> RepoResult<Account> {
        Ok(Account {
            email: Email::parse(&self.email).map_err(|_| corrupt("account email"))?,
            name: DisplayName::parse(&self.name).map_err(|_| corrupt("account name"))?,
            status: AccountStatus::parse(&self.status).ok_or_else(|| corrupt("account status"))?,
            id: AccountId::from_stored(self.id),
            password_hash: self.password_hash.map(latchkey_core::secret::Secret::new),
            email_verified_at: self.email_verified_at.map(Timestamp::from_unix),
            site_admin: self.site_admin != 0,
            created_at: Timestamp::from_unix(self.created_at),
            updated_at: Timestamp::from_unix(self.updated_at),
            password_changed_at: self.password_changed_at.map(Timestamp::from_unix),
            policy_id: self.policy_id,
            bot: self.bot != 0,
            bot_org_id: self.bot_org_id,
        })
    }
}

#[async_trait]
impl AccountRepo for SqlStore {
    async fn insert(&self, a: &NewAccount) -> Result<(), InsertAccountError> {
        let result = sqlx::query(
            "INSERT INTO accounts (id, email, email_normalized, name, password_hash, \
             email_verified_at, status, site_admin, created_at, updated_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8, $9)",
        )
        .bind(a.id.as_str())
        .bind(a.email.as_str())
        .bind(a.email.normalized())
        .bind(a.name.as_str())
        .bind(a.password_hash.as_ref().map(|h| h.expose().as_str()))
        .bind(a.email_verified_at.map(Timestamp::unix))
        .bind(i64::from(a.site_admin))
        .bind(a.created_at.unix())
        .bind(a.password_hash.as_ref().map(|_| a.created_at.unix()))
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

    async fn find_by_id(&self, id: &AccountId) -> RepoResult<Option<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1");
        sqlx::query_as::<_, AccountRow>(sql)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?
            .map(AccountRow::into_account)
            .transpose()
    }

    async fn find_by_email(&self, email: &Email) -> RepoResult<Option<Account>> {
        sqlx::query_as::<_, AccountRow>(ACCOUNT_BY_EMAIL)
            .bind(email.normalized())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?
            .map(AccountRow::into_account)
            .transpose()
    }

    async fn list(&self, limit: u32, offset: u32) -> RepoResult<Vec<Account>> {
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts ORDER BY created_at, id LIMIT $1 OFFSET $2"
        );
        sqlx::query_as::<_, AccountRow>(sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(AccountRow::into_account)
            .collect()
    }

    async fn search(
        &self,
        search: &latchkey_core::accounts::AccountSearch,
    ) -> RepoResult<Vec<(Account, ListPosition)>> {
        use latchkey_core::accounts::PageAt;
        let (sql, binds) = search_statement(self.engine, search);
        let mut rows: Vec<(Account, ListPosition)> =
            super::bind_all(sqlx::query_as::<_, SearchRow>(sqlx::AssertSqlSafe(sql)), binds)
                .fetch_all(&self.pool)
                .await
                .map_err(unexpected)?
                .into_iter()
                .map(SearchRow::into_found)
                .collect::<RepoResult<_>>()?;
        if matches!(search.page, PageAt::Before(_)) {
            rows.reverse();
        }
        Ok(rows)
    }

    async fn list_by_email_domain(
        &self,
        domain: &str,
        limit: u32,
        offset: u32,
    ) -> RepoResult<Vec<Account>> {
        // Domains are hostname labels only (no `%` or `_`), so the pattern matches literally.
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE email_normalized LIKE $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
        );
        sqlx::query_as::<_, AccountRow>(sql)
            .bind(format!("%@{}", domain.to_ascii_lowercase()))
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(AccountRow::into_account)
            .collect()
    }

    async fn activity(&self, ids: &[AccountId]) -> RepoResult<Vec<AccountActivity>> {
        let mut out = Vec::with_capacity(ids.len());
        // Nothing extra is written on the hot paths for this: sign-ins are in the audit log and
        // every product sign-in is a grant. One round trip per chunk of accounts (the
        // placeholders are generated, never the values).
        for chunk in ids.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT a.id, \
                 (SELECT MAX(e.at) FROM audit_events e WHERE e.target_id = a.id \
                  AND e.event IN ('login', 'email.verified') AND e.outcome = 'success'), \
                 c.name, MAX(g.created_at) \
                 FROM accounts a \
                 LEFT JOIN grants g ON g.account_id = a.id \
                 LEFT JOIN clients c ON c.id = g.client_id \
                 WHERE a.id IN ({}) GROUP BY a.id, c.name ORDER BY a.id, c.name",
                marks.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, Option<i64>, Option<String>, Option<i64>)>(
                sqlx::AssertSqlSafe(sql),
            );
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(&self.pool).await.map_err(unexpected)?;
            for (id, signed_in, product, used) in rows {
                if out.last().is_none_or(|a: &AccountActivity| a.account.as_str() != id) {
                    out.push(AccountActivity {
                        account: AccountId::from_stored(id),
                        last_active_at: signed_in.map(Timestamp::from_unix),
                        products: Vec::new(),
                    });
                }
                let Some(entry) = out.last_mut() else { continue };
                if let Some(used) = used {
                    let used = Timestamp::from_unix(used);
                    entry.last_active_at = Some(entry.last_active_at.map_or(used, |t| t.max(used)));
                }
                entry.products.extend(product);
            }
        }
        Ok(out)
    }

    async fn count_site_admins(&self) -> RepoResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE site_admin = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(super::to_u64(n))
    }

    async fn mark_email_verified(&self, id: &AccountId, at: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "UPDATE accounts SET email_verified_at = $1, updated_at = $1 \
             WHERE id = $2 AND email_verified_at IS NULL",
        )
        .bind(at.unix())
        .bind(id.as_str())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_password_hash(&self, id: &AccountId, hash: &str, at: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, updated_at = $2, password_changed_at = $2 \
             WHERE id = $3",
        )
        .bind(hash)
        .bind(at.unix())
        .bind(id.as_str())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn rehash_password(&self, id: &AccountId, old: &str, new: &str) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(id.as_str())
            .bind(old)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_name(&self, id: &AccountId, name: &DisplayName, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.as_str())
            .bind(at.unix())
            .bind(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_email(&self, id: &AccountId, email: &Email, at: Timestamp) -> RepoResult<bool> {
        let result = sqlx::query(
            "UPDATE accounts SET email = $1, email_normalized = $2, \
             email_verified_at = COALESCE(email_verified_at, $3), updated_at = $3 WHERE id = $4",
        )
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(at.unix())
        .bind(id.as_str())
        .execute(&self.pool)
        .await;
        match result {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn clear_password(&self, id: &AccountId, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET password_hash = NULL, updated_at = $1 WHERE id = $2")
            .bind(at.unix())
            .bind(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_status(
        &self,
        id: &AccountId,
        status: AccountStatus,
        at: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(at.unix())
            .bind(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_site_admin(&self, id: &AccountId, on: bool, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET site_admin = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(on))
            .bind(at.unix())
            .bind(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_site_admin_keeping_one(
        &self,
        id: &AccountId,
        at: Timestamp,
    ) -> RepoResult<bool> {
        self.keeping_a_site_admin(id, "site_admin = 0", None, at).await
    }

    async fn set_status_keeping_a_site_admin(
        &self,
        id: &AccountId,
        status: AccountStatus,
        at: Timestamp,
    ) -> RepoResult<bool> {
        self.keeping_a_site_admin(id, "status = $3", Some(status.as_str()), at).await
    }

    async fn close(
        &self,
        id: &AccountId,
        now: Timestamp,
        erase_after: Timestamp,
    ) -> RepoResult<()> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(
            "UPDATE accounts SET status = 'closed', closed_at = $1, erase_after = $2, \
             updated_at = $1 WHERE id = $3",
        )
        .bind(now.unix())
        .bind(erase_after.unix())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query("DELETE FROM closure_requests WHERE account_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)
    }

    async fn reopen(&self, id: &AccountId, now: Timestamp) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE accounts SET status = 'active', closed_at = NULL, erase_after = NULL, \
             updated_at = $1 WHERE id = $2 AND erased_at IS NULL",
        )
        .bind(now.unix())
        .bind(id.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn due_for_erasure(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<AccountId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE status = 'closed' AND erased_at IS NULL \
             AND erase_after <= $1 ORDER BY erase_after LIMIT $2",
        )
        .bind(now.unix())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(ids.into_iter().map(AccountId::from_stored).collect())
    }

    async fn erase(&self, id: &AccountId, now: Timestamp) -> RepoResult<()> {
        // The tombstone keeps the id (products' `sub`), nothing that identifies a person.
        let placeholder = format!("erased-{}@erased.invalid", id.as_str());
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(
            "UPDATE accounts SET email = $1, email_normalized = $1, name = 'Closed account', \
             password_hash = NULL, erased_at = $2, updated_at = $2 \
             WHERE id = $3 AND status = 'closed'",
        )
        .bind(placeholder.as_str())
        .bind(now.unix())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        for table in [
            "sessions",
            "one_time_tokens",
            "totp_credentials",
            "recovery_codes",
            "webauthn_credentials",
            "pending_logins",
            "consents",
            "admin_tokens",
            "closure_requests",
            "email_changes",
        ] {
            let sql = format!("DELETE FROM {table} WHERE account_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(unexpected)?;
        }
        tx.commit().await.map_err(unexpected)
    }

    async fn request_closure(
        &self,
        id: &AccountId,
        reason: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "INSERT INTO closure_requests (account_id, requested_at, reason) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(now.unix())
        .bind(reason)
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn closure_requests(&self) -> RepoResult<Vec<(AccountId, Timestamp, String)>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT account_id, requested_at, reason FROM closure_requests \
             ORDER BY requested_at, account_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|(id, at, reason)| (AccountId::from_stored(id), Timestamp::from_unix(at), reason))
            .collect())
    }
}

impl SqlStore {
    /// Applies `set` (a fixed fragment; `$3` is `status` when given) to a site admin only if
    /// another active site admin remains, atomically. PostgreSQL: the active site admins are
    /// locked first, so a concurrent change of another one waits and then sees this one (the
    /// UPDATE's sub-select reads a fresh snapshot). SQLite runs one writer at a time: the
    /// single UPDATE is atomic on its own.
    async fn keeping_a_site_admin(
        &self,
        id: &AccountId,
        set: &'static str,
        status: Option<&str>,
        at: Timestamp,
    ) -> RepoResult<bool> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        if matches!(self.engine, crate::Engine::Postgres) {
            sqlx::query(
                "SELECT id FROM accounts WHERE site_admin = 1 AND status = 'active' ORDER BY id FOR UPDATE",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(unexpected)?;
        }
        let sql = format!(
            "UPDATE accounts SET {set}, updated_at = $1 WHERE id = $2 AND EXISTS \
             (SELECT 1 FROM accounts other WHERE other.site_admin = 1 AND other.status = 'active' \
             AND other.id <> $2)"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at.unix()).bind(id.as_str());
        if let Some(status) = status {
            query = query.bind(status.to_owned());
        }
        let done = query.execute(&mut *tx).await.map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)?;
        Ok(done.rows_affected() == 1)
    }
}

/// The console's account search as one statement and its values (the repository runs it;
/// the query-plan check explains it). The statement's last column, `sort_text`, is the text an
/// account matched (NULL without a search text).
pub(crate) fn search_statement(
    engine: crate::Engine,
    search: &latchkey_core::accounts::AccountSearch,
) -> (String, Vec<Bind>) {
    let mut binds: Vec<Bind> = Vec::new();
    let filters = search_filters(engine, search, &mut binds);
    let sql = if search.prefix.is_empty() {
        made_order_page(search, filters, &mut binds)
    } else {
        matched_order_page(engine, search, &filters, &mut binds)
    };
    // One more than asked, to know whether there is a next page.
    binds.push(Bind::Int(i64::from(search.limit) + 1));
    (sql, binds)
}

/// The status, two-step and organization conditions, which every order shares.
fn search_filters(
    engine: crate::Engine,
    search: &latchkey_core::accounts::AccountSearch,
    binds: &mut Vec<Bind>,
) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(status) = search.status {
        conditions.push(format!("status = ${}", binds.len() + 1));
        binds.push(Bind::Text(status.as_str().to_owned()));
    }
    if let Some(on) = search.two_step {
        let enrolled = "(EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = accounts.id \
             AND t.confirmed_at IS NOT NULL) OR EXISTS (SELECT 1 FROM webauthn_credentials w \
             WHERE w.account_id = accounts.id))";
        conditions.push(if on { enrolled.to_owned() } else { format!("NOT {enrolled}") });
    }
    if let Some(org) = &search.org {
        let domain = match engine {
            crate::Engine::Postgres => "split_part(accounts.email_normalized, '@', 2)",
            crate::Engine::Sqlite => {
                "substr(accounts.email_normalized, instr(accounts.email_normalized, '@') + 1)"
            }
        };
        let n = binds.len() + 1;
        conditions.push(format!(
            "(accounts.bot_org_id = ${n} OR EXISTS (SELECT 1 FROM org_domains d \
             WHERE d.org_id = ${n} AND d.status = 'verified' AND d.domain = {domain}))"
        ));
        binds.push(Bind::Text(org.clone()));
    }
    conditions
}

/// Everyone (or everyone the filters leave), in the order accounts were made: one range on the
/// `(created_at, id)` index, or on `(status, created_at, id)`.
fn made_order_page(
    search: &latchkey_core::accounts::AccountSearch,
    mut conditions: Vec<String>,
    binds: &mut Vec<Bind>,
) -> String {
    use latchkey_core::accounts::{ListKey, PageAt};
    let mut order = "ORDER BY created_at, id";
    match &search.page {
        PageAt::After(p) | PageAt::Before(p) => {
            if let ListKey::Created(at) = p.key {
                let (a, b) = (binds.len() + 1, binds.len() + 2);
                let before = matches!(search.page, PageAt::Before(_));
                let op = if before { "<" } else { ">" };
                // A row-value comparison: one range on the index, on both engines.
                conditions.push(format!("(created_at, id) {op} (${a}, ${b})"));
                binds.push(Bind::Int(at));
                binds.push(Bind::Text(p.id.clone()));
                if before {
                    order = "ORDER BY created_at DESC, id DESC";
                }
            }
        }
        PageAt::First => {}
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    format!(
        "SELECT {}, CAST(NULL AS TEXT) AS sort_text FROM accounts {filter} {order} LIMIT ${}",
        account_columns!(),
        binds.len() + 1
    )
}

/// Accounts whose address or lower-cased name starts with the text, in the order of the text
/// that matched: the address range and the name range each walked in its own index's order and
/// stopped at the page's length, then merged. A page reads about as many rows as it shows, even
/// when thousands of accounts match.
fn matched_order_page(
    engine: crate::Engine,
    search: &latchkey_core::accounts::AccountSearch,
    filters: &[String],
    binds: &mut Vec<Bind>,
) -> String {
    use latchkey_core::accounts::{ListKey, PageAt};
    // Prefix ranges on an index: byte order (SQLite's BINARY collation; PostgreSQL's
    // "C" collation, which the indexes of migration 0017 use), so `p <= x < p + U+10FFFF`
    // is exactly "starts with p", and the sort key compares the same way.
    let c = match engine {
        crate::Engine::Postgres => " COLLATE \"C\"",
        crate::Engine::Sqlite => "",
    };
    let (lo, hi) = (binds.len() + 1, binds.len() + 2);
    binds.push(Bind::Text(search.prefix.clone()));
    binds.push(Bind::Text(format!("{}\u{10FFFF}", search.prefix)));
    let (before, position) = match &search.page {
        PageAt::After(ListPosition { key: ListKey::Matched(text), id }) => {
            (false, Some((text, id)))
        }
        PageAt::Before(ListPosition { key: ListKey::Matched(text), id }) => {
            (true, Some((text, id)))
        }
        _ => (false, None),
    };
    let (dir, op, bound) = if before { (" DESC", "<", "<=") } else { ("", ">", ">=") };
    let cursor = position.map(|(text, id)| {
        let (k, i) = (binds.len() + 1, binds.len() + 2);
        binds.push(Bind::Text(text.clone()));
        binds.push(Bind::Text(id.clone()));
        (k, i)
    });
    let limit = binds.len() + 1;
    let arm = |key: &str, also: &str| {
        let mut conditions = vec![format!("{key}{c} >= ${lo} AND {key}{c} < ${hi}")];
        if !also.is_empty() {
            conditions.push(also.to_owned());
        }
        conditions.extend(filters.iter().cloned());
        if let Some((k, i)) = cursor {
            // The plain bound keeps the range on the index; the row value is exact.
            conditions.push(format!("{key}{c} {bound} ${k} AND ({key}{c}, id) {op} (${k}, ${i})"));
        }
        format!(
            "SELECT {}, {key} AS sort_text FROM accounts WHERE {} \
             ORDER BY {key}{c}{dir}, id{dir} LIMIT ${limit}",
            account_columns!(),
            conditions.join(" AND ")
        )
    };
    // An account whose address and name both match is listed once, by its address.
    let not_by_address =
        format!("NOT (email_normalized{c} >= ${lo} AND email_normalized{c} < ${hi})");
    format!(
        "SELECT * FROM (SELECT * FROM ({}) AS by_address \
         UNION ALL SELECT * FROM ({}) AS by_name) AS found ORDER BY sort_text{c}{dir}, id{dir} LIMIT ${limit}",
        arm("email_normalized", ""),
        arm("lower(name)", &not_by_address),
    )
}

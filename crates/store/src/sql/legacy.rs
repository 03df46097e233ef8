//! `LegacyRepo` on SQL. An import batch is one read of the batch's fingerprints and one
//! transaction of multi-row upserts, so a million records take a thousand round trips.

use std::collections::HashMap;

use async_trait::async_trait;
use latchkey_core::accounts::{AccountId, Email};
use latchkey_core::clock::Timestamp;
use latchkey_core::legacy::model::{
    ImportSummary, LegacyRecord, LegacyStats, LineError, NewLinkChange, Rollout, Service,
    StoredRecord,
};
use latchkey_core::ports::{LegacyRepo, RepoResult};
use latchkey_core::secret::TokenHash;

use super::{Run, corrupt, to_u64, unexpected};
use crate::SqlStore;

/// Rows per multi-row statement, by engine: what measured fastest through sqlx (with SQLite's
/// anonymous placeholders, larger statements pay off; PostgreSQL was twelve times slower with
/// 50 rows per statement than with 20 on a million records).
fn rows_per_statement(engine: crate::Engine) -> usize {
    match engine {
        crate::Engine::Sqlite => 50,
        crate::Engine::Postgres => 20,
    }
}

/// Columns bound per record.
const UPSERT_COLUMNS: usize = 14;

/// The multi-row upsert for `rows` records. SQLite gets anonymous `?` placeholders: sqlx
/// looks each numbered one up by name, and SQLite's lookup is linear, which made the cost of a
/// statement grow with the square of its parameters.
fn upsert_sql(engine: crate::Engine, rows: usize) -> String {
    let mut values = Vec::with_capacity(rows);
    for i in 0..rows {
        let marks: Vec<String> = (1..=UPSERT_COLUMNS)
            .map(|k| match engine {
                crate::Engine::Sqlite => "?".to_owned(),
                crate::Engine::Postgres => format!("${}", i * UPSERT_COLUMNS + k),
            })
            .collect();
        values.push(format!("({})", marks.join(", ")));
    }
    format!(
        "INSERT INTO legacy_records (client_id, legacy_id, username, email, email_normalized, \
         name, password_hash, hash_format, active, created_at, last_login_at, fingerprint, \
         imported_at, updated_at) VALUES {} \
         ON CONFLICT (client_id, legacy_id) DO UPDATE SET username = excluded.username, \
         email = excluded.email, email_normalized = excluded.email_normalized, \
         name = excluded.name, password_hash = excluded.password_hash, \
         hash_format = excluded.hash_format, active = excluded.active, \
         created_at = excluded.created_at, last_login_at = excluded.last_login_at, \
         fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
        values.join(", ")
    )
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    client_id: String,
    legacy_id: String,
    username: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    hash_format: Option<String>,
    active: i64,
    created_at: Option<i64>,
    last_login_at: Option<i64>,
    fingerprint: String,
    account_id: Option<String>,
    rollout: Option<String>,
}

impl RecordRow {
    fn into_stored(self) -> RepoResult<StoredRecord> {
        Ok(StoredRecord {
            record: LegacyRecord {
                client_id: self.client_id,
                legacy_id: self.legacy_id,
                username: self.username,
                email: Email::parse(&self.email).map_err(|_| corrupt("legacy record email"))?,
                name: self.name,
                password_hash: self.password_hash,
                hash_format: self.hash_format,
                active: self.active != 0,
                created_at: self.created_at.map(Timestamp::from_unix),
                last_login_at: self.last_login_at.map(Timestamp::from_unix),
                fingerprint: self.fingerprint,
            },
            account: self.account_id.map(AccountId::from_stored),
            rollout: self.rollout.as_deref().and_then(Rollout::parse),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: String,
    client_id: String,
    source: String,
    dry_run: i64,
    imported: i64,
    updated: i64,
    unchanged: i64,
    skipped: i64,
    errors: i64,
    first_errors: String,
    milliseconds: i64,
    finished_at: i64,
}

impl ImportRow {
    fn into_summary(self) -> RepoResult<ImportSummary> {
        let first_errors: Vec<LineError> =
            serde_json::from_str(&self.first_errors).map_err(|_| corrupt("import errors"))?;
        Ok(ImportSummary {
            id: self.id,
            client_id: self.client_id,
            source: self.source,
            dry_run: self.dry_run != 0,
            imported: to_u64(self.imported),
            updated: to_u64(self.updated),
            unchanged: to_u64(self.unchanged),
            skipped: to_u64(self.skipped),
            errors: to_u64(self.errors),
            first_errors,
            milliseconds: to_u64(self.milliseconds),
            finished_at: self.finished_at,
        })
    }
}

const IMPORT_COLUMNS: &str = "id, client_id, source, dry_run, imported, updated, unchanged, \
    skipped, errors, first_errors, milliseconds, finished_at";

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl LegacyRepo for SqlStore {
    async fn rollout(&self, client_id: &str) -> RepoResult<Option<Option<Rollout>>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT rollout FROM clients WHERE id = $1")
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(row.map(|(r,)| r.as_deref().and_then(Rollout::parse)))
    }

    async fn set_rollout(&self, client_id: &str, rollout: Rollout) -> RepoResult<bool> {
        let n = sqlx::query("UPDATE clients SET rollout = $1 WHERE id = $2")
            .bind(rollout.as_str())
            .bind(client_id)
            .run(&self.pool)
            .await?;
        Ok(n == 1)
    }

    async fn start_rollout(&self, client_id: &str) -> RepoResult<()> {
        sqlx::query("UPDATE clients SET rollout = 'legacy' WHERE id = $1 AND rollout IS NULL")
            .bind(client_id)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn fingerprints(
        &self,
        client_id: &str,
        ids: &[&str],
    ) -> RepoResult<HashMap<String, String>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let rows: Vec<(String, String)> = match self.engine {
                // One JSON array parameter, planned with each batch's values: a plan cached
                // while the table was small (a sequential scan) made an import of a million
                // records quadratic, and a list of a thousand parameters is slow to plan.
                crate::Engine::Postgres => {
                    let list = serde_json::to_string(chunk).map_err(|_| corrupt("legacy ids"))?;
                    sqlx::query_as(
                        "SELECT legacy_id, fingerprint FROM legacy_records WHERE client_id = $1 \
                         AND legacy_id IN (SELECT json_array_elements_text($2::json))",
                    )
                    .persistent(false)
                    .bind(client_id)
                    .bind(list)
                    .fetch_all(&self.pool)
                    .await
                }
                // Anonymous placeholders (see `upsert_sql`).
                crate::Engine::Sqlite => {
                    let sql = format!(
                        "SELECT legacy_id, fingerprint FROM legacy_records WHERE client_id = ? \
                         AND legacy_id IN ({})",
                        vec!["?"; chunk.len()].join(", ")
                    );
                    let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                        .bind(client_id);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.fetch_all(&self.pool).await
                }
            }
            .map_err(unexpected)?;
            out.extend(rows);
        }
        Ok(out)
    }

    async fn upsert(&self, records: &[&LegacyRecord], now: Timestamp) -> RepoResult<()> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        for chunk in records.chunks(rows_per_statement(self.engine)) {
            let sql = upsert_sql(self.engine, chunk.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.client_id.as_str())
                    .bind(r.legacy_id.as_str())
                    .bind(r.username.as_str())
                    .bind(r.email.as_str())
                    .bind(r.email.normalized())
                    .bind(r.name.as_str())
                    .bind(r.password_hash.as_deref())
                    .bind(r.hash_format.as_deref())
                    .bind(i64::from(r.active))
                    .bind(r.created_at.map(Timestamp::unix))
                    .bind(r.last_login_at.map(Timestamp::unix))
                    .bind(r.fingerprint.as_str())
                    .bind(now.unix())
                    .bind(now.unix());
            }
            query.execute(&mut *tx).await.map_err(unexpected)?;
        }
        tx.commit().await.map_err(unexpected)
    }

    async fn for_email(&self, email: &Email) -> RepoResult<Vec<StoredRecord>> {
        let rows = sqlx::query_as::<_, RecordRow>(
            "SELECT r.client_id, r.legacy_id, r.username, r.email, r.name, r.password_hash, \
             r.hash_format, r.active, r.created_at, r.last_login_at, r.fingerprint, \
             r.account_id, c.rollout \
             FROM legacy_records r JOIN clients c ON c.id = r.client_id \
             WHERE r.email_normalized = $1 ORDER BY r.imported_at, r.client_id, r.legacy_id",
        )
        .bind(email.normalized())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        rows.into_iter().map(RecordRow::into_stored).collect()
    }

    async fn for_username(&self, client_id: &str, username: &str) -> RepoResult<Vec<StoredRecord>> {
        let rows = sqlx::query_as::<_, RecordRow>(
            "SELECT r.client_id, r.legacy_id, r.username, r.email, r.name, r.password_hash, \
             r.hash_format, r.active, r.created_at, r.last_login_at, r.fingerprint, \
             r.account_id, c.rollout \
             FROM legacy_records r JOIN clients c ON c.id = r.client_id \
             WHERE r.client_id = $1 AND r.username = $2 ORDER BY r.imported_at, r.legacy_id \
             LIMIT 10",
        )
        .bind(client_id)
        .bind(username)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        rows.into_iter().map(RecordRow::into_stored).collect()
    }

    async fn link(
        &self,
        client_id: &str,
        legacy_id: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool> {
        // The partial unique index refuses a second linked record for the same product.
        let result = sqlx::query(
            "UPDATE legacy_records SET account_id = $1, linked_at = $2 \
             WHERE client_id = $3 AND legacy_id = $4 AND account_id IS NULL",
        )
        .bind(account.as_str())
        .bind(now.unix())
        .bind(client_id)
        .bind(legacy_id)
        .execute(&self.pool)
        .await;
        match result {
            Ok(r) => Ok(r.rows_affected() == 1),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn linked_id(&self, account: &AccountId, client_id: &str) -> RepoResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT legacy_id FROM legacy_records WHERE client_id = $1 AND account_id = $2",
        )
        .bind(client_id)
        .bind(account.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(id,)| id))
    }

    async fn purge_hashes(
        &self,
        client_id: &str,
        unused_since: Option<Timestamp>,
        dry_run: bool,
    ) -> RepoResult<u64> {
        let which = match unused_since {
            Some(_) => {
                "client_id = $1 AND password_hash IS NOT NULL AND (account_id IS NOT NULL \
                 OR COALESCE(last_login_at, created_at, imported_at) < $2)"
            }
            None => "client_id = $1 AND password_hash IS NOT NULL AND account_id IS NOT NULL",
        };
        let sql = if dry_run {
            format!("SELECT COUNT(*) FROM legacy_records WHERE {which}")
        } else {
            format!(
                "UPDATE legacy_records SET password_hash = NULL, hash_format = NULL WHERE {which}"
            )
        };
        let cutoff = unused_since.map(Timestamp::unix);
        if dry_run {
            let mut query = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql)).bind(client_id);
            if let Some(c) = cutoff {
                query = query.bind(c);
            }
            let (n,) = query.fetch_one(&self.pool).await.map_err(unexpected)?;
            return Ok(to_u64(n));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(client_id);
        if let Some(c) = cutoff {
            query = query.bind(c);
        }
        query.run(&self.pool).await
    }

    async fn rollouts(&self) -> RepoResult<Vec<(String, Option<Rollout>)>> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT name, rollout FROM clients WHERE first_party = 1 ORDER BY name, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows.into_iter().map(|(n, r)| (n, r.as_deref().and_then(Rollout::parse))).collect())
    }

    async fn linked_for(&self, account: &AccountId) -> RepoResult<Vec<(String, String, String)>> {
        sqlx::query_as(
            "SELECT r.client_id, c.name, r.legacy_id FROM legacy_records r \
             JOIN clients c ON c.id = r.client_id WHERE r.account_id = $1 ORDER BY r.linked_at, c.name",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)
    }

    async fn stats(&self, client_id: &str) -> RepoResult<LegacyStats> {
        let (records, upgraded, unverified, unusable, purged, last): (
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<i64>,
        ) = sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN r.account_id IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.account_id IS NOT NULL AND a.email_verified_at IS NULL \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.hash_format IS NULL AND r.password_hash IS NOT NULL \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.password_hash IS NULL THEN 1 ELSE 0 END), 0), \
             MAX(r.updated_at) \
             FROM legacy_records r LEFT JOIN accounts a ON a.id = r.account_id \
             WHERE r.client_id = $1",
        )
        .bind(client_id)
        .fetch_one(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(LegacyStats {
            records: to_u64(records),
            upgraded: to_u64(upgraded),
            waiting: to_u64(records - upgraded),
            unverified: to_u64(unverified),
            unusable_hash: to_u64(unusable),
            purged: to_u64(purged),
            last_import_at: last,
        })
    }

    async fn services(&self, account: &AccountId, email: &Email) -> RepoResult<Vec<Service>> {
        let rows: Vec<(String, String, Option<String>, Option<String>, Option<String>)> =
            sqlx::query_as(
                "SELECT c.id, c.name, c.rollout, r.legacy_id, r.username FROM clients c \
                 LEFT JOIN legacy_records r ON r.client_id = c.id AND r.account_id = $1 \
                 WHERE r.legacy_id IS NOT NULL \
                 OR c.id IN (SELECT client_id FROM grants WHERE account_id = $1) \
                 OR c.id IN (SELECT client_id FROM legacy_records \
                             WHERE email_normalized = $2 AND active = 1) \
                 ORDER BY c.name, c.id",
            )
            .bind(account.as_str())
            .bind(email.normalized())
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|(client_id, name, rollout, legacy_id, username)| Service {
                client_id,
                name,
                rollout: rollout.as_deref().and_then(Rollout::parse),
                linked: legacy_id.zip(username),
            })
            .collect())
    }

    async fn insert_link_change(&self, change: &NewLinkChange) -> RepoResult<()> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(
            "UPDATE legacy_link_changes SET used_at = $1 \
             WHERE account_id = $2 AND client_id = $3 AND used_at IS NULL",
        )
        .bind(change.created_at.unix())
        .bind(change.account.as_str())
        .bind(change.client_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query(
            "INSERT INTO legacy_link_changes (token_hash, account_id, client_id, email, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(change.token_hash.as_str())
        .bind(change.account.as_str())
        .bind(change.client_id.as_str())
        .bind(change.email.as_str())
        .bind(change.created_at.unix())
        .bind(change.expires_at.unix())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)
    }

    async fn peek_link_change(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String, String)>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT account_id, client_id, email FROM legacy_link_changes \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token.as_str())
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(a, c, e)| (AccountId::from_stored(a), c, e)))
    }

    async fn purge_link_changes(&self, now: Timestamp) -> RepoResult<u64> {
        sqlx::query("DELETE FROM legacy_link_changes WHERE expires_at < $1")
            .bind(now.unix())
            .run(&self.pool)
            .await
    }

    async fn claim_link_change(
        &self,
        token: &TokenHash,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE legacy_link_changes SET used_at = $1 WHERE token_hash = $2 \
             AND account_id = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.unix())
        .bind(token.as_str())
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn relink(
        &self,
        client_id: &str,
        legacy_id: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        let previous: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT account_id FROM legacy_records WHERE client_id = $1 AND legacy_id = $2",
        )
        .bind(client_id)
        .bind(legacy_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unexpected)?;
        let Some((previous,)) = previous else {
            return Err(corrupt("the legacy record to link is missing"));
        };
        sqlx::query(
            "UPDATE legacy_records SET account_id = NULL, linked_at = NULL \
             WHERE client_id = $1 AND account_id = $2 AND legacy_id <> $3",
        )
        .bind(client_id)
        .bind(account.as_str())
        .bind(legacy_id)
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query(
            "UPDATE legacy_records SET account_id = $1, linked_at = $2 \
             WHERE client_id = $3 AND legacy_id = $4",
        )
        .bind(account.as_str())
        .bind(now.unix())
        .bind(client_id)
        .bind(legacy_id)
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)?;
        Ok(previous.map(AccountId::from_stored))
    }

    async fn record_import(&self, summary: &ImportSummary) -> RepoResult<()> {
        let errors =
            serde_json::to_string(&summary.first_errors).map_err(|_| corrupt("import errors"))?;
        let sql = format!(
            "INSERT INTO legacy_imports ({IMPORT_COLUMNS}, seq) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             COALESCE(MAX(seq), 0) + 1 FROM legacy_imports"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(summary.id.as_str())
            .bind(summary.client_id.as_str())
            .bind(summary.source.as_str())
            .bind(i64::from(summary.dry_run))
            .bind(to_i64(summary.imported))
            .bind(to_i64(summary.updated))
            .bind(to_i64(summary.unchanged))
            .bind(to_i64(summary.skipped))
            .bind(to_i64(summary.errors))
            .bind(errors)
            .bind(to_i64(summary.milliseconds))
            .bind(summary.finished_at)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn import_summary(&self, client_id: &str, id: &str) -> RepoResult<Option<ImportSummary>> {
        let sql =
            format!("SELECT {IMPORT_COLUMNS} FROM legacy_imports WHERE client_id = $1 AND id = $2");
        let row = sqlx::query_as::<_, ImportRow>(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        row.map(ImportRow::into_summary).transpose()
    }

    async fn last_import(&self, client_id: &str) -> RepoResult<Option<ImportSummary>> {
        let sql = format!(
            "SELECT {IMPORT_COLUMNS} FROM legacy_imports WHERE client_id = $1 \
             ORDER BY seq DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query_as::<_, ImportRow>(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        row.map(ImportRow::into_summary).transpose()
    }
}

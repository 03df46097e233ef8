//! `OutboxRepo` on SQL. Leasing is one UPDATE over a sub-select of due rows: on PostgreSQL the
//! sub-select locks its rows and skips rows another node holds (`FOR UPDATE SKIP LOCKED`);
//! SQLite has a single writer. Either way an item is delivered by one node at a time.

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{DeliveryRecord, NewOutboxItem, OutboxItem, OutboxRepo, RepoResult};

use super::{Run, to_u64, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    kind: String,
    recipient: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

/// Every node's delivery round: lease the next due items of a queue.
pub(crate) fn lease_statement(engine: crate::Engine) -> &'static str {
    match engine {
        crate::Engine::Postgres => concat!(
            "UPDATE outbox SET leased_until = $1, updated_at = $2 ",
            "WHERE id IN (SELECT id FROM outbox WHERE kind = $3 AND status = 'pending' ",
            "AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) ",
            "ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) ",
            "RETURNING id, kind, recipient, payload, attempts, created_at"
        ),
        crate::Engine::Sqlite => concat!(
            "UPDATE outbox SET leased_until = $1, updated_at = $2 ",
            "WHERE id IN (SELECT id FROM outbox WHERE kind = $3 AND status = 'pending' ",
            "AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) ",
            "ORDER BY next_attempt_at, id LIMIT $4) ",
            "RETURNING id, kind, recipient, payload, attempts, created_at"
        ),
    }
}

#[async_trait]
impl OutboxRepo for SqlStore {
    async fn enqueue(&self, item: &NewOutboxItem) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO outbox (id, kind, recipient, summary, payload, status, attempts, \
             next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
        )
        .bind(item.id.as_str())
        .bind(item.kind)
        .bind(item.recipient.as_str())
        .bind(item.summary.as_str())
        .bind(item.payload.as_str())
        .bind(item.created_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn lease_due(
        &self,
        kind: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> RepoResult<Vec<OutboxItem>> {
        // PostgreSQL: rows another node is leasing right now are skipped rather than waited
        // for (and then lost to the re-check), so concurrent leasers share the work.
        // SQLite has one writer; the statement is atomic as it is.
        let sql = lease_statement(self.engine);
        let rows = sqlx::query_as::<_, ItemRow>(sql)
            .bind(lease_until.unix())
            .bind(now.unix())
            .bind(kind)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxItem {
                id: r.id,
                kind: r.kind,
                recipient: r.recipient,
                payload: r.payload,
                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                created_at: Timestamp::from_unix(r.created_at),
            })
            .collect())
    }

    async fn mark_delivered(&self, id: &str, now: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'delivered', payload = '', attempts = attempts + 1, \
             leased_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now.unix())
        .bind(id)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry_later(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Timestamp,
        now: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, \
             leased_until = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(next_attempt_at.unix())
        .bind(truncate(error))
        .bind(now.unix())
        .bind(id)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn give_up(&self, id: &str, error: &str, now: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'dead', payload = '', attempts = attempts + 1, \
             last_error = $1, leased_until = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(truncate(error))
        .bind(now.unix())
        .bind(id)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry_now(&self, kind: &str, now: Timestamp) -> RepoResult<u64> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $2, updated_at = $2 WHERE kind = $1 \
             AND status = 'pending' AND next_attempt_at > $2 \
             AND (leased_until IS NULL OR leased_until <= $2)",
        )
        .bind(kind)
        .bind(now.unix())
        .run(&self.pool)
        .await
    }

    async fn purge_delivered(&self, before: Timestamp) -> RepoResult<u64> {
        let done = sqlx::query("DELETE FROM outbox WHERE status = 'delivered' AND updated_at < $1")
            .bind(before.unix())
            .run(&self.pool)
            .await?;
        Ok(done)
    }

    async fn find(&self, ids: &[String]) -> RepoResult<Vec<DeliveryRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, recipient, summary, status, attempts, last_error, created_at, updated_at \
             FROM outbox WHERE id IN ({})",
            placeholders.join(", ")
        );
        // Only numbered placeholders are formatted in; every value is bound.
        let mut query = sqlx::query_as::<_, RecordRow>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(unexpected)?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.iter().find(|r| &r.id == id))
            .map(RecordRow::record)
            .collect())
    }

    async fn list_recent(&self, kind: &str, limit: u32) -> RepoResult<Vec<DeliveryRecord>> {
        let rows = sqlx::query_as::<_, RecordRow>(
            "SELECT id, recipient, summary, status, attempts, last_error, created_at, updated_at \
             FROM outbox WHERE kind = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(kind)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows.iter().map(RecordRow::record).collect())
    }

    async fn count_by_status(&self, kind: &str) -> RepoResult<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox WHERE kind = $1 GROUP BY status")
                .bind(kind)
                .fetch_all(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(rows.into_iter().map(|(s, n)| (s, to_u64(n))).collect())
    }
}

/// Errors from remote servers can be long; the first 1000 characters say enough.
fn truncate(error: &str) -> String {
    error.chars().take(1000).collect()
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    recipient: String,
    summary: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl RecordRow {
    fn record(&self) -> DeliveryRecord {
        DeliveryRecord {
            recipient: self.recipient.clone(),
            summary: self.summary.clone(),
            status: self.status.clone(),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_error: self.last_error.clone(),
            created_at: Timestamp::from_unix(self.created_at),
            updated_at: Timestamp::from_unix(self.updated_at),
        }
    }
}

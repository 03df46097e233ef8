//! `AuditRepo` on SQL: inserts only (append-only), and keyset-paged queries by id.

use async_trait::async_trait;
use latchkey_core::audit::{AuditEvent, AuditFilter};
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{AuditRepo, RepoResult};

use super::{Run, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    at: i64,
    event: String,
    outcome: String,
    actor_id: Option<String>,
    actor: String,
    target_id: Option<String>,
    target: String,
    org_id: Option<String>,
    ip: String,
    user_agent: String,
    details: String,
}

impl EventRow {
    fn into_event(self) -> AuditEvent {
        AuditEvent {
            id: self.seq.to_string(),
            at: self.at,
            event: self.event,
            outcome: self.outcome,
            actor_id: self.actor_id,
            actor: self.actor,
            target_id: self.target_id,
            target: self.target,
            org_id: self.org_id,
            ip: self.ip,
            user_agent: self.user_agent,
            details: serde_json::from_str(&self.details).unwrap_or_default(),
        }
    }
}

#[async_trait]
impl AuditRepo for SqlStore {
    /// The event's `id` is ignored: the database numbers events as it writes them.
    async fn append(&self, e: &AuditEvent) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, event, outcome, actor_id, actor, target_id, target, \
             org_id, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.at)
        .bind(e.event.as_str())
        .bind(e.outcome.as_str())
        .bind(e.actor_id.as_deref())
        .bind(e.actor.as_str())
        .bind(e.target_id.as_deref())
        .bind(e.target.as_str())
        .bind(e.org_id.as_deref())
        .bind(e.ip.as_str())
        .bind(e.user_agent.as_str())
        .bind(e.details.to_string())
        .run(&self.pool).await?;
        Ok(())
    }

    async fn query(&self, f: &AuditFilter, limit: u32) -> RepoResult<Vec<AuditEvent>> {
        // Every condition is always present; an absent filter binds NULL and matches all, so
        // the statement is one of two fixed strings (by its order).
        const ASC: &str = "SELECT seq, at, event, outcome, actor_id, actor, target_id, target, \
             org_id, ip, user_agent, details FROM audit_events \
             WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR target_id = $2) \
             AND ($3 IS NULL OR event = $3) AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq > $6) \
             AND ($7 IS NULL OR seq < $7) ORDER BY seq LIMIT $8";
        const DESC: &str = "SELECT seq, at, event, outcome, actor_id, actor, target_id, target, \
             org_id, ip, user_agent, details FROM audit_events \
             WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR target_id = $2) \
             AND ($3 IS NULL OR event = $3) AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq > $6) \
             AND ($7 IS NULL OR seq < $7) ORDER BY seq DESC LIMIT $8";
        sqlx::query_as::<_, EventRow>(if f.newest_first { DESC } else { ASC })
            .bind(f.org_id.as_deref())
            .bind(f.target_id.as_deref())
            .bind(f.event.as_deref())
            .bind(f.from.map(Timestamp::unix))
            .bind(f.until.map(Timestamp::unix))
            .bind(f.after.as_deref().and_then(|a| a.parse::<i64>().ok()))
            .bind(f.before.as_deref().and_then(|a| a.parse::<i64>().ok()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)
            .map(|rows| rows.into_iter().map(EventRow::into_event).collect())
    }

    async fn purge_before(&self, before: Timestamp) -> RepoResult<u64> {
        let n = sqlx::query("DELETE FROM audit_events WHERE at < $1")
            .bind(before.unix())
            .run(&self.pool)
            .await?;
        Ok(n)
    }
}

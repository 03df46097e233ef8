//! `AuditRepo` on SQL: inserts only (append-only), and keyset-paged queries by id.

use async_trait::async_trait;
use latchkey_core::audit::{AuditEvent, AuditFilter};
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{AuditRepo, RepoResult};

use super::{Bind, Run, bind_all, unexpected};
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

/// The audit page (and exports) as one statement and its values: only the conditions asked
/// for, so each engine picks the index that serves them (`(org_id, seq)`, `(target_id, seq)`,
/// `(event, seq)`, or the sequence itself) and stops at the limit.
pub(crate) fn audit_statement(f: &AuditFilter, limit: u32) -> (String, Vec<Bind>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut add = |condition: &str, bind: Bind| {
        binds.push(bind);
        conditions.push(condition.replace('?', &format!("${}", binds.len())));
    };
    if let Some(org) = &f.org_id {
        add("org_id = ?", Bind::Text(org.clone()));
    }
    if let Some(target) = &f.target_id {
        add("target_id = ?", Bind::Text(target.clone()));
    }
    if let Some(event) = &f.event {
        add("event = ?", Bind::Text(event.clone()));
    }
    if let Some(from) = f.from {
        add("at >= ?", Bind::Int(from.unix()));
    }
    if let Some(until) = f.until {
        add("at < ?", Bind::Int(until.unix()));
    }
    if let Some(after) = f.after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
        add("seq > ?", Bind::Int(after));
    }
    if let Some(before) = f.before.as_deref().and_then(|b| b.parse::<i64>().ok()) {
        add("seq < ?", Bind::Int(before));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    binds.push(Bind::Int(i64::from(limit)));
    let sql = format!(
        "SELECT seq, at, event, outcome, actor_id, actor, target_id, target, org_id, ip, \
         user_agent, details FROM audit_events{filter} ORDER BY seq{} LIMIT ${}",
        if f.newest_first { " DESC" } else { "" },
        binds.len()
    );
    (sql, binds)
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
        let (sql, binds) = audit_statement(f, limit);
        bind_all(sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql)), binds)
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

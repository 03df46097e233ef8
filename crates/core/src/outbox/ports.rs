//! Durable delivery: the outbox's storage port.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::errors::RepoResult;

/// Something to deliver later, durably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxItem {
    pub id: String,
    /// What delivers it (`mail`; `backchannel_logout` later).
    pub kind: &'static str,
    /// Who it goes to, kept after delivery for the delivery view.
    pub recipient: String,
    /// A line for operators (a mail's subject), kept after delivery.
    pub summary: String,
    /// What the deliverer needs; erased once delivered or abandoned.
    pub payload: String,
    pub created_at: Timestamp,
}

/// What operators see of a delivery: never its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub recipient: String,
    pub summary: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    async fn enqueue(&self, item: &NewOutboxItem) -> RepoResult<()>;
    /// Leases up to `limit` due items of `kind` until `lease_until`; no other caller gets
    /// them until the lease ends, so two nodes never deliver the same item.
    async fn lease_due(
        &self,
        kind: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> RepoResult<Vec<OutboxItem>>;
    /// Delivered: the payload is erased.
    async fn mark_delivered(&self, id: &str, now: Timestamp) -> RepoResult<()>;
    /// Failed this time; try again at `next_attempt_at`.
    async fn retry_later(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Timestamp,
        now: Timestamp,
    ) -> RepoResult<()>;
    /// Failed for good (dead letter): the payload is erased, the error kept.
    async fn give_up(&self, id: &str, error: &str, now: Timestamp) -> RepoResult<()>;
    /// Removes delivered items older than `before` (dead letters stay for operators).
    async fn purge_delivered(&self, before: Timestamp) -> RepoResult<u64>;
    /// The most recent items of `kind`, newest first, for the delivery view.
    async fn list_recent(&self, kind: &str, limit: u32) -> RepoResult<Vec<DeliveryRecord>>;
    /// These items (any kind), in the order asked, skipping unknown ids.
    async fn find(&self, ids: &[String]) -> RepoResult<Vec<DeliveryRecord>>;
    /// Items of `kind` by status, for metrics and the delivery view.
    async fn count_by_status(&self, kind: &str) -> RepoResult<Vec<(String, u64)>>;
    /// Makes the kind's waiting (pending, not leased) items due at `now`; how many.
    async fn retry_now(&self, kind: &str, now: Timestamp) -> RepoResult<u64>;
}

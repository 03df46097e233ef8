//! The audit log's storage port.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::errors::RepoResult;

#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn append(&self, event: &crate::audit::AuditEvent) -> RepoResult<()>;
    /// Events matching the filter, oldest first, at most `limit`.
    async fn query(
        &self,
        filter: &crate::audit::AuditFilter,
        limit: u32,
    ) -> RepoResult<Vec<crate::audit::AuditEvent>>;
    async fn purge_before(&self, before: Timestamp) -> RepoResult<u64>;
}

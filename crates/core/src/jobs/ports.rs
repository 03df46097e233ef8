//! Where the leases of periodic jobs are kept: one row per job, naming the node that runs it
//! and until when.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::errors::RepoResult;

#[async_trait]
pub trait JobLeaseRepo: Send + Sync {
    /// Takes (or, for its holder, extends) the lease of `job` until `until`, in one atomic
    /// statement: it succeeds when nobody holds it, when `holder` already does, or when the
    /// holder's lease ended by `now`. Returns whether `holder` holds it now.
    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> RepoResult<bool>;

    /// Gives the lease up, if `holder` still has it (a node shutting down), so another node
    /// takes the job over at its next round instead of after the lease ran out.
    async fn hand_over_lease(&self, job: &str, holder: &str) -> RepoResult<()>;
}

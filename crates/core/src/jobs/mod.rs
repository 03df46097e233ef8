//! Periodic work that must run on one node at a time: with several nodes on one PostgreSQL
//! database, each round of a job goes to the node holding the job's lease. The holder renews
//! it every round; when that node stops (or dies, and its lease runs out), the next node to
//! try takes the job over. The lease only ever adds exclusion to work that is already
//! idempotent: a round that ran twice (a node paused past its lease) repeats harmless work.

pub mod ports;

use std::sync::Arc;

use crate::errors::RepoError;
use crate::jobs::ports::JobLeaseRepo;
use crate::kernel::Kernel;

/// The jobs that take a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Clean-ups, domain re-checks, certificate notices, API-token use summaries.
    Housekeeping,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Housekeeping => "housekeeping",
        }
    }
}

#[derive(Clone)]
pub struct Jobs {
    repo: Arc<dyn JobLeaseRepo>,
    kernel: Kernel,
    /// This node, for the leases' `holder` column: random per process.
    node: Arc<str>,
}

impl Jobs {
    pub fn new(repo: Arc<dyn JobLeaseRepo>, kernel: Kernel) -> Self {
        let node = format!("node-{}", &kernel.new_opaque_token().hash().as_str()[..16]).into();
        Self { repo, kernel, node }
    }

    /// This node's name in the lease table.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether this node runs `job`'s round now: takes or renews its lease for `lease_secs`.
    /// A lease should outlast two rounds, so its holder keeps it while alive.
    pub async fn lead(&self, job: Job, lease_secs: i64) -> Result<bool, RepoError> {
        let now = self.kernel.now();
        self.repo.take_lease(job.as_str(), &self.node, now, now.plus_secs(lease_secs)).await
    }

    /// Hands `job` over (graceful shutdown).
    pub async fn step_down(&self, job: Job) -> Result<(), RepoError> {
        self.repo.hand_over_lease(job.as_str(), &self.node).await
    }
}

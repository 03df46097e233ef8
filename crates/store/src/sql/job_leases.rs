//! `JobLeaseRepo` on SQL: one upsert takes, renews or refuses a lease atomically on both
//! engines (the row's conflict is resolved under its lock, so two nodes racing for a free or
//! expired lease cannot both get it).

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{JobLeaseRepo, RepoResult};

use super::Run;
use crate::SqlStore;

#[async_trait]
impl JobLeaseRepo for SqlStore {
    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> RepoResult<bool> {
        let taken = sqlx::query(
            "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= $4",
        )
        .bind(job)
        .bind(holder)
        .bind(until.unix())
        .bind(now.unix())
        .run(&self.pool)
        .await?;
        Ok(taken == 1)
    }

    async fn hand_over_lease(&self, job: &str, holder: &str) -> RepoResult<()> {
        sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
            .bind(job)
            .bind(holder)
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

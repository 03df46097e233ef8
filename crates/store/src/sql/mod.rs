//! Repository implementations, one module per aggregate. Statements use `$n` placeholders,
//! which both engines accept, and only types both engines share (TEXT, BIGINT).

mod accounts;
mod admin_tokens;
mod api_tokens;
mod audit;
mod branding;
mod clients;
mod email_changes;
mod job_leases;
mod keys;
mod legacy;
mod oidc;
mod orgs;
mod outbox;
mod policies;
mod saml;
mod second_factor;
mod sessions;
mod throttle;
mod tokens;

use latchkey_core::ports::RepoError;

pub(crate) fn unexpected(e: sqlx::Error) -> RepoError {
    RepoError(Box::new(e))
}

/// Every write statement ends the same way: run on the pool, storage errors become
/// `RepoError`, and the answer is how many rows it touched.
pub(crate) trait Run {
    async fn run(self, pool: &sqlx::AnyPool) -> Result<u64, RepoError>;
}

impl Run for sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    async fn run(self, pool: &sqlx::AnyPool) -> Result<u64, RepoError> {
        Ok(self.execute(pool).await.map_err(unexpected)?.rows_affected())
    }
}

pub(crate) fn corrupt(what: &str) -> RepoError {
    RepoError(format!("stored data is not valid: {what}").into())
}

/// Counts of affected rows come back as u64; both engines report non-negative values.
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

//! Repository implementations, one module per aggregate. Statements use `$n` placeholders,
//! which both engines accept, and only types both engines share (TEXT, BIGINT).

pub(crate) mod accounts;
mod admin_tokens;
pub(crate) mod api_tokens;
pub(crate) mod audit;
mod branding;
mod clients;
mod email_changes;
mod job_leases;
mod keys;
mod legacy;
pub(crate) mod oidc;
mod orgs;
pub(crate) mod outbox;
mod policies;
mod saml;
mod second_factor;
pub(crate) mod sessions;
pub(crate) mod throttle;
mod tokens;

use latchkey_core::ports::RepoError;

/// A bound value of a statement built at run time.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Binds `binds` in order to a statement built at run time.
pub(crate) fn bind_all<O>(
    mut query: sqlx::query::QueryAs<'_, sqlx::Any, O, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::QueryAs<'_, sqlx::Any, O, sqlx::any::AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Text(t) => query.bind(t),
            Bind::Int(i) => query.bind(i),
        };
    }
    query
}

pub(crate) fn unexpected(e: sqlx::Error) -> RepoError {
    if unreachable(&e) { RepoError::unavailable(e) } else { RepoError(Box::new(e)) }
}

/// Errors that mean the database could not be reached, rather than that a statement failed:
/// the pool found no connection in time or was closed, the connection broke or was cut off
/// mid-handshake (what a proxy such as `HAProxy` in front of a Patroni cluster does while no
/// primary is up), PostgreSQL reported a connection exception (class 08) or is shutting down
/// or starting (class 57P), or SQLite stayed busy past its timeout.
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "5" || code == "517"
        }),
        _ => false,
    }
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

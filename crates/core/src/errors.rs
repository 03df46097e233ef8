//! The bottom layer's errors, which every feature may use: a storage failure the domain cannot
//! act on ([`RepoError`]) and the failure no person can fix ([`Unexpected`]), which every use
//! case's error carries. Features define their own typed errors on top of these.

/// A storage failure the domain cannot act on (connection lost, constraint we did not
/// expect). Carried as `Unexpected` by every use-case error; never shown to clients.
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct RepoError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

pub type RepoResult<T> = Result<T, RepoError>;

/// A failure no person can fix: storage down, a bug. Logged in full, shown as a generic error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unexpected(#[source] pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl From<RepoError> for Unexpected {
    fn from(e: RepoError) -> Self {
        Self(Box::new(e))
    }
}

//! The bottom layer's errors, which every feature may use: a storage failure the domain cannot
//! act on ([`RepoError`]) and the failure no person can fix ([`Unexpected`]), which every use
//! case's error carries. Features define their own typed errors on top of these.

/// A storage failure the domain cannot act on (connection lost, constraint we did not
/// expect). Carried as `Unexpected` by every use-case error; never shown to clients.
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct RepoError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

pub type RepoResult<T> = Result<T, RepoError>;

impl RepoError {
    /// The storage could not be reached: see [`StorageUnavailable`].
    pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(StorageUnavailable(Box::new(e))))
    }
}

/// The storage could not be reached — connection refused or lost, no connection free in time,
/// the database shutting down or starting up. A passing condition (a failover, a restart), not
/// a bug: answered with `503` and `Retry-After` so clients retry, while the pool reconnects.
#[derive(Debug, thiserror::Error)]
#[error("storage unavailable: {0}")]
pub struct StorageUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Whether `e`, or anything in its chain of causes, is [`StorageUnavailable`].
pub fn is_unavailable(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.is::<StorageUnavailable>() {
            return true;
        }
        next = err.source();
    }
    false
}

/// A failure no person can fix: storage down, a bug. Logged in full, shown as a generic error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unexpected(#[source] pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl From<RepoError> for Unexpected {
    fn from(e: RepoError) -> Self {
        Self(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailability_is_found_through_the_chain_of_causes() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let wrapped = Unexpected::from(RepoError::unavailable(refused));
        assert!(is_unavailable(&wrapped));
        let bug = Unexpected::from(RepoError("a constraint we did not expect".into()));
        assert!(!is_unavailable(&bug));
    }
}

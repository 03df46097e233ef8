//! Time as the domain sees it: whole UTC seconds, always obtained from the [`crate::clock::Clock`] port.

use std::fmt;

/// Where the domain reads the time (the system clock in the binary, a fake one in tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// RFC 3339 in UTC ("2026-12-01T16:07:50Z"), for JSON documents.
    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.unix())
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| self.unix().to_string())
    }

    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    #[must_use]
    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Seconds from `self` until `later` (zero when `later` is not later).
    pub const fn secs_until(self, later: Timestamp) -> i64 {
        let d = later.0.saturating_sub(self.0);
        if d < 0 { 0 } else { d }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

//! A clock tests move by hand (expiry, throttling windows).

use std::sync::atomic::{AtomicI64, Ordering};

use latchkey_core::clock::Timestamp;
use latchkey_core::ports::Clock;

/// Starts at the real time (so peers that check token times against the wall clock, such as
/// OIDC client libraries, agree) and then moves only when told to.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl Default for FakeClock {
    #[allow(clippy::disallowed_methods)] // the one wall-clock read: the starting point
    fn default() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Self(AtomicI64::new(now))
    }
}

impl FakeClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0.load(Ordering::SeqCst))
    }
}

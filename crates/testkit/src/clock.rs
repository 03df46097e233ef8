//! A clock tests move by hand (expiry, throttling windows).

use std::sync::atomic::{AtomicI64, Ordering};

use latchkey_core::clock::Timestamp;
use latchkey_core::ports::Clock;

/// Starts at 2026-11-18T11:06:40Z and moves only when told to.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl Default for FakeClock {
    fn default() -> Self {
        Self(AtomicI64::new(1_795_000_000))
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

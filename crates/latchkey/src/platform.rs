//! The real clock and randomness: the only place the process reads the wall clock or the
//! operating system's CSPRNG for the domain.

use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{Clock, Rng};

pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned wall-clock read
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Timestamp::from_unix(secs)
    }
}

pub struct OsRng;

impl Rng for OsRng {
    fn fill(&self, buf: &mut [u8]) {
        // The OS CSPRNG does not fail on supported platforms; if it ever does, continuing
        // with predictable bytes would be worse than stopping.
        #[allow(clippy::panic)]
        if let Err(e) = getrandom::fill(buf) {
            panic!("operating system randomness unavailable: {e}");
        }
    }
}

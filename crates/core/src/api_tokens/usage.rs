//! Uses of API tokens, counted in memory and written at most once a minute per token: a
//! verification on a product's request path never waits for a write. What is counted but not
//! yet written is lost if the process dies (at most a minute of one token's count and its
//! last-use time); the daily summary is an activity record, not a meter.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::Timestamp;

/// A token's uses and last use are written at most this often (seconds).
pub(crate) const WRITE_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone)]
struct Pending {
    uses: u64,
    last_at: Timestamp,
    last_ip: String,
    written_at: Timestamp,
}

/// What to write for one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseBatch {
    pub token_id: String,
    pub uses: u64,
    pub last_at: Timestamp,
    pub last_ip: String,
}

#[derive(Debug, Default)]
pub(crate) struct UseCounter {
    pending: Mutex<HashMap<String, Pending>>,
}

impl UseCounter {
    /// Counts one use; a batch comes back when the token's uses are due to be written (the
    /// first use this process sees, then at most once a minute).
    pub(crate) fn record(&self, token_id: &str, ip: &str, now: Timestamp) -> Option<UseBatch> {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = pending.entry(token_id.to_owned()).or_insert_with(|| Pending {
            uses: 0,
            last_at: now,
            last_ip: String::new(),
            written_at: Timestamp::from_unix(0),
        });
        entry.uses += 1;
        entry.last_at = now;
        if entry.last_ip != ip {
            ip.clone_into(&mut entry.last_ip);
        }
        if entry.written_at.secs_until(now) < WRITE_EVERY_SECS {
            return None;
        }
        entry.written_at = now;
        let batch = UseBatch {
            token_id: token_id.to_owned(),
            uses: entry.uses,
            last_at: entry.last_at,
            last_ip: entry.last_ip.clone(),
        };
        entry.uses = 0;
        Some(batch)
    }

    /// Everything counted and not yet written (the housekeeping job).
    pub(crate) fn drain(&self, now: Timestamp) -> Vec<UseBatch> {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = pending
            .iter()
            .filter(|(_, p)| p.uses > 0)
            .map(|(id, p)| UseBatch {
                token_id: id.clone(),
                uses: p.uses,
                last_at: p.last_at,
                last_ip: p.last_ip.clone(),
            })
            .collect();
        pending.retain(|_, p| p.written_at.secs_until(now) < WRITE_EVERY_SECS);
        for p in pending.values_mut() {
            p.uses = 0;
        }
        out
    }

    /// Puts uses back that could not be written.
    pub(crate) fn restore(&self, batch: &UseBatch) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = pending.get_mut(&batch.token_id) {
            p.uses += batch.uses;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_use_is_written_then_at_most_once_a_minute_with_the_count_between() {
        let c = UseCounter::default();
        let t = |s: i64| Timestamp::from_unix(1_000_000 + s);
        let first = c.record("a", "10.0.0.1", t(0)).unwrap();
        assert_eq!((first.uses, first.last_ip.as_str()), (1, "10.0.0.1"));
        for s in 1..60 {
            assert!(c.record("a", "10.0.0.2", t(s)).is_none());
        }
        let next = c.record("a", "10.0.0.3", t(60)).unwrap();
        assert_eq!((next.uses, next.last_ip.as_str(), next.last_at), (60, "10.0.0.3", t(60)));
        assert!(c.record("a", "10.0.0.3", t(61)).is_none());
        let drained = c.drain(t(62));
        assert_eq!(drained.len(), 1);
        assert_eq!(drained[0].uses, 1);
        assert!(c.drain(t(63)).is_empty());
    }
}

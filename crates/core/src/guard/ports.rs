//! The guard's port: fixed-window counters shared by every node.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::errors::RepoResult;

/// The state of one fixed-window counter after an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub count: u32,
    pub window_start: Timestamp,
}

/// Fixed-window counters shared by every node (they live in the database).
#[async_trait]
pub trait ThrottleRepo: Send + Sync {
    /// Adds one to `key`'s counter, starting a fresh window if the last one has ended.
    async fn hit(&self, key: &str, window_secs: i64, now: Timestamp) -> RepoResult<WindowCount>;
    /// [`hit`](Self::hit) on several distinct keys in one atomic statement; the counts come
    /// back in the order of `keys`.
    async fn hit_all(
        &self,
        keys: &[&str],
        window_secs: i64,
        now: Timestamp,
    ) -> RepoResult<Vec<WindowCount>>;
    /// A counted attempt that was right, in one statement: `clear`'s counter starts over and
    /// `release` gets its hit back (never below zero).
    async fn settle(&self, clear: &str, release: &str) -> RepoResult<()>;
    /// Takes one back from `key`'s counter (a counted attempt that turned out right); never
    /// below zero. There is deliberately no way to read a counter without adding to it:
    /// throttling counts first, then evaluates.
    async fn release(&self, key: &str) -> RepoResult<()>;
    async fn clear(&self, key: &str) -> RepoResult<()>;
    async fn delete_stale(&self, older_than: Timestamp) -> RepoResult<u64>;
}

//! The tokens this node has looked up lately, each kept for at most [`KEEP_SECS`]: a product
//! verifying the same bot's token on every request reads the database once every few seconds,
//! not every time. Only tokens that exist are kept (garbage presented by an attacker always
//! goes to the database, and to the failure counters), and the map is bounded.
//!
//! What this node changes (revocation, an account deactivated or closed) it forgets at once;
//! what another node changes reaches this one within [`KEEP_SECS`]. Expiry and policies are
//! judged afresh on every verification, from the clock and the policy snapshot.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::accounts::{Account, AccountId};
use crate::api_tokens::model::ApiToken;
use crate::clock::Timestamp;
use crate::secret::TokenHash;

/// The longest a token's state (revoked, its account's status) may be stale on a node that
/// did not make the change, in seconds.
pub const KEEP_SECS: i64 = 2;
/// Entries kept at most; past it the map starts over (a burst of distinct tokens costs a
/// round of database reads, never memory).
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone)]
struct Entry {
    fetched_at: Timestamp,
    token: ApiToken,
    account: Account,
}

#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: RwLock<HashMap<TokenHash, Entry>>,
}

impl TokenCache {
    pub(crate) fn get(&self, hash: &TokenHash, now: Timestamp) -> Option<(ApiToken, Account)> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(hash)?;
        let fresh = (0..KEEP_SECS).contains(&entry.fetched_at.secs_until(now));
        fresh.then(|| (entry.token.clone(), entry.account.clone()))
    }

    pub(crate) fn put(&self, hash: TokenHash, token: ApiToken, account: Account, now: Timestamp) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, Entry { fetched_at: now, token, account });
    }

    /// Forgets one token (revoked here).
    pub(crate) fn forget_token(&self, id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, e| e.token.id != id);
    }

    /// Forgets an account's tokens (revoked, deactivated or closed here).
    pub(crate) fn forget_account(&self, account: &AccountId) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, e| &e.account.id != account);
    }
}

//! The client registry as the hot path sees it: all clients held in memory, reloaded from the
//! database when older than a few seconds (or at once after a local change), so any number of
//! nodes converge quickly without a query per request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::Client;
use crate::oidc_provider::ports::ClientRepo;

const TTL_SECS: i64 = 5;

/// All clients by id, as loaded at one time.
type Snapshot = (Timestamp, Arc<HashMap<String, Client>>);

#[derive(Default)]
pub struct ClientCache {
    inner: RwLock<Option<Snapshot>>,
}

impl ClientCache {
    async fn snapshot(
        &self,
        repo: &dyn ClientRepo,
        now: Timestamp,
    ) -> Result<Arc<HashMap<String, Client>>, RepoError> {
        let fresh = self.inner.read().ok().and_then(|g| {
            g.as_ref()
                .filter(|(at, _)| at.secs_until(now) < TTL_SECS && *at <= now)
                .map(|(_, m)| m.clone())
        });
        if let Some(m) = fresh {
            return Ok(m);
        }
        let loaded: HashMap<String, Client> =
            repo.list().await?.into_iter().map(|c| (c.id.clone(), c)).collect();
        let loaded = Arc::new(loaded);
        if let Ok(mut g) = self.inner.write() {
            *g = Some((now, loaded.clone()));
        }
        Ok(loaded)
    }

    pub async fn get(
        &self,
        id: &str,
        repo: &dyn ClientRepo,
        now: Timestamp,
    ) -> Result<Option<Client>, RepoError> {
        Ok(self.snapshot(repo, now).await?.get(id).cloned())
    }

    /// Registered and not disabled.
    pub async fn is_live(
        &self,
        id: &str,
        repo: &dyn ClientRepo,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        Ok(self.snapshot(repo, now).await?.get(id).is_some_and(|c| c.disabled_at.is_none()))
    }

    pub fn invalidate(&self) {
        if let Ok(mut g) = self.inner.write() {
            *g = None;
        }
    }
}

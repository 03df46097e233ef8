//! Revoked access tokens as the hot path sees them: the set of unexpired revoked `jti`s,
//! held in memory and reloaded from the database at most once a second. A revocation made on
//! this node counts at once; one made on another node within a second. Introspecting a
//! token therefore costs no query unless it is a user token (whose session is checked).

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::ports::OidcRepo;

const RELOAD_SECS: i64 = 1;

#[derive(Default)]
pub struct RevocationCache {
    inner: RwLock<Option<(Timestamp, Arc<HashSet<String>>)>>,
}

impl RevocationCache {
    pub async fn is_revoked(
        &self,
        jti: &str,
        repo: &dyn OidcRepo,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        let fresh = self.inner.read().ok().and_then(|g| {
            g.as_ref()
                .filter(|(at, _)| *at <= now && at.secs_until(now) < RELOAD_SECS)
                .map(|(_, s)| s.clone())
        });
        let set = if let Some(s) = fresh {
            s
        } else {
            let loaded: Arc<HashSet<String>> =
                Arc::new(repo.revoked_access_tokens(now).await?.into_iter().collect());
            if let Ok(mut g) = self.inner.write() {
                *g = Some((now, loaded.clone()));
            }
            loaded
        };
        Ok(set.contains(jti))
    }

    /// Records a revocation made here, so this node honours it without waiting for a reload.
    pub fn remember(&self, jti: &str) {
        if let Ok(mut g) = self.inner.write()
            && let Some((at, set)) = g.as_ref()
        {
            let mut next = (**set).clone();
            next.insert(jti.to_owned());
            *g = Some((*at, Arc::new(next)));
        }
    }
}

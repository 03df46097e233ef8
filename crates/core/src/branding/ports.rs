//! Where the brand is kept, and each node's copy of it: every page and mail reads the copy
//! (no query per request); it is reloaded when older than a few seconds, so the nodes of a
//! PostgreSQL deployment follow a change within [`TTL_SECS`].

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::branding::model::Brand;
use crate::clock::Timestamp;
use crate::errors::RepoResult;

/// How old a node's copy may get before it is reloaded.
pub const TTL_SECS: i64 = 5;

#[async_trait]
pub trait BrandingRepo: Send + Sync {
    /// The brand an administrator set; `None`: never set, or reset.
    async fn load(&self) -> RepoResult<Option<Brand>>;
    /// Replaces the brand (one row).
    async fn save(&self, brand: &Brand) -> RepoResult<()>;
    /// Back to Latchkey's own look.
    async fn clear(&self) -> RepoResult<()>;
}

/// A node's copy of the brand, shared by every clone of the kernel.
#[derive(Clone)]
pub struct BrandCache {
    repo: Arc<dyn BrandingRepo>,
    copy: Arc<RwLock<Option<(Timestamp, Arc<Brand>)>>>,
}

impl BrandCache {
    pub fn new(repo: Arc<dyn BrandingRepo>) -> Self {
        Self { repo, copy: Arc::new(RwLock::new(None)) }
    }

    /// The brand as of at most [`TTL_SECS`] ago. If the database cannot be read, the last copy
    /// (or the default) serves: a page or a mail is never refused for its look.
    pub async fn get(&self, now: Timestamp) -> Arc<Brand> {
        let fresh = self.copy.read().ok().and_then(|g| {
            g.as_ref()
                .filter(|(at, _)| *at <= now && at.secs_until(now) < TTL_SECS)
                .map(|(_, b)| b.clone())
        });
        if let Some(brand) = fresh {
            return brand;
        }
        match self.repo.load().await {
            Ok(stored) => {
                let brand = Arc::new(stored.unwrap_or_default());
                if let Ok(mut g) = self.copy.write() {
                    *g = Some((now, brand.clone()));
                }
                brand
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not load the branding; using the last copy");
                self.copy
                    .read()
                    .ok()
                    .and_then(|g| g.as_ref().map(|(_, b)| b.clone()))
                    .unwrap_or_default()
            }
        }
    }

    /// This node changed it: the next read reloads.
    pub fn invalidate(&self) {
        if let Ok(mut g) = self.copy.write() {
            *g = None;
        }
    }

    pub(crate) fn repo(&self) -> &dyn BrandingRepo {
        self.repo.as_ref()
    }
}

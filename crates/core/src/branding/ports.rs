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

/// The copy and when it was loaded.
type Loaded = Option<(Timestamp, Arc<Brand>)>;

/// A node's copy of the brand, shared by every clone of the kernel.
#[derive(Clone)]
pub struct BrandCache {
    repo: Arc<dyn BrandingRepo>,
    copy: Arc<RwLock<Loaded>>,
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::branding::model::BrandInput;
    use crate::errors::RepoError;

    /// One database row, shared by two nodes' caches; it can be made to fail.
    #[derive(Default)]
    struct Row {
        brand: Mutex<Option<Brand>>,
        down: Mutex<bool>,
    }

    #[async_trait]
    impl BrandingRepo for Row {
        async fn load(&self) -> RepoResult<Option<Brand>> {
            if *self.down.lock().unwrap() {
                return Err(RepoError("database down".into()));
            }
            Ok(self.brand.lock().unwrap().clone())
        }
        async fn save(&self, brand: &Brand) -> RepoResult<()> {
            *self.brand.lock().unwrap() = Some(brand.clone());
            Ok(())
        }
        async fn clear(&self) -> RepoResult<()> {
            *self.brand.lock().unwrap() = None;
            Ok(())
        }
    }

    fn acme() -> Brand {
        let input = BrandInput { name: "Acme ID".into(), logo_uri: None, colour: None };
        Brand::new(&input, 1).unwrap()
    }

    #[tokio::test]
    async fn another_node_follows_a_change_within_the_ttl_and_survives_an_outage() {
        let row = Arc::new(Row::default());
        let (here, there) = (BrandCache::new(row.clone()), BrandCache::new(row.clone()));
        let t0 = Timestamp::from_unix(1_000);
        assert!(there.get(t0).await.is_default());

        here.repo().save(&acme()).await.unwrap();
        here.invalidate();
        assert_eq!(here.get(t0).await.name(), "Acme ID", "the changing node at once");
        let soon = Timestamp::from_unix(1_000 + TTL_SECS - 1);
        assert!(there.get(soon).await.is_default(), "the other node's copy is still fresh");
        let later = Timestamp::from_unix(1_000 + TTL_SECS);
        assert_eq!(there.get(later).await.name(), "Acme ID", "and follows once it is stale");

        // A clock that went backwards does not keep a copy forever.
        here.repo().clear().await.unwrap();
        assert!(there.get(Timestamp::from_unix(10)).await.is_default());

        // Database down: the last copy serves; pages and mail are never refused for their look.
        here.repo().save(&acme()).await.unwrap();
        assert_eq!(there.get(Timestamp::from_unix(2_000)).await.name(), "Acme ID");
        *row.down.lock().unwrap() = true;
        assert_eq!(there.get(Timestamp::from_unix(3_000)).await.name(), "Acme ID");
        assert!(BrandCache::new(row.clone()).get(Timestamp::from_unix(3_000)).await.is_default());
    }
}

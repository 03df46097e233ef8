//! The installation's look: its name, logo and colour on every page and in every mail. Site
//! admins change it (console, CLI, admin API); every node reads its own copy, kept by the
//! kernel (see [`ports::BrandCache`]).

pub mod model;
pub mod ports;

use std::sync::Arc;

pub use model::{Brand, BrandError, BrandInput, Colour};

use crate::audit::{Actor, Audit, Record};
use crate::authority::SiteAdmin;
use crate::errors::RepoError;
use crate::kernel::Kernel;

#[derive(Debug, thiserror::Error)]
pub enum BrandingError {
    #[error(transparent)]
    Invalid(#[from] BrandError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

#[derive(Clone)]
pub struct Branding {
    audit: Audit,
    kernel: Kernel,
}

impl Branding {
    pub fn new(audit: Audit, kernel: Kernel) -> Self {
        Self { audit, kernel }
    }

    /// The look pages and mail use now (this node's copy, at most a few seconds old).
    pub async fn current(&self) -> Arc<Brand> {
        self.kernel.brand().await
    }

    /// Checks and saves a new look; nothing changes when it is refused.
    pub async fn update_branding(
        &self,
        admin: &SiteAdmin,
        input: &BrandInput,
    ) -> Result<Brand, BrandingError> {
        let brand = Brand::new(input, self.kernel.now().unix())?;
        let cache = self.kernel.brand_cache();
        cache.repo().save(&brand).await?;
        cache.invalidate();
        self.audit
            .record(Record::new("branding.updated", Actor::Site(admin)).details(brand.describe()))
            .await;
        Ok(brand)
    }

    /// Back to Latchkey's own name, logo and colour.
    pub async fn reset_branding(&self, admin: &SiteAdmin) -> Result<(), RepoError> {
        let cache = self.kernel.brand_cache();
        cache.repo().clear().await?;
        cache.invalidate();
        self.audit.record(Record::new("branding.reset", Actor::Site(admin))).await;
        Ok(())
    }
}

//! [`Kernel`]: what every feature's service needs and none owns — the time, randomness, new ids,
//! links under the public URL, and the outbox with its mailer. Each service holds a clone (a few
//! `Arc`s); it carries no feature's logic.

use std::sync::Arc;

use crate::branding::model::Brand;
use crate::branding::ports::{BrandCache, BrandingRepo};
use crate::clock::{Clock, Timestamp};
use crate::mail::{Mailer, OutgoingMail, RenderError};
use crate::outbox::Outbox;
use crate::outbox::ports::OutboxRepo;
use crate::secret::{OpaqueToken, Rng};

#[derive(Clone)]
pub struct Kernel {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Rng>,
    pub(crate) outbox: Outbox,
    pub(crate) mailer: Mailer,
    public_url: Arc<str>,
    brand: BrandCache,
}

impl Kernel {
    /// `public_url` is the base of every link we email (a trailing slash is dropped).
    pub fn new(
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        outbox: Arc<dyn OutboxRepo>,
        branding: Arc<dyn BrandingRepo>,
        public_url: &str,
    ) -> Self {
        let outbox = Outbox::new(outbox, clock.clone());
        let mailer = Mailer::new(outbox.clone(), clock.clone(), rng.clone());
        let public_url = public_url.trim_end_matches('/').into();
        Self { clock, rng, outbox, mailer, public_url, brand: BrandCache::new(branding) }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn rng(&self) -> &dyn Rng {
        self.rng.as_ref()
    }

    /// A fresh 256-bit bearer token (the web layer's CSRF cookies use it too).
    pub fn new_opaque_token(&self) -> OpaqueToken {
        OpaqueToken::generate(self.rng.as_ref())
    }

    /// A new UUIDv7 string from the injected clock and randomness.
    pub(crate) fn new_id(&self, now: Timestamp) -> String {
        crate::id::new_uuid(now, self.rng.as_ref())
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// An absolute URL under the public URL, for emails.
    pub(crate) fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.public_url, path_and_query)
    }

    /// The installation's look as of at most a few seconds ago (see [`BrandCache`]).
    pub(crate) async fn brand(&self) -> Arc<Brand> {
        self.brand.get(self.now()).await
    }

    pub(crate) fn brand_cache(&self) -> &BrandCache {
        &self.brand
    }

    /// Renders mail in the installation's current look and queues it in the durable outbox
    /// (best effort; see [`Mailer`]).
    pub(crate) async fn send_mail(
        &self,
        render: impl FnOnce(&Brand) -> Result<OutgoingMail, RenderError>,
    ) {
        let brand = self.brand().await;
        self.mailer.send(render(&brand)).await;
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }
}

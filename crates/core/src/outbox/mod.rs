//! The one delivery loop behind every outbox kind (mail, back-channel logout): lease what is
//! due, try it, record delivered / retry later / dead. Kinds differ only in how they deliver
//! and how patiently they retry.

use std::future::Future;
use std::sync::Arc;

use crate::clock::Clock;
use crate::errors::RepoError;
use crate::outbox::ports::{DeliveryRecord, NewOutboxItem, OutboxItem, OutboxRepo};

/// The kinds of outbox items, one per deliverer. Features name theirs from here, so the
/// outbox knows every kind without depending on the features above it.
pub(crate) const MAIL_KIND: &str = "mail";
pub(crate) const MAIL_REQUEST_KIND: &str = "mail_request";
pub(crate) const BACKCHANNEL_LOGOUT_KIND: &str = "backchannel_logout";
const KINDS: [&str; 3] = [MAIL_KIND, MAIL_REQUEST_KIND, BACKCHANNEL_LOGOUT_KIND];

/// The queues operators look at: mail (both mail kinds), and back-channel logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    Mail,
    BackchannelLogout,
}

impl DeliveryKind {
    fn kinds(self) -> &'static [&'static str] {
        match self {
            Self::Mail => &[MAIL_KIND, MAIL_REQUEST_KIND],
            Self::BackchannelLogout => &[BACKCHANNEL_LOGOUT_KIND],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::BackchannelLogout => "backchannel_logout",
        }
    }
}

/// How long a node may hold an item it is delivering before another may take it.
const LEASE_SECS: i64 = 120;
const BATCH: u32 = 20;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retrying: u32,
    pub dead: u32,
}

impl DeliveryReport {
    pub fn is_empty(&self) -> bool {
        self.delivered + self.retrying + self.dead == 0
    }
}

/// The durable queue behind mail and back-channel logout, and the one loop that delivers it.
#[derive(Clone)]
pub struct Outbox {
    repo: Arc<dyn OutboxRepo>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(repo: Arc<dyn OutboxRepo>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    /// The queue itself, for the kinds' own queries (statuses, purges, receipts).
    pub(crate) fn repo(&self) -> &dyn OutboxRepo {
        self.repo.as_ref()
    }

    pub(crate) async fn enqueue(&self, item: &NewOutboxItem) -> Result<(), RepoError> {
        self.repo.enqueue(item).await
    }

    /// Delivers what of `kind` is due now. `backoff[n]` is the pause after the (n+1)th failed
    /// attempt; after the last the item is dead (kept without its payload).
    pub(crate) async fn drain<F, Fut>(
        &self,
        kind: &str,
        backoff: &[i64],
        mut deliver: F,
    ) -> Result<DeliveryReport, RepoError>
    where
        F: FnMut(OutboxItem) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let now = self.clock.now();
        let mut due = self.repo.lease_due(kind, now, now.plus_secs(LEASE_SECS), BATCH).await?;
        // Oldest first: a lease's rows come back in no particular order.
        due.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut report = DeliveryReport::default();
        for item in due {
            let (id, attempt) =
                (item.id.clone(), usize::try_from(item.attempts).unwrap_or(usize::MAX));
            let outcome = deliver(item).await;
            let now = self.clock.now();
            match outcome {
                Ok(()) => {
                    self.repo.mark_delivered(&id, now).await?;
                    report.delivered += 1;
                }
                Err(error) => {
                    if let Some(wait) = backoff.get(attempt) {
                        tracing::warn!(%kind, %id, attempt = attempt + 1, %error, "delivery failed; will retry");
                        self.repo.retry_later(&id, &error, now.plus_secs(*wait), now).await?;
                        report.retrying += 1;
                    } else {
                        tracing::error!(%kind, %id, %error, "delivery failed for good");
                        self.repo.give_up(&id, &error, now).await?;
                        report.dead += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// What a site admin sees of one kind's queue (through `Accounts::deliveries`): the newest deliveries (never a payload) and
    /// the counts by status.
    pub(crate) async fn deliveries(
        &self,
        kind: DeliveryKind,
        limit: u32,
    ) -> Result<(Vec<DeliveryRecord>, Vec<(String, u64)>), RepoError> {
        let mut recent = Vec::new();
        let mut counts: Vec<(String, u64)> = Vec::new();
        for k in kind.kinds() {
            recent.extend(self.repo.list_recent(k, limit).await?);
            for (status, n) in self.repo.count_by_status(k).await? {
                match counts.iter_mut().find(|(s, _)| *s == status) {
                    Some((_, total)) => *total += n,
                    None => counts.push((status, n)),
                }
            }
        }
        recent.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        recent.truncate(limit as usize);
        Ok((recent, counts))
    }

    /// Makes every waiting delivery of the kind due now (after an outage is fixed: SMTP back,
    /// a product's endpoint back); the next delivery round takes them. Dead letters stay dead:
    /// their payload (a mail's link, a logout token) was erased when they were given up, so
    /// nothing secret outlives its use. Returns how many were brought forward.
    pub(crate) async fn retry_now(&self, kind: DeliveryKind) -> Result<u64, RepoError> {
        let now = self.clock.now();
        let mut n = 0;
        for k in kind.kinds() {
            n += self.repo.retry_now(k, now).await?;
        }
        tracing::info!(kind = kind.as_str(), brought_forward = n, "waiting deliveries retried now");
        Ok(n)
    }

    /// Outbox items by kind (`mail`, `backchannel_logout`) and status (`pending`,
    /// `delivered`, `dead`), for metrics. Counts are database-wide, the same on every node.
    pub async fn counts(&self) -> Result<Vec<(&'static str, String, u64)>, RepoError> {
        let mut out = Vec::new();
        for kind in KINDS {
            for (status, n) in self.repo.count_by_status(kind).await? {
                out.push((kind, status, n));
            }
        }
        Ok(out)
    }
}
pub mod ports;

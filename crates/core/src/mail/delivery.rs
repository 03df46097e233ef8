//! The mail delivery job: hands due messages from the outbox to the [`MailTransport`]. Failures
//! are retried with backoff for about eleven hours, then kept as dead letters (without their
//! content). Any number of nodes may run it.

use std::sync::Arc;

use crate::clock::Clock;
use crate::errors::RepoError;
use crate::mail::ports::MailTransport;
use crate::mail::{OutgoingMail, RenderError};
use crate::outbox::ports::NewOutboxItem;
use crate::outbox::{DeliveryReport, Outbox};
use crate::secret::Rng;

pub const OUTBOX_KIND: &str = crate::outbox::MAIL_KIND;

/// Pause before each retry, by attempts already made.
const BACKOFF_SECS: [i64; 8] = [10, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600];
/// Delivered messages are kept this long (without content) for the delivery view.
const KEEP_DELIVERED_SECS: i64 = 7 * 24 * 3600;

/// Queues mail in the durable outbox and delivers it from there.
#[derive(Clone)]
pub struct Mailer {
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
}

impl Mailer {
    pub fn new(outbox: Outbox, clock: Arc<dyn Clock>, rng: Arc<dyn Rng>) -> Self {
        Self { outbox, clock, rng }
    }

    /// Queues a message; the delivery job sends it. From the use case's point of view mail is
    /// best effort: the action has happened, and a failure to queue is logged rather than
    /// undoing it.
    pub(crate) async fn send(&self, mail: Result<OutgoingMail, RenderError>) {
        let mail = match mail {
            Ok(mail) => mail,
            Err(e) => {
                tracing::error!(error = %e, "could not render mail");
                return;
            }
        };
        let now = self.clock.now();
        let payload = match serde_json::to_string(&mail) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not serialize mail");
                return;
            }
        };
        let item = NewOutboxItem {
            id: crate::id::new_uuid(now, self.rng.as_ref()),
            kind: OUTBOX_KIND,
            recipient: mail.to,
            summary: mail.subject,
            payload,
            created_at: now,
        };
        if let Err(e) = self.outbox.enqueue(&item).await {
            tracing::error!(error = %e, "could not queue mail");
        }
    }

    /// Delivers what is due now.
    pub async fn deliver_due(
        &self,
        transport: &dyn MailTransport,
    ) -> Result<DeliveryReport, RepoError> {
        self.outbox
            .drain(OUTBOX_KIND, &BACKOFF_SECS, |item| async move {
                let mail = serde_json::from_str::<OutgoingMail>(&item.payload)
                    .map_err(|e| format!("unreadable message: {e}"))?;
                transport.deliver(&mail).await.map_err(|e| e.to_string())
            })
            .await
    }

    /// How many messages are pending, delivered (kept a week) and dead, for operators.
    pub async fn queue_status(&self) -> Result<Vec<(String, u64)>, RepoError> {
        self.outbox.repo().count_by_status(OUTBOX_KIND).await
    }

    /// Housekeeping run by the background job.
    pub async fn purge_delivered(&self) -> Result<u64, RepoError> {
        let now = self.clock.now();
        self.outbox.repo().purge_delivered(now.plus_secs(-KEEP_DELIVERED_SECS)).await
    }
}

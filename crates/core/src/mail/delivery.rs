//! The mail delivery job: leases due messages from the outbox, hands each to the
//! [`MailTransport`], and records the outcome. Failures are retried with backoff for about
//! eleven hours, then kept as dead letters (without their content). Any number of nodes may run it.

use crate::Core;
use crate::mail::OutgoingMail;
use crate::ports::{MailTransport, RepoError};

pub const OUTBOX_KIND: &str = "mail";

/// Pause before each retry, by attempts already made; after the last, the message is dead.
const BACKOFF_SECS: [i64; 8] = [10, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600];
/// How long a node may hold a message it is delivering before another may take it.
const LEASE_SECS: i64 = 120;
const BATCH: u32 = 20;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retrying: u32,
    pub dead: u32,
}

/// Delivered messages are kept this long (without content) for the delivery view.
const KEEP_DELIVERED_SECS: i64 = 7 * 24 * 3600;

impl Core {
    /// How many messages are pending, delivered (kept a week) and dead, for operators.
    pub async fn mail_queue_status(&self) -> Result<Vec<(String, u64)>, RepoError> {
        self.ports.outbox.count_by_status(OUTBOX_KIND).await
    }

    /// Housekeeping run by the background job.
    pub async fn purge_delivered_mail(&self) -> Result<u64, RepoError> {
        let now = self.ports.clock.now();
        self.ports.outbox.purge_delivered(now.plus_secs(-KEEP_DELIVERED_SECS)).await
    }

    /// Delivers what is due now. Returns what happened, for logs and metrics.
    pub async fn deliver_due_mail(
        &self,
        transport: &dyn MailTransport,
    ) -> Result<DeliveryReport, RepoError> {
        let now = self.ports.clock.now();
        let due =
            self.ports.outbox.lease_due(OUTBOX_KIND, now, now.plus_secs(LEASE_SECS), BATCH).await?;
        let mut report = DeliveryReport::default();
        for item in due {
            let outcome = match serde_json::from_str::<OutgoingMail>(&item.payload) {
                Ok(mail) => transport.deliver(&mail).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("unreadable message: {e}")),
            };
            let now = self.ports.clock.now();
            match outcome {
                Ok(()) => {
                    self.ports.outbox.mark_delivered(&item.id, now).await?;
                    report.delivered += 1;
                }
                Err(error) => {
                    let attempt = usize::try_from(item.attempts).unwrap_or(usize::MAX);
                    if let Some(wait) = BACKOFF_SECS.get(attempt) {
                        tracing::warn!(id = %item.id, attempt = attempt + 1, %error, "mail delivery failed; will retry");
                        self.ports
                            .outbox
                            .retry_later(&item.id, &error, now.plus_secs(*wait), now)
                            .await?;
                        report.retrying += 1;
                    } else {
                        tracing::error!(id = %item.id, %error, "mail delivery failed for good");
                        self.ports.outbox.give_up(&item.id, &error, now).await?;
                        report.dead += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}

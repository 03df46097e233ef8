//! The mail delivery job: hands due messages from the outbox to the [`MailTransport`]. Failures
//! are retried with backoff for about eleven hours, then kept as dead letters (without their
//! content). Any number of nodes may run it.

use crate::Core;
use crate::errors::RepoError;
use crate::mail::OutgoingMail;
use crate::mail::ports::MailTransport;
use crate::outbox::DeliveryReport;

pub const OUTBOX_KIND: &str = crate::outbox::MAIL_KIND;

/// Pause before each retry, by attempts already made.
const BACKOFF_SECS: [i64; 8] = [10, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600];
/// Delivered messages are kept this long (without content) for the delivery view.
const KEEP_DELIVERED_SECS: i64 = 7 * 24 * 3600;

impl Core {
    /// Delivers what is due now.
    pub async fn deliver_due_mail(
        &self,
        transport: &dyn MailTransport,
    ) -> Result<DeliveryReport, RepoError> {
        self.drain_outbox(OUTBOX_KIND, &BACKOFF_SECS, |item| async move {
            let mail = serde_json::from_str::<OutgoingMail>(&item.payload)
                .map_err(|e| format!("unreadable message: {e}"))?;
            transport.deliver(&mail).await.map_err(|e| e.to_string())
        })
        .await
    }

    /// How many messages are pending, delivered (kept a week) and dead, for operators.
    pub async fn mail_queue_status(&self) -> Result<Vec<(String, u64)>, RepoError> {
        self.ports.outbox.count_by_status(OUTBOX_KIND).await
    }

    /// Housekeeping run by the background job.
    pub async fn purge_delivered_mail(&self) -> Result<u64, RepoError> {
        let now = self.ports.clock.now();
        self.ports.outbox.purge_delivered(now.plus_secs(-KEEP_DELIVERED_SECS)).await
    }
}

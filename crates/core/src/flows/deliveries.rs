//! The delivery queues as site admins see them (the console's Deliveries page, `latchkey
//! deliveries`, `/api/v1/deliveries`): the capability is checked here, above the outbox.

use crate::authority::SiteAdmin;
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::outbox::DeliveryKind;
use crate::outbox::ports::DeliveryRecord;

impl Accounts {
    /// The newest deliveries of a queue (never a payload) and its counts by status.
    pub async fn deliveries(
        &self,
        _admin: &SiteAdmin,
        kind: DeliveryKind,
        limit: u32,
    ) -> Result<(Vec<DeliveryRecord>, Vec<(String, u64)>), RepoError> {
        self.kernel.outbox.deliveries(kind, limit).await
    }

    /// After an outage: every waiting delivery of the queue becomes due now. Dead letters stay
    /// dead (their content was erased). Returns how many were brought forward.
    pub async fn retry_deliveries(
        &self,
        admin: &SiteAdmin,
        kind: DeliveryKind,
    ) -> Result<u64, RepoError> {
        let n = self.kernel.outbox.retry_now(kind).await?;
        let record =
            crate::audit::Record::new("deliveries.retried", crate::audit::Actor::Site(admin))
                .details(serde_json::json!({ "queue": kind.as_str(), "brought_forward": n }));
        self.audit.record(record).await;
        Ok(n)
    }
}

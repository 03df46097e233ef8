//! Where mail leaves the process.

use async_trait::async_trait;

use crate::mail::OutgoingMail;

#[derive(Debug, thiserror::Error)]
#[error("mail: {0}")]
pub struct MailError(pub String);

/// Puts a message on its way (the outbox folder or SMTP). Called by the delivery job only;
/// use cases enqueue mail in the outbox and never wait on a mail server.
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn deliver(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

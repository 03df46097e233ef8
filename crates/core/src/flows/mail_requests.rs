//! Requests whose answer must not tell whether an address has an account (forgot password,
//! resend verification, sign-up) do the same work on every path: they queue one job, and the
//! background worker does what differs (look the address up, write a link, render a mail).
//! A caller timing the answer sees the same statements either way.

use serde::{Deserialize, Serialize};

use crate::accounts::{AccountId, Email};
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::mail;
use crate::outbox::DeliveryReport;
use crate::outbox::ports::NewOutboxItem;

/// The outbox kind of these jobs.
pub(crate) const REQUEST_KIND: &str = crate::outbox::MAIL_REQUEST_KIND;

/// Pauses between attempts of a job that failed (storage trouble).
const BACKOFF_SECS: [i64; 4] = [5, 30, 120, 600];

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub(crate) enum MailRequest {
    /// `/forgot-password`: a reset link if the address has an active account.
    Reset { email: String },
    /// `/verify-email/resend`: a new link if the account is active and unverified.
    ResendVerification { email: String },
    /// A sign-up created this account: its first verification link.
    Verification { account: String },
    /// A sign-up named an address that already has an account: its owner is told.
    SignUpTaken { email: String },
}

impl MailRequest {
    fn summary(&self) -> &'static str {
        match self {
            Self::Reset { .. } => "password reset request",
            Self::ResendVerification { .. } => "verification link request",
            Self::Verification { .. } | Self::SignUpTaken { .. } => "sign-up",
        }
    }
}

impl Accounts {
    /// Queues the job. The recipient column stays empty: an address with no account is not
    /// kept once the job has run (the payload is erased then).
    pub(crate) async fn queue_mail_request(&self, request: &MailRequest) -> Result<(), RepoError> {
        let now = self.kernel.now();
        let payload = serde_json::to_string(request).map_err(|e| RepoError(e.into()))?;
        let item = NewOutboxItem {
            id: self.kernel.new_id(now),
            kind: REQUEST_KIND,
            recipient: String::new(),
            summary: request.summary().to_owned(),
            payload,
            created_at: now,
        };
        self.kernel.outbox.enqueue(&item).await
    }

    /// Runs the queued requests that are due (every node's delivery loop calls this).
    pub async fn process_mail_requests(&self) -> Result<DeliveryReport, RepoError> {
        self.kernel
            .outbox
            .drain(REQUEST_KIND, &BACKOFF_SECS, |item| async move {
                let request = serde_json::from_str::<MailRequest>(&item.payload)
                    .map_err(|e| format!("unreadable request: {e}"))?;
                self.carry_out(request).await.map_err(|e| e.to_string())
            })
            .await
    }

    async fn carry_out(&self, request: MailRequest) -> Result<(), RepoError> {
        let accounts = &self.repo;
        match request {
            MailRequest::Reset { email } => {
                let Ok(email) = Email::parse(&email) else { return Ok(()) };
                let account = match accounts.find_by_email(&email).await? {
                    Some(account) => Some(account),
                    // Imported users upgrade by choosing a password through their mailbox.
                    None => self.legacy.account_for_reset(&email).await?,
                };
                if let Some(account) = account
                    && account.is_active()
                {
                    self.send_reset_link(&account).await?;
                }
            }
            MailRequest::ResendVerification { email } => {
                let Ok(email) = Email::parse(&email) else { return Ok(()) };
                if let Some(account) = accounts.find_by_email(&email).await?
                    && account.is_active()
                    && !account.email_verified()
                {
                    self.send_verification(&account.id, &account.email, account.name.as_str())
                        .await?;
                }
            }
            MailRequest::Verification { account } => {
                let id = AccountId::from_stored(account);
                if let Some(account) = accounts.find_by_id(&id).await?
                    && account.is_active()
                    && !account.email_verified()
                {
                    self.send_verification(&account.id, &account.email, account.name.as_str())
                        .await?;
                }
            }
            MailRequest::SignUpTaken { email } => {
                let Ok(email) = Email::parse(&email) else { return Ok(()) };
                let (login, reset) =
                    (self.kernel.link("/login"), self.kernel.link("/forgot-password"));
                self.kernel
                    .send_mail(|brand| mail::signup_existing(brand, &email, &login, &reset))
                    .await;
            }
        }
        Ok(())
    }
}

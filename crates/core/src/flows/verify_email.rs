//! Proving control of an email address: the emailed link verifies it and signs the person in.
//!
//! Opening the link only shows a confirmation button; the token is used by the POST that
//! follows. Mail scanners that prefetch links therefore cannot use it up (or get a session).

use crate::accounts::{AccountId, Email};
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::flows::ports::TokenPurpose;
use crate::flows::{LoginSuccess, Unexpected};
use crate::guard::MailGate;
use crate::mail;
use crate::second_factor::BeginSignIn;
use crate::secret::OpaqueToken;
use crate::sessions::ClientInfo;

#[derive(Debug, thiserror::Error)]
pub enum VerifyEmailError {
    #[error("This verification link has expired or was already used. Request a new one.")]
    InvalidLink,
    #[error("This account has been deactivated. Contact your administrator.")]
    Deactivated,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for VerifyEmailError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// What opening a verification link led to.
#[derive(Debug)]
pub enum Verified {
    /// Verified, and this browser is signed in.
    SignedIn(LoginSuccess),
    /// Verified; the account has a second factor, so the person logs in as usual.
    LogInNext(crate::accounts::Account),
}

#[derive(Debug, thiserror::Error)]
pub enum ResendVerificationError {
    #[error("Too many requests. Try again in {0} seconds.")]
    Throttled(i64),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for ResendVerificationError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl Accounts {
    pub(crate) async fn send_verification(
        &self,
        account: &AccountId,
        email: &Email,
        name: &str,
    ) -> Result<(), RepoError> {
        let link = self.issue_link(account, TokenPurpose::VerifyEmail).await?;
        self.kernel.send_mail(|brand| mail::verify_email(brand, email, name, &link)).await;
        Ok(())
    }

    /// Whether a verification link is still good (for the confirmation page).
    pub async fn verification_link_is_valid(&self, raw_token: &str) -> Result<bool, RepoError> {
        self.link_is_valid(raw_token, TokenPurpose::VerifyEmail).await
    }

    /// Uses the link: marks the email verified, ends the sessions opened before the address
    /// was proven, and signs the browser in — unless the account has a second factor: no
    /// emailed link signs anyone in past a factor they have (they log in as usual).
    pub async fn verify_email(
        &self,
        raw_token: &str,
        client: ClientInfo,
    ) -> Result<Verified, VerifyEmailError> {
        let token = OpaqueToken::parse(raw_token).ok_or(VerifyEmailError::InvalidLink)?;
        let now = self.kernel.now();
        let account_id = self
            .tokens
            .consume(&token.hash(), TokenPurpose::VerifyEmail, now)
            .await?
            .ok_or(VerifyEmailError::InvalidLink)?;
        let mut account =
            self.repo.find_by_id(&account_id).await?.ok_or(VerifyEmailError::InvalidLink)?;
        if !account.is_active() {
            return Err(VerifyEmailError::Deactivated);
        }
        if account.email_verified_at.is_none() {
            self.repo.mark_email_verified(&account.id, now).await?;
            account.email_verified_at = Some(now);
            let record =
                crate::audit::Record::new("email.verified", crate::audit::Actor::Person(&account))
                    .target(&account)
                    .from(&client);
            self.audit.record(record).await;
        }
        let (ended, _) =
            self.sessions.end_sessions_except(&account.id, None).await.map_err(Unexpected::from)?;
        tracing::info!(account = %account.id, sessions_ended = ended, "email verified");
        // Every session of the account ended above; another account's stays its own. The link
        // proves the mailbox, not a factor: an account with a second factor, or one its policy
        // stops at a step, signs in with its password next.
        let next = crate::return_to::ReturnTo::parse_or_account("/account");
        match self.second_factor.begin_sign_in(&account, &client, &next, None, Vec::new()).await? {
            BeginSignIn::SignedIn(success) => Ok(Verified::SignedIn(*success)),
            BeginSignIn::Pending(..) => Ok(Verified::LogInNext(account)),
        }
    }

    /// Sends a fresh link if the address belongs to an active, unverified account. The answer
    /// is the same in every case.
    pub async fn resend_verification(
        &self,
        email: &Email,
        ip: &str,
    ) -> Result<(), ResendVerificationError> {
        let now = self.kernel.now();
        match self.guard.mail_gate("resend", email, ip, now).await? {
            MailGate::Send => {}
            MailGate::Silent => return Ok(()),
            MailGate::Throttled(secs) => return Err(ResendVerificationError::Throttled(secs)),
        }
        // The same job whether or not the address has an account (see `mail_requests`).
        let request = super::mail_requests::MailRequest::ResendVerification {
            email: email.as_str().to_owned(),
        };
        self.queue_mail_request(&request).await?;
        Ok(())
    }
}

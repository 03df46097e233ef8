//! "Forgot password": a single-use link valid for an hour, stored only as a hash. The request
//! answers identically whether or not the address has an account; completing it ends every
//! session of the account.

use crate::accounts::Email;
use crate::credentials::Password;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::flows::ports::{EmailChangeKind, TokenPurpose};
use crate::guard::HashFailure;
use crate::guard::MailGate;
use crate::mail;
use crate::secret::OpaqueToken;

#[derive(Debug, thiserror::Error)]
pub enum RequestResetError {
    #[error("Too many requests from your network. Try again in {0} seconds.")]
    Throttled(i64),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for RequestResetError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompleteResetError {
    #[error("This reset link has expired or was already used. Request a new one.")]
    InvalidLink,
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    #[error(
        "Your organization signs you in through its identity provider; passwords are not reset here."
    )]
    SsoRequired,
    /// The new password breaks a rule of the account's policy (the link stays good).
    #[error(transparent)]
    Rule(#[from] crate::policies::PasswordRuleError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

from_new_password_error!(CompleteResetError);

impl From<RepoError> for CompleteResetError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashFailure> for CompleteResetError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

use super::mail_requests::MailRequest;

impl Accounts {
    pub async fn request_password_reset(
        &self,
        email: &Email,
        ip: &str,
    ) -> Result<(), RequestResetError> {
        let now = self.kernel.now();
        match self.guard.mail_gate("reset", email, ip, now).await? {
            MailGate::Send => {}
            MailGate::Silent => return Ok(()),
            MailGate::Throttled(secs) => return Err(RequestResetError::Throttled(secs)),
        }
        // The same job whether or not the address has an account (see `mail_requests`).
        let request = MailRequest::Reset { email: email.as_str().to_owned() };
        self.queue_mail_request(&request).await?;
        Ok(())
    }

    /// Issues a reset link for the account and mails it to the account's address.
    pub(crate) async fn send_reset_link(
        &self,
        account: &crate::accounts::Account,
    ) -> Result<(), RepoError> {
        if self.policies.sso_required(account).await? {
            // Its password is not how it signs in; the reset page answered as for anyone.
            let record =
                crate::audit::Record::new("password.reset_refused", crate::audit::Actor::System)
                    .outcome(crate::audit::Outcome::Refused)
                    .target(account)
                    .details(serde_json::json!({ "reason": "single sign-on required" }));
            self.audit.record(record).await;
            return Ok(());
        }
        let link = self.issue_link(&account.id, TokenPurpose::ResetPassword).await?;
        self.kernel
            .send_mail(|brand| {
                mail::reset_password(brand, &account.email, account.name.as_str(), &link)
            })
            .await;
        Ok(())
    }

    /// Whether a reset link is still good (for showing the new-password form).
    pub async fn reset_link_is_valid(&self, raw_token: &str) -> Result<bool, RepoError> {
        self.link_is_valid(raw_token, TokenPurpose::ResetPassword).await
    }

    /// Sets the new password, uses up every reset link of the account, marks the email as
    /// verified (the link proved control of it) and ends every session.
    pub async fn complete_password_reset(
        &self,
        raw_token: &str,
        new_password: &Password,
    ) -> Result<(), CompleteResetError> {
        let token = OpaqueToken::parse(raw_token).ok_or(CompleteResetError::InvalidLink)?;
        let now = self.kernel.now();
        // Check before the expensive hash and the rules, consume after them: a saturated hasher
        // or a refused password must not burn the person's link.
        let Some(owner) = self.tokens.peek(&token.hash(), TokenPurpose::ResetPassword, now).await?
        else {
            return Err(CompleteResetError::InvalidLink);
        };
        let Some(owner) = self.repo.find_by_id(&owner).await? else {
            return Err(CompleteResetError::InvalidLink);
        };
        let policy = self.policies.for_account(&owner).await?;
        if policy.settings.sso_required && !owner.site_admin {
            return Err(CompleteResetError::SsoRequired);
        }
        let name = owner.name.as_str();
        self.policies
            .check_new_password(&policy, Some(&owner), &owner.email, name, new_password)
            .await?;
        let hash =
            self.hasher.hash(new_password, self.kernel.rng()).await.map_err(HashFailure::from)?;
        let account_id = self
            .tokens
            .consume(&token.hash(), TokenPurpose::ResetPassword, now)
            .await?
            .ok_or(CompleteResetError::InvalidLink)?;
        let Some(account) = self.repo.find_by_id(&account_id).await? else {
            return Err(CompleteResetError::InvalidLink);
        };
        self.repo.set_password_hash(&account_id, &hash, now).await?;
        self.policies.remember_password(&account_id, &hash).await?;
        self.tokens.revoke_all(&account_id, TokenPurpose::ResetPassword, now).await?;
        // An email change asked for before the reset must not complete after it.
        self.email_changes.cancel_email_changes(&account_id, EmailChangeKind::Confirm, now).await?;
        let mut details = serde_json::json!({});
        if account.email_verified() {
            let (ended, _) = self
                .sessions
                .end_sessions_except(&account_id, None)
                .await
                .map_err(Unexpected::from)?;
            tracing::info!(account = %account_id, sessions_ended = ended, "password reset");
        } else {
            // The reset is the first proof of this mailbox: whoever signed up with the address
            // before its owner (and set up factors or signed in to products) loses all of it.
            self.repo.mark_email_verified(&account_id, now).await?;
            self.tokens.revoke_all(&account_id, TokenPurpose::VerifyEmail, now).await?;
            let reclaimed = self.reclaim(&account_id).await?;
            tracing::warn!(account = %account_id, ?reclaimed, "password reset proved the address: account reclaimed");
            details = serde_json::json!({ "reclaimed": reclaimed.to_json() });
            let link = self.kernel.link("/account/security");
            self.kernel
                .send_mail(|brand| {
                    mail::security_changed(
                        brand,
                        &account.email,
                        account.name.as_str(),
                        &format!("Your password was reset. {}", reclaimed.describe()),
                        &link,
                    )
                })
                .await;
        }
        let record =
            crate::audit::Record::new("password.reset", crate::audit::Actor::Person(&account))
                .target(&account)
                .details(details);
        self.audit.record(record).await;
        Ok(())
    }
}

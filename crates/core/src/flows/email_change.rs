//! Changing the email of an account, by its owner: a confirmation link goes to the new address
//! and the change takes effect only when it is used; the old address then gets a notice with a
//! seven-day "this wasn't me" link that puts it back, signs the account out everywhere and
//! forces a new password — the safety net for someone whose account was taken over. The old
//! address can no longer sign in once the change is made. A managed account's email must stay
//! on its organization's verified domains.

use crate::accounts::{Account, Email};
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::credentials::Password;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::flows::ports::EmailChangeKind;
use crate::guard::HashFailure;
use crate::guard::Recheck;
use crate::guard::{RetryAfter, account_key};
use crate::mail;
use crate::orgs::model::DomainStatus;
use crate::secret::OpaqueToken;

const CONFIRM_TTL_SECS: i64 = 24 * 3600;
const REVERT_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ChangeEmailError {
    #[error("Your password is incorrect.")]
    WrongPassword,
    #[error("That is already your email address.")]
    Unchanged,
    #[error(
        "{0} manages your account, so its email must stay on one of its domains. Ask its administrators."
    )]
    ManagedDomain(String),
    #[error("This link is not valid any more. Start again from your account page.")]
    InvalidLink,
    #[error("That address is no longer available.")]
    Taken,
    #[error("We are handling a lot of sign-ins right now. Try again in a moment.")]
    Busy,
    /// Changing the email needs a sign-in from the last few minutes (step-up).
    #[error("For your security, sign in again to change your email.")]
    SignInAgain,
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for ChangeEmailError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashFailure> for ChangeEmailError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl Accounts {
    /// Sends the confirmation link to the new address. Says nothing about whether the address
    /// already has an account (its owner gets the usual "you already have an account" mail).
    pub async fn request_email_change(
        &self,
        signed_in: &SignedIn,
        password: &Password,
        new: &Email,
    ) -> Result<(), ChangeEmailError> {
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(ChangeEmailError::SignInAgain);
        }
        let account = signed_in.account();
        match self.guard.recheck_password(signed_in, password).await? {
            Recheck::Right => {}
            Recheck::Wrong => return Err(ChangeEmailError::WrongPassword),
            Recheck::Throttled(secs) => return Err(ChangeEmailError::Throttled(secs)),
        }
        if new.normalized() == account.email.normalized() {
            return Err(ChangeEmailError::Unchanged);
        }
        if let Some(org) = self.managing_org(account).await? {
            let domain = new.normalized().rsplit('@').next().unwrap_or_default().to_owned();
            let allowed = self
                .orgs
                .list_domains(&org.id)
                .await?
                .iter()
                .any(|d| d.status == DomainStatus::Verified && d.domain.as_str() == domain);
            if !allowed {
                return Err(ChangeEmailError::ManagedDomain(org.name));
            }
        }
        let now = self.kernel.now();
        // Each request mails an address the requester typed: a visible limit per account,
        // and a silent one per target address (past it nothing is sent, and the answer is the
        // same, so the limit reveals nothing about who else asked).
        let policy = self.settings.throttle;
        let per_account = format!("email_change:acct:{}", account.id);
        if let Some(RetryAfter(secs)) = self
            .guard
            .count_against(
                &[(per_account.as_str(), policy.mails_per_address)],
                policy.mail_window_secs,
                now,
            )
            .await?
        {
            return Err(ChangeEmailError::Throttled(secs));
        }
        let per_target = account_key("email_change:to:", new);
        if self
            .guard
            .count_against(
                &[(per_target.as_str(), policy.mails_per_address)],
                policy.mail_window_secs,
                now,
            )
            .await?
            .is_some()
        {
            tracing::warn!(account = %account.id, "email change: target address over its limit; nothing sent");
            return Ok(());
        }
        if self.repo.find_by_email(new).await?.is_some() {
            let login = self.kernel.link("/login");
            let reset = self.kernel.link("/forgot-password");
            self.kernel.send_mail(|brand| mail::signup_existing(brand, new, &login, &reset)).await;
            return Ok(());
        }
        let changes = &self.email_changes;
        changes.cancel_email_changes(&account.id, EmailChangeKind::Confirm, now).await?;
        let token = OpaqueToken::generate(self.kernel.rng());
        changes
            .insert_email_change(
                &token.hash(),
                &account.id,
                EmailChangeKind::Confirm,
                new,
                now,
                now.plus_secs(CONFIRM_TTL_SECS),
            )
            .await?;
        let link = self.kernel.link(&format!("/account/email/confirm?token={}", token.expose()));
        self.kernel
            .send_mail(|brand| mail::email_change_confirm(brand, new, account.name.as_str(), &link))
            .await;
        let record = Record::new("email.change_requested", Actor::Person(account)).target(account);
        self.audit.record(record).await;
        Ok(())
    }

    /// Whether a confirmation or revert link is still good (for showing its page).
    pub async fn email_link_is_valid(&self, token: &str, revert: bool) -> Result<bool, RepoError> {
        let Some(token) = OpaqueToken::parse(token) else { return Ok(false) };
        let kind = if revert { EmailChangeKind::Revert } else { EmailChangeKind::Confirm };
        let now = self.kernel.now();
        Ok(self.email_changes.peek_email_change(&token.hash(), kind, now).await?.is_some())
    }

    /// The new address confirmed: the change takes effect, the old address is told, and every
    /// session of the account ends but `keep` (the confirming browser's, if it is signed in
    /// to this account): a session opened under the old address does not carry over.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        keep: Option<&SignedIn>,
    ) -> Result<Account, ChangeEmailError> {
        let token = OpaqueToken::parse(token).ok_or(ChangeEmailError::InvalidLink)?;
        let now = self.kernel.now();
        let (id, new) = self
            .email_changes
            .use_email_change(&token.hash(), EmailChangeKind::Confirm, now)
            .await?
            .ok_or(ChangeEmailError::InvalidLink)?;
        let mut account = self.repo.find_by_id(&id).await?.ok_or(ChangeEmailError::InvalidLink)?;
        let new = Email::parse(&new).map_err(|_| ChangeEmailError::InvalidLink)?;
        let old = account.email.clone();
        if !self.repo.set_email(&id, &new, now).await? {
            return Err(ChangeEmailError::Taken);
        }
        let revert = OpaqueToken::generate(self.kernel.rng());
        self.email_changes
            .insert_email_change(
                &revert.hash(),
                &id,
                EmailChangeKind::Revert,
                &old,
                now,
                now.plus_secs(REVERT_TTL_SECS),
            )
            .await?;
        let link = self.kernel.link(&format!("/account/email/revert?token={}", revert.expose()));
        self.kernel
            .send_mail(|brand| {
                mail::email_changed_notice(brand, &old, account.name.as_str(), new.as_str(), &link)
            })
            .await;
        account.email = new;
        let keep = keep.filter(|s| s.account().id == id).map(|s| &s.session().id);
        self.sessions.end_sessions_except(&id, keep).await.map_err(Unexpected::from)?;
        let record = Record::new("email.changed", Actor::Person(&account))
            .target(&account)
            .details(serde_json::json!({ "from": old.as_str(), "to": account.email.as_str() }));
        self.audit.record(record).await;
        tracing::info!(account = %account.id, "email changed");
        Ok(account)
    }

    /// "This wasn't me": the old address comes back, every session ends, the password must be
    /// reset (a link goes to the old address).
    pub async fn revert_email_change(&self, token: &str) -> Result<Account, ChangeEmailError> {
        let token = OpaqueToken::parse(token).ok_or(ChangeEmailError::InvalidLink)?;
        let now = self.kernel.now();
        let (id, old) = self
            .email_changes
            .use_email_change(&token.hash(), EmailChangeKind::Revert, now)
            .await?
            .ok_or(ChangeEmailError::InvalidLink)?;
        let old = Email::parse(&old).map_err(|_| ChangeEmailError::InvalidLink)?;
        if !self.repo.set_email(&id, &old, now).await? {
            return Err(ChangeEmailError::Taken);
        }
        self.repo.clear_password(&id, now).await?;
        // Whoever changed the address may have set up factors, products or sessions of their
        // own: all of it goes (sessions and pending email changes included).
        let reclaimed = self.reclaim(&id).await?;
        let account = self.repo.find_by_id(&id).await?.ok_or(ChangeEmailError::InvalidLink)?;
        let what = format!(
            "Your old address is back and the change was undone. {} Choose a new password with the link we are sending you next.",
            reclaimed.describe()
        );
        let link = self.kernel.link("/account/security");
        self.kernel
            .send_mail(|brand| {
                mail::security_changed(brand, &account.email, account.name.as_str(), &what, &link)
            })
            .await;
        self.send_reset_link(&account).await?;
        let record = Record::new("email.reverted", Actor::Person(&account))
            .outcome(Outcome::Success)
            .target(&account)
            .details(serde_json::json!({ "reclaimed": reclaimed.to_json() }));
        self.audit.record(record).await;
        tracing::warn!(account = %account.id, "email change reverted from the old address");
        Ok(account)
    }
}

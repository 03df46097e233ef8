//! Choosing a password under the account's policy: the one place a password is checked against
//! the rules (length, the common list, strength, history) and stored, and the "choose a new
//! password" step of a sign-in whose password has run out.

use crate::accounts::{Account, Email};
use crate::audit::{Actor, Record};
use crate::authority::SignedIn;
use crate::credentials::Password;
use crate::errors::{RepoError, Unexpected};
use crate::flows::Accounts;
use crate::mail;
use crate::policies::{NewPasswordError, PasswordRuleError};
use crate::second_factor::{PendingStep, SecondFactorError, SignInStep};

/// Why the new-password step of a sign-in did not go through.
#[derive(Debug, thiserror::Error)]
pub enum NewPasswordStepError {
    #[error("This sign-in has expired. Log in again.")]
    Expired,
    #[error(transparent)]
    Rule(#[from] PasswordRuleError),
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

from_new_password_error!(NewPasswordStepError);

impl From<SecondFactorError> for NewPasswordStepError {
    fn from(e: SecondFactorError) -> Self {
        match e {
            SecondFactorError::Unexpected(u) => Self::Unexpected(u),
            SecondFactorError::Busy => Self::Busy,
            _ => Self::Expired,
        }
    }
}

impl From<RepoError> for NewPasswordStepError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl Accounts {
    /// Checks a new password for a new account with this address (sign-up, admin creation):
    /// the rules of the policy it will be under. Site admins are under the site default.
    pub(crate) async fn check_password_for_address(
        &self,
        email: &Email,
        name: &str,
        site_admin: bool,
        password: &Password,
    ) -> Result<(), NewPasswordError> {
        let policy = if site_admin {
            self.policies.site_default().await?
        } else {
            self.policies.for_address(email).await?
        };
        self.policies.check_new_password(&policy, None, email, name, password).await
    }

    /// Checks `new` against the account's policy and history, then stores it (its time starts
    /// the maximum age) and remembers it for the history rule. Sessions are the caller's.
    pub(crate) async fn set_password_checked(
        &self,
        account: &Account,
        new: &Password,
    ) -> Result<(), NewPasswordError> {
        let hash = self.checked_hash(account, new).await?;
        self.store_password(account, &hash).await
    }

    /// The rules of the account's policy, then the hash (nothing stored yet).
    async fn checked_hash(
        &self,
        account: &Account,
        new: &Password,
    ) -> Result<String, NewPasswordError> {
        let policy = self.policies.for_account(account).await?;
        let name = account.name.as_str();
        self.policies.check_new_password(&policy, Some(account), &account.email, name, new).await?;
        Ok(self.hasher.hash(new, self.kernel.rng()).await?)
    }

    async fn store_password(&self, account: &Account, hash: &str) -> Result<(), NewPasswordError> {
        let now = self.kernel.now();
        self.repo.set_password_hash(&account.id, hash, now).await?;
        self.policies.remember_password(&account.id, hash).await?;
        Ok(())
    }

    /// The password rules for the account of a pending login (the new-password page says
    /// what is asked); `None` when the pending login is gone.
    pub async fn pending_password_rules(
        &self,
        token: &str,
    ) -> Result<Option<crate::policies::PolicySettings>, Unexpected> {
        let account = match self.second_factor.pending_account(token).await {
            Ok((_, account)) => account,
            Err(SecondFactorError::Unexpected(u)) => return Err(u),
            Err(_) => return Ok(None),
        };
        Ok(Some(self.policies.for_account(&account).await?.settings))
    }

    /// The "choose a new password" step of a sign-in: the policy says the password has run
    /// out. The identity is proven already (password, and the second factor if any); the new
    /// password must pass the rules, every other session ends, and the sign-in carries on.
    pub async fn choose_new_password(
        &self,
        token: &str,
        new: &Password,
        replacing: Option<&SignedIn>,
    ) -> Result<SignInStep, NewPasswordStepError> {
        let (mut pending, account) =
            self.second_factor.pending_at(token, PendingStep::NewPassword).await?;
        let hash = self.checked_hash(&account, new).await?;
        // The step is claimed once, after the checks and the hash (which may fail and must not
        // use it up) and before anything changes: of a burst of submissions, one sets the
        // password and finishes the sign-in; the others find the step taken.
        if !self.second_factor.claim_pending_step(token, PendingStep::NewPassword).await? {
            return Err(NewPasswordStepError::Expired);
        }
        self.store_password(&account, &hash).await?;
        let (ended, _) =
            self.sessions.end_sessions_except(&account.id, None).await.map_err(Unexpected::from)?;
        tracing::info!(account = %account.id, sessions_ended = ended, "expired password replaced");
        let record = Record::new("password.changed", Actor::Person(&account))
            .target(&account)
            .from(&pending.client)
            .details(serde_json::json!({ "reason": "policy" }));
        self.audit.record(record).await;
        let reset = self.kernel.link("/forgot-password");
        self.kernel
            .send_mail(|brand| {
                mail::password_changed(brand, &account.email, account.name.as_str(), &reset)
            })
            .await;
        pending.steps.new_password = false;
        Ok(self.second_factor.advance(token, pending, &account, replacing).await?)
    }
}

//! Self-service changes a signed-in person makes to their own account.

use crate::accounts::{Account, DisplayName};
use crate::authority::SignedIn;
use crate::credentials::Password;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::guard::{HashFailure, Recheck};
use crate::mail;
use crate::policies::PasswordRuleError;

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("Your current password is incorrect.")]
    WrongCurrentPassword,
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    /// The new password breaks a rule of the account's policy.
    #[error(transparent)]
    Rule(#[from] PasswordRuleError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

from_new_password_error!(ChangePasswordError);

impl From<RepoError> for ChangePasswordError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashFailure> for ChangePasswordError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeNameError {
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl Accounts {
    /// Requires the current password (wrong guesses count like failed logins), then ends every
    /// other session and tells the owner by email.
    pub async fn change_password(
        &self,
        signed_in: &SignedIn,
        current: &Password,
        new: &Password,
    ) -> Result<(), ChangePasswordError> {
        let (session, account) = (signed_in.session(), signed_in.account());
        match self.guard.recheck_password(signed_in, current).await? {
            Recheck::Right => {}
            Recheck::Wrong => return Err(ChangePasswordError::WrongCurrentPassword),
            Recheck::Throttled(secs) => return Err(ChangePasswordError::Throttled(secs)),
        }
        self.set_password_checked(account, new).await?;
        let (ended, _) = self
            .sessions
            .end_sessions_except(&account.id, Some(&session.id))
            .await
            .map_err(Unexpected::from)?;
        tracing::info!(account = %account.id, sessions_ended = ended, "password changed");
        self.audit
            .record(
                crate::audit::Record::new("password.changed", crate::audit::Actor::Person(account))
                    .target(account),
            )
            .await;
        let reset = self.kernel.link("/forgot-password");
        self.kernel
            .send_mail(|brand| {
                mail::password_changed(brand, &account.email, account.name.as_str(), &reset)
            })
            .await;
        Ok(())
    }

    pub async fn change_name(
        &self,
        account: &Account,
        name: &DisplayName,
    ) -> Result<(), ChangeNameError> {
        let now = self.kernel.now();
        self.repo.set_name(&account.id, name, now).await.map_err(Unexpected::from)?;
        Ok(())
    }
}

//! Self-service changes a signed-in person makes to their own account.

use crate::Core;
use crate::accounts::{Account, DisplayName};
use crate::credentials::{Password, Verified};
use crate::flows::throttle::{RetryAfter, account_key, ip_key};
use crate::flows::{HashFailure, Unexpected};
use crate::mail;
use crate::ports::RepoError;
use crate::sessions::Session;

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("Your current password is incorrect.")]
    WrongCurrentPassword,
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

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

impl Core {
    /// Requires the current password (wrong guesses count like failed logins), then ends every
    /// other session and tells the owner by email.
    pub async fn change_password(
        &self,
        session: &Session,
        account: &Account,
        current: &Password,
        new: &Password,
    ) -> Result<(), ChangePasswordError> {
        let now = self.ports.clock.now();
        let policy = self.settings.throttle;
        let account_key = account_key("login:acct:", &account.email);
        let ip_key = ip_key("login:ip:", &session.client.ip);
        let keys = [
            (account_key.as_str(), policy.account_failures),
            (ip_key.as_str(), policy.ip_failures),
        ];
        if let Err(RetryAfter(secs)) = self.throttled(&keys, policy.login_window_secs, now).await? {
            return Err(ChangePasswordError::Throttled(secs));
        }
        let rng = self.ports.rng.as_ref();
        if !self.password_is_right(account, current).await? {
            self.count_against(&keys, policy.login_window_secs, now).await?;
            return Err(ChangePasswordError::WrongCurrentPassword);
        }
        let hash = self.hasher.hash(new, rng).await.map_err(HashFailure::from)?;
        self.ports.accounts.set_password_hash(&account.id, &hash, now).await?;
        let (ended, _) = self
            .end_sessions_except(&account.id, Some(&session.id))
            .await
            .map_err(Unexpected::from)?;
        tracing::info!(account = %account.id, sessions_ended = ended, "password changed");
        self.audit(
            crate::audit::Record::new("password.changed", crate::audit::Actor::Person(account))
                .target(account),
        )
        .await;
        let reset = self.link("/forgot-password");
        self.send_mail(mail::password_changed(&account.email, account.name.as_str(), &reset)).await;
        Ok(())
    }

    pub async fn change_name(
        &self,
        account: &Account,
        name: &DisplayName,
    ) -> Result<(), ChangeNameError> {
        let now = self.ports.clock.now();
        self.ports.accounts.set_name(&account.id, name, now).await.map_err(Unexpected::from)?;
        Ok(())
    }
}

impl Core {
    /// Re-checks the signed-in person's password (sensitive changes ask for it again).
    pub(crate) async fn password_is_right(
        &self,
        account: &Account,
        password: &Password,
    ) -> Result<bool, HashFailure> {
        let verdict = self
            .hasher
            .verify(password, account.password_hash.as_deref(), self.ports.rng.as_ref())
            .await?;
        Ok(verdict != Verified::No)
    }
}

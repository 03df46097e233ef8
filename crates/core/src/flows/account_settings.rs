//! Self-service changes a signed-in person makes to their own account.

use crate::Core;
use crate::accounts::{Account, DisplayName};
use crate::authority::SignedIn;
use crate::credentials::{Password, Verified};
use crate::errors::RepoError;
use crate::flows::throttle::{PasswordAttempt, RetryAfter};
use crate::flows::{HashFailure, Unexpected};
use crate::mail;

/// Sensitive settings (factors, email, password) need a sign-in at most this old (step-up).
pub const STEP_UP_SECS: i64 = 600;

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
        signed_in: &SignedIn,
        current: &Password,
        new: &Password,
    ) -> Result<(), ChangePasswordError> {
        let (session, account) = (signed_in.session(), signed_in.account());
        let now = self.ports.clock.now();
        match self.recheck_password(signed_in, current).await? {
            Recheck::Right => {}
            Recheck::Wrong => return Err(ChangePasswordError::WrongCurrentPassword),
            Recheck::Throttled(secs) => return Err(ChangePasswordError::Throttled(secs)),
        }
        let rng = self.ports.rng.as_ref();
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

/// What re-checking a signed-in person's password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recheck {
    Right,
    Wrong,
    /// Too many attempts: not checked; try again after this many seconds.
    Throttled(i64),
}

impl Core {
    /// Re-checks the signed-in person's password (sensitive changes ask for it again), counted
    /// against the same per-account and per-IP limits as logins, before the hash runs.
    pub(crate) async fn recheck_password(
        &self,
        signed_in: &SignedIn,
        password: &Password,
    ) -> Result<Recheck, HashFailure> {
        let account = signed_in.account();
        let now = self.ports.clock.now();
        let attempt = PasswordAttempt::new(&account.email, &signed_in.session().client.ip);
        if let Some(RetryAfter(secs)) = self.count_password_attempt(&attempt, now).await? {
            return Ok(Recheck::Throttled(secs));
        }
        let verdict = self
            .hasher
            .verify(
                password,
                account.password_hash.as_ref().map(|h| h.expose().as_str()),
                self.ports.rng.as_ref(),
            )
            .await?;
        if verdict == Verified::No {
            let record =
                crate::audit::Record::new("password.recheck", crate::audit::Actor::Person(account))
                    .outcome(crate::audit::Outcome::Failure)
                    .target(account)
                    .from(&signed_in.session().client);
            self.audit(record).await;
            return Ok(Recheck::Wrong);
        }
        self.password_attempt_succeeded(&attempt).await?;
        Ok(Recheck::Right)
    }

    /// Whether the session's sign-in (with its second step) is recent enough for a sensitive
    /// change: turning two-step verification on or off, adding or removing a key, changing
    /// the email.
    pub fn sign_in_is_recent(&self, signed_in: &SignedIn) -> bool {
        signed_in.session().created_at.secs_until(self.ports.clock.now()) <= STEP_UP_SECS
    }
}

//! Logging in with email and password.

use crate::accounts::Email;
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::credentials::{Password, Verified};
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::guard::HashFailure;
use crate::guard::{PasswordAttempt, RetryAfter};
use crate::legacy::{UpgradeAttempt, UpgradeError};
use crate::policies::AuthMethod;
use crate::return_to::ReturnTo;
use crate::second_factor::{BeginSignIn, PendingStep};
use crate::secret::OpaqueToken;
use crate::sessions::{ClientInfo, LoginSuccess};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong email or password; deliberately does not say which.
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("This account has been deactivated. Contact your administrator.")]
    Deactivated,
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("We are handling a lot of sign-ins right now. Try again in a moment.")]
    Busy,
    /// The account's policy requires its organization's identity provider.
    #[error(
        "Your organization requires signing in through its identity provider: log in with your email alone to be sent there, or ask your administrator."
    )]
    SsoRequired,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<HashFailure> for LoginError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl From<crate::errors::RepoError> for LoginError {
    fn from(e: crate::errors::RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A right password either signs the person in, or leads to the steps the account still owes
/// (its second factor, a new password, two-step enrolment) with a pending-login token: no
/// session yet.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(Box<LoginSuccess>),
    /// Signed in with a legacy product's password, which is now the account's: the upgrade
    /// screen comes next.
    Upgraded(Box<LoginSuccess>),
    Pending(OpaqueToken, PendingStep),
}

impl Accounts {
    /// The password against the account's hash; for an address with no password yet, against
    /// its legacy records in products being upgraded (which completes or creates the account).
    /// One hashing job either way, so timing tells nothing.
    async fn check_password(
        &self,
        email: &Email,
        password: &Password,
        account: Option<crate::accounts::Account>,
        client: &ClientInfo,
    ) -> Result<(Option<crate::accounts::Account>, Verified, bool), LoginError> {
        if account.as_ref().is_none_or(|a| a.password_hash.is_none() && !a.bot) {
            match self.legacy.upgrade(email, password, account.as_ref(), client).await {
                Ok(UpgradeAttempt::Upgraded(upgraded)) => {
                    if !upgraded.email_verified() {
                        self.send_verification(
                            &upgraded.id,
                            &upgraded.email,
                            upgraded.name.as_str(),
                        )
                        .await?;
                    }
                    return Ok((Some(*upgraded), Verified::Yes, true));
                }
                Ok(UpgradeAttempt::Failed) => return Ok((account, Verified::No, false)),
                Ok(UpgradeAttempt::NotApplicable) => {}
                Err(UpgradeError::Busy) => return Err(LoginError::Busy),
                Err(UpgradeError::Unexpected(u)) => return Err(LoginError::Unexpected(u)),
            }
        }
        let stored =
            account.as_ref().and_then(|a| a.password_hash.as_ref().map(|h| h.expose().as_str()));
        let verdict = self
            .hasher
            .verify(password, stored, self.kernel.rng())
            .await
            .map_err(HashFailure::from)?;
        Ok((account, verdict, false))
    }

    pub async fn log_in(
        &self,
        email: &Email,
        password: &Password,
        client: ClientInfo,
        next: &ReturnTo,
        replacing: Option<&SignedIn>,
    ) -> Result<LoginOutcome, LoginError> {
        let now = self.kernel.now();
        let attempt = PasswordAttempt::new(email, &client.ip);
        if let Some(RetryAfter(secs)) = self.guard.count_password_attempt(&attempt, now).await? {
            return Err(LoginError::Throttled(secs));
        }

        let account = self.repo.find_by_email(email).await?;
        let (account, verdict, upgraded) =
            self.check_password(email, password, account, &client).await?;
        let known = account.clone();
        // Bots never sign in to the web, whatever an operator may have done to them.
        let account = match (verdict, account.filter(|a| !a.bot)) {
            (Verified::No, _) | (_, None) => {
                tracing::info!(outcome = "failure", "login");
                let record = Record::new("login", Actor::Anonymous)
                    .outcome(Outcome::Failure)
                    .maybe_target(known.as_ref())
                    .about(email.as_str())
                    .from(&client)
                    .details(serde_json::json!({ "method": "password", "reason": "invalid credentials" }));
                self.audit.record(record).await;
                return Err(LoginError::InvalidCredentials);
            }
            (Verified::YesRehashed(new_hash), Some(account)) => {
                if let Some(old) = &account.password_hash {
                    self.repo.rehash_password(&account.id, old.expose(), &new_hash).await?;
                }
                account
            }
            (Verified::Yes, Some(account)) => account,
        };
        if !account.is_active() {
            let record = Record::new("login", Actor::Anonymous)
                .outcome(Outcome::Refused)
                .target(&account)
                .from(&client)
                .details(
                    serde_json::json!({ "method": "password", "reason": "account not active" }),
                );
            self.audit.record(record).await;
            return Err(LoginError::Deactivated);
        }
        self.guard.password_attempt_succeeded(&attempt).await?;
        // Checked after the password, so the answer says nothing to someone without it.
        if self.policies.sso_required(&account).await? {
            let record = Record::new("login", Actor::Anonymous)
                .outcome(Outcome::Refused)
                .target(&account)
                .from(&client)
                .details(serde_json::json!({ "method": "password", "reason": "single sign-on required" }));
            self.audit.record(record).await;
            return Err(LoginError::SsoRequired);
        }
        self.legacy.link_on_sign_in(&account).await?;
        let amr = vec![AuthMethod::Password];
        match self.second_factor.begin_sign_in(&account, &client, next, replacing, amr).await? {
            BeginSignIn::Pending(token, step) => {
                tracing::info!(account = %account.id, outcome = "pending", ?step, "login");
                Ok(LoginOutcome::Pending(token, step))
            }
            BeginSignIn::SignedIn(success) => {
                let record = Record::new("login", Actor::Person(&account))
                    .target(&account)
                    .from(&client)
                    .details(serde_json::json!({ "method": "password" }));
                self.audit.record(record).await;
                tracing::info!(account = %account.id, outcome = "success", method = "password", "login");
                if upgraded {
                    return Ok(LoginOutcome::Upgraded(success));
                }
                Ok(LoginOutcome::SignedIn(success))
            }
        }
    }
}

//! The steps of a login after its first factor: the pending login and its steps (second
//! factor, then a new password and two-step enrolment when the policy asks for them), counting
//! and checking a code, and finishing it into a session.

use super::{
    PENDING_TTL_SECS, SecondFactorError, looks_like_recovery_code, matching_step,
    normalize_recovery_code,
};
use crate::accounts::Account;
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::guard::RetryAfter;
use crate::policies::{AuthMethod, TwoStep};
use crate::return_to::ReturnTo;
use crate::second_factor::SecondFactor;
use crate::second_factor::ports::{PendingLogin, PendingStep, PendingSteps};
use crate::secret::{OpaqueToken, TokenHash};
use crate::sessions::ClientInfo;
use crate::sessions::LoginSuccess;

/// Where a sign-in stands after its first factor.
#[derive(Debug)]
pub enum BeginSignIn {
    SignedIn(Box<LoginSuccess>),
    /// A pending login (its token goes in a cookie) at this step.
    Pending(OpaqueToken, PendingStep),
}

/// Where a sign-in stands after a step.
#[derive(Debug)]
pub enum SignInStep {
    SignedIn(Box<LoginSuccess>, ReturnTo),
    Next(PendingStep),
}

impl SecondFactor {
    /// Checks a TOTP or recovery code, counted against the account's limit before it is
    /// checked (a parallel burst of guesses is cut at the limit).
    pub(super) async fn check_code_throttled(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<(), SecondFactorError> {
        let now = self.kernel.now();
        if let Some(RetryAfter(secs)) = self.guard.count_code_attempt(&account.id, now).await? {
            return Err(SecondFactorError::Throttled(secs));
        }
        if self.verify_code(account, code, now).await? {
            self.guard.code_attempt_succeeded(&account.id).await?;
            Ok(())
        } else {
            let record = Record::new("second_factor.check", Actor::Person(account))
                .outcome(Outcome::Failure)
                .target(account)
                .details(serde_json::json!({ "reason": "wrong code" }));
            self.audit.record(record).await;
            Err(SecondFactorError::WrongCode)
        }
    }

    pub(super) async fn verify_code(
        &self,
        account: &Account,
        code: &str,
        now: Timestamp,
    ) -> Result<bool, SecondFactorError> {
        let repo = &self.repo;
        if looks_like_recovery_code(code) {
            let hash = TokenHash::of(&normalize_recovery_code(code));
            return Ok(repo.use_recovery_code(&account.id, &hash, now).await?);
        }
        let Some(record) = repo.find_totp(&account.id).await?.filter(|t| t.confirmed) else {
            return Ok(false);
        };
        let totp = self.totp_for(&record.secret, account)?;
        match matching_step(&totp, code, now) {
            // Only a step later than the last accepted one counts: no replays.
            Some(step) => Ok(repo.advance_totp_step(&account.id, step).await?),
            None => Ok(false),
        }
    }

    /// After the first factor (a password, or a passkey): a session at once, or a pending
    /// login with the steps the account still owes — its second factor, a new password when
    /// the policy says the old one has run out, two-step enrolment when the policy requires
    /// it. A pending login reaches nothing but those steps.
    pub(crate) async fn begin_sign_in(
        &self,
        account: &Account,
        client: &ClientInfo,
        next: &ReturnTo,
        replacing: Option<&SignedIn>,
        amr: Vec<AuthMethod>,
    ) -> Result<BeginSignIn, RepoError> {
        let now = self.kernel.now();
        let policy = self.policies.for_account(account).await?;
        let has_factor = self.two_factor_status(&account.id).await?.enabled();
        let steps = PendingSteps {
            second_factor: has_factor && !amr.contains(&AuthMethod::MultiFactor),
            new_password: amr.contains(&AuthMethod::Password)
                && policy.password_renewal(account, now).is_some(),
            enrolment: policy.two_step(account, has_factor, now) == TwoStep::EnrolNow,
        };
        let Some(step) = steps.next() else {
            let cookie =
                self.sessions.start_session(account, client.clone(), replacing, amr).await?;
            return Ok(BeginSignIn::SignedIn(Box::new(LoginSuccess {
                account: account.clone(),
                cookie,
            })));
        };
        let token = OpaqueToken::generate(self.kernel.rng());
        let pending = PendingLogin {
            account: account.id.clone(),
            client: client.clone(),
            next: next.as_str().to_owned(),
            expires_at: now.plus_secs(PENDING_TTL_SECS),
            steps,
            amr,
        };
        self.repo.insert_pending_login(&token.hash(), &pending, now).await?;
        Ok(BeginSignIn::Pending(token, step))
    }

    /// The pending login behind a token, if it is still good.
    pub async fn pending_login(&self, token: &str) -> Result<Option<PendingLogin>, RepoError> {
        let Some(token) = OpaqueToken::parse(token) else { return Ok(None) };
        self.repo.find_pending_login(&token.hash(), self.kernel.now()).await
    }

    /// The step a pending login is at (for showing the right page).
    pub async fn pending_step(&self, token: &str) -> Result<Option<PendingStep>, RepoError> {
        Ok(self.pending_login(token).await?.and_then(|p| p.steps.next()))
    }

    /// The second step of a login: a TOTP or recovery code for the pending login.
    pub async fn complete_second_factor(
        &self,
        token: &str,
        code: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<SignInStep, SecondFactorError> {
        let (mut pending, account) = self.pending_at(token, PendingStep::SecondFactor).await?;
        self.check_code_throttled(&account, code).await?;
        pending.steps.second_factor = false;
        AuthMethod::add(&mut pending.amr, AuthMethod::OneTimeCode);
        self.advance(token, pending, &account, replacing).await
    }

    /// A live pending login and its (active) account.
    pub(crate) async fn pending_account(
        &self,
        token: &str,
    ) -> Result<(PendingLogin, Account), SecondFactorError> {
        let token = OpaqueToken::parse(token).ok_or(SecondFactorError::Expired)?;
        let now = self.kernel.now();
        let pending = self
            .repo
            .find_pending_login(&token.hash(), now)
            .await?
            .ok_or(SecondFactorError::Expired)?;
        let account = self
            .accounts
            .find_by_id(&pending.account)
            .await?
            .filter(Account::is_active)
            .ok_or(SecondFactorError::Expired)?;
        Ok((pending, account))
    }

    /// A pending login that is at `step` (steps are taken in order: a later one cannot be
    /// taken first).
    pub(crate) async fn pending_at(
        &self,
        token: &str,
        step: PendingStep,
    ) -> Result<(PendingLogin, Account), SecondFactorError> {
        let (pending, account) = self.pending_account(token).await?;
        if pending.steps.next() != Some(step) {
            return Err(SecondFactorError::Expired);
        }
        Ok((pending, account))
    }

    /// Marks `step` as taken, once: false when another request took it first (or the pending
    /// login is gone). For steps whose side effects must not happen twice.
    pub(crate) async fn claim_pending_step(
        &self,
        token: &str,
        step: PendingStep,
    ) -> Result<bool, RepoError> {
        let Some(token) = OpaqueToken::parse(token) else { return Ok(false) };
        self.repo.claim_pending_step(&token.hash(), step, self.kernel.now()).await
    }

    /// A step is done: on to the next one, or — when none is left — the pending login is used
    /// up (once: a racing finish fails) and a session starts.
    pub(crate) async fn advance(
        &self,
        token: &str,
        pending: PendingLogin,
        account: &Account,
        replacing: Option<&SignedIn>,
    ) -> Result<SignInStep, SecondFactorError> {
        let hash = OpaqueToken::parse(token).ok_or(SecondFactorError::Expired)?.hash();
        let now = self.kernel.now();
        if let Some(step) = pending.steps.next() {
            // Each step gets the full time (scanning a QR code takes a while).
            let mut pending = pending;
            pending.expires_at = now.plus_secs(PENDING_TTL_SECS);
            if !self.repo.update_pending_login(&hash, &pending, now).await? {
                return Err(SecondFactorError::Expired);
            }
            return Ok(SignInStep::Next(step));
        }
        if !self.repo.consume_pending_login(&hash, now).await? {
            return Err(SecondFactorError::Expired);
        }
        let method = AuthMethod::join(&pending.amr);
        let record = Record::new("login", Actor::Person(account))
            .target(account)
            .from(&pending.client)
            .details(serde_json::json!({ "method": method }));
        self.audit.record(record).await;
        let cookie = self
            .sessions
            .start_session(account, pending.client.clone(), replacing, pending.amr.clone())
            .await?;
        tracing::info!(account = %account.id, outcome = "success", method, "login");
        // Stored by us from a parsed `ReturnTo`; parsed again on the way out all the same.
        let next = ReturnTo::parse_or_account(&pending.next);
        Ok(SignInStep::SignedIn(Box::new(LoginSuccess { account: account.clone(), cookie }), next))
    }

    /// Forgets expired pending logins and WebAuthn ceremonies (housekeeping).
    pub async fn purge_expired_second_factor(&self) -> Result<u64, RepoError> {
        self.repo.purge_expired_second_factor(self.kernel.now()).await
    }
}

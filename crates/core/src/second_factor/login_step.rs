//! The second step of a login: counting and checking a code, the pending login between the
//! password and the code, and finishing it into a session.

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
use crate::return_to::ReturnTo;
use crate::second_factor::SecondFactor;
use crate::second_factor::ports::PendingLogin;
use crate::secret::{OpaqueToken, TokenHash};
use crate::sessions::ClientInfo;
use crate::sessions::LoginSuccess;

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

    /// After a correct password: a pending login if the account has a second factor.
    pub(crate) async fn start_pending_login(
        &self,
        account: &Account,
        client: &ClientInfo,
        next: &ReturnTo,
    ) -> Result<Option<OpaqueToken>, RepoError> {
        if !self.two_factor_status(&account.id).await?.enabled() {
            return Ok(None);
        }
        let now = self.kernel.now();
        let token = OpaqueToken::generate(self.kernel.rng());
        let pending = PendingLogin {
            account: account.id.clone(),
            client: client.clone(),
            next: next.as_str().to_owned(),
            expires_at: now.plus_secs(PENDING_TTL_SECS),
        };
        self.repo.insert_pending_login(&token.hash(), &pending, now).await?;
        Ok(Some(token))
    }

    /// The account a pending login belongs to, if it is still good (for the second-step page).
    pub async fn pending_login(&self, token: &str) -> Result<Option<PendingLogin>, RepoError> {
        let Some(token) = OpaqueToken::parse(token) else { return Ok(None) };
        self.repo.find_pending_login(&token.hash(), self.kernel.now()).await
    }

    /// The second step of a login: a TOTP or recovery code for the pending login. On success
    /// the pending login is used up and a session starts.
    pub async fn complete_second_factor(
        &self,
        token: &str,
        code: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<(LoginSuccess, ReturnTo), SecondFactorError> {
        let (_, account) = self.pending_account(token).await?;
        self.check_code_throttled(&account, code).await?;
        self.finish_pending_login(token, replacing).await
    }

    /// A live pending login and its (active) account.
    pub(super) async fn pending_account(
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

    /// The second factor was right: the pending login is used up and a session starts.
    pub(crate) async fn finish_pending_login(
        &self,
        token: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<(LoginSuccess, ReturnTo), SecondFactorError> {
        let (pending, account) = self.pending_account(token).await?;
        let hash = OpaqueToken::parse(token).ok_or(SecondFactorError::Expired)?.hash();
        if !self.repo.consume_pending_login(&hash, self.kernel.now()).await? {
            return Err(SecondFactorError::Expired);
        }
        let record = Record::new("login", Actor::Person(&account))
            .target(&account)
            .from(&pending.client)
            .details(serde_json::json!({ "method": "password+second_factor" }));
        self.audit.record(record).await;
        let cookie =
            self.sessions.start_session(&account.id, pending.client.clone(), replacing).await?;
        tracing::info!(account = %account.id, outcome = "success", method = "password+2fa", "login");
        // Stored by us from a parsed `ReturnTo`; parsed again on the way out all the same.
        Ok((LoginSuccess { account, cookie }, ReturnTo::parse_or_account(&pending.next)))
    }

    /// Forgets expired pending logins and WebAuthn ceremonies (housekeeping).
    pub async fn purge_expired_second_factor(&self) -> Result<u64, RepoError> {
        self.repo.purge_expired_second_factor(self.kernel.now()).await
    }
}

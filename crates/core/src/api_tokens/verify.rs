//! What products ask: is this basic-auth pair good (`POST /oauth/basic-auth/verify`), and
//! what is this API token (introspection).
//!
//! A token is judged from one indexed read; nothing about a verdict is cached, so revocation,
//! expiry, deactivation and policy changes apply to the next request on every node (policies
//! within their own refresh bound, [`crate::policies::RECHECK_SECS`]). A right token is never
//! refused by throttling: 256 random bits cannot be guessed, and refusing it would let anyone
//! who knows a bot's username lock the bot out. Every failure is counted, atomically, against
//! the token's prefix, the username and the address, and answered `throttled` once one is over
//! its limit. Passwords are guessable, so they are counted *before* they are checked, on the
//! same counters as sign-ins, and hashed in the same bounded queue.

use crate::accounts::{Account, Email};
use crate::api_tokens::ApiTokens;
use crate::api_tokens::model::{
    ApiToken, BasicAuthAnswer, Credential, InactiveReason, PresentedToken,
};
use crate::api_tokens::usage::UseBatch;
use crate::audit::{Actor, Outcome, Record};
use crate::clock::Timestamp;
use crate::credentials::{Password, Verified};
use crate::errors::{RepoError, Unexpected};
use crate::guard::{HashFailure, PasswordAttempt, RetryAfter, account_key, ip_key, name_key};
use crate::legacy::model::StoredRecord;
use crate::legacy::{LegacyBasicAuth, UpgradeError};
use crate::secret::TokenHash;

const DAY_SECS: i64 = 24 * 3600;

/// One password verification's context, for its answer and audit record.
struct Attempt<'a> {
    client_id: &'a str,
    email: &'a Email,
    ip: &'a str,
    counters: &'a PasswordAttempt,
    notable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Password hashing is saturated: try again shortly (503).
    #[error("password verification is saturated")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for VerifyError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<UpgradeError> for VerifyError {
    fn from(e: UpgradeError) -> Self {
        match e {
            UpgradeError::Busy => Self::Busy,
            UpgradeError::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl From<HashFailure> for VerifyError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

/// What introspection says about a live API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIntrospection {
    pub sub: String,
    pub username: String,
    pub token_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

fn username_matches(account: &Account, username: &str) -> bool {
    Email::parse(username).is_ok_and(|e| e.normalized() == account.email.normalized())
}

impl ApiTokens {
    /// Judges a basic-auth pair for a product (`client_id`, already authenticated), as seen
    /// from `ip` (the address the product's caller came from, or the product's own).
    pub async fn verify_basic_auth(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        ip: &str,
    ) -> Result<BasicAuthAnswer, VerifyError> {
        match PresentedToken::parse(password) {
            Some(token) => Ok(self.verify_token(client_id, username, &token, ip).await?),
            None => self.verify_password(client_id, username, password, ip).await,
        }
    }

    /// The token's verdict for this product, before any counting.
    async fn judge(
        &self,
        token: &ApiToken,
        account: &Account,
        client_id: &str,
        now: Timestamp,
    ) -> Result<Result<Timestamp, InactiveReason>, RepoError> {
        if token.revoked_at.is_some() {
            return Ok(Err(InactiveReason::Revoked));
        }
        let settings = self.policies.for_account(account).await?.settings;
        let expires = token.effective_expiry(settings.api_token_max_days);
        Ok(if now >= expires {
            Err(InactiveReason::Expired)
        } else if !token.allows(client_id) {
            Err(InactiveReason::WrongProduct)
        } else if !account.is_active() {
            Err(InactiveReason::AccountDeactivated)
        } else if !settings.api_tokens {
            Err(InactiveReason::PolicyForbids)
        } else {
            Ok(expires)
        })
    }

    async fn verify_token(
        &self,
        client_id: &str,
        username: &str,
        presented: &PresentedToken,
        ip: &str,
    ) -> Result<BasicAuthAnswer, RepoError> {
        let now = self.kernel.now();
        let found = self
            .lookup(&presented.secret.hash(), now)
            .await?
            .filter(|(_, account)| username_matches(account, username));
        let verdict = match &found {
            Some((token, account)) => self.judge(token, account, client_id, now).await?,
            None => Err(InactiveReason::Unknown),
        };
        let reason = match (verdict, &found) {
            (Ok(expires), Some((token, account))) => {
                self.count_use(&token.id, ip, now).await;
                return Ok(BasicAuthAnswer::active(account, Credential::ApiToken, Some(expires)));
            }
            (Err(reason), _) => reason,
            (Ok(_), None) => InactiveReason::Unknown,
        };
        let user_key = match Email::parse(username) {
            Ok(email) => account_key("apitoken:user:", &email),
            Err(_) => name_key("apitoken:user:", username),
        };
        let limits = self.guard.login_limits();
        let ip_key = ip_key("apitoken:ip:", ip);
        let keys = [
            (presented.throttle_key.as_str(), limits.account_failures),
            (user_key.as_str(), limits.account_failures),
            (ip_key.as_str(), limits.ip_failures),
        ];
        let counted = self.guard.count_reporting(&keys, limits.login_window_secs, now).await?;
        if counted.notable {
            let account = found.as_ref().map(|(_, a)| a);
            let record = Record::new("basic_auth.failed", Actor::Product(client_id))
                .outcome(Outcome::Failure)
                .maybe_target(account)
                .about(username.chars().take(120).collect::<String>())
                .details(serde_json::json!({
                    "credential": "api_token",
                    "reason": reason.as_str(),
                    "token": found.as_ref().map(|(t, _)| t.id.as_str()),
                    "ip": ip,
                    "throttled": counted.retry_after.is_some(),
                }));
            self.audit.record(record).await;
        }
        Ok(match counted.retry_after {
            Some(RetryAfter(secs)) => BasicAuthAnswer::throttled(secs),
            None => BasicAuthAnswer::inactive(reason),
        })
    }

    async fn verify_password(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        ip: &str,
    ) -> Result<BasicAuthAnswer, VerifyError> {
        let now = self.kernel.now();
        // A legacy username (the product's own login name) names its records' address.
        let (named, records) = match Password::for_verification(password) {
            Ok(_) => self.legacy.records_named(client_id, username).await?,
            Err(_) => (None, Vec::new()),
        };
        let (Some(email), Ok(password)) = (named, Password::for_verification(password)) else {
            let limits = self.guard.login_limits();
            let key = ip_key("login:ip:", ip);
            let keys = [(key.as_str(), limits.ip_failures)];
            return Ok(
                match self.guard.count_against(&keys, limits.login_window_secs, now).await? {
                    Some(RetryAfter(secs)) => BasicAuthAnswer::throttled(secs),
                    None => BasicAuthAnswer::inactive(InactiveReason::Unknown),
                },
            );
        };
        let attempt = PasswordAttempt::new(&email, ip);
        let limits = self.guard.login_limits();
        let keys = [
            (attempt.account_key.as_str(), limits.account_failures),
            (attempt.ip_key.as_str(), limits.ip_failures),
        ];
        let counted = self.guard.count_reporting(&keys, limits.login_window_secs, now).await?;
        if let Some(RetryAfter(secs)) = counted.retry_after {
            self.audit_password_failure(client_id, None, &email, "throttled", ip, counted.notable)
                .await;
            return Ok(BasicAuthAnswer::throttled(secs));
        }
        let account = self.accounts.find_by_email(&email).await?;
        let attempt =
            Attempt { client_id, email: &email, ip, counters: &attempt, notable: counted.notable };
        if !records.is_empty() && account.as_ref().is_none_or(|a| a.password_hash.is_none()) {
            return self.verify_legacy_password(&attempt, &records, account, &password).await;
        }
        let stored =
            account.as_ref().and_then(|a| a.password_hash.as_ref().map(|h| h.expose().as_str()));
        let verdict = self
            .hasher
            .verify(&password, stored, self.kernel.rng())
            .await
            .map_err(HashFailure::from)?;
        let account = match (verdict, account) {
            (Verified::No, known) | (_, known @ None) => {
                self.audit_password_failure(
                    client_id,
                    known.as_ref(),
                    &email,
                    "unknown",
                    ip,
                    counted.notable,
                )
                .await;
                return Ok(BasicAuthAnswer::inactive(InactiveReason::Unknown));
            }
            (Verified::YesRehashed(new_hash), Some(account)) => {
                if let Some(old) = &account.password_hash {
                    self.accounts.rehash_password(&account.id, old.expose(), &new_hash).await?;
                }
                account
            }
            (Verified::Yes, Some(account)) => account,
        };
        self.guard.password_attempt_succeeded(attempt.counters).await?;
        let refusal = self.password_refusal(&account, client_id, now).await?;
        Ok(self.answer(&attempt, &account, refusal, None).await)
    }

    /// A password checked against a product's legacy records (the account has no Latchkey
    /// password yet): good while the address is used with this product alone.
    async fn verify_legacy_password(
        &self,
        attempt: &Attempt<'_>,
        records: &[StoredRecord],
        account: Option<Account>,
        password: &Password,
    ) -> Result<BasicAuthAnswer, VerifyError> {
        let proven = self
            .legacy
            .verify_for_basic_auth(attempt.email, records, account.as_ref(), password)
            .await?;
        let Some(LegacyBasicAuth { account, legacy_id }) = proven else {
            self.audit_password_failure(
                attempt.client_id,
                account.as_ref(),
                attempt.email,
                "unknown",
                attempt.ip,
                attempt.notable,
            )
            .await;
            return Ok(BasicAuthAnswer::inactive(InactiveReason::Unknown));
        };
        self.guard.password_attempt_succeeded(attempt.counters).await?;
        let refusal = if !account.is_active() {
            Some(InactiveReason::AccountDeactivated)
        } else if self.legacy.used_elsewhere(attempt.email, attempt.client_id).await? {
            Some(InactiveReason::BotSpansProducts)
        } else {
            self.policy_refusal(&account).await?
        };
        let refusal = match refusal {
            Some(r) => Some(r),
            None => self.product_binding(&account, attempt.client_id, self.kernel.now()).await?,
        };
        Ok(self.answer(attempt, &account, refusal, Some(legacy_id)).await)
    }

    /// The answer for a right password, and its audit record when refused.
    async fn answer(
        &self,
        attempt: &Attempt<'_>,
        account: &Account,
        refusal: Option<InactiveReason>,
        legacy_user_id: Option<String>,
    ) -> BasicAuthAnswer {
        if let Some(reason) = refusal {
            self.audit_password_failure(
                attempt.client_id,
                Some(account),
                attempt.email,
                reason.as_str(),
                attempt.ip,
                true,
            )
            .await;
            return BasicAuthAnswer::inactive(reason);
        }
        let mut answer = BasicAuthAnswer::active(account, Credential::Password, None);
        answer.legacy_user_id = legacy_user_id;
        answer
    }

    /// What the policy says about passwords over basic auth, whoever's password it is: the
    /// site's setting is a ceiling, and no second step may be owed or enrolled.
    async fn policy_refusal(&self, account: &Account) -> Result<Option<InactiveReason>, RepoError> {
        if account.bot {
            // Bots hold API tokens only.
            return Ok(Some(InactiveReason::PolicyForbids));
        }
        let policy = self.policies.for_account(account).await?;
        let site = self.policies.site_default().await?;
        let has_factor = self.factors.find_totp(&account.id).await?.is_some_and(|t| t.confirmed)
            || !self.factors.list_webauthn_credentials(&account.id).await?.is_empty();
        let allowed = site.settings.password_basic_auth
            && policy.settings.password_basic_auth
            && !has_factor
            && !policy.settings.require_two_step;
        Ok((!allowed).then_some(InactiveReason::PolicyForbids))
    }

    /// Why a right Latchkey password may still not be used over basic auth by this product:
    /// the address proven, the password still valid, the policy's say, one product.
    async fn password_refusal(
        &self,
        account: &Account,
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<InactiveReason>, RepoError> {
        if !account.is_active() {
            return Ok(Some(InactiveReason::AccountDeactivated));
        }
        if let Some(refusal) = self.policy_refusal(account).await? {
            return Ok(Some(refusal));
        }
        let policy = self.policies.for_account(account).await?;
        if !account.email_verified() || policy.password_renewal(account, now).is_some() {
            return Ok(Some(InactiveReason::PolicyForbids));
        }
        self.product_binding(account, client_id, now).await
    }

    /// A password works over basic auth for the one product the account is used with: the
    /// products it signed in to, and the product its password was first verified for.
    async fn product_binding(
        &self,
        account: &Account,
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<InactiveReason>, RepoError> {
        let mut used = self.repo.products_signed_in(&account.id).await?;
        if let Some(bound) = self.repo.basic_auth_binding(&account.id).await? {
            used.push(bound);
        }
        used.sort();
        used.dedup();
        let others: Vec<&String> = used.iter().filter(|p| *p != client_id).collect();
        if others.is_empty() {
            let bound = self.repo.bind_basic_auth(&account.id, client_id, now).await?;
            return Ok((bound != client_id).then_some(InactiveReason::WrongProduct));
        }
        let spans = others.len() > 1 || used.iter().any(|p| p == client_id);
        Ok(Some(if spans {
            InactiveReason::BotSpansProducts
        } else {
            InactiveReason::WrongProduct
        }))
    }

    async fn audit_password_failure(
        &self,
        client_id: &str,
        account: Option<&Account>,
        email: &Email,
        reason: &str,
        ip: &str,
        notable: bool,
    ) {
        if !notable {
            return;
        }
        let record = Record::new("basic_auth.failed", Actor::Product(client_id))
            .outcome(Outcome::Failure)
            .maybe_target(account)
            .about(email.as_str())
            .details(serde_json::json!({ "credential": "password", "reason": reason, "ip": ip }));
        self.audit.record(record).await;
    }

    /// RFC 7662 for an API token presented by a product: live and usable by that product.
    pub async fn introspect(
        &self,
        client_id: &str,
        raw: &str,
        ip: &str,
    ) -> Result<Option<TokenIntrospection>, RepoError> {
        let Some(presented) = PresentedToken::parse(raw) else { return Ok(None) };
        let now = self.kernel.now();
        let Some((token, account)) = self.lookup(&presented.secret.hash(), now).await? else {
            return Ok(None);
        };
        let Ok(expires_at) = self.judge(&token, &account, client_id, now).await? else {
            return Ok(None);
        };
        self.count_use(&token.id, ip, now).await;
        Ok(Some(TokenIntrospection {
            sub: account.id.as_str().to_owned(),
            username: account.email.as_str().to_owned(),
            token_id: token.id,
            created_at: token.created_at,
            expires_at,
        }))
    }

    /// The token and its account, from this node's cache when looked up in the last
    /// [`crate::api_tokens::CACHE_SECS`] seconds.
    async fn lookup(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, Account)>, RepoError> {
        if let Some(hit) = self.cache.get(hash, now) {
            return Ok(Some(hit));
        }
        let found = self.repo.find_by_hash(hash).await?;
        if let Some((token, account)) = &found {
            self.cache.put(hash.clone(), token.clone(), account.clone(), now);
        }
        Ok(found)
    }

    async fn count_use(&self, token_id: &str, ip: &str, now: Timestamp) {
        if let Some(batch) = self.uses.record(token_id, ip, now) {
            self.write_uses(&batch).await;
        }
    }

    async fn write_uses(&self, batch: &UseBatch) {
        let day = batch.last_at.unix().div_euclid(DAY_SECS);
        let written = self
            .repo
            .record_use(&batch.token_id, batch.last_at, &batch.last_ip, day, batch.uses)
            .await;
        if let Err(e) = written {
            // Not worth failing a product's request over; counted again next time.
            tracing::warn!(error = %e, token = %batch.token_id, "recording API token use failed");
            self.uses.restore(batch);
        }
    }

    /// Housekeeping: writes the uses counted in memory, then turns each past day's count into
    /// one `api_token.used` audit record per token (each taken by exactly one node).
    pub async fn summarize_use(&self) -> Result<u64, RepoError> {
        let now = self.kernel.now();
        for batch in self.uses.drain(now) {
            self.write_uses(&batch).await;
        }
        let today = now.unix().div_euclid(DAY_SECS);
        let rows = self.repo.take_usage_before(today).await?;
        for row in &rows {
            let account = self.accounts.find_by_id(&row.account).await?;
            let date = Timestamp::from_unix(row.day * DAY_SECS).rfc3339();
            let record = Record::new("api_token.used", Actor::System)
                .maybe_target(account.as_ref())
                .details(serde_json::json!({
                    "token": row.token_id,
                    "day": date.get(..10).unwrap_or(&date),
                    "uses": row.uses,
                }));
            self.audit.record(record).await;
        }
        Ok(rows.len() as u64)
    }
}

//! The guard: every password, code and mailed request is counted before it is evaluated, on
//! shared, database-held fixed-window counters; and a signed-in person's password is
//! re-checked (counted the same way) before a sensitive change.
//!
//! Two counters guard every password check: one per account (an attacker rotating addresses
//! against one account is slowed) and one per client IP (one address spraying many accounts
//! is slowed). While either is over its limit, even the right password is refused with a
//! retry-after; the window is short, so the owner is never locked out for long.
//!
//! Every attempt is counted *before* the secret is evaluated, in one atomic upsert per
//! counter, and refused when that count is over the limit: a burst of parallel guesses can
//! never be evaluated past the limit (reading the count first and adding to it after the
//! slow hash let 40 parallel guesses through a limit of 5). A right answer then clears the
//! per-account counter and gives the attempt back to the per-IP one.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::accounts::Email;
use crate::audit::Audit;
use crate::authority::SignedIn;
use crate::clock::Timestamp;
use crate::credentials::{HashError, Password, PasswordHasher, Verified};
use crate::errors::{RepoError, Unexpected};
use crate::guard::ports::ThrottleRepo;
use crate::kernel::Kernel;
pub use crate::settings::ThrottlePolicy;

pub mod ports;

/// Sensitive settings (factors, email, password) need a sign-in at most this old (step-up).
pub const STEP_UP_SECS: i64 = 600;

/// The guard in front of every secret a person presents: counts first, then checks.
#[derive(Clone)]
pub struct Guard {
    counters: Arc<dyn ThrottleRepo>,
    hasher: PasswordHasher,
    audit: Audit,
    kernel: Kernel,
    policy: ThrottlePolicy,
}

/// What [`Guard::mail_gate`] allows.
pub(crate) enum MailGate {
    Send,
    /// Answer as usual, send nothing.
    Silent,
    /// Refuse visibly, with the seconds to wait.
    Throttled(i64),
}

/// What counting an event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counted {
    pub retry_after: Option<RetryAfter>,
    /// The first event of a window on some counter, or the one that crossed its limit.
    pub notable: bool,
}

/// A throttle verdict: how long until the caller may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

/// `prefix` and the first 128 bits of SHA-256 of `text`, in hex: the counter table holds no
/// addresses or usernames.
fn hashed_key(prefix: &str, text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = String::with_capacity(prefix.len() + 33);
    key.push_str(prefix);
    for b in &digest[..16] {
        use std::fmt::Write as _;
        let _ = write!(key, "{b:02x}");
    }
    key
}

pub(crate) fn account_key(prefix: &str, email: &Email) -> String {
    hashed_key(prefix, email.normalized())
}

/// A counter for a name that is not a valid address (garbage usernames), hashed likewise.
pub(crate) fn name_key(prefix: &str, name: &str) -> String {
    hashed_key(prefix, &name.trim().to_lowercase())
}

pub(crate) fn ip_key(prefix: &str, ip: &str) -> String {
    format!("{prefix}{ip}")
}

fn code_key(account: &crate::accounts::AccountId) -> String {
    format!("2fa:{account}")
}

/// The counters one password check is counted against: the account's and the client IP's.
pub(crate) struct PasswordAttempt {
    pub(crate) account_key: String,
    pub(crate) ip_key: String,
}

impl PasswordAttempt {
    pub(crate) fn new(email: &Email, ip: &str) -> Self {
        Self { account_key: account_key("login:acct:", email), ip_key: ip_key("login:ip:", ip) }
    }
}

impl Guard {
    pub fn new(
        counters: Arc<dyn ThrottleRepo>,
        hasher: PasswordHasher,
        audit: Audit,
        kernel: Kernel,
        policy: ThrottlePolicy,
    ) -> Self {
        Self { counters, hasher, audit, kernel, policy }
    }

    /// Counts a password check before it runs; `Some` when it must not run (over a limit).
    pub(crate) async fn count_password_attempt(
        &self,
        attempt: &PasswordAttempt,
        now: Timestamp,
    ) -> Result<Option<RetryAfter>, RepoError> {
        let policy = self.policy;
        let keys = [
            (attempt.account_key.as_str(), policy.account_failures),
            (attempt.ip_key.as_str(), policy.ip_failures),
        ];
        self.count_against(&keys, policy.login_window_secs, now).await
    }

    /// The password was right: the account's counter starts over and the IP's gets the
    /// attempt back (a busy office behind one address is not throttled by its own logins).
    pub(crate) async fn password_attempt_succeeded(
        &self,
        attempt: &PasswordAttempt,
    ) -> Result<(), RepoError> {
        self.counters.settle(&attempt.account_key, &attempt.ip_key).await
    }

    /// Counts a second-step code (TOTP or recovery) before it is checked; `Some` when it must
    /// not be checked.
    pub(crate) async fn count_code_attempt(
        &self,
        account: &crate::accounts::AccountId,
        now: Timestamp,
    ) -> Result<Option<RetryAfter>, RepoError> {
        let policy = self.policy;
        let key = code_key(account);
        self.count_against(
            &[(key.as_str(), policy.account_failures)],
            policy.login_window_secs,
            now,
        )
        .await
    }

    pub(crate) async fn code_attempt_succeeded(
        &self,
        account: &crate::accounts::AccountId,
    ) -> Result<(), RepoError> {
        self.counters.clear(&code_key(account)).await
    }

    /// Counts one event against each key (one atomic upsert for all of them; the keys are
    /// distinct); `Some` if any is now over its limit.
    pub(crate) async fn count_against(
        &self,
        keys: &[(&str, u32)],
        window_secs: i64,
        now: Timestamp,
    ) -> Result<Option<RetryAfter>, RepoError> {
        Ok(self.count_reporting(keys, window_secs, now).await?.retry_after)
    }

    /// [`count_against`](Self::count_against), also saying whether this event is worth an
    /// audit record: the first of a window on some counter, or the one that crossed a limit.
    /// A flood of failures thus leaves at most two records per counter and window.
    pub(crate) async fn count_reporting(
        &self,
        keys: &[(&str, u32)],
        window_secs: i64,
        now: Timestamp,
    ) -> Result<Counted, RepoError> {
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        let counts = match names.as_slice() {
            [one] => vec![self.counters.hit(one, window_secs, now).await?],
            many => self.counters.hit_all(many, window_secs, now).await?,
        };
        let mut wait = 0;
        let mut notable = false;
        for (c, (_, limit)) in counts.iter().zip(keys) {
            notable |= c.count == 1 || c.count == limit.saturating_add(1);
            if c.count > *limit {
                wait = wait.max(now.secs_until(c.window_start.plus_secs(window_secs)).max(1));
            }
        }
        Ok(Counted { retry_after: (wait > 0).then_some(RetryAfter(wait)), notable })
    }

    /// The limits and window for failed basic-auth verifications: an account's (or a token
    /// prefix's) and an address's, as for logins.
    pub(crate) fn login_limits(&self) -> ThrottlePolicy {
        self.policy
    }

    /// The gate in front of every form that emails an address (verification resends, reset
    /// links): a visible per-IP limit, then a silent per-address one. Past the latter nothing
    /// is sent, but the caller answers as usual: a visible refusal would reveal the account.
    pub(crate) async fn mail_gate(
        &self,
        purpose: &str,
        email: &Email,
        ip: &str,
        now: Timestamp,
    ) -> Result<MailGate, RepoError> {
        let policy = self.policy;
        let ip_key = ip_key(&format!("{purpose}:ip:"), ip);
        let per_ip = [(ip_key.as_str(), policy.requests_per_ip)];
        if let Some(RetryAfter(secs)) =
            self.count_against(&per_ip, policy.mail_window_secs, now).await?
        {
            return Ok(MailGate::Throttled(secs));
        }
        let address_key = account_key(&format!("{purpose}:acct:"), email);
        let per_address = [(address_key.as_str(), policy.mails_per_address)];
        let over = self.count_against(&per_address, policy.mail_window_secs, now).await?;
        Ok(if over.is_some() { MailGate::Silent } else { MailGate::Send })
    }

    /// Housekeeping run by the background job.
    pub async fn purge_stale_counters(&self) -> Result<u64, RepoError> {
        let p = self.policy;
        let longest = p.login_window_secs.max(p.mail_window_secs);
        let now = self.kernel.now();
        self.counters.delete_stale(now.plus_secs(-longest)).await
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

impl Guard {
    /// Re-checks the signed-in person's password (sensitive changes ask for it again), counted
    /// against the same per-account and per-IP limits as logins, before the hash runs.
    pub(crate) async fn recheck_password(
        &self,
        signed_in: &SignedIn,
        password: &Password,
    ) -> Result<Recheck, HashFailure> {
        let account = signed_in.account();
        let now = self.kernel.now();
        let attempt = PasswordAttempt::new(&account.email, &signed_in.session().client.ip);
        if let Some(RetryAfter(secs)) = self.count_password_attempt(&attempt, now).await? {
            return Ok(Recheck::Throttled(secs));
        }
        let verdict = self
            .hasher
            .verify(
                password,
                account.password_hash.as_ref().map(|h| h.expose().as_str()),
                self.kernel.rng(),
            )
            .await?;
        if verdict == Verified::No {
            let record =
                crate::audit::Record::new("password.recheck", crate::audit::Actor::Person(account))
                    .outcome(crate::audit::Outcome::Failure)
                    .target(account)
                    .from(&signed_in.session().client);
            self.audit.record(record).await;
            return Ok(Recheck::Wrong);
        }
        self.password_attempt_succeeded(&attempt).await?;
        Ok(Recheck::Right)
    }

    /// Whether the session's sign-in (with its second step) is recent enough for a sensitive
    /// change: turning two-step verification on or off, adding or removing a key, changing
    /// the email.
    pub fn sign_in_is_recent(&self, signed_in: &SignedIn) -> bool {
        signed_in.session().created_at.secs_until(self.kernel.now()) <= STEP_UP_SECS
    }
}

/// Hashing either answers, is saturated (the caller says "try again shortly"), or broke.
pub(crate) enum HashFailure {
    Busy,
    Unexpected(Unexpected),
}

impl From<RepoError> for HashFailure {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashError> for HashFailure {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            HashError::Unexpected(_) => Self::Unexpected(Unexpected(Box::new(e))),
        }
    }
}

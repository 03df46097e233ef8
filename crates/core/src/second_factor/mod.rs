//! Two-step verification: an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s, for
//! compatibility with every app) and single-use recovery codes. The password step of a login
//! ends in a *pending login* when the account has a second factor: a short-lived, single-use
//! token that grants nothing but the second step.
//!
//! - TOTP secrets are 160 random bits, sealed at rest under a key derived from the master key.
//! - A code is accepted within ±1 step of clock skew and never twice: the last accepted step is
//!   advanced with one conditional UPDATE, so a replay (or a race) fails.
//! - Recovery codes carry 80 random bits, are shown once, stored as SHA-256 and used once.
//! - Wrong codes are throttled per account like wrong passwords.
//! - Every change emails the account owner.

use totp_rs::{Algorithm, TOTP};

mod login_step;
mod required;
mod webauthn;

pub use login_step::{BeginSignIn, SignInStep};
pub use ports::PendingStep;
pub use webauthn::{Ceremony, KeySummary};

use std::sync::Arc;

use crate::accounts::ports::AccountRepo;
use crate::accounts::{Account, AccountId};
use crate::audit::{Actor, Audit, Record};
use crate::authority::SignedIn;
use crate::clock::Timestamp;
use crate::credentials::Password;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::guard::{Guard, HashFailure, Recheck, RetryAfter};
use crate::kernel::Kernel;
use crate::mail;
use crate::policies::Policies;
use crate::sealed::Sealer;
use crate::second_factor::ports::SecondFactorRepo;
use crate::secret::{TokenHash, constant_time_eq};
use crate::sessions::Sessions;

const ISSUER: &str = "Latchkey";
const DIGITS: usize = 6;
const STEP_SECS: u64 = 30;
const SECRET_BYTES: usize = 20;
const RECOVERY_CODES: usize = 10;
/// The password step is good for this long.
const PENDING_TTL_SECS: i64 = 300;
pub use crate::guard::STEP_UP_SECS;

/// What the second factor needs: a key derived from the master key for TOTP secrets, and the
/// WebAuthn relying party (none when the public URL's host is an IP address).
pub struct SecondFactorState {
    totp_secrets: Sealer,
    webauthn: Option<webauthn_rs::Webauthn>,
}

impl SecondFactorState {
    pub fn new(
        master_key: &[u8; 32],
        public_url: &str,
    ) -> Result<Self, crate::oidc_provider::KeyError> {
        Ok(Self {
            totp_secrets: Sealer::new(master_key, b"latchkey totp secrets v1")?,
            webauthn: webauthn::relying_party(public_url),
        })
    }
}

/// Two-step verification's service: enrolling and removing factors, and the second step of
/// a sign-in.
#[derive(Clone)]
pub struct SecondFactor {
    repo: Arc<dyn SecondFactorRepo>,
    accounts: Arc<dyn AccountRepo>,
    state: Arc<SecondFactorState>,
    guard: Guard,
    policies: Policies,
    sessions: Sessions,
    audit: Audit,
    kernel: Kernel,
}

/// The services two-step verification builds on.
pub struct SecondFactorDeps {
    pub guard: Guard,
    pub policies: Policies,
    pub sessions: Sessions,
    pub audit: Audit,
    pub kernel: Kernel,
}

impl SecondFactor {
    pub fn new(
        repo: Arc<dyn SecondFactorRepo>,
        accounts: Arc<dyn AccountRepo>,
        state: SecondFactorState,
        deps: SecondFactorDeps,
    ) -> Self {
        let SecondFactorDeps { guard, policies, sessions, audit, kernel } = deps;
        Self { repo, accounts, state: Arc::new(state), guard, policies, sessions, audit, kernel }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecondFactorError {
    #[error("That code is not valid. Check your authenticator app's clock and try again.")]
    WrongCode,
    #[error("Your password is incorrect.")]
    WrongPassword,
    #[error("An authenticator app is already set up. Turn it off first to set up another.")]
    AlreadyEnabled,
    #[error("No authenticator app is being set up. Start again.")]
    NotEnrolling,
    #[error("Two-step verification is not turned on.")]
    NotEnabled,
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("We are handling a lot of sign-ins right now. Try again in a moment.")]
    Busy,
    #[error("This sign-in has expired. Log in again.")]
    Expired,
    #[error(
        "Your organization requires two-step verification, so your last method cannot be removed. Add another one first."
    )]
    RequiredByPolicy,
    #[error("The security key could not be verified. Try again.")]
    KeyRefused,
    #[error(
        "Security keys need Latchkey to be reached by a host name (LATCHKEY_PUBLIC_URL such as https://id.example.com or http://localhost:8080), not an IP address."
    )]
    KeysUnavailable,
    #[error(
        "Give the key a name of 1 to 60 characters, without control or invisible formatting characters."
    )]
    BadNickname,
    #[error("This account has been deactivated. Contact your administrator.")]
    Deactivated,
    /// The account's policy requires its organization's identity provider (passkeys too).
    #[error(
        "Your organization requires signing in through its identity provider: log in with your email alone to be sent there, or ask your administrator."
    )]
    SsoRequired,
    /// The change needs a sign-in from the last few minutes (step-up).
    #[error("For your security, sign in again to make this change.")]
    SignInAgain,
    /// Pre-registration takeover: nobody may attach a factor to an address they have not
    /// proven they control.
    #[error("Verify your email address first: open the link we sent you (or ask for a new one).")]
    EmailNotVerified,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for SecondFactorError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashFailure> for SecondFactorError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

/// What an enrolment shows: the secret as text and the `otpauth://` URI (the web layer draws
/// its QR code).
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoFactorStatus {
    pub totp: bool,
    pub security_keys: u32,
    pub recovery_codes_left: u32,
}

impl TwoFactorStatus {
    /// Logging in needs a second step.
    pub fn enabled(&self) -> bool {
        self.totp || self.security_keys > 0
    }
}

fn totp(secret: Vec<u8>, account_name: &str) -> Result<TOTP, SecondFactorError> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret,
        Some(ISSUER.to_owned()),
        account_name.replace(':', "."),
    )
    .map_err(|e| SecondFactorError::Unexpected(RepoError(format!("totp: {e}").into()).into()))
}

/// The time step (RFC 6238 §4.2) a code matches within ±1 of now, if any.
fn matching_step(totp: &TOTP, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.unix().div_euclid(i64::try_from(STEP_SECS).unwrap_or(30));
    (current - 1..=current + 1).find(|step| {
        let at = u64::try_from(*step).unwrap_or(0) * STEP_SECS;
        constant_time_eq(totp.generate(at).as_bytes(), code.as_bytes())
    })
}

/// "ABCD-EFGH-IJKL-MNOP" → "ABCDEFGHIJKLMNOP"; other characters are ignored.
fn normalize_recovery_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

fn looks_like_recovery_code(code: &str) -> bool {
    normalize_recovery_code(code).len() == 16
}

impl SecondFactor {
    fn totp_for(&self, sealed: &str, account: &Account) -> Result<TOTP, SecondFactorError> {
        let secret = self.state.totp_secrets.open(sealed).ok_or_else(|| {
            SecondFactorError::Unexpected(
                RepoError("a TOTP secret does not open under the master key".into()).into(),
            )
        })?;
        totp(secret, account.email.as_str())
    }

    pub async fn two_factor_status(
        &self,
        account: &AccountId,
    ) -> Result<TwoFactorStatus, RepoError> {
        let repo = &self.repo;
        let totp = repo.find_totp(account).await?.is_some_and(|t| t.confirmed);
        let keys = repo.list_webauthn_credentials(account).await?.len();
        let security_keys = u32::try_from(keys).unwrap_or(u32::MAX);
        let left = repo.remaining_recovery_codes(account).await?;
        Ok(TwoFactorStatus { totp, security_keys, recovery_codes_left: left })
    }

    /// Whether a signed-in person may change their second factors now: a verified address and
    /// a recent sign-in.
    pub(crate) fn may_change_factors(&self, signed_in: &SignedIn) -> Result<(), SecondFactorError> {
        if !signed_in.account().email_verified() {
            return Err(SecondFactorError::EmailNotVerified);
        }
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(SecondFactorError::SignInAgain);
        }
        Ok(())
    }

    /// Starts setting up an authenticator app: a fresh secret, not yet in force.
    pub async fn begin_totp_enrolment(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Enrolment, SecondFactorError> {
        self.may_change_factors(signed_in)?;
        self.begin_totp_for(signed_in.account()).await
    }

    async fn begin_totp_for(&self, account: &Account) -> Result<Enrolment, SecondFactorError> {
        let mut secret = vec![0u8; SECRET_BYTES];
        self.kernel.rng.fill(&mut secret);
        let sealed = self
            .state
            .totp_secrets
            .seal(&secret, self.kernel.rng())
            .ok_or(SecondFactorError::NotEnrolling)?;
        let now = self.kernel.now();
        if !self.repo.begin_totp(&account.id, &sealed, now).await? {
            return Err(SecondFactorError::AlreadyEnabled);
        }
        enrolment(secret, account)
    }

    /// The enrolment in progress (after a wrong first code, the page shows it again).
    pub async fn pending_totp_enrolment(
        &self,
        account: &Account,
    ) -> Result<Option<Enrolment>, SecondFactorError> {
        match self.repo.find_totp(&account.id).await? {
            Some(record) if !record.confirmed => {
                let secret = self.state.totp_secrets.open(&record.secret).ok_or_else(|| {
                    SecondFactorError::Unexpected(
                        RepoError("a TOTP secret does not open under the master key".into()).into(),
                    )
                })?;
                enrolment(secret, account).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Finishes setting up the app with its first code; returns the recovery codes (shown
    /// once).
    pub async fn confirm_totp_enrolment(
        &self,
        signed_in: &SignedIn,
        code: &str,
    ) -> Result<Vec<String>, SecondFactorError> {
        self.confirm_totp_for(signed_in.account(), code).await
    }

    async fn confirm_totp_for(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<Vec<String>, SecondFactorError> {
        if !account.email_verified() {
            return Err(SecondFactorError::EmailNotVerified);
        }
        let record =
            self.repo.find_totp(&account.id).await?.ok_or(SecondFactorError::NotEnrolling)?;
        if record.confirmed {
            return Err(SecondFactorError::AlreadyEnabled);
        }
        let totp = self.totp_for(&record.secret, account)?;
        let now = self.kernel.now();
        if let Some(RetryAfter(secs)) = self.guard.count_code_attempt(&account.id, now).await? {
            return Err(SecondFactorError::Throttled(secs));
        }
        let step = matching_step(&totp, code, now).ok_or(SecondFactorError::WrongCode)?;
        self.guard.code_attempt_succeeded(&account.id).await?;
        if !self.repo.confirm_totp(&account.id, step, now).await? {
            return Err(SecondFactorError::NotEnrolling);
        }
        let codes = self.replace_recovery_codes(&account.id).await?;
        tracing::info!(account = %account.id, "two-step verification turned on");
        self.audit
            .record(Record::new("two_factor.totp_enabled", Actor::Person(account)).target(account))
            .await;
        self.security_notice(account, "Two-step verification was turned on for your account.")
            .await;
        Ok(codes)
    }

    async fn replace_recovery_codes(&self, account: &AccountId) -> Result<Vec<String>, RepoError> {
        let now = self.kernel.now();
        let mut shown = Vec::with_capacity(RECOVERY_CODES);
        let mut hashes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let mut raw = [0u8; 10];
            self.kernel.rng.fill(&mut raw);
            let code = base32_crockford(&raw);
            hashes.push(TokenHash::of(&code));
            let groups: Vec<&str> = (0..4).map(|i| &code[i * 4..i * 4 + 4]).collect();
            shown.push(groups.join("-"));
        }
        self.repo.replace_recovery_codes(account, &hashes, now).await?;
        Ok(shown)
    }

    /// New recovery codes; the old ones stop working.
    pub async fn regenerate_recovery_codes(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Vec<String>, SecondFactorError> {
        self.may_change_factors(signed_in)?;
        let account = signed_in.account();
        if !self.two_factor_status(&account.id).await?.enabled() {
            return Err(SecondFactorError::NotEnabled);
        }
        let codes = self.replace_recovery_codes(&account.id).await?;
        tracing::info!(account = %account.id, "recovery codes regenerated");
        self.audit
            .record(
                Record::new("two_factor.recovery_codes_replaced", Actor::Person(account))
                    .target(account),
            )
            .await;
        self.security_notice(
            account,
            "New recovery codes were created; the old ones no longer work.",
        )
        .await;
        Ok(codes)
    }

    /// Turns two-step verification off: needs a recent sign-in, the password and a current
    /// code (both counted against their limits before they are checked).
    pub async fn disable_two_factor(
        &self,
        signed_in: &SignedIn,
        password: &Password,
        code: &str,
    ) -> Result<(), SecondFactorError> {
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(SecondFactorError::SignInAgain);
        }
        let account = signed_in.account();
        self.recheck_or_refuse(signed_in, password).await?;
        let status = self.two_factor_status(&account.id).await?;
        if !status.totp {
            return Err(SecondFactorError::NotEnabled);
        }
        if status.security_keys == 0 {
            self.refuse_if_required(account).await?;
        }
        self.check_code_throttled(account, code).await?;
        self.repo.delete_totp(&account.id).await?;
        if status.security_keys == 0 {
            self.repo.delete_recovery_codes(&account.id).await?;
        }
        tracing::info!(account = %account.id, "two-step verification turned off");
        self.audit
            .record(Record::new("two_factor.totp_disabled", Actor::Person(account)).target(account))
            .await;
        self.security_notice(account, "Two-step verification was turned off for your account.")
            .await;
        Ok(())
    }

    /// A site admin clears a person's second factors (they lost their phone, keys and codes).
    /// `None` when no account has the email.
    pub async fn reset_two_factor(
        &self,
        admin: &crate::authority::SiteAdmin,
        email: &crate::accounts::Email,
    ) -> Result<Option<Account>, RepoError> {
        let Some(account) = self.accounts.find_by_email(email).await? else {
            return Ok(None);
        };
        self.clear_second_factors(&account, Actor::Site(admin)).await?;
        Ok(Some(account))
    }

    /// Removes every factor of the account: the authenticator app, its recovery codes and
    /// every key. Returns whether there was an app, and how many keys went.
    pub(crate) async fn remove_all_factors(
        &self,
        account: &AccountId,
    ) -> Result<(bool, usize), RepoError> {
        let authenticator_app = self.repo.find_totp(account).await?.is_some();
        self.repo.delete_totp(account).await?;
        self.repo.delete_recovery_codes(account).await?;
        let keys = self.repo.list_webauthn_credentials(account).await?;
        for key in &keys {
            self.repo.delete_webauthn_credential(account, &key.id).await?;
        }
        Ok((authenticator_app, keys.len()))
    }

    /// Removes every second factor of the account (an administrator's reset) and tells them.
    pub(crate) async fn clear_second_factors(
        &self,
        account: &Account,
        actor: Actor<'_>,
    ) -> Result<(), RepoError> {
        self.remove_all_factors(&account.id).await?;
        tracing::info!(account = %account.id, "two-step verification reset by an administrator");
        self.audit.record(Record::new("two_factor.reset", actor).target(account)).await;
        self.security_notice(
            account,
            "An administrator turned off two-step verification for your account. Set it up again from your account's security page.",
        )
        .await;
        Ok(())
    }

    /// The password re-check of a sensitive change, as this module's error.
    pub(crate) async fn recheck_or_refuse(
        &self,
        signed_in: &SignedIn,
        password: &Password,
    ) -> Result<(), SecondFactorError> {
        match self.guard.recheck_password(signed_in, password).await? {
            Recheck::Right => Ok(()),
            Recheck::Wrong => Err(SecondFactorError::WrongPassword),
            Recheck::Throttled(secs) => Err(SecondFactorError::Throttled(secs)),
        }
    }

    /// The account's policy requires two-step verification: its last factor stays.
    pub(crate) async fn refuse_if_required(
        &self,
        account: &Account,
    ) -> Result<(), SecondFactorError> {
        let policy = self.policies.for_account(account).await?;
        if policy.settings.require_two_step {
            return Err(SecondFactorError::RequiredByPolicy);
        }
        Ok(())
    }

    async fn security_notice(&self, account: &Account, what: &str) {
        let link = format!("{}/account/security", self.kernel.public_url());
        self.kernel
            .send_mail(|brand| {
                mail::security_changed(brand, &account.email, account.name.as_str(), what, &link)
            })
            .await;
    }
}

fn enrolment(secret: Vec<u8>, account: &Account) -> Result<Enrolment, SecondFactorError> {
    let totp = totp(secret, account.email.as_str())?;
    Ok(Enrolment { secret_base32: totp.get_secret_base32(), otpauth_uri: totp.get_url() })
}

/// Crockford's base32 (no I, L, O, U): unambiguous when read aloud or typed.
fn base32_crockford(bytes: &[u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(*b);
    }
    (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[usize::try_from((bits >> (i * 5)) & 31).unwrap_or(0)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(secret: &[u8]) -> TOTP {
        totp(secret.to_vec(), "ada@example.com").unwrap()
    }

    #[test]
    fn codes_match_within_one_step_of_skew_only() {
        // RFC 6238 Appendix B's SHA-1 secret; at T = 59 s the 8-digit value is 94287082, so the
        // 6-digit code is 287082.
        let t = app(b"12345678901234567890");
        assert_eq!(t.generate(59), "287082");
        let at = |secs| Timestamp::from_unix(secs);
        assert_eq!(matching_step(&t, "287082", at(59)), Some(1));
        assert_eq!(matching_step(&t, "287 082", at(89)), Some(1), "previous step, spaces ignored");
        assert_eq!(matching_step(&t, "287082", at(15)), Some(1), "next step");
        assert_eq!(matching_step(&t, "287082", at(120)), None, "two steps late");
        for junk in ["", "28708", "2870822", "abcdef", "２８７０８２"] {
            assert_eq!(matching_step(&t, junk, at(59)), None, "{junk}");
        }
    }

    #[test]
    fn recovery_codes_are_recognised_and_normalised() {
        assert_eq!(normalize_recovery_code("abcd-efgh-jkmn-pqrs"), "ABCDEFGHJKMNPQRS");
        assert!(looks_like_recovery_code("ABCD EFGH JKMN PQRS"));
        assert!(!looks_like_recovery_code("123456"));
        let code = base32_crockford(&[0xff; 10]);
        assert_eq!(code, "ZZZZZZZZZZZZZZZZ");
        assert_eq!(base32_crockford(&[0; 10]), "0000000000000000");
    }
}
pub mod ports;

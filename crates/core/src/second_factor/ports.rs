//! The second factor's storage port: TOTP, recovery codes, pending logins, security keys and ceremonies.

use async_trait::async_trait;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::policies::model::AuthMethod;
use crate::secret::TokenHash;

/// An account's authenticator app as stored: the secret sealed under the master key.
#[derive(Debug, Clone)]
pub struct TotpRecord {
    pub secret: String,
    /// False while enrolment waits for the first valid code.
    pub confirmed: bool,
}

/// A login whose password was right and that still has steps to take before it becomes a
/// session: the second factor, then a new password (policy), then two-step enrolment (policy).
/// It reaches nothing else.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub account: AccountId,
    pub client: crate::sessions::model::ClientInfo,
    /// Where to go once signed in (a same-site path).
    pub next: String,
    pub expires_at: Timestamp,
    pub steps: PendingSteps,
    /// How the person has authenticated so far.
    pub amr: Vec<AuthMethod>,
}

/// The steps still due, in the order they are taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingSteps {
    pub second_factor: bool,
    pub new_password: bool,
    pub enrolment: bool,
}

/// The steps of a pending login, in the order they are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingStep {
    /// A code or a key for the second factor the account has.
    SecondFactor,
    /// The policy says the password has run out.
    NewPassword,
    /// The policy requires two-step verification and the account has none.
    Enrolment,
}

impl PendingSteps {
    /// The first step still due.
    pub fn next(self) -> Option<PendingStep> {
        if self.second_factor {
            Some(PendingStep::SecondFactor)
        } else if self.new_password {
            Some(PendingStep::NewPassword)
        } else if self.enrolment {
            Some(PendingStep::Enrolment)
        } else {
            None
        }
    }
}

#[async_trait]
pub trait SecondFactorRepo: Send + Sync {
    async fn find_totp(&self, account: &AccountId) -> RepoResult<Option<TotpRecord>>;
    /// Starts (or restarts) an enrolment with this sealed secret; false when a confirmed app
    /// is already set up.
    async fn begin_totp(
        &self,
        account: &AccountId,
        secret: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Confirms a pending enrolment, recording `step` as used; false if there was none.
    async fn confirm_totp(
        &self,
        account: &AccountId,
        step: i64,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Records `step` as used if it is later than the last one; false otherwise (a replay).
    async fn advance_totp_step(&self, account: &AccountId, step: i64) -> RepoResult<bool>;
    async fn delete_totp(&self, account: &AccountId) -> RepoResult<()>;
    /// The account's recovery codes become exactly these.
    async fn replace_recovery_codes(
        &self,
        account: &AccountId,
        hashes: &[TokenHash],
        now: Timestamp,
    ) -> RepoResult<()>;
    /// Uses an unused code once; false when unknown or already used.
    async fn use_recovery_code(
        &self,
        account: &AccountId,
        hash: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<bool>;
    async fn remaining_recovery_codes(&self, account: &AccountId) -> RepoResult<u32>;
    async fn delete_recovery_codes(&self, account: &AccountId) -> RepoResult<()>;
    async fn insert_pending_login(
        &self,
        hash: &TokenHash,
        pending: &PendingLogin,
        now: Timestamp,
    ) -> RepoResult<()>;
    /// The unused, unexpired pending login with this hash.
    async fn find_pending_login(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<Option<PendingLogin>>;
    /// Uses the pending login up; false if it was already used or has expired.
    /// Clears one step's flag of a live pending login if it is still set: true for the one
    /// caller that cleared it.
    async fn claim_pending_step(
        &self,
        hash: &TokenHash,
        step: PendingStep,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Saves the steps and methods of a live pending login; false when it is gone.
    async fn update_pending_login(
        &self,
        hash: &TokenHash,
        pending: &PendingLogin,
        now: Timestamp,
    ) -> RepoResult<bool>;
    async fn consume_pending_login(&self, hash: &TokenHash, now: Timestamp) -> RepoResult<bool>;
    async fn insert_webauthn_credential(&self, credential: &WebauthnCredential) -> RepoResult<()>;
    /// The account's credentials, oldest first.
    async fn list_webauthn_credentials(
        &self,
        account: &AccountId,
    ) -> RepoResult<Vec<WebauthnCredential>>;
    async fn find_webauthn_credential(
        &self,
        credential_id: &str,
    ) -> RepoResult<Option<WebauthnCredential>>;
    /// After a use: the updated passkey (counter, flags) and when.
    async fn record_webauthn_use(&self, id: &str, passkey: &str, now: Timestamp) -> RepoResult<()>;
    async fn rename_webauthn_credential(
        &self,
        account: &AccountId,
        id: &str,
        nickname: &str,
    ) -> RepoResult<bool>;
    async fn delete_webauthn_credential(&self, account: &AccountId, id: &str) -> RepoResult<bool>;
    async fn insert_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> RepoResult<()>;
    /// Takes a challenge out (single use) if it has this purpose and has not expired.
    async fn take_webauthn_challenge(
        &self,
        id: &str,
        purpose: &str,
        now: Timestamp,
    ) -> RepoResult<Option<WebauthnChallenge>>;
    /// Forgets expired pending logins and ceremonies.
    async fn purge_expired_second_factor(&self, now: Timestamp) -> RepoResult<u64>;
}

/// A registered security key or passkey.
#[derive(Debug, Clone)]
pub struct WebauthnCredential {
    pub id: String,
    pub account: AccountId,
    /// The credential id, base64url: how an assertion names it.
    pub credential_id: String,
    /// webauthn-rs's serialized `Passkey`.
    pub passkey: String,
    pub nickname: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A WebAuthn ceremony in progress.
#[derive(Debug, Clone)]
pub struct WebauthnChallenge {
    pub id: String,
    pub account: Option<AccountId>,
    pub purpose: &'static str,
    /// webauthn-rs's serialized ceremony state.
    pub state: String,
    pub expires_at: Timestamp,
}

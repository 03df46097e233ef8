//! The traits through which the domain reaches the world: storage per aggregate, mail, time
//! and randomness. Implementations live in `latchkey-store` and the `latchkey` binary.

use async_trait::async_trait;

use crate::accounts::{Account, AccountId, AccountStatus, DisplayName, Email, NewAccount};
use crate::clock::Timestamp;
use crate::mail::OutgoingMail;
use crate::secret::TokenHash;
use crate::sessions::{Session, SessionId};

pub use crate::clock::Clock;
pub use crate::errors::{RepoError, RepoResult};
pub use crate::secret::Rng;

#[derive(Debug, thiserror::Error)]
pub enum InsertAccountError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// What an organization's console shows about an account's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountActivity {
    pub account: AccountId,
    pub last_active_at: Option<Timestamp>,
    pub products: Vec<String>,
}

#[async_trait]
pub trait AccountRepo: Send + Sync {
    async fn insert(&self, account: &NewAccount) -> Result<(), InsertAccountError>;
    async fn find_by_id(&self, id: &AccountId) -> RepoResult<Option<Account>>;
    async fn find_by_email(&self, email: &Email) -> RepoResult<Option<Account>>;
    /// Accounts ordered by creation, oldest first.
    async fn list(&self, limit: u32, offset: u32) -> RepoResult<Vec<Account>>;
    /// Accounts whose email is on `domain` (the ASCII form after the `@`), oldest first.
    async fn list_by_email_domain(
        &self,
        domain: &str,
        limit: u32,
        offset: u32,
    ) -> RepoResult<Vec<Account>>;
    async fn count_site_admins(&self) -> RepoResult<u64>;
    /// When each account was last active (its last sign-in to Latchkey as the audit log has it,
    /// or to a product) and the products it has signed in to, by name; accounts that do not
    /// exist are left out.
    async fn activity(&self, ids: &[AccountId]) -> RepoResult<Vec<AccountActivity>>;
    /// Closes the account: status `closed`, its personal data to be erased after `erase_after`.
    async fn close(&self, id: &AccountId, now: Timestamp, erase_after: Timestamp)
    -> RepoResult<()>;
    /// Active again, closure forgotten; false when the data was already erased.
    async fn reopen(&self, id: &AccountId, now: Timestamp) -> RepoResult<bool>;
    /// Closed accounts whose grace period has passed and that still hold personal data.
    async fn due_for_erasure(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<AccountId>>;
    /// Erases the account's personal data (email, name, password, second factors, consents,
    /// tokens, pending requests), keeping the id as a tombstone.
    async fn erase(&self, id: &AccountId, now: Timestamp) -> RepoResult<()>;
    /// Records a person's request to close their account; false if one is already open.
    async fn request_closure(
        &self,
        id: &AccountId,
        reason: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Open closure requests, oldest first: (account, when, reason).
    async fn closure_requests(&self) -> RepoResult<Vec<(AccountId, Timestamp, String)>>;
    /// Records when the email was verified; keeps the first time if it already was.
    async fn mark_email_verified(&self, id: &AccountId, at: Timestamp) -> RepoResult<()>;
    async fn set_password_hash(&self, id: &AccountId, hash: &str, at: Timestamp) -> RepoResult<()>;
    async fn set_name(&self, id: &AccountId, name: &DisplayName, at: Timestamp) -> RepoResult<()>;
    /// Changes the email (and marks it verified); false when another account has it.
    async fn set_email(&self, id: &AccountId, email: &Email, at: Timestamp) -> RepoResult<bool>;
    /// Removes the password (the person must reset it).
    async fn clear_password(&self, id: &AccountId, at: Timestamp) -> RepoResult<()>;
    async fn set_status(
        &self,
        id: &AccountId,
        status: AccountStatus,
        at: Timestamp,
    ) -> RepoResult<()>;
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn insert(&self, session: &Session) -> RepoResult<()>;
    /// The live session behind a cookie together with its account, if both still exist.
    async fn find_by_token_hash(&self, hash: &TokenHash) -> RepoResult<Option<(Session, Account)>>;
    async fn touch(&self, id: &SessionId, at: Timestamp) -> RepoResult<()>;
    /// A session by its public id, with its account (for tokens that name a session).
    async fn find_by_id(&self, id: &SessionId) -> RepoResult<Option<(Session, Account)>>;
    async fn list_for_account(&self, account: &AccountId) -> RepoResult<Vec<Session>>;
    /// Deletes one of the account's sessions; false when it was not there.
    async fn delete(&self, account: &AccountId, id: &SessionId) -> RepoResult<bool>;
    /// Deletes every session of the account except `keep`; returns the ones that went.
    async fn delete_all_for_account(
        &self,
        account: &AccountId,
        keep: Option<&SessionId>,
    ) -> RepoResult<Vec<SessionId>>;
    /// Deletes sessions past `expires_at` or last seen before `idle_before`.
    async fn delete_expired(&self, now: Timestamp, idle_before: Timestamp) -> RepoResult<u64>;
}

/// Why a single-use emailed token exists; a token is only ever accepted for its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewOneTimeToken {
    pub hash: TokenHash,
    pub purpose: TokenPurpose,
    pub account: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait OneTimeTokenRepo: Send + Sync {
    async fn insert(&self, token: &NewOneTimeToken) -> RepoResult<()>;
    /// The account the token belongs to, if it exists, has this purpose, is unexpired and
    /// unused; does not use it up.
    async fn peek(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>>;
    /// Atomically marks the token used and returns its account; `None` if it was unknown,
    /// expired, already used or for another purpose. Two racing calls cannot both succeed.
    async fn consume(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<Option<AccountId>>;
    /// Uses up every outstanding token of the account for this purpose.
    async fn revoke_all(
        &self,
        account: &AccountId,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> RepoResult<()>;
}

/// The state of one fixed-window counter after an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub count: u32,
    pub window_start: Timestamp,
}

/// Fixed-window counters shared by every node (they live in the database).
#[async_trait]
pub trait ThrottleRepo: Send + Sync {
    /// Adds one to `key`'s counter, starting a fresh window if the last one has ended.
    async fn hit(&self, key: &str, window_secs: i64, now: Timestamp) -> RepoResult<WindowCount>;
    /// [`hit`](Self::hit) on several distinct keys in one atomic statement; the counts come
    /// back in the order of `keys`.
    async fn hit_all(
        &self,
        keys: &[&str],
        window_secs: i64,
        now: Timestamp,
    ) -> RepoResult<Vec<WindowCount>>;
    /// A counted attempt that was right, in one statement: `clear`'s counter starts over and
    /// `release` gets its hit back (never below zero).
    async fn settle(&self, clear: &str, release: &str) -> RepoResult<()>;
    /// Takes one back from `key`'s counter (a counted attempt that turned out right); never
    /// below zero. There is deliberately no way to read a counter without adding to it:
    /// throttling counts first, then evaluates.
    async fn release(&self, key: &str) -> RepoResult<()>;
    async fn clear(&self, key: &str) -> RepoResult<()>;
    async fn delete_stale(&self, older_than: Timestamp) -> RepoResult<u64>;
}

#[derive(Debug, thiserror::Error)]
#[error("mail: {0}")]
pub struct MailError(pub String);

/// Delivers a back-channel logout token to a product (Back-Channel Logout 1.0 §2.5).
#[async_trait]
pub trait LogoutNotifier: Send + Sync {
    /// `Ok` when the product answered 200 or 204.
    async fn notify(&self, uri: &str, logout_token: &str) -> Result<(), String>;
}

/// Fetches a product's published JWK Set (`jwks_uri`, registered by a site admin), bounded
/// in time and size.
#[async_trait]
pub trait KeyFetcher: Send + Sync {
    async fn fetch_jwks(&self, uri: &str) -> Result<String, String>;
}

/// Puts a message on its way (the outbox folder or SMTP). Called by the delivery job only;
/// use cases enqueue mail in the outbox and never wait on a mail server.
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn deliver(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

/// Something to deliver later, durably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxItem {
    pub id: String,
    /// What delivers it (`mail`; `backchannel_logout` later).
    pub kind: &'static str,
    /// Who it goes to, kept after delivery for the delivery view.
    pub recipient: String,
    /// A line for operators (a mail's subject), kept after delivery.
    pub summary: String,
    /// What the deliverer needs; erased once delivered or abandoned.
    pub payload: String,
    pub created_at: Timestamp,
}

/// What operators see of a delivery: never its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub recipient: String,
    pub summary: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    async fn enqueue(&self, item: &NewOutboxItem) -> RepoResult<()>;
    /// Leases up to `limit` due items of `kind` until `lease_until`; no other caller gets
    /// them until the lease ends, so two nodes never deliver the same item.
    async fn lease_due(
        &self,
        kind: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> RepoResult<Vec<OutboxItem>>;
    /// Delivered: the payload is erased.
    async fn mark_delivered(&self, id: &str, now: Timestamp) -> RepoResult<()>;
    /// Failed this time; try again at `next_attempt_at`.
    async fn retry_later(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Timestamp,
        now: Timestamp,
    ) -> RepoResult<()>;
    /// Failed for good (dead letter): the payload is erased, the error kept.
    async fn give_up(&self, id: &str, error: &str, now: Timestamp) -> RepoResult<()>;
    /// Removes delivered items older than `before` (dead letters stay for operators).
    async fn purge_delivered(&self, before: Timestamp) -> RepoResult<u64>;
    /// The most recent items of `kind`, newest first, for the delivery view.
    async fn list_recent(&self, kind: &str, limit: u32) -> RepoResult<Vec<DeliveryRecord>>;
    /// These items (any kind), in the order asked, skipping unknown ids.
    async fn find(&self, ids: &[String]) -> RepoResult<Vec<DeliveryRecord>>;
    /// Items of `kind` by status, for metrics and the delivery view.
    async fn count_by_status(&self, kind: &str) -> RepoResult<Vec<(String, u64)>>;
}

/// Admin API tokens (stored as SHA-256).
#[async_trait]
pub trait AdminTokenRepo: Send + Sync {
    async fn insert(&self, token: &crate::flows::AdminToken, hash: &TokenHash) -> RepoResult<()>;
    /// The unrevoked token with this hash, with its account.
    async fn find_live(
        &self,
        hash: &TokenHash,
    ) -> RepoResult<Option<(crate::flows::AdminToken, Account)>>;
    async fn touch(&self, id: &str, at: Timestamp) -> RepoResult<()>;
    /// Every token, newest first.
    async fn list(&self) -> RepoResult<Vec<crate::flows::AdminToken>>;
    /// False when there was no live token with this id.
    async fn revoke(&self, id: &str, at: Timestamp) -> RepoResult<bool>;
}

// ---- Email changes ------------------------------------------------------------------------

/// What an email-change link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeKind {
    /// Sent to the new address: confirms the change.
    Confirm,
    /// Sent to the old address: undoes the change.
    Revert,
}

impl EmailChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Revert => "revert",
        }
    }
}

#[async_trait]
pub trait EmailChangeRepo: Send + Sync {
    /// Stores a link; `email` is the new address (confirm) or the old one (revert).
    #[allow(clippy::too_many_arguments)]
    async fn insert_email_change(
        &self,
        hash: &TokenHash,
        account: &AccountId,
        kind: EmailChangeKind,
        email: &Email,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> RepoResult<()>;
    /// The link's account and address if it is unused and unexpired (does not use it).
    async fn peek_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>>;
    /// Uses the link once; `None` if unknown, used, expired or of the other kind.
    async fn use_email_change(
        &self,
        hash: &TokenHash,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<Option<(AccountId, String)>>;
    /// Uses up the account's outstanding links of this kind.
    async fn cancel_email_changes(
        &self,
        account: &AccountId,
        kind: EmailChangeKind,
        now: Timestamp,
    ) -> RepoResult<()>;
}

// ---- Audit log ----------------------------------------------------------------------------

#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn append(&self, event: &crate::audit::AuditEvent) -> RepoResult<()>;
    /// Events matching the filter, oldest first, at most `limit`.
    async fn query(
        &self,
        filter: &crate::audit::AuditFilter,
        limit: u32,
    ) -> RepoResult<Vec<crate::audit::AuditEvent>>;
    async fn purge_before(&self, before: Timestamp) -> RepoResult<u64>;
}

// ---- Organizations ------------------------------------------------------------------------

pub use crate::orgs::{DomainStatus, OrgDomain, Organization};

#[async_trait]
pub trait OrgRepo: Send + Sync {
    /// Creates the organization with its first admin.
    async fn insert_org(&self, org: &Organization, first_admin: &AccountId) -> RepoResult<()>;
    async fn find_org(&self, id: &str) -> RepoResult<Option<Organization>>;
    async fn list_orgs(&self) -> RepoResult<Vec<Organization>>;
    /// False when the account already administers the organization.
    async fn add_org_admin(
        &self,
        org: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool>;
    async fn is_org_admin(&self, org: &str, account: &AccountId) -> RepoResult<bool>;
    /// The organizations the account administers.
    async fn orgs_administered_by(&self, account: &AccountId) -> RepoResult<Vec<Organization>>;
    /// The organization's admins, by account id.
    async fn org_admins(&self, org: &str) -> RepoResult<Vec<AccountId>>;
    /// False when the organization already has this domain.
    async fn insert_domain(&self, domain: &OrgDomain) -> RepoResult<bool>;
    async fn find_domain(
        &self,
        org: &str,
        domain: &crate::orgs::Domain,
    ) -> RepoResult<Option<OrgDomain>>;
    async fn list_domains(&self, org: &str) -> RepoResult<Vec<OrgDomain>>;
    /// The organization holding `domain` verified, if any.
    async fn verified_owner(&self, domain: &str) -> RepoResult<Option<Organization>>;
    /// Records a check and when the next one is due (`None`: no more). `Verified` fails
    /// (false) when another organization holds the domain verified: one domain, one
    /// organization.
    async fn record_domain_check(
        &self,
        org: &str,
        domain: &crate::orgs::Domain,
        check: &crate::orgs::CheckResult,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Domains whose next background check is due.
    async fn domains_due(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<OrgDomain>>;
}

/// Why a DNS lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("the domain does not exist (NXDOMAIN)")]
    NotFound,
    #[error("the domain has no TXT records")]
    NoRecords,
    #[error("the DNS server did not answer in time")]
    Timeout,
    #[error("DNS lookup failed: {0}")]
    Failed(String),
}

/// TXT records of a name, through `LATCHKEY_DNS_SERVER` or the system resolver.
#[async_trait]
pub trait DnsResolver: Send + Sync {
    async fn txt(&self, name: &crate::orgs::Domain) -> Result<Vec<String>, DnsError>;
}

/// Fetches `https://<domain>/.well-known/latchkey-verification.txt` for domain verification:
/// bounded in time and size, no redirects to other hosts, private addresses refused unless the
/// operator allows them. The error says, for the admin, what went wrong.
#[async_trait]
pub trait WebProofFetcher: Send + Sync {
    async fn verification_file(&self, domain: &crate::orgs::Domain) -> Result<String, String>;
}

// ---- Two-step verification ------------------------------------------------------------

/// An account's authenticator app as stored: the secret sealed under the master key.
#[derive(Debug, Clone)]
pub struct TotpRecord {
    pub secret: String,
    /// False while enrolment waits for the first valid code.
    pub confirmed: bool,
}

/// A login whose password was right and whose second factor is still to come.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub account: AccountId,
    pub client: crate::sessions::ClientInfo,
    /// Where to go once signed in (a same-site path).
    pub next: String,
    pub expires_at: Timestamp,
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

// ---- OpenID Connect provider -------------------------------------------------------------

#[async_trait]
pub trait ClientRepo: Send + Sync {
    async fn insert(&self, client: &crate::oidc_provider::Client) -> RepoResult<()>;
    async fn list(&self) -> RepoResult<Vec<crate::oidc_provider::Client>>;
}

/// A signing key as stored: the private half sealed under the master key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: latchkey_protocol::jose::SigningAlg,
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: Timestamp,
    /// Published from creation; signs from this time.
    pub active_from: Timestamp,
    /// Unpublished from this time.
    pub retire_at: Option<Timestamp>,
}

#[async_trait]
pub trait SigningKeyRepo: Send + Sync {
    async fn insert(&self, key: &StoredKey) -> RepoResult<()>;
    async fn list(&self) -> RepoResult<Vec<StoredKey>>;
    async fn set_retire_at(&self, kid: &str, at: Timestamp) -> RepoResult<()>;
}

pub use crate::oidc_provider::store_types::{CodeClaim, Grant, NewRefreshToken, RefreshUse};

#[async_trait]
pub trait OidcRepo: Send + Sync {
    /// Claims an authorization code (by hash) for its one use; remembered until `keep_until`.
    /// A second claim reports the grant the first one created, so it can be revoked
    /// (RFC 6749 §4.1.2). Two racing claims cannot both be first.
    async fn claim_code(&self, hash: &TokenHash, keep_until: Timestamp) -> RepoResult<CodeClaim>;
    async fn insert_grant(&self, grant: &Grant, code: Option<&TokenHash>) -> RepoResult<()>;
    async fn find_grant(&self, id: &str) -> RepoResult<Option<Grant>>;
    /// Revokes the grant and its refresh tokens; returns the grant if it was live.
    async fn revoke_grant(&self, id: &str, now: Timestamp) -> RepoResult<Option<Grant>>;
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> RepoResult<()>;
    /// Uses a refresh token once (rotation). Reuse of a used token is reported so the whole
    /// family can be revoked.
    async fn use_refresh_token(&self, hash: &TokenHash, now: Timestamp) -> RepoResult<RefreshUse>;
    /// A refresh token's grant, expiry and whether it was used (introspection, revocation).
    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> RepoResult<Option<(String, Timestamp, bool)>>;
    /// Live grants made under a Latchkey session (the products signed in through it).
    async fn grants_for_session(&self, session: &SessionId) -> RepoResult<Vec<Grant>>;
    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> RepoResult<()>;
    /// Every revoked access token that has not expired yet.
    async fn revoked_access_tokens(&self, now: Timestamp) -> RepoResult<Vec<String>>;
    /// Remembers a client assertion's `jti` until `expires_at`; false if it was already seen.
    async fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
    ) -> RepoResult<bool>;
    /// Forgets expired assertions, codes and revoked-token entries.
    async fn purge_expired(&self, now: Timestamp) -> RepoResult<u64>;
    /// The scopes a person allowed a third-party client, if any.
    async fn find_consent(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Option<Consent>>;
    /// Records (or widens) a consent.
    async fn save_consent(&self, consent: &Consent) -> RepoResult<()>;
    async fn list_consents(&self, account: &AccountId) -> RepoResult<Vec<Consent>>;
    /// Removes a consent; false when there was none.
    async fn delete_consent(&self, account: &AccountId, client_id: &str) -> RepoResult<bool>;
    /// Every live grant of an account, whatever the client.
    async fn live_grants_for_account(&self, account: &AccountId) -> RepoResult<Vec<Grant>>;
    /// The live grants a client holds for an account.
    async fn grants_for_client(
        &self,
        account: &AccountId,
        client_id: &str,
    ) -> RepoResult<Vec<Grant>>;
}

/// What a person allowed a third-party product to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account: AccountId,
    pub client_id: String,
    /// Space-separated, as in OAuth.
    pub scope: String,
    pub granted_at: Timestamp,
}

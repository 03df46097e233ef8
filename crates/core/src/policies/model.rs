//! Authentication policies as data, and their rules as pure functions of the policy, the
//! account's state and the time: is the password too old, is two-step enrolment due, may this
//! session (or this product's refresh token) still be used. No I/O here, so every boundary is
//! a unit test.

use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::clock::Timestamp;

crate::id::uuid_id!(
    /// A policy's id.
    PolicyId
);

const DAY_SECS: i64 = 24 * 3600;
const MINUTE_SECS: i64 = 60;

/// The rules of a policy, as admins set them. Unknown fields are refused; missing ones take
/// the site's built-in defaults, so later rules (API tokens, SSO) slot in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // independent switches of one settings record
pub struct PolicySettings {
    /// Characters (8–128).
    pub password_min_length: u32,
    /// zxcvbn score (0–4) a new password must reach.
    pub password_min_strength: u8,
    /// A new password may not be one of the last N (0–24).
    pub password_history: u32,
    /// Days before a password must be replaced (0 = never).
    pub password_max_age_days: u32,
    /// Everyone under the policy must set up two-step verification.
    pub require_two_step: bool,
    /// Days people may still sign in without it once it becomes required (0–90).
    pub two_step_grace_days: u32,
    /// A sign-in lasts at most this long: browser sessions and products' refresh tokens.
    pub session_max_minutes: u32,
    /// A session unused this long ends; a refresh token unused this long is refused.
    pub session_idle_minutes: u32,
    /// People and bots under the policy may create and use API tokens.
    pub api_tokens: bool,
    /// An API token lives at most this many days (1–3650); a lower value shortens tokens
    /// already made.
    pub api_token_max_days: u32,
    /// Products may verify the account's password over basic auth (one product only). The
    /// site default's `false` turns it off everywhere, whatever an organization's policy says.
    pub password_basic_auth: bool,
    /// Members sign in through the organization's identity provider (SAML) only: password
    /// sign-in and password resets are refused with a pointer to it. Never applies to site
    /// admins (break-glass), whose policy is always the site default.
    #[serde(default)]
    pub sso_required: bool,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            password_min_length: 10,
            password_min_strength: 0,
            password_history: 0,
            password_max_age_days: 0,
            require_two_step: false,
            two_step_grace_days: 0,
            session_max_minutes: 30 * 24 * 60,
            session_idle_minutes: 7 * 24 * 60,
            api_tokens: true,
            api_token_max_days: 365,
            password_basic_auth: true,
            sso_required: false,
        }
    }
}

/// Why settings were refused, in words for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidSettings {
    pub field: &'static str,
    pub reason: String,
}

impl PolicySettings {
    pub const MAX_HISTORY: u32 = 24;
    pub const MAX_SESSION_MINUTES: u32 = 90 * 24 * 60;

    /// Every bound, checked together; the first one broken is named.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let bad = |field, reason: &str| Err(InvalidSettings { field, reason: reason.to_owned() });
        if !(8..=128).contains(&self.password_min_length) {
            return bad("password_min_length", "must be between 8 and 128");
        }
        if self.password_min_strength > 4 {
            return bad("password_min_strength", "must be between 0 and 4");
        }
        if self.password_history > Self::MAX_HISTORY {
            return bad("password_history", "must be between 0 and 24");
        }
        if self.password_max_age_days > 3650 {
            return bad("password_max_age_days", "must be between 0 (never) and 3650");
        }
        if self.two_step_grace_days > 90 {
            return bad("two_step_grace_days", "must be between 0 and 90");
        }
        if !(5..=Self::MAX_SESSION_MINUTES).contains(&self.session_max_minutes) {
            return bad("session_max_minutes", "must be between 5 and 129600 (90 days)");
        }
        if !(5..=self.session_max_minutes).contains(&self.session_idle_minutes) {
            return bad("session_idle_minutes", "must be between 5 and the maximum session length");
        }
        if !(1..=3650).contains(&self.api_token_max_days) {
            return bad("api_token_max_days", "must be between 1 and 3650");
        }
        Ok(())
    }

    pub fn session_max_secs(&self) -> i64 {
        i64::from(self.session_max_minutes) * MINUTE_SECS
    }

    pub fn session_idle_secs(&self) -> i64 {
        i64::from(self.session_idle_minutes) * MINUTE_SECS
    }
}

/// Whose policy it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyScope {
    /// The site default: accounts no organization manages (and every site admin).
    Site,
    Org(String),
}

/// A policy as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: PolicyId,
    pub scope: PolicyScope,
    /// The default of its scope (an organization's default, or the site default).
    pub is_default: bool,
    pub name: String,
    pub settings: PolicySettings,
    /// Passwords chosen before this moment must be replaced at the next sign-in.
    pub passwords_valid_after: Option<Timestamp>,
    /// When two-step enrolment became required; the grace period counts from here.
    pub two_step_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Policy {
    /// The built-in site default, before any site admin edits it.
    pub fn builtin(scope: PolicyScope, now: Timestamp) -> Self {
        Self {
            id: PolicyId::from_stored(String::new()),
            scope,
            is_default: true,
            name: "Default".to_owned(),
            settings: PolicySettings::default(),
            passwords_valid_after: None,
            two_step_since: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn org(&self) -> Option<&str> {
        match &self.scope {
            PolicyScope::Site => None,
            PolicyScope::Org(o) => Some(o),
        }
    }

    /// Why the account's password must be replaced before it can be used, if it must.
    pub fn password_renewal(&self, account: &Account, now: Timestamp) -> Option<Renewal> {
        account.password_hash.as_ref()?;
        let changed = account.password_changed_at.unwrap_or(account.created_at);
        if self.passwords_valid_after.is_some_and(|after| changed < after) {
            return Some(Renewal::RequiredByAdmin);
        }
        let days = i64::from(self.settings.password_max_age_days);
        (days > 0 && now >= changed.plus_secs(days * DAY_SECS)).then_some(Renewal::Expired)
    }

    /// What the two-step rule asks of this account now, given whether it has a factor.
    pub fn two_step(&self, account: &Account, has_factor: bool, now: Timestamp) -> TwoStep {
        if !self.settings.require_two_step || has_factor {
            return TwoStep::NotRequired;
        }
        let since = self.two_step_since.unwrap_or(self.updated_at).max(account.created_at);
        let until = since.plus_secs(i64::from(self.settings.two_step_grace_days) * DAY_SECS);
        if now < until { TwoStep::Grace { until } } else { TwoStep::EnrolNow }
    }

    /// Whether a session may still be used: its age, its idleness, and whether it still
    /// satisfies the password and two-step rules.
    pub fn session_verdict(
        &self,
        account: &Account,
        signed_in_at: Timestamp,
        last_used_at: Timestamp,
        amr: &[AuthMethod],
        now: Timestamp,
    ) -> SessionVerdict {
        if now >= signed_in_at.plus_secs(self.settings.session_max_secs()) {
            return SessionVerdict::TooOld;
        }
        if now >= last_used_at.plus_secs(self.settings.session_idle_secs()) {
            return SessionVerdict::Idle;
        }
        if self.password_renewal(account, now).is_some() && amr.contains(&AuthMethod::Password) {
            return SessionVerdict::PasswordRenewalDue;
        }
        let strong = amr.contains(&AuthMethod::MultiFactor);
        if self.two_step(account, strong, now) == TwoStep::EnrolNow {
            return SessionVerdict::TwoStepDue;
        }
        SessionVerdict::Live
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Older than the policy's maximum age.
    Expired,
    /// An admin required everyone under the policy to choose a new password.
    RequiredByAdmin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoStep {
    NotRequired,
    /// Required, but the person may still sign in without it until then.
    Grace {
        until: Timestamp,
    },
    EnrolNow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionVerdict {
    Live,
    TooOld,
    Idle,
    PasswordRenewalDue,
    TwoStepDue,
}

/// How someone authenticated (RFC 8176 `amr` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `pwd`: a password.
    Password,
    /// `otp`: a one-time code (authenticator app or recovery code).
    OneTimeCode,
    /// `hwk`: a security key or passkey (proof of possession of a key).
    HardwareKey,
    /// `mfa`: more than one factor.
    MultiFactor,
    /// `fed`: the organization's identity provider vouched for the person (SAML); how it
    /// authenticated them is its business. Not in the RFC 8176 registry, which has no value
    /// for federation.
    Federated,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::OneTimeCode => "otp",
            Self::HardwareKey => "hwk",
            Self::MultiFactor => "mfa",
            Self::Federated => "fed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pwd" => Some(Self::Password),
            "otp" => Some(Self::OneTimeCode),
            "hwk" => Some(Self::HardwareKey),
            "mfa" => Some(Self::MultiFactor),
            "fed" => Some(Self::Federated),
            _ => None,
        }
    }

    /// Space-separated, as stored.
    pub fn join(methods: &[Self]) -> String {
        methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// Unknown values are dropped (never counted as a factor).
    pub fn split(stored: &str) -> Vec<Self> {
        stored.split(' ').filter_map(Self::parse).collect()
    }

    /// Adds a method; two different factors make it `mfa`.
    pub fn add(methods: &mut Vec<Self>, method: Self) {
        if !methods.contains(&method) {
            methods.push(method);
        }
        let factors = methods.iter().filter(|m| **m != Self::MultiFactor).count();
        if factors >= 2 && !methods.contains(&Self::MultiFactor) {
            methods.push(Self::MultiFactor);
        }
    }
}

#[cfg(test)]
mod tests;

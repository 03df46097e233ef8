//! Imported legacy records and rollout states as data: what an import line must hold, and how
//! it becomes a record. No I/O here.

use sha2::{Digest as _, Sha256};

use crate::accounts::{AccountId, Email};
use crate::clock::Timestamp;
use crate::credentials::legacy::LegacyHash;
use crate::secret::TokenHash;

/// Where a product stands in its move to Latchkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rollout {
    /// Imported data only: nobody is upgraded for this product yet.
    Legacy,
    /// People are upgraded at their next sign-in through Latchkey.
    Upgrading,
    /// Every sign-in goes through Latchkey; records not yet upgraded can still upgrade.
    Upgraded,
}

impl Rollout {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Upgrading => "upgrading",
            Self::Upgraded => "upgraded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "legacy" => Some(Self::Legacy),
            "upgrading" => Some(Self::Upgrading),
            "upgraded" => Some(Self::Upgraded),
            _ => None,
        }
    }

    /// Whether people are upgraded with this product's records.
    pub fn upgrades(self) -> bool {
        self != Self::Legacy
    }
}

/// One import line as given (JSON Lines or CSV, every value as text).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawLegacyRecord {
    pub legacy_id: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub active: Option<String>,
    pub created_at: Option<String>,
    pub last_login_at: Option<String>,
}

/// A validated record, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRecord {
    pub client_id: String,
    pub legacy_id: String,
    pub username: String,
    pub email: Email,
    pub name: String,
    pub password_hash: Option<String>,
    /// The recognised format; `None` when the hash is missing or unusable.
    pub hash_format: Option<String>,
    pub active: bool,
    pub created_at: Option<Timestamp>,
    pub last_login_at: Option<Timestamp>,
    pub fingerprint: String,
}

/// A stored record with its link and its product's rollout state.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub record: LegacyRecord,
    pub account: Option<AccountId>,
    pub rollout: Option<Rollout>,
}

/// What validating a line found: the record, and a warning when its hash cannot be used (the
/// record is still imported: its person can upgrade through a password reset).
pub type Validated = (LegacyRecord, Option<String>);

fn text(field: Option<String>, name: &str, max: usize) -> Result<String, String> {
    let value = field.map(|v| v.trim().to_owned()).unwrap_or_default();
    if value.is_empty() {
        return Err(format!("{name} is missing"));
    }
    if value.chars().count() > max || crate::text::has_hidden_or_control(&value) {
        return Err(format!("{name} is longer than {max} characters or has control characters"));
    }
    Ok(value)
}

fn moment(raw: Option<String>, name: &str) -> Result<Option<Timestamp>, String> {
    let Some(raw) = raw.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(Some(Timestamp::from_unix(secs)));
    }
    time::OffsetDateTime::parse(&raw, &time::format_description::well_known::Rfc3339)
        .map(|t| Some(Timestamp::from_unix(t.unix_timestamp())))
        .map_err(|_| format!("{name} must be RFC 3339 or Unix seconds"))
}

fn flag(raw: Option<&str>) -> Result<bool, String> {
    match raw.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "true" | "1" | "yes" | "active") => Ok(true),
        Some("false" | "0" | "no" | "inactive") => Ok(false),
        Some(other) => Err(format!(
            "active must be true or false, not {:?}",
            other.chars().take(20).collect::<String>()
        )),
    }
}

impl RawLegacyRecord {
    /// Checks the line; an unusable hash is a warning, anything else missing or malformed
    /// skips the line.
    pub fn validate(self, client_id: &str) -> Result<Validated, String> {
        let legacy_id = text(self.legacy_id, "legacy_id", 200)?;
        let email_text = text(self.email, "email", 254)?;
        let email = Email::parse(&email_text).map_err(|e| format!("email: {e}"))?;
        let username = match self.username.filter(|u| !u.trim().is_empty()) {
            Some(u) => text(Some(u), "username", 200)?,
            None => email.as_str().to_owned(),
        };
        let name = match self.name.filter(|n| !n.trim().is_empty()) {
            Some(n) => text(Some(n), "name", 200)?,
            None => username.clone(),
        };
        let active = flag(self.active.as_deref())?;
        let created_at = moment(self.created_at, "created_at")?;
        let last_login_at = moment(self.last_login_at, "last_login_at")?;
        let hash = self.password_hash.map(|h| h.trim().to_owned()).filter(|h| !h.is_empty());
        let (hash_format, warning) = match &hash {
            None => (
                None,
                Some(
                    "no password hash: the person can upgrade by resetting their password"
                        .to_owned(),
                ),
            ),
            Some(h) => match LegacyHash::parse(h) {
                Ok(parsed) => (Some(parsed.format().to_owned()), None),
                Err(e) => {
                    (None, Some(format!("{e}: the person can upgrade by resetting their password")))
                }
            },
        };
        let mut digest = Sha256::new();
        for part in [
            legacy_id.as_str(),
            username.as_str(),
            email.as_str(),
            name.as_str(),
            hash.as_deref().unwrap_or(""),
            if active { "1" } else { "0" },
            &created_at.map(|t| t.unix().to_string()).unwrap_or_default(),
            &last_login_at.map(|t| t.unix().to_string()).unwrap_or_default(),
        ] {
            digest.update(part.as_bytes());
            digest.update([0u8]);
        }
        let fingerprint = hex_of(&digest.finalize());
        let record = LegacyRecord {
            client_id: client_id.to_owned(),
            legacy_id,
            username,
            email,
            name,
            password_hash: hash,
            hash_format,
            active,
            created_at,
            last_login_at,
            fingerprint,
        };
        Ok((record, warning))
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What one import (or one batch of it) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// Lines skipped, and lines imported with an unusable hash, with the reason: the first
    /// [`MAX_LINE_ERRORS`], so a file of nothing but bad lines still takes bounded memory.
    pub errors: Vec<LineError>,
    /// Errors beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub errors_not_listed: u64,
}

/// How many line errors an import report lists.
pub const MAX_LINE_ERRORS: usize = 10_000;

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

impl ImportReport {
    pub fn add(&mut self, other: ImportReport) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.errors_not_listed += other.errors_not_listed;
        for e in other.errors {
            if self.errors.len() < MAX_LINE_ERRORS {
                self.errors.push(e);
            } else {
                self.errors_not_listed += 1;
            }
        }
    }
}

/// A product's migration at a glance (the console and `client legacy status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LegacyStats {
    pub records: u64,
    pub upgraded: u64,
    pub waiting: u64,
    /// Upgraded records whose account has not verified its address yet.
    pub unverified: u64,
    /// Records whose hash cannot be used (they upgrade through a password reset).
    pub unusable_hash: u64,
    pub purged: u64,
    pub last_import_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(id: &str, email: &str, hash: &str) -> RawLegacyRecord {
        RawLegacyRecord {
            legacy_id: Some(id.into()),
            email: Some(email.into()),
            password_hash: Some(hash.into()),
            ..RawLegacyRecord::default()
        }
    }

    #[test]
    fn a_line_needs_an_id_and_an_address_and_an_unusable_hash_only_warns() {
        let (record, warning) =
            raw("7", "Ann@Example.com", "{SSHA}bm90IGEgcmVhbCBoYXNoIGJ1dCBsb25nIGVub3VnaA==")
                .validate("c")
                .unwrap();
        assert_eq!(
            (record.username.as_str(), record.name.as_str(), record.active),
            ("Ann@example.com", "Ann@example.com", true),
            "the address as parsed (its domain lower-cased) stands in for a missing username"
        );
        assert_eq!((record.hash_format.as_deref(), warning), (Some("ldap-ssha"), None));
        let (record, warning) = raw("8", "b@example.com", "md5:abc").validate("c").unwrap();
        assert!(record.hash_format.is_none() && warning.unwrap().contains("resetting"));
        assert!(raw("", "b@example.com", "x").validate("c").unwrap_err().contains("legacy_id"));
        assert!(raw("9", "not an address", "x").validate("c").unwrap_err().contains("email"));
        let mut bad_time = raw("9", "b@example.com", "x");
        bad_time.created_at = Some("yesterday".into());
        assert!(bad_time.validate("c").unwrap_err().contains("created_at"));
        let mut hidden = raw("9\u{202e}", "b@example.com", "x");
        hidden.name = Some("x".into());
        assert!(hidden.validate("c").is_err());
    }

    #[test]
    fn the_fingerprint_changes_with_any_field_and_only_then() {
        let a = raw("1", "a@example.com", "h").validate("c").unwrap().0;
        let b = raw("1", "a@example.com", "h").validate("c").unwrap().0;
        let c = raw("1", "a@example.com", "h2").validate("c").unwrap().0;
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
    }
}

/// A product the person uses, as `/account/services` lists it: signed in to through
/// Latchkey, or holding a legacy account linked to them or at their address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub client_id: String,
    pub name: String,
    pub rollout: Option<Rollout>,
    /// The linked legacy account: (legacy user id, username).
    pub linked: Option<(String, String)>,
}

/// One legacy account a "change account" link may switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChoice {
    pub legacy_id: String,
    pub username: String,
    pub name: String,
    /// Already the one linked to the asking account.
    pub current: bool,
}

/// A pending "change account", as its confirmation page shows it.
#[derive(Debug, Clone)]
pub struct LinkChange {
    pub client_id: String,
    pub product: String,
    pub email: Email,
    pub choices: Vec<LinkChoice>,
}

/// A "change account" link as stored (the token's SHA-256, never the token).
#[derive(Debug, Clone)]
pub struct NewLinkChange {
    pub token_hash: TokenHash,
    pub account: AccountId,
    pub client_id: String,
    pub email: Email,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How many line errors a finished import keeps for its result page.
pub const KEPT_LINE_ERRORS: usize = 1000;

/// A finished import, as kept for the console (its result page and "last import").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub id: String,
    pub client_id: String,
    /// `cli`, `api` or `console`.
    pub source: String,
    pub dry_run: bool,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// Every line error, listed or not.
    pub errors: u64,
    /// The first [`KEPT_LINE_ERRORS`] of them.
    pub first_errors: Vec<LineError>,
    pub milliseconds: u64,
    /// Unix seconds.
    pub finished_at: i64,
}

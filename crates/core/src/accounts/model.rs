//! The account aggregate as stored.

use crate::secret::Secret;

use crate::accounts::{DisplayName, Email};
use crate::clock::Timestamp;

crate::id::uuid_id!(
    /// Opaque, stable account id (a UUIDv7 string); also the OIDC `sub`.
    AccountId
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Deactivated,
    /// Closed accounts keep their id as a tombstone (closure arrives with organizations).
    Closed,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deactivated => "deactivated",
            Self::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "deactivated" => Some(Self::Deactivated),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub name: DisplayName,
    /// PHC string; `None` for accounts that can only sign in another way (SSO, later).
    pub password_hash: Option<Secret<String>>,
    pub email_verified_at: Option<Timestamp>,
    pub status: AccountStatus,
    pub site_admin: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the password was last chosen (a rehash on login does not count).
    pub password_changed_at: Option<Timestamp>,
    /// The organization policy assigned to the account, when not its organization's default.
    pub policy_id: Option<String>,
    /// A bot: no mailbox, no web sign-in, API tokens only.
    pub bot: bool,
    /// The organization that owns (and manages) a bot.
    pub bot_org_id: Option<String>,
}

/// What operators see of an account (CLI `--json`, admin API): never its password hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountSummary {
    pub id: String,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub status: &'static str,
    /// The organization that manages the account (organizations arrive later).
    pub managed_by: Option<String>,
    pub site_admin: bool,
    /// `person` or `bot`.
    pub kind: &'static str,
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Account {
    pub fn summary(&self) -> AccountSummary {
        AccountSummary {
            id: self.id.as_str().to_owned(),
            email: self.email.as_str().to_owned(),
            name: self.name.as_str().to_owned(),
            email_verified: self.email_verified(),
            status: self.status.as_str(),
            managed_by: None,
            site_admin: self.site_admin,
            kind: if self.bot { "bot" } else { "person" },
            has_password: self.password_hash.is_some(),
            created_at: self.created_at.rfc3339(),
            updated_at: self.updated_at.rfc3339(),
        }
    }

    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// What sign-up and the CLI hand to storage.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub email: Email,
    pub name: DisplayName,
    pub password_hash: Option<Secret<String>>,
    pub email_verified_at: Option<Timestamp>,
    pub site_admin: bool,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{DisplayName, Email};

    #[test]
    fn an_accounts_debug_output_never_shows_its_password_hash() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
        let account = Account {
            id: AccountId::from_stored("a1".into()),
            email: Email::parse("debug@example.com").unwrap(),
            name: DisplayName::parse("Debug").unwrap(),
            password_hash: Some(Secret::new(hash.to_owned())),
            email_verified_at: None,
            status: AccountStatus::Active,
            site_admin: false,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
            password_changed_at: None,
            policy_id: None,
            bot: false,
            bot_org_id: None,
        };
        let printed = format!("{account:?}");
        assert!(!printed.contains("argon2id") && printed.contains("[redacted]"), "{printed}");
    }
}

/// A position in the site console's account list: the sort key of an account and its id.
///
/// Without a search text the list is in the order accounts were made (`Created`); with one, in
/// the order of the text that matched (`Matched`: the address, or the lower-cased name when the
/// address does not start with the text), which is the order of the index that finds them, so a
/// page reads as many rows as it shows however many accounts match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    pub key: ListKey,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKey {
    Created(i64),
    Matched(String),
}

/// The longest sort key a link may carry: an address (254) or a name, lower-cased.
const MAX_KEY_CHARS: usize = 400;

impl ListPosition {
    pub fn created(created_at: i64, id: impl Into<String>) -> Self {
        Self { key: ListKey::Created(created_at), id: id.into() }
    }

    /// `<created_at>.<id>` or `m.<id>.<matched text>`, as links carry it.
    pub fn to_param(&self) -> String {
        match &self.key {
            ListKey::Created(at) => format!("{at}.{}", self.id),
            ListKey::Matched(text) => format!("m.{}.{text}", self.id),
        }
    }

    /// A position as a link carries it, for a list in made order (`matched == false`) or in
    /// matched-text order; `None` for anything else, including a position of the other order.
    pub fn parse(raw: &str, matched: bool) -> Option<Self> {
        let id_ok = |id: &str| {
            !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if matched {
            let rest = raw.strip_prefix("m.")?;
            let (id, text) = rest.split_once('.')?;
            let text_ok = !text.is_empty()
                && text.chars().count() <= MAX_KEY_CHARS
                && !text.chars().any(char::is_control);
            (id_ok(id) && text_ok)
                .then(|| Self { key: ListKey::Matched(text.to_owned()), id: id.to_owned() })
        } else {
            let (at, id) = raw.split_once('.')?;
            let created_at = at.parse().ok()?;
            id_ok(id).then(|| Self::created(created_at, id))
        }
    }
}

/// Which page of the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PageAt {
    #[default]
    First,
    After(ListPosition),
    Before(ListPosition),
}

/// The site console's account search: the start of an email address or of a name
/// (case-insensitive, index-backed), a status, and one page: in the order accounts were made,
/// or, with a search text, in the order of the text that matched (see [`ListPosition`]).
#[derive(Debug, Clone, Default)]
pub struct AccountSearch {
    /// Lowercase; empty for everyone.
    pub prefix: String,
    pub status: Option<AccountStatus>,
    /// Two-step verification on (an authenticator app or a security key) or off.
    pub two_step: Option<bool>,
    /// Managed by this organization (an email on one of its verified domains, or its bot).
    pub org: Option<String>,
    pub page: PageAt,
    pub limit: u32,
}

//! The organizations' model: organizations, their domains and what checking one found, the
//! managed account as consoles show it, and the feature's errors. It depends only on the
//! bottom layer and on other features' models, so capabilities and ports can name it.

use crate::accounts::Account;
use crate::clock::Timestamp;
use crate::errors::{RepoError, Unexpected};

mod domain;

pub use domain::{Domain, DomainError};

/// The TXT record's prefix; the value is this followed by the domain's token.
pub const TXT_PREFIX: &str = "latchkey-verification=";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    /// Added, not (yet) proven.
    Pending,
    Verified,
    /// Cannot be verified here: another organization holds it.
    Failed,
}

impl DomainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "verified" => Some(Self::Verified),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDomain {
    pub org_id: String,
    pub domain: Domain,
    /// Goes into the TXT record; not a secret (it is published), but unguessable, so nobody
    /// can pre-publish it.
    pub token: String,
    pub status: DomainStatus,
    pub created_at: Timestamp,
    pub verified_at: Option<Timestamp>,
    pub last_checked_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// When the background job looks again (`None`: it does not).
    pub next_check_at: Option<Timestamp>,
    /// Checks made so far (the backoff grows with them).
    pub checks: u32,
    /// How the domain was last proven (while verified).
    pub proof: Option<ProofMethod>,
}

/// What a check concluded, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub status: DomainStatus,
    pub error: Option<String>,
    pub next_check_at: Option<Timestamp>,
    /// The method that proved the domain this time (`None`: none did).
    pub proof: Option<ProofMethod>,
}

impl OrgDomain {
    /// The TXT record to publish on the domain.
    pub fn txt_record(&self) -> String {
        format!("{TXT_PREFIX}{}", self.token)
    }

    /// The domain as the admin API and the CLI print it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "org_id": self.org_id,
            "domain": self.domain.as_str(),
            "token": self.token,
            "txt_record": self.txt_record(),
            "proof_url": self.proof_url(),
            "status": self.status.as_str(),
            "verified_by": self.proof.map(ProofMethod::as_str),
            "verified_at": self.verified_at.map(Timestamp::rfc3339),
            "last_checked_at": self.last_checked_at.map(Timestamp::rfc3339),
            "last_error": self.last_error,
        })
    }
}

/// What an organization holds, said before it is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OrgUsage {
    pub admins: u64,
    pub domains: u64,
    /// Accounts with an address on one of its verified domains (they stop being managed).
    pub managed_accounts: u64,
    /// Its bots (deactivated with it: their tokens stop working).
    pub bots: u64,
    pub saml_connections: u64,
    pub policies: u64,
}

/// What removing a domain changes, said before it is removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DomainUsage {
    pub verified: bool,
    /// Accounts on the domain that stop being managed (when it was verified).
    pub managed_accounts: u64,
    /// The SAML connections that stop serving it.
    pub saml_connections: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// Unknown organization, or one the caller does not administer (the same answer, so
    /// nobody learns which organizations exist).
    #[error("No such organization.")]
    NotFound,
    #[error("No account has the email {0}.")]
    UnknownAccount(String),
    #[error(
        "The organization's name must be 1 to 100 characters, without control or invisible formatting characters (such as right-to-left overrides)."
    )]
    BadName,
    #[error("{0}")]
    BadDomain(#[from] DomainError),
    #[error("The organization has no domain {0}; add it first.")]
    UnknownDomain(String),
    /// `--org` given by a name several organizations share.
    #[error("Several organizations are called {0:?}; name it by its id (latchkey org list).")]
    Ambiguous(String),
    #[error("{0} is not an administrator of this organization.")]
    NotAnAdmin(String),
    /// Removing the last admin would leave nobody to run the organization.
    #[error("This is the organization's last administrator: add another one first.")]
    LastAdmin,
    /// Nobody removes themselves; another admin (or a site admin) does.
    #[error("You cannot remove yourself as an administrator; another administrator can.")]
    OwnAdmin,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for OrgError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A managed account as its organization's console, API and CLI show it.
#[derive(Debug, Clone)]
pub struct ManagedAccount {
    pub account: Account,
    pub two_factor: bool,
    /// The last sign-in to Latchkey or to a product.
    pub last_active_at: Option<Timestamp>,
    /// The products it has signed in to, by name.
    pub products: Vec<String>,
    /// A site admin or another organization's admin: this organization's admins may not act
    /// on it (a site admin acting for the organization may).
    pub protected: bool,
}

impl ManagedAccount {
    pub fn to_json(&self) -> serde_json::Value {
        let a = &self.account;
        serde_json::json!({
            "id": a.id.as_str(),
            "email": a.email.as_str(),
            "name": a.name.as_str(),
            "status": a.status.as_str(),
            "email_verified": a.email_verified_at.is_some(),
            "two_factor": self.two_factor,
            "last_active_at": self.last_active_at.map(Timestamp::rfc3339),
            "products": self.products,
            "protected": self.protected,
        })
    }
}

/// The outcome of checking a domain now.
#[derive(Debug, Clone)]
pub struct DomainCheck {
    pub domain: OrgDomain,
    /// What was found, in words.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofMethod {
    /// `latchkey-verification=<token>` in a TXT record on the domain.
    DnsTxt,
    /// `https://<domain>/.well-known/latchkey-verification.txt` holding the token.
    HttpsFile,
}

impl ProofMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DnsTxt => "dns_txt",
            Self::HttpsFile => "https_file",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "dns_txt" => Some(Self::DnsTxt),
            "https_file" => Some(Self::HttpsFile),
            _ => None,
        }
    }

    /// For people: "DNS TXT record" or "HTTPS file".
    pub fn describe(self) -> &'static str {
        match self {
            Self::DnsTxt => "DNS TXT record",
            Self::HttpsFile => "HTTPS file",
        }
    }
}

//! The audit log: every security-relevant event recorded once, append-only — logins and
//! logouts, password and two-step changes, token creation and revocation, administrators'
//! actions on accounts, domain verification, organization admins. Each event carries who did
//! it (actor), to whom (target), the organization that manages the target (so its admins see
//! it), the client's address and user agent when the event came from a browser, the outcome,
//! and details as JSON. Site admins see everything; an organization's admins see their
//! organization's events. Recording never blocks the action it records: a failure to append
//! is logged as an error.

use std::sync::Arc;

use serde::Serialize;

use crate::accounts::ports::AccountRepo;
use crate::accounts::{Account, AccountId};
use crate::audit::ports::AuditRepo;
use crate::authority::{OrgAdmin, SiteAdmin};
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::kernel::Kernel;
use crate::orgs::ports::OrgRepo;
use crate::sessions::model::ClientInfo;

pub mod export;
pub use export::{AuditExport, AuditFilterError, AuditQuery, ExportFormat};

/// One recorded event (JSON Lines exports are these, one per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditEvent {
    /// The event's number in the log (assigned when it is written).
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// `login`, `logout`, `password.changed`, `two_factor.enabled`, `account.deactivated`, …
    pub event: String,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub actor_id: Option<String>,
    /// The actor as a person reads it: an email, "local operator", "system".
    pub actor: String,
    pub target_id: Option<String>,
    pub target: String,
    pub org_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub details: serde_json::Value,
}

/// Which events a query returns. `after` walks the log forwards by id (keyset paging).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<String>,
    pub target_id: Option<String>,
    pub event: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub after: Option<String>,
    /// Only events before this id.
    pub before: Option<String>,
    /// Newest first (the console); otherwise oldest first (exports, the API).
    pub newest_first: bool,
}

/// Whose view of the log a query serves.
#[derive(Debug, Clone)]
pub enum AuditScope {
    Site(SiteAdmin),
    Org(OrgAdmin),
}

/// Who did something, as the log records it.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    Person(&'a Account),
    Site(&'a SiteAdmin),
    Org(&'a OrgAdmin),
    /// Someone not signed in (a failed login).
    Anonymous,
    /// A product (OAuth client), by its client id.
    Product(&'a str),
    System,
}

/// The outcome of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Refused => "refused",
        }
    }
}

/// What is being recorded.
#[derive(Debug, Clone)]
#[must_use]
pub struct Record<'a> {
    pub event: &'static str,
    pub outcome: Outcome,
    pub actor: Actor<'a>,
    pub target: Option<&'a Account>,
    /// A target that is not an account (a domain, a client), when there is one.
    pub target_label: Option<String>,
    pub client: Option<&'a ClientInfo>,
    /// The organization the event belongs to, when the actor and target do not say.
    pub org: Option<String>,
    pub details: serde_json::Value,
}

impl<'a> Record<'a> {
    pub fn new(event: &'static str, actor: Actor<'a>) -> Self {
        Self {
            event,
            outcome: Outcome::Success,
            actor,
            target: None,
            target_label: None,
            client: None,
            org: None,
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn target(mut self, account: &'a Account) -> Self {
        self.target = Some(account);
        self
    }

    pub fn maybe_target(mut self, account: Option<&'a Account>) -> Self {
        self.target = account;
        self
    }

    pub fn in_org(mut self, org: &str) -> Self {
        self.org = Some(org.to_owned());
        self
    }

    pub fn about(mut self, label: impl Into<String>) -> Self {
        self.target_label = Some(label.into());
        self
    }

    pub fn from(mut self, client: &'a ClientInfo) -> Self {
        self.client = Some(client);
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// The audit log's service: recording events, and reading them for those who may.
#[derive(Clone)]
pub struct Audit {
    log: Arc<dyn AuditRepo>,
    accounts: Arc<dyn AccountRepo>,
    orgs: Arc<dyn OrgRepo>,
    kernel: Kernel,
    retention_secs: i64,
}

impl Audit {
    pub fn new(
        log: Arc<dyn AuditRepo>,
        accounts: Arc<dyn AccountRepo>,
        orgs: Arc<dyn OrgRepo>,
        kernel: Kernel,
        retention_secs: i64,
    ) -> Self {
        Self { log, accounts, orgs, kernel, retention_secs }
    }

    /// Appends an event; a failure is logged, never returned (the action already happened).
    pub(crate) async fn record(&self, record: Record<'_>) {
        if let Err(e) = self.try_audit(record).await {
            tracing::error!(error = %e, "could not append to the audit log");
        }
    }

    async fn try_audit(&self, r: Record<'_>) -> Result<(), RepoError> {
        let now = self.kernel.now();
        let (actor_id, actor, actor_org): (Option<AccountId>, String, Option<String>) = match &r
            .actor
        {
            Actor::Person(a) => (Some(a.id.clone()), a.email.to_string(), None),
            Actor::Site(s) => (
                s.actor().cloned(),
                s.actor().map_or_else(|| "local operator".to_owned(), |_| "site admin".to_owned()),
                None,
            ),
            Actor::Org(o) => {
                (o.actor().cloned(), "organization admin".to_owned(), Some(o.org().id.clone()))
            }
            Actor::Anonymous => (None, "anonymous".to_owned(), None),
            Actor::Product(client_id) => (None, format!("product {client_id}"), None),
            Actor::System => (None, "system".to_owned(), None),
        };
        let actor = match (&actor_id, &r.actor) {
            (Some(id), Actor::Site(_) | Actor::Org(_)) => {
                match self.accounts.find_by_id(id).await? {
                    Some(a) => a.email.to_string(),
                    None => actor,
                }
            }
            _ => actor,
        };
        let org_id = match (r.org.clone().or(actor_org), r.target) {
            (Some(org), _) => Some(org),
            (None, Some(t)) => {
                crate::orgs::ports::managing_org(self.orgs.as_ref(), t).await?.map(|o| o.id)
            }
            (None, None) => None,
        };
        let event = AuditEvent {
            id: String::new(),
            at: now.unix(),
            event: r.event.to_owned(),
            outcome: r.outcome.as_str().to_owned(),
            actor_id: actor_id.map(|a| a.as_str().to_owned()),
            actor,
            target_id: r.target.map(|t| t.id.as_str().to_owned()),
            target: r
                .target_label
                .clone()
                .or_else(|| r.target.map(|t| t.email.to_string()))
                .unwrap_or_default(),
            org_id,
            ip: r.client.map(|c| c.ip.clone()).unwrap_or_default(),
            user_agent: r.client.map(|c| c.user_agent.clone()).unwrap_or_default(),
            details: r.details,
        };
        self.log.append(&event).await
    }

    /// Events the caller may see, oldest first: everything for a site admin, only the
    /// organization's for its admins (whatever the filter says).
    pub async fn audit_events(
        &self,
        scope: &AuditScope,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, RepoError> {
        let filter = match scope {
            AuditScope::Site(_) => filter.clone(),
            AuditScope::Org(admin) => {
                AuditFilter { org_id: Some(admin.org().id.clone()), ..filter.clone() }
            }
        };
        self.log.query(&filter, limit.clamp(1, 1000)).await
    }

    /// The account id behind an email, to filter the log by person.
    pub async fn audit_person(
        &self,
        email: &crate::accounts::Email,
    ) -> Result<Option<String>, RepoError> {
        Ok(self.accounts.find_by_email(email).await?.map(|a| a.id.as_str().to_owned()))
    }

    /// Housekeeping: forgets events older than the retention period.
    pub async fn purge_audit_log(&self) -> Result<u64, RepoError> {
        let before = self.kernel.now().plus_secs(-self.retention_secs);
        self.log.purge_before(before).await
    }
}
pub mod ports;

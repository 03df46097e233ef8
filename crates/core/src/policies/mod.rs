//! Authentication policies: which policy covers an account, the rules a new password must
//! pass, and the admin actions that create, edit and assign policies (in [`admin`]).
//!
//! Policies are read at every login and on every session check, so each node keeps all of them
//! (and the verified domains that decide who is managed) in memory. Every change bumps an
//! epoch in the database; a node looks at the epoch at most every [`RECHECK_SECS`] and
//! reloads when it moved, so a change reaches every node within a few seconds. The node that
//! made the change reloads at once.
//!
//! Site admins are always under the site default, whatever organization manages their address:
//! an organization's policy can never lock out the site's break-glass accounts.

mod admin;
pub mod model;
pub mod passwords;
pub mod ports;

pub use admin::{AssignReport, PolicyChange, PolicyEditor, PolicyError, PolicyView, Preview};
pub use model::{
    AuthMethod, InvalidSettings, Policy, PolicyId, PolicyScope, PolicySettings, Renewal,
    SessionVerdict, TwoStep,
};
pub use passwords::{PasswordRuleError, Strength};

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use crate::accounts::ports::AccountRepo;
use crate::accounts::{Account, AccountId, Email};
use crate::audit::Audit;
use crate::credentials::{HashError, Password, PasswordHasher, Verified};
use crate::errors::{RepoError, Unexpected};
use crate::kernel::Kernel;
use crate::policies::ports::{PolicyData, PolicyRepo};

/// How often (seconds) a node asks whether policies changed elsewhere.
pub const RECHECK_SECS: i64 = 2;

/// Every policy and verified domain, as one node sees them.
#[derive(Debug)]
struct Snapshot {
    epoch: i64,
    by_id: HashMap<String, Arc<Policy>>,
    org_defaults: HashMap<String, Arc<Policy>>,
    site: Arc<Policy>,
    /// Verified domain → organization.
    domains: HashMap<String, String>,
}

impl Snapshot {
    fn build(data: PolicyData, now: crate::clock::Timestamp) -> Self {
        let mut by_id = HashMap::new();
        let mut org_defaults = HashMap::new();
        let mut site = None;
        for policy in data.policies {
            let policy = Arc::new(policy);
            if policy.is_default {
                match &policy.scope {
                    PolicyScope::Site => site = Some(policy.clone()),
                    PolicyScope::Org(org) => {
                        org_defaults.insert(org.clone(), policy.clone());
                    }
                }
            }
            by_id.insert(policy.id.as_str().to_owned(), policy);
        }
        Self {
            epoch: data.epoch,
            by_id,
            org_defaults,
            site: site.unwrap_or_else(|| Arc::new(Policy::builtin(PolicyScope::Site, now))),
            domains: data.verified_domains.into_iter().collect(),
        }
    }

    fn managing_org(&self, email: &Email) -> Option<&str> {
        let domain = email.normalized().rsplit('@').next().unwrap_or_default();
        self.domains.get(domain).map(String::as_str)
    }

    fn org_default(&self, org: &str) -> Arc<Policy> {
        self.org_defaults.get(org).cloned().unwrap_or_else(|| {
            Arc::new(Policy::builtin(PolicyScope::Org(org.to_owned()), self.site.created_at))
        })
    }

    /// The policy covering an account: site admins and unmanaged accounts are under the site
    /// default; a managed account under its assigned policy when that belongs to its
    /// organization, otherwise under the organization's default.
    fn effective(&self, account: &Account) -> Arc<Policy> {
        if account.site_admin {
            return self.site.clone();
        }
        let managing = if account.bot {
            account.bot_org_id.as_deref()
        } else {
            self.managing_org(&account.email)
        };
        let Some(org) = managing else {
            return self.site.clone();
        };
        account
            .policy_id
            .as_deref()
            .and_then(|id| self.by_id.get(id))
            .filter(|p| p.org() == Some(org))
            .cloned()
            .unwrap_or_else(|| self.org_default(org))
    }
}

/// Why a new password was refused.
#[derive(Debug, thiserror::Error)]
pub enum NewPasswordError {
    #[error(transparent)]
    Rule(#[from] PasswordRuleError),
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for NewPasswordError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashError> for NewPasswordError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            other @ HashError::Unexpected(_) => {
                Self::Unexpected(Unexpected::from(RepoError(other.to_string().into())))
            }
        }
    }
}

#[derive(Clone)]
pub struct Policies {
    repo: Arc<dyn PolicyRepo>,
    accounts: Arc<dyn AccountRepo>,
    hasher: PasswordHasher,
    audit: Audit,
    kernel: Kernel,
    cache: Arc<Cache>,
}

struct Cache {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// When the epoch was last looked at (unix seconds of the injected clock).
    checked_at: AtomicI64,
}

impl Policies {
    pub fn new(
        repo: Arc<dyn PolicyRepo>,
        accounts: Arc<dyn AccountRepo>,
        hasher: PasswordHasher,
        audit: Audit,
        kernel: Kernel,
    ) -> Self {
        let cache = Arc::new(Cache { snapshot: RwLock::new(None), checked_at: AtomicI64::new(0) });
        Self { repo, accounts, hasher, audit, kernel, cache }
    }

    fn cached(&self) -> Option<Arc<Snapshot>> {
        self.cache.snapshot.read().ok().and_then(|s| s.clone())
    }

    /// The current snapshot: from memory, re-validated against the epoch every few seconds.
    async fn snapshot(&self) -> Result<Arc<Snapshot>, RepoError> {
        let now = self.kernel.now();
        let cached = self.cached();
        let last = self.cache.checked_at.load(Ordering::Relaxed);
        if let Some(snap) = &cached {
            let due = now.unix().saturating_sub(last) >= RECHECK_SECS || now.unix() < last;
            // One request per node does the check; the others keep using the snapshot.
            if !due
                || self
                    .cache
                    .checked_at
                    .compare_exchange(last, now.unix(), Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
            {
                return Ok(snap.clone());
            }
            if self.repo.policy_epoch().await? == snap.epoch {
                return Ok(snap.clone());
            }
        }
        self.reload().await
    }

    async fn reload(&self) -> Result<Arc<Snapshot>, RepoError> {
        let now = self.kernel.now();
        let fresh = Arc::new(Snapshot::build(self.repo.load_policies().await?, now));
        if let Ok(mut slot) = self.cache.snapshot.write() {
            *slot = Some(fresh.clone());
        }
        self.cache.checked_at.store(now.unix(), Ordering::Relaxed);
        Ok(fresh)
    }

    /// A change was made elsewhere that moves people between policies (a domain verified):
    /// every node reloads.
    pub(crate) async fn membership_changed(&self) -> Result<(), RepoError> {
        self.repo.bump_policy_epoch().await?;
        self.reload().await.map(|_| ())
    }

    /// The policy covering the account now.
    pub async fn for_account(&self, account: &Account) -> Result<Arc<Policy>, RepoError> {
        Ok(self.snapshot().await?.effective(account))
    }

    /// Whether the account must sign in through its organization's identity provider (never
    /// a site admin: their break-glass path is their own password).
    pub async fn sso_required(&self, account: &Account) -> Result<bool, RepoError> {
        Ok(!account.site_admin && self.for_account(account).await?.settings.sso_required)
    }

    /// The policy a new account with this address would be under (sign-up).
    pub async fn for_address(&self, email: &Email) -> Result<Arc<Policy>, RepoError> {
        let snap = self.snapshot().await?;
        Ok(match snap.managing_org(email) {
            Some(org) => snap.org_default(org),
            None => snap.site.clone(),
        })
    }

    /// The site default (site admins and unmanaged accounts).
    pub async fn site_default(&self) -> Result<Arc<Policy>, RepoError> {
        Ok(self.snapshot().await?.site.clone())
    }

    /// Checks a new password for an account (or, with `account` unset, for a new one with
    /// this address and name): the policy's length and strength, the common list, and the
    /// account's history.
    pub async fn check_new_password(
        &self,
        policy: &Policy,
        account: Option<&Account>,
        email: &Email,
        name: &str,
        password: &Password,
    ) -> Result<(), NewPasswordError> {
        passwords::check(&policy.settings, password, &[name, email.as_str()])?;
        let Some(account) = account else { return Ok(()) };
        // The current password is never a new one; the history rule adds earlier ones.
        let keep = policy.settings.password_history;
        let mut earlier = if keep > 0 {
            self.repo.password_history(&account.id, keep).await?
        } else {
            Vec::new()
        };
        if let Some(current) = &account.password_hash
            && !earlier.iter().any(|h| h == current.expose())
        {
            earlier.insert(0, current.expose().clone());
            earlier.truncate(usize::try_from(keep.max(1)).unwrap_or(usize::MAX));
        }
        for hash in &earlier {
            let verdict = self.hasher.verify(password, Some(hash), self.kernel.rng()).await?;
            if !matches!(verdict, Verified::No) {
                return Err(PasswordRuleError::Reused.into());
            }
        }
        Ok(())
    }

    /// Records a password the account now has, for the history rule.
    pub(crate) async fn remember_password(
        &self,
        account: &AccountId,
        hash: &str,
    ) -> Result<(), RepoError> {
        let now = self.kernel.now();
        let id = self.kernel.new_id(now);
        self.repo.push_password_history(&id, account, hash, now, PolicySettings::MAX_HISTORY).await
    }

    /// The zxcvbn verdict for the live meter (the server's check is the one that counts).
    pub fn strength(&self, password: &str, user_inputs: &[&str]) -> Strength {
        passwords::strength(password, user_inputs)
    }
}

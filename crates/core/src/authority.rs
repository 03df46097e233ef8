//! Who is acting: capabilities that only core's own checks mint. A use case that needs an
//! authority takes one of these types, so a forgotten check fails to compile, and no caller
//! outside this crate can construct one (every field is private):
//!
//! - [`SignedIn`]: a live session of an active account, minted by session resolution.
//! - [`SiteAdmin`]: an active site admin's session or admin token, or the local operator.
//! - [`OrgAdmin`]: an organization's admin (or a site admin acting for it).
//! - [`Operator`]: whoever holds the database and the master key (the CLI); minted once when
//!   the core is built and handed to the binary, never to the web layer.
//!
//! This module depends on the account and session models only.

use crate::accounts::{Account, AccountId};
use crate::orgs::model::Organization;
use crate::sessions::model::Session;

/// A live session of an active account: what `Sessions::resolve_session` found behind a cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    session: Session,
    account: Account,
}

impl SignedIn {
    pub(crate) fn new(session: Session, account: Account) -> Self {
        Self { session, account }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn account(&self) -> &Account {
        &self.account
    }
}

/// The local operator's authority: handed out once, by `Core::new`, to the program that built
/// the core (the binary's CLI). Not `Clone`: lend it.
#[derive(Debug)]
pub struct Operator(());

impl Operator {
    pub(crate) fn mint() -> Self {
        Self(())
    }
}

/// Proof that the caller may administer the whole site.
#[derive(Debug, Clone)]
pub struct SiteAdmin {
    /// `None` for the local operator.
    actor: Option<AccountId>,
}

impl SiteAdmin {
    /// The operator running the `latchkey` CLI on the server itself.
    pub fn operator(_proof: &Operator) -> Self {
        Self { actor: None }
    }

    /// A signed-in account that carries the site-admin flag.
    pub fn of(signed_in: &SignedIn) -> Option<Self> {
        Self::from_account(&signed_in.account)
    }

    /// Core's own check on an account it loaded itself (sessions, admin tokens).
    pub(crate) fn from_account(account: &Account) -> Option<Self> {
        (account.site_admin && account.is_active())
            .then(|| Self { actor: Some(account.id.clone()) })
    }

    /// The acting account (`None`: the local operator).
    pub fn actor(&self) -> Option<&AccountId> {
        self.actor.as_ref()
    }
}

/// Proof that the caller may administer one organization: one of its admins, or a site admin
/// acting for it. Only the latter may act on site admins and on other organizations' admins.
#[derive(Debug, Clone)]
pub struct OrgAdmin {
    org: Organization,
    actor: Option<AccountId>,
    as_site_admin: bool,
}

impl OrgAdmin {
    pub(crate) fn for_site_admin(site: &SiteAdmin, org: Organization) -> Self {
        Self { org, actor: site.actor.clone(), as_site_admin: true }
    }

    pub(crate) fn for_member(account: &Account, org: Organization) -> Self {
        Self { org, actor: Some(account.id.clone()), as_site_admin: false }
    }

    /// Background work done for the organization (domain re-checks): nobody acting, and no
    /// more authority over accounts than an organization admin has.
    pub(crate) fn background(org: Organization) -> Self {
        Self { org, actor: None, as_site_admin: false }
    }

    pub fn org(&self) -> &Organization {
        &self.org
    }

    /// The acting account (`None`: the local operator or background work).
    pub fn actor(&self) -> Option<&AccountId> {
        self.actor.as_ref()
    }

    /// Whether a site admin is acting (site admins may act on any account).
    pub fn is_site_admin(&self) -> bool {
        self.as_site_admin
    }
}

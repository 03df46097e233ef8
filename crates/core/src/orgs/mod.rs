//! Organizations: a company's own place in Latchkey. A site admin creates one with its first
//! admin; org admins add other admins and claim domains. A domain is claimed by proving control
//! of its DNS: a TXT record `latchkey-verification=<token>` on the domain itself (the apex). A
//! verified domain belongs to one organization only; subdomains are separate domains.
//!
//! Control is proven by a DNS TXT record or an HTTPS file (see [`proof`]); a verified domain
//! makes every account on it managed by the organization.

mod domain;
mod managed;
pub mod model;
mod proof;

pub use domain::{Domain, DomainError};
pub use managed::{ManagedAction, ManagedActionError};
pub use model::{
    CheckResult, DomainCheck, DomainStatus, ManagedAccount, OrgDomain, OrgError, Organization,
    TXT_PREFIX,
};
pub use proof::{ProofMethod, WELL_KNOWN_PATH};

pub use crate::authority::OrgAdmin;

use crate::Core;
use crate::accounts::{Account, AccountId, AccountSummary, Email};
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::authority::SiteAdmin;
use crate::errors::RepoError;
use crate::secret::OpaqueToken;

/// Pending domains are looked at again after these pauses (then every six hours), for seven
/// days; verified ones once a day.
const PENDING_BACKOFF_SECS: [i64; 4] = [300, 900, 3600, 6 * 3600];
const PENDING_FOR_SECS: i64 = 7 * 24 * 3600;
const VERIFIED_RECHECK_SECS: i64 = 24 * 3600;

impl Core {
    /// The organization that manages the account: the one holding its email's domain verified.
    pub async fn managing_org(&self, account: &Account) -> Result<Option<Organization>, RepoError> {
        let domain = account.email.normalized().rsplit('@').next().unwrap_or_default();
        self.ports.orgs.verified_owner(domain).await
    }

    /// What operators see of an account, with the organization that manages it.
    pub async fn account_summary(&self, account: &Account) -> Result<AccountSummary, RepoError> {
        let mut summary = account.summary();
        summary.managed_by = self.managing_org(account).await?.map(|o| o.id);
        Ok(summary)
    }

    /// Tells every account on a newly verified domain, once, that it is now managed.
    async fn announce_managed(&self, org: &Organization, domain: &Domain) -> Result<(), RepoError> {
        const PAGE: u32 = 500;
        let mut offset = 0;
        loop {
            let accounts =
                self.ports.accounts.list_by_email_domain(domain.as_str(), PAGE, offset).await?;
            for account in &accounts {
                let link = format!("{}/account", self.settings.public_url);
                self.send_mail(crate::mail::now_managed(
                    &account.email,
                    account.name.as_str(),
                    &org.name,
                    &link,
                ))
                .await;
            }
            if accounts.len() < PAGE as usize {
                return Ok(());
            }
            offset += PAGE;
        }
    }

    pub async fn create_organization(
        &self,
        admin: &SiteAdmin,
        name: &str,
        first_admin: &Email,
    ) -> Result<Organization, OrgError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || crate::text::has_hidden_or_control(name)
        {
            return Err(OrgError::BadName);
        }
        let account = self
            .ports
            .accounts
            .find_by_email(first_admin)
            .await?
            .ok_or_else(|| OrgError::UnknownAccount(first_admin.to_string()))?;
        let now = self.ports.clock.now();
        let org = Organization { id: self.new_id(now), name: name.to_owned(), created_at: now };
        self.ports.orgs.insert_org(&org, &account.id).await?;
        tracing::info!(org = %org.id, admin = %account.id, "organization created");
        let record = Record::new("organization.created", Actor::Site(admin))
            .target(&account)
            .in_org(&org.id)
            .details(serde_json::json!({ "name": org.name }));
        self.audit(record).await;
        Ok(org)
    }

    pub async fn list_organizations(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<Organization>, RepoError> {
        self.ports.orgs.list_orgs().await
    }

    /// A site admin acting for an organization.
    pub async fn org_admin_as_site_admin(
        &self,
        admin: &SiteAdmin,
        org: &str,
    ) -> Result<OrgAdmin, OrgError> {
        let org = self.ports.orgs.find_org(org).await?.ok_or(OrgError::NotFound)?;
        Ok(OrgAdmin::for_site_admin(admin, org))
    }

    /// A signed-in account acting for an organization it administers.
    pub async fn org_admin_as(
        &self,
        signed_in: &SignedIn,
        org: &str,
    ) -> Result<OrgAdmin, OrgError> {
        let account = signed_in.account();
        if let Some(site) = SiteAdmin::of(signed_in) {
            return self.org_admin_as_site_admin(&site, org).await;
        }
        if !account.is_active() || !self.ports.orgs.is_org_admin(org, &account.id).await? {
            return Err(OrgError::NotFound);
        }
        let org = self.ports.orgs.find_org(org).await?.ok_or(OrgError::NotFound)?;
        Ok(OrgAdmin::for_member(account, org))
    }

    /// Adds another admin; true when they were not one already.
    pub async fn add_org_admin(&self, admin: &OrgAdmin, email: &Email) -> Result<bool, OrgError> {
        let account = self
            .ports
            .accounts
            .find_by_email(email)
            .await?
            .ok_or_else(|| OrgError::UnknownAccount(email.to_string()))?;
        let added = self
            .ports
            .orgs
            .add_org_admin(&admin.org().id, &account.id, self.ports.clock.now())
            .await?;
        tracing::info!(org = %admin.org().id, admin = %account.id, added, "organization admin added");
        if added {
            let record =
                Record::new("organization.admin_added", Actor::Org(admin)).target(&account);
            self.audit(record).await;
        }
        Ok(added)
    }

    /// Adds a domain to verify (or returns it, with its token, if it was added before).
    pub async fn add_domain(&self, admin: &OrgAdmin, raw: &str) -> Result<OrgDomain, OrgError> {
        let domain = Domain::parse(raw)?;
        if let Some(existing) = self.ports.orgs.find_domain(&admin.org().id, &domain).await? {
            return Ok(existing);
        }
        let now = self.ports.clock.now();
        let token = OpaqueToken::generate(self.ports.rng.as_ref()).expose().to_owned();
        let added = OrgDomain {
            org_id: admin.org().id.clone(),
            domain,
            token,
            status: DomainStatus::Pending,
            created_at: now,
            verified_at: None,
            last_checked_at: None,
            last_error: None,
            next_check_at: Some(now.plus_secs(PENDING_BACKOFF_SECS[0])),
            checks: 0,
            proof: None,
        };
        if !self.ports.orgs.insert_domain(&added).await? {
            // Added concurrently: return what is stored.
            return self
                .ports
                .orgs
                .find_domain(&admin.org().id, &added.domain)
                .await?
                .ok_or_else(|| OrgError::UnknownDomain(added.domain.to_string()));
        }
        tracing::info!(org = %admin.org().id, domain = %added.domain, "domain added");
        self.audit(Record::new("domain.added", Actor::Org(admin)).about(added.domain.as_str()))
            .await;
        Ok(added)
    }

    /// The organizations an account administers (all of them for a site admin).
    pub async fn administered_orgs(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Vec<Organization>, RepoError> {
        if SiteAdmin::of(signed_in).is_some() {
            return self.ports.orgs.list_orgs().await;
        }
        self.ports.orgs.orgs_administered_by(&signed_in.account().id).await
    }

    pub async fn org_admin_accounts(&self, admin: &OrgAdmin) -> Result<Vec<Account>, RepoError> {
        let mut out = Vec::new();
        for id in self.ports.orgs.org_admins(&admin.org().id).await? {
            if let Some(a) = self.ports.accounts.find_by_id(&id).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Accounts managed by the organization (on its verified domains, up to `limit` per
    /// domain), with what its console shows about each.
    pub async fn managed_accounts(
        &self,
        admin: &OrgAdmin,
        limit: u32,
    ) -> Result<Vec<ManagedAccount>, RepoError> {
        let mut accounts = Vec::new();
        for d in self.ports.orgs.list_domains(&admin.org().id).await? {
            if d.status == DomainStatus::Verified {
                accounts.extend(
                    self.ports.accounts.list_by_email_domain(d.domain.as_str(), limit, 0).await?,
                );
            }
        }
        let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
        let mut activity: std::collections::HashMap<
            AccountId,
            crate::accounts::ports::AccountActivity,
        > = self
            .ports
            .accounts
            .activity(&ids)
            .await?
            .into_iter()
            .map(|a| (a.account.clone(), a))
            .collect();
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            let two_factor = self.two_factor_status(&account.id).await?.enabled();
            let seen = activity.remove(&account.id);
            let protected = self.protected_from(admin, &account).await?.is_some();
            out.push(ManagedAccount {
                protected,
                last_active_at: seen.as_ref().and_then(|a| a.last_active_at),
                products: seen.map(|a| a.products).unwrap_or_default(),
                two_factor,
                account,
            });
        }
        Ok(out)
    }

    /// The account with this email if the organization manages it; any other account (or none)
    /// is "not found", so an admin learns nothing about accounts outside the organization. The
    /// refusal is audited (with the address the admin gave, never the account behind it).
    pub(crate) async fn managed_account(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        action: &'static str,
    ) -> Result<Account, crate::flows::SetStatusError> {
        use crate::flows::SetStatusError;
        let found = self.ports.accounts.find_by_email(email).await?;
        let managed = match &found {
            Some(account) => {
                self.managing_org(account).await?.is_some_and(|o| o.id == admin.org().id)
            }
            None => false,
        };
        match found {
            Some(account) if managed => {
                if let Some(why) = self.protected_from(admin, &account).await? {
                    tracing::warn!(org = %admin.org().id, actor = ?admin.actor(), account = %account.id, action, why, "refused: protected account");
                    let record = Record::new("account.action_refused", Actor::Org(admin))
                        .outcome(Outcome::Refused)
                        .target(&account)
                        .details(serde_json::json!({ "action": action, "reason": why }));
                    self.audit(record).await;
                    return Err(SetStatusError::Protected);
                }
                Ok(account)
            }
            _ => {
                tracing::warn!(org = %admin.org().id, actor = ?admin.actor(), action, "refused: no such account managed by the organization");
                let record = Record::new("account.action_refused", Actor::Org(admin))
                    .outcome(Outcome::Refused)
                    .about(email.as_str())
                    .details(serde_json::json!({
                        "action": action,
                        "reason": "no such account managed by the organization",
                    }));
                self.audit(record).await;
                Err(SetStatusError::NotFound)
            }
        }
    }

    /// Why an organization's admin may not act on this account it manages, if so: site admins
    /// and admins of other organizations answer to site admins only (otherwise an org admin
    /// could move such an account's email, reset its password and sign in as it). A site admin
    /// acting for the organization may act on anyone.
    async fn protected_from(
        &self,
        admin: &OrgAdmin,
        account: &Account,
    ) -> Result<Option<&'static str>, RepoError> {
        if admin.is_site_admin() {
            return Ok(None);
        }
        if account.site_admin {
            return Ok(Some("the account is a site admin"));
        }
        let administers = self.ports.orgs.orgs_administered_by(&account.id).await?;
        if administers.iter().any(|o| o.id != admin.org().id) {
            return Ok(Some("the account administers another organization"));
        }
        Ok(None)
    }

    /// An org admin deactivates an account the organization manages. Any other account is
    /// "not found": an admin learns nothing about accounts outside the organization.
    pub(crate) async fn deactivate_managed_account(
        &self,
        admin: &OrgAdmin,
        email: &Email,
    ) -> Result<Account, crate::flows::SetStatusError> {
        let account = self.managed_account(admin, email, "deactivate").await?;
        let account = self.deactivate(account).await?;
        self.audit(Record::new("account.deactivated", Actor::Org(admin)).target(&account)).await;
        tracing::info!(org = %admin.org().id, actor = ?admin.actor(), account = %account.id, "managed account deactivated");
        Ok(account)
    }

    /// An org admin turns off a managed account's two-step verification.
    pub(crate) async fn org_reset_two_factor(
        &self,
        admin: &OrgAdmin,
        email: &Email,
    ) -> Result<Account, crate::flows::SetStatusError> {
        let account = self.managed_account(admin, email, "reset-two-factor").await?;
        self.clear_second_factors(&account, Actor::Org(admin)).await?;
        Ok(account)
    }

    /// An org admin sends a managed account a password reset link (to its own address).
    pub(crate) async fn org_send_password_reset(
        &self,
        admin: &OrgAdmin,
        email: &Email,
    ) -> Result<Account, crate::flows::SetStatusError> {
        let account = self.managed_account(admin, email, "reset-password").await?;
        if !account.is_active() {
            return Err(crate::flows::SetStatusError::Closed);
        }
        self.send_reset_link(&account).await?;
        self.audit(Record::new("password.reset_sent", Actor::Org(admin)).target(&account)).await;
        Ok(account)
    }

    /// An org admin moves a managed account to another address on the organization's verified
    /// domains. Both addresses are told. `Ok(None)` when the new address is not on a verified
    /// domain of the organization or already has an account.
    pub(crate) async fn org_change_email(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        new: &Email,
    ) -> Result<Option<Account>, crate::flows::SetStatusError> {
        let account = self.managed_account(admin, email, "change-email").await?;
        let domain = new.normalized().rsplit('@').next().unwrap_or_default().to_owned();
        let ours = self
            .ports
            .orgs
            .list_domains(&admin.org().id)
            .await?
            .iter()
            .any(|d| d.status == DomainStatus::Verified && d.domain.as_str() == domain);
        if !ours || !self.ports.accounts.set_email(&account.id, new, self.ports.clock.now()).await?
        {
            return Ok(None);
        }
        let what = format!(
            "An administrator of {} changed your account's email from {} to {}.",
            admin.org().name,
            account.email,
            new
        );
        let link = format!("{}/account", self.settings.public_url);
        for to in [&account.email, new] {
            self.send_mail(crate::mail::security_changed(to, account.name.as_str(), &what, &link))
                .await;
        }
        let record = Record::new("email.changed", Actor::Org(admin))
            .target(&account)
            .details(serde_json::json!({ "from": account.email.as_str(), "to": new.as_str() }));
        self.audit(record).await;
        let mut account = account;
        account.email = new.clone();
        Ok(Some(account))
    }

    /// An org admin changes a managed account's display name.
    pub(crate) async fn org_rename(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        name: &crate::accounts::DisplayName,
    ) -> Result<Account, crate::flows::SetStatusError> {
        let mut account = self.managed_account(admin, email, "rename").await?;
        self.ports.accounts.set_name(&account.id, name, self.ports.clock.now()).await?;
        account.name = name.clone();
        let record = Record::new("account.renamed", Actor::Org(admin))
            .target(&account)
            .details(serde_json::json!({ "name": name.as_str() }));
        self.audit(record).await;
        Ok(account)
    }

    pub async fn list_domains(&self, admin: &OrgAdmin) -> Result<Vec<OrgDomain>, RepoError> {
        self.ports.orgs.list_domains(&admin.org().id).await
    }

    /// Looks for the TXT record now and records what was found.
    pub async fn verify_domain(
        &self,
        admin: &OrgAdmin,
        raw: &str,
    ) -> Result<DomainCheck, OrgError> {
        let domain = Domain::parse(raw)?;
        let stored = self
            .ports
            .orgs
            .find_domain(&admin.org().id, &domain)
            .await?
            .ok_or_else(|| OrgError::UnknownDomain(domain.to_string()))?;
        self.check_domain(admin, stored).await
    }

    /// Looks for the TXT record, records the outcome and when to look again, and acts on a
    /// change: a newly verified domain announces itself to the accounts it now manages; a
    /// verified domain whose proof disappeared stays verified and its admins are warned.
    async fn check_domain(
        &self,
        admin: &OrgAdmin,
        stored: OrgDomain,
    ) -> Result<DomainCheck, OrgError> {
        let domain = stored.domain.clone();
        let found = self.find_proof(&stored).await;
        let now = self.ports.clock.now();
        let orgs = &self.ports.orgs;
        let daily = Some(now.plus_secs(VERIFIED_RECHECK_SECS));
        let detail = match found {
            Ok(method) => {
                let verified = CheckResult {
                    status: DomainStatus::Verified,
                    error: None,
                    next_check_at: daily,
                    proof: Some(method),
                };
                if orgs.record_domain_check(&admin.org().id, &domain, &verified, now).await? {
                    if stored.status != DomainStatus::Verified {
                        tracing::info!(org = %admin.org().id, %domain, "domain verified");
                        let record = Record::new("domain.verified", Actor::Org(admin))
                            .about(domain.as_str())
                            .details(serde_json::json!({ "method": method.as_str() }));
                        self.audit(record).await;
                        self.announce_managed(admin.org(), &domain).await?;
                    }
                    format!("{domain} is verified (by its {})", method.describe())
                } else {
                    let why = "another organization has already verified this domain";
                    let record = Record::new("domain.verified", Actor::Org(admin))
                        .outcome(Outcome::Refused)
                        .about(domain.as_str())
                        .details(serde_json::json!({ "reason": why }));
                    self.audit(record).await;
                    let failed = CheckResult {
                        status: DomainStatus::Failed,
                        error: Some(why.to_owned()),
                        next_check_at: None,
                        proof: None,
                    };
                    orgs.record_domain_check(&admin.org().id, &domain, &failed, now).await?;
                    why.to_owned()
                }
            }
            Err(why) if stored.status == DomainStatus::Verified => {
                // A verified domain is never dropped silently on a failed look-up: it stays
                // verified, the problem is shown, and its admins are told once.
                let kept = CheckResult {
                    status: DomainStatus::Verified,
                    error: Some(why.clone()),
                    next_check_at: daily,
                    proof: None,
                };
                orgs.record_domain_check(&admin.org().id, &domain, &kept, now).await?;
                if stored.last_error.is_none() {
                    self.warn_proof_missing(admin, &domain, &why).await?;
                }
                why
            }
            Err(why) => {
                let expired = stored.created_at.secs_until(now) >= PENDING_FOR_SECS;
                let attempt = usize::try_from(stored.checks).unwrap_or(usize::MAX);
                let pause = PENDING_BACKOFF_SECS[attempt.min(PENDING_BACKOFF_SECS.len() - 1)];
                let next = if expired {
                    CheckResult {
                        status: DomainStatus::Failed,
                        error: Some(format!("not verified within seven days: {why}")),
                        next_check_at: None,
                        proof: None,
                    }
                } else {
                    CheckResult {
                        status: DomainStatus::Pending,
                        error: Some(why.clone()),
                        next_check_at: Some(now.plus_secs(pause)),
                        proof: None,
                    }
                };
                orgs.record_domain_check(&admin.org().id, &domain, &next, now).await?;
                why
            }
        };
        let domain = orgs
            .find_domain(&admin.org().id, &domain)
            .await?
            .ok_or_else(|| OrgError::UnknownDomain(domain.to_string()))?;
        Ok(DomainCheck { domain, detail })
    }

    /// Emails the organization's admins that a verified domain's TXT record is gone.
    async fn warn_proof_missing(
        &self,
        admin: &OrgAdmin,
        domain: &Domain,
        why: &str,
    ) -> Result<(), RepoError> {
        tracing::warn!(org = %admin.org().id, %domain, %why, "verification record missing");
        let record = Record::new("domain.proof_missing", Actor::Org(admin))
            .outcome(Outcome::Failure)
            .about(domain.as_str())
            .details(serde_json::json!({ "reason": why }));
        self.audit(record).await;
        let link = format!("{}/admin/org/{}", self.settings.public_url, admin.org().id);
        for person in self.org_admin_accounts(admin).await? {
            self.send_mail(crate::mail::domain_proof_missing(
                &person.email,
                person.name.as_str(),
                domain.as_str(),
                &admin.org().name,
                &link,
            ))
            .await;
        }
        Ok(())
    }

    /// Background job: checks the domains whose next check is due.
    pub async fn recheck_due_domains(&self) -> Result<u64, OrgError> {
        let now = self.ports.clock.now();
        let due = self.ports.orgs.domains_due(now, 50).await?;
        let mut checked = 0;
        for stored in due {
            let Some(org) = self.ports.orgs.find_org(&stored.org_id).await? else { continue };
            let admin = OrgAdmin::background(org);
            self.check_domain(&admin, stored).await?;
            checked += 1;
        }
        Ok(checked)
    }
}
pub mod ports;

//! Organizations: a company's own place in Latchkey. A site admin creates one with its first
//! admin; org admins add other admins and claim domains. A domain is claimed by proving control
//! of its DNS: a TXT record `latchkey-verification=<token>` on the domain itself (the apex). A
//! verified domain belongs to one organization only; subdomains are separate domains.
//!
//! Control is proven by a DNS TXT record or an HTTPS file (see [`proof`]); a verified domain
//! makes every account on it managed by the organization.

mod api_tokens;
mod managed;
pub mod model;
mod proof;
mod removal;

pub use managed::{ManagedAction, ManagedActionError};
pub use model::{
    CheckResult, Domain, DomainCheck, DomainError, DomainStatus, DomainUsage, ManagedAccount,
    OrgDomain, OrgError, OrgUsage, Organization, ProofMethod, TXT_PREFIX,
};
pub use proof::WELL_KNOWN_PATH;

pub use crate::authority::OrgAdmin;

use std::sync::Arc;

use crate::accounts::ports::AccountRepo;
use crate::accounts::{Account, AccountSummary, Email};
use crate::api_tokens::ApiTokens;
use crate::audit::{Actor, Audit, Outcome, Record};
use crate::authority::SignedIn;
use crate::authority::SiteAdmin;
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::kernel::Kernel;
use crate::orgs::ports::{DnsResolver, OrgRepo, WebProofFetcher};
use crate::policies::Policies;
use crate::second_factor::SecondFactor;
use crate::secret::OpaqueToken;

/// Pending domains are looked at again after these pauses (then every six hours), for seven
/// days; verified ones once a day.
const PENDING_BACKOFF_SECS: [i64; 4] = [300, 900, 3600, 6 * 3600];
const PENDING_FOR_SECS: i64 = 7 * 24 * 3600;
const VERIFIED_RECHECK_SECS: i64 = 24 * 3600;

/// Organizations' service: their admins, domains and the accounts they manage.
#[derive(Clone)]
pub struct Organizations {
    repo: Arc<dyn OrgRepo>,
    account_repo: Arc<dyn AccountRepo>,
    dns: Arc<dyn DnsResolver>,
    web_proof: Arc<dyn WebProofFetcher>,
    accounts: Accounts,
    second_factor: SecondFactor,
    policies: Policies,
    api_tokens: ApiTokens,
    audit: Audit,
    kernel: Kernel,
}

/// The organizations' ports, as the wiring hands them over.
pub struct OrgPorts {
    pub orgs: Arc<dyn OrgRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub dns: Arc<dyn DnsResolver>,
    pub web_proof: Arc<dyn WebProofFetcher>,
}

impl Organizations {
    pub fn new(
        ports: OrgPorts,
        accounts: Accounts,
        second_factor: SecondFactor,
        policies: Policies,
        api_tokens: ApiTokens,
        audit: Audit,
        kernel: Kernel,
    ) -> Self {
        Self {
            repo: ports.orgs,
            account_repo: ports.accounts,
            dns: ports.dns,
            web_proof: ports.web_proof,
            accounts,
            second_factor,
            policies,
            api_tokens,
            audit,
            kernel,
        }
    }

    /// The organization that manages the account: the one holding its email's domain verified.
    pub async fn managing_org(&self, account: &Account) -> Result<Option<Organization>, RepoError> {
        ports::managing_org(self.repo.as_ref(), account).await
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
                self.account_repo.list_by_email_domain(domain.as_str(), PAGE, offset).await?;
            for account in &accounts {
                let link = format!("{}/account", self.kernel.public_url());
                self.kernel
                    .send_mail(|brand| {
                        crate::mail::now_managed(
                            brand,
                            &account.email,
                            account.name.as_str(),
                            &org.name,
                            &link,
                        )
                    })
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
            .account_repo
            .find_by_email(first_admin)
            .await?
            .ok_or_else(|| OrgError::UnknownAccount(first_admin.to_string()))?;
        let now = self.kernel.now();
        let org =
            Organization { id: self.kernel.new_id(now), name: name.to_owned(), created_at: now };
        self.repo.insert_org(&org, &account.id).await?;
        tracing::info!(org = %org.id, admin = %account.id, "organization created");
        let record = Record::new("organization.created", Actor::Site(admin))
            .target(&account)
            .in_org(&org.id)
            .details(serde_json::json!({ "name": org.name }));
        self.audit.record(record).await;
        Ok(org)
    }

    pub async fn list_organizations(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<Organization>, RepoError> {
        self.repo.list_orgs().await
    }

    /// A site admin acting for an organization.
    pub async fn org_admin_as_site_admin(
        &self,
        admin: &SiteAdmin,
        org: &str,
    ) -> Result<OrgAdmin, OrgError> {
        let org = self.repo.find_org(org).await?.ok_or(OrgError::NotFound)?;
        Ok(OrgAdmin::for_site_admin(admin, org))
    }

    /// The same, for the CLI's `--org`: the organization's id, or its name when exactly one
    /// organization has it (case-insensitive).
    pub async fn org_admin_by_id_or_name(
        &self,
        admin: &SiteAdmin,
        raw: &str,
    ) -> Result<OrgAdmin, OrgError> {
        if let Some(org) = self.repo.find_org(raw).await? {
            return Ok(OrgAdmin::for_site_admin(admin, org));
        }
        let wanted = raw.trim().to_lowercase();
        let mut named: Vec<Organization> = self
            .repo
            .list_orgs()
            .await?
            .into_iter()
            .filter(|o| o.name.trim().to_lowercase() == wanted)
            .collect();
        match named.len() {
            0 => Err(OrgError::NotFound),
            1 => Ok(OrgAdmin::for_site_admin(admin, named.remove(0))),
            _ => Err(OrgError::Ambiguous(raw.trim().to_owned())),
        }
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
        if !account.is_active() || !self.repo.is_org_admin(org, &account.id).await? {
            return Err(OrgError::NotFound);
        }
        let org = self.repo.find_org(org).await?.ok_or(OrgError::NotFound)?;
        Ok(OrgAdmin::for_member(account, org))
    }

    /// Adds another admin; true when they were not one already.
    pub async fn add_org_admin(&self, admin: &OrgAdmin, email: &Email) -> Result<bool, OrgError> {
        let account = self
            .account_repo
            .find_by_email(email)
            .await?
            .ok_or_else(|| OrgError::UnknownAccount(email.to_string()))?;
        let added =
            self.repo.add_org_admin(&admin.org().id, &account.id, self.kernel.now()).await?;
        tracing::info!(org = %admin.org().id, admin = %account.id, added, "organization admin added");
        if added {
            let record =
                Record::new("organization.admin_added", Actor::Org(admin)).target(&account);
            self.audit.record(record).await;
        }
        Ok(added)
    }

    /// Adds a domain to verify (or returns it, with its token, if it was added before).
    pub async fn add_domain(&self, admin: &OrgAdmin, raw: &str) -> Result<OrgDomain, OrgError> {
        let domain = Domain::parse(raw)?;
        if let Some(existing) = self.repo.find_domain(&admin.org().id, &domain).await? {
            return Ok(existing);
        }
        let now = self.kernel.now();
        let token = OpaqueToken::generate(self.kernel.rng()).expose().to_owned();
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
        if !self.repo.insert_domain(&added).await? {
            // Added concurrently: return what is stored.
            return self
                .repo
                .find_domain(&admin.org().id, &added.domain)
                .await?
                .ok_or_else(|| OrgError::UnknownDomain(added.domain.to_string()));
        }
        tracing::info!(org = %admin.org().id, domain = %added.domain, "domain added");
        self.audit
            .record(Record::new("domain.added", Actor::Org(admin)).about(added.domain.as_str()))
            .await;
        Ok(added)
    }

    /// The organizations an account administers (all of them for a site admin).
    pub async fn administered_orgs(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Vec<Organization>, RepoError> {
        if SiteAdmin::of(signed_in).is_some() {
            return self.repo.list_orgs().await;
        }
        self.repo.orgs_administered_by(&signed_in.account().id).await
    }

    pub async fn org_admin_accounts(&self, admin: &OrgAdmin) -> Result<Vec<Account>, RepoError> {
        let mut out = Vec::new();
        for id in self.repo.org_admins(&admin.org().id).await? {
            if let Some(a) = self.account_repo.find_by_id(&id).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    pub async fn list_domains(&self, admin: &OrgAdmin) -> Result<Vec<OrgDomain>, RepoError> {
        self.repo.list_domains(&admin.org().id).await
    }

    /// Looks for the TXT record now and records what was found.
    pub async fn verify_domain(
        &self,
        admin: &OrgAdmin,
        raw: &str,
    ) -> Result<DomainCheck, OrgError> {
        let domain = Domain::parse(raw)?;
        let stored = self
            .repo
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
        let now = self.kernel.now();
        let orgs = &self.repo;
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
                        self.audit.record(record).await;
                        self.announce_managed(admin.org(), &domain).await?;
                        // The domain's accounts move under the organization's policies.
                        self.policies.membership_changed().await?;
                    }
                    format!("{domain} is verified (by its {})", method.describe())
                } else {
                    let why = "another organization has already verified this domain";
                    let record = Record::new("domain.verified", Actor::Org(admin))
                        .outcome(Outcome::Refused)
                        .about(domain.as_str())
                        .details(serde_json::json!({ "reason": why }));
                    self.audit.record(record).await;
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
        self.audit.record(record).await;
        let link = format!("{}/admin/org/{}", self.kernel.public_url(), admin.org().id);
        for person in self.org_admin_accounts(admin).await? {
            self.kernel
                .send_mail(|brand| {
                    crate::mail::domain_proof_missing(
                        brand,
                        &person.email,
                        person.name.as_str(),
                        domain.as_str(),
                        &admin.org().name,
                        &link,
                    )
                })
                .await;
        }
        Ok(())
    }

    /// Background job: checks the domains whose next check is due.
    pub async fn recheck_due_domains(&self) -> Result<u64, OrgError> {
        let now = self.kernel.now();
        let due = self.repo.domains_due(now, 50).await?;
        let mut checked = 0;
        for stored in due {
            let Some(org) = self.repo.find_org(&stored.org_id).await? else { continue };
            let admin = OrgAdmin::background(org);
            self.check_domain(&admin, stored).await?;
            checked += 1;
        }
        Ok(checked)
    }
}
pub mod ports;

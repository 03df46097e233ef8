//! The organizations' ports: storage, DNS and the HTTPS proof fetcher.

use async_trait::async_trait;

use crate::accounts::{Account, AccountId};
use crate::clock::Timestamp;
use crate::errors::RepoResult;
use crate::orgs::model::{CheckResult, OrgDomain, Organization};

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
        domain: &crate::orgs::model::Domain,
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
        domain: &crate::orgs::model::Domain,
        check: &CheckResult,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Domains whose next background check is due.
    async fn domains_due(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<OrgDomain>>;
    /// Removes an admin unless it is the organization's last one, atomically (two admins
    /// removing each other at once leave one).
    async fn remove_org_admin(&self, org: &str, account: &AccountId) -> RepoResult<AdminRemoval>;
    /// Removes the domain and takes it off the organization's SAML connections; false when
    /// the organization has no such domain.
    async fn remove_domain(
        &self,
        org: &str,
        domain: &crate::orgs::model::Domain,
    ) -> RepoResult<bool>;
    /// How many accounts have an address on the domain.
    async fn accounts_on_domain(&self, domain: &str) -> RepoResult<u64>;
    /// The organization's SAML connections naming the domain, by name.
    async fn saml_connections_on_domain(&self, org: &str, domain: &str) -> RepoResult<Vec<String>>;
    /// Counts of what belongs to the organization (shown before deleting it).
    async fn org_usage(&self, org: &str) -> RepoResult<crate::orgs::model::OrgUsage>;
    /// The organization's bots, by account id.
    async fn org_bots(&self, org: &str) -> RepoResult<Vec<AccountId>>;
    /// Deletes the organization with its admins, domains, policies and SAML connections.
    async fn delete_org(&self, org: &str) -> RepoResult<bool>;
}

/// What removing an organization admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRemoval {
    Removed,
    NotAnAdmin,
    LastAdmin,
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
    async fn txt(&self, name: &crate::orgs::model::Domain) -> Result<Vec<String>, DnsError>;
}

/// Fetches `https://<domain>/.well-known/latchkey-verification.txt` for domain verification:
/// bounded in time and size, no redirects to other hosts, private addresses refused unless the
/// operator allows them. The error says, for the admin, what went wrong.
#[async_trait]
pub trait WebProofFetcher: Send + Sync {
    async fn verification_file(
        &self,
        domain: &crate::orgs::model::Domain,
    ) -> Result<String, String>;
}

/// The organization that manages an account: a bot's owner, otherwise the one that verified
/// its email's domain.
pub async fn managing_org(
    orgs: &dyn OrgRepo,
    account: &Account,
) -> RepoResult<Option<Organization>> {
    if account.bot {
        return match &account.bot_org_id {
            Some(id) => orgs.find_org(id).await,
            None => Ok(None),
        };
    }
    let domain = account.email.normalized().rsplit('@').next().unwrap_or_default();
    orgs.verified_owner(domain).await
}

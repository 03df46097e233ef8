//! Taking things away from an organization: an admin (never the last one, never oneself), a
//! domain (its accounts stop being managed, its SAML connections stop serving it), and the
//! organization itself (site admins only; its bots are deactivated first so their tokens end).

use crate::accounts::{AccountStatus, Email};
use crate::audit::{Actor, Record};
use crate::authority::{OrgAdmin, SiteAdmin};
use crate::errors::Unexpected;
use crate::orgs::Organizations;
use crate::orgs::model::{Domain, DomainStatus, DomainUsage, OrgError, OrgUsage};
use crate::orgs::ports::AdminRemoval;

impl Organizations {
    /// Removes an organization admin. Nobody removes themselves, and the last admin stays:
    /// the check and the removal are one atomic step in the store.
    pub async fn remove_org_admin(&self, admin: &OrgAdmin, email: &Email) -> Result<(), OrgError> {
        let account = self
            .account_repo
            .find_by_email(email)
            .await?
            .ok_or_else(|| OrgError::UnknownAccount(email.to_string()))?;
        if !admin.is_site_admin() && admin.actor() == Some(&account.id) {
            return Err(OrgError::OwnAdmin);
        }
        match self.repo.remove_org_admin(&admin.org().id, &account.id).await? {
            AdminRemoval::NotAnAdmin => Err(OrgError::NotAnAdmin(email.to_string())),
            AdminRemoval::LastAdmin => Err(OrgError::LastAdmin),
            AdminRemoval::Removed => {
                tracing::info!(org = %admin.org().id, admin = %account.id, "organization admin removed");
                let record =
                    Record::new("organization.admin_removed", Actor::Org(admin)).target(&account);
                self.audit.record(record).await;
                Ok(())
            }
        }
    }

    /// What removing the domain would change.
    pub async fn domain_usage(&self, admin: &OrgAdmin, raw: &str) -> Result<DomainUsage, OrgError> {
        let domain = Domain::parse(raw)?;
        let found = self
            .repo
            .find_domain(&admin.org().id, &domain)
            .await?
            .ok_or_else(|| OrgError::UnknownDomain(domain.to_string()))?;
        let verified = found.status == DomainStatus::Verified;
        Ok(DomainUsage {
            verified,
            managed_accounts: if verified {
                self.repo.accounts_on_domain(domain.as_str()).await?
            } else {
                0
            },
            saml_connections: self
                .repo
                .saml_connections_on_domain(&admin.org().id, domain.as_str())
                .await?,
        })
    }

    /// Removes a domain: its accounts are no longer managed by the organization (nor under its
    /// policies, on every node within the policies' recheck), and no SAML connection serves it.
    pub async fn remove_domain(
        &self,
        admin: &OrgAdmin,
        raw: &str,
    ) -> Result<DomainUsage, OrgError> {
        let usage = self.domain_usage(admin, raw).await?;
        let domain = Domain::parse(raw)?;
        if !self.repo.remove_domain(&admin.org().id, &domain).await? {
            return Err(OrgError::UnknownDomain(domain.to_string()));
        }
        if usage.verified {
            self.policies.membership_changed().await?;
        }
        tracing::info!(org = %admin.org().id, domain = %domain, "domain removed");
        let record = Record::new("domain.removed", Actor::Org(admin))
            .about(domain.as_str())
            .details(serde_json::to_value(&usage).unwrap_or_default());
        self.audit.record(record).await;
        Ok(usage)
    }

    /// What deleting the organization would end.
    pub async fn org_usage(&self, _site: &SiteAdmin, org: &str) -> Result<OrgUsage, OrgError> {
        self.repo.find_org(org).await?.ok_or(OrgError::NotFound)?;
        Ok(self.repo.org_usage(org).await?)
    }

    /// Deletes an organization (site admins only): its bots are deactivated (their tokens stop
    /// at once), then the organization goes with its admins, domains, policies and SAML
    /// connections; its accounts stay, no longer managed.
    pub async fn delete_organization(
        &self,
        site: &SiteAdmin,
        org: &str,
    ) -> Result<OrgUsage, OrgError> {
        let found = self.repo.find_org(org).await?.ok_or(OrgError::NotFound)?;
        let usage = self.repo.org_usage(org).await?;
        for id in self.repo.org_bots(org).await? {
            if let Some(bot) = self.account_repo.find_by_id(&id).await?
                && bot.status == AccountStatus::Active
            {
                self.accounts
                    .deactivate(bot)
                    .await
                    .map_err(|e| OrgError::Unexpected(Unexpected(Box::new(e))))?;
            }
        }
        if !self.repo.delete_org(org).await? {
            return Err(OrgError::NotFound);
        }
        self.policies.membership_changed().await?;
        tracing::info!(org = %found.id, name = %found.name, "organization deleted");
        let record = Record::new("organization.deleted", Actor::Site(site))
            .about(found.name.as_str())
            .details(serde_json::json!({ "org_id": found.id, "ended": usage }));
        self.audit.record(record).await;
        Ok(usage)
    }
}

//! What an organization's admins can do to the accounts it manages, as one vocabulary shared by
//! the console, the admin API and the CLI.

use super::{DomainStatus, ManagedAccount, OrgAdmin, Organizations};
use crate::accounts::{Account, AccountId, AccountStatus, DisplayName, Email};
use crate::audit::{Actor, Outcome, Record};
use crate::errors::{RepoError, Unexpected};
use crate::flows::SetStatusError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedAction {
    /// Ends sessions, refresh tokens and API tokens at once.
    Deactivate,
    /// A deactivated account, or a closed one not yet erased.
    Reactivate,
    /// Deactivated now, personal data erased after the grace period.
    Close,
    /// Emails the person a password reset link.
    SendPasswordReset,
    /// Turns two-step verification off (the person is told).
    ResetTwoFactor,
    Rename(DisplayName),
    /// Moves the account to another address on the organization's verified domains.
    ChangeEmail(Email),
}

#[derive(Debug, thiserror::Error)]
pub enum ManagedActionError {
    /// No such account, or one the organization does not manage (the same answer).
    #[error("No such managed account.")]
    NotFound,
    #[error("The account is closed (or not active); it cannot be changed this way.")]
    Closed,
    #[error("The new address must be free and on one of the organization's verified domains.")]
    EmailRefused,
    #[error("You cannot deactivate or close your own account; another administrator can.")]
    OwnAccount,
    /// A site admin, or an admin of another organization, on the organization's domain.
    #[error(
        "This account is a site administrator or administers another organization; only site administrators can change it."
    )]
    Protected,
    #[error("Unknown action {0:?}.")]
    UnknownAction(String),
    #[error("{0}")]
    BadValue(String),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<crate::errors::RepoError> for ManagedActionError {
    fn from(e: crate::errors::RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<SetStatusError> for ManagedActionError {
    fn from(e: SetStatusError) -> Self {
        match e {
            SetStatusError::NotFound => Self::NotFound,
            SetStatusError::Closed => Self::Closed,
            SetStatusError::Protected
            | SetStatusError::OwnAccount
            | SetStatusError::LastSiteAdmin
            | SetStatusError::Bot => Self::Protected,
            SetStatusError::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl ManagedAction {
    /// The action from its name (`reset-password` or `reset_password`) and, for renaming and
    /// moving, its value.
    pub fn parse(name: &str, value: &str) -> Result<Self, ManagedActionError> {
        let bad = |e: &dyn std::fmt::Display| ManagedActionError::BadValue(e.to_string());
        Ok(match name.replace('_', "-").as_str() {
            "deactivate" => Self::Deactivate,
            "reactivate" => Self::Reactivate,
            "close" => Self::Close,
            "reset-password" => Self::SendPasswordReset,
            "reset-two-factor" => Self::ResetTwoFactor,
            "rename" => Self::Rename(DisplayName::parse(value).map_err(|e| bad(&e))?),
            "change-email" => Self::ChangeEmail(Email::parse(value).map_err(|e| bad(&e))?),
            _ => return Err(ManagedActionError::UnknownAction(name.chars().take(40).collect())),
        })
    }

    /// The action's name in URLs, the CLI and audit details.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
            Self::Close => "close",
            Self::SendPasswordReset => "reset-password",
            Self::ResetTwoFactor => "reset-two-factor",
            Self::Rename(_) => "rename",
            Self::ChangeEmail(_) => "change-email",
        }
    }
}

impl Organizations {
    /// Carries out one org admin action on a managed account; any account the organization does
    /// not manage is "not found" (and the attempt is audited).
    pub async fn act_on_managed_account(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        action: &ManagedAction,
    ) -> Result<Account, ManagedActionError> {
        if matches!(action, ManagedAction::Deactivate | ManagedAction::Close)
            && let Some(me) = admin.actor()
            && self.account_repo.find_by_email(email).await?.is_some_and(|a| &a.id == me)
        {
            // People do not close their own accounts (they ask), and an admin must not lock
            // themselves out.
            return Err(ManagedActionError::OwnAccount);
        }
        Ok(match action {
            ManagedAction::Deactivate => self.deactivate_managed_account(admin, email).await?,
            ManagedAction::Reactivate => self.reactivate_managed_account(admin, email).await?,
            ManagedAction::Close => self.close_managed_account(admin, email).await?,
            ManagedAction::SendPasswordReset => self.org_send_password_reset(admin, email).await?,
            ManagedAction::ResetTwoFactor => self.org_reset_two_factor(admin, email).await?,
            ManagedAction::Rename(name) => self.org_rename(admin, email, name).await?,
            ManagedAction::ChangeEmail(new) => self
                .org_change_email(admin, email, new)
                .await?
                .ok_or(ManagedActionError::EmailRefused)?,
        })
    }
}

impl Organizations {
    /// Accounts managed by the organization (on its verified domains, up to `limit` per
    /// domain), with what its console shows about each.
    pub async fn managed_accounts(
        &self,
        admin: &OrgAdmin,
        limit: u32,
    ) -> Result<Vec<ManagedAccount>, RepoError> {
        let mut accounts = Vec::new();
        for d in self.repo.list_domains(&admin.org().id).await? {
            if d.status == DomainStatus::Verified {
                accounts.extend(
                    self.account_repo.list_by_email_domain(d.domain.as_str(), limit, 0).await?,
                );
            }
        }
        let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
        let mut activity: std::collections::HashMap<
            AccountId,
            crate::accounts::ports::AccountActivity,
        > = self
            .account_repo
            .activity(&ids)
            .await?
            .into_iter()
            .map(|a| (a.account.clone(), a))
            .collect();
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            let two_factor = self.second_factor.two_factor_status(&account.id).await?.enabled();
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
        let found = self.account_repo.find_by_email(email).await?;
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
                    self.audit.record(record).await;
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
                self.audit.record(record).await;
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
        let administers = self.repo.orgs_administered_by(&account.id).await?;
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
        let account = self.accounts.deactivate(account).await?;
        self.audit
            .record(Record::new("account.deactivated", Actor::Org(admin)).target(&account))
            .await;
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
        self.second_factor.clear_second_factors(&account, Actor::Org(admin)).await?;
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
        self.accounts.send_reset_link(&account).await?;
        self.audit
            .record(Record::new("password.reset_sent", Actor::Org(admin)).target(&account))
            .await;
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
            .repo
            .list_domains(&admin.org().id)
            .await?
            .iter()
            .any(|d| d.status == DomainStatus::Verified && d.domain.as_str() == domain);
        if !ours || !self.account_repo.set_email(&account.id, new, self.kernel.now()).await? {
            return Ok(None);
        }
        let what = format!(
            "An administrator of {} changed your account's email from {} to {}.",
            admin.org().name,
            account.email,
            new
        );
        let link = format!("{}/account", self.kernel.public_url());
        for to in [&account.email, new] {
            self.kernel
                .send_mail(|brand| {
                    crate::mail::security_changed(brand, to, account.name.as_str(), &what, &link)
                })
                .await;
        }
        let record = Record::new("email.changed", Actor::Org(admin))
            .target(&account)
            .details(serde_json::json!({ "from": account.email.as_str(), "to": new.as_str() }));
        self.audit.record(record).await;
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
        self.account_repo.set_name(&account.id, name, self.kernel.now()).await?;
        account.name = name.clone();
        let record = Record::new("account.renamed", Actor::Org(admin))
            .target(&account)
            .details(serde_json::json!({ "name": name.as_str() }));
        self.audit.record(record).await;
        Ok(account)
    }

    /// An organization's admin closes an account it manages; any other is "not found".
    pub(crate) async fn close_managed_account(
        &self,
        admin: &OrgAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let account = self.managed_account(admin, email, "close").await?;
        let account = self.accounts.close(account).await?;
        self.audit.record(Record::new("account.closed", Actor::Org(admin)).target(&account)).await;
        Ok(account)
    }

    /// An org admin makes a managed account active again (deactivated, or closed and not yet
    /// erased).
    pub(crate) async fn reactivate_managed_account(
        &self,
        admin: &OrgAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let mut account = self.managed_account(admin, email, "reactivate").await?;
        let now = self.kernel.now();
        if !self.account_repo.reopen(&account.id, now).await? {
            return Err(SetStatusError::Closed);
        }
        tracing::info!(org = %admin.org().id, account = %account.id, "managed account reactivated");
        account.status = AccountStatus::Active;
        self.audit
            .record(Record::new("account.reactivated", Actor::Org(admin)).target(&account))
            .await;
        Ok(account)
    }
}

//! Closing accounts. People cannot close their own account (as in the system we model): they
//! ask, and the request reaches the site admins — or the organization's admins when the
//! account is managed. Closing deactivates at once (sessions, refresh and access tokens end);
//! the personal data is erased after a grace period (default 14 days) unless the account is
//! reactivated meanwhile. The id stays as a tombstone, so products' references never dangle.

use crate::accounts::{Account, AccountId, AccountStatus, Email};
use crate::audit::{Actor, Record};
use crate::authority::{OrgAdmin, SiteAdmin};
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::flows::SetStatusError;

/// A person's open request to have their account closed.
#[derive(Debug, Clone)]
pub struct ClosureRequest {
    pub account: Account,
    pub requested_at: Timestamp,
    pub reason: String,
}

impl Accounts {
    pub(crate) async fn close(&self, account: Account) -> Result<Account, SetStatusError> {
        if account.status == AccountStatus::Closed {
            return Err(SetStatusError::Closed);
        }
        let now = self.kernel.now();
        let erase_after = now.plus_secs(self.settings.closure_grace_secs);
        self.repo.close(&account.id, now, erase_after).await?;
        let (ended, _) =
            self.sessions.end_sessions_except(&account.id, None).await.map_err(Unexpected::from)?;
        self.api_tokens.account_changed(&account.id);
        tracing::info!(account = %account.id, sessions_ended = ended, erase_after = erase_after.unix(), "account closed");
        let mut account = account;
        account.status = AccountStatus::Closed;
        Ok(account)
    }

    /// `latchkey user close`, the site console and the admin API.
    pub async fn close_account(
        &self,
        admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        if account.status == AccountStatus::Closed {
            return Err(SetStatusError::Closed);
        }
        self.keep_a_site_admin(admin, &account).await?;
        let account = self.close(account).await?;
        self.audit.record(Record::new("account.closed", Actor::Site(admin)).target(&account)).await;
        Ok(account)
    }

    /// Active again: a deactivated account, or a closed one whose data is not erased yet.
    pub async fn reactivate_account(
        &self,
        admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let mut account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        let now = self.kernel.now();
        if !self.repo.reopen(&account.id, now).await? {
            return Err(SetStatusError::Closed);
        }
        tracing::info!(account = %account.id, "account reactivated");
        account.status = AccountStatus::Active;
        self.audit
            .record(Record::new("account.reactivated", Actor::Site(admin)).target(&account))
            .await;
        Ok(account)
    }

    /// "Request account closure" on `/account`; false if a request is already open.
    pub async fn request_closure(
        &self,
        account: &Account,
        reason: &str,
    ) -> Result<bool, RepoError> {
        let reason: String =
            reason.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(1000).collect();
        let now = self.kernel.now();
        let new = self.repo.request_closure(&account.id, &reason, now).await?;
        if new {
            tracing::info!(account = %account.id, "account closure requested");
            self.audit
                .record(
                    Record::new("account.closure_requested", Actor::Person(account))
                        .target(account),
                )
                .await;
        }
        Ok(new)
    }

    /// Open requests for the site admins: those of accounts no organization manages.
    pub async fn site_closure_requests(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<ClosureRequest>, RepoError> {
        let mut out = Vec::new();
        for request in self.closure_requests().await? {
            if self.managing_org(&request.account).await?.is_none() {
                out.push(request);
            }
        }
        Ok(out)
    }

    /// Open requests for an organization's admins: those of the accounts it manages.
    pub async fn org_closure_requests(
        &self,
        admin: &OrgAdmin,
    ) -> Result<Vec<ClosureRequest>, RepoError> {
        let mut out = Vec::new();
        for request in self.closure_requests().await? {
            if self.managing_org(&request.account).await?.is_some_and(|o| o.id == admin.org().id) {
                out.push(request);
            }
        }
        Ok(out)
    }

    async fn closure_requests(&self) -> Result<Vec<ClosureRequest>, RepoError> {
        let mut out = Vec::new();
        for (id, requested_at, reason) in self.repo.closure_requests().await? {
            if let Some(account) = self.repo.find_by_id(&id).await? {
                out.push(ClosureRequest { account, requested_at, reason });
            }
        }
        Ok(out)
    }

    /// Housekeeping: erases the personal data of accounts closed longer than the grace period.
    pub async fn erase_closed_accounts(&self) -> Result<u64, RepoError> {
        let now = self.kernel.now();
        let due: Vec<AccountId> = self.repo.due_for_erasure(now, 100).await?;
        for id in &due {
            self.repo.erase(id, now).await?;
            tracing::info!(account = %id, "closed account erased");
        }
        Ok(u64::try_from(due.len()).unwrap_or(u64::MAX))
    }
}

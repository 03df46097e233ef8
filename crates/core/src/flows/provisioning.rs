//! Accounts managed by a site administrator: creating, listing and deactivating them.
//! Every use case here takes a [`SiteAdmin`] capability, so a forgotten check cannot compile.

use crate::accounts::ports::InsertAccountError;
use crate::accounts::{
    Account, AccountId, AccountSearch, AccountStatus, DisplayName, Email, ListPosition, NewAccount,
    PageAt,
};
use crate::credentials::Password;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::guard::HashFailure;

pub use crate::authority::SiteAdmin;

#[derive(Debug)]
pub struct CreateAccountRequest {
    pub email: Email,
    pub name: DisplayName,
    pub password: Option<Password>,
    pub email_verified: bool,
    pub site_admin: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("Password hashing is saturated; try again.")]
    Busy,
    #[error(transparent)]
    Rule(#[from] crate::policies::PasswordRuleError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

from_new_password_error!(CreateAccountError);

impl From<HashFailure> for CreateAccountError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl From<RepoError> for CreateAccountError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// One page of the account search.
#[derive(Debug, Clone)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    /// Where the previous page ends (`PageAt::Before` it), if there is one.
    pub previous: Option<ListPosition>,
    /// Where the next page starts (`PageAt::After` it), if there is one.
    pub next: Option<ListPosition>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetStatusError {
    #[error("No account has that email address.")]
    NotFound,
    #[error("A closed account cannot be changed.")]
    Closed,
    /// A site admin, or an admin of another organization: only site admins act on them.
    #[error(
        "This account is a site administrator or administers another organization; only site administrators can change it."
    )]
    Protected,
    /// A site admin's own account: another site admin acts on it.
    #[error(
        "You cannot deactivate or close your own account here; another site administrator can."
    )]
    OwnAccount,
    #[error(
        "This is the last active site administrator. Make another account a site administrator first."
    )]
    LastSiteAdmin,
    /// Bots hold API tokens only; they never administer anything.
    #[error("A bot account cannot be a site administrator.")]
    Bot,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for SetStatusError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl Accounts {
    pub async fn create_account(
        &self,
        admin: &SiteAdmin,
        req: CreateAccountRequest,
    ) -> Result<Account, CreateAccountError> {
        let now = self.kernel.now();
        let password_hash = match &req.password {
            Some(pw) => {
                let name = req.name.as_str();
                self.check_password_for_address(&req.email, name, req.site_admin, pw).await?;
                Some(self.hasher.hash(pw, self.kernel.rng()).await.map_err(HashFailure::from)?)
            }
            None => None,
        };
        let new = NewAccount {
            id: AccountId::from_stored(self.kernel.new_id(now)),
            email: req.email,
            name: req.name,
            password_hash: password_hash.map(crate::secret::Secret::new),
            email_verified_at: req.email_verified.then_some(now),
            site_admin: req.site_admin,
            created_at: now,
        };
        match self.repo.insert(&new).await {
            Ok(()) => {}
            Err(InsertAccountError::EmailTaken) => return Err(CreateAccountError::EmailTaken),
            Err(InsertAccountError::Unexpected(e)) => return Err(e.into()),
        }
        let account = self
            .repo
            .find_by_id(&new.id)
            .await?
            .ok_or_else(|| Unexpected::from(RepoError("inserted account vanished".into())))?;
        if let Some(hash) = &account.password_hash {
            self.policies.remember_password(&account.id, hash.expose()).await?;
        }
        tracing::info!(account = %account.id, site_admin = account.site_admin, "account created by admin");
        let record = crate::audit::Record::new("account.created", crate::audit::Actor::Site(admin))
            .target(&account)
            .details(serde_json::json!({ "site_admin": account.site_admin }));
        self.audit.record(record).await;
        Ok(account)
    }

    pub async fn find_account(
        &self,
        _admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Option<Account>, RepoError> {
        self.repo.find_by_email(email).await
    }

    pub async fn list_accounts(
        &self,
        _admin: &SiteAdmin,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Account>, RepoError> {
        self.repo.list(limit, offset).await
    }

    /// The site console's search: one page, and the positions of the pages before and after
    /// it (`None` at either end).
    pub async fn search_accounts(
        &self,
        _admin: &SiteAdmin,
        search: &AccountSearch,
    ) -> Result<AccountPage, RepoError> {
        let mut found = self.repo.search(search).await?;
        let limit = search.limit as usize;
        let more = found.len() > limit;
        // The extra row is past the end in the direction we went.
        if more {
            match search.page {
                PageAt::Before(_) => {
                    found.remove(0);
                }
                _ => found.truncate(limit),
            }
        }
        let (has_prev, has_next) = match search.page {
            PageAt::First => (false, more),
            PageAt::After(_) => (true, more),
            PageAt::Before(_) => (more, true),
        };
        Ok(AccountPage {
            previous: found.first().filter(|_| has_prev).map(|(_, at)| at.clone()),
            next: found.last().filter(|_| has_next).map(|(_, at)| at.clone()),
            accounts: found.into_iter().map(|(account, _)| account).collect(),
        })
    }

    /// Makes an account a site administrator, or takes that away. Never one's own (another
    /// site admin does it), never the last active one (atomically, like deactivation), never a
    /// bot. A demoted admin's console and admin API tokens stop working at their next request.
    pub async fn set_site_admin(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        on: bool,
    ) -> Result<Account, SetStatusError> {
        let mut account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        if account.status == AccountStatus::Closed {
            return Err(SetStatusError::Closed);
        }
        if account.bot {
            return Err(SetStatusError::Bot);
        }
        if account.site_admin == on {
            return Ok(account);
        }
        let now = self.kernel.now();
        if on {
            self.repo.set_site_admin(&account.id, true, now).await?;
        } else {
            if admin.actor() == Some(&account.id) {
                return Err(SetStatusError::OwnAccount);
            }
            if !self.repo.revoke_site_admin_keeping_one(&account.id, now).await? {
                return Err(SetStatusError::LastSiteAdmin);
            }
        }
        account.site_admin = on;
        self.api_tokens.account_changed(&account.id);
        let event = if on { "account.site_admin_granted" } else { "account.site_admin_revoked" };
        let record =
            crate::audit::Record::new(event, crate::audit::Actor::Site(admin)).target(&account);
        self.audit.record(record).await;
        Ok(account)
    }

    /// Mails the person a password reset link (a site admin acting on their request). Bots have
    /// no mailbox and no password; closed or deactivated accounts get nothing.
    pub async fn send_password_reset_as_site_admin(
        &self,
        admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        if account.bot {
            return Err(SetStatusError::Bot);
        }
        if !account.is_active() {
            return Err(SetStatusError::Closed);
        }
        self.send_reset_link(&account).await?;
        let record =
            crate::audit::Record::new("password.reset_sent", crate::audit::Actor::Site(admin))
                .target(&account);
        self.audit.record(record).await;
        Ok(account)
    }

    /// Creates an account without a password and mails its owner a link to choose one (the
    /// link proves the address, so the account is verified once it is used).
    pub async fn invite_account(
        &self,
        admin: &SiteAdmin,
        email: Email,
        name: crate::accounts::DisplayName,
        inviter: &str,
    ) -> Result<Account, CreateAccountError> {
        let req = CreateAccountRequest {
            email,
            name,
            password: None,
            email_verified: false,
            site_admin: false,
        };
        let account = self.create_account(admin, req).await?;
        let link =
            self.issue_link(&account.id, crate::flows::ports::TokenPurpose::ResetPassword).await?;
        let site = self.kernel.public_url().to_owned();
        let login = format!("{site}/login");
        self.kernel
            .send_mail(|brand| {
                crate::mail::invitation(
                    brand,
                    &account.email,
                    account.name.as_str(),
                    inviter,
                    &site,
                    &link,
                    &login,
                )
            })
            .await;
        let record = crate::audit::Record::new("account.invited", crate::audit::Actor::Site(admin))
            .target(&account);
        self.audit.record(record).await;
        Ok(account)
    }

    /// The products the account used (signed in to) and when it was last active.
    pub async fn account_activity(
        &self,
        _admin: &SiteAdmin,
        account: &Account,
    ) -> Result<(Vec<String>, Option<crate::clock::Timestamp>), RepoError> {
        let found = self.repo.activity(std::slice::from_ref(&account.id)).await?;
        Ok(found.into_iter().next().map_or((Vec::new(), None), |a| (a.products, a.last_active_at)))
    }

    /// An account's live sessions, as a site admin sees them.
    pub async fn account_sessions(
        &self,
        _admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Vec<crate::sessions::Session>, SetStatusError> {
        let account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        Ok(self.sessions.list_sessions(&account.id).await.map_err(Unexpected::from)?)
    }

    /// Ends one of an account's sessions (a lost laptop): that browser is signed out, here
    /// and in the products it signed in to. Audited as the site admin's act. False when the
    /// session was not (or no longer) there.
    pub async fn end_account_session(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        session: &crate::sessions::SessionId,
    ) -> Result<bool, SetStatusError> {
        let account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        let ended = self
            .sessions
            .end_sessions_by_admin(&account.id, session)
            .await
            .map_err(Unexpected::from)?;
        if ended {
            let record =
                crate::audit::Record::new("session.ended", crate::audit::Actor::Site(admin))
                    .target(&account)
                    .details(serde_json::json!({ "session": session.as_str() }));
            self.audit.record(record).await;
        }
        Ok(ended)
    }

    /// Whether any site admin exists yet (the first start prints how to create one).
    pub async fn has_site_admin(&self) -> Result<bool, RepoError> {
        Ok(self.repo.count_site_admins().await? > 0)
    }

    /// Deactivates the account and ends all its sessions at once.
    pub async fn deactivate_account(
        &self,
        admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Account, SetStatusError> {
        let account = self.repo.find_by_email(email).await?.ok_or(SetStatusError::NotFound)?;
        self.keep_a_site_admin(admin, &account).await?;
        let account = self.deactivate(account).await?;
        let record =
            crate::audit::Record::new("account.deactivated", crate::audit::Actor::Site(admin))
                .target(&account);
        self.audit.record(record).await;
        Ok(account)
    }

    /// A site admin never acts on their own account, and the last active site admin stays:
    /// a site admin target is deactivated here, atomically, only while another one remains
    /// (the caller then finishes the deactivation or closure).
    pub(crate) async fn keep_a_site_admin(
        &self,
        admin: &SiteAdmin,
        account: &Account,
    ) -> Result<(), SetStatusError> {
        if admin.actor() == Some(&account.id) {
            return Err(SetStatusError::OwnAccount);
        }
        if account.site_admin && account.status == AccountStatus::Active {
            let now = self.kernel.now();
            if !self
                .repo
                .set_status_keeping_a_site_admin(&account.id, AccountStatus::Deactivated, now)
                .await?
            {
                return Err(SetStatusError::LastSiteAdmin);
            }
        }
        Ok(())
    }

    /// Deactivation proper, for callers that have checked their authority over the account.
    pub(crate) async fn deactivate(&self, mut account: Account) -> Result<Account, SetStatusError> {
        let now = self.kernel.now();
        if account.status == AccountStatus::Closed {
            return Err(SetStatusError::Closed);
        }
        if account.status != AccountStatus::Deactivated {
            self.repo.set_status(&account.id, AccountStatus::Deactivated, now).await?;
            account.status = AccountStatus::Deactivated;
        }
        let (ended, _) =
            self.sessions.end_sessions_except(&account.id, None).await.map_err(Unexpected::from)?;
        self.api_tokens.account_changed(&account.id);
        tracing::info!(account = %account.id, sessions_ended = ended, "account deactivated");
        Ok(account)
    }
}

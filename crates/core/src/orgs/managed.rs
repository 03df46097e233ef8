//! What an organization's admins can do to the accounts it manages, as one vocabulary shared by
//! the console, the admin API and the CLI.

use super::OrgAdmin;
use crate::Core;
use crate::accounts::{Account, DisplayName, Email};
use crate::errors::Unexpected;
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
            SetStatusError::Protected => Self::Protected,
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

impl Core {
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
            && self.ports.accounts.find_by_email(email).await?.is_some_and(|a| &a.id == me)
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

//! An organization's admins and API tokens: the tokens of the accounts and bots it manages,
//! resolved (and refused for site admins and other organizations' admins) here, then handed to
//! the API-token service.

use super::{OrgAdmin, Organizations};
use crate::accounts::{Account, Email};
use crate::api_tokens::{ApiTokenError, BotOwner, TokenRequest, TokenView};
use crate::audit::Actor;
use crate::errors::RepoError;
use crate::flows::SetStatusError;

impl From<SetStatusError> for ApiTokenError {
    fn from(e: SetStatusError) -> Self {
        match e {
            SetStatusError::NotFound | SetStatusError::Closed => Self::NotManaged,
            SetStatusError::Protected
            | SetStatusError::OwnAccount
            | SetStatusError::LastSiteAdmin
            | SetStatusError::Bot => Self::Protected,
            SetStatusError::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl Organizations {
    async fn token_owner(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        action: &'static str,
    ) -> Result<Account, ApiTokenError> {
        Ok(self.managed_account(admin, email, action).await?)
    }

    /// A token for one of the organization's bots. Never for a person: the token would let the
    /// admin act as them towards every product (people make their own).
    pub async fn create_api_token(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        request: &TokenRequest,
    ) -> Result<(TokenView, String), ApiTokenError> {
        let account = self.token_owner(admin, email, "api_token.create").await?;
        if !account.bot {
            return Err(ApiTokenError::NotABot);
        }
        self.api_tokens.create_for(Actor::Org(admin), &account, request, admin.actor()).await
    }

    pub async fn revoke_api_token(
        &self,
        admin: &OrgAdmin,
        email: &Email,
        id: &str,
    ) -> Result<(), ApiTokenError> {
        let account = self.token_owner(admin, email, "api_token.revoke").await?;
        self.api_tokens.revoke_for(Actor::Org(admin), &account, id).await
    }

    /// Every token of the accounts the organization manages (site admins' and other
    /// organizations' admins' left out) and of its bots.
    pub async fn org_api_tokens(&self, admin: &OrgAdmin) -> Result<Vec<TokenView>, RepoError> {
        let mut owners: Vec<Account> = self
            .managed_accounts(admin, 1000)
            .await?
            .into_iter()
            .filter(|m| !m.protected)
            .map(|m| m.account)
            .collect();
        owners.extend(self.api_tokens.list_org_bots(admin).await?);
        self.api_tokens.list_for(&owners).await
    }

    pub async fn create_bot(&self, admin: &OrgAdmin, name: &str) -> Result<Account, ApiTokenError> {
        self.api_tokens.create_bot(BotOwner::Org(admin), name).await
    }
}

//! Consents a person gave third-party products, as `/account` lists them, and their
//! revocation (which also ends what the product holds: its grants and refresh tokens).

use crate::accounts::{Account, AccountId};
use crate::audit::{Actor, Record};
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::OidcProvider;

/// A third-party product the person allowed, for `/account`.
#[derive(Debug, Clone)]
pub struct AllowedProduct {
    pub client_id: String,
    pub name: String,
    pub logo_uri: Option<String>,
    pub scopes: Vec<String>,
    pub granted_at: Timestamp,
}

impl OidcProvider {
    pub async fn allowed_products(
        &self,
        account: &AccountId,
    ) -> Result<Vec<AllowedProduct>, RepoError> {
        let mut out = Vec::new();
        for consent in self.repo.list_consents(account).await? {
            let Some(client) = self.find_client(&consent.client_id).await? else { continue };
            out.push(AllowedProduct {
                client_id: consent.client_id,
                name: client.name,
                logo_uri: client.logo_uri,
                scopes: consent
                    .scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                granted_at: consent.granted_at,
            });
        }
        Ok(out)
    }

    /// Withdraws the consent; the product's refresh tokens stop working at once and its
    /// next request will show the consent screen again. False when there was none.
    pub async fn revoke_consent(
        &self,
        account: &Account,
        client_id: &str,
    ) -> Result<bool, RepoError> {
        if !self.repo.delete_consent(&account.id, client_id).await? {
            return Ok(false);
        }
        for grant in self.repo.grants_for_client(&account.id, client_id).await? {
            self.revoke_grant(&grant.id).await?;
        }
        tracing::info!(account = %account.id, client = %client_id, "consent revoked");
        let record = Record::new("consent.revoked", Actor::Person(account))
            .target(account)
            .details(serde_json::json!({ "client_id": client_id }));
        self.audit.record(record).await;
        Ok(true)
    }

    /// Withdraws every consent and revokes every live grant of the account (taking it back);
    /// returns how many products were signed in or consented.
    pub(crate) async fn forget_products(&self, account: &AccountId) -> Result<usize, RepoError> {
        let mut products = std::collections::HashSet::new();
        for consent in self.repo.list_consents(account).await? {
            self.repo.delete_consent(account, &consent.client_id).await?;
            products.insert(consent.client_id);
        }
        for grant in self.repo.live_grants_for_account(account).await? {
            self.revoke_grant(&grant.id).await?;
            products.insert(grant.client_id);
        }
        Ok(products.len())
    }
}

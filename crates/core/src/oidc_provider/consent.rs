//! Consents a person gave third-party products, as `/account` lists them, and their
//! revocation (which also ends what the product holds: its grants and refresh tokens).

use crate::Core;
use crate::accounts::{Account, AccountId};
use crate::audit::{Actor, Record};
use crate::clock::Timestamp;
use crate::errors::RepoError;

/// A third-party product the person allowed, for `/account`.
#[derive(Debug, Clone)]
pub struct AllowedProduct {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub granted_at: Timestamp,
}

impl Core {
    pub async fn allowed_products(
        &self,
        account: &AccountId,
    ) -> Result<Vec<AllowedProduct>, RepoError> {
        let mut out = Vec::new();
        for consent in self.ports.oidc.list_consents(account).await? {
            let name = match self.find_client(&consent.client_id).await? {
                Some(c) => c.name,
                None => continue,
            };
            out.push(AllowedProduct {
                client_id: consent.client_id,
                name,
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
        if !self.ports.oidc.delete_consent(&account.id, client_id).await? {
            return Ok(false);
        }
        for grant in self.ports.oidc.grants_for_client(&account.id, client_id).await? {
            self.revoke_grant(&grant.id).await?;
        }
        tracing::info!(account = %account.id, client = %client_id, "consent revoked");
        let record = Record::new("consent.revoked", Actor::Person(account))
            .target(account)
            .details(serde_json::json!({ "client_id": client_id }));
        self.audit(record).await;
        Ok(true)
    }
}

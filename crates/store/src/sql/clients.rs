//! `ClientRepo` on SQL. List-valued fields are JSON arrays in TEXT columns.

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::oidc_provider::{Client, ClientKeys, ClientUsage, GrantType};
use latchkey_core::ports::{ClientRepo, RepoResult};
use latchkey_core::secret::TokenHash;
use latchkey_protocol::jose::SigningAlg;

use super::{Run, corrupt, to_u64, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: Option<String>,
    grant_types: String,
    scopes: String,
    first_party: i64,
    id_token_alg: String,
    created_at: i64,
    jwks: Option<String>,
    jwks_uri: Option<String>,
    logo_uri: Option<String>,
    disabled_at: Option<i64>,
}

fn list(json: &str, what: &str) -> RepoResult<Vec<String>> {
    serde_json::from_str(json).map_err(|_| corrupt(what))
}

fn to_json(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

impl ClientRow {
    fn into_client(self) -> RepoResult<Client> {
        Ok(Client {
            redirect_uris: list(&self.redirect_uris, "client redirect URIs")?,
            post_logout_redirect_uris: list(&self.post_logout_redirect_uris, "client logout URIs")?,
            grant_types: list(&self.grant_types, "client grant types")?
                .iter()
                .map(|g| GrantType::parse(g).ok_or_else(|| corrupt("client grant type")))
                .collect::<RepoResult<_>>()?,
            scopes: list(&self.scopes, "client scopes")?,
            id_token_alg: SigningAlg::parse(&self.id_token_alg)
                .ok_or_else(|| corrupt("client id_token alg"))?,
            id: self.id,
            name: self.name,
            secret_hash: self.secret_hash.map(TokenHash::from_stored),
            keys: match (self.jwks, self.jwks_uri) {
                (Some(jwks), _) => Some(ClientKeys::Inline(jwks)),
                (None, Some(uri)) => Some(ClientKeys::Uri(uri)),
                (None, None) => None,
            },
            backchannel_logout_uri: self.backchannel_logout_uri,
            first_party: self.first_party != 0,
            created_at: Timestamp::from_unix(self.created_at),
            logo_uri: self.logo_uri,
            disabled_at: self.disabled_at.map(Timestamp::from_unix),
        })
    }
}

#[async_trait]
impl ClientRepo for SqlStore {
    async fn insert(&self, c: &Client) -> RepoResult<()> {
        let grants: Vec<String> = c.grant_types.iter().map(|g| g.as_str().to_owned()).collect();
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
             backchannel_logout_uri, grant_types, scopes, first_party, id_token_alg, created_at, jwks, \
             jwks_uri, logo_uri) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(c.id.as_str())
        .bind(c.name.as_str())
        .bind(c.secret_hash.as_ref().map(|h| h.as_str().to_owned()))
        .bind(to_json(&c.redirect_uris))
        .bind(to_json(&c.post_logout_redirect_uris))
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(to_json(&grants))
        .bind(to_json(&c.scopes))
        .bind(i64::from(c.first_party))
        .bind(c.id_token_alg.as_str())
        .bind(c.created_at.unix())
        .bind(match &c.keys {
            Some(ClientKeys::Inline(jwks)) => Some(jwks.as_str()),
            _ => None,
        })
        .bind(match &c.keys {
            Some(ClientKeys::Uri(uri)) => Some(uri.as_str()),
            _ => None,
        })
        .bind(c.logo_uri.as_deref())
        .run(&self.pool).await?;
        Ok(())
    }

    async fn update_settings(&self, c: &Client) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4, \
             backchannel_logout_uri = $5, scopes = $6, first_party = $7, logo_uri = $8 WHERE id = $1",
        )
        .bind(c.id.as_str())
        .bind(c.name.as_str())
        .bind(to_json(&c.redirect_uris))
        .bind(to_json(&c.post_logout_redirect_uris))
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(to_json(&c.scopes))
        .bind(i64::from(c.first_party))
        .bind(c.logo_uri.as_deref())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn set_secret_hash(&self, id: &str, hash: &TokenHash) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE clients SET secret_hash = $2 WHERE id = $1 AND secret_hash IS NOT NULL",
        )
        .bind(id)
        .bind(hash.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn set_disabled(&self, id: &str, at: Option<Timestamp>) -> RepoResult<bool> {
        let n = match at {
            Some(at) => {
                sqlx::query(
                    "UPDATE clients SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
                )
                .bind(id)
                .bind(at.unix())
                .run(&self.pool)
                .await?
            }
            None => sqlx::query(
                "UPDATE clients SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
            )
            .bind(id)
            .run(&self.pool)
            .await?,
        };
        Ok(n == 1)
    }

    async fn delete(&self, id: &str) -> RepoResult<bool> {
        // Every table that names a client cascades (grants take their refresh tokens along).
        Ok(sqlx::query("DELETE FROM clients WHERE id = $1").bind(id).run(&self.pool).await? == 1)
    }

    async fn usage(&self, id: &str) -> RepoResult<ClientUsage> {
        let (people, consents, bindings, legacy): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(DISTINCT account_id) FROM grants WHERE client_id = $1 AND revoked_at IS NULL), \
             (SELECT COUNT(*) FROM consents WHERE client_id = $1), \
             (SELECT COUNT(*) FROM basic_auth_bindings WHERE client_id = $1), \
             (SELECT COUNT(*) FROM legacy_records WHERE client_id = $1)",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(ClientUsage {
            signed_in_people: to_u64(people),
            consents: to_u64(consents),
            basic_auth_bindings: to_u64(bindings),
            legacy_records: to_u64(legacy),
        })
    }

    async fn list(&self) -> RepoResult<Vec<Client>> {
        sqlx::query_as::<_, ClientRow>(
            "SELECT id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
             backchannel_logout_uri, grant_types, scopes, first_party, id_token_alg, created_at, jwks, \
             jwks_uri, logo_uri, disabled_at FROM clients ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
    }
}

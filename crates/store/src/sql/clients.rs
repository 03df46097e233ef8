//! `ClientRepo` on SQL. List-valued fields are JSON arrays in TEXT columns.

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::oidc_provider::{Client, ClientKeys, GrantType};
use latchkey_core::ports::{ClientRepo, RepoResult};
use latchkey_core::secret::TokenHash;
use latchkey_protocol::jose::SigningAlg;

use super::{Run, corrupt, unexpected};
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
             jwks_uri) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
        .run(&self.pool).await?;
        Ok(())
    }

    async fn list(&self) -> RepoResult<Vec<Client>> {
        sqlx::query_as::<_, ClientRow>(
            "SELECT id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
             backchannel_logout_uri, grant_types, scopes, first_party, id_token_alg, created_at, jwks, \
             jwks_uri FROM clients ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
    }
}

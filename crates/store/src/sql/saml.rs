//! `SamlRepo` on SQL. A connection and its domains are written in one transaction (a domain
//! held by another connection is the primary key's conflict); a login in flight is taken by
//! one conditional DELETE; an assertion ID is remembered by an INSERT that a replay collides
//! with.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::orgs::Domain;
use latchkey_core::ports::{RepoResult, SamlRepo, SaveConnectionError};
use latchkey_core::saml_sp::{AttributeMapping, PendingSamlLogin, Preset, SamlConnection, SpKey};
use latchkey_core::secret::TokenHash;
use latchkey_protocol::saml::signature::Certificate;

use super::{Run, corrupt, to_u64, unexpected};
use crate::SqlStore;

const COLUMNS: &str = "id, org_id, name, preset, idp_entity_id, sso_url, certificates, mapping, jit, \
                       allow_idp_initiated, allow_sha1, created_at, updated_at, sp_key, sign_requests, \
                       landing_client";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    Option<String>,
);

/// The `sp_key` column: the sealed private key and the certificate, as JSON.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredKey {
    sealed: String,
    certificate: String,
}

fn key_to_json(key: &SpKey) -> Result<String, latchkey_core::errors::RepoError> {
    serde_json::to_string(&StoredKey {
        sealed: key.sealed.clone(),
        certificate: key.certificate.to_base64(),
    })
    .map_err(|e| unexpected(sqlx::Error::Encode(e.into())))
}

fn key_from_json(raw: &str) -> RepoResult<SpKey> {
    let stored: StoredKey = serde_json::from_str(raw).map_err(|_| corrupt("saml sp key"))?;
    let certificate =
        Certificate::parse(&stored.certificate).map_err(|_| corrupt("saml sp certificate"))?;
    Ok(SpKey { sealed: stored.sealed, certificate })
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl SqlStore {
    async fn connection_from(&self, row: Row) -> RepoResult<SamlConnection> {
        let (
            id,
            org_id,
            name,
            preset,
            idp_entity_id,
            sso_url,
            certs,
            mapping,
            jit,
            idp_init,
            sha1,
            created,
            updated,
            sp_key,
            sign_requests,
            landing_client,
        ) = row;
        let raw: Vec<String> =
            serde_json::from_str(&certs).map_err(|_| corrupt("saml certificates"))?;
        let certificates = raw
            .iter()
            .map(|c| Certificate::parse(c).map_err(|_| corrupt("saml certificate")))
            .collect::<RepoResult<Vec<_>>>()?;
        let mapping: AttributeMapping =
            serde_json::from_str(&mapping).map_err(|_| corrupt("saml mapping"))?;
        let domains: Vec<(String,)> = sqlx::query_as(
            "SELECT domain FROM saml_connection_domains WHERE connection_id = $1 ORDER BY domain",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(SamlConnection {
            id,
            org_id,
            name,
            preset: Preset::parse(&preset).ok_or_else(|| corrupt("saml preset"))?,
            idp_entity_id,
            sso_url,
            certificates,
            domains: domains.into_iter().map(|(d,)| Domain::from_stored(d)).collect(),
            mapping,
            jit: jit != 0,
            allow_idp_initiated: idp_init != 0,
            allow_sha1: sha1 != 0,
            sp_key: sp_key.as_deref().map(key_from_json).transpose()?,
            sign_requests: sign_requests != 0,
            landing_client,
            created_at: Timestamp::from_unix(created),
            updated_at: Timestamp::from_unix(updated),
        })
    }

    async fn connections_where(
        &self,
        condition: &str,
        bind: Option<&str>,
    ) -> RepoResult<Vec<SamlConnection>> {
        let sql =
            format!("SELECT {COLUMNS} FROM saml_connections {condition} ORDER BY created_at, id");
        let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
        if let Some(value) = bind {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(unexpected)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.connection_from(row).await?);
        }
        Ok(out)
    }
}

#[async_trait]
impl SamlRepo for SqlStore {
    async fn save_connection(&self, c: &SamlConnection) -> Result<(), SaveConnectionError> {
        let certs: Vec<String> = c.certificates.iter().map(Certificate::to_base64).collect();
        let certs =
            serde_json::to_string(&certs).map_err(|e| unexpected(sqlx::Error::Encode(e.into())))?;
        let mapping = serde_json::to_string(&c.mapping)
            .map_err(|e| unexpected(sqlx::Error::Encode(e.into())))?;
        let sp_key = c.sp_key.as_ref().map(key_to_json).transpose()?;
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        // A stored key is never replaced by an update (the IdP has its certificate).
        sqlx::query(
            "INSERT INTO saml_connections (id, org_id, name, preset, idp_entity_id, sso_url, certificates, \
             mapping, jit, allow_idp_initiated, allow_sha1, created_at, updated_at, sp_key, sign_requests, \
             landing_client) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, preset = excluded.preset, \
             idp_entity_id = excluded.idp_entity_id, sso_url = excluded.sso_url, \
             certificates = excluded.certificates, mapping = excluded.mapping, jit = excluded.jit, \
             allow_idp_initiated = excluded.allow_idp_initiated, allow_sha1 = excluded.allow_sha1, \
             updated_at = excluded.updated_at, \
             sp_key = COALESCE(saml_connections.sp_key, excluded.sp_key), \
             sign_requests = excluded.sign_requests, landing_client = excluded.landing_client",
        )
        .bind(c.id.as_str())
        .bind(c.org_id.as_str())
        .bind(c.name.as_str())
        .bind(c.preset.as_str())
        .bind(c.idp_entity_id.as_str())
        .bind(c.sso_url.as_str())
        .bind(certs)
        .bind(mapping)
        .bind(i64::from(c.jit))
        .bind(i64::from(c.allow_idp_initiated))
        .bind(i64::from(c.allow_sha1))
        .bind(c.created_at.unix())
        .bind(c.updated_at.unix())
        .bind(sp_key)
        .bind(i64::from(c.sign_requests))
        .bind(c.landing_client.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        sqlx::query("DELETE FROM saml_connection_domains WHERE connection_id = $1")
            .bind(c.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        for domain in &c.domains {
            let inserted = sqlx::query(
                "INSERT INTO saml_connection_domains (domain, connection_id) VALUES ($1, $2)",
            )
            .bind(domain.as_str())
            .bind(c.id.as_str())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if unique_violation(&e) => {
                    return Err(SaveConnectionError::DomainTaken(domain.as_str().to_owned()));
                }
                Err(e) => return Err(unexpected(e).into()),
            }
        }
        tx.commit().await.map_err(unexpected)?;
        Ok(())
    }

    async fn find_connection(&self, id: &str) -> RepoResult<Option<SamlConnection>> {
        Ok(self.connections_where("WHERE id = $1", Some(id)).await?.pop())
    }

    async fn list_connections(&self, org: &str) -> RepoResult<Vec<SamlConnection>> {
        self.connections_where("WHERE org_id = $1", Some(org)).await
    }

    async fn all_connections(&self) -> RepoResult<Vec<SamlConnection>> {
        self.connections_where("", None).await
    }

    async fn connection_for_domain(&self, domain: &str) -> RepoResult<Option<SamlConnection>> {
        let condition =
            "WHERE id = (SELECT connection_id FROM saml_connection_domains WHERE domain = $1)";
        Ok(self.connections_where(condition, Some(domain)).await?.pop())
    }

    async fn any_connection(&self) -> RepoResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM saml_connections LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(row.is_some())
    }

    async fn delete_connection(&self, id: &str) -> RepoResult<bool> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        for table in ["saml_connection_domains", "saml_requests", "saml_expiry_notices"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE connection_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        }
        sqlx::query("DELETE FROM external_identities WHERE provider = $1")
            .bind(format!("saml:{id}"))
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        let gone = sqlx::query("DELETE FROM saml_connections WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?
            .rows_affected();
        tx.commit().await.map_err(unexpected)?;
        Ok(gone > 0)
    }

    async fn set_sp_key_if_absent(&self, id: &str, key: &SpKey) -> RepoResult<()> {
        sqlx::query("UPDATE saml_connections SET sp_key = $1 WHERE id = $2 AND sp_key IS NULL")
            .bind(key_to_json(key)?)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(())
    }

    async fn claim_expiry_notice(
        &self,
        connection: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let done = sqlx::query(
            "INSERT INTO saml_expiry_notices (connection_id, fingerprint, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT (connection_id, fingerprint) DO NOTHING",
        )
        .bind(connection)
        .bind(fingerprint)
        .bind(now.unix())
        .execute(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_pending(
        &self,
        relay: &TokenHash,
        login: &PendingSamlLogin,
        now: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO saml_requests (relay_hash, connection_id, request_id, next, test, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(relay.as_str())
        .bind(login.connection_id.as_str())
        .bind(login.request_id.as_str())
        .bind(login.next.as_str())
        .bind(i64::from(login.test))
        .bind(now.unix())
        .bind(login.expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_pending(
        &self,
        relay: &TokenHash,
        connection: &str,
        now: Timestamp,
    ) -> RepoResult<Option<PendingSamlLogin>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT request_id, next, test, expires_at FROM saml_requests \
             WHERE relay_hash = $1 AND connection_id = $2 AND expires_at > $3",
        )
        .bind(relay.as_str())
        .bind(connection)
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(request_id, next, test, expires_at)| PendingSamlLogin {
            connection_id: connection.to_owned(),
            request_id,
            next,
            test: test != 0,
            expires_at: Timestamp::from_unix(expires_at),
        }))
    }

    async fn take_pending(
        &self,
        relay: &TokenHash,
        connection: &str,
        request_id: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let taken = sqlx::query(
            "DELETE FROM saml_requests \
             WHERE relay_hash = $1 AND connection_id = $2 AND request_id = $3 AND expires_at > $4",
        )
        .bind(relay.as_str())
        .bind(connection)
        .bind(request_id)
        .bind(now.unix())
        .run(&self.pool)
        .await?;
        Ok(taken == 1)
    }

    async fn remember_assertion(
        &self,
        connection: &str,
        assertion_id: &str,
        expires_at: Timestamp,
    ) -> RepoResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO saml_replay (connection_id, assertion_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (connection_id, assertion_id) DO NOTHING",
        )
        .bind(connection)
        .bind(assertion_id)
        .bind(expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(inserted == 1)
    }

    async fn find_identity(&self, provider: &str, subject: &str) -> RepoResult<Option<AccountId>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT account_id FROM external_identities WHERE provider = $1 AND subject = $2",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(id,)| AccountId::from_stored(id)))
    }

    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool> {
        sqlx::query(
            "INSERT INTO external_identities (provider, subject, account_id, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (provider, subject) DO NOTHING",
        )
        .bind(provider)
        .bind(subject)
        .bind(account.as_str())
        .bind(now.unix())
        .run(&self.pool)
        .await?;
        let linked = sqlx::query(
            "UPDATE external_identities SET last_used_at = $1 \
             WHERE provider = $2 AND subject = $3 AND account_id = $4",
        )
        .bind(now.unix())
        .bind(provider)
        .bind(subject)
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(linked == 1)
    }

    async fn purge_expired(&self, now: Timestamp) -> RepoResult<u64> {
        let requests = sqlx::query("DELETE FROM saml_requests WHERE expires_at <= $1")
            .bind(now.unix())
            .run(&self.pool)
            .await?;
        let seen = sqlx::query("DELETE FROM saml_replay WHERE expires_at <= $1")
            .bind(now.unix())
            .run(&self.pool)
            .await?;
        Ok(to_u64(i64::try_from(requests + seen).unwrap_or(i64::MAX)))
    }
}

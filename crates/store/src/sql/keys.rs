//! `SigningKeyRepo` on SQL. Private keys arrive sealed; storage never sees them in the clear.

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{RepoResult, SigningKeyRepo, StoredKey};
use latchkey_protocol::jose::SigningAlg;

use super::{Run, corrupt, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_key: String,
    public_jwk: String,
    created_at: i64,
    active_from: i64,
    retire_at: Option<i64>,
}

#[async_trait]
impl SigningKeyRepo for SqlStore {
    async fn insert(&self, k: &StoredKey) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active_from, \
             retire_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(k.kid.as_str())
        .bind(k.alg.as_str())
        .bind(k.private_key.as_str())
        .bind(k.public_jwk.as_str())
        .bind(k.created_at.unix())
        .bind(k.active_from.unix())
        .bind(k.retire_at.map(Timestamp::unix))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn list(&self) -> RepoResult<Vec<StoredKey>> {
        sqlx::query_as::<_, KeyRow>(
            "SELECT kid, alg, private_key, public_jwk, created_at, active_from, retire_at \
             FROM signing_keys ORDER BY active_from, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(|r| {
            Ok(StoredKey {
                alg: SigningAlg::parse(&r.alg).ok_or_else(|| corrupt("signing key alg"))?,
                kid: r.kid,
                private_key: r.private_key,
                public_jwk: r.public_jwk,
                created_at: Timestamp::from_unix(r.created_at),
                active_from: Timestamp::from_unix(r.active_from),
                retire_at: r.retire_at.map(Timestamp::from_unix),
            })
        })
        .collect()
    }

    async fn set_retire_at(&self, kid: &str, at: Timestamp) -> RepoResult<()> {
        sqlx::query("UPDATE signing_keys SET retire_at = $1 WHERE kid = $2")
            .bind(at.unix())
            .bind(kid)
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

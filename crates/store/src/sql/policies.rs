//! `PolicyRepo` on SQL. Every write bumps the one-row `policy_epoch`, which nodes poll to know
//! when to reload their cached policies.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::policies::{Policy, PolicyId, PolicyScope, PolicySettings};
use latchkey_core::ports::{PolicyData, PolicyRepo, RepoResult};

use super::{Run, corrupt, unexpected};
use crate::SqlStore;

type PolicyRow =
    (String, Option<String>, Option<String>, String, String, Option<i64>, Option<i64>, i64, i64);

fn policy_from(row: PolicyRow) -> RepoResult<Policy> {
    let (id, org, default_for, name, settings, valid_after, two_step_since, created, updated) = row;
    let settings: PolicySettings =
        serde_json::from_str(&settings).map_err(|_| corrupt("policy settings"))?;
    Ok(Policy {
        id: PolicyId::from_stored(id),
        scope: org.map_or(PolicyScope::Site, PolicyScope::Org),
        is_default: default_for.is_some(),
        name,
        settings,
        passwords_valid_after: valid_after.map(Timestamp::from_unix),
        two_step_since: two_step_since.map(Timestamp::from_unix),
        created_at: Timestamp::from_unix(created),
        updated_at: Timestamp::from_unix(updated),
    })
}

fn settings_json(settings: &PolicySettings) -> RepoResult<String> {
    serde_json::to_string(settings).map_err(|e| latchkey_core::ports::RepoError(Box::new(e)))
}

impl SqlStore {
    async fn bump(&self) -> RepoResult<()> {
        sqlx::query("UPDATE policy_epoch SET epoch = epoch + 1 WHERE id = 1")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl PolicyRepo for SqlStore {
    async fn policy_epoch(&self) -> RepoResult<i64> {
        let (epoch,): (i64,) = sqlx::query_as("SELECT epoch FROM policy_epoch WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(unexpected)?;
        Ok(epoch)
    }

    async fn load_policies(&self) -> RepoResult<PolicyData> {
        // The epoch first: a change landing between the reads makes the next check reload.
        let epoch = self.policy_epoch().await?;
        let rows: Vec<PolicyRow> = sqlx::query_as(
            "SELECT id, org_id, default_for, name, settings, passwords_valid_after, \
             two_step_since, created_at, updated_at FROM policies ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        let policies = rows.into_iter().map(policy_from).collect::<RepoResult<Vec<_>>>()?;
        let verified_domains: Vec<(String, String)> =
            sqlx::query_as("SELECT domain, org_id FROM org_domains WHERE status = 'verified'")
                .fetch_all(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(PolicyData { epoch, policies, verified_domains })
    }

    async fn insert_policy(&self, p: &Policy) -> RepoResult<bool> {
        let default_for = p.is_default.then(|| p.org().unwrap_or("site").to_owned());
        let result = sqlx::query(
            "INSERT INTO policies (id, org_id, default_for, name, settings, \
             passwords_valid_after, two_step_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(p.id.as_str())
        .bind(p.org())
        .bind(default_for)
        .bind(p.name.as_str())
        .bind(settings_json(&p.settings)?)
        .bind(p.passwords_valid_after.map(Timestamp::unix))
        .bind(p.two_step_since.map(Timestamp::unix))
        .bind(p.created_at.unix())
        .bind(p.updated_at.unix())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => {
                self.bump().await?;
                Ok(true)
            }
            // Another request created the scope's default first: that one stands.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn update_policy(&self, p: &Policy) -> RepoResult<()> {
        sqlx::query(
            "UPDATE policies SET name = $1, settings = $2, passwords_valid_after = $3, \
             two_step_since = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(p.name.as_str())
        .bind(settings_json(&p.settings)?)
        .bind(p.passwords_valid_after.map(Timestamp::unix))
        .bind(p.two_step_since.map(Timestamp::unix))
        .bind(p.updated_at.unix())
        .bind(p.id.as_str())
        .run(&self.pool)
        .await?;
        self.bump().await
    }

    async fn assign_policy(
        &self,
        account: &AccountId,
        policy: Option<&PolicyId>,
    ) -> RepoResult<()> {
        sqlx::query("UPDATE accounts SET policy_id = $1 WHERE id = $2")
            .bind(policy.map(PolicyId::as_str))
            .bind(account.as_str())
            .run(&self.pool)
            .await?;
        self.bump().await
    }

    async fn bump_policy_epoch(&self) -> RepoResult<()> {
        self.bump().await
    }

    async fn password_history(&self, account: &AccountId, limit: u32) -> RepoResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT hash FROM password_history WHERE account_id = $1 \
             ORDER BY position DESC LIMIT $2",
        )
        .bind(account.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    async fn push_password_history(
        &self,
        id: &str,
        account: &AccountId,
        hash: &str,
        at: Timestamp,
        keep: u32,
    ) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO password_history (id, account_id, position, hash, created_at) \
             SELECT $1, $2, COALESCE(MAX(position), 0) + 1, $3, $4 FROM password_history \
             WHERE account_id = $2",
        )
        .bind(id)
        .bind(account.as_str())
        .bind(hash)
        .bind(at.unix())
        .run(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM password_history WHERE account_id = $1 AND position <= \
             (SELECT COALESCE(MAX(position), 0) FROM password_history WHERE account_id = $1) - $2",
        )
        .bind(account.as_str())
        .bind(i64::from(keep))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn accounts_with_second_factor(&self, ids: &[AccountId]) -> RepoResult<Vec<AccountId>> {
        let mut out = Vec::new();
        // In chunks, so the statement stays within both engines' parameter limits.
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let list = marks.join(", ");
            let sql = format!(
                "SELECT account_id FROM totp_credentials WHERE confirmed_at IS NOT NULL \
                 AND account_id IN ({list}) \
                 UNION SELECT account_id FROM webauthn_credentials WHERE account_id IN ({list})"
            );
            let mut query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(&self.pool).await.map_err(unexpected)?;
            out.extend(rows.into_iter().map(|(id,)| AccountId::from_stored(id)));
        }
        Ok(out)
    }
}

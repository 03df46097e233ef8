//! `SecondFactorRepo` on SQL. Replay protection and single use are one conditional UPDATE
//! each, atomic on both engines.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::policies::AuthMethod;
use latchkey_core::ports::{
    PendingLogin, PendingStep, PendingSteps, RepoResult, SecondFactorRepo, TotpRecord,
    WebauthnChallenge, WebauthnCredential,
};
use latchkey_core::secret::TokenHash;
use latchkey_core::sessions::ClientInfo;

use super::{Run, to_u64, unexpected};
use crate::SqlStore;

#[async_trait]
impl SecondFactorRepo for SqlStore {
    async fn find_totp(&self, account: &AccountId) -> RepoResult<Option<TotpRecord>> {
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT secret, confirmed_at FROM totp_credentials WHERE account_id = $1",
        )
        .bind(account.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(secret, confirmed)| TotpRecord { secret, confirmed: confirmed.is_some() }))
    }

    async fn begin_totp(
        &self,
        account: &AccountId,
        secret: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "INSERT INTO totp_credentials (account_id, secret, confirmed_at, last_step, created_at) \
             VALUES ($1, $2, NULL, 0, $3) \
             ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, \
             created_at = excluded.created_at, last_step = 0 \
             WHERE totp_credentials.confirmed_at IS NULL",
        )
        .bind(account.as_str())
        .bind(secret)
        .bind(now.unix())
        .run(&self.pool).await?;
        Ok(n == 1)
    }

    async fn confirm_totp(
        &self,
        account: &AccountId,
        step: i64,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE totp_credentials SET confirmed_at = $1, last_step = $2 \
             WHERE account_id = $3 AND confirmed_at IS NULL",
        )
        .bind(now.unix())
        .bind(step)
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn advance_totp_step(&self, account: &AccountId, step: i64) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE totp_credentials SET last_step = $1 \
             WHERE account_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn delete_totp(&self, account: &AccountId) -> RepoResult<()> {
        sqlx::query("DELETE FROM totp_credentials WHERE account_id = $1")
            .bind(account.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn replace_recovery_codes(
        &self,
        account: &AccountId,
        hashes: &[TokenHash],
        now: Timestamp,
    ) -> RepoResult<()> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(account.as_str())
            .bind(hash.as_str())
            .bind(now.unix())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        }
        tx.commit().await.map_err(unexpected)
    }

    async fn use_recovery_code(
        &self,
        account: &AccountId,
        hash: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now.unix())
        .bind(account.as_str())
        .bind(hash.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn remaining_recovery_codes(&self, account: &AccountId) -> RepoResult<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
        )
        .bind(account.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(u32::try_from(to_u64(n)).unwrap_or(u32::MAX))
    }

    async fn delete_recovery_codes(&self, account: &AccountId) -> RepoResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_pending_login(
        &self,
        hash: &TokenHash,
        p: &PendingLogin,
        now: Timestamp,
    ) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO pending_logins (token_hash, account_id, user_agent, ip, next_url, \
             created_at, expires_at, second_factor_due, new_password_due, enrolment_due, amr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(hash.as_str())
        .bind(p.account.as_str())
        .bind(p.client.user_agent.as_str())
        .bind(p.client.ip.as_str())
        .bind(p.next.as_str())
        .bind(now.unix())
        .bind(p.expires_at.unix())
        .bind(i64::from(p.steps.second_factor))
        .bind(i64::from(p.steps.new_password))
        .bind(i64::from(p.steps.enrolment))
        .bind(AuthMethod::join(&p.amr))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_pending_step(
        &self,
        hash: &TokenHash,
        step: PendingStep,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let sql = match step {
            PendingStep::SecondFactor => {
                "UPDATE pending_logins SET second_factor_due = 0 WHERE token_hash = $1 \
                 AND second_factor_due = 1 AND used_at IS NULL AND expires_at > $2"
            }
            PendingStep::NewPassword => {
                "UPDATE pending_logins SET new_password_due = 0 WHERE token_hash = $1 \
                 AND new_password_due = 1 AND used_at IS NULL AND expires_at > $2"
            }
            PendingStep::Enrolment => {
                "UPDATE pending_logins SET enrolment_due = 0 WHERE token_hash = $1 \
                 AND enrolment_due = 1 AND used_at IS NULL AND expires_at > $2"
            }
        };
        let n = sqlx::query(sql).bind(hash.as_str()).bind(now.unix()).run(&self.pool).await?;
        Ok(n == 1)
    }

    async fn update_pending_login(
        &self,
        hash: &TokenHash,
        p: &PendingLogin,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE pending_logins SET second_factor_due = $1, new_password_due = $2, \
             enrolment_due = $3, amr = $4, expires_at = $5 \
             WHERE token_hash = $6 AND used_at IS NULL AND expires_at > $7",
        )
        .bind(i64::from(p.steps.second_factor))
        .bind(i64::from(p.steps.new_password))
        .bind(i64::from(p.steps.enrolment))
        .bind(AuthMethod::join(&p.amr))
        .bind(p.expires_at.unix())
        .bind(hash.as_str())
        .bind(now.unix())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn find_pending_login(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> RepoResult<Option<PendingLogin>> {
        type Row = (String, String, String, String, i64, i64, i64, i64, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT account_id, user_agent, ip, next_url, expires_at, second_factor_due, \
             new_password_due, enrolment_due, amr FROM pending_logins \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash.as_str())
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(account, user_agent, ip, next, expires, sf, np, en, amr)| PendingLogin {
            account: AccountId::from_stored(account),
            client: ClientInfo { user_agent, ip },
            next,
            expires_at: Timestamp::from_unix(expires),
            steps: PendingSteps {
                second_factor: sf != 0,
                new_password: np != 0,
                enrolment: en != 0,
            },
            amr: AuthMethod::split(&amr),
        }))
    }

    async fn consume_pending_login(&self, hash: &TokenHash, now: Timestamp) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE pending_logins SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.unix())
        .bind(hash.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn insert_webauthn_credential(&self, c: &WebauthnCredential) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO webauthn_credentials (id, account_id, credential_id, passkey, nickname, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id.as_str())
        .bind(c.account.as_str())
        .bind(c.credential_id.as_str())
        .bind(c.passkey.as_str())
        .bind(c.nickname.as_str())
        .bind(c.created_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_webauthn_credentials(
        &self,
        account: &AccountId,
    ) -> RepoResult<Vec<WebauthnCredential>> {
        Ok(sqlx::query_as::<_, CredentialRow>(concat!(
            "SELECT ",
            credential_columns!(),
            " FROM webauthn_credentials WHERE account_id = $1 ORDER BY created_at, id"
        ))
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(CredentialRow::into_credential)
        .collect())
    }

    async fn find_webauthn_credential(
        &self,
        credential_id: &str,
    ) -> RepoResult<Option<WebauthnCredential>> {
        Ok(sqlx::query_as::<_, CredentialRow>(concat!(
            "SELECT ",
            credential_columns!(),
            " FROM webauthn_credentials WHERE credential_id = $1"
        ))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?
        .map(CredentialRow::into_credential))
    }

    async fn record_webauthn_use(&self, id: &str, passkey: &str, now: Timestamp) -> RepoResult<()> {
        sqlx::query(
            "UPDATE webauthn_credentials SET passkey = $1, last_used_at = $2 WHERE id = $3",
        )
        .bind(passkey)
        .bind(now.unix())
        .bind(id)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn rename_webauthn_credential(
        &self,
        account: &AccountId,
        id: &str,
        nickname: &str,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "UPDATE webauthn_credentials SET nickname = $1 WHERE id = $2 AND account_id = $3",
        )
        .bind(nickname)
        .bind(id)
        .bind(account.as_str())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn delete_webauthn_credential(&self, account: &AccountId, id: &str) -> RepoResult<bool> {
        let n = sqlx::query("DELETE FROM webauthn_credentials WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account.as_str())
            .run(&self.pool)
            .await?;
        Ok(n == 1)
    }

    async fn insert_webauthn_challenge(&self, c: &WebauthnChallenge) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO webauthn_challenges (id, account_id, purpose, state, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.id.as_str())
        .bind(c.account.as_ref().map(AccountId::as_str))
        .bind(c.purpose)
        .bind(c.state.as_str())
        .bind(c.expires_at.unix())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_webauthn_challenge(
        &self,
        id: &str,
        purpose: &str,
        now: Timestamp,
    ) -> RepoResult<Option<WebauthnChallenge>> {
        let row: Option<(Option<String>, String, i64)> = sqlx::query_as(
            "DELETE FROM webauthn_challenges WHERE id = $1 AND purpose = $2 AND expires_at > $3 \
             RETURNING account_id, state, expires_at",
        )
        .bind(id)
        .bind(purpose)
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(account, state, expires)| WebauthnChallenge {
            id: id.to_owned(),
            account: account.map(AccountId::from_stored),
            purpose: "",
            state,
            expires_at: Timestamp::from_unix(expires),
        }))
    }

    async fn purge_expired_second_factor(&self, now: Timestamp) -> RepoResult<u64> {
        let mut purged = 0;
        for statement in [
            "DELETE FROM pending_logins WHERE expires_at <= $1",
            "DELETE FROM webauthn_challenges WHERE expires_at <= $1",
        ] {
            purged += sqlx::query(statement).bind(now.unix()).run(&self.pool).await?;
        }
        Ok(purged)
    }
}

macro_rules! credential_columns {
    () => {
        "id, account_id, credential_id, passkey, nickname, created_at, last_used_at"
    };
}
use credential_columns;

#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: String,
    account_id: String,
    credential_id: String,
    passkey: String,
    nickname: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl CredentialRow {
    fn into_credential(self) -> WebauthnCredential {
        WebauthnCredential {
            id: self.id,
            account: AccountId::from_stored(self.account_id),
            credential_id: self.credential_id,
            passkey: self.passkey,
            nickname: self.nickname,
            created_at: Timestamp::from_unix(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp::from_unix),
        }
    }
}

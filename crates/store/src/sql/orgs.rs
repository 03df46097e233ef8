//! `OrgRepo` on SQL. "One organization per verified domain" is a partial unique index; a
//! verification that would break it comes back as `false`.

use async_trait::async_trait;
use latchkey_core::accounts::AccountId;
use latchkey_core::clock::Timestamp;
use latchkey_core::orgs::OrgUsage;
use latchkey_core::orgs::ports::AdminRemoval;
use latchkey_core::orgs::{CheckResult, Domain, ProofMethod};
use latchkey_core::ports::{DomainStatus, OrgDomain, OrgRepo, Organization, RepoResult};

use super::{Run, corrupt, to_u64, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct DomainRow {
    org_id: String,
    domain: String,
    token: String,
    status: String,
    created_at: i64,
    verified_at: Option<i64>,
    last_checked_at: Option<i64>,
    last_error: Option<String>,
    next_check_at: Option<i64>,
    checks: i64,
    proof: Option<String>,
}

impl DomainRow {
    fn into_domain(self) -> RepoResult<OrgDomain> {
        Ok(OrgDomain {
            status: DomainStatus::parse(&self.status).ok_or_else(|| corrupt("domain status"))?,
            org_id: self.org_id,
            domain: Domain::from_stored(self.domain),
            token: self.token,
            created_at: Timestamp::from_unix(self.created_at),
            verified_at: self.verified_at.map(Timestamp::from_unix),
            last_checked_at: self.last_checked_at.map(Timestamp::from_unix),
            last_error: self.last_error,
            next_check_at: self.next_check_at.map(Timestamp::from_unix),
            checks: u32::try_from(self.checks).unwrap_or(u32::MAX),
            proof: match self.proof {
                Some(p) => Some(ProofMethod::parse(&p).ok_or_else(|| corrupt("domain proof"))?),
                None => None,
            },
        })
    }
}

const DOMAIN_COLUMNS: &str = "org_id, domain, token, status, created_at, verified_at, \
     last_checked_at, last_error, next_check_at, checks, proof";

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl OrgRepo for SqlStore {
    async fn insert_org(&self, org: &Organization, first_admin: &AccountId) -> RepoResult<()> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org.id.as_str())
            .bind(org.name.as_str())
            .bind(org.created_at.unix())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        sqlx::query("INSERT INTO org_admins (org_id, account_id, added_at) VALUES ($1, $2, $3)")
            .bind(org.id.as_str())
            .bind(first_admin.as_str())
            .bind(org.created_at.unix())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?;
        tx.commit().await.map_err(unexpected)
    }

    async fn find_org(&self, id: &str) -> RepoResult<Option<Organization>> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(row.map(|(id, name, at)| Organization {
            id,
            name,
            created_at: Timestamp::from_unix(at),
        }))
    }

    async fn list_orgs(&self) -> RepoResult<Vec<Organization>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM organizations ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, at)| Organization { id, name, created_at: Timestamp::from_unix(at) })
            .collect())
    }

    async fn add_org_admin(
        &self,
        org: &str,
        account: &AccountId,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let n = sqlx::query(
            "INSERT INTO org_admins (org_id, account_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, account_id) DO NOTHING",
        )
        .bind(org)
        .bind(account.as_str())
        .bind(now.unix())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn is_org_admin(&self, org: &str, account: &AccountId) -> RepoResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM org_admins WHERE org_id = $1 AND account_id = $2")
                .bind(org)
                .bind(account.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(found.is_some())
    }

    async fn orgs_administered_by(&self, account: &AccountId) -> RepoResult<Vec<Organization>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT o.id, o.name, o.created_at FROM org_admins a \
             JOIN organizations o ON o.id = a.org_id WHERE a.account_id = $1 \
             ORDER BY o.name, o.id",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, at)| Organization { id, name, created_at: Timestamp::from_unix(at) })
            .collect())
    }

    async fn org_admins(&self, org: &str) -> RepoResult<Vec<AccountId>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT account_id FROM org_admins WHERE org_id = $1 ORDER BY added_at, account_id",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(rows.into_iter().map(AccountId::from_stored).collect())
    }

    async fn insert_domain(&self, d: &OrgDomain) -> RepoResult<bool> {
        let n = sqlx::query(
            "INSERT INTO org_domains (org_id, domain, token, status, created_at, next_check_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, domain) DO NOTHING",
        )
        .bind(d.org_id.as_str())
        .bind(d.domain.as_str())
        .bind(d.token.as_str())
        .bind(d.status.as_str())
        .bind(d.created_at.unix())
        .bind(d.next_check_at.map(Timestamp::unix))
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn find_domain(&self, org: &str, domain: &Domain) -> RepoResult<Option<OrgDomain>> {
        let sql =
            format!("SELECT {DOMAIN_COLUMNS} FROM org_domains WHERE org_id = $1 AND domain = $2");
        sqlx::query_as::<_, DomainRow>(sqlx::AssertSqlSafe(sql))
            .bind(org)
            .bind(domain.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unexpected)?
            .map(DomainRow::into_domain)
            .transpose()
    }

    async fn list_domains(&self, org: &str) -> RepoResult<Vec<OrgDomain>> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM org_domains WHERE org_id = $1 ORDER BY created_at, domain"
        );
        sqlx::query_as::<_, DomainRow>(sqlx::AssertSqlSafe(sql))
            .bind(org)
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(DomainRow::into_domain)
            .collect()
    }

    async fn verified_owner(&self, domain: &str) -> RepoResult<Option<Organization>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT o.id, o.name, o.created_at FROM org_domains d \
             JOIN organizations o ON o.id = d.org_id \
             WHERE d.domain = $1 AND d.status = 'verified'",
        )
        .bind(domain)
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|(id, name, at)| Organization {
            id,
            name,
            created_at: Timestamp::from_unix(at),
        }))
    }

    async fn domains_due(&self, now: Timestamp, limit: u32) -> RepoResult<Vec<OrgDomain>> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM org_domains WHERE next_check_at <= $1 \
             ORDER BY next_check_at LIMIT $2"
        );
        sqlx::query_as::<_, DomainRow>(sqlx::AssertSqlSafe(sql))
            .bind(now.unix())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(DomainRow::into_domain)
            .collect()
    }

    async fn record_domain_check(
        &self,
        org: &str,
        domain: &Domain,
        check: &CheckResult,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let result = sqlx::query(
            "UPDATE org_domains SET status = $1, last_error = $2, last_checked_at = $3, \
             verified_at = CASE WHEN $1 = 'verified' THEN COALESCE(verified_at, $3) ELSE NULL END, \
             next_check_at = $6, checks = checks + 1, \
             proof = CASE WHEN $1 = 'verified' THEN COALESCE($7, proof) ELSE NULL END \
             WHERE org_id = $4 AND domain = $5",
        )
        .bind(check.status.as_str())
        .bind(check.error.as_deref())
        .bind(now.unix())
        .bind(org)
        .bind(domain.as_str())
        .bind(check.next_check_at.map(Timestamp::unix))
        .bind(check.proof.map(ProofMethod::as_str))
        .execute(&self.pool)
        .await;
        match result {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if unique_violation(&e) => Ok(false),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn remove_org_admin(&self, org: &str, account: &AccountId) -> RepoResult<AdminRemoval> {
        // PostgreSQL: the organization's row is locked first, so two removals at once run one
        // after the other and the second sees the first (its sub-select reads a fresh
        // snapshot). SQLite runs one writer at a time; the single DELETE is atomic.
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        if matches!(self.engine, crate::Engine::Postgres) {
            sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(unexpected)?;
        }
        let removed = sqlx::query(
            "DELETE FROM org_admins WHERE org_id = $1 AND account_id = $2 AND EXISTS \
             (SELECT 1 FROM org_admins other WHERE other.org_id = $1 AND other.account_id <> $2)",
        )
        .bind(org)
        .bind(account.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?
        .rows_affected();
        let outcome = if removed == 1 {
            AdminRemoval::Removed
        } else {
            let still: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM org_admins WHERE org_id = $1 AND account_id = $2",
            )
            .bind(org)
            .bind(account.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(unexpected)?;
            if still.is_some() { AdminRemoval::LastAdmin } else { AdminRemoval::NotAnAdmin }
        };
        tx.commit().await.map_err(unexpected)?;
        Ok(outcome)
    }

    async fn remove_domain(&self, org: &str, domain: &Domain) -> RepoResult<bool> {
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        sqlx::query(
            "DELETE FROM saml_connection_domains WHERE domain = $2 AND connection_id IN \
             (SELECT id FROM saml_connections WHERE org_id = $1)",
        )
        .bind(org)
        .bind(domain.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unexpected)?;
        let removed = sqlx::query("DELETE FROM org_domains WHERE org_id = $1 AND domain = $2")
            .bind(org)
            .bind(domain.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unexpected)?
            .rows_affected();
        tx.commit().await.map_err(unexpected)?;
        Ok(removed == 1)
    }

    async fn accounts_on_domain(&self, domain: &str) -> RepoResult<u64> {
        // Domains are hostname labels only (no `%` or `_`), so the pattern matches literally.
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE email_normalized LIKE $1")
                .bind(format!("%@{}", domain.to_ascii_lowercase()))
                .fetch_one(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(to_u64(n))
    }

    async fn saml_connections_on_domain(&self, org: &str, domain: &str) -> RepoResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT c.name FROM saml_connections c JOIN saml_connection_domains d \
             ON d.connection_id = c.id WHERE c.org_id = $1 AND d.domain = $2 ORDER BY c.name",
        )
        .bind(org)
        .bind(domain)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)
    }

    async fn org_usage(&self, org: &str) -> RepoResult<OrgUsage> {
        let (admins, domains, bots, saml, policies): (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM org_admins WHERE org_id = $1), \
             (SELECT COUNT(*) FROM org_domains WHERE org_id = $1), \
             (SELECT COUNT(*) FROM accounts WHERE bot_org_id = $1), \
             (SELECT COUNT(*) FROM saml_connections WHERE org_id = $1), \
             (SELECT COUNT(*) FROM policies WHERE org_id = $1)",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await
        .map_err(unexpected)?;
        let verified: Vec<String> = sqlx::query_scalar(
            "SELECT domain FROM org_domains WHERE org_id = $1 AND status = 'verified'",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(unexpected)?;
        let mut managed = 0;
        for domain in &verified {
            managed += self.accounts_on_domain(domain).await?;
        }
        Ok(OrgUsage {
            admins: to_u64(admins),
            domains: to_u64(domains),
            managed_accounts: managed,
            bots: to_u64(bots),
            saml_connections: to_u64(saml),
            policies: to_u64(policies),
        })
    }

    async fn org_bots(&self, org: &str) -> RepoResult<Vec<AccountId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE bot_org_id = $1 ORDER BY id")
                .bind(org)
                .fetch_all(&self.pool)
                .await
                .map_err(unexpected)?;
        Ok(rows.into_iter().map(AccountId::from_stored).collect())
    }

    async fn delete_org(&self, org: &str) -> RepoResult<bool> {
        // Admins, domains, policies and SAML connections (with their domains) cascade; bots
        // keep their accounts with `bot_org_id` cleared (core deactivated them first).
        Ok(sqlx::query("DELETE FROM organizations WHERE id = $1").bind(org).run(&self.pool).await?
            == 1)
    }
}

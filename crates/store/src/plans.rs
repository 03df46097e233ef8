//! The plans of the hot statements: the very statements the repositories run (shared
//! constants and builders, not copies), explained by the engine with example values. A plan
//! that reads a whole table would make that path slow down as the installation grows; the
//! store's tests require none on either engine (`query_plans.rs`).

use sqlx::Row as _;

use crate::sql::accounts::search_statement;
use crate::sql::audit::audit_statement;
use crate::sql::{Bind, accounts, api_tokens, oidc, outbox, sessions, throttle, unexpected};
use crate::{Engine, SqlStore};
use latchkey_core::accounts::{AccountSearch, AccountStatus, ListKey, ListPosition, PageAt};
use latchkey_core::audit::AuditFilter;
use latchkey_core::ports::RepoError;

/// How one hot statement runs.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// Which path runs it.
    pub name: &'static str,
    /// The statement, as run.
    pub sql: String,
    /// The engine's plan, a line per step.
    pub plan: Vec<String>,
    /// The steps that read a whole table rather than an index range.
    pub whole_table_reads: Vec<String>,
}

/// A value to explain a statement with; `None` binds NULL of that type.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_owned()))
}

fn int(i: i64) -> Value {
    Value::Int(Some(i))
}

impl From<Bind> for Value {
    fn from(b: Bind) -> Self {
        match b {
            Bind::Text(t) => Self::Text(Some(t)),
            Bind::Int(i) => Self::Int(Some(i)),
        }
    }
}

struct Hot {
    name: &'static str,
    sql: String,
    values: Vec<Value>,
    /// Unfiltered and ordered by the table's own key with a limit: SQLite walks the table in
    /// key order (`SCAN t`, no sort) and stops at the limit, which is not a whole-table read.
    key_order_walk: bool,
}

fn hot(name: &'static str, sql: &str, values: Vec<Value>) -> Hot {
    Hot { name, sql: sql.to_owned(), values, key_order_walk: false }
}

fn search(name: &'static str, engine: Engine, search: &AccountSearch) -> Hot {
    let (sql, binds) = search_statement(engine, search);
    Hot { name, sql, values: binds.into_iter().map(Value::from).collect(), key_order_walk: false }
}

fn audit_page(name: &'static str, filter: &AuditFilter) -> Hot {
    let (sql, binds) = audit_statement(filter, 50);
    let key_order_walk = binds.len() == 1; // only the limit
    Hot { name, sql, values: binds.into_iter().map(Value::from).collect(), key_order_walk }
}

fn hot_statements(engine: Engine) -> Vec<Hot> {
    let newest = AuditFilter { newest_first: true, ..AuditFilter::default() };
    let mut statements = vec![
        hot(
            "session check (signed-in requests, SSO hop)",
            sessions::SESSION_BY_TOKEN,
            vec![text("hash")],
        ),
        hot("sessions of an account", sessions::SESSIONS_OF_ACCOUNT, vec![text("acc_x")]),
        hot(
            "login: the account behind an address",
            accounts::ACCOUNT_BY_EMAIL,
            vec![text("someone@example.com")],
        ),
        hot(
            "login: settling the throttle counters",
            throttle::SETTLE,
            vec![text("login:account:x"), text("login:ip:x")],
        ),
        hot("refresh-token grant", oidc::REFRESH_TOKEN_BY_HASH, vec![text("hash")]),
        hot(
            "revoked access tokens (every node, every second)",
            oidc::REVOKED_ACCESS_TOKENS,
            vec![int(1_700_000_000)],
        ),
        hot("third-party SSO hop: consent", oidc::CONSENT, vec![text("acc_x"), text("client")]),
        hot("single logout: a session's grants", oidc::GRANTS_OF_SESSION, vec![text("ses_x")]),
        hot(
            "account page: the grants of a person's sessions",
            &oidc::grants_of_sessions(3),
            vec![text("ses_x"), text("ses_y"), text("ses_z")],
        ),
        hot(
            "basic-auth verification of an API token",
            api_tokens::API_TOKEN_BY_HASH,
            vec![text("hash")],
        ),
        hot(
            "mail and logout delivery: leasing due items",
            outbox::lease_statement(engine),
            vec![int(1_700_000_120), int(1_700_000_000), text("mail"), int(20)],
        ),
        audit_page("audit page, newest first", &newest),
        audit_page(
            "audit page of one account",
            &AuditFilter { target_id: Some("acc_x".into()), ..newest.clone() },
        ),
        audit_page(
            "audit page of one organization",
            &AuditFilter { org_id: Some("org_x".into()), ..newest.clone() },
        ),
        audit_page(
            "audit page of one kind of event",
            &AuditFilter { event: Some("login.failed".into()), ..newest.clone() },
        ),
        audit_page(
            "audit page, older page",
            &AuditFilter { before: Some("1000000".into()), ..newest },
        ),
    ];
    statements.extend(console_searches(engine));
    statements
}

/// The site console's account list: by page, by prefix (both ways), by status.
fn console_searches(engine: Engine) -> Vec<Hot> {
    let first_page = AccountSearch { limit: 50, ..AccountSearch::default() };
    let next_page = ListPosition::created(1_700_000_000, "acc_x");
    let next_match =
        ListPosition { key: ListKey::Matched("alice@example.com".into()), id: "acc_x".into() };
    vec![
        search("console: accounts, first page", engine, &first_page),
        search(
            "console: accounts, next page",
            engine,
            &AccountSearch { page: PageAt::After(next_page.clone()), ..first_page.clone() },
        ),
        search(
            "console: accounts, previous page",
            engine,
            &AccountSearch { page: PageAt::Before(next_page), ..first_page.clone() },
        ),
        search(
            "console: accounts by prefix",
            engine,
            &AccountSearch { prefix: "ali".into(), ..first_page.clone() },
        ),
        search(
            "console: accounts by prefix, next page",
            engine,
            &AccountSearch {
                prefix: "ali".into(),
                page: PageAt::After(next_match.clone()),
                ..first_page.clone()
            },
        ),
        search(
            "console: accounts by prefix and status, previous page",
            engine,
            &AccountSearch {
                prefix: "ali".into(),
                status: Some(AccountStatus::Active),
                page: PageAt::Before(next_match),
                ..first_page.clone()
            },
        ),
        search(
            "console: accounts by status",
            engine,
            &AccountSearch { status: Some(AccountStatus::Deactivated), ..first_page },
        ),
    ]
}

/// A step of a plan that reads a whole table. SQLite: `SCAN t` without an index (a `SCAN …
/// USING INDEX` walks an index in order, which an `ORDER BY … LIMIT` stops early); PostgreSQL
/// (explained with sequential scans discouraged): `Seq Scan`.
fn reads_whole_table(engine: Engine, step: &str) -> bool {
    match engine {
        Engine::Sqlite => {
            let step = step.trim_start();
            step.starts_with("SCAN ") && !step.contains(" USING ")
        }
        Engine::Postgres => step.contains("Seq Scan"),
    }
}

impl SqlStore {
    /// Explains every hot statement (see the module's documentation).
    pub async fn hot_query_plans(&self) -> Result<Vec<QueryPlan>, RepoError> {
        let mut plans = Vec::new();
        for statement in hot_statements(self.engine) {
            let plan = self.explain(&statement).await?;
            let walk = statement.key_order_walk && !plan.iter().any(|s| s.contains("TEMP B-TREE"));
            // A subquery's rows (SQLite: `CO-ROUTINE x` or `MATERIALIZE x`, then `SCAN x`) are
            // what its own steps read, already checked; scanning them reads no table.
            let subqueries: Vec<&str> = plan
                .iter()
                .filter_map(|s| {
                    let s = s.trim_start();
                    s.strip_prefix("CO-ROUTINE ").or_else(|| s.strip_prefix("MATERIALIZE "))
                })
                .collect();
            let whole_table_reads = plan
                .iter()
                .filter(|s| !walk && reads_whole_table(self.engine, s))
                .filter(|s| {
                    let scanned = s.trim_start().trim_start_matches("SCAN ");
                    !subqueries.contains(&scanned)
                })
                .cloned()
                .collect();
            plans.push(QueryPlan {
                name: statement.name,
                sql: statement.sql,
                plan,
                whole_table_reads,
            });
        }
        Ok(plans)
    }

    async fn explain(&self, statement: &Hot) -> Result<Vec<String>, RepoError> {
        let prefix = match self.engine {
            Engine::Sqlite => "EXPLAIN QUERY PLAN ",
            Engine::Postgres => "EXPLAIN ",
        };
        let sql = format!("{prefix}{}", statement.sql);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in &statement.values {
            query = match value {
                Value::Text(t) => query.bind(t.clone()),
                Value::Int(i) => query.bind(*i),
            };
        }
        let mut tx = self.pool.begin().await.map_err(unexpected)?;
        if self.engine == Engine::Postgres {
            // Tables in a test are tiny, where a sequential scan is the cheaper plan: with it
            // discouraged, a Seq Scan left in the plan means no index could serve.
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .map_err(unexpected)?;
        }
        let rows = query.fetch_all(&mut *tx).await.map_err(unexpected)?;
        tx.rollback().await.map_err(unexpected)?;
        rows.iter()
            .map(|row| match self.engine {
                Engine::Sqlite => row.try_get::<String, _>(3),
                Engine::Postgres => row.try_get::<String, _>(0),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(unexpected)
    }
}

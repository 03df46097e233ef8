//! Latchkey's storage: one set of SQL statements serving SQLite (the embedded default) and
//! PostgreSQL (multi-node), through sqlx's `Any` driver. Callers never branch on the engine;
//! only the DDL in `migrations/{sqlite,postgres}` differs (integer widths).
//!
//! Every repository port of `latchkey-core` is implemented on [`SqlStore`], one module per
//! aggregate under `sql/`. Times are stored as integer Unix seconds.

mod backup;
mod plans;
mod sql;

pub use backup::{BackupError, BackupSummary, inspect_backup};
pub use plans::QueryPlan;

use std::str::FromStr;
use std::time::Duration;

use latchkey_core::ports::RepoError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection as _, Executor as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme {0:?} (use sqlite:// or postgres://)")]
    UnsupportedScheme(String),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// What [`SqlStore::migrate`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The newest migration this binary carries.
    pub newest_known: i64,
    /// The newest migration in the database, when a newer release applied it.
    pub newer_schema: Option<i64>,
}

/// A PostgreSQL connection idle for longer than this is checked before it is handed out.
const PING_IDLE_AFTER: Duration = Duration::from_secs(5);

/// The pool's settings for `engine`. sqlx tests every connection on its way back to the pool
/// (a round trip); by default it tests it again on the way out, which doubled the round trips
/// of every statement on a busy server. An embedded SQLite connection cannot go stale, so it
/// is never tested on the way out; a PostgreSQL one is when it sat idle long enough for the
/// server, a proxy or a restart to have dropped it (a connection that breaks under use fails
/// its test on release and is closed then).
fn pool_options(engine: Engine, options: &StoreOptions) -> AnyPoolOptions {
    let max = match engine {
        // One writer at a time anyway; a few readers alongside it is plenty.
        Engine::Sqlite => options.max_connections.min(8),
        Engine::Postgres => options.max_connections,
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false);
    match engine {
        Engine::Sqlite => pool,
        Engine::Postgres => pool.before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IDLE_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        }),
    }
}

/// The database, shared by every repository.
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    engine: Engine,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Opens a pool. For SQLite the file is created if missing and every connection runs in
    /// WAL mode with foreign keys on and a busy timeout, so concurrent writers wait rather
    /// than fail.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let connect_options =
            AnyConnectOptions::from_str(&url).map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        let pool = pool_options(engine, options)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                             PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Self { pool, engine })
    }

    /// Like [`connect`](Self::connect) but does not open a connection until first use.
    pub fn connect_lazy(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        let pool = pool_options(engine, options)
            .connect_lazy(url)
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        Ok(Self { pool, engine })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies the migrations this binary knows that the database lacks.
    ///
    /// A database already migrated by a newer release is accepted (that release's migrations
    /// are left alone, and [`Migrated::newer_schema`] says so): during a rolling upgrade the
    /// old nodes keep running — and may restart — against the schema the first new node
    /// expanded. Migrations only ever expand (add tables, columns, indexes) until the release
    /// after the one that stopped using something, so the release before a schema can run
    /// on it; `docs/operations.md` ("Rolling upgrades") has the rule and
    /// `migrations_only_expand` in the store's tests holds every migration to it.
    pub async fn migrate(&self) -> Result<Migrated, StoreError> {
        let known = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let newest_known = known.iter().map(|m| m.version).max().unwrap_or_default();
        let newer_schema = self.newest_applied_migration().await.filter(|v| *v > newest_known);
        if newer_schema.is_some() {
            let mut tolerant =
                sqlx::migrate::Migrator::with_migrations(known.iter().cloned().collect());
            tolerant.set_ignore_missing(true);
            tolerant.run(&self.pool).await.map_err(StoreError::Migrate)?;
        } else {
            known.run(&self.pool).await.map_err(StoreError::Migrate)?;
        }
        Ok(Migrated { newest_known, newer_schema })
    }

    /// The newest migration recorded in the database; `None` for a new database.
    async fn newest_applied_migration(&self) -> Option<i64> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await
                .ok()?;
        row.0
    }

    /// A round trip to the database, bounded by `timeout` whatever the pool is doing.
    pub async fn ping(&self, timeout: Duration) -> Result<(), RepoError> {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(timeout, query).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(sql::unexpected(e)),
            Err(_) => Err(RepoError::unavailable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "database did not answer in time",
            ))),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn engine_of(url: &str) -> Result<Engine, StoreError> {
    let scheme = url.split_once(':').map_or(url, |(s, _)| s);
    match scheme {
        "sqlite" => Ok(Engine::Sqlite),
        "postgres" | "postgresql" => Ok(Engine::Postgres),
        other => Err(StoreError::UnsupportedScheme(other.to_owned())),
    }
}

//! Backups of the embedded database: a consistent copy taken while the server runs, and the
//! checks a copy must pass before it is restored. PostgreSQL deployments use `pg_dump`.

use std::path::Path;

use sqlx::Row as _;
use sqlx::any::AnyPoolOptions;

use crate::{Engine, SQLITE_MIGRATIONS, SqlStore};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "this database is PostgreSQL: back it up with pg_dump and restore it with pg_restore (docs/operations.md)"
    )]
    Postgres,
    #[error("{0} is not a SQLite database")]
    NotADatabase(String),
    #[error("{0} is damaged: {1}")]
    Damaged(String, String),
    #[error("{0} is a SQLite database, but not a Latchkey one")]
    NotLatchkey(String),
    #[error(
        "{0} was made by a newer Latchkey (schema {1}, this one knows up to {2}): restore it with that version"
    )]
    Newer(String, i64, i64),
    #[error("the backup failed: {0}")]
    Failed(#[source] sqlx::Error),
}

/// What a backup file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The newest migration applied to it.
    pub schema: i64,
    pub accounts: i64,
}

impl SqlStore {
    /// Writes a consistent snapshot of the SQLite database to `path` (`VACUUM INTO`: readers
    /// and writers carry on; the copy holds every committed write, including those still in
    /// the WAL). `path` must not exist.
    pub async fn backup_to(&self, path: &Path) -> Result<(), BackupError> {
        if self.engine == Engine::Postgres {
            return Err(BackupError::Postgres);
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await
            .map_err(BackupError::Failed)?;
        Ok(())
    }
}

/// Opens `path` read-only and checks that it is a whole Latchkey database this version can
/// run on: SQLite's integrity check passes, it has Latchkey's schema, and no migration newer
/// than this binary's. Nothing is written to it.
pub async fn inspect_backup(path: &Path) -> Result<BackupSummary, BackupError> {
    sqlx::any::install_default_drivers();
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(BackupError::NotADatabase(shown));
    }
    let url = format!("sqlite://{shown}?mode=ro&immutable=1");
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|_| BackupError::NotADatabase(shown.clone()))?;
    let summary = inspect(&pool, &shown).await;
    pool.close().await;
    summary
}

async fn inspect(pool: &sqlx::AnyPool, shown: &str) -> Result<BackupSummary, BackupError> {
    let not_a_database = |_| BackupError::NotADatabase(shown.to_owned());
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .map_err(not_a_database)?
        .try_get(0)
        .map_err(not_a_database)?;
    if check != "ok" {
        return Err(BackupError::Damaged(shown.to_owned(), check));
    }
    let not_latchkey = |_| BackupError::NotLatchkey(shown.to_owned());
    let schema: i64 =
        sqlx::query("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(pool)
            .await
            .map_err(not_latchkey)?
            .try_get(0)
            .map_err(not_latchkey)?;
    let accounts: i64 = sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(pool)
        .await
        .map_err(not_latchkey)?
        .try_get(0)
        .map_err(not_latchkey)?;
    let known = SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or_default();
    if schema > known {
        return Err(BackupError::Newer(shown.to_owned(), schema, known));
    }
    if schema == 0 {
        return Err(BackupError::NotLatchkey(shown.to_owned()));
    }
    Ok(BackupSummary { schema, accounts })
}

//! The schema across releases (issue 17, rolling upgrades): a node of the release before runs
//! on a database a newer release has migrated, and migrations only expand — anything that
//! drops or rewrites what an older node reads must be a declared contract step.

use std::path::{Path, PathBuf};

use latchkey_core::accounts::Email;
use latchkey_core::ports::AccountRepo as _;
use latchkey_store::{SqlStore, StoreOptions};
use latchkey_testkit::FreshDatabase;

/// Migrations that removed or rewrote something, each with why no running release still read
/// it when it shipped. A new entry here needs the same reasoning in its migration's comment.
const CONTRACT_STEPS: &[(&str, &str)] = &[(
    "0004_consent_keys_admin_codes.sql",
    "authorization codes became sealed envelopes in the same release; no release after 0003 \
     reads authorization_codes, and 0003 was never run beside 0004 (before the first release)",
)];

/// Statements that take away what an older node may still read or write.
const DESTRUCTIVE: &[&str] = &[
    "DROP TABLE",
    "DROP COLUMN",
    "RENAME",
    "ALTER COLUMN",
    "SET NOT NULL",
    "ALTER TYPE",
    "DROP VIEW",
];

fn migrations(engine: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations").join(engine);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The SQL of a migration without its comments, upper-cased and on one line.
fn statements(sql: &str) -> String {
    sql.lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[test]
fn migrations_only_expand() {
    let mut undeclared = Vec::new();
    for engine in ["sqlite", "postgres"] {
        for (name, sql) in migrations(engine) {
            let sql = statements(&sql);
            let found: Vec<_> = DESTRUCTIVE.iter().filter(|d| sql.contains(*d)).collect();
            if !found.is_empty() && !CONTRACT_STEPS.iter().any(|(n, _)| *n == name) {
                undeclared.push(format!("{engine}/{name}: {found:?}"));
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "migrations that take something away without being a declared contract step \
         (docs/operations.md, \"Rolling upgrades\"): {undeclared:#?}"
    );
}

#[test]
fn both_engines_have_the_same_migrations() {
    let names = |engine| migrations(engine).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn the_detector_sees_destructive_statements() {
    let sql = "-- DROP TABLE in a comment is fine\nALTER TABLE accounts\n  drop   column name;";
    let sql = statements(sql);
    let found: Vec<_> = DESTRUCTIVE.iter().filter(|d| sql.contains(*d)).collect();
    assert_eq!(found, [&"DROP COLUMN"]);
}

async fn a_newer_release_migrated_it(url: &str) {
    let store = SqlStore::connect(url, &StoreOptions::default()).await.unwrap();
    let first = store.migrate().await.unwrap();
    assert_eq!(first.newer_schema, None);

    // A newer release applied its migration (and added a column this release knows nothing of).
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query("ALTER TABLE accounts ADD COLUMN from_the_future TEXT")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer release', TRUE, $2, 1)",
    )
    .bind(first.newest_known + 1)
    .bind(vec![0_u8; 48])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    // This release restarts on it: it opens, says so, and works.
    let store = SqlStore::connect(url, &StoreOptions::default()).await.unwrap();
    let again = store.migrate().await.unwrap();
    assert_eq!(again.newer_schema, Some(first.newest_known + 1));
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert!(store.find_by_email(&nobody).await.unwrap().is_none());
}

#[tokio::test]
async fn a_database_a_newer_release_migrated_still_opens_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_newer_release_migrated_it(&format!("sqlite://{}", dir.path().join("s.db").display())).await;
}

#[tokio::test]
async fn a_database_a_newer_release_migrated_still_opens_postgres() {
    let Some(admin) = latchkey_testkit::postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let db = FreshDatabase::create(&admin).await;
    a_newer_release_migrated_it(&db.url).await;
}

//! A fresh PostgreSQL database per test, dropped when the test ends.

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// `LATCHKEY_TEST_POSTGRES_URL`, when PostgreSQL tests are enabled.
pub fn postgres_url() -> Option<String> {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty())
}

pub struct FreshDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshDatabase {
    pub async fn create(admin_url: &str) -> Self {
        let mut random = [0u8; 8];
        latchkey_core::ports::Rng::fill(&latchkey::OsRng, &mut random);
        let mut name = String::from("lk_test_");
        for b in random {
            use std::fmt::Write as _;
            let _ = write!(name, "{b:02x}");
        }
        let mut conn = PgConnection::connect(admin_url).await.expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(admin_url).expect("LATCHKEY_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Self { admin_url: admin_url.to_owned(), name, url: url.to_string() }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

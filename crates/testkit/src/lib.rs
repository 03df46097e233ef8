//! Test harness for Latchkey: boots exactly what `latchkey serve` boots, on an ephemeral port
//! with a temporary data directory and a fresh database (SQLite always; PostgreSQL when
//! `LATCHKEY_TEST_POSTGRES_URL` is set), drives it over real HTTP with a cookie jar, and reads
//! the mail it sends. Dev-only; never a dependency of the product.

#![allow(clippy::missing_panics_doc, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod clock;
mod cluster;
mod dns_stub;
mod https_stub;
mod mail;
mod postgres;
mod server;
mod smtp_sink;
mod tcp_toggle;

pub use browser::{Browser, Page, hidden_input};
pub use clock::FakeClock;
pub use cluster::Cluster;
pub use dns_stub::DnsStub;
pub use https_stub::{HttpsStub, Reply};
pub use mail::{Mail, read_outbox};
pub use postgres::{FreshDatabase, postgres_url};
pub use server::{Engine, TestServer};
pub use smtp_sink::SmtpSink;
pub use tcp_toggle::TcpToggle;

/// Polls `check` until it yields a value or `deadline` passes. Tests never sleep to wait.
pub async fn eventually<T, F, Fut>(what: &str, deadline: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

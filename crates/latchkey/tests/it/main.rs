//! The one integration-test binary (each extra binary costs a full link). One module per
//! feature; every scenario that touches storage runs on SQLite and, when
//! `LATCHKEY_TEST_POSTGRES_URL` is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::too_many_lines)]

/// Declares `name::sqlite` and `name::postgres` tests from one async body taking a
/// `TestServer`. The PostgreSQL variant passes trivially (printing why) when the database
/// is not configured; `.ci/run` always configures it.
macro_rules! on_both_engines {
    ($(#[$meta:meta])* async fn $name:ident($server:ident : TestServer) $body:block) => {
        on_both_engines! { async fn $name($server: TestServer, with |_| {}) $body }
    };
    ($(#[$meta:meta])* async fn $name:ident($server:ident : TestServer, with $tweak:expr) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($server: latchkey_testkit::TestServer) $body

            #[tokio::test]
            async fn sqlite() {
                let server = latchkey_testkit::TestServer::spawn_with(latchkey_testkit::Engine::Sqlite, $tweak)
                    .await
                    .expect("sqlite server");
                run(server).await;
            }

            #[tokio::test]
            async fn postgres() {
                match latchkey_testkit::TestServer::spawn_with(latchkey_testkit::Engine::Postgres, $tweak).await {
                    Some(server) => run(server).await,
                    None => eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run"),
                }
            }
        }
    };
    // The same with a local DNS server (`DnsStub`) that the server looks domains up in.
    ($(#[$meta:meta])* async fn $name:ident($server:ident : TestServer, $dns:ident : DnsStub) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($server: latchkey_testkit::TestServer, $dns: latchkey_testkit::DnsStub) $body

            async fn spawn(
                engine: latchkey_testkit::Engine,
            ) -> Option<(latchkey_testkit::TestServer, latchkey_testkit::DnsStub)> {
                let dns = latchkey_testkit::DnsStub::start().await;
                let addr = dns.addr;
                let server =
                    latchkey_testkit::TestServer::spawn_with(engine, move |c| c.dns_server = Some(addr)).await?;
                Some((server, dns))
            }

            #[tokio::test]
            async fn sqlite() {
                let (server, dns) = spawn(latchkey_testkit::Engine::Sqlite).await.expect("sqlite server");
                run(server, dns).await;
            }

            #[tokio::test]
            async fn postgres() {
                match spawn(latchkey_testkit::Engine::Postgres).await {
                    Some((server, dns)) => run(server, dns).await,
                    None => eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run"),
                }
            }
        }
    };
}

mod accounts;
mod admin_api;
mod api_tokens;
mod audit;
mod branding;
mod cli;
mod closure;
mod cluster;
mod console;
mod console_safety;
mod demo;
mod email_change;
mod faults;
mod hardening;
mod hostile_input;
mod legacy;
mod mail_smtp;
mod oidc;
mod operations;
mod organizations;
mod password_reset;
mod policies;
mod products;
mod saml;
mod schema;
mod sessions;
mod signup;
mod single_logout;
mod store_contract;
mod third_party;
mod throttling;
mod two_factor;

use latchkey_testkit::{Browser, TestServer};

pub const PASSWORD: &str = "correct horse battery staple";

/// Signs up, verifies through the emailed link, and returns the signed-in browser.
pub async fn verified_user(server: &TestServer, email: &str) -> Browser {
    let browser = server.browser();
    let page = browser
        .submit(
            "/signup",
            "/signup",
            &[("email", email), ("name", "Test Person"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/signup/check-email"));
    let mail = server.mail_to(email, 1).await;
    let token = mail.token_for("/verify-email");
    let page = browser
        .submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    browser
}

/// The audit log's events of one kind, as a site admin sees them, oldest first.
pub async fn audit_events(
    server: &TestServer,
    event: &str,
) -> Vec<latchkey_core::audit::AuditEvent> {
    use latchkey_core::audit::{AuditFilter, AuditScope};
    let filter = AuditFilter { event: Some(event.to_owned()), ..AuditFilter::default() };
    let scope = AuditScope::Site(server.site_admin());
    server.core.audit().audit_events(&scope, &filter, 1000).await.unwrap()
}

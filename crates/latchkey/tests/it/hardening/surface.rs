//! The server's outer surface: answers that must not differ by whether an address has an
//! account, slow clients, foreign host names, files others could read, names that spoof, and
//! storage failures that must not pass for a verdict.

use std::time::Duration;

use latchkey_testkit::TestServer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::oidc::{GrantType, SigningAlg, http, register, token_request};
use crate::{PASSWORD, verified_user};

/// Queued jobs of the kind that does the address-dependent work in the background.
async fn queued_requests(server: &TestServer) -> u64 {
    server
        .core
        .kernel()
        .outbox()
        .counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|(kind, _, _)| *kind == "mail_request")
        .map(|(_, _, n)| n)
        .sum()
}

async fn audit_rows(server: &TestServer) -> usize {
    use latchkey_core::audit::{AuditFilter, AuditScope};
    let scope = AuditScope::Site(server.site_admin());
    server.core.audit().audit_events(&scope, &AuditFilter::default(), 10_000).await.unwrap().len()
}

on_both_engines! {
    async fn known_and_unknown_addresses_cost_the_same(server: TestServer) {
        let _known = verified_user(&server, "known@example.com").await;
        // Forgot password and resend: one queued job either way, nothing else written.
        for (form, email) in [
            ("/forgot-password", "known@example.com"),
            ("/forgot-password", "nobody@example.com"),
            ("/verify-email/resend", "known@example.com"),
            ("/verify-email/resend", "nobody@example.com"),
        ] {
            let before = (queued_requests(&server).await, audit_rows(&server).await);
            let page = server.browser().submit(form, form, &[("email", email)]).await;
            assert!(page.status < 400, "{form}: {}", page.body);
            let after = (queued_requests(&server).await, audit_rows(&server).await);
            assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0), "{form} for {email}");
        }
        // Sign-up: one job and one audit event, whether the address is new or taken.
        for email in ["fresh@example.com", "known@example.com"] {
            let before = (queued_requests(&server).await, audit_rows(&server).await);
            let page = server
                .browser()
                .submit("/signup", "/signup", &[("email", email), ("name", "Someone"), ("password", PASSWORD)])
                .await;
            assert_eq!(page.status, 303, "{}", page.body);
            let after = (queued_requests(&server).await, audit_rows(&server).await);
            assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "sign-up as {email}");
        }
        // The background job still does each one's work.
        server.mail_to("known@example.com", 3).await;
        let mails = server.mails_to("known@example.com");
        assert!(mails.iter().any(|m| m.decoded.contains("/reset-password?token=")), "a reset link");
        assert!(mails.iter().any(|m| m.subject.contains("already have an account")), "the owner is told");
        server.mail_to("fresh@example.com", 1).await.token_for("/verify-email");
        assert!(server.mails_to("nobody@example.com").is_empty());
    }
}

on_both_engines! {
    async fn slow_and_greedy_clients_do_not_hold_the_server(server: TestServer, with |c: &mut latchkey::Config| {
        c.server.header_read_timeout = Duration::from_secs(1);
        c.server.body_read_timeout = Duration::from_secs(1);
        c.server.max_connections = 3;
    }) {
        let addr = server.url.trim_start_matches("http://").to_owned();
        // Half a request head: the connection is closed once the header timeout passes.
        let mut half = TcpStream::connect(&addr).await.unwrap();
        half.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), half.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "a half-sent request head still holds its connection");

        // A body that stops arriving: the request fails and the connection goes.
        let mut slow = TcpStream::connect(&addr).await.unwrap();
        slow.write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type",
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        let ended = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
        assert!(ended.is_ok(), "a stalled body still holds its connection");
        let answer = String::from_utf8_lossy(&buf);
        assert!(answer.is_empty() || !answer.starts_with("HTTP/1.1 200"), "{answer}");

        // The connection cap: with every slot held, a new request waits for a free one.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(&addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let client = reqwest::Client::builder().timeout(Duration::from_millis(400)).build().unwrap();
        let waiting = client.get(format!("{}/healthz", server.url)).send().await;
        assert!(waiting.is_err(), "served beyond the connection cap");
        drop(held);
        let served = http().get(format!("{}/healthz", server.url)).send().await.unwrap();
        assert_eq!(served.status(), 200);
    }
}

on_both_engines! {
    async fn requests_for_a_foreign_host_name_are_refused(server: TestServer) {
        let ask = |host: &'static str, path: &'static str| {
            let url = format!("{}{path}", server.url);
            async move { http().get(url).header("host", host).send().await.unwrap().status().as_u16() }
        };
        // A DNS-rebinding page reaches us under its own name.
        assert_eq!(ask("attacker.example", "/login").await, 421);
        assert_eq!(ask("attacker.example:8080", "/.well-known/openid-configuration").await, 421);
        assert_eq!(ask("127.0.0.1.attacker.example", "/account").await, 421);
        // Our own names, IP literals and the health probes pass.
        assert_eq!(ask("127.0.0.1", "/login").await, 200);
        assert_eq!(ask("localhost:9999", "/login").await, 200);
        assert_eq!(ask("attacker.example", "/healthz").await, 200);
    }
}

on_both_engines! {
    async fn names_that_hide_or_reorder_text_are_refused(server: TestServer) {
        let browser = server.browser();
        let page = browser
            .submit("/signup", "/signup", &[("email", "rtl@example.com"), ("name", "Admin\u{202E}nimdA"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 400, "{}", page.body);
        assert!(page.body.contains("invisible formatting characters"), "a clear reason: {}", page.body);
        assert!(server.mails_to("rtl@example.com").is_empty(), "nothing changed");

        let person = verified_user(&server, "named@example.com").await;
        for hostile in ["Ada\u{200B}Lovelace", "\u{2066}Ada\u{2069}", "Ada\u{FEFF}"] {
            let page = person.submit("/account", "/account/name", &[("name", hostile)]).await;
            assert_eq!(page.status, 400, "{hostile:?}: {}", page.body);
        }
        assert!(person.get("/account").await.body.contains("Test Person"), "the name is unchanged");

        let site = server.site_admin();
        let org = server
            .core.orgs()
            .create_organization(&site, "Acme\u{202E}", &latchkey_core::accounts::Email::parse("named@example.com").unwrap())
            .await;
        assert!(org.is_err(), "organization names too");
    }
}

on_both_engines! {
    async fn a_storage_failure_is_an_error_not_a_verdict(server: TestServer) {
        let service = register(&server, "Bot", false, SigningAlg::ES256, vec![GrantType::ClientCredentials]).await;
        let (status, body) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap().to_owned();

        // The key store goes away (the verified-key cache expires after a minute).
        sqlx::any::install_default_drivers();
        let db = sqlx::AnyPool::connect(&server.config.database_url).await.unwrap();
        sqlx::query("ALTER TABLE signing_keys RENAME TO signing_keys_away").execute(&db).await.unwrap();
        server.clock.advance(61);
        let answer = http()
            .post(format!("{}/oauth/introspect", server.url))
            .basic_auth(&service.id, service.secret.as_ref())
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 500, "a broken key store is not an invalid token");
        let answer = http().get(format!("{}/oauth/userinfo", server.url)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(answer.status(), 500);

        sqlx::query("ALTER TABLE signing_keys_away RENAME TO signing_keys").execute(&db).await.unwrap();
        let answer: serde_json::Value = http()
            .post(format!("{}/oauth/introspect", server.url))
            .basic_auth(&service.id, service.secret.as_ref())
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["active"], true, "{answer}");
    }
}

#[cfg(unix)]
mod file_modes {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_data_folder_database_and_outbox_are_private() {
        let server = TestServer::spawn_with(latchkey_testkit::Engine::Sqlite, |c| {
            c.data_dir = c.data_dir.join("private");
            c.database_url = format!("sqlite://{}", c.data_dir.join("latchkey.db").display());
        })
        .await
        .unwrap();
        let dir = server.config.data_dir.clone();
        assert_eq!(mode(&dir), 0o700, "the data folder");
        assert_eq!(mode(&dir.join("latchkey.db")), 0o600, "the database");
        assert_eq!(mode(&dir.join("master.key")), 0o600, "the master key");
        let page = server
            .browser()
            .submit("/forgot-password", "/forgot-password", &[("email", "x@example.com")])
            .await;
        assert!(page.status < 400);
        verified_user_in(&server).await;
        let outbox = server.config.outbox_dir();
        let mail =
            latchkey_testkit::eventually("a mail in the outbox", Duration::from_secs(10), || {
                let found = std::fs::read_dir(&outbox)
                    .ok()
                    .and_then(|d| {
                        d.flatten().find(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    })
                    .map(|e| e.path());
                async move { found }
            })
            .await;
        assert_eq!(mode(&outbox), 0o700, "the outbox folder");
        assert_eq!(mode(&mail), 0o600, "a mail with a live link");
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let m = mode(&entry.path());
            assert_eq!(m & 0o077, 0, "{} is {m:o}", entry.path().display());
        }
    }

    async fn verified_user_in(server: &TestServer) {
        let page = server
            .browser()
            .submit(
                "/signup",
                "/signup",
                &[("email", "files@example.com"), ("name", "Files"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, 303);
    }
}

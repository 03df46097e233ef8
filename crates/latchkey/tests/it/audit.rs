//! The audit log: security events recorded with who, whom, where from and the outcome; an
//! organization's admins see only their organization's events; exports stream every page.

use latchkey_core::accounts::Email;
use latchkey_core::audit::AuditEvent;
use latchkey_core::ports::AuditRepo as _;
use latchkey_store::{SqlStore, StoreOptions};
use latchkey_testkit::TestServer;

use super::oidc::http;
use super::{PASSWORD, verified_user};

async fn api(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    http().get(format!("{}/api/v1{path}", server.url)).bearer_auth(token).send().await.unwrap()
}

on_both_engines! {
    async fn security_events_are_recorded_scoped_and_exported(server: TestServer, dns: DnsStub) {
        let site = server.site_admin();
        // The organization and its domain first, so the person's events belong to it.
        let boss_browser = verified_user(&server, "boss@umbrella.example").await;
        let org = server
            .core.orgs()
            .create_organization(&site, "Umbrella", &Email::parse("boss@umbrella.example").unwrap())
            .await
            .unwrap();
        let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
        let domain = server.core.orgs().add_domain(&admin, "umbrella.example").await.unwrap();
        dns.set_txt("umbrella.example", &[&domain.txt_record()]);
        server.core.orgs().verify_domain(&admin, "umbrella.example").await.unwrap();

        let _ = verified_user(&server, "alice@umbrella.example").await;
        let _ = verified_user(&server, "outsider@elsewhere.example").await;
        let attacker = server.browser();
        let page = attacker
            .submit(
                "/login",
                "/login",
                &[("email", "alice@umbrella.example"), ("password", "not the password")],
            )
            .await;
        assert_eq!(page.status, 401);
        let alice = server.browser();
        alice.log_in("alice@umbrella.example", PASSWORD).await;
        let page = alice.submit("/account", "/logout", &[]).await;
        assert_eq!(page.status, 303);
        server.browser().log_in("outsider@elsewhere.example", PASSWORD).await;

        // The site's view, through the admin API.
        let operator = server
            .core.accounts()
            .create_account(
                &site,
                latchkey_core::flows::CreateAccountRequest {
                    email: Email::parse("ops@site.example").unwrap(),
                    name: latchkey_core::accounts::DisplayName::parse("Ops").unwrap(),
                    password: None,
                    email_verified: true,
                    site_admin: true,
                },
            )
            .await
            .unwrap();
        let token =
            server.core.accounts().create_admin_token(&site, &operator.email, "audit").await.unwrap().1;
        let answer: serde_json::Value =
            api(&server, &token, "/audit?person=alice@umbrella.example")
                .await
                .json()
                .await
                .unwrap();
        let events: Vec<AuditEvent> = serde_json::from_value(answer["events"].clone()).unwrap();
        let kinds: Vec<(&str, &str)> =
            events.iter().map(|e| (e.event.as_str(), e.outcome.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("account.created", "success"),
                ("email.verified", "success"),
                ("login", "failure"),
                ("login", "success"),
                ("logout", "success")
            ],
            "{answer}"
        );
        assert_eq!(
            (events[0].actor.as_str(), events[0].ip.as_str()),
            ("alice@umbrella.example", "127.0.0.1")
        );
        let failure = &events[2];
        assert_eq!((failure.actor.as_str(), failure.ip.as_str()), ("anonymous", "127.0.0.1"));
        assert!(failure.user_agent.contains("latchkey-testkit"));
        assert_eq!(failure.org_id.as_deref(), Some(org.id.as_str()));
        assert_eq!(failure.details["method"], "password");
        let all: serde_json::Value =
            api(&server, &token, "/audit?limit=1000").await.json().await.unwrap();
        let all = all["events"].as_array().unwrap();
        assert!(all.iter().any(|e| e["event"] == "domain.verified"));
        assert!(all.iter().any(|e| e["target"] == "outsider@elsewhere.example"));
        for bad in ["/audit?from=yesterday", "/audit?after=x'--", "/audit?person=not-an-email"] {
            assert_eq!(api(&server, &token, bad).await.status(), 400, "{bad}");
        }

        // The site console's view: everything, filterable; nobody else's.
        let root = crate::console::sign_in_as_site_admin(&server).await;
        let site_log = root.get("/admin/audit").await;
        assert_eq!(site_log.status, 200);
        assert!(
            site_log.body.contains("outsider@elsewhere.example")
                && site_log.body.contains("alice@umbrella.example")
        );
        let logins = root.get("/admin/audit?event=logout").await;
        assert!(
            logins.body.contains("alice@umbrella.example")
                && !logins.body.contains("outsider@elsewhere.example")
        );
        let export = root.get("/admin/audit/export?event=logout&format=jsonl").await;
        assert_eq!((export.status, export.body.lines().count()), (200, 1), "{}", export.body);
        assert_eq!(root.get("/admin/audit?from=yesterday").await.status, 400);
        assert_eq!(
            boss_browser.get("/admin/audit").await.status,
            403,
            "an org admin is not a site admin"
        );

        // The organization's view: its people only.
        let console = boss_browser.get(&format!("/admin/org/{}/audit", org.id)).await;
        assert_eq!(console.status, 200);
        assert!(console.body.contains("alice@umbrella.example"));
        assert!(
            !console.body.contains("outsider@elsewhere.example"),
            "another organization's person"
        );
        let filtered = boss_browser.get(&format!("/admin/org/{}/audit?event=logout", org.id)).await;
        assert!(filtered.body.contains("logout") && !filtered.body.contains(">login<"));

        // Exports stream every page: 1,200 more events, written straight into the log.
        let store =
            SqlStore::connect(&server.config.database_url, &StoreOptions::default()).await.unwrap();
        for n in 0..1200 {
            store
                .append(&AuditEvent {
                    id: String::new(),
                    at: 1_800_000_000 + n,
                    event: "synthetic".into(),
                    outcome: "success".into(),
                    actor_id: None,
                    actor: "system".into(),
                    target_id: None,
                    target: format!("=cmd|{n}"),
                    org_id: Some(org.id.clone()),
                    ip: String::new(),
                    user_agent: String::new(),
                    details: serde_json::json!({ "n": n }),
                })
                .await
                .unwrap();
        }
        let jsonl = boss_browser
            .get(&format!("/admin/org/{}/audit/export?event=synthetic&format=jsonl", org.id))
            .await;
        assert_eq!(jsonl.status, 200);
        let lines: Vec<&str> = jsonl.body.lines().collect();
        assert_eq!(lines.len(), 1200, "three pages, streamed");
        assert!(serde_json::from_str::<AuditEvent>(lines[1199]).is_ok());
        let csv = api(&server, &token, "/audit/export?event=synthetic&format=csv").await;
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert_eq!(csv.lines().count(), 1201, "header and rows");
        assert!(csv.lines().nth(1).unwrap().contains(",'=cmd|0,"), "formulas defused");
        let other = server
            .core.orgs()
            .create_organization(
                &site,
                "Other",
                &Email::parse("outsider@elsewhere.example").unwrap(),
            )
            .await
            .unwrap();
        let outsider = server.browser();
        outsider.log_in("outsider@elsewhere.example", PASSWORD).await;
        let theirs =
            outsider.get(&format!("/admin/org/{}/audit/export?event=synthetic", other.id)).await;
        assert_eq!(theirs.body.lines().count(), 0, "nothing of another organization");
        assert_eq!(outsider.get(&format!("/admin/org/{}/audit/export", org.id)).await.status, 404);
        store.close().await;
    }
}

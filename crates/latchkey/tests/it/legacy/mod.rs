//! Upgrading products' own users: the import (idempotent, line errors, dry run), the upgrade at
//! sign-in with each kind of legacy hash (same password, rehashed, linked, verification sent),
//! rollout states, and two products' records merging into one account.

use latchkey_core::accounts::Email;
use latchkey_core::legacy::{RawLegacyRecord, Rollout};
use latchkey_testkit::TestServer;

mod bots;
mod services;
mod surfaces;

use super::api_tokens::product;
use super::audit_events;

#[derive(serde::Deserialize)]
struct Vector {
    format: String,
    password: String,
    hash: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!("../../../../core/src/credentials/legacy/legacy_hashes.json"))
        .unwrap()
}

fn raw(id: &str, email: &str, hash: &str) -> RawLegacyRecord {
    RawLegacyRecord {
        legacy_id: Some(id.into()),
        email: Some(email.into()),
        name: Some(format!("Legacy {id}")),
        password_hash: Some(hash.into()),
        ..RawLegacyRecord::default()
    }
}

async fn import(
    server: &TestServer,
    client: &str,
    lines: Vec<RawLegacyRecord>,
    dry_run: bool,
) -> latchkey_core::legacy::ImportReport {
    let admin = server.site_admin();
    let legacy = server.core.legacy();
    legacy.begin_import(&admin, client, dry_run).await.unwrap();
    let numbered = lines.into_iter().enumerate().map(|(i, r)| (i as u64 + 1, r)).collect();
    legacy.import_batch(&admin, client, numbered, dry_run).await.unwrap()
}

async fn rollout(server: &TestServer, client: &str, state: Rollout) {
    server.core.legacy().set_rollout(&server.site_admin(), client, state).await.unwrap();
}

async fn log_in(server: &TestServer, email: &str, password: &str) -> latchkey_testkit::Page {
    let browser = server.browser();
    browser.submit("/login", "/login", &[("email", email), ("password", password)]).await
}

on_both_engines! {
    async fn an_import_is_idempotent_and_says_what_it_did_line_by_line(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let v = vectors();
        let lines = vec![
            raw("1", "ann@example.com", &v[0].hash),
            raw("2", "not an address", &v[0].hash),
            raw("3", "bob@example.com", "md5$abc"),
            raw("4", "cy@example.com", &v[4].hash),
        ];
        let dry = import(&server, &tracker.id, lines.clone(), true).await;
        assert_eq!((dry.imported, dry.skipped), (3, 1));
        let before = server.core.legacy().status(&server.site_admin(), &tracker.id).await.unwrap();
        assert_eq!((before.0, before.1.records), (None, 0), "a dry run writes nothing");

        let first = import(&server, &tracker.id, lines.clone(), false).await;
        assert_eq!((first.imported, first.updated, first.unchanged, first.skipped), (3, 0, 0, 1));
        let reasons: Vec<(u64, &str)> = first.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert!(reasons.iter().any(|(l, r)| *l == 2 && r.contains("email")), "{reasons:?}");
        assert!(reasons.iter().any(|(l, r)| *l == 3 && r.contains("resetting")), "{reasons:?}");
        let again = import(&server, &tracker.id, lines.clone(), false).await;
        assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 3), "re-importing changes nothing");
        let mut changed = lines.clone();
        changed[0].name = Some("Ann Renamed".into());
        let third = import(&server, &tracker.id, changed, false).await;
        assert_eq!((third.imported, third.updated, third.unchanged), (0, 1, 2));
        let (rollout_now, stats) = server.core.legacy().status(&server.site_admin(), &tracker.id).await.unwrap();
        assert_eq!((rollout_now, stats.records, stats.waiting, stats.unusable_hash), (Some(Rollout::Legacy), 3, 3, 1));
        let repeated = import(&server, &tracker.id, vec![raw("9", "d@example.com", &v[0].hash), raw("9", "e@example.com", &v[0].hash)], false).await;
        assert_eq!((repeated.imported, repeated.skipped), (1, 1));
        assert_eq!(audit_events(&server, "legacy.imported").await.len(), 0, "batches are not the import's end");
        let unknown = server.core.legacy().begin_import(&server.site_admin(), "no-such-product", false).await;
        assert!(unknown.is_err());
    }
}

on_both_engines! {
    async fn every_hash_format_upgrades_with_the_same_password(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        // One record per format, each with its own address.
        let v = vectors();
        let mut seen = std::collections::BTreeSet::new();
        let picks: Vec<&Vector> = v.iter().filter(|x| seen.insert(x.format.clone())).collect();
        let lines = picks.iter().enumerate().map(|(i, x)| raw(&format!("u{i}"), &format!("user{i}@example.com"), &x.hash)).collect();
        import(&server, &tracker.id, lines, false).await;
        // Nobody upgrades while the product is `legacy`.
        assert_eq!(log_in(&server, "user0@example.com", &picks[0].password).await.status, 401);
        rollout(&server, &tracker.id, Rollout::Upgrading).await;
        for (i, x) in picks.iter().enumerate() {
            let email = format!("user{i}@example.com");
            assert_eq!(log_in(&server, &email, "not the password").await.status, 401, "{}", x.format);
            let page = log_in(&server, &email, &x.password).await;
            assert_eq!(page.status, 303, "{}: {}", x.format, page.body);
            let account = server.core.accounts().find_account(&server.site_admin(), &Email::parse(&email).unwrap()).await.unwrap().unwrap();
            let stored = account.password_hash.as_ref().unwrap().expose().clone();
            assert!(stored.starts_with("$argon2id$"), "{}: rehashed", x.format);
            assert!(!account.email_verified(), "the address still needs proving");
            assert_eq!(server.core.legacy().legacy_user_id(&account.id, &tracker.id).await.unwrap().as_deref(), Some(format!("u{i}").as_str()));
            // From now on the account's own password works, the same one.
            assert_eq!(log_in(&server, &email, &x.password).await.status, 303, "{}", x.format);
        }
        let (_, stats) = server.core.legacy().status(&server.site_admin(), &tracker.id).await.unwrap();
        assert_eq!((stats.upgraded, stats.waiting, stats.unverified), (15, 0, 15));
        assert!(server.mail_to("user0@example.com", 1).await.decoded.contains("/verify-email"), "a verification mail went out");
        assert_eq!(audit_events(&server, "account.upgraded").await.len(), 15);
        // The site console shows where the product's migration stands.
        crate::policies::account(&server, "root@example.com", true).await;
        let root = server.browser();
        root.log_in("root@example.com", crate::PASSWORD).await;
        let console = root.get("/admin/products").await;
        assert!(console.contains("upgrading: 15 of 15 upgraded (15 not verified), 0 waiting"), "{}", console.body);
    }
}

on_both_engines! {
    async fn two_products_records_become_one_account(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        let v = vectors();
        let crowd = v.iter().find(|x| x.format == "crowd-pkcs5s2").unwrap();
        let django = v.iter().find(|x| x.format == "django-pbkdf2-sha256" && x.password != crowd.password).unwrap();
        import(&server, &tracker.id, vec![raw("T-7", "dana@example.com", &crowd.hash)], false).await;
        import(&server, &wiki.id, vec![raw("W-42", "Dana@Example.com", &django.hash)], false).await;
        rollout(&server, &tracker.id, Rollout::Upgrading).await;
        rollout(&server, &wiki.id, Rollout::Upgraded).await;

        // The first password proven becomes the account's; the other is retired. The upgrade
        // screen says what happened and asks for the address to be verified.
        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", "dana@example.com"), ("password", &crowd.password)]).await;
        assert_eq!(page.status, 303);
        let welcome = page.location().unwrap().to_owned();
        assert!(welcome.starts_with("/welcome/upgraded?next="), "{welcome}");
        let screen = browser.get(&welcome).await;
        assert!(screen.contains("Your Tracker account is now a Latchkey account") && screen.contains("Verify your email address"), "{}", screen.body);
        assert_eq!(log_in(&server, "dana@example.com", &crowd.password).await.location(), Some("/account"), "only the first sign-in shows it");
        let email = Email::parse("dana@example.com").unwrap();
        let account = server.core.accounts().find_account(&server.site_admin(), &email).await.unwrap().unwrap();
        assert_eq!(log_in(&server, "dana@example.com", &django.password).await.status, 401, "the wiki's old password is retired");
        assert_eq!(server.core.legacy().legacy_user_id(&account.id, &wiki.id).await.unwrap(), None, "not linked before the address is proven");

        // Once the address is verified, the next sign-in links the wiki's record too.
        let mail = server.mail_to("dana@example.com", 1).await;
        let browser = server.browser();
        let token = mail.token_for("/verify-email");
        let page = browser.submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(log_in(&server, "dana@example.com", &crowd.password).await.status, 303);
        assert_eq!(server.core.legacy().legacy_user_id(&account.id, &wiki.id).await.unwrap().as_deref(), Some("W-42"));
        assert_eq!(server.core.legacy().legacy_user_id(&account.id, &tracker.id).await.unwrap().as_deref(), Some("T-7"));
    }
}

on_both_engines! {
    async fn a_product_sees_its_own_user_id_for_the_account_and_no_other_products(server: TestServer) {
        use base64::Engine as _;
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        let v = vectors();
        import(&server, &tracker.id, vec![raw("JIRA-1001", "eve@example.com", &v[0].hash)], false).await;
        rollout(&server, &tracker.id, Rollout::Upgrading).await;
        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", "eve@example.com"), ("password", &v[0].password)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        // Products need a verified address: the upgrade mailed the link.
        let token = server.mail_to("eve@example.com", 1).await.token_for("/verify-email");
        let page = browser.submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let id_token_of = |p: &crate::oidc::Product| {
            let (browser, server) = (&browser, &server);
            let p = crate::oidc::Product { id: p.id.clone(), secret: p.secret.clone() };
            async move {
                let code = crate::oidc::code_for(server, browser, &p, None).await;
                let (status, body) = crate::oidc::token_request(server, &p, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", crate::oidc::CALLBACK)]).await;
                assert_eq!(status, 200, "{body}");
                let payload = body["id_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
                let claims: serde_json::Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
                (claims, body["access_token"].as_str().unwrap().to_owned())
            }
        };
        let (claims, access) = id_token_of(&tracker).await;
        assert_eq!(claims["legacy_user_id"], "JIRA-1001");
        let userinfo: serde_json::Value = crate::oidc::http().get(format!("{}/oauth/userinfo", server.url)).bearer_auth(&access).send().await.unwrap().json().await.unwrap();
        assert_eq!(userinfo["legacy_user_id"], "JIRA-1001");
        let (claims, _) = id_token_of(&wiki).await;
        assert!(claims.get("legacy_user_id").is_none(), "only the product's own id: {claims}");
    }
}

on_both_engines! {
    async fn a_record_without_a_usable_hash_upgrades_through_a_password_reset(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        import(&server, &tracker.id, vec![raw("T-9", "gus@example.com", "md5$not-supported")], false).await;
        // In `legacy`, the address is not known to Latchkey at all.
        let browser = server.browser();
        let page = browser.submit("/forgot-password", "/forgot-password", &[("email", "gus@example.com")]).await;
        assert!(page.status < 400, "{}", page.body);
        // The request is carried out in the background; run it now, before the rollout moves.
        server.core.accounts().process_mail_requests().await.unwrap();
        rollout(&server, &tracker.id, Rollout::Upgrading).await;
        let page = browser.submit("/forgot-password", "/forgot-password", &[("email", "gus@example.com")]).await;
        assert!(page.status < 400, "{}", page.body);
        let mail = server.mail_to("gus@example.com", 1).await;
        let token = mail.token_for("/reset-password");
        let new_password = "a brand new passphrase 42";
        let page = browser
            .submit(&format!("/reset-password?token={token}"), "/reset-password", &[("token", &token), ("password", new_password), ("password_confirm", new_password)])
            .await;
        assert!(page.status < 400, "{}", page.body);
        assert_eq!(log_in(&server, "gus@example.com", new_password).await.status, 303);
        let account = server.core.accounts().find_account(&server.site_admin(), &Email::parse("gus@example.com").unwrap()).await.unwrap().unwrap();
        assert!(account.email_verified(), "the reset proved the mailbox");
        assert_eq!(server.core.legacy().legacy_user_id(&account.id, &tracker.id).await.unwrap().as_deref(), Some("T-9"), "linked at the sign-in after the reset");
        let links = server.mails_to("gus@example.com").iter().filter(|m| m.decoded.contains("/reset-password")).count();
        assert_eq!(links, 1, "nothing was sent while the product was `legacy`");
    }
}

on_both_engines! {
    async fn the_status_page_tells_people_which_products_use_latchkey(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        let chat = product(&server, "Chat").await;
        let hash = &vectors()[0].hash;
        import(&server, &tracker.id, vec![raw("1", "t@example.com", hash)], false).await;
        import(&server, &chat.id, vec![raw("1", "c@example.com", hash)], false).await;
        rollout(&server, &chat.id, Rollout::Upgrading).await;
        let _ = wiki;
        let page = server.browser().get("/status").await;
        assert_eq!(page.status, 200);
        let row = |name: &str| {
            let at = page.body.find(&format!("<strong>{name}</strong>")).unwrap();
            page.body[at..(at + 400).min(page.body.len())].to_owned()
        };
        assert!(row("Tracker").contains("Soon"), "{}", row("Tracker"));
        assert!(row("Chat").contains("the password you had"), "{}", row("Chat"));
        assert!(row("Wiki").contains("Signs in with your Latchkey account."), "{}", row("Wiki"));
    }
}

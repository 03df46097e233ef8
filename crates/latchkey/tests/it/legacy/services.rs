//! `/account/services` and "change account": the support-site case, where a product let
//! several accounts share an address. The change is made only through the link mailed to
//! the legacy account's address, used by the Latchkey account that asked, once.

use latchkey_core::accounts::Email;
use latchkey_core::legacy::Rollout;
use latchkey_testkit::{Browser, TestServer};

use super::{import, raw, rollout, vectors};
use crate::api_tokens::product;
use crate::audit_events;

/// Carl upgraded with the support site's account `S-1`; he also has `S-2` at the same
/// address and `S-3` at his work address. Signed in, verified.
async fn carl(server: &TestServer) -> (String, Browser) {
    let support = product(server, "Support").await;
    let v = vectors();
    let other = v.iter().find(|x| x.password != v[0].password).unwrap();
    let lines = vec![
        raw("S-1", "carl@example.com", &v[0].hash),
        raw("S-2", "carl@example.com", &other.hash),
        raw("S-3", "carl.work@example.com", &other.hash),
    ];
    import(server, &support.id, lines, false).await;
    rollout(server, &support.id, Rollout::Upgrading).await;
    let browser = server.browser();
    let page = browser
        .submit("/login", "/login", &[("email", "carl@example.com"), ("password", &v[0].password)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let token = server.mail_to("carl@example.com", 1).await.token_for("/verify-email");
    let page = browser
        .submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let browser = server.browser();
    browser.log_in("carl@example.com", &v[0].password).await;
    (support.id, browser)
}

async fn linked(server: &TestServer, client: &str) -> Option<String> {
    let email = Email::parse("carl@example.com").unwrap();
    let account =
        server.core.accounts().find_account(&server.site_admin(), &email).await.unwrap().unwrap();
    server.core.legacy().legacy_user_id(&account.id, client).await.unwrap()
}

async fn ask(browser: &Browser, client: &str, email: &str) -> latchkey_testkit::Page {
    let form = format!("/account/services/{client}/change");
    browser.submit(&form, &form, &[("email", email)]).await
}

on_both_engines! {
    async fn change_account_switches_the_linked_record_after_the_mailed_confirmation(server: TestServer) {
        let (support, carl) = carl(&server).await;
        assert_eq!(linked(&server, &support).await.as_deref(), Some("S-1"));
        let page = carl.get("/account/services").await;
        assert_eq!(page.status, 200);
        assert!(page.contains("Support") && page.contains("S-1") && page.contains("Change account"), "{}", page.body);

        let page = ask(&carl, &support, "carl@example.com").await;
        assert_eq!(page.location(), Some("/account/services?notice=sent"), "{}", page.body);
        let mail = server.mail_to("carl@example.com", 2).await;
        assert!(mail.decoded.contains("Support"), "{}", mail.decoded);
        let token = mail.token_for("/account/services/confirm");
        let confirm = format!("/account/services/confirm?token={token}");
        let page = carl.get(&confirm).await;
        assert!(page.contains("S-1") && page.contains("S-2") && !page.contains("S-3"), "{}", page.body);

        // A choice the link does not offer changes nothing and keeps the link.
        let page = carl.submit(&confirm, "/account/services/confirm", &[("token", &token), ("legacy_id", "S-3")]).await;
        assert_eq!(page.status, 400, "{}", page.body);
        assert_eq!(linked(&server, &support).await.as_deref(), Some("S-1"));

        let page = carl.submit(&confirm, "/account/services/confirm", &[("token", &token), ("legacy_id", "S-2")]).await;
        assert_eq!(page.location(), Some("/account/services?notice=changed"), "{}", page.body);
        assert_eq!(linked(&server, &support).await.as_deref(), Some("S-2"));
        let events = audit_events(&server, "legacy.link_changed").await;
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].details["from"].as_str(), events[0].details["to"].as_str()), (Some("S-1"), Some("S-2")), "{:?}", events[0]);
        assert_eq!(carl.get(&confirm).await.status, 400, "a link works once");

        // Another address: the mail goes there, and the work account becomes the one.
        assert_eq!(ask(&carl, &support, "carl.work@example.com").await.status, 303);
        let token = server.mail_to("carl.work@example.com", 1).await.token_for("/account/services/confirm");
        let confirm = format!("/account/services/confirm?token={token}");
        let page = carl.submit(&confirm, "/account/services/confirm", &[("token", &token), ("legacy_id", "S-3")]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(linked(&server, &support).await.as_deref(), Some("S-3"));
    }
}

on_both_engines! {
    async fn a_change_account_link_is_the_askers_and_works_once_under_a_burst(server: TestServer) {
        let (support, carl) = carl(&server).await;
        // An address with no account in the product: the same answer, and no mail.
        let page = ask(&carl, &support, "nobody@example.com").await;
        assert_eq!(page.location(), Some("/account/services?notice=sent"));
        // A product Carl does not use, and garbage.
        let chat = product(&server, "Chat").await;
        assert_eq!(carl.get(&format!("/account/services/{}/change", chat.id)).await.status, 404);
        let csrf = carl.get("/account").await.csrf();
        let page = carl.post_raw(&format!("/account/services/{}/change", chat.id), &[("csrf_token", &csrf), ("email", "carl@example.com")]).await;
        assert_eq!(page.status, 404, "{}", page.body);
        assert_eq!(ask(&carl, &support, "not an address").await.status, 400);
        assert_eq!(carl.get("/account/services/confirm?token=garbage").await.status, 400);

        assert_eq!(ask(&carl, &support, "carl@example.com").await.status, 303);
        let token = server.mail_to("carl@example.com", 2).await.token_for("/account/services/confirm");
        let confirm = format!("/account/services/confirm?token={token}");
        // Someone else holding the link (or tricked into opening it) cannot use it.
        crate::policies::account(&server, "mallory@example.com", false).await;
        let mallory = server.browser();
        mallory.log_in("mallory@example.com", crate::PASSWORD).await;
        assert_eq!(mallory.get(&confirm).await.status, 403);
        let page = mallory.post_raw("/account/services/confirm", &[("csrf_token", &mallory.get("/account").await.csrf()), ("token", &token), ("legacy_id", "S-2")]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(server.mails_to("nobody@example.com").is_empty());
        // Signed out, the link leads to the sign-in first.
        let page = server.browser().get(&confirm).await;
        assert!(page.location().is_some_and(|l| l.starts_with("/login")), "{:?}", page.location());

        // A burst of confirmations with the one link: exactly one is carried out.
        let csrf = carl.get(&confirm).await.csrf();
        let mut tasks = Vec::new();
        for choice in ["S-2", "S-1", "S-2", "S-1", "S-2", "S-1"] {
            let (carl, csrf, token) = (carl.clone(), csrf.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                carl.post_raw("/account/services/confirm", &[("csrf_token", &csrf), ("token", &token), ("legacy_id", choice)]).await.status
            }));
        }
        let mut done = 0;
        for t in tasks {
            if t.await.unwrap() == 303 {
                done += 1;
            }
        }
        assert_eq!(done, 1, "one confirmation per link");
        assert_eq!(audit_events(&server, "legacy.link_changed").await.len(), 1);
        assert!(linked(&server, &support).await.is_some());

        // Housekeeping forgets links past their day, used or not.
        assert_eq!(server.core.legacy().purge_expired_links().await.unwrap(), 0);
        server.clock.advance(24 * 3600 + 1);
        assert!(server.core.legacy().purge_expired_links().await.unwrap() >= 1);
    }
}

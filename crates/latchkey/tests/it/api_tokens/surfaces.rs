//! API tokens from the account's security page, the organization console and the admin API:
//! shown once, a recent sign-in and a verified address first, a confirmation before a token
//! is revoked, and an organization admin's reach ending at the accounts it manages.

use latchkey_core::accounts::Email;
use latchkey_core::api_tokens::TokenRequest;
use latchkey_testkit::{Browser, hidden_input};
use serde_json::json;

use super::{product, reason, token_for, verify};
use crate::PASSWORD;
use crate::admin_api::{call, site_admin_token};
use crate::policies::{account, acme};

const HOUR: i64 = 3600;

/// The `lkp_…` value on a "shown once" page.
fn shown_token(body: &str) -> String {
    let at = body.find("value=\"lkp_").expect("the page shows the token") + "value=\"".len();
    body[at..at + 47].to_owned()
}

async fn create_on_security_page(
    browser: &Browser,
    name: &str,
    extra: &[(&str, &str)],
) -> latchkey_testkit::Page {
    let page = browser.get("/account/security").await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    let mut fields = vec![("csrf_token", csrf.as_str()), ("name", name), ("expires_days", "30")];
    fields.extend_from_slice(extra);
    let posted = browser.post_raw("/account/security/api-tokens", &fields).await;
    shown_after_redirect(browser, posted).await
}

/// POST, then redirect: the token is on the page the POST sends the browser to, once.
async fn shown_after_redirect(
    browser: &Browser,
    posted: latchkey_testkit::Page,
) -> latchkey_testkit::Page {
    if posted.status != 303 || posted.location() != Some("/api-tokens/created") {
        return posted;
    }
    let shown = browser.get("/api-tokens/created").await;
    let again = browser.get("/api-tokens/created").await;
    assert_eq!(again.status, 303, "a reload shows the token no more");
    assert!(!again.body.contains("lkp_"));
    shown
}

on_both_engines! {
    async fn people_make_their_own_tokens_on_the_security_page(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let browser = crate::verified_user(&server, "pat@example.com").await;
        let page = browser.get("/account/security").await;
        assert!(page.contains("API tokens") && page.contains("Tracker"), "the products to restrict to are offered");

        let created = create_on_security_page(&browser, "laptop script", &[("product", &tracker.id)]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert_eq!(created.header("cache-control"), Some("no-store"));
        let token = shown_token(&created.body);
        assert!(created.contains("pat@example.com") && created.contains("data-copy"));
        assert_eq!(verify(&server, &tracker, "pat@example.com", &token).await["active"], true);

        let listed = browser.get("/account/security").await;
        assert!(listed.contains("laptop script") && !listed.contains(&token), "never shown again");
        let mail = server.mail_to("pat@example.com", 2).await;
        assert!(mail.decoded.contains("laptop script"), "the owner is told: {}", mail.decoded);

        // Revoking asks first; the confirmation page does nothing by itself.
        let id = server.core.api_tokens().list_as_site_admin(&server.site_admin(), &Email::parse("pat@example.com").unwrap()).await.unwrap()[0].token.id.clone();
        let confirm = browser.get(&format!("/account/security/api-tokens/{id}/revoke")).await;
        assert!(confirm.status == 200 && confirm.contains("Revoke token"), "{}", confirm.body);
        assert_eq!(verify(&server, &tracker, "pat@example.com", &token).await["active"], true);
        let csrf = confirm.csrf();
        let done = browser.post_raw(&format!("/account/security/api-tokens/{id}/revoke"), &[("csrf_token", &csrf)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(reason(&verify(&server, &tracker, "pat@example.com", &token).await), "revoked");

        // Another person's token id is not theirs to revoke.
        let other = crate::verified_user(&server, "quinn@example.com").await;
        let csrf = other.get("/account/security").await.csrf();
        let (_, theirs) = token_for(&server, "pat@example.com", "second", None, &[]).await;
        let second = server.core.api_tokens().list_as_site_admin(&server.site_admin(), &Email::parse("pat@example.com").unwrap()).await.unwrap()[0].token.id.clone();
        let refused = other.post_raw(&format!("/account/security/api-tokens/{second}/revoke"), &[("csrf_token", &csrf)]).await;
        assert_eq!(refused.status, 404);
        assert_eq!(verify(&server, &tracker, "pat@example.com", &theirs).await["active"], true);

        // Without the CSRF token nothing is created.
        let forged = browser.post_raw("/account/security/api-tokens", &[("name", "forged")]).await;
        assert_eq!(forged.status, 403);
        // An hour later the sign-in is no longer recent: sign in again first.
        server.clock.advance(HOUR);
        let stale = create_on_security_page(&browser, "later", &[]).await;
        assert_eq!(stale.status, 303);
        assert!(stale.location().unwrap().starts_with("/login?reauth=1"), "{:?}", stale.location());
        let browser = server.browser();
        browser.log_in("pat@example.com", PASSWORD).await;
        for (name, days, needle) in [("", "30", "name"), ("ok", "0", "expiry"), ("ok", "lots", "whole number"), ("bad\u{202e}", "30", "name")] {
            let page = browser.get("/account/security").await;
            let csrf = page.csrf();
            let bad = browser.post_raw("/account/security/api-tokens", &[("csrf_token", &csrf), ("name", name), ("expires_days", days)]).await;
            assert_eq!(bad.status, 400, "{name:?} {days:?}: {}", bad.body);
            assert!(bad.body.to_lowercase().contains(needle), "{}", bad.body);
        }
    }
}

on_both_engines! {
    async fn an_unverified_address_cannot_make_tokens(server: TestServer) {
        let browser = server.browser();
        let page = browser.submit("/signup", "/signup", &[("email", "new@example.com"), ("name", "New"), ("password", PASSWORD)]).await;
        assert!(page.status < 400);
        browser.log_in("new@example.com", PASSWORD).await;
        let page = browser.get("/account/security").await;
        assert!(page.contains("Verify your email address to create API tokens"), "{}", page.body);
        let refused = create_on_security_page(&browser, "x", &[]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
}

on_both_engines! {
    async fn an_org_console_manages_its_bots_and_its_peoples_tokens_but_not_site_admins(server: TestServer, dns: DnsStub) {
        let tracker = product(&server, "Tracker").await;
        let admin = acme(&server, &dns).await;
        let org = admin.org().id.clone();
        account(&server, "dev@acme.example", false).await;
        account(&server, "root@acme.example", true).await;
        let (_, root_token) = token_for(&server, "root@acme.example", "root", None, &[]).await;
        let (_, dev_token) = token_for(&server, "dev@acme.example", "dev", None, &[]).await;

        let boss = server.browser();
        boss.log_in("boss@acme.example", PASSWORD).await;
        let page = boss.get(&format!("/admin/org/{org}/api-tokens")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.contains("dev@acme.example") && !page.contains("root@acme.example"), "site admins' tokens are not the organization's");

        let made = boss.post_raw(&format!("/admin/org/{org}/bots"), &[("csrf_token", &page.csrf()), ("name", "Deploy bot")]).await;
        assert_eq!(made.status, 303, "{}", made.body);
        let org_bots = server.core.api_tokens().list_org_bots(&admin).await.unwrap();
        let username = org_bots[0].email.as_str().to_owned();
        let page = boss.get(&format!("/admin/org/{org}/api-tokens")).await;
        assert!(page.contains(&username));
        let posted = boss.post_raw(&format!("/admin/org/{org}/api-tokens"), &[("csrf_token", &page.csrf()), ("email", &username), ("name", "deploys"), ("expires_days", "7"), ("product", &tracker.id)]).await;
        let created = shown_after_redirect(&boss, posted).await;
        assert_eq!(created.status, 200, "{}", created.body);
        let bot_token = shown_token(&created.body);
        assert_eq!(verify(&server, &tracker, &username, &bot_token).await["bot"], true);

        // Refused for a site admin's account, whichever way it is asked.
        let refused = boss.post_raw(&format!("/admin/org/{org}/api-tokens"), &[("csrf_token", &page.csrf()), ("email", "root@acme.example"), ("name", "mine now")]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let root_id = server.core.api_tokens().list_as_site_admin(&server.site_admin(), &Email::parse("root@acme.example").unwrap()).await.unwrap()[0].token.id.clone();
        let refused = boss.post_raw(&format!("/admin/org/{org}/api-tokens/revoke?email=root%40acme.example&token={root_id}"), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(verify(&server, &tracker, "root@acme.example", &root_token).await["active"], true);
        let person = boss.post_raw(&format!("/admin/org/{org}/api-tokens"), &[("csrf_token", &page.csrf()), ("email", "dev@acme.example"), ("name", "act as dev")]).await;
        assert_eq!(person.status, 400, "no token an admin could use to act as a person: {}", person.body);
        assert!(person.body.contains("bots only"));
        let outsider = boss.post_raw(&format!("/admin/org/{org}/api-tokens"), &[("csrf_token", &page.csrf()), ("email", "someone@elsewhere.example"), ("name", "x")]).await;
        assert_eq!(outsider.status, 404);

        // A managed person's token: confirm, then revoke.
        let dev_id = server.core.api_tokens().list_as_site_admin(&server.site_admin(), &Email::parse("dev@acme.example").unwrap()).await.unwrap()[0].token.id.clone();
        let confirm = boss.get(&format!("/admin/org/{org}/api-tokens/revoke?email=dev%40acme.example&token={dev_id}")).await;
        assert!(confirm.status == 200 && confirm.contains("Revoke token"), "{}", confirm.body);
        let action = hidden_input(&confirm.body, "csrf_token").unwrap();
        let done = boss.post_raw(&format!("/admin/org/{org}/api-tokens/revoke?email=dev%40acme.example&token={dev_id}"), &[("csrf_token", &action)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(reason(&verify(&server, &tracker, "dev@acme.example", &dev_token).await), "revoked");

        // Someone who is not the organization's admin sees nothing.
        let dev = server.browser();
        dev.log_in("dev@acme.example", PASSWORD).await;
        assert_eq!(dev.get(&format!("/admin/org/{org}/api-tokens")).await.status, 404);
        // Deactivating the bot from the console's account actions ends its tokens at once.
        server.core.orgs().act_on_managed_account(&admin, &Email::parse(&username).unwrap(), &latchkey_core::orgs::ManagedAction::Deactivate).await.unwrap();
        assert_eq!(reason(&verify(&server, &tracker, &username, &bot_token).await), "account_deactivated");
    }
}

on_both_engines! {
    async fn the_admin_api_creates_lists_and_revokes_tokens_and_bots(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let token = site_admin_token(&server, "ops@example.com").await;
        let t = Some(token.as_str());
        let (status, bot) = call(&server, "POST", "/bots", t, Some(json!({ "name": "Nightly" }))).await;
        assert_eq!(status, 201, "{bot}");
        let username = bot["email"].as_str().unwrap().to_owned();
        let path = format!("/users/{username}/api-tokens");
        let (status, created) = call(&server, "POST", &path, t, Some(json!({ "name": "ci", "expires_days": 5, "products": [tracker.id] }))).await;
        assert_eq!(status, 201, "{created}");
        let secret = created["token"].as_str().unwrap().to_owned();
        assert_eq!(verify(&server, &tracker, &username, &secret).await["active"], true);
        let (status, listed) = call(&server, "GET", &path, t, None).await;
        assert_eq!((status, listed["tokens"][0]["state"].as_str()), (200, Some("active")));
        assert!(!listed.to_string().contains("lkp_"));
        let (status, body) = call(&server, "POST", &path, t, Some(json!({ "name": "x", "expires_days": 9999 }))).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = call(&server, "POST", &path, t, Some(json!({ "name": "x", "scopes": [] }))).await;
        assert_eq!(status, 400, "unknown fields are refused: {body}");
        let id = created["id"].as_str().unwrap();
        let (status, _) = call(&server, "DELETE", &format!("{path}/{id}"), t, None).await;
        assert_eq!(status, 200);
        assert_eq!(reason(&verify(&server, &tracker, &username, &secret).await), "revoked");
        let (status, _) = call(&server, "DELETE", &format!("{path}/{id}"), t, None).await;
        assert_eq!(status, 404);
        let (status, bots) = call(&server, "GET", "/bots", t, None).await;
        assert_eq!((status, bots["bots"].as_array().unwrap().len()), (200, 1));
        let (status, _) = call(&server, "GET", "/bots", None, None).await;
        assert_eq!(status, 401);
        let refused = server.core.api_tokens().create_as_site_admin(&server.site_admin(), &Email::parse("ops@example.com").unwrap(), &TokenRequest { name: "n".into(), products: vec!["not-a-client".into()], ..TokenRequest::default() }).await;
        assert!(refused.unwrap_err().to_string().contains("no product"));
    }
}

//! Taking things away from an organization (issue 16): an admin (never the last one, never
//! oneself — not even two admins removing each other at once), a domain (its accounts stop
//! being managed, its SAML connection stops serving it), and the organization itself (site
//! admins only; its bots' tokens stop at once). Each asks first in the console.

use latchkey_core::accounts::Email;
use latchkey_core::api_tokens::TokenRequest;
use latchkey_core::orgs::OrgError;
use latchkey_testkit::{DnsStub, TestServer};

use super::account;
use crate::api_tokens::{product, reason, verify};
use crate::console::sign_in_as_site_admin;
use crate::verified_user;

/// An organization with `admins` (the first creates it) and `domain` verified.
async fn org_with_domain(
    server: &TestServer,
    dns: &DnsStub,
    name: &str,
    domain: &str,
    admins: &[&str],
) -> String {
    let site = server.site_admin();
    let first = account(server, admins[0]).await;
    let org = server.core.orgs().create_organization(&site, name, &first).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    for other in &admins[1..] {
        let email = account(server, other).await;
        assert!(server.core.orgs().add_org_admin(&admin, &email).await.unwrap());
    }
    let added = server.core.orgs().add_domain(&admin, domain).await.unwrap();
    dns.set_txt(domain, &[&added.txt_record()]);
    let check = server.core.orgs().verify_domain(&admin, domain).await.unwrap();
    assert_eq!(
        check.domain.status,
        latchkey_core::orgs::DomainStatus::Verified,
        "{}",
        check.detail
    );
    org.id
}

on_both_engines! {
    async fn org_admins_are_removed_but_never_the_last_one_nor_oneself(server: TestServer, dns: DnsStub) {
        let org = org_with_domain(&server, &dns, "Acme", "acme.example", &["ann@acme.example", "ben@acme.example"]).await;
        let orgs = server.core.orgs();
        let site = server.site_admin();

        // Two admins removing each other at once leave one, three rounds.
        for round in 0..3 {
            let a = orgs.org_admin_as_site_admin(&site, &org).await.unwrap();
            let (o1, o2) = (orgs.clone(), orgs.clone());
            let (a1, a2) = (a.clone(), a.clone());
            let ann = Email::parse("ann@acme.example").unwrap();
            let ben = Email::parse("ben@acme.example").unwrap();
            let (r1, r2) = tokio::join!(
                async move { o1.remove_org_admin(&a1, &ann).await },
                async move { o2.remove_org_admin(&a2, &ben).await },
            );
            let outcomes = [r1.is_ok(), r2.is_ok()];
            assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "round {round}: exactly one removal");
            let ((Err(refused), _) | (_, Err(refused))) = (r1, r2) else {
                unreachable!("one failed")
            };
            assert!(matches!(refused, OrgError::LastAdmin), "round {round}: {refused}");
            let left = orgs.org_admin_accounts(&a).await.unwrap();
            assert_eq!(left.len(), 1);
            // Put the other one back for the next round.
            let missing = if outcomes[0] { "ann@acme.example" } else { "ben@acme.example" };
            orgs.add_org_admin(&a, &Email::parse(missing).unwrap()).await.unwrap();
        }
        let a = orgs.org_admin_as_site_admin(&site, &org).await.unwrap();
        let nobody = Email::parse("nobody@acme.example").unwrap();
        assert!(matches!(orgs.remove_org_admin(&a, &nobody).await.unwrap_err(), OrgError::UnknownAccount(_)));
        let carl = account(&server, "carl@acme.example").await;
        assert!(matches!(orgs.remove_org_admin(&a, &carl).await.unwrap_err(), OrgError::NotAnAdmin(_)));
    }
}

on_both_engines! {
    async fn the_console_removes_an_admin_and_a_domain_after_asking(server: TestServer, dns: DnsStub) {
        let admin = sign_in_as_site_admin(&server).await;
        let org = org_with_domain(&server, &dns, "Initech", "initech.example", &["owner@initech.example"]).await;
        let member = verified_user(&server, "milton@initech.example").await;
        assert!(member.get("/account").await.contains("managed by Initech"));
        let orgs = server.core.orgs();
        let org_admin = orgs.org_admin_as_site_admin(&server.site_admin(), &org).await.unwrap();
        orgs.add_org_admin(&org_admin, &Email::parse("milton@initech.example").unwrap()).await.unwrap();

        // Milton, an org admin, cannot remove himself; the site admin can remove him.
        let mine = member.get(&format!("/admin/org/{org}/admins/remove?email=milton%40initech.example")).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        let own = member.post_raw(&format!("/admin/org/{org}/admins/remove"), &[("csrf_token", &mine.csrf()), ("email", "milton@initech.example")]).await;
        assert_eq!(own.status, 403, "{}", own.body);
        let page = admin.get(&format!("/admin/org/{org}")).await;
        assert!(page.contains("/admins/remove?email=milton%40initech.example") && page.contains("Delete Initech"), "{}", page.body);
        let question = admin.get(&format!("/admin/org/{org}/admins/remove?email=milton%40initech.example")).await;
        assert!(question.contains("Remove milton@initech.example as an administrator of Initech?"), "{}", question.body);
        assert_eq!(member.get(&format!("/admin/org/{org}")).await.status, 200, "asking changes nothing");
        let done = admin.post_raw(&format!("/admin/org/{org}/admins/remove"), &[("csrf_token", &question.csrf()), ("email", "milton@initech.example")]).await;
        assert_eq!(done.location(), Some(format!("/admin/org/{org}?notice=admin_removed").as_str()));
        assert_eq!(member.get(&format!("/admin/org/{org}")).await.status, 404, "his console access ended");
        let last = admin.post_raw(&format!("/admin/org/{org}/admins/remove"), &[("csrf_token", &question.csrf()), ("email", "owner@initech.example")]).await;
        assert_eq!(last.status, 409, "the last admin stays: {}", last.body);

        // The domain: the question says what changes; afterwards its accounts are not managed.
        let question = admin.get(&format!("/admin/org/{org}/domains/remove?domain=initech.example")).await;
        assert!(question.contains("2 accounts on initech.example will no longer be managed"), "{}", question.body);
        assert!(member.get("/account").await.contains("managed by Initech"), "asking changes nothing");
        let done = admin.post_raw(&format!("/admin/org/{org}/domains/remove"), &[("csrf_token", &question.csrf()), ("domain", "initech.example")]).await;
        assert_eq!(done.location(), Some(format!("/admin/org/{org}?notice=domain_removed").as_str()));
        assert!(!member.get("/account").await.contains("managed by"), "no longer managed");
        let again = admin.post_raw(&format!("/admin/org/{org}/domains/remove"), &[("csrf_token", &question.csrf()), ("domain", "initech.example")]).await;
        assert_eq!(again.status, 404);
        assert_eq!(admin.get(&format!("/admin/org/{org}/domains/remove?domain=..")).await.status, 400);
        assert_eq!(crate::audit_events(&server, "domain.removed").await.len(), 1);
        assert_eq!(crate::audit_events(&server, "organization.admin_removed").await.len(), 1);
    }
}

on_both_engines! {
    async fn deleting_an_organization_ends_its_bots_and_releases_its_accounts(server: TestServer, dns: DnsStub) {
        let org = org_with_domain(&server, &dns, "Globex", "globex.example", &["hank@globex.example"]).await;
        let member = verified_user(&server, "homer@globex.example").await;
        let orgs = server.core.orgs();
        let org_admin = orgs.org_admin_as_site_admin(&server.site_admin(), &org).await.unwrap();
        let bot = orgs.create_bot(&org_admin, "Deploy Bot").await.unwrap();
        let request = TokenRequest { name: "ci".into(), expires_days: None, products: vec![] };
        let (_, token) = orgs.create_api_token(&org_admin, &bot.email, &request).await.unwrap();
        let tracker = product(&server, "Tracker").await;
        assert_eq!(verify(&server, &tracker, bot.email.as_str(), &token).await["active"], true);

        // An org admin cannot delete it; the site admin is asked first.
        let hank = server.browser();
        assert_eq!(hank.get(&format!("/admin/org/{org}/delete")).await.status, 303, "not a site admin (not even signed in)");
        let admin = sign_in_as_site_admin(&server).await;
        let question = admin.get(&format!("/admin/org/{org}/delete")).await;
        assert!(question.contains("Delete the organization Globex?") && question.contains("deactivates 1 bots"), "{}", question.body);
        assert!(question.contains("2 accounts on them"), "{}", question.body);
        assert_eq!(verify(&server, &tracker, bot.email.as_str(), &token).await["active"], true, "asking changes nothing");
        let done = admin.post_raw(&format!("/admin/org/{org}/delete"), &[("csrf_token", &question.csrf())]).await;
        assert_eq!(done.location(), Some("/admin?notice=org_deleted"));
        assert!(admin.get("/admin?notice=org_deleted").await.contains("The organization is deleted"));
        assert_ne!(reason(&verify(&server, &tracker, bot.email.as_str(), &token).await), "(active)", "the bot's token stopped");
        assert!(!member.get("/account").await.contains("managed by"), "the member's account stays, unmanaged");
        assert_eq!(admin.get(&format!("/admin/org/{org}")).await.status, 404);
        assert!(matches!(orgs.org_usage(&server.site_admin(), &org).await.unwrap_err(), OrgError::NotFound));
        let events = crate::audit_events(&server, "organization.deleted").await;
        assert_eq!(events.len(), 1, "{events:?}");
    }
}

on_both_engines! {
    async fn the_api_and_cli_counterparts_remove_and_delete(server: TestServer, dns: DnsStub) {
        let token = crate::admin_api::site_admin_token(&server, "ops@example.com").await;
        let t = Some(token.as_str());
        let org = org_with_domain(&server, &dns, "Umbrella", "umbrella.example", &["al@umbrella.example", "bo@umbrella.example"]).await;
        let call = |m: &'static str, p: String| {
            let server = &server;
            async move { crate::admin_api::call(server, m, &p, t, None).await }
        };
        let (status, body) = call("GET", format!("/orgs/{org}")).await;
        assert_eq!((status, body["usage"]["admins"].as_u64(), body["usage"]["domains"].as_u64()), (200, Some(2), Some(1)), "{body}");
        assert_eq!(call("DELETE", format!("/orgs/{org}/admins/bo%40umbrella.example")).await.0, 204);
        let (status, body) = call("DELETE", format!("/orgs/{org}/admins/al%40umbrella.example")).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(call("DELETE", format!("/orgs/{org}/admins/not-an-email")).await.0, 400);
        let (status, body) = call("DELETE", format!("/orgs/{org}/domains/umbrella.example")).await;
        assert_eq!((status, body["changed"]["verified"].as_bool()), (200, Some(true)), "{body}");
        assert_eq!(call("DELETE", format!("/orgs/{org}/domains/umbrella.example")).await.0, 404);
        let (status, body) = call("DELETE", format!("/orgs/{org}")).await;
        assert_eq!((status, body["ended"]["admins"].as_u64()), (200, Some(1)), "{body}");
        assert_eq!(call("DELETE", format!("/orgs/{org}")).await.0, 404);
    }
}

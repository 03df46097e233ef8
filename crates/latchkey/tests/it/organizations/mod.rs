//! Organizations and domain verification against a local DNS server and a local HTTPS server:
//! verify, wrong token, NXDOMAIN, timeout, a record removed later, one organization per
//! verified domain; the HTTPS file with redirects, size limits, private addresses and untrusted
//! certificates.

use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::flows::CreateAccountRequest;

use latchkey_core::audit::{AuditFilter, AuditScope};
use latchkey_core::orgs::{DomainStatus, OrgError};
use latchkey_testkit::{DnsStub, TestServer};

use super::verified_user;

mod https_proof;
mod removal;

async fn account(server: &TestServer, email: &str) -> Email {
    let email = Email::parse(email).unwrap();
    server
        .core
        .accounts()
        .create_account(
            &server.site_admin(),
            CreateAccountRequest {
                name: DisplayName::from_email(&email),
                email: email.clone(),
                password: None,
                email_verified: true,
                site_admin: false,
            },
        )
        .await
        .unwrap();
    email
}

on_both_engines! {
    async fn domains_are_verified_through_dns(server: TestServer, dns: DnsStub) {
        domain_verification(&server, &dns).await;
    }
}

async fn domain_verification(server: &TestServer, dns: &DnsStub) {
    let site = server.site_admin();
    let alice = account(server, "alice@acme.example").await;
    let acme = server.core.orgs().create_organization(&site, "Acme", &alice).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &acme.id).await.unwrap();

    let added = server.core.orgs().add_domain(&admin, " ACME.example. ").await.unwrap();
    assert_eq!((added.domain.as_str(), added.status), ("acme.example", DomainStatus::Pending));
    let again = server.core.orgs().add_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(again.token, added.token, "adding twice returns the same token");

    // NXDOMAIN, then a name without TXT records, then the wrong token: still pending.
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(check.detail.contains("does not exist"), "{}", check.detail);
    dns.set_txt("acme.example", &[]);
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert!(check.detail.contains("no TXT record"), "{}", check.detail);
    dns.set_txt("acme.example", &["latchkey-verification=someone-elses-token"]);
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(check.detail.contains("another token"), "{}", check.detail);
    // A subdomain's record does not prove the apex.
    dns.set_txt("www.acme.example", &[&added.txt_record()]);
    assert_eq!(
        server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap().domain.status,
        DomainStatus::Pending
    );

    dns.set_txt("acme.example", &["v=spf1 -all", &added.txt_record()]);
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Verified, "{}", check.detail);
    assert!(check.domain.verified_at.is_some());

    // Another organization can add the name but never verify it, even with its own record.
    let bob = account(server, "bob@rival.example").await;
    let rival = server.core.orgs().create_organization(&site, "Rival", &bob).await.unwrap();
    let rival_admin = server.core.orgs().org_admin_as_site_admin(&site, &rival.id).await.unwrap();
    let theirs = server.core.orgs().add_domain(&rival_admin, "acme.example").await.unwrap();
    dns.set_txt("acme.example", &[&added.txt_record(), &theirs.txt_record()]);
    let check = server.core.orgs().verify_domain(&rival_admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Failed);
    assert!(check.detail.contains("another organization"), "{}", check.detail);

    // The proof disappears: the domain stays verified, with the problem recorded.
    dns.remove("acme.example");
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Verified, "never silently dropped");
    assert!(check.domain.last_error.as_deref().is_some_and(|e| e.contains("does not exist")));

    // A DNS server that does not answer: a bounded wait, then pending with the reason.
    server.core.orgs().add_domain(&admin, "slow.example").await.unwrap();
    dns.silence("slow.example");
    let started = std::time::Instant::now();
    let check = server.core.orgs().verify_domain(&admin, "slow.example").await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(check.detail.contains("did not answer"), "{}", check.detail);

    // Names that can never be claimed, and hostile spellings.
    for bad in [
        "gmail.com",
        "outlook.com.",
        "*.acme.example",
        "acme",
        "10.0.0.1",
        "a..b",
        &format!("{}.example", "x".repeat(64)),
    ] {
        assert!(
            matches!(server.core.orgs().add_domain(&admin, bad).await, Err(OrgError::BadDomain(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        server.core.orgs().verify_domain(&admin, "never-added.example").await,
        Err(OrgError::UnknownDomain(_))
    ));
}

on_both_engines! {
    async fn only_an_organizations_admins_act_for_it(server: TestServer) {
        let site = server.site_admin();
        let owner_browser = verified_user(&server, "owner@acme.example").await;
        let owner = Email::parse("owner@acme.example").unwrap();
        let org = server.core.orgs().create_organization(&site, "Acme", &owner).await.unwrap();
        let stranger_browser = verified_user(&server, "stranger@elsewhere.example").await;
        let stranger = server.signed_in(&stranger_browser).await;
        assert!(matches!(server.core.orgs().org_admin_as(&stranger, &org.id).await, Err(OrgError::NotFound)));
        assert!(matches!(server.core.orgs().org_admin_as(&stranger, "no-such-org").await, Err(OrgError::NotFound)), "the same answer");
        let owner_signed_in = server.signed_in(&owner_browser).await;
        let admin = server.core.orgs().org_admin_as(&owner_signed_in, &org.id).await.unwrap();
        assert!(server.core.orgs().add_org_admin(&admin, &Email::parse("stranger@elsewhere.example").unwrap()).await.unwrap());
        assert!(!server.core.orgs().add_org_admin(&admin, &Email::parse("stranger@elsewhere.example").unwrap()).await.unwrap(), "once");
        assert!(server.core.orgs().org_admin_as(&stranger, &org.id).await.is_ok(), "now an admin");
        assert!(matches!(server.core.orgs().create_organization(&site, " ", &owner).await, Err(OrgError::BadName)));
        assert!(matches!(
            server.core.orgs().create_organization(&site, "Ghost", &Email::parse("nobody@acme.example").unwrap()).await,
            Err(OrgError::UnknownAccount(_))
        ));
    }
}

on_both_engines! {
    async fn verifying_a_domain_makes_its_accounts_managed_and_tells_them_once(server: TestServer, dns: DnsStub) {
        let site = server.site_admin();
        let browser = verified_user(&server, "worker@initech.example").await;
        let outsider = account(&server, "someone@other.example").await;
        let boss = account(&server, "boss@initech.example").await;
        let org = server.core.orgs().create_organization(&site, "Initech", &boss).await.unwrap();
        let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
        let domain = server.core.orgs().add_domain(&admin, "initech.example").await.unwrap();
        assert!(!browser.get("/account").await.body.contains("managed by"));

        dns.set_txt("initech.example", &[&domain.txt_record()]);
        server.core.orgs().verify_domain(&admin, "initech.example").await.unwrap();
        server.core.orgs().verify_domain(&admin, "initech.example").await.unwrap();
        let page = browser.get("/account").await;
        assert!(page.body.contains("Your account is managed by Initech"), "{}", page.body);
        let worker = server
            .core.accounts()
            .find_account(&site, &Email::parse("worker@initech.example").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            server.core.orgs().account_summary(&worker).await.unwrap().managed_by,
            Some(org.id.clone())
        );
        let other = server.core.accounts().find_account(&site, &outsider).await.unwrap().unwrap();
        assert_eq!(server.core.orgs().account_summary(&other).await.unwrap().managed_by, None);
        // A managed account's owner cannot move its email off the organization's domains.
        let page = browser
            .submit(
                "/account",
                "/account/email",
                &[("new_email", "me@gmail.com"), ("current_password", crate::PASSWORD)],
            )
            .await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("Initech manages your account"), "{}", page.body);
        let page = browser
            .submit(
                "/account",
                "/account/email",
                &[("new_email", "renamed@initech.example"), ("current_password", crate::PASSWORD)],
            )
            .await;
        assert_eq!(
            page.location(),
            Some("/account/email?notice=email_change_sent"),
            "within the domain it can"
        );

        let notices = latchkey_testkit::eventually(
            "the managed notices",
            std::time::Duration::from_secs(10),
            || {
                let mails: Vec<_> = server
                    .sent_mail()
                    .into_iter()
                    .filter(|m| m.subject.contains("now managed by Initech"))
                    .collect();
                async move { (mails.len() >= 2).then_some(mails) }
            },
        )
        .await;
        let mut to: Vec<_> = notices.iter().map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            ["boss@initech.example", "worker@initech.example"],
            "each account once, nobody else"
        );
    }
}

on_both_engines! {
    async fn an_org_admin_verifies_a_domain_and_deactivates_a_managed_account_from_the_console(server: TestServer, dns: DnsStub) {
        let site = server.site_admin();
        let worker = verified_user(&server, "worker@globex.example").await;
        let boss = verified_user(&server, "boss@globex.example").await;
        let rival = verified_user(&server, "rival@hooli.example").await;
        let org = server
            .core.orgs()
            .create_organization(&site, "Globex", &Email::parse("boss@globex.example").unwrap())
            .await
            .unwrap();
        let other = server
            .core.orgs()
            .create_organization(&site, "Hooli", &Email::parse("rival@hooli.example").unwrap())
            .await
            .unwrap();
        let console = format!("/admin/org/{}", org.id);

        let account = boss.get("/account").await;
        assert!(account.body.contains(&console), "/account links the console");
        let page = boss
            .submit(&console, &format!("{console}/domains"), &[("domain", "Globex.Example")])
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page =
            boss.submit(&console, &format!("{console}/domains"), &[("domain", "gmail.com")]).await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("public email domain"));
        let shown = boss.get(&console).await;
        let txt = shown
            .body
            .split("<code>")
            .find(|c| c.starts_with("latchkey-verification="))
            .unwrap()
            .split("</code>")
            .next()
            .unwrap()
            .to_owned();
        assert!(txt.starts_with("latchkey-verification="), "{txt}");
        dns.set_txt("globex.example", &[&txt]);
        let page = boss
            .submit(&console, &format!("{console}/domains/verify"), &[("domain", "globex.example")])
            .await;
        assert_eq!(page.location(), Some(format!("{console}?notice=verified").as_str()));
        let shown = boss.get(&console).await;
        assert!(shown.body.contains("worker@globex.example"), "managed accounts are listed");
        assert!(!shown.body.contains("rival@hooli.example"));
        assert!(!shown.body.contains("can no longer be found"));

        // The proof goes away: the console says so at the top; the domain stays verified.
        dns.remove("globex.example");
        boss.submit(
            &console,
            &format!("{console}/domains/verify"),
            &[("domain", "globex.example")],
        )
        .await;
        let warned = boss.get(&console).await;
        assert!(
            warned.body.contains("The proof for globex.example can no longer be found"),
            "{}",
            warned.body
        );
        assert!(warned.body.contains("worker@globex.example"), "still managed");
        dns.set_txt("globex.example", &[&txt]);
        boss.submit(
            &console,
            &format!("{console}/domains/verify"),
            &[("domain", "globex.example")],
        )
        .await;
        let shown = boss.get(&console).await;
        assert!(
            !shown.body.contains("can no longer be found"),
            "the warning ends with the proof back"
        );

        // Another organization's admin: the console and its actions are "not found".
        assert_eq!(rival.get(&console).await.status, 404);
        let theirs = rival.get(&format!("/admin/org/{}", other.id)).await;
        let refused = rival
            .post_raw(
                &format!("/admin/org/{}/accounts/deactivate", other.id),
                &[("csrf_token", &theirs.csrf()), ("email", "worker@globex.example")],
            )
            .await;
        assert_eq!(refused.status, 404, "an account of another organization");
        assert_eq!(worker.get("/account").await.status, 200, "nothing changed");

        let page = boss
            .post_raw(
                &format!("{console}/accounts/deactivate"),
                &[("csrf_token", &shown.csrf()), ("email", "worker@globex.example")],
            )
            .await;
        assert_eq!(page.location(), Some(format!("{console}?notice=deactivated").as_str()));
        assert_eq!(worker.get("/account").await.status, 303, "signed out at the next request");

        // An admin cannot deactivate or close their own account (people ask; nobody locks
        // themselves out), and the console offers neither on their own row.
        for action in ["deactivate", "close"] {
            let page = boss
                .post_raw(
                    &format!("{console}/accounts/{action}"),
                    &[("csrf_token", &shown.csrf()), ("email", "boss@globex.example")],
                )
                .await;
            assert_eq!(page.status, 400, "{action}");
            assert!(page.body.contains("your own account"), "{}", page.body);
        }
        assert_eq!(boss.get("/account").await.status, 200, "still signed in");
    }
}

on_both_engines! {
    async fn domains_are_rechecked_in_the_background(server: TestServer, dns: DnsStub) {
        let site = server.site_admin();
        let boss = account(&server, "boss@wonka.example").await;
        let org = server.core.orgs().create_organization(&site, "Wonka", &boss).await.unwrap();
        let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
        let domain = server.core.orgs().add_domain(&admin, "wonka.example").await.unwrap();
        server.core.orgs().add_domain(&admin, "never.example").await.unwrap();
        assert_eq!(server.core.orgs().recheck_due_domains().await.unwrap(), 0, "nothing due yet");

        // Published later: the background check verifies it.
        dns.set_txt("wonka.example", &[&domain.txt_record()]);
        server.clock.advance(301);
        assert_eq!(server.core.orgs().recheck_due_domains().await.unwrap(), 2);
        let status = |name: &'static str| {
            let core = server.core.clone();
            let admin = admin.clone();
            async move {
                core.orgs().list_domains(&admin)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|d| d.domain.as_str() == name)
                    .unwrap()
            }
        };
        assert_eq!(status("wonka.example").await.status, DomainStatus::Verified);
        assert_eq!(status("never.example").await.status, DomainStatus::Pending);

        // The proof disappears: still verified, the admins warned once.
        dns.remove("wonka.example");
        server.clock.advance(24 * 3600 + 1);
        server.core.orgs().recheck_due_domains().await.unwrap();
        let wonka = status("wonka.example").await;
        assert_eq!(wonka.status, DomainStatus::Verified, "never silently dropped");
        assert!(wonka.last_error.is_some());
        server.clock.advance(24 * 3600 + 1);
        server.core.orgs().recheck_due_domains().await.unwrap();
        let warnings =
            latchkey_testkit::eventually("the warning", std::time::Duration::from_secs(10), || {
                let n = server
                    .sent_mail()
                    .iter()
                    .filter(|m| {
                        m.subject.contains("verification proof of wonka.example is missing")
                    })
                    .count();
                async move { (n > 0).then_some(n) }
            })
            .await;
        assert_eq!(warnings, 1, "once per disappearance");

        // Never published: given up after seven days.
        for _ in 0..40 {
            server.clock.advance(6 * 3600);
            server.core.orgs().recheck_due_domains().await.unwrap();
        }
        let never = status("never.example").await;
        assert_eq!(never.status, DomainStatus::Failed);
        assert!(never.last_error.unwrap().contains("seven days"));
        assert_eq!(never.next_check_at, None, "no more checks");
    }
}

on_both_engines! {
    async fn managed_accounts_show_their_activity_and_the_api_acts_on_them(server: TestServer, dns: DnsStub) {
        managed_accounts_over_the_api(&server, &dns).await;
    }
}

async fn managed_accounts_over_the_api(server: &TestServer, dns: &DnsStub) {
    use super::oidc::{GrantType, SigningAlg, code_for, register, token_request};
    let site = server.site_admin();
    let worker = verified_user(server, "worker@initech.example").await;
    let boss = account(server, "boss@initech.example").await;
    account(server, "someone@other.example").await;
    let org = server.core.orgs().create_organization(&site, "Initech", &boss).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let domain = server.core.orgs().add_domain(&admin, "initech.example").await.unwrap();
    dns.set_txt("initech.example", &[&domain.txt_record()]);
    server.core.orgs().verify_domain(&admin, "initech.example").await.unwrap();

    // The worker signs in to a product: the console knows when, and which product.
    let tracker =
        register(server, "Tracker", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode])
            .await;
    let code = code_for(server, &worker, &tracker, None).await;
    let (status, _) = token_request(
        server,
        &tracker,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", super::oidc::CALLBACK),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let managed = server.core.orgs().managed_accounts(&admin, 100).await.unwrap();
    let row =
        |email: &str| managed.iter().find(|m| m.account.email.as_str() == email).unwrap().clone();
    assert_eq!(row("worker@initech.example").products, vec!["Tracker".to_owned()]);
    assert!(row("worker@initech.example").last_active_at.is_some());
    assert_eq!(
        (row("boss@initech.example").last_active_at, row("boss@initech.example").products.len()),
        (None, 0)
    );
    assert!(managed.iter().all(|m| m.account.email.as_str() != "someone@other.example"));

    // The admin API: list, then act.
    let operator = server
        .core
        .accounts()
        .create_account(
            &site,
            CreateAccountRequest {
                email: Email::parse("ops@site.example").unwrap(),
                name: DisplayName::parse("Ops").unwrap(),
                password: None,
                email_verified: true,
                site_admin: true,
            },
        )
        .await
        .unwrap();
    let token =
        server.core.accounts().create_admin_token(&site, &operator.email, "orgs").await.unwrap().1;
    let http = super::oidc::http();
    let call = |method: &str, path: String, body: Option<serde_json::Value>| {
        let mut req = http
            .request(
                method.parse().unwrap(),
                format!("{}/api/v1/orgs/{}{path}", server.url, org.id),
            )
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (status, listed) = call("GET", "/accounts".into(), None).await;
    assert_eq!(status, 200);
    let worker_json = listed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "worker@initech.example")
        .unwrap()
        .clone();
    assert_eq!(worker_json["products"], serde_json::json!(["Tracker"]));
    assert!(worker_json["last_active_at"].is_string());

    let act = |action: &str| format!("/accounts/worker@initech.example/{action}");
    let (status, body) = call("POST", act("deactivate"), None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("deactivated")), "{body}");
    let page = worker.get("/account").await;
    assert_eq!(page.status, 303, "deactivation ends the worker's session at the next request");
    let (status, body) = call("POST", act("reactivate"), None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("active")), "{body}");
    let (status, body) =
        call("POST", act("rename"), Some(serde_json::json!({ "name": "Milton" }))).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Milton")), "{body}");
    let (status, body) =
        call("POST", act("change-email"), Some(serde_json::json!({ "email": "milton@gmail.com" })))
            .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let (status, body) =
        call("POST", act("rename"), Some(serde_json::json!({ "nmae": "typo" }))).await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    let (status, _) = call("POST", act("self-destruct"), None).await;
    assert_eq!(status, 404);

    // Another organization's (or nobody's) account: 404 either way, and the attempt is audited.
    let (status, body) = call("POST", "/accounts/someone@other.example/close".into(), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, _) = call("POST", "/accounts/ghost@initech.example/deactivate".into(), None).await;
    assert_eq!(status, 404);
    let other = server
        .core
        .accounts()
        .find_account(&site, &Email::parse("someone@other.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(other.is_active(), "nothing changed");
    let filter =
        AuditFilter { event: Some("account.action_refused".into()), ..AuditFilter::default() };
    let refused = server
        .core
        .audit()
        .audit_events(&AuditScope::Org(admin.clone()), &filter, 10)
        .await
        .unwrap();
    let targets: Vec<(&str, &str)> =
        refused.iter().map(|e| (e.target.as_str(), e.outcome.as_str())).collect();
    assert_eq!(
        targets,
        [("someone@other.example", "refused"), ("ghost@initech.example", "refused")]
    );
    assert!(
        refused.iter().all(|e| e.target_id.is_none()),
        "the account behind the address is never named"
    );
}

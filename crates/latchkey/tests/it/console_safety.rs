//! The consoles' safety rails (issue 16's defects): destructive actions ask first on their own
//! page, nobody deactivates themselves or the last site admin (not even two admins at once),
//! bad query values get the normal error page, and a used verification link opened by its
//! verified owner says so.

use latchkey_core::accounts::Email;
use latchkey_core::flows::SetStatusError;
use latchkey_testkit::TestServer;

use super::console::sign_in_as_site_admin;
use super::{PASSWORD, verified_user};

async fn site_admin_account(server: &TestServer, email: &str) {
    let email = Email::parse(email).unwrap();
    server
        .core
        .accounts()
        .create_account(
            &server.site_admin(),
            latchkey_core::flows::CreateAccountRequest {
                name: latchkey_core::accounts::DisplayName::from_email(&email),
                email,
                password: Some(latchkey_core::credentials::Password::parse(PASSWORD).unwrap()),
                email_verified: true,
                site_admin: true,
            },
        )
        .await
        .unwrap();
}

on_both_engines! {
    async fn destructive_actions_ask_first_and_spare_the_site_admins(server: TestServer) {
        let member = verified_user(&server, "member@example.com").await;
        let admin = sign_in_as_site_admin(&server).await;
        let users = admin.get("/admin/users").await;
        assert!(users.contains("/admin/users/deactivate?email=member%40example.com"), "{}", users.body);
        // The link asks; asking changes nothing.
        for (path, words) in [
            ("/admin/users/deactivate", "Deactivate member@example.com?"),
            ("/admin/users/close", "Close member@example.com?"),
            ("/admin/users/reset-two-factor", "Reset the two-step verification of member@example.com?"),
        ] {
            let confirm = admin.get(&format!("{path}?email=member%40example.com")).await;
            assert_eq!(confirm.status, 200, "{}", confirm.body);
            assert!(confirm.contains(words) && confirm.contains(r#"name="email" value="member@example.com""#), "{}", confirm.body);
        }
        assert_eq!(member.get("/account").await.status, 200, "still signed in after the questions");
        assert_eq!(admin.get("/admin/users/deactivate?email=nobody%40example.com").await.status, 404);
        assert_eq!(admin.get("/admin/users/deactivate?email=not-an-email").await.status, 400);
        let confirm = admin.get("/admin/users/deactivate?email=member%40example.com").await;
        let done = admin.post_raw("/admin/users/deactivate", &[("csrf_token", &confirm.csrf()), ("email", "member@example.com")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(member.get("/account").await.status, 303, "signed out");

        // Not oneself, from the console or anywhere.
        let confirm = admin.get("/admin/users/deactivate?email=root%40example.com").await;
        let own = admin.post_raw("/admin/users/deactivate", &[("csrf_token", &confirm.csrf()), ("email", "root@example.com")]).await;
        assert_eq!(own.status, 403, "{}", own.body);
        assert!(own.contains("your own account"), "{}", own.body);
        let own_close = admin.post_raw("/admin/users/close", &[("csrf_token", &confirm.csrf()), ("email", "root@example.com")]).await;
        assert_eq!(own_close.status, 403);
        assert_eq!(admin.get("/admin").await.status, 200, "still a working site admin");

        // The operator (CLI) cannot take away the last active site admin either.
        let root = Email::parse("root@example.com").unwrap();
        let err = server.core.accounts().deactivate_account(&server.site_admin(), &root).await.unwrap_err();
        assert!(matches!(err, SetStatusError::LastSiteAdmin), "{err}");
        let err = server.core.accounts().close_account(&server.site_admin(), &root).await.unwrap_err();
        assert!(matches!(err, SetStatusError::LastSiteAdmin), "{err}");
    }
}

on_both_engines! {
    async fn two_site_admins_deactivating_each_other_at_once_leave_one(server: TestServer) {
        site_admin_account(&server, "ann@example.com").await;
        site_admin_account(&server, "ben@example.com").await;
        for round in 0..3 {
            let ann = server.browser();
            ann.log_in("ann@example.com", PASSWORD).await;
            let ben = server.browser();
            ben.log_in("ben@example.com", PASSWORD).await;
            let ann_confirm = ann.get("/admin/users/deactivate?email=ben%40example.com").await;
            let ben_confirm = ben.get("/admin/users/deactivate?email=ann%40example.com").await;
            let (ann_csrf, ben_csrf) = (ann_confirm.csrf(), ben_confirm.csrf());
            let ann_fields = [("csrf_token", ann_csrf.as_str()), ("email", "ben@example.com")];
            let ben_fields = [("csrf_token", ben_csrf.as_str()), ("email", "ann@example.com")];
            let (a, b) = tokio::join!(
                ann.post_raw("/admin/users/deactivate", &ann_fields),
                ben.post_raw("/admin/users/deactivate", &ben_fields),
            );
            // Success is the list with its notice; the loser is refused, or finds itself
            // signed out (its session ended with the deactivation).
            let done = [&a, &b].iter().filter(|p| p.location() == Some("/admin/users?notice=deactivated")).count();
            assert!(done <= 1, "round {round}: both succeeded ({:?}, {:?})", a.location(), b.location());
            let site = server.site_admin();
            let mut active = 0;
            for who in ["ann@example.com", "ben@example.com"] {
                let account = server.core.accounts().find_account(&site, &Email::parse(who).unwrap()).await.unwrap().unwrap();
                if account.is_active() {
                    active += 1;
                    continue;
                }
                server.core.accounts().reactivate_account(&site, &Email::parse(who).unwrap()).await.unwrap();
            }
            assert!(active >= 1, "round {round}: an active site admin remains");
        }
    }
}

on_both_engines! {
    async fn org_consoles_ask_before_deactivating_closing_or_resetting(server: TestServer, dns: DnsStub) {
        let boss = verified_user(&server, "boss@acme.test").await;
        let worker = verified_user(&server, "worker@acme.test").await;
        let org = crate::hardening::authority::verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let console = boss.get(&format!("/admin/org/{}", org.id)).await;
        assert!(console.contains(&format!("/admin/org/{}/accounts/deactivate?email=worker%40acme.test", org.id)), "{}", console.body);
        for (path, words) in [("deactivate?", "Deactivate worker@acme.test?"), ("close?", "Close worker@acme.test?")] {
            let confirm = boss.get(&format!("/admin/org/{}/accounts/{path}email=worker%40acme.test", org.id)).await;
            assert_eq!(confirm.status, 200, "{}", confirm.body);
            assert!(confirm.contains(words), "{}", confirm.body);
        }
        assert_eq!(worker.get("/account").await.status, 200, "asking changed nothing");
        let confirm = boss.get(&format!("/admin/org/{}/accounts/deactivate?email=worker%40acme.test", org.id)).await;
        let done = boss
            .post_raw(&format!("/admin/org/{}/accounts/deactivate", org.id), &[("csrf_token", &confirm.csrf()), ("email", "worker@acme.test")])
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(worker.get("/account").await.status, 303);
        // Another person's console: not found.
        let outsider = verified_user(&server, "eve@elsewhere.test").await;
        assert_eq!(outsider.get(&format!("/admin/org/{}/accounts/close?email=worker%40acme.test", org.id)).await.status, 404);
    }
}

on_both_engines! {
    async fn sign_out_everywhere_asks_first(server: TestServer) {
        let me = verified_user(&server, "me@example.com").await;
        let account = me.get("/account/sessions").await;
        assert!(account.contains(r#"href="/account/sessions/end-all""#), "{}", account.body);
        let confirm = me.get("/account/sessions/end-all").await;
        assert_eq!(confirm.status, 200);
        assert!(confirm.contains("Sign out everywhere?"));
        assert_eq!(me.get("/account").await.status, 200, "asking signs nobody out");
        let done = me.post_raw("/account/sessions/end-all", &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(done.status, 303);
        assert_eq!(me.get("/account").await.status, 303);
    }
}

on_both_engines! {
    async fn bad_query_values_get_the_error_page(server: TestServer) {
        let admin = sign_in_as_site_admin(&server).await;
        for path in ["/admin/users?status=abc", "/admin/users?after=-", "/admin/users?q=a&q=b&status=closed&status=x"] {
            let page = admin.get(path).await;
            assert_eq!(page.status, 400, "{path}: {}", page.body);
            assert!(page.contains("This address is not valid"), "{path}: {}", page.body);
            assert!(!page.contains("invalid digit") && !page.contains("Failed to deserialize") && !page.contains("duplicate field"), "{path}: {}", page.body);
        }
        assert_eq!(admin.get("/admin/users?status=active").await.status, 200);
        assert_eq!(admin.get("/admin/users?q=&status=").await.status, 200, "the form's empty fields");
    }
}

on_both_engines! {
    async fn a_used_verification_link_tells_its_verified_owner_so(server: TestServer) {
        let me = verified_user(&server, "me@example.com").await;
        let token = server.mail_to("me@example.com", 1).await.token_for("/verify-email");
        let again = me.get(&format!("/verify-email?token={token}")).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.contains("is verified"), "{}", again.body);
        assert!(!again.contains("expired"), "{}", again.body);
        // Signed out, the same link says only that it cannot be used.
        let stranger = server.browser().get(&format!("/verify-email?token={token}")).await;
        assert_eq!(stranger.status, 400);
        assert!(!stranger.contains("me@example.com"));
    }
}

on_both_engines! {
    async fn the_account_list_searches_by_prefix_and_pages_both_ways(server: TestServer) {
        let site = server.site_admin();
        for i in 0..230 {
            let email = Email::parse(&format!("person{i:03}@example.com")).unwrap();
            let name = if i % 10 == 0 { format!("Zoë Special {i}") } else { format!("Person {i}") };
            server
                .core
                .accounts()
                .create_account(
                    &site,
                    latchkey_core::flows::CreateAccountRequest {
                        name: latchkey_core::accounts::DisplayName::parse(&name).unwrap(),
                        email,
                        password: None,
                        email_verified: true,
                        site_admin: false,
                    },
                )
                .await
                .unwrap();
        }
        let admin = sign_in_as_site_admin(&server).await;
        // Page 1 → 2 → 3, then back to 2: the same accounts as on the way forward.
        let first = admin.get("/admin/users").await;
        assert_eq!(first.status, 200);
        assert!(!first.contains(r#"rel="prev""#));
        let next = |page: &latchkey_testkit::Page, rel: &str| {
            let at = page.body.find(&format!(r#"rel="{rel}""#)).unwrap();
            let start = page.body[..at].rfind("href=\"").unwrap() + 6;
            let end = start + page.body[start..].find('"').unwrap();
            page.body[start..end].replace("&amp;", "&").replace("&#38;", "&")
        };
        let second = admin.get(&next(&first, "next")).await;
        let third = admin.get(&next(&second, "next")).await;
        assert!(!third.contains(r#"rel="next""#), "231 accounts: three pages of 100");
        // Every account exactly once on the way forward (many were made in the same second:
        // the id breaks the tie), and the way back shows the same second page.
        let emails = |p: &latchkey_testkit::Page| -> Vec<String> {
            p.body
                .match_indices("@example.com</a>")
                .map(|(at, _)| {
                    let start = p.body[..at].rfind('>').unwrap() + 1;
                    p.body[start..at].to_owned()
                })
                .collect()
        };
        let mut all: Vec<String> = [&first, &second, &third].iter().flat_map(|p| emails(p)).collect();
        assert_eq!(all.len(), 231);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 231, "no account twice");
        let back = admin.get(&next(&third, "prev")).await;
        assert_eq!(emails(&back), emails(&second));
        assert_eq!(emails(&admin.get(&next(&second, "prev")).await), emails(&first));

        // Prefix of the email or of the name, case-insensitive; the status filter.
        let found = admin.get("/admin/users?q=PERSON12").await;
        for i in 120..130 {
            assert!(found.contains(&format!("person{i}@example.com")), "person{i}");
        }
        assert!(!found.contains("person130@example.com") && !found.contains("person012@example.com"));
        let by_name = admin.get("/admin/users?q=zo%C3%AB%20sp").await;
        assert_eq!(by_name.body.matches("Zoë Special").count(), 23, "{}", by_name.body);
        let closed = admin.get("/admin/users?status=closed").await;
        assert!(closed.contains("No accounts match."));

        // A search pages in the order of the text that matched (the address, else the name),
        // both ways, every match once: 230 addresses and three names starting with "person".
        for i in 0..3 {
            server
                .core
                .accounts()
                .create_account(
                    &site,
                    latchkey_core::flows::CreateAccountRequest {
                        name: latchkey_core::accounts::DisplayName::parse(&format!("Personal Assistant {i}")).unwrap(),
                        email: Email::parse(&format!("pa{i}@example.com")).unwrap(),
                        password: None,
                        email_verified: true,
                        site_admin: false,
                    },
                )
                .await
                .unwrap();
        }
        let first = admin.get("/admin/users?q=Person").await;
        let second = admin.get(&next(&first, "next")).await;
        let third = admin.get(&next(&second, "next")).await;
        assert!(!third.contains(r#"rel="next""#), "233 matches: three pages of 100");
        let found: Vec<String> = [&first, &second, &third].iter().flat_map(|p| emails(p)).collect();
        let mut expected: Vec<String> = (0..230).map(|i| format!("person{i:03}")).collect();
        expected.extend((0..3).map(|i| format!("pa{i}")));
        assert_eq!(found, expected, "address matches in address order, then the name matches");
        assert_eq!(emails(&admin.get(&next(&third, "prev")).await), emails(&second));
        assert_eq!(emails(&admin.get(&next(&second, "prev")).await), emails(&first));
        assert!(next(&second, "next").contains("q=Person"), "the links keep the search");
        // Hostile or broken values: the error page, never a database error.
        for path in ["/admin/users?status=gone", "/admin/users?after=abc", "/admin/users?after=1.x%27%20OR%201=1--", "/admin/users?after=1.a&before=2.b", "/admin/users?q=person&after=1.a", "/admin/users?after=m.a.person", "/admin/users?q=person&after=m..x", "/admin/users?q=person&after=m.a%27.x", "/admin/users?q=person&before=m.a.%00"] {
            let page = admin.get(path).await;
            assert_eq!(page.status, 400, "{path}: {}", page.body);
        }
        let sneaky = admin.get("/admin/users?q=%25").await;
        assert!(sneaky.contains("No accounts match."), "a % is a character, not a wildcard");
    }
}

on_both_engines! {
    async fn an_account_has_a_detail_page_with_its_sessions_and_events(server: TestServer) {
        let member = verified_user(&server, "member@example.com").await;
        let admin = sign_in_as_site_admin(&server).await;
        let list = admin.get("/admin/users?q=member").await;
        assert!(list.contains(r#"href="/admin/users/account?email=member%40example.com""#), "{}", list.body);
        let page = admin.get("/admin/users/account?email=member%40example.com").await;
        assert_eq!(page.status, 200, "{}", page.body);
        for expected in ["Two-step verification", "Off", "Sessions", "email.verified", "Deactivate"] {
            assert!(page.contains(expected), "{expected}: {}", page.body);
        }
        // End the member's session from here: that browser is signed out.
        let start = page.body.find(r#"name="session" value=""#).unwrap() + r#"name="session" value=""#.len();
        let session = page.body[start..start + page.body[start..].find('"').unwrap()].to_owned();
        let ended = admin
            .post_raw("/admin/users/sessions/end", &[("csrf_token", &page.csrf()), ("email", "member@example.com"), ("session", &session)])
            .await;
        assert_eq!(ended.status, 303, "{}", ended.body);
        assert_eq!(member.get("/account").await.status, 303);
        // Deactivated, then reactivated from the page.
        let confirm = admin.get("/admin/users/deactivate?email=member%40example.com").await;
        admin.post_raw("/admin/users/deactivate", &[("csrf_token", &confirm.csrf()), ("email", "member@example.com")]).await;
        let page = admin.get("/admin/users/account?email=member%40example.com").await;
        assert!(page.contains("deactivated") && page.contains("Reactivate"), "{}", page.body);
        let back = admin.post_raw("/admin/users/reactivate", &[("csrf_token", &page.csrf()), ("email", "member@example.com")]).await;
        assert_eq!(back.status, 303);
        member.log_in("member@example.com", PASSWORD).await;
        assert_eq!(admin.get("/admin/users/account?email=nobody%40example.com").await.status, 404);
        assert_eq!(member.get("/admin/users/account?email=member%40example.com").await.status, 403, "site admins only");
    }
}

on_both_engines! {
    async fn the_login_page_names_the_product_and_consent_offers_another_account(server: TestServer) {
        use latchkey_core::oidc_provider::GrantType;
        use latchkey_protocol::jose::SigningAlg;
        let wiki = crate::oidc::register(&server, "Wiki", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let authorize = format!(
            "/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s",
            wiki.id,
            url::form_urlencoded::byte_serialize(crate::oidc::CALLBACK.as_bytes()).collect::<String>()
        );
        let browser = server.browser();
        let to_login = browser.get(&authorize).await;
        let login = browser.get(to_login.location().unwrap()).await;
        assert!(login.contains("to continue to <strong>Wiki</strong>"), "{}", login.body);
        // Every page has the favicon and the footer.
        assert!(login.contains("/assets/favicon.svg") && login.contains("site-footer"));
        assert_eq!(browser.get("/assets/favicon.svg").await.header("content-type"), Some("image/svg+xml"));
    }
}

on_both_engines! {
    async fn the_platform_page_revokes_admin_tokens_and_rotates_keys_after_asking(server: TestServer) {
        let admin = sign_in_as_site_admin(&server).await;
        let token = crate::admin_api::site_admin_token(&server, "ops@example.com").await;
        let page = admin.get("/admin/platform").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let kids_before = page.body.matches("<td><code>").count();
        let start = page.body.find("/admin/platform/tokens/revoke?token=").unwrap();
        let href = &page.body[start..start + page.body[start..].find('"').unwrap()];
        let confirm = admin.get(&href.replace("&amp;", "&")).await;
        assert!(confirm.contains("Revoke the token"), "{}", confirm.body);
        let (status, _) = crate::admin_api::call(&server, "GET", "/users", Some(&token), None).await;
        assert_eq!(status, 200, "asking revoked nothing");
        let id = &href["/admin/platform/tokens/revoke?token=".len()..];
        let done = admin.post_raw("/admin/platform/tokens/revoke", &[("csrf_token", &confirm.csrf()), ("token", id)]).await;
        assert_eq!(done.status, 303);
        let (status, _) = crate::admin_api::call(&server, "GET", "/users", Some(&token), None).await;
        assert_eq!(status, 401);
        // Rotation: after its confirmation, more keys are published.
        let confirm = admin.get("/admin/platform/keys/rotate").await;
        assert!(confirm.contains("Rotate the keys"));
        let done = admin.post_raw("/admin/platform/keys/rotate", &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(done.status, 303);
        let after = admin.get("/admin/platform").await;
        assert!(after.body.matches("<td><code>").count() > kids_before, "{}", after.body);
    }
}

on_both_engines! {
    async fn sessions_and_admin_tokens_over_the_api_and_the_cli(server: TestServer) {
        use crate::admin_api::{call, site_admin_token};
        let member = verified_user(&server, "member@example.com").await;
        let token = site_admin_token(&server, "ops@example.com").await;
        let (status, body) = call(&server, "GET", "/users/member@example.com/sessions", Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
        let id = body["sessions"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/users/member@example.com/sessions/{id}");
        let (status, _) = call(&server, "DELETE", &path, Some(&token), None).await;
        assert_eq!(status, 204);
        assert_eq!(member.get("/account").await.status, 303, "that browser is signed out");
        let (status, _) = call(&server, "DELETE", &path, Some(&token), None).await;
        assert_eq!(status, 404);
        let ended = crate::audit_events(&server, "session.ended").await;
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].actor, "ops@example.com", "the admin's act, not the person's logout");

        let (status, body) = call(&server, "GET", "/admin-tokens", Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.to_string().contains(&token), "never the token itself");
        let own = body["tokens"][0]["id"].as_str().unwrap().to_owned();
        let (status, _) = call(&server, "DELETE", &format!("/admin-tokens/{own}"), Some(&token), None).await;
        assert_eq!(status, 204);
        let (status, _) = call(&server, "GET", "/admin-tokens", Some(&token), None).await;
        assert_eq!(status, 401, "revoked at once");
    }
}

on_both_engines! {
    async fn site_admins_are_made_and_removed_but_never_the_last_or_oneself(server: TestServer) {
        let member = verified_user(&server, "member@example.com").await;
        let admin = sign_in_as_site_admin(&server).await;
        assert_eq!(member.get("/admin").await.status, 403);
        // Console: ask, then make.
        let confirm = admin.get("/admin/users/site-admin?make=1&email=member%40example.com").await;
        assert!(confirm.contains("Make member@example.com a site administrator?"), "{}", confirm.body);
        assert_eq!(member.get("/admin").await.status, 403, "asking changed nothing");
        let done = admin.post_raw("/admin/users/site-admin", &[("csrf_token", &confirm.csrf()), ("email", "member@example.com"), ("make", "1")]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(member.get("/admin").await.status, 200, "a site admin now");
        // Not oneself.
        let own = admin.post_raw("/admin/users/site-admin", &[("csrf_token", &confirm.csrf()), ("email", "root@example.com"), ("make", "0")]).await;
        assert_eq!(own.status, 403);
        // The API and the CLI's core take it away again; the console closes at once.
        let token = crate::admin_api::site_admin_token(&server, "ops@example.com").await;
        let (status, body) = crate::admin_api::call(&server, "PUT", "/users/member@example.com/site-admin", Some(&token), Some(serde_json::json!({ "site_admin": false }))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["site_admin"], false);
        assert_eq!(member.get("/admin").await.status, 403);
        let events = crate::audit_events(&server, "account.site_admin_granted").await;
        assert_eq!(events.len(), 1);
        // Two admins removing each other at once: one stays.
        let site = server.site_admin();
        let root = Email::parse("root@example.com").unwrap();
        // Only root and ann remain site admins (ops is removed first).
        let ops = Email::parse("ops@example.com").unwrap();
        server.core.accounts().set_site_admin(&site, &ops, false).await.unwrap();
        site_admin_account(&server, "ann@example.com").await;
        let ann = Email::parse("ann@example.com").unwrap();
        let root_admin = server.signed_in(&admin).await;
        let root_admin = latchkey_core::flows::SiteAdmin::of(&root_admin).unwrap();
        let ann_browser = server.browser();
        ann_browser.log_in("ann@example.com", PASSWORD).await;
        let ann_admin = server.signed_in(&ann_browser).await;
        let ann_admin = latchkey_core::flows::SiteAdmin::of(&ann_admin).unwrap();
        let accounts = server.core.accounts();
        let (a, b) = tokio::join!(accounts.set_site_admin(&root_admin, &ann, false), accounts.set_site_admin(&ann_admin, &root, false));
        assert!(!(a.is_ok() && b.is_ok()), "not both: {a:?} {b:?}");
        // The operator cannot take away the last one either.
        if a.is_ok() || b.is_ok() {
            let last = if a.is_ok() { &root } else { &ann };
            let err = accounts.set_site_admin(&site, last, false).await.unwrap_err();
            assert!(matches!(err, SetStatusError::LastSiteAdmin), "{err}");
        }
    }
}

on_both_engines! {
    async fn the_account_list_filters_by_organization_and_two_step(server: TestServer, dns: DnsStub) {
        verified_user(&server, "boss@acme.test").await;
        verified_user(&server, "worker@acme.test").await;
        verified_user(&server, "outsider@elsewhere.test").await;
        let org = crate::hardening::authority::verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let tsv = verified_user(&server, "tsv@example.com").await;
        crate::two_factor::enrol(&server, &tsv).await;
        let admin = sign_in_as_site_admin(&server).await;
        let by_org = admin.get(&format!("/admin/users?org={}", org.id)).await;
        assert_eq!(by_org.status, 200, "{}", by_org.body);
        assert!(by_org.contains(">boss@acme.test<") && by_org.contains(">worker@acme.test<"), "{}", by_org.body);
        assert!(!by_org.contains(">outsider@elsewhere.test<") && !by_org.contains(">tsv@example.com<"));
        let on = admin.get("/admin/users?two_step=on").await;
        assert!(on.contains(">tsv@example.com<") && !on.contains(">worker@acme.test<"), "{}", on.body);
        let off = admin.get(&format!("/admin/users?two_step=off&org={}", org.id)).await;
        assert!(off.contains(">worker@acme.test<") && off.contains(">boss@acme.test<"), "{}", off.body);
        assert!(!off.contains(">tsv@example.com<"));
        assert_eq!(admin.get("/admin/users?two_step=maybe").await.status, 400);
        assert!(admin.get("/admin/users?org=no-such-org").await.contains("No accounts match."));
    }
}

on_both_engines! {
    async fn a_site_admin_invites_someone_and_sends_a_reset_link(server: TestServer) {
        let admin = sign_in_as_site_admin(&server).await;
        let users = admin.get("/admin/users").await;
        assert!(users.contains("Invite someone"), "{}", users.body);
        let bad = admin.post_raw("/admin/users/invite", &[("csrf_token", &users.csrf()), ("email", "not an email"), ("name", "")]).await;
        assert_eq!(bad.status, 400);
        let invited = admin.post_raw("/admin/users/invite", &[("csrf_token", &users.csrf()), ("email", "newbie@example.com"), ("name", "Nia Newbie")]).await;
        assert_eq!(invited.location(), Some("/admin/users/account?email=newbie%40example.com&notice=invited"));
        let again = admin.post_raw("/admin/users/invite", &[("csrf_token", &users.csrf()), ("email", "newbie@example.com"), ("name", "")]).await;
        assert_eq!(again.status, 409, "one account per address");
        let page = admin.get("/admin/users/account?email=newbie%40example.com").await;
        assert!(page.contains("no password") && page.contains("Products used"), "{}", page.body);

        // The invitation names the inviter; its link sets the password and verifies the address.
        let mail = server.mail_to("newbie@example.com", 1).await;
        assert_eq!(mail.subject, "Your account is ready: choose a password");
        assert!(mail.decoded.contains("made you an account"), "{}", mail.decoded);
        let token = mail.token_for("/reset-password");
        let b = server.browser();
        let chosen = b
            .submit(&format!("/reset-password?token={token}"), "/reset-password", &[("token", &token), ("password", PASSWORD), ("password_confirm", PASSWORD)])
            .await;
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        let person = server.browser();
        person.log_in("newbie@example.com", PASSWORD).await;
        assert!(person.get("/account").await.contains(">Verified<"), "the link proved the address");

        // A reset link on request: mailed, nothing changed until it is used.
        let page = admin.get("/admin/users/account?email=newbie%40example.com").await;
        let sent = admin.post_raw("/admin/users/send-reset", &[("csrf_token", &page.csrf()), ("email", "newbie@example.com")]).await;
        assert_eq!(sent.location(), Some("/admin/users/account?email=newbie%40example.com&notice=reset_sent"));
        // The invitation, the "password set" notice, and the reset link.
        server.mail_to("newbie@example.com", 3).await;
        let subjects: Vec<String> = server.mails_to("newbie@example.com").into_iter().map(|m| m.subject).collect();
        assert!(subjects.iter().any(|s| s == "Reset your password"), "{subjects:?}");
        assert_eq!(person.get("/account").await.status, 200, "still signed in: nothing changed yet");
        let unknown = admin.post_raw("/admin/users/send-reset", &[("csrf_token", &page.csrf()), ("email", "ghost@example.com")]).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(crate::audit_events(&server, "account.invited").await.len(), 1);
        assert_eq!(crate::audit_events(&server, "password.reset_sent").await.len(), 1);
    }
}

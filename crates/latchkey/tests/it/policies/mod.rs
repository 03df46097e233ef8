//! Authentication policies end to end: an expired password and enforced two-step verification
//! as steps in the middle of an OpenID authorization, session limits at the SSO hop and on
//! refresh tokens, password history and the common list, site admins' break-glass access, the
//! preview, the audit trail, and policy changes reaching another node.

use base64::Engine as _;
use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::credentials::Password;
use latchkey_core::flows::CreateAccountRequest;
use latchkey_core::orgs::{DomainStatus, OrgAdmin};
use latchkey_core::policies::{PolicyChange, PolicyEditor, PolicySettings};
use latchkey_testkit::{Browser, DnsStub, TestServer};

use super::oidc::{
    CALLBACK, GrantType, Product, SigningAlg, follow_to_callback, param, register, token_request,
};
use super::{PASSWORD, audit_events, verified_user};

const DAY: i64 = 24 * 3600;
const NEW_PASSWORD: &str = "vellum quarry lantern 71";

/// Acme, with `boss@acme.example` as its admin and `acme.example` verified.
pub(crate) async fn acme(server: &TestServer, dns: &DnsStub) -> OrgAdmin {
    let site = server.site_admin();
    let boss = account(server, "boss@acme.example", false).await;
    let org = server.core.orgs().create_organization(&site, "Acme", &boss).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let added = server.core.orgs().add_domain(&admin, "acme.example").await.unwrap();
    dns.set_txt("acme.example", &[&added.txt_record()]);
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Verified, "{}", check.detail);
    admin
}

pub(crate) async fn account(server: &TestServer, email: &str, site_admin: bool) -> Email {
    let email = Email::parse(email).unwrap();
    server
        .core
        .accounts()
        .create_account(
            &server.site_admin(),
            CreateAccountRequest {
                name: DisplayName::from_email(&email),
                email: email.clone(),
                password: Some(Password::parse(PASSWORD).unwrap()),
                email_verified: true,
                site_admin,
            },
        )
        .await
        .unwrap();
    email
}

async fn set_policy(server: &TestServer, admin: &OrgAdmin, settings: PolicySettings, renew: bool) {
    let change = PolicyChange { name: None, settings, require_new_password: renew };
    server.core.policies().update(PolicyEditor::Org(admin), "default", &change).await.unwrap();
}

fn authorize_url(product: &Product) -> String {
    format!(
        "/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20email&state=st&nonce=n",
        product.id,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    )
}

/// Opens the product's authorization request in a browser without a session and logs in;
/// returns the answer to the login form.
async fn sign_in_for(
    browser: &Browser,
    url: &str,
    email: &str,
    password: &str,
) -> latchkey_testkit::Page {
    let page = browser.get(url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let login = page.location().unwrap().to_owned();
    assert!(login.starts_with("/login?"), "{login}");
    let form = browser.get(&login).await;
    let next = latchkey_testkit::hidden_input(&form.body, "next").unwrap();
    browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", &form.csrf()),
                ("email", email),
                ("password", password),
                ("next", &next),
            ],
        )
        .await
}

/// The ID token's claims (its signature is the relying-party tests' business).
fn claims(id_token: &str) -> serde_json::Value {
    let payload = id_token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn redeem(
    server: &TestServer,
    product: &Product,
    callback: &[(String, String)],
) -> serde_json::Value {
    let code = param(callback, "code").expect("a code").to_owned();
    let (status, tokens) = token_request(
        server,
        product,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

on_both_engines! {
    async fn an_expired_password_is_replaced_in_the_middle_of_an_authorization(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let _ = verified_user(&server, "ann@acme.example").await;
        let product = register(&server, "Tracker", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let settings = PolicySettings { password_max_age_days: 30, password_history: 3, ..PolicySettings::default() };
        set_policy(&server, &admin, settings, false).await;

        // The day before expiry: straight through.
        server.clock.advance(29 * DAY);
        let early = server.browser();
        let page = sign_in_for(&early, &authorize_url(&product), "ann@acme.example", PASSWORD).await;
        assert!(page.location().unwrap().starts_with("/oauth/authorize"), "{:?}", page.location());

        server.clock.advance(2 * DAY);
        let browser = server.browser();
        let page = sign_in_for(&browser, &authorize_url(&product), "ann@acme.example", PASSWORD).await;
        assert_eq!(page.location(), Some("/login/new-password"), "{}", page.body);
        assert_eq!(browser.get("/account").await.status, 303, "the step is not a session");
        assert_eq!(browser.get(&authorize_url(&product)).await.location().map(|l| l.starts_with("/login?")), Some(true));
        // The session from two days ago keeps the person's own pages, but no product gets a
        // code from it until they sign in again and replace the password.
        let own = early.get("/account").await;
        assert_eq!(own.status, 200);
        assert!(own.body.contains("Your password has expired"), "{}", own.body);
        let hop = early.get(&authorize_url(&product)).await;
        let login = hop.location().unwrap();
        assert!(login.starts_with("/login?") && login.contains("reauth=1") && login.contains("notice=policy"), "{login}");
        let none = follow_to_callback(&early, &format!("{}&prompt=none", authorize_url(&product))).await;
        assert_eq!(param(&none, "error"), Some("login_required"));

        let form = browser.get("/login/new-password").await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("data-strength") && form.body.contains("/assets/strength.js"), "the live meter");
        let csrf = form.csrf();
        for (password, reason) in [
            (PASSWORD, "used this password recently"),
            ("qwertyuiop123", "most common passwords"),
            ("short", "at least"),
        ] {
            let page = browser.post_raw("/login/new-password", &[("csrf_token", &csrf), ("password", password), ("confirm", password)]).await;
            assert_eq!(page.status, 400, "{password}");
            assert!(page.body.contains(reason), "{password}: {}", page.body);
        }
        let page = browser.post_raw("/login/new-password", &[("csrf_token", &csrf), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let callback = follow_to_callback(&browser, page.location().unwrap()).await;
        assert_eq!(param(&callback, "state"), Some("st"));
        let tokens = redeem(&server, &product, &callback).await;
        let id = claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(id["amr"], serde_json::json!(["pwd"]));
        assert_eq!(id["auth_time"], server.core.kernel().clock().now().unix());

        // The old password is gone; the new one works without a stop; the history holds.
        let again = server.browser();
        let page = sign_in_for(&again, &authorize_url(&product), "ann@acme.example", PASSWORD).await;
        assert_eq!(page.status, 401);
        let page = sign_in_for(&again, &authorize_url(&product), "ann@acme.example", NEW_PASSWORD).await;
        assert!(page.location().unwrap().starts_with("/oauth/authorize"));
        let changed = audit_events(&server, "password.changed").await;
        assert_eq!(changed.last().unwrap().details["reason"], "policy");
        let told = server.mail_to("ann@acme.example", 2).await;
        assert!(told.decoded.contains("password"), "{}", told.decoded);
    }
}

on_both_engines! {
    async fn required_two_step_is_set_up_in_the_middle_of_an_authorization(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let signed_in = verified_user(&server, "bo@acme.example").await;
        let product = register(&server, "Wiki", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let settings = PolicySettings { require_two_step: true, two_step_grace_days: 3, ..PolicySettings::default() };
        let change = PolicyChange { name: None, settings, require_new_password: false };
        let preview = server.core.policies().preview(PolicyEditor::Org(&admin), "default", &change).await.unwrap();
        assert_eq!((preview.people, preview.enrol_two_step, preview.new_password), (2, 2, 0));
        set_policy(&server, &admin, settings, false).await;

        // Within the grace period: signed in as before, with a reminder of the date.
        let account = signed_in.get("/account").await;
        assert_eq!(account.status, 200);
        assert!(account.body.contains("requires two-step verification from"), "{}", account.body);
        let grace = server.browser();
        let page = sign_in_for(&grace, &authorize_url(&product), "bo@acme.example", PASSWORD).await;
        assert!(page.location().unwrap().starts_with("/oauth/authorize"));

        // The last day of the grace period is over: a session without a second factor gets no
        // more codes, and the next sign-in stops at the set-up.
        server.clock.advance(3 * DAY);
        assert_eq!(signed_in.get("/account").await.status, 200, "their own pages stay");
        let hop = signed_in.get(&authorize_url(&product)).await;
        assert!(hop.location().unwrap().contains("notice=policy"), "{:?}", hop.location());
        let browser = server.browser();
        let page = sign_in_for(&browser, &authorize_url(&product), "bo@acme.example", PASSWORD).await;
        assert_eq!(page.location(), Some("/login/two-step-setup"), "{}", page.body);
        assert_eq!(browser.get("/login/new-password").await.location(), Some("/login/two-step-setup"), "steps in order");
        let setup = browser.get("/login/two-step-setup").await;
        assert_eq!(setup.status, 200, "{}", setup.body);
        assert!(setup.body.contains("requires two-step verification"));
        let secret = setup.body.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().replace(' ', "");
        let app = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, totp_rs::Secret::Encoded(secret).to_bytes().unwrap(), None, String::new());
        let wrong = browser.post_raw("/login/two-step-setup", &[("csrf_token", &setup.csrf()), ("code", "000000")]).await;
        assert_eq!(wrong.status, 401);
        let now = u64::try_from(server.core.kernel().clock().now().unix()).unwrap();
        let done = browser.post_raw("/login/two-step-setup", &[("csrf_token", &setup.csrf()), ("code", &app.generate(now))]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(done.body.matches("<li><code>").count(), 10, "the recovery codes, once");
        let onward = done.body.split("id=\"codes-done\"").next().unwrap();
        let onward = onward[onward.rfind("href=\"").unwrap() + 6..].split('"').next().unwrap();
        let onward = onward.replace("&amp;", "&").replace("&#38;", "&");
        assert!(onward.starts_with("/oauth/authorize"), "{onward}");
        let callback = follow_to_callback(&browser, &onward).await;
        let tokens = redeem(&server, &product, &callback).await;
        let id = claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

        // Under the policy, the last factor stays.
        let me = server.signed_in(&browser).await;
        let password = Password::parse(PASSWORD).unwrap();
        let code = app.generate(now + 60);
        server.clock.advance(60);
        let refused = server.core.second_factor().disable_two_factor(&me, &password, &code).await;
        assert!(matches!(refused, Err(latchkey_core::second_factor::SecondFactorError::RequiredByPolicy)), "{refused:?}");
    }
}

on_both_engines! {
    async fn session_limits_hold_at_the_sso_hop_and_for_refresh_tokens(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let browser = verified_user(&server, "cy@acme.example").await;
        let product = register(&server, "Chat", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
        let callback = follow_to_callback(&browser, &authorize_url(&product)).await;
        let tokens = redeem(&server, &product, &callback).await;
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let (status, refreshed) = token_request(&server, &product, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200, "{refreshed}");
        let refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

        // The policy shortens sign-ins to an hour: the refresh token and the session end with it.
        let settings = PolicySettings { session_max_minutes: 60, session_idle_minutes: 30, ..PolicySettings::default() };
        set_policy(&server, &admin, settings, false).await;
        server.clock.advance(20 * 60);
        let (status, body) = token_request(&server, &product, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200, "still within the hour: {body}");
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(browser.get("/account").await.status, 200);
        server.clock.advance(41 * 60);
        let (status, body) = token_request(&server, &product, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        let page = browser.get(&authorize_url(&product)).await;
        assert!(page.location().unwrap().starts_with("/login?"), "past its maximum length: log in again");
        let none = follow_to_callback(&browser, &format!("{}&prompt=none", authorize_url(&product))).await;
        assert_eq!(param(&none, "error"), Some("login_required"));

        // A new sign-in lasts the hour; a refresh token unused for the idle timeout dies.
        let fresh = server.browser();
        let page = sign_in_for(&fresh, &authorize_url(&product), "cy@acme.example", PASSWORD).await;
        let callback = follow_to_callback(&fresh, page.location().unwrap()).await;
        let tokens = redeem(&server, &product, &callback).await;
        server.clock.advance(31 * 60);
        let (status, _) = token_request(&server, &product, &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(status, 400, "unused past the idle timeout");
    }
}

on_both_engines! {
    async fn history_and_the_common_list_refuse_new_passwords(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        // The common list holds for accounts no organization manages, too.
        let page = server.browser().submit("/signup", "/signup", &[("email", "new@elsewhere.example"), ("name", "New"), ("password", "football123")]).await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("most common passwords"), "{}", page.body);
        let page = server.browser().submit("/signup", "/signup", &[("email", "new@elsewhere.example"), ("name", "New"), ("password", "ninechars")]).await;
        assert_eq!(page.status, 400, "the site default asks for 10 characters");

        let browser = verified_user(&server, "di@acme.example").await;
        set_policy(&server, &admin, PolicySettings { password_history: 2, password_min_strength: 3, ..PolicySettings::default() }, false).await;
        let change = |current: &'static str, new: &'static str| {
            let browser = &browser;
            async move {
                browser.submit("/account", "/account/password", &[("current_password", current), ("new_password", new), ("new_password_confirm", new)]).await
            }
        };
        let weak = change(PASSWORD, "acmeacme2026").await;
        assert_eq!(weak.status, 400, "too weak for strength 3");
        assert!(weak.body.contains("too easy to guess"), "{}", weak.body);
        assert_eq!(change(PASSWORD, PASSWORD).await.status, 400, "the current one is not new");
        assert_eq!(change(PASSWORD, NEW_PASSWORD).await.status, 303);
        let third = "tamarind oxbow fjord 55";
        assert_eq!(change(NEW_PASSWORD, third).await.status, 303);
        let back = change(third, NEW_PASSWORD).await;
        assert_eq!(back.status, 400, "one of the last two");
        assert!(back.body.contains("used this password recently"), "{}", back.body);
        assert_eq!(change(third, PASSWORD).await.status, 303, "three passwords ago: allowed again");
    }
}

on_both_engines! {
    async fn an_organization_cannot_lock_out_site_admins(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let root = account(&server, "root@acme.example", true).await;
        let _ = account(&server, "eve@acme.example", false).await;
        let strict = PolicySettings { require_two_step: true, password_max_age_days: 1, session_max_minutes: 5, session_idle_minutes: 5, ..PolicySettings::default() };
        set_policy(&server, &admin, strict, true).await;
        let engineering = server.core.policies().create(PolicyEditor::Org(&admin), "Engineering", strict).await.unwrap();
        let report = server.core.policies().assign(&admin, &engineering.policy_id, &[root.to_string(), "eve@acme.example".into(), "x@other.example".into()]).await.unwrap();
        assert_eq!(report.assigned, vec!["eve@acme.example".to_owned()]);
        let reasons: Vec<_> = report.refused.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, vec!["site admins stay under the site policy", "not managed by this organization"]);

        // The site admin signs in as ever; the member is stopped.
        server.clock.advance(2 * DAY);
        let root_browser = server.browser();
        root_browser.log_in(root.as_str(), PASSWORD).await;
        assert_eq!(root_browser.get("/admin").await.status, 200);
        let member = server.browser();
        let page = member.submit("/login", "/login", &[("email", "eve@acme.example"), ("password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/login/new-password"));
        let people = server.core.policies().list(PolicyEditor::Org(&admin)).await.unwrap();
        assert_eq!(people.iter().map(|p| p.people).sum::<usize>(), 2, "boss and eve; not the site admin");

        // Every change is in the audit log with the settings before and after.
        let updated = audit_events(&server, "policy.updated").await;
        let last = updated.last().unwrap();
        assert_eq!(last.details["before"]["require_two_step"], false);
        assert_eq!(last.details["after"]["require_two_step"], true);
        assert_eq!(last.details["require_new_password"], true);
        assert!(audit_events(&server, "policy.assigned").await.iter().any(|e| e.outcome == "refused"));
    }
}

on_both_engines! {
    async fn a_policy_change_made_on_another_node_arrives_within_seconds(server: TestServer, dns: DnsStub) {
        use latchkey_core::ports::PolicyRepo as _;
        let admin = acme(&server, &dns).await;
        let boss = Email::parse("boss@acme.example").unwrap();
        let account = server.core.accounts().find_account(&server.site_admin(), &boss).await.unwrap().unwrap();
        let stored = server.core.policies().show(PolicyEditor::Org(&admin), "default").await.unwrap();
        let before = server.core.policies().for_account(&account).await.unwrap();
        assert_eq!((before.id.as_str(), before.settings.password_min_length), (stored.policy_id.as_str(), 10));
        // Another node writes through its own connection.
        let other = latchkey_store::SqlStore::connect(&server.config.database_url, &latchkey_store::StoreOptions::default()).await.unwrap();
        let mut edited = (*before).clone();
        edited.settings.password_min_length = 14;
        other.update_policy(&edited).await.unwrap();
        assert_eq!(server.core.policies().for_account(&account).await.unwrap().settings.password_min_length, 10, "cached for a moment");
        server.clock.advance(latchkey_core::policies::RECHECK_SECS);
        assert_eq!(server.core.policies().for_account(&account).await.unwrap().settings.password_min_length, 14);
    }
}

mod surfaces;

on_both_engines! {
    async fn a_burst_of_new_passwords_finishes_one_sign_in(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let _ = verified_user(&server, "hal@acme.example").await;
        server.clock.advance(1);
        set_policy(&server, &admin, PolicySettings::default(), true).await;
        server.clock.advance(1);
        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", "hal@acme.example"), ("password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/login/new-password"));
        let csrf = browser.get("/login/new-password").await.csrf();
        let candidates: Vec<String> = (0..6).map(|i| format!("{NEW_PASSWORD} burst {i}")).collect();
        let answers = futures_util::future::join_all(candidates.iter().map(|p| {
            let (browser, csrf) = (&browser, &csrf);
            async move {
                browser.post_raw("/login/new-password", &[("csrf_token", csrf), ("password", p), ("confirm", p)]).await
            }
        }))
        .await;
        let finished = answers.iter().filter(|a| a.location() == Some("/account")).count();
        assert_eq!(finished, 1, "{:?}", answers.iter().map(|a| (a.status, a.location().map(str::to_owned))).collect::<Vec<_>>());
        let hal = Email::parse("hal@acme.example").unwrap();
        let account = server.core.accounts().find_account(&server.site_admin(), &hal).await.unwrap().unwrap();
        let sessions = server.core.sessions().list_sessions(&account.id).await.unwrap();
        assert_eq!(sessions.len(), 1, "one sign-in, one session");
    }
}

on_both_engines! {
    async fn the_strength_meter_needs_the_form_token_and_bounds_its_work(server: TestServer) {
        let browser = server.browser();
        let page = browser.get("/signup").await;
        let csrf = page.csrf();
        let refused = browser.post_raw("/password/strength", &[("password", "anything")]).await;
        assert_eq!(refused.status, 403, "no CSRF token, no answer");
        let common = browser.post_raw("/password/strength", &[("csrf_token", &csrf), ("password", "password123")]).await;
        let verdict: serde_json::Value = serde_json::from_str(&common.body).unwrap();
        assert_eq!((verdict["score"].as_u64(), verdict["common"].as_bool()), (Some(0), Some(true)));
        let long = "aZ9!".repeat(2_500);
        let started = std::time::Instant::now();
        let page = browser.post_raw("/password/strength", &[("csrf_token", &csrf), ("password", &long), ("email", &long), ("name", "\u{0}\u{202e}")]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "bounded work");
        let huge = "x".repeat(100_000);
        let page = browser.post_raw("/password/strength", &[("csrf_token", &csrf), ("password", &huge)]).await;
        assert_eq!(page.status, 413, "past the form limit");
    }
}

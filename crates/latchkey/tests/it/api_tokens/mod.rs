//! API tokens, bots and products' basic-auth verification, end to end: a small "product" REST
//! API that checks `Authorization: Basic` through Latchkey, tokens through their whole life
//! (use, product restriction, revocation, expiry, policy caps, deactivation), passwords bound
//! to one product, introspection, bots, and throttling under a parallel burst.

mod surfaces;

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::Engine as _;
use latchkey_core::accounts::Email;
use latchkey_core::api_tokens::{BotOwner, TokenRequest};
use latchkey_core::policies::{PolicyChange, PolicyEditor, PolicySettings};
use latchkey_testkit::TestServer;
use serde_json::{Value, json};

use super::oidc::{GrantType, Product, SigningAlg, code_for, http, register, token_request};
use super::policies::account;
use super::{PASSWORD, audit_events};

const DAY: i64 = 24 * 3600;

pub(crate) async fn product(server: &TestServer, name: &str) -> Product {
    register(
        server,
        name,
        false,
        SigningAlg::RS256,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    )
    .await
}

/// What a product asks: `POST /oauth/basic-auth/verify` with its own credentials.
pub(crate) async fn verify(
    server: &TestServer,
    product: &Product,
    user: &str,
    pass: &str,
) -> Value {
    let response = http()
        .post(format!("{}/oauth/basic-auth/verify", server.url))
        .basic_auth(&product.id, product.secret.as_ref())
        .form(&[("username", user), ("password", pass)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) fn reason(answer: &Value) -> &str {
    answer["reason"].as_str().unwrap_or("(active)")
}

pub(crate) async fn token_for(
    server: &TestServer,
    email: &str,
    name: &str,
    days: Option<u32>,
    products: &[&str],
) -> (String, String) {
    let request = TokenRequest {
        name: name.into(),
        expires_days: days,
        products: products.iter().map(|p| (*p).to_owned()).collect(),
    };
    let (view, secret) = server
        .core
        .api_tokens()
        .create_as_site_admin(&server.site_admin(), &Email::parse(email).unwrap(), &request)
        .await
        .unwrap();
    (view.token.id, secret)
}

pub(crate) async fn site_settings(server: &TestServer, edit: impl FnOnce(&mut PolicySettings)) {
    let site = server.site_admin();
    let mut settings = server.core.policies().site_default().await.unwrap().settings;
    edit(&mut settings);
    let change = PolicyChange { name: None, settings, require_new_password: false };
    server.core.policies().update(PolicyEditor::Site(&site), "default", &change).await.unwrap();
}

/// The demo product: a REST endpoint that answers 200 with the caller's identity when
/// Latchkey says the basic-auth pair is good, 401 with the reason otherwise.
#[derive(Clone)]
struct DemoProduct {
    latchkey: String,
    id: String,
    secret: String,
}

async fn demo_issues(State(p): State<DemoProduct>, headers: HeaderMap) -> (StatusCode, String) {
    let Some(pair) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
    else {
        return (StatusCode::UNAUTHORIZED, json!({ "error": "basic auth required" }).to_string());
    };
    let Some((user, pass)) = pair.split_once(':') else {
        return (StatusCode::UNAUTHORIZED, json!({ "error": "malformed" }).to_string());
    };
    let answer: Value = http()
        .post(format!("{}/oauth/basic-auth/verify", p.latchkey))
        .basic_auth(&p.id, Some(&p.secret))
        .form(&[("username", user), ("password", pass), ("client_ip", "203.0.113.9")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if answer["active"] == true {
        let body =
            json!({ "issues": ["DEMO-1"], "for": answer["email"], "via": answer["credential"] });
        (StatusCode::OK, body.to_string())
    } else {
        (StatusCode::UNAUTHORIZED, json!({ "error": answer["reason"] }).to_string())
    }
}

async fn start_demo(server: &TestServer, product: &Product) -> SocketAddr {
    let state = DemoProduct {
        latchkey: server.url.clone(),
        id: product.id.clone(),
        secret: product.secret.clone().unwrap(),
    };
    let app = axum::Router::new().route("/rest/api/issues", get(demo_issues)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

on_both_engines! {
    async fn a_products_rest_api_accepts_tokens_until_they_are_revoked(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let demo = start_demo(&server, &tracker).await;
        account(&server, "rita@example.com", false).await;
        let (id, token) = token_for(&server, "rita@example.com", "ci", None, &[]).await;
        assert!(token.starts_with("lkp_") && token.len() == 47, "{token}");

        let curl = |user: &'static str, pass: String| async move {
            let r = http().get(format!("http://{demo}/rest/api/issues")).basic_auth(user, Some(pass)).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        };
        let (status, body) = curl("rita@example.com", token.clone()).await;
        assert_eq!((status, body["via"].as_str()), (200, Some("api_token")), "{body}");
        let (status, body) = curl("RITA@example.com", token.clone()).await;
        assert_eq!(status, 200, "usernames compare as addresses: {body}");
        let (status, body) = curl("rita@example.com", PASSWORD.to_owned()).await;
        assert_eq!((status, body["via"].as_str()), (200, Some("password")), "{body}");
        let (status, body) = curl("someone@example.com", token.clone()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("unknown")), "a token answers for its owner only");
        let no_auth = http().get(format!("http://{demo}/rest/api/issues")).send().await.unwrap();
        assert_eq!(no_auth.status(), 401);

        let answer = verify(&server, &tracker, "rita@example.com", &token).await;
        assert_eq!(answer["credential"], "api_token");
        assert!(answer["sub"].is_string() && answer["expires_at"].as_i64().unwrap() > 0, "{answer}");
        assert!(answer.get("password_hash").is_none() && !answer.to_string().contains("argon2"));

        server.core.api_tokens().revoke_as_site_admin(&server.site_admin(), &Email::parse("rita@example.com").unwrap(), &id).await.unwrap();
        let (status, body) = curl("rita@example.com", token.clone()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("revoked")), "revocation is immediate");
        let created = audit_events(&server, "api_token.created").await;
        let revoked = audit_events(&server, "api_token.revoked").await;
        assert_eq!((created.len(), revoked.len()), (1, 1));
    }
}

on_both_engines! {
    async fn tokens_expire_serve_their_products_and_follow_the_account_and_its_policy(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        account(&server, "sam@example.com", false).await;
        let (_, everywhere) = token_for(&server, "sam@example.com", "all", Some(30), &[]).await;
        let (_, tracker_only) = token_for(&server, "sam@example.com", "tracker", None, &[&tracker.id]).await;

        assert_eq!(verify(&server, &wiki, "sam@example.com", &everywhere).await["active"], true);
        assert_eq!(reason(&verify(&server, &wiki, "sam@example.com", &tracker_only).await), "wrong_product");
        assert_eq!(verify(&server, &tracker, "sam@example.com", &tracker_only).await["active"], true);

        // A lower cap shortens tokens already made; off means off.
        site_settings(&server, |s| s.api_token_max_days = 10).await;
        server.clock.advance(10 * DAY);
        assert_eq!(reason(&verify(&server, &tracker, "sam@example.com", &tracker_only).await), "expired");
        site_settings(&server, |s| s.api_token_max_days = 365).await;
        assert_eq!(verify(&server, &tracker, "sam@example.com", &tracker_only).await["active"], true);
        server.clock.advance(20 * DAY);
        assert_eq!(reason(&verify(&server, &wiki, "sam@example.com", &everywhere).await), "expired", "its own 30 days");
        site_settings(&server, |s| s.api_tokens = false).await;
        assert_eq!(reason(&verify(&server, &tracker, "sam@example.com", &tracker_only).await), "policy_forbids");
        let refused = server.core.api_tokens().create_as_site_admin(&server.site_admin(), &Email::parse("sam@example.com").unwrap(), &TokenRequest { name: "x".into(), ..TokenRequest::default() }).await;
        assert!(refused.is_err(), "no new tokens while the policy forbids them");
        site_settings(&server, |s| s.api_tokens = true).await;
        let too_long = server.core.api_tokens().create_as_site_admin(&server.site_admin(), &Email::parse("sam@example.com").unwrap(), &TokenRequest { name: "x".into(), expires_days: Some(366), ..TokenRequest::default() }).await;
        assert!(too_long.unwrap_err().to_string().contains("365"));

        let email = Email::parse("sam@example.com").unwrap();
        server.core.accounts().deactivate_account(&server.site_admin(), &email).await.unwrap();
        assert_eq!(reason(&verify(&server, &tracker, "sam@example.com", &tracker_only).await), "account_deactivated");
    }
}

on_both_engines! {
    async fn introspection_answers_api_tokens_for_the_products_they_serve(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        account(&server, "ivy@example.com", false).await;
        let (id, token) = token_for(&server, "ivy@example.com", "ci", None, &[&tracker.id]).await;
        let ask = |p: &Product, t: &str, hint: Option<&str>| {
            let mut form = vec![("token", t.to_owned())];
            if let Some(h) = hint { form.push(("token_type_hint", h.to_owned())); }
            http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&p.id, p.secret.as_ref()).form(&form).send()
        };
        let answer: Value = ask(&tracker, &token, Some("api_token")).await.unwrap().json().await.unwrap();
        assert_eq!((answer["active"].as_bool(), answer["token_type"].as_str(), answer["username"].as_str(), answer["jti"].as_str()), (Some(true), Some("api_token"), Some("ivy@example.com"), Some(id.as_str())), "{answer}");
        let answer: Value = ask(&tracker, &token, None).await.unwrap().json().await.unwrap();
        assert_eq!(answer["active"], true, "the hint is optional");
        let answer: Value = ask(&wiki, &token, None).await.unwrap().json().await.unwrap();
        assert_eq!(answer, json!({ "active": false }), "another product learns nothing");
        let forged = format!("lkp_{}", "A".repeat(43));
        let answer: Value = ask(&tracker, &forged, None).await.unwrap().json().await.unwrap();
        assert_eq!(answer, json!({ "active": false }));
    }
}

on_both_engines! {
    async fn a_password_works_over_basic_auth_for_one_product_only(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        let chat = product(&server, "Chat").await;
        account(&server, "legacy-bot@example.com", false).await;
        account(&server, "person@example.com", false).await;

        assert_eq!(verify(&server, &tracker, "legacy-bot@example.com", PASSWORD).await["credential"], "password");
        assert_eq!(verify(&server, &tracker, "legacy-bot@example.com", PASSWORD).await["active"], true);
        assert_eq!(reason(&verify(&server, &wiki, "legacy-bot@example.com", PASSWORD).await), "wrong_product");
        assert_eq!(reason(&verify(&server, &wiki, "legacy-bot@example.com", "wrong horse").await), "unknown");
        assert_eq!(reason(&verify(&server, &wiki, "nobody@example.com", PASSWORD).await), "unknown");

        // Someone who signs in to two products is told to use a token.
        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", "person@example.com"), ("password", PASSWORD)]).await;
        assert!(page.status < 400, "{}", page.body);
        for p in [&wiki, &chat] {
            let code = code_for(&server, &browser, p, None).await;
            let (status, _) = token_request(&server, p, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", crate::oidc::CALLBACK)]).await;
            assert_eq!(status, 200);
        }
        assert_eq!(reason(&verify(&server, &wiki, "person@example.com", PASSWORD).await), "bot_spans_products");
        assert_eq!(reason(&verify(&server, &tracker, "person@example.com", PASSWORD).await), "bot_spans_products");

        // The site default turning it off turns it off everywhere.
        site_settings(&server, |s| s.password_basic_auth = false).await;
        assert_eq!(reason(&verify(&server, &tracker, "legacy-bot@example.com", PASSWORD).await), "policy_forbids");
        site_settings(&server, |s| s.password_basic_auth = true).await;
        assert_eq!(verify(&server, &tracker, "legacy-bot@example.com", PASSWORD).await["active"], true);
        let failures = audit_events(&server, "basic_auth.failed").await;
        assert!(!failures.is_empty());
    }
}

on_both_engines! {
    async fn a_burst_of_wrong_tokens_is_counted_before_it_is_answered(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        account(&server, "kim@example.com", false).await;
        let (_, good) = token_for(&server, "kim@example.com", "ci", None, &[]).await;
        // Same prefix as the real token, wrong rest: 30 at once from one address.
        let wrong = format!("{}{}", &good[..12], "Z".repeat(35));
        let answers = futures_util::future::join_all((0..30).map(|_| verify(&server, &tracker, "kim@example.com", &wrong))).await;
        let unknown = answers.iter().filter(|a| reason(a) == "unknown").count();
        let throttled = answers.iter().filter(|a| reason(a) == "throttled").count();
        assert_eq!((unknown, throttled), (5, 25), "exactly the limit is answered, the rest throttled");
        assert!(answers.iter().filter(|a| reason(a) == "throttled").all(|a| a["retry_after"].as_i64().unwrap() > 0));
        // The right token still works: it cannot be guessed, and a lockout would be a denial
        // of service anyone knowing the username could cause.
        assert_eq!(verify(&server, &tracker, "kim@example.com", &good).await["active"], true);
        // Sampled: a flood leaves a handful of records, not thirty.
        let records = audit_events(&server, "basic_auth.failed").await;
        assert!((1..=6).contains(&records.len()), "{} records", records.len());

        // Passwords are counted first too, on the sign-in counters.
        account(&server, "lee@example.com", false).await;
        let answers = futures_util::future::join_all((0..20).map(|_| verify(&server, &tracker, "lee@example.com", "guess guess guess"))).await;
        let unknown = answers.iter().filter(|a| reason(a) == "unknown").count();
        assert_eq!(unknown, 5, "{answers:?}");
        assert_eq!(reason(&verify(&server, &tracker, "lee@example.com", PASSWORD).await), "throttled");
    }
}

on_both_engines! {
    async fn bots_hold_tokens_without_a_mailbox_and_never_sign_in(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let site = server.site_admin();
        let bot = server.core.api_tokens().create_bot(BotOwner::Site(&site, None), "Build Robot").await.unwrap();
        assert!(bot.bot && bot.email.as_str().ends_with("@bots.invalid") && bot.email.as_str().starts_with("build-robot-"), "{}", bot.email);
        let (_, token) = token_for(&server, bot.email.as_str(), "ci", None, &[]).await;
        let answer = verify(&server, &tracker, bot.email.as_str(), &token).await;
        assert_eq!((answer["active"].as_bool(), answer["bot"].as_bool()), (Some(true), Some(true)), "{answer}");
        assert!(server.mails_to(bot.email.as_str()).is_empty(), "nothing is mailed to a bot");

        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", bot.email.as_str()), ("password", &token)]).await;
        assert!(page.body.contains("incorrect"), "a token is not a password");
        assert_eq!(reason(&verify(&server, &tracker, bot.email.as_str(), "anything at all").await), "unknown");
        let bots = server.core.api_tokens().list_bots_as_site_admin(&site).await.unwrap();
        assert_eq!(bots.len(), 1);
        assert_eq!(audit_events(&server, "bot.created").await.len(), 1);
    }
}

on_both_engines! {
    async fn each_days_uses_become_one_audit_record_per_token(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        account(&server, "uma@example.com", false).await;
        let (id, token) = token_for(&server, "uma@example.com", "ci", None, &[]).await;
        for _ in 0..7 {
            assert_eq!(verify(&server, &tracker, "uma@example.com", &token).await["active"], true);
        }
        let listed = server.core.api_tokens().list_as_site_admin(&server.site_admin(), &Email::parse("uma@example.com").unwrap()).await.unwrap();
        assert!(listed[0].token.last_used_at.is_some() && listed[0].token.last_used_ip.is_some(), "the first use is written at once");
        server.clock.advance(DAY);
        assert_eq!(server.core.api_tokens().summarize_use().await.unwrap(), 1);
        assert_eq!(server.core.api_tokens().summarize_use().await.unwrap(), 0, "each day is summarized once");
        let used = audit_events(&server, "api_token.used").await;
        assert_eq!(used.len(), 1);
        assert_eq!((used[0].details["token"].as_str(), used[0].details["uses"].as_u64()), (Some(id.as_str()), Some(7)), "{:?}", used[0].details);
    }
}

on_both_engines! {
    async fn a_revocation_on_another_node_arrives_within_the_cache_bound(server: TestServer) {
        use latchkey_core::ports::ApiTokenRepo as _;
        let tracker = product(&server, "Tracker").await;
        account(&server, "noor@example.com", false).await;
        let (id, token) = token_for(&server, "noor@example.com", "ci", None, &[]).await;
        assert_eq!(verify(&server, &tracker, "noor@example.com", &token).await["active"], true);
        // Another node revokes through its own connection.
        let other = latchkey_store::SqlStore::connect(&server.config.database_url, &latchkey_store::StoreOptions::default()).await.unwrap();
        let owner = server.core.accounts().find_account(&server.site_admin(), &Email::parse("noor@example.com").unwrap()).await.unwrap().unwrap();
        assert!(other.revoke(&id, &owner.id, latchkey_core::clock::Clock::now(server.clock.as_ref())).await.unwrap());
        assert_eq!(verify(&server, &tracker, "noor@example.com", &token).await["active"], true, "cached for a moment");
        server.clock.advance(latchkey_core::api_tokens::CACHE_SECS);
        assert_eq!(reason(&verify(&server, &tracker, "noor@example.com", &token).await), "revoked");
    }
}

fn one_hashing_slot(c: &mut latchkey::Config) {
    c.passwords.memory_kib = 19_456;
    c.passwords.iterations = 2;
    c.passwords.max_concurrent = 1;
    c.passwords.queue_timeout = std::time::Duration::ZERO;
    c.throttle.ip_failures = 1000;
    c.throttle.account_failures = 1000;
}

on_both_engines! {
    async fn a_storm_of_password_verifications_gets_503_while_tokens_still_answer(server: TestServer, with one_hashing_slot) {
        let tracker = product(&server, "Tracker").await;
        account(&server, "ops-bot@example.com", false).await;
        let (_, token) = token_for(&server, "ops-bot@example.com", "ci", None, &[]).await;
        let ask = |user: String, pass: String| {
            let (url, id, secret) = (server.url.clone(), tracker.id.clone(), tracker.secret.clone());
            tokio::spawn(async move {
                let r = http()
                    .post(format!("{url}/oauth/basic-auth/verify"))
                    .basic_auth(&id, secret.as_ref())
                    .form(&[("username", user.as_str()), ("password", pass.as_str())])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()))
            })
        };
        let storm: Vec<_> = (0..12).map(|i| ask(format!("storm{i}@example.com"), "whatever!".into())).collect();
        let mut busy = 0;
        for t in storm {
            match t.await.unwrap() {
                (200, _) => {}
                (503, retry) => {
                    busy += 1;
                    assert_eq!(retry.as_deref(), Some("1"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(busy > 0, "with one hashing slot and no queue some verifications must be turned away");
        assert_eq!(verify(&server, &tracker, "ops-bot@example.com", &token).await["active"], true, "tokens never wait for the hasher");
    }
}

on_both_engines! {
    async fn hostile_verification_requests_are_refused_and_change_nothing(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        account(&server, "vic@example.com", false).await;
        let (_, token) = token_for(&server, "vic@example.com", "ci", None, &[]).await;
        let url = format!("{}/oauth/basic-auth/verify", server.url);
        let send = |body: String, content_type: &'static str, secret: Option<String>| {
            let (url, id) = (url.clone(), tracker.id.clone());
            async move {
                let r = http().post(url).basic_auth(&id, secret).header("content-type", content_type).body(body).send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
            }
        };
        let good_secret = tracker.secret.clone();
        let form = "application/x-www-form-urlencoded";
        let user = "username=vic%40example.com";
        for (body, content_type, secret, status, error) in [
            (format!("{user}&password={token}"), form, Some("wrong".to_owned()), 401, "invalid_client"),
            (format!("{user}&password={token}"), form, None, 401, "invalid_client"),
            (format!("password={token}"), form, good_secret.clone(), 400, "invalid_request"),
            (user.to_owned(), form, good_secret.clone(), 400, "invalid_request"),
            (format!("{user}&{user}&password={token}"), form, good_secret.clone(), 400, "invalid_request"),
            (format!("{user}&password={token}&client_ip=not-an-ip"), form, good_secret.clone(), 400, "invalid_request"),
            (format!("{{\"username\":\"vic@example.com\",\"password\":\"{token}\"}}"), "application/json", good_secret.clone(), 400, "invalid_request"),
            (format!("{user}&password={}", "x".repeat(5_000)), form, good_secret.clone(), 400, "invalid_request"),
            (format!("{user}&password={}", "x".repeat(70_000)), form, good_secret.clone(), 413, ""),
        ] {
            let (got, answer) = send(body.clone(), content_type, secret).await;
            assert_eq!((got, answer["error"].as_str().unwrap_or_default()), (status, error), "{}: {answer}", body.chars().take(80).collect::<String>());
        }
        // Odd but well-formed pairs get a verdict, never an error.
        for (u, p) in [("vic@example.com", "lkp_"), ("", "x"), ("\u{202e}vic@example.com", &token), ("vic@example.com", "lkp_\u{0}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] {
            let answer = verify(&server, &tracker, if u.is_empty() { "nobody" } else { u }, p).await;
            assert_eq!(answer["active"], false, "{u:?} {p:?}");
        }
        assert_eq!(verify(&server, &tracker, "vic@example.com", &token).await["active"], true);
    }
}

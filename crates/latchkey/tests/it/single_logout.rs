//! Single logout: ending a Latchkey session logs every product out on its back-channel, and
//! products can end the shared session (RP-initiated logout).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, State};
use latchkey_core::oidc_provider::{GrantType, NewClientRequest};
use latchkey_protocol::jose::{JwkSet, SigningAlg};
use latchkey_testkit::{Browser, TestServer, eventually};

use super::{PASSWORD, verified_user};

const CALLBACK: &str = "http://127.0.0.1:9/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:9/signed-out";

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A product's back-channel endpoint: records `(path, logout_token)`.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/bc/{product}",
            axum::routing::post(
                |State(r): State<Received>,
                 Path(p): Path<String>,
                 Form(f): Form<std::collections::HashMap<String, String>>| async move {
                    r.lock().unwrap().push((p, f.get("logout_token").cloned().unwrap_or_default()));
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

struct Product {
    id: String,
    secret: String,
}

async fn product(server: &TestServer, name: &str, backchannel: Option<String>) -> Product {
    let r = server
        .core
        .oidc()
        .register_client(
            &server.site_admin(),
            NewClientRequest {
                name: name.into(),
                redirect_uris: vec![CALLBACK.into()],
                post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
                backchannel_logout_uri: backchannel,
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                public: false,
                scopes: vec![],
                id_token_alg: SigningAlg::RS256,
                keys: None,
                first_party: true,
                logo_uri: None,
            },
        )
        .await
        .unwrap();
    Product { id: r.client.id, secret: r.secret.unwrap().expose().to_owned() }
}

/// Signs `browser` in to `product` (SSO) and redeems the code: the product's tokens.
async fn sign_in(server: &TestServer, browser: &Browser, product: &Product) -> serde_json::Value {
    let url = format!(
        "/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s",
        product.id,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let page = browser.get(&url).await;
    let location = page.location().unwrap().to_owned();
    assert!(location.starts_with(CALLBACK), "{location}");
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", server.url))
        .basic_auth(&product.id, Some(&product.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn refresh_status(server: &TestServer, product: &Product, tokens: &serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/oauth/token", server.url))
        .basic_auth(&product.id, Some(&product.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Checks a logout token the way a product must (Back-Channel Logout 1.0 §2.6).
async fn check_logout_token(server: &TestServer, token: &str, audience: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: JwkSet =
        reqwest::get(format!("{}/oauth/jwks", server.url)).await.unwrap().json().await.unwrap();
    let jwk = jwks.keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[server.url.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "jti"]);
    let claims =
        jsonwebtoken::decode::<serde_json::Value>(token, &jwk.decoding_key().unwrap(), &validation)
            .unwrap()
            .claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["sid"].is_string() && claims["sub"].is_string());
    claims
}

on_both_engines! {
    async fn logging_out_logs_every_product_out(server: TestServer) {
        let (base, received) = receiver().await;
        let tracker = product(&server, "Tracker", Some(format!("{base}/bc/tracker"))).await;
        let wiki = product(&server, "Wiki", Some(format!("{base}/bc/wiki"))).await;
        let browser = verified_user(&server, "slo@example.com").await;
        let tracker_tokens = sign_in(&server, &browser, &tracker).await;
        let wiki_tokens = sign_in(&server, &browser, &wiki).await;
        // A second browser, signed in to the wiki only: each session lists its own products.
        let phone = server.browser();
        phone.log_in("slo@example.com", PASSWORD).await;
        sign_in(&server, &phone, &wiki).await;
        let account = browser.get("/account/sessions").await;
        assert!(account.contains("Signed in to Tracker, Wiki"), "{}", account.body);
        assert_eq!(account.body.matches("Signed in to Wiki<").count(), 1, "{}", account.body);

        let page = browser.submit("/logout", "/logout", &[]).await;
        assert_eq!(page.status, 303);
        let got = eventually("two logout tokens", Duration::from_secs(10), || {
            let got = received.lock().unwrap().clone();
            async move { (got.len() >= 2).then_some(got) }
        })
        .await;
        let mut products: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        products.sort_unstable();
        assert_eq!(products, ["tracker", "wiki"]);
        let id_claims = |tokens: &serde_json::Value| {
            let id = tokens["id_token"].as_str().unwrap();
            let payload = id.split('.').nth(1).unwrap();
            let json = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap();
            serde_json::from_slice::<serde_json::Value>(&json).unwrap()
        };
        for (p, token) in &got {
            let (aud, tokens) = if p == "tracker" { (&tracker.id, &tracker_tokens) } else { (&wiki.id, &wiki_tokens) };
            let claims = check_logout_token(&server, token, aud).await;
            assert_eq!(claims["sid"], id_claims(tokens)["sid"], "the sid of the product's session");
        }
        assert_eq!(refresh_status(&server, &tracker, &tracker_tokens).await, 400, "refresh tokens end with the session");
        assert_eq!(refresh_status(&server, &wiki, &wiki_tokens).await, 400);
        let status = server.core.oidc().logout_delivery_status().await.unwrap();
        assert_eq!(status, vec![("delivered".to_owned(), 2)]);
    }
}

on_both_engines! {
    async fn a_product_can_end_the_shared_session(server: TestServer) {
        let (base, received) = receiver().await;
        let tracker = product(&server, "Tracker", None).await;
        let wiki = product(&server, "Wiki", Some(format!("{base}/bc/wiki"))).await;
        let browser = verified_user(&server, "rpl@example.com").await;
        let tokens = sign_in(&server, &browser, &tracker).await;
        sign_in(&server, &browser, &wiki).await;

        // A logout link without a hint asks first, and a foreign redirect is refused.
        let bad = browser.get(&format!("/oauth/logout?client_id={}&post_logout_redirect_uri={}", tracker.id, "http%3A%2F%2Fevil.example%2F")).await;
        assert_eq!(bad.status, 400);
        let ask = browser.get("/oauth/logout").await;
        assert_eq!(ask.status, 200);
        assert!(ask.contains("Log out of Latchkey?"));
        assert_eq!(browser.get("/account").await.status, 200, "nothing happened yet");

        // With the product's ID token as hint it happens at once, and back to the product.
        let url = format!(
            "/oauth/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
            tokens["id_token"].as_str().unwrap(),
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        );
        let page = browser.get(&url).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), Some(format!("{AFTER_LOGOUT}?state=bye").as_str()));
        assert_eq!(browser.get("/account").await.status, 303, "the Latchkey session ended");
        eventually("the wiki's logout token", Duration::from_secs(10), || {
            let n = received.lock().unwrap().len();
            async move { (n == 1).then_some(()) }
        })
        .await;

        // Confirming on the page works too.
        browser.log_in("rpl@example.com", PASSWORD).await;
        let ask = browser.get("/oauth/logout").await;
        let page = browser.post_raw("/oauth/logout/confirm", &[("csrf_token", &ask.csrf())]).await;
        assert_eq!((page.status, page.location()), (303, Some("/logout")));
        assert_eq!(browser.get("/account").await.status, 303);
    }
}

on_both_engines! {
    async fn a_dead_product_never_blocks_logout_and_is_retried_later(server: TestServer) {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let dead = product(&server, "Dead", Some(format!("http://{closed}/bc"))).await;
        let (base, _received) = receiver().await;
        let wiki = product(&server, "Wiki", Some(format!("{base}/bc/wiki"))).await;
        let browser = verified_user(&server, "dead@example.com").await;
        sign_in(&server, &browser, &dead).await;
        sign_in(&server, &browser, &wiki).await;
        let page = browser.submit("/account", "/account/sessions/end-all", &[]).await;
        assert_eq!(page.status, 303, "the person is not kept waiting");
        // The receipt page reports which products confirmed, and keeps refreshing meanwhile.
        let receipt = page.location().unwrap().to_owned();
        assert!(receipt.starts_with("/signed-out?receipt="), "{receipt}");
        let report = eventually("Wiki confirmed, Dead retrying", Duration::from_secs(10), || {
            let browser = &browser;
            let receipt = receipt.clone();
            async move {
                let page = browser.get(&receipt).await;
                let wiki_ok = page.body.contains("<td>Wiki</td>\n    <td><span class=\"badge ok\">Signed out");
                (wiki_ok && page.body.contains("Not confirmed yet")).then_some(page)
            }
        })
        .await;
        assert!(report.body.contains("http-equiv=\"refresh\""), "{}", report.body);
        let forged = browser.get(&format!("{receipt}x")).await;
        assert_eq!(forged.location(), Some("/login?notice=signed_out_everywhere"));
        let record = eventually("a failed first delivery", Duration::from_secs(10), || {
            let core = server.core.clone();
            let site = server.site_admin();
            async move {
                let recent = core.oidc().recent_logout_deliveries(&site, 10).await.unwrap();
                recent.into_iter().find(|r| r.attempts >= 1 && r.summary == "Dead")
            }
        })
        .await;
        assert_eq!(record.status.as_str(), "pending", "scheduled for a retry");
        assert!(record.last_error.unwrap().contains("request failed"));
        assert_eq!(browser.get("/account").await.status, 303);
    }
}

//! Third-party products: the consent screen (asked once per scope set, remembered, revocable
//! from /account) and `private_key_jwt` client authentication (inline keys and a JWKS URI).

use latchkey_core::oidc_provider::{ClientKeys, GrantType, NewClientRequest};
use latchkey_protocol::jose::SigningAlg;
use latchkey_testkit::{Browser, TestServer};

use super::oidc::{CALLBACK, follow_to_callback, http, param};
use super::verified_user;

/// A P-256 key that exists only for these tests.
const CLIENT_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtGpJuMZdobqqkTgk
w0bdTmFkcgqd4dNtIJ3UxxMiuV2hRANCAAS9MEDr0/vR9i3rOGE2bhxasxocP5EU
2oK3HUx+F9UACezoueeKOP11TEZR8ij5S/GUMHAsWQ5wZr167bN/jgh4
-----END PRIVATE KEY-----
";
const CLIENT_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"rp-1","use":"sig","x":"vTBA69P70fYt6zhhNm4cWrMaHD-RFNqCtx1MfhfVAAk","y":"7Oi554o4_XVMRlHyKPlL8ZQwcCxZDnBmvXrts3-OCHg"}]}"#;

pub(crate) fn request(name: &str, first_party: bool, keys: Option<ClientKeys>) -> NewClientRequest {
    NewClientRequest {
        name: name.into(),
        redirect_uris: vec![CALLBACK.into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec![
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ],
        public: false,
        keys,
        scopes: vec!["reports.read".into()],
        id_token_alg: SigningAlg::RS256,
        first_party,
        logo_uri: None,
    }
}

pub(crate) fn authorize_url(client_id: &str, scope: &str, extra: &str) -> String {
    format!(
        "/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope={}&state=st{extra}",
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>(),
    )
}

/// Opens the authorize URL, expects the consent screen, answers it; returns where it led.
pub(crate) async fn answer_consent(browser: &Browser, url: &str, decision: &str) -> String {
    let page = browser.get(url).await;
    assert_eq!(page.status, 200, "the consent screen shows: {}", page.body);
    assert!(page.body.contains("Allow"), "{}", page.body);
    // "Not you?": the login form again, then this same request.
    assert!(page.body.contains("not you?</a>") && page.body.contains("reauth=1"), "{}", page.body);
    let request = latchkey_testkit::hidden_input(&page.body, "request").unwrap();
    let answer = browser
        .post_raw(
            "/oauth/consent",
            &[("csrf_token", &page.csrf()), ("request", &request), ("decision", decision)],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer.location().unwrap().to_owned()
}

on_both_engines! {
    async fn third_party_products_ask_once_and_the_grant_is_revocable(server: TestServer) {
        let registered = server.core.oidc().register_client(&server.site_admin(), request("Partner Reports", false, None)).await.unwrap();
        let client_id = registered.client.id.clone();
        let secret = registered.secret.unwrap().expose().to_owned();
        let browser = verified_user(&server, "consent@example.com").await;

        // prompt=none cannot show a screen: consent_required.
        let callback = follow_to_callback(&browser, &authorize_url(&client_id, "openid email", "&prompt=none")).await;
        assert_eq!(param(&callback, "error"), Some("consent_required"));

        // "Don't allow" goes back to the product with access_denied and the state.
        let url = authorize_url(&client_id, "openid email", "");
        let denied = answer_consent(&browser, &url, "deny").await;
        assert!(denied.contains("error=access_denied") && denied.contains("state=st"), "{denied}");

        // The CSRF token is required on the answer.
        let forged = browser.post_raw("/oauth/consent", &[("request", "x"), ("decision", "allow")]).await;
        assert_eq!(forged.status, 403);

        let allowed = answer_consent(&browser, &url, "allow").await;
        assert!(allowed.starts_with(CALLBACK) && allowed.contains("code="), "{allowed}");
        // Remembered: the same scopes pass straight through, fewer scopes too.
        let again = follow_to_callback(&browser, &url).await;
        assert!(param(&again, "code").is_some());
        let fewer = follow_to_callback(&browser, &authorize_url(&client_id, "openid", "")).await;
        let code = param(&fewer, "code").unwrap().to_owned();
        // More scopes, or prompt=consent, ask again.
        let page = browser.get(&authorize_url(&client_id, "openid email profile", "")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("See your name"), "{}", page.body);
        let page = browser.get(&format!("{url}&prompt=consent")).await;
        assert_eq!(page.status, 200);

        // A refresh token issued under the consent dies when the consent is withdrawn.
        let tokens: serde_json::Value = http()
            .post(format!("{}/oauth/token", server.url))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)])
            .send().await.unwrap().json().await.unwrap();
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let account = browser.get("/account/services").await;
        assert!(account.body.contains("Partner Reports"), "/account/services lists the product");
        assert!(account.body.contains("See your email address"), "what it can see, in words: {}", account.body);
        let revoked = browser.post_raw(&format!("/account/products/{client_id}/revoke"), &[("csrf_token", &account.csrf())]).await;
        assert_eq!(revoked.status, 303);
        let refreshed = http()
            .post(format!("{}/oauth/token", server.url))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .send().await.unwrap();
        assert_eq!(refreshed.status(), 400, "the refresh token no longer works");
        let introspected: serde_json::Value = http()
            .post(format!("{}/oauth/introspect", server.url))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("token", tokens["access_token"].as_str().unwrap())])
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(introspected["active"], false, "nor does the access token");
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200, "the consent screen is back");
        for event in ["consent.granted", "consent.revoked"] {
            let events = crate::audit_events(&server, event).await;
            assert!(!events.is_empty(), "{event} is audited");
            assert!(events.iter().all(|e| e.target == "consent@example.com" && e.details["client_id"] == client_id.as_str()), "{events:?}");
        }
        assert_eq!(crate::audit_events(&server, "consent.granted").await[0].details["product"], "Partner Reports");

        // First-party products never show it.
        let own = server.core.oidc().register_client(&server.site_admin(), request("Tracker", true, None)).await.unwrap();
        let callback = follow_to_callback(&browser, &authorize_url(&own.client.id, "openid email", "&prompt=none")).await;
        assert!(param(&callback, "code").is_some());
    }
}

#[derive(serde::Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    jti: String,
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap().as_secs()).unwrap()
}

fn sign(claims: &Assertion<'_>, kid: &str, alg: jsonwebtoken::Algorithm) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(CLIENT_KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

async fn client_credentials(
    server: &TestServer,
    assertion: &str,
    client_id: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    let resp = http().post(format!("{}/oauth/token", server.url)).form(&form).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or_default())
}

on_both_engines! {
    async fn private_key_jwt_authenticates_with_inline_keys_and_refuses_forgeries(server: TestServer) {
        let discovery: serde_json::Value = http().get(format!("{}/.well-known/openid-configuration", server.url)).send().await.unwrap().json().await.unwrap();
        assert!(discovery["token_endpoint_auth_methods_supported"].as_array().unwrap().iter().any(|m| m == "private_key_jwt"));
        let registered = server.core.oidc().register_client(&server.site_admin(), request("Signed Bot", true, Some(ClientKeys::Inline(CLIENT_JWKS.into())))).await.unwrap();
        assert!(registered.secret.is_none(), "no secret for a key-authenticated client");
        let id = registered.client.id.as_str();
        let token_endpoint = format!("{}/oauth/token", server.url);
        let claims = |jti: &str| Assertion { iss: id, sub: id, aud: &token_endpoint, exp: now() + 60, iat: now(), jti: jti.into() };

        let (status, body) = client_credentials(&server, &sign(&claims("a-1"), "rp-1", jsonwebtoken::Algorithm::ES256), Some(id)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["access_token"].is_string());
        // The issuer is an accepted audience too (RFC 7523 §3), and client_id may be left out.
        let to_issuer = Assertion { aud: &server.url, ..claims("a-2") };
        let (status, _) = client_credentials(&server, &sign(&to_issuer, "rp-1", jsonwebtoken::Algorithm::ES256), None).await;
        assert_eq!(status, 200);

        // Replay of the same assertion.
        let (status, body) = client_credentials(&server, &sign(&claims("a-1"), "rp-1", jsonwebtoken::Algorithm::ES256), Some(id)).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
        // Expired, too long-lived, wrong audience, wrong issuer, another client's id alongside.
        let expired = Assertion { exp: now() - 120, ..claims("a-3") };
        let eternal = Assertion { exp: now() + 86_400, ..claims("a-4") };
        let elsewhere = Assertion { aud: "https://other.example/token", ..claims("a-5") };
        let wrong_iss = Assertion { iss: "someone-else", ..claims("a-6") };
        for bad in [&expired, &eternal, &elsewhere, &wrong_iss] {
            let (status, body) = client_credentials(&server, &sign(bad, "rp-1", jsonwebtoken::Algorithm::ES256), Some(id)).await;
            assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{}", bad.jti);
        }
        let (status, _) = client_credentials(&server, &sign(&claims("a-7"), "rp-1", jsonwebtoken::Algorithm::ES256), Some("another-client")).await;
        assert_eq!(status, 401);
        // Unsigned, HMAC-signed with the public key as secret, tampered, garbage, oversized.
        let unsigned = {
            let b64 = |v: &serde_json::Value| base64_url(&serde_json::to_vec(v).unwrap());
            format!("{}.{}.", b64(&serde_json::json!({"alg": "none", "kid": "rp-1"})), b64(&serde_json::to_value(claims("a-8")).unwrap()))
        };
        let hmac = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims("a-9"),
            &jsonwebtoken::EncodingKey::from_secret(CLIENT_JWKS.as_bytes()),
        ).unwrap();
        let good = sign(&claims("a-10"), "rp-1", jsonwebtoken::Algorithm::ES256);
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = base64_url(&serde_json::to_vec(&Assertion { iss: id, sub: id, aud: &token_endpoint, exp: now() + 60, iat: now(), jti: "a-10-tampered".into() }).unwrap());
        let tampered = parts.join(".");
        for bad in [unsigned.as_str(), hmac.as_str(), tampered.as_str(), "not.a.jwt"] {
            let (status, _) = client_credentials(&server, bad, Some(id)).await;
            assert_eq!(status, 401, "{}", &bad[..bad.len().min(40)]);
        }
        // Oversized parameters are refused before anything is parsed.
        let (status, body) = client_credentials(&server, &"a".repeat(20_000), Some(id)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
        // A wrong assertion type, or a secret on top of the assertion, is a malformed request.
        let resp = http().post(&token_endpoint).form(&[("grant_type", "client_credentials"), ("client_assertion_type", "urn:other"), ("client_assertion", good.as_str())]).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        // The key client cannot fall back to a secret.
        let resp = http().post(&token_endpoint).basic_auth(id, Some("guess")).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
        assert_eq!(resp.status(), 401);

        // Registration refuses private or symmetric key material.
        let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"vTBA69P70fYt6zhhNm4cWrMaHD-RFNqCtx1MfhfVAAk","y":"7Oi554o4_XVMRlHyKPlL8ZQwcCxZDnBmvXrts3-OCHg","d":"tGpJuMZdobqqkTgkw0bdTmFkcgqd4dNtIJ3UxxMiuV0"}]}"#;
        let refused = server.core.oidc().register_client(&server.site_admin(), request("Leaky", true, Some(ClientKeys::Inline(private.into())))).await;
        assert!(refused.unwrap_err().to_string().contains("private"));
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

on_both_engines! {
    async fn private_key_jwt_fetches_published_keys_from_the_jwks_uri(server: TestServer) {
        // The product publishes its keys; the first fetch has none that match, a rotation adds one.
        let published = std::sync::Arc::new(std::sync::Mutex::new(r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"old","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#.to_owned()));
        let served = published.clone();
        let app = axum::Router::new().route("/jwks", axum::routing::get(move || {
            let body = served.lock().unwrap().clone();
            async move { body }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_uri = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let registered = server.core.oidc().register_client(&server.site_admin(), request("Rotating Bot", true, Some(ClientKeys::Uri(jwks_uri)))).await.unwrap();
        let id = registered.client.id.as_str();
        let aud = format!("{}/oauth/token", server.url);
        let claims = |jti: &str| Assertion { iss: id, sub: id, aud: &aud, exp: now() + 60, iat: now(), jti: jti.into() };
        let (status, _) = client_credentials(&server, &sign(&claims("u-1"), "rp-1", jsonwebtoken::Algorithm::ES256), Some(id)).await;
        assert_eq!(status, 401, "the published set does not hold the key yet");

        CLIENT_JWKS.clone_into(&mut published.lock().unwrap());
        server.clock.advance(31);
        let (status, body) = client_credentials(&server, &sign(&claims("u-2"), "rp-1", jsonwebtoken::Algorithm::ES256), Some(id)).await;
        assert_eq!(status, 200, "an unknown kid refetches the set: {body}");
    }
}

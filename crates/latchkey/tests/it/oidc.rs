//! The OpenID Provider driven by a relying-party library we did not write (`openidconnect`),
//! plus hostile requests it would never make.

pub(crate) use latchkey_core::oidc_provider::GrantType;
use latchkey_core::oidc_provider::NewClientRequest;
pub(crate) use latchkey_protocol::jose::SigningAlg;
use latchkey_testkit::{Browser, TestServer};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};

use super::{PASSWORD, verified_user};

pub(crate) const CALLBACK: &str = "http://127.0.0.1:9/callback";

pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
}

pub(crate) async fn register(
    server: &TestServer,
    name: &str,
    public: bool,
    alg: SigningAlg,
    grants: Vec<GrantType>,
) -> Product {
    let registered = server
        .core
        .oidc()
        .register_client(
            &server.site_admin(),
            NewClientRequest {
                name: name.into(),
                redirect_uris: if grants.contains(&GrantType::AuthorizationCode) {
                    vec![CALLBACK.into()]
                } else {
                    vec![]
                },
                post_logout_redirect_uris: vec![],
                backchannel_logout_uri: None,
                grant_types: grants,
                public,
                scopes: vec!["reports.read".into()],
                id_token_alg: alg,
                keys: None,
                first_party: true,
                logo_uri: None,
            },
        )
        .await
        .unwrap();
    Product { id: registered.client.id, secret: registered.secret.map(|s| s.expose().to_owned()) }
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Follows Latchkey's redirects in the browser until it is sent to the product's callback;
/// returns the callback's query parameters.
pub(crate) async fn follow_to_callback(browser: &Browser, url: &str) -> Vec<(String, String)> {
    let mut next = url.to_owned();
    for _ in 0..5 {
        let page = browser.get(&next).await;
        assert_eq!(page.status, 303, "{next}: {}", page.body);
        let location = page.location().unwrap().to_owned();
        if location.starts_with(CALLBACK) {
            let url = url::Url::parse(&location).unwrap();
            return url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        }
        next = location;
    }
    panic!("never reached the callback");
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

on_both_engines! {
    async fn a_relying_party_library_signs_in_end_to_end(server: TestServer) {
        let http = http();
        let browser = verified_user(&server, "rp@example.com").await;
        for alg in [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA] {
            let product = register(&server, &format!("Tracker {alg:?}"), false, alg, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
            let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(server.url.clone()).unwrap(), &http).await.unwrap();
            let client = CoreClient::from_provider_metadata(metadata, ClientId::new(product.id.clone()), product.secret.clone().map(ClientSecret::new))
                .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            let (auth_url, state, nonce) = client
                .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
                .add_scope(Scope::new("email".into()))
                .add_scope(Scope::new("profile".into()))
                .set_pkce_challenge(challenge)
                .url();
            // Signed in already: the shared session answers at once, no login prompt.
            let callback = follow_to_callback(&browser, auth_url.as_str()).await;
            assert_eq!(param(&callback, "state"), Some(state.secret().as_str()));
            assert_eq!(param(&callback, "iss"), Some(server.url.as_str()));
            let code = param(&callback, "code").unwrap().to_owned();

            let tokens = client
                .exchange_code(AuthorizationCode::new(code.clone()))
                .unwrap()
                .set_pkce_verifier(verifier)
                .request_async(&http)
                .await
                .unwrap();
            let id_token = tokens.id_token().unwrap();
            let claims = id_token.claims(&client.id_token_verifier(), &nonce).unwrap();
            assert_eq!(claims.email().map(|e| e.as_str()), Some("rp@example.com"));
            assert_eq!(claims.email_verified(), Some(true));
            assert!(claims.auth_time().is_some());
            let signed_with = serde_json::to_value(id_token.signing_alg().unwrap()).unwrap();
            assert_eq!(signed_with, alg.as_str());

            let info: CoreUserInfoClaims = client
                .user_info(tokens.access_token().to_owned(), None)
                .unwrap()
                .request_async(&http)
                .await
                .unwrap();
            assert_eq!(info.subject(), claims.subject(), "sub is stable across endpoints");
            assert_eq!(info.email().map(|e| e.as_str()), Some("rp@example.com"));

            let refreshed = client
                .exchange_refresh_token(tokens.refresh_token().unwrap())
                .unwrap()
                .request_async(&http)
                .await
                .unwrap();
            assert_ne!(refreshed.refresh_token().unwrap().secret(), tokens.refresh_token().unwrap().secret(), "rotated");
            // The old refresh token was used: presenting it again revokes the family.
            let reused = client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap().request_async(&http).await;
            assert!(reused.is_err());
            let after = client.exchange_refresh_token(refreshed.refresh_token().unwrap()).unwrap().request_async(&http).await;
            assert!(after.is_err(), "the whole family was revoked");
        }
    }
}

on_both_engines! {
    async fn one_login_serves_every_product_and_prompt_none_needs_a_session(server: TestServer) {
        let wiki = register(&server, "Wiki", false, SigningAlg::RS256, vec![GrantType::AuthorizationCode]).await;
        let url = format!(
            "/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=abc&prompt=none",
            wiki.id, url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        );
        let stranger = server.browser();
        let callback = follow_to_callback(&stranger, &url).await;
        assert_eq!(param(&callback, "error"), Some("login_required"));
        assert_eq!(param(&callback, "state"), Some("abc"));

        // Without prompt=none, an anonymous visitor is sent to log in and comes back.
        let _ = verified_user(&server, "sso@example.com").await;
        let visitor = server.browser();
        let page = visitor.get(&url.replace("&prompt=none", "")).await;
        assert_eq!(page.status, 303);
        let login = page.location().unwrap().to_owned();
        assert!(login.starts_with("/login?next=%2Foauth%2Fauthorize"), "{login}");
        let page = visitor.submit(&login, "/login", &[("email", "sso@example.com"), ("password", PASSWORD), ("next", &url.replace("&prompt=none", ""))]).await;
        assert_eq!(page.status, 303);
        let callback = follow_to_callback(&visitor, page.location().unwrap()).await;
        assert!(param(&callback, "code").is_some());

        // prompt=login forces a fresh sign-in even with a session, once.
        let page = visitor.get(&url.replace("prompt=none", "prompt=login")).await;
        let login = page.location().unwrap().to_owned();
        assert!(login.contains("reauth=1"), "{login}");
        let form = visitor.get(&login).await;
        assert_eq!(form.status, 200, "the login form shows although signed in");
        let next = latchkey_testkit::hidden_input(&form.body, "next").unwrap();
        let page = visitor.post_raw("/login", &[("csrf_token", &form.csrf()), ("email", "sso@example.com"), ("password", PASSWORD), ("next", &next)]).await;
        assert_eq!(page.status, 303);
        let callback = follow_to_callback(&visitor, page.location().unwrap()).await;
        assert!(param(&callback, "code").is_some(), "no loop back to the login page");
    }
}

pub(crate) async fn code_for(
    server: &TestServer,
    browser: &Browser,
    product: &Product,
    challenge: Option<&str>,
) -> String {
    let mut url = format!(
        "/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20email&state=s&nonce=n",
        product.id,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    if let Some(c) = challenge {
        url = format!("{url}&code_challenge={c}&code_challenge_method=S256");
    }
    let _ = server;
    let callback = follow_to_callback(browser, &url).await;
    param(&callback, "code").unwrap().to_owned()
}

pub(crate) async fn token_request(
    server: &TestServer,
    product: &Product,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut req = http().post(format!("{}/oauth/token", server.url)).form(form);
    if let Some(secret) = &product.secret {
        req = req.basic_auth(&product.id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

on_both_engines! {
    async fn hostile_authorization_and_token_requests_are_refused(server: TestServer) {
        let browser = verified_user(&server, "hostile@example.com").await;
        let tracker = register(&server, "Tracker", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
        let other = register(&server, "Other", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let spa = register(&server, "SPA", true, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

        // Unregistered redirect URIs and unknown clients get a page, never a redirect.
        for url in [
            format!("/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid", tracker.id, enc("http://127.0.0.1:9/callback/../evil")),
            format!("/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid", tracker.id, enc("http://evil.example/callback")),
            format!("/oauth/authorize?client_id=nope&redirect_uri={}&response_type=code&scope=openid", enc(CALLBACK)),
            format!("/oauth/authorize?client_id={}&response_type=code&scope=openid", tracker.id),
            format!("/oauth/authorize?client_id={}&redirect_uri={}&redirect_uri={}&response_type=code&scope=openid", tracker.id, enc(CALLBACK), enc(CALLBACK)),
        ] {
            let page = browser.get(&url).await;
            assert_eq!(page.status, 400, "{url}");
            assert!(page.location().is_none());
        }
        // Implicit flow is refused back to the (verified) redirect URI, with state.
        let page = browser.get(&format!("/oauth/authorize?client_id={}&redirect_uri={}&response_type=token&scope=openid&state=x", tracker.id, enc(CALLBACK))).await;
        assert!(page.location().unwrap().contains("error=unsupported_response_type") && page.location().unwrap().contains("state=x"));
        // Public clients must use PKCE.
        let page = browser.get(&format!("/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid", spa.id, enc(CALLBACK))).await;
        assert!(page.location().unwrap().contains("error=invalid_request"));

        // Code reuse: the second redemption fails and revokes what the first granted.
        let code = code_for(&server, &browser, &tracker, None).await;
        let redeem = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
        let (status, first) = token_request(&server, &tracker, &redeem).await;
        assert_eq!(status, 200, "{first}");
        let (status, again) = token_request(&server, &tracker, &redeem).await;
        assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")));
        let rt = first["refresh_token"].as_str().unwrap();
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        assert_eq!(status, 400, "refresh token from a replayed code is revoked");
        let info = http().get(format!("{}/oauth/userinfo", server.url)).bearer_auth(first["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(info.status(), 401, "so is its access token");

        // A code from another client, a wrong redirect URI, an expired code.
        let code = code_for(&server, &browser, &other, None).await;
        let (status, body) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        let code = code_for(&server, &browser, &tracker, None).await;
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:9/other")]).await;
        assert_eq!(status, 400);
        let code = code_for(&server, &browser, &tracker, None).await;
        server.clock.advance(61);
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)]).await;
        assert_eq!(status, 400, "codes live 60 seconds");

        // PKCE: mismatch, and downgrade (a challenged code redeemed without a verifier).
        let code = code_for(&server, &browser, &tracker, Some(CHALLENGE)).await;
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK), ("code_verifier", &VERIFIER.replace('d', "e"))]).await;
        assert_eq!(status, 400);
        let code = code_for(&server, &browser, &tracker, Some(CHALLENGE)).await;
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)]).await;
        assert_eq!(status, 400);
        let code = code_for(&server, &browser, &spa, Some(CHALLENGE)).await;
        let (status, body) = token_request(&server, &spa, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK), ("code_verifier", VERIFIER), ("client_id", &spa.id)]).await;
        assert_eq!(status, 200, "a public client with PKCE: {body}");

        // Bad client credentials are invalid_client with 401.
        let resp = http().post(format!("{}/oauth/token", server.url)).basic_auth(&tracker.id, Some("wrong")).form(&[("grant_type", "refresh_token"), ("refresh_token", "x")]).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert!(resp.headers().get("www-authenticate").is_some());
        let resp = http().post(format!("{}/oauth/token", server.url)).json(&serde_json::json!({"grant_type": "client_credentials"})).send().await.unwrap();
        assert_eq!(resp.status(), 400, "JSON bodies are refused");
    }
}

on_both_engines! {
    async fn client_credentials_introspection_and_revocation(server: TestServer) {
        let service = register(&server, "Reports bot", false, SigningAlg::ES256, vec![GrantType::ClientCredentials]).await;
        let (status, body) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "reports.read");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let access = body["access_token"].as_str().unwrap().to_owned();
        let (status, body) = token_request(&server, &service, &[("grant_type", "client_credentials"), ("scope", "admin")]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));

        let introspect = |token: String| {
            let (url, id, secret) = (format!("{}/oauth/introspect", server.url), service.id.clone(), service.secret.clone());
            async move {
                http().post(url).basic_auth(id, secret).form(&[("token", token)]).send().await.unwrap().json::<serde_json::Value>().await.unwrap()
            }
        };
        let answer = introspect(access.clone()).await;
        assert_eq!(answer["active"], true, "{answer}");
        assert_eq!(answer["client_id"], service.id.as_str());
        assert_eq!(answer["scope"], "reports.read");

        // Tampered, alg=none and foreign tokens are simply inactive.
        let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0";
        let forged_none = format!("{none_header}.{}.", parts[1]);
        parts[1].push('A');
        for bad in [parts.join("."), forged_none, "garbage".into(), "x".repeat(3000)] {
            let answer = introspect(bad.clone()).await;
            assert_eq!(answer, serde_json::json!({"active": false}), "{bad:.80}");
        }
        let huge = http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&service.id, service.secret.as_ref()).form(&[("token", "x".repeat(10_000))]).send().await.unwrap();
        assert_eq!(huge.status(), 400, "oversized parameters are refused");

        let missing = http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&service.id, service.secret.as_ref()).form(&[("token", "")]).send().await.unwrap();
        assert_eq!(missing.status(), 400, "token is required");
        let revoke = http().post(format!("{}/oauth/revoke", server.url)).basic_auth(&service.id, service.secret.as_ref()).form(&[("token", access.as_str())]).send().await.unwrap();
        assert_eq!(revoke.status(), 200);
        assert_eq!(introspect(access.clone()).await["active"], false, "revoked");
        let events = crate::audit_events(&server, "token.revoked").await;
        assert_eq!(events.len(), 1, "audited once: {events:?}");
        assert_eq!(events[0].actor, format!("product {}", service.id));
        assert_eq!(events[0].details["token_type"], "access_token");
        let unknown = http().post(format!("{}/oauth/revoke", server.url)).basic_auth(&service.id, service.secret.as_ref()).form(&[("token", "never-issued")]).send().await.unwrap();
        assert_eq!(unknown.status(), 200, "RFC 7009 §2.2");

        // A new token expires after 15 minutes.
        let (_, body) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        let fresh = body["access_token"].as_str().unwrap().to_owned();
        server.clock.advance(901);
        assert_eq!(introspect(fresh).await["active"], false, "expired");
    }
}

on_both_engines! {
    async fn deactivation_ends_tokens_and_discovery_lists_working_endpoints(server: TestServer) {
        let browser = verified_user(&server, "leaver@example.com").await;
        let tracker = register(&server, "Tracker", false, SigningAlg::RS256, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
        let code = code_for(&server, &browser, &tracker, None).await;
        let (_, tokens) = token_request(&server, &tracker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)]).await;
        let access = tokens["access_token"].as_str().unwrap();
        let answer: serde_json::Value = http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&tracker.id, tracker.secret.as_ref()).form(&[("token", access)]).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["active"], true);
        assert_eq!(answer["username"], "leaver@example.com");

        let email = latchkey_core::accounts::Email::parse("leaver@example.com").unwrap();
        server.core.accounts().deactivate_account(&server.site_admin(), &email).await.unwrap();
        let answer: serde_json::Value = http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&tracker.id, tracker.secret.as_ref()).form(&[("token", access)]).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["active"], false, "deactivation ends access tokens at once");
        let (status, _) = token_request(&server, &tracker, &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(status, 400, "and refresh tokens");

        let doc: serde_json::Value = http().get(format!("{}/.well-known/openid-configuration", server.url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["issuer"], server.url.as_str());
        for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
            let url = doc[endpoint].as_str().unwrap();
            let status = http().get(url).send().await.unwrap().status().as_u16();
            assert_ne!(status, 404, "{endpoint} {url}");
        }
        let jwks: serde_json::Value = http().get(doc["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
        let algs: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
        for alg in ["RS256", "ES256", "EdDSA"] {
            assert!(algs.contains(&alg), "{algs:?}");
        }
        assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k.get("d").is_none()), "no private parts");
    }
}

on_both_engines! {
    async fn key_rotation_publishes_before_signing_and_retires_after_expiry(server: TestServer) {
        let service = register(&server, "Bot", false, SigningAlg::ES256, vec![GrantType::ClientCredentials]).await;
        let kid_of = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwks = || async { http().get(format!("{}/oauth/jwks", server.url)).send().await.unwrap().json::<serde_json::Value>().await.unwrap() };
        let (_, before) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        let old_kid = kid_of(before["access_token"].as_str().unwrap());
        assert_eq!(jwks().await["keys"].as_array().unwrap().len(), 3);

        let created = server.core.oidc().rotate_signing_keys(&server.site_admin()).await.unwrap();
        assert_eq!(jwks().await["keys"].as_array().unwrap().len(), 6, "published at once");
        let (_, soon) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(kid_of(soon["access_token"].as_str().unwrap()), old_kid, "not signing yet");

        server.clock.advance(601);
        let (_, later) = token_request(&server, &service, &[("grant_type", "client_credentials")]).await;
        let new_kid = kid_of(later["access_token"].as_str().unwrap());
        assert!(created.iter().any(|(kid, _)| *kid == new_kid), "the new key signs after ten minutes");
        let introspected: serde_json::Value = http().post(format!("{}/oauth/introspect", server.url)).basic_auth(&service.id, service.secret.as_ref()).form(&[("token", before["access_token"].as_str().unwrap())]).send().await.unwrap().json().await.unwrap();
        assert_eq!(introspected["active"], true, "tokens of the old key still verify");

        server.clock.advance(3600);
        assert_eq!(jwks().await["keys"].as_array().unwrap().len(), 3, "old keys retired after their tokens expired");
    }
}

//! Tokens that outlive what revoked them, state the client carries unsigned, and
//! claim-then-check: the OpenID provider's side of the hardening issue.

use base64::Engine as _;
use latchkey_testkit::{Browser, TestServer};
use serde_json::Value;

use crate::oidc::{
    CALLBACK, GrantType, Product, SigningAlg, code_for, follow_to_callback, http, param, register,
    token_request,
};
use crate::{PASSWORD, verified_user};

fn authorize_url(product: &Product, extra: &str) -> String {
    let callback = url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>();
    format!(
        "/oauth/authorize?client_id={}&redirect_uri={callback}&response_type=code&scope=openid%20email&state=s&nonce=n{extra}",
        product.id
    )
}

async fn product(server: &TestServer, name: &str) -> Product {
    register(
        server,
        name,
        false,
        SigningAlg::RS256,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    )
    .await
}

async fn redeem(server: &TestServer, product: &Product, code: &str) -> (u16, Value) {
    token_request(
        server,
        product,
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CALLBACK)],
    )
    .await
}

async fn refresh(server: &TestServer, product: &Product, token: &str) -> (u16, Value) {
    token_request(server, product, &[("grant_type", "refresh_token"), ("refresh_token", token)])
        .await
}

/// Signs `browser` in to `product` and returns its token response.
async fn tokens(server: &TestServer, browser: &Browser, product: &Product) -> Value {
    let code = code_for(server, browser, product, None).await;
    let (status, body) = redeem(server, product, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn introspect(server: &TestServer, caller: &Product, token: &str) -> Value {
    http()
        .post(format!("{}/oauth/introspect", server.url))
        .basic_auth(&caller.id, caller.secret.as_ref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn userinfo_status(server: &TestServer, access: &str) -> u16 {
    http()
        .get(format!("{}/oauth/userinfo", server.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap(),
    )
    .unwrap()
}

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field].as_str().unwrap_or_else(|| panic!("{field} in {body}"))
}

on_both_engines! {
    async fn a_reauthentication_marker_cannot_be_forged(server: TestServer) {
        let browser = verified_user(&server, "re@example.com").await;
        let wiki = product(&server, "Wiki").await;
        server.clock.advance(120);

        // The marker a browser could add itself is ignored: prompt=login and max_age still ask.
        for forged in [
            "&prompt=login&lk_auth_after=0",
            "&prompt=login&lk_auth_after=99999999999",
            "&max_age=10&lk_auth_after=0",
            "&max_age=10&lk_auth_after=eyJhdCI6MCwicmVxIjoiIn0",
        ] {
            let page = browser.get(&authorize_url(&wiki, forged)).await;
            assert_eq!(page.status, 303, "{forged}: {}", page.body);
            let to = page.location().unwrap();
            assert!(to.starts_with("/login?"), "{forged} skipped the sign-in: {to}");
        }

        // A real marker is bound to its own request: moved onto another one, it asks again.
        let page = browser.get(&authorize_url(&wiki, "&prompt=login")).await;
        let login = page.location().unwrap().to_owned();
        let form = browser.get(&login).await;
        assert_eq!(form.status, 200, "{login}: {:?} {}", form.location(), form.body);
        let next = latchkey_testkit::hidden_input(&form.body, "next").unwrap();
        let marker = url::Url::parse(&format!("http://x{next}"))
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "lk_auth_after")
            .map(|(_, v)| v.into_owned())
            .expect("the server's own sealed marker");
        let marker = url::form_urlencoded::byte_serialize(marker.as_bytes()).collect::<String>();
        let moved = authorize_url(&wiki, &format!("&prompt=login&lk_auth_after={marker}"))
            .replace("state=s", "state=other");
        let page = browser.get(&moved).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert!(page.location().unwrap().starts_with("/login?"), "a marker works for its request only");

        // Signing in again through the loop: the product gets a code, and auth_time is the
        // time of that sign-in, not of the first one.
        server.clock.advance(30);
        let reauth_at = server.core.kernel().clock().now().unix();
        let page = browser
            .post_raw(
                "/login",
                &[("csrf_token", &form.csrf()), ("email", "re@example.com"), ("password", PASSWORD), ("next", &next)],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let callback = follow_to_callback(&browser, page.location().unwrap()).await;
        let code = param(&callback, "code").expect("a code after the fresh sign-in");
        let (status, body) = redeem(&server, &wiki, code).await;
        assert_eq!(status, 200, "{body}");
        let id_token = claims(text(&body, "id_token"));
        assert_eq!(id_token["auth_time"].as_i64(), Some(reauth_at), "{id_token}");

        // A stale marker (older than the sign-in it asked for) does not count either.
        server.clock.advance(901);
        let page = browser.get(&next).await;
        assert!(page.location().unwrap().starts_with("/login?"), "an expired marker asks again");
    }
}

on_both_engines! {
    async fn every_access_token_of_a_grant_dies_with_it(server: TestServer) {
        let browser = verified_user(&server, "grant@example.com").await;
        let wiki = product(&server, "Wiki").await;

        // Refresh-token reuse: the access token the refresh minted dies too.
        let first = tokens(&server, &browser, &wiki).await;
        let (status, second) = refresh(&server, &wiki, text(&first, "refresh_token")).await;
        assert_eq!(status, 200, "{second}");
        let minted = text(&second, "access_token");
        assert_eq!(introspect(&server, &wiki, minted).await["active"], true);
        assert_eq!(userinfo_status(&server, minted).await, 200);
        let (status, body) = refresh(&server, &wiki, text(&first, "refresh_token")).await;
        assert_eq!((status, text(&body, "error")), (400, "invalid_grant"), "reuse");
        for token in [text(&first, "access_token"), minted, text(&second, "refresh_token")] {
            assert_eq!(introspect(&server, &wiki, token).await, serde_json::json!({"active": false}));
        }
        assert_eq!(userinfo_status(&server, minted).await, 401, "UserInfo refuses it");

        // RFC 7009 revocation of the refresh token.
        let first = tokens(&server, &browser, &wiki).await;
        let (_, second) = refresh(&server, &wiki, text(&first, "refresh_token")).await;
        let minted = text(&second, "access_token").to_owned();
        let revoked = http()
            .post(format!("{}/oauth/revoke", server.url))
            .basic_auth(&wiki.id, wiki.secret.as_ref())
            .form(&[("token", text(&second, "refresh_token"))])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        assert_eq!(introspect(&server, &wiki, &minted).await["active"], false, "revocation");
        assert_eq!(userinfo_status(&server, &minted).await, 401);

        // Consent withdrawn from /account (a third-party product's).
        let registered = server
            .core.oidc()
            .register_client(&server.site_admin(), crate::third_party::request("Outside app", false, None))
            .await
            .unwrap();
        let outside =
            Product { id: registered.client.id, secret: registered.secret.map(|s| s.expose().to_owned()) };
        let url = crate::third_party::authorize_url(&outside.id, "openid email", "");
        let to = crate::third_party::answer_consent(&browser, &url, "allow").await;
        let code = url::Url::parse(&to).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let (status, first) = redeem(&server, &outside, &code).await;
        assert_eq!(status, 200, "{first}");
        let (_, second) = refresh(&server, &outside, text(&first, "refresh_token")).await;
        let minted = text(&second, "access_token").to_owned();
        assert_eq!(userinfo_status(&server, &minted).await, 200);
        let page = browser.submit("/account", &format!("/account/products/{}/revoke", outside.id), &[]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(introspect(&server, &outside, &minted).await["active"], false, "consent withdrawn");
        assert_eq!(userinfo_status(&server, &minted).await, 401);
    }
}

on_both_engines! {
    async fn a_product_learns_nothing_of_another_products_tokens(server: TestServer) {
        let browser = verified_user(&server, "two@example.com").await;
        let wiki = product(&server, "Wiki").await;
        let chat = product(&server, "Chat").await;
        let issued = tokens(&server, &browser, &wiki).await;
        for field in ["access_token", "refresh_token"] {
            let own = introspect(&server, &wiki, text(&issued, field)).await;
            assert_eq!(own["active"], true, "{field}: {own}");
            assert_eq!(own["username"], "two@example.com");
            let other = introspect(&server, &chat, text(&issued, field)).await;
            assert_eq!(other, serde_json::json!({"active": false}), "{field} seen by another product");
        }
    }
}

on_both_engines! {
    async fn another_client_cannot_burn_a_code_or_refresh_token(server: TestServer) {
        let browser = verified_user(&server, "burn@example.com").await;
        let wiki = product(&server, "Wiki").await;
        let thief = product(&server, "Thief").await;

        let code = code_for(&server, &browser, &wiki, None).await;
        let (status, body) = redeem(&server, &thief, &code).await;
        assert_eq!((status, text(&body, "error")), (400, "invalid_grant"));
        let (status, body) = redeem(&server, &wiki, &code).await;
        assert_eq!(status, 200, "the rightful client still redeems it: {body}");
        assert_eq!(introspect(&server, &wiki, text(&body, "access_token")).await["active"], true, "no replay revocation");

        let rt = text(&body, "refresh_token").to_owned();
        let (status, stolen) = refresh(&server, &thief, &rt).await;
        assert_eq!((status, text(&stolen, "error")), (400, "invalid_grant"));
        let (status, body) = refresh(&server, &wiki, &rt).await;
        assert_eq!(status, 200, "the rightful client still refreshes: {body}");
        assert_eq!(introspect(&server, &wiki, text(&body, "access_token")).await["active"], true);
    }
}

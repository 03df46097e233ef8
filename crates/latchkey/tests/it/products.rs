//! Products after registration (issue 16): settings, a new secret, disable/enable and delete
//! from the console, the admin API and the CLI — each refusing bad input while changing
//! nothing, and none leaving a token alive that the change should have ended.

use latchkey_core::oidc_provider::{ClientChanges, ManageClientError};
use latchkey_testkit::TestServer;
use serde_json::json;

use super::admin_api::{call, site_admin_token};
use super::console::sign_in_as_site_admin;
use super::oidc::{
    CALLBACK, GrantType, Product, SigningAlg, code_for, http, register, token_request,
};
use super::verified_user;

/// A person's tokens at a product: (access token, refresh token).
async fn tokens_at(server: &TestServer, product: &Product, email: &str) -> (String, String) {
    let browser = verified_user(server, email).await;
    let code = code_for(server, &browser, product, None).await;
    let (status, body) = token_request(
        server,
        product,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
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

/// The product's secret works at the token endpoint (a `client_credentials` request).
async fn secret_works(server: &TestServer, id: &str, secret: &str) -> bool {
    let product = Product { id: id.to_owned(), secret: Some(secret.to_owned()) };
    token_request(server, &product, &[("grant_type", "client_credentials")]).await.0 == 200
}

on_both_engines! {
    async fn the_console_edits_rekeys_disables_and_deletes_a_product(server: TestServer) {
        let app = register(&server, "Tracker", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
        let (access, refresh) = tokens_at(&server, &app, "pat@example.com").await;
        let admin = sign_in_as_site_admin(&server).await;

        let list = admin.get("/admin/products").await;
        assert!(list.contains(&format!(r#"href="/admin/products/{}""#, app.id)), "{}", list.body);
        let page = admin.get(&format!("/admin/products/{}", app.id)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.contains("1 signed in") && page.contains("web app"), "{}", page.body);
        assert_eq!(admin.get("/admin/products/nope").await.status, 404);

        // Settings: a bad redirect URI is refused with the form kept and nothing changed.
        let path = format!("/admin/products/{}", app.id);
        let bad = admin.post_raw(&path, &[("csrf_token", &page.csrf()), ("name", "Tracker 2"), ("redirect_uris", "http://evil.example/cb")]).await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.contains("must use https") && bad.contains("http://evil.example/cb"), "{}", bad.body);
        let stored = server.core.oidc().client_for_admin(&server.site_admin(), &app.id).await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.redirect_uris.as_slice()), ("Tracker", [CALLBACK.to_owned()].as_slice()));
        let logo = admin.post_raw(&path, &[("csrf_token", &page.csrf()), ("name", "Tracker"), ("redirect_uris", CALLBACK), ("logo_uri", "http://cdn.example/logo.png")]).await;
        assert_eq!(logo.status, 400, "an http logo: {}", logo.body);
        let saved = admin.post_raw(&path, &[
            ("csrf_token", &page.csrf()), ("name", "Tracker Cloud"),
            ("redirect_uris", &format!("{CALLBACK}\nhttps://tracker.example/cb")),
            ("logo_uri", "https://cdn.example/tracker.png"), ("third_party", "1"),
        ]).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert_eq!(saved.location(), Some(format!("/admin/products/{}?notice=saved", app.id).as_str()));
        let stored = server.core.oidc().client_for_admin(&server.site_admin(), &app.id).await.unwrap().unwrap();
        assert_eq!(stored.name, "Tracker Cloud");
        assert_eq!(stored.redirect_uris.len(), 2);
        assert_eq!(stored.logo_uri.as_deref(), Some("https://cdn.example/tracker.png"));
        assert!(!stored.first_party);
        assert_eq!(userinfo_status(&server, &access).await, 200, "editing ends nothing");

        // A new secret: the question changes nothing; the answer shows it once, after a redirect.
        let old = app.secret.clone().unwrap();
        let question = admin.get(&format!("/admin/products/{}/secret", app.id)).await;
        assert!(question.contains("Issue a new secret for"), "{}", question.body);
        let (status, _) = token_request(&server, &app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200, "the old secret still works after the question");
        let rotated = admin.post_raw(&format!("/admin/products/{}/secret", app.id), &[("csrf_token", &question.csrf())]).await;
        assert_eq!(rotated.status, 303);
        assert_eq!(rotated.location(), Some("/admin/products/created"));
        let shown = admin.get("/admin/products/created").await;
        assert!(shown.contains("has a new secret"), "{}", shown.body);
        let new_secret = shown.body.split(r#"<p class="secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
        assert_ne!(new_secret, old);
        assert!(!admin.get("/admin/products/created").await.contains(&new_secret), "shown once");
        let with_old = Product { id: app.id.clone(), secret: Some(old) };
        let (status, body) = token_request(&server, &with_old, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
        let app = Product { id: app.id.clone(), secret: Some(new_secret) };

        // Disable: asked first; then nobody signs in, the secret and every token are refused.
        let question = admin.get(&format!("/admin/products/{}/disable", app.id)).await;
        assert!(question.contains("1 person is signed in"), "{}", question.body);
        assert_eq!(userinfo_status(&server, &access).await, 200, "asking changes nothing");
        let done = admin.post_raw(&format!("/admin/products/{}/disable", app.id), &[("csrf_token", &question.csrf())]).await;
        assert_eq!(done.status, 303);
        assert_eq!(userinfo_status(&server, &access).await, 401, "a disabled product's access token");
        let (status, _) = token_request(&server, &app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 401, "a disabled product's secret");
        let person = verified_user(&server, "newcomer@example.com").await;
        let sign_in = person.get(&format!("/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid", app.id, url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>())).await;
        assert_eq!(sign_in.status, 400, "nobody signs in to a disabled product");
        assert!(sign_in.location().is_none());
        assert!(admin.get("/admin/products").await.contains("Disabled"));

        // Enabled again, what has not expired works again.
        let page = admin.get(&format!("/admin/products/{}", app.id)).await;
        let enabled = admin.post_raw(&format!("/admin/products/{}/enable", app.id), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(enabled.status, 303);
        assert_eq!(userinfo_status(&server, &access).await, 200);

        // Delete: the question says what it ends; afterwards nothing of it works.
        let question = admin.get(&format!("/admin/products/{}/delete", app.id)).await;
        assert!(question.contains("1 person is signed in to it") && question.contains("cannot be undone"), "{}", question.body);
        let deleted = admin.post_raw(&format!("/admin/products/{}/delete", app.id), &[("csrf_token", &question.csrf())]).await;
        assert_eq!(deleted.location(), Some("/admin/products?notice=deleted"));
        assert_eq!(userinfo_status(&server, &access).await, 401, "a deleted product's access token");
        let (status, _) = token_request(&server, &app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 401);
        assert_eq!(admin.get(&format!("/admin/products/{}", app.id)).await.status, 404);
        let events = crate::audit_events(&server, "client.deleted").await;
        assert_eq!(events.len(), 1, "{events:?}");
    }
}

on_both_engines! {
    async fn rotations_and_edits_at_once_leave_exactly_one_working_secret(server: TestServer) {
        let service = register(&server, "Reports", false, SigningAlg::ES256, vec![GrantType::ClientCredentials]).await;
        let oidc = server.core.oidc();
        let admin = server.site_admin();
        let mut rotations = Vec::new();
        let mut edits = Vec::new();
        for i in 0..6 {
            let (oidc, admin, id) = (oidc.clone(), admin.clone(), service.id.clone());
            rotations.push(tokio::spawn(async move { oidc.rotate_client_secret(&admin, &id).await.unwrap().1.expose().to_owned() }));
            let (oidc, admin, id) = (server.core.oidc().clone(), server.site_admin(), service.id.clone());
            edits.push(tokio::spawn(async move {
                let changes = ClientChanges { name: Some(format!("Reports {i}")), scopes: Some(vec![format!("reports.{i}")]), ..ClientChanges::default() };
                oidc.update_client(&admin, &id, changes).await.unwrap();
            }));
        }
        let mut secrets = Vec::new();
        for r in rotations {
            secrets.push(r.await.unwrap());
        }
        for e in edits {
            e.await.unwrap();
        }
        let mut working = 0;
        for s in &secrets {
            working += usize::from(secret_works(&server, &service.id, s).await);
        }
        assert_eq!(working, 1, "edits never put an old secret back, and only the last rotation counts");
        assert!(!secret_works(&server, &service.id, service.secret.as_deref().unwrap()).await);
    }
}

on_both_engines! {
    async fn the_admin_api_and_core_manage_products_and_refuse_bad_changes(server: TestServer) {
        let token = site_admin_token(&server, "ops@example.com").await;
        let t = Some(token.as_str());
        let service = register(&server, "Reports", false, SigningAlg::ES256, vec![GrantType::ClientCredentials]).await;
        let spa = register(&server, "Board", true, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let path = format!("/clients/{}", service.id);

        let (status, body) = call(&server, "GET", &path, t, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["enabled"].as_bool(), body["usage"]["signed_in_people"].as_u64()), (Some(true), Some(0)));
        assert_eq!(call(&server, "GET", "/clients/nope", t, None).await.0, 404);
        assert_eq!(call(&server, "GET", &path, None, None).await.0, 401);

        // Hostile or wrong changes: 400, nothing changed.
        for bad in [
            json!({ "name": "" }),
            json!({ "name": "Reports\u{202e}" }),
            json!({ "scopes": ["has space"] }),
            json!({ "scopes": ["quote\"d"] }),
            json!({ "logo_uri": "javascript:alert(1)" }),
            json!({ "logo_uri": "https://user:pw@cdn.example/x.png" }),
            json!({ "backchannel_logout_uri": "ftp://x.example/" }),
            json!({ "grant_types": ["authorization_code"] }),
            json!({ "secret": "mine" }),
            json!({ "name": 5 }),
        ] {
            let (status, body) = call(&server, "PATCH", &path, t, Some(bad.clone())).await;
            assert_eq!(status, 400, "{bad} → {body}");
        }
        let stored = server.core.oidc().client_for_admin(&server.site_admin(), &service.id).await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.scopes.as_slice()), ("Reports", ["reports.read".to_owned()].as_slice()));

        let (status, body) = call(&server, "PATCH", &path, t, Some(json!({ "name": "Reports API", "scopes": ["reports.read", "reports.write"], "logo_uri": "https://cdn.example/r.png" }))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scopes"], json!(["reports.read", "reports.write"]));
        let (status, body) = call(&server, "PATCH", &path, t, Some(json!({ "logo_uri": null }))).await;
        assert_eq!((status, &body["logo_uri"], &body["name"]), (200, &serde_json::Value::Null, &json!("Reports API")), "null removes; the rest stays");

        // A public product has no secret to rotate.
        let (status, body) = call(&server, "POST", &format!("/clients/{}/secret", spa.id), t, None).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = call(&server, "POST", &format!("{path}/secret"), t, None).await;
        assert_eq!(status, 200, "{body}");
        let secret = body["client_secret"].as_str().unwrap().to_owned();
        assert!(secret_works(&server, &service.id, &secret).await);
        assert!(!secret_works(&server, &service.id, service.secret.as_deref().unwrap()).await);

        let (status, body) = call(&server, "POST", &format!("{path}/disable"), t, None).await;
        assert_eq!((status, body["changed"].as_bool()), (200, Some(true)));
        let (_, body) = call(&server, "POST", &format!("{path}/disable"), t, None).await;
        assert_eq!(body["changed"].as_bool(), Some(false), "already disabled");
        assert!(!secret_works(&server, &service.id, &secret).await);
        let (status, _) = call(&server, "POST", &format!("{path}/enable"), t, None).await;
        assert_eq!(status, 200);
        assert!(secret_works(&server, &service.id, &secret).await);

        let (status, body) = call(&server, "DELETE", &path, t, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ended"]["signed_in_people"].as_u64(), Some(0));
        assert_eq!(call(&server, "DELETE", &path, t, None).await.0, 404);
        assert!(!secret_works(&server, &service.id, &secret).await);
        // The delivery queues over the API (the console's Deliveries page).
        let (status, body) = call(&server, "GET", "/deliveries/mail", t, None).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["deliveries"].is_array(), "{body}");
        let (status, body) = call(&server, "POST", "/deliveries/mail/retry", t, None).await;
        assert_eq!((status, body["retried"].as_u64()), (200, Some(0)), "{body}");
        assert_eq!(call(&server, "POST", "/deliveries/pigeons/retry", t, None).await.0, 404);
        let err = server.core.oidc().set_client_enabled(&server.site_admin(), &service.id, true).await.unwrap_err();
        assert!(matches!(err, ManageClientError::NotFound), "{err}");
    }
}

//! The admin REST API (`/api/v1`): bearer admin tokens, the contract's JSON errors, and an
//! `OpenAPI` document that matches the routes.

use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::flows::CreateAccountRequest;
use latchkey_testkit::TestServer;
use serde_json::{Value, json};

use super::oidc::http;

pub(crate) async fn site_admin_token(server: &TestServer, email: &str) -> String {
    let operator = server.site_admin();
    let email = Email::parse(email).unwrap();
    server
        .core
        .accounts()
        .create_account(
            &operator,
            CreateAccountRequest {
                name: DisplayName::from_email(&email),
                email: email.clone(),
                password: None,
                email_verified: true,
                site_admin: true,
            },
        )
        .await
        .unwrap();
    server.core.accounts().create_admin_token(&operator, &email, "tests").await.unwrap().1
}

pub(crate) async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}/api/v1{path}", server.url);
    let mut req = http().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

on_both_engines! {
    async fn the_admin_api_manages_users_and_products_with_a_bearer_token(server: TestServer) {
        let token = site_admin_token(&server, "ops@example.com").await;
        let t = Some(token.as_str());

        // No token, a malformed one, a made-up one: 401 with the contract's error shape.
        for bad in [None, Some("lka_short"), Some("lka_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), Some("Basic x")] {
            let (status, body) = call(&server, "GET", "/users", bad, None).await;
            assert_eq!(status, 401, "{bad:?}");
            assert_eq!(body["error"], "invalid_token");
            assert!(body["error_description"].is_string());
        }

        let (status, created) = call(&server, "POST", "/users", t, Some(json!({"email": "Dev@Example.com", "name": "Dev", "email_verified": true}))).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!((created["email"].as_str(), created["status"].as_str()), (Some("Dev@example.com"), Some("active")), "the domain is lowercased");
        assert!(created["managed_by"].is_null());
        let (status, body) = call(&server, "POST", "/users", t, Some(json!({"email": "dev@example.com"}))).await;
        assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
        for bad in [json!({"email": "not-an-email"}), json!({"email": "x@example.com", "password": "short"}), json!({"email": "x@example.com", "admin": true}), json!([1, 2])] {
            let (status, body) = call(&server, "POST", "/users", t, Some(bad.clone())).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}");
        }
        let (status, _) = call(&server, "GET", "/users/x@example.com", t, None).await;
        assert_eq!(status, 404, "refused requests created nothing");

        let (status, list) = call(&server, "GET", "/users?limit=10", t, None).await;
        assert_eq!(status, 200);
        assert_eq!(list["users"].as_array().unwrap().len(), 2);
        let (status, _) = call(&server, "GET", "/users?limit=0", t, None).await;
        assert_eq!(status, 400);

        let (status, shown) = call(&server, "POST", "/users/dev@example.com/deactivate", t, None).await;
        assert_eq!((status, shown["status"].as_str()), (200, Some("deactivated")));

        let (status, client) = call(&server, "POST", "/clients", t, Some(json!({
            "name": "Wiki", "redirect_uris": ["https://wiki.example.com/cb"], "first_party": false
        }))).await;
        assert_eq!(status, 201, "{client}");
        assert_eq!(client["client_secret"].as_str().unwrap().len(), 43);
        assert_eq!(client["first_party"], false);
        let (status, body) = call(&server, "POST", "/clients", t, Some(json!({"name": "Evil", "redirect_uris": ["http://evil.example/cb"]}))).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
        let (_, clients) = call(&server, "GET", "/clients", t, None).await;
        assert_eq!(clients["clients"].as_array().unwrap().len(), 1);
        let secret = client["client_secret"].as_str().unwrap();
        assert!(!clients.to_string().contains(secret), "listings never show secrets");
        assert!(clients["clients"][0].get("client_secret").is_none());

        let (status, deliveries) = call(&server, "GET", "/deliveries/backchannel-logout", t, None).await;
        assert_eq!(status, 200);
        assert!(deliveries["deliveries"].is_array());
        let (status, rotated) = call(&server, "POST", "/keys/rotate", t, None).await;
        assert_eq!(status, 200);
        assert!(!rotated["keys"].as_array().unwrap().is_empty());

        // Organizations: created with an existing account as admin, domains added.
        let (status, org) = call(&server, "POST", "/orgs", t, Some(json!({"name": "Acme", "admin": "dev@example.com"}))).await;
        assert_eq!(status, 201, "{org}");
        let org_id = org["org_id"].as_str().unwrap().to_owned();
        let (status, domain) = call(&server, "POST", &format!("/orgs/{org_id}/domains"), t, Some(json!({"domain": "Acme.Example"}))).await;
        assert_eq!((status, domain["status"].as_str(), domain["domain"].as_str()), (201, Some("pending"), Some("acme.example")));
        assert!(domain["txt_record"].as_str().unwrap().starts_with("latchkey-verification="));
        let (status, body) = call(&server, "POST", &format!("/orgs/{org_id}/domains"), t, Some(json!({"domain": "gmail.com"}))).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
        let (status, _) = call(&server, "GET", "/orgs/no-such-org/domains", t, None).await;
        assert_eq!(status, 404);
        let (status, body) = call(&server, "POST", "/orgs", t, Some(json!({"name": "Ghost", "admin": "ghost@example.com"}))).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        let (_, listed) = call(&server, "GET", "/orgs", t, None).await;
        assert_eq!(listed["organizations"].as_array().unwrap().len(), 1);

        let (status, body) = call(&server, "GET", "/nothing-here", t, None).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

        // Deactivating the admin's own account ends the token's power (another site admin
        // remains: the last one cannot be deactivated).
        site_admin_token(&server, "ops2@example.com").await;
        server.core.accounts().deactivate_account(&server.site_admin(), &Email::parse("ops@example.com").unwrap()).await.unwrap();
        let (status, _) = call(&server, "GET", "/users", t, None).await;
        assert_eq!(status, 401);
    }
}

on_both_engines! {
    async fn every_documented_operation_is_routed_and_guarded(server: TestServer) {
        let (status, doc) = call(&server, "GET", "/openapi.json", None, None).await;
        assert_eq!(status, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], format!("{}/api/v1", server.url));
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 6);
        for (path, ops) in paths {
            let concrete = path.replace("{email}", "someone@example.com").replace("{id}", "some-org").replace("{domain}", "example.com");
            for method in ops.as_object().unwrap().keys() {
                let (status, _) = call(&server, &method.to_uppercase(), &concrete, None, None).await;
                let public = ops[method]["security"].as_array().is_some_and(Vec::is_empty);
                let expected = if public { 200 } else { 401 };
                assert_eq!(status, expected, "{method} {path}: documented but not routed as documented");
            }
        }
    }
}

//! The site-admin console (`/admin`): who may enter, registering a product from the form,
//! deactivating an account, and the back-channel delivery view.

use latchkey_core::accounts::Email;
use latchkey_testkit::{TestServer, eventually};

use super::oidc::{CALLBACK, follow_to_callback, http, param};
use super::{PASSWORD, verified_user};

pub(crate) async fn sign_in_as_site_admin(server: &TestServer) -> latchkey_testkit::Browser {
    let operator = server.site_admin();
    let email = Email::parse("root@example.com").unwrap();
    server
        .core
        .accounts()
        .create_account(
            &operator,
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
    let browser = server.browser();
    let page = browser
        .submit("/login", "/login", &[("email", "root@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    browser
}

on_both_engines! {
    async fn site_admins_register_products_and_watch_logout_deliveries(server: TestServer) {
        let anonymous = server.browser().get("/admin").await;
        assert_eq!(anonymous.status, 303, "visitors are sent to log in");
        let member = verified_user(&server, "member@example.com").await;
        assert_eq!(member.get("/admin").await.status, 403);
        assert_eq!(member.get("/admin/products").await.status, 403);
        assert!(!member.get("/account").await.body.contains("/admin"));

        let admin = sign_in_as_site_admin(&server).await;
        assert!(admin.get("/account").await.body.contains("href=\"/admin\""));
        let overview = admin.get("/admin").await;
        assert_eq!(overview.status, 200);

        // Registering with a bad redirect URI shows the reason and registers nothing.
        let bad = admin.submit("/admin/products", "/admin/products", &[
            ("name", "Evil"), ("redirect_uris", "http://evil.example/cb"), ("kind", "web"),
        ]).await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("must use https"), "{}", bad.body);
        // A dead back-channel endpoint (nothing listens on port 9) makes a delivery to watch.
        let created = admin.submit("/admin/products", "/admin/products", &[
            ("name", "Tracker"), ("redirect_uris", CALLBACK), ("kind", "web"),
            ("backchannel_logout_uri", "http://127.0.0.1:9/bc"),
        ]).await;
        // POST, then redirect: the result page shows the secret once; a reload registers
        // nothing and shows no secret.
        assert_eq!(created.status, 303, "{}", created.body);
        assert_eq!(created.location(), Some("/admin/products/created"));
        let created = admin.get("/admin/products/created").await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("shown once"));
        assert_eq!(created.header("cache-control"), Some("no-store"));
        let again = admin.get("/admin/products/created").await;
        assert_eq!((again.status, again.location()), (303, Some("/admin/products")));
        let clients = server.core.oidc().list_clients(&server.site_admin()).await.unwrap();
        assert_eq!(clients.len(), 1, "the refused form registered nothing");
        let client_id = clients[0].id.clone();

        let url = format!(
            "/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=s",
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        );
        let callback = follow_to_callback(&member, &url).await;
        let code = param(&callback, "code").unwrap().to_owned();
        let secret = {
            // The secret was shown once on the page.
            let start = created.body.find("class=\"secret\">").unwrap() + "class=\"secret\">".len();
            created.body[start..start + 43].to_owned()
        };
        let tokens = http()
            .post(format!("{}/oauth/token", server.url))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)])
            .send().await.unwrap();
        assert_eq!(tokens.status(), 200, "the product holds a session now");

        // Deactivating the member from the console ends the session and queues a logout token.
        let users = admin.get("/admin/users").await;
        assert!(users.body.contains("member@example.com"));
        let confirm = admin.get("/admin/users/deactivate?email=member%40example.com").await;
        let done = admin.post_raw("/admin/users/deactivate", &[("csrf_token", &confirm.csrf()), ("email", "member@example.com")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(member.get("/account").await.status, 303, "signed out at the next request");
        let forged = admin.post_raw("/admin/users/deactivate", &[("email", "root@example.com")]).await;
        assert_eq!(forged.status, 403, "CSRF token required");

        let view = eventually("a failed delivery attempt", std::time::Duration::from_secs(10), || async {
            let page = admin.get("/admin/deliveries").await;
            (page.body.contains("Tracker") && page.body.contains("request failed")).then_some(page)
        }).await;
        assert!(view.body.contains("http://127.0.0.1:9/bc"));
        let metrics = admin.get("/metrics").await;
        assert!(
            metrics.body.contains("latchkey_outbox_items{kind=\"backchannel_logout\",status=\"pending\"} 1"),
            "the retrying delivery shows in metrics: {}", metrics.body
        );
    }
}

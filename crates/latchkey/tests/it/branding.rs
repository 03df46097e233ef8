//! The installation's look: a site admin sets a name, logo and colour (console, admin API,
//! CLI); every page and every mail uses them; hostile or unreadable values are refused and
//! change nothing; only site admins may change it; it goes back to Latchkey's own.

use latchkey_testkit::TestServer;
use serde_json::{Value, json};

use super::admin_api::{call, site_admin_token};
use super::cli::{json as cli_json, latchkey};
use super::console::sign_in_as_site_admin;
use super::verified_user;

const LOGO: &str = "https://cdn.acme.test/logo.svg";

async fn brand_css(server: &TestServer) -> String {
    let page = server.browser().get("/assets/brand.css").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/css; charset=utf-8"));
    page.body
}

on_both_engines! {
    async fn a_site_admin_brands_every_page_and_mail_and_can_go_back(server: TestServer) {
        let login = server.browser().get("/login").await;
        assert!(login.contains("· Latchkey</title>"), "{}", login.body);
        assert!(!login.contains("brand-logo"));
        assert!(!brand_css(&server).await.contains("--brand"));

        let admin = sign_in_as_site_admin(&server).await;
        let platform = admin.get("/admin/platform").await;
        assert!(platform.contains(r#"action="/admin/platform/branding""#), "{}", platform.body);
        assert!(!platform.contains("/admin/platform/branding/reset"), "nothing to reset yet");
        let saved = admin
            .submit(
                "/admin/platform",
                "/admin/platform/branding",
                &[("name", "  Acme ID "), ("logo_uri", LOGO), ("colour", "#1D4ED8")],
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert_eq!(saved.location(), Some("/admin/platform?notice=branding"));

        // Pages: title, header, logo, colour (through the stylesheet: no inline style).
        let login = server.browser().get("/login").await;
        assert!(login.contains("· Acme ID</title>"), "{}", login.body);
        assert!(login.contains(&format!(r#"<img src="{LOGO}" alt="" class="brand-logo">Acme ID</a>"#)), "{}", login.body);
        assert!(!login.contains("Latchkey"), "no Latchkey left on the login page: {}", login.body);
        assert!(brand_css(&server).await.contains(":root { --brand: #1d4ed8; }"));
        let form = admin.get("/admin/platform").await;
        assert!(form.contains(r#"value="Acme ID""#) && form.contains(r##"value="#1d4ed8""##), "{}", form.body);

        // Mail: the name signs it, the colour paints its button, the logo heads it.
        verified_user(&server, "new@example.com").await;
        let mail = server.mail_to("new@example.com", 1).await;
        assert!(mail.decoded.replace("\r\n", "\n").contains("\n-- \nAcme ID"), "{}", mail.decoded);
        assert!(mail.decoded.contains("#1d4ed8"), "{}", mail.decoded);
        assert!(mail.decoded.contains(LOGO), "{}", mail.decoded);
        assert!(!mail.decoded.contains("Latchkey"), "{}", mail.decoded);

        // Back to Latchkey's look: asks first, then every page follows.
        let confirm = admin.get("/admin/platform/branding/reset").await;
        assert_eq!(confirm.status, 200);
        assert!(confirm.contains("<h1>Go back to Latchkey&#39;s own look?</h1>"), "{}", confirm.body);
        assert!(server.browser().get("/login").await.contains("· Acme ID</title>"), "asking changes nothing");
        let reset = admin.post_raw("/admin/platform/branding/reset", &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(reset.location(), Some("/admin/platform?notice=branding_reset"));
        let login = server.browser().get("/login").await;
        assert!(login.contains("· Latchkey</title>") && !login.contains("brand-logo"), "{}", login.body);
        assert!(!brand_css(&server).await.contains("--brand"));

        let (status, audit) = call(&server, "GET", "/audit?event=branding.updated", Some(&site_admin_token(&server, "ops@example.com").await), None).await;
        assert_eq!(status, 200, "{audit}");
        assert!(audit.to_string().contains("Acme ID"), "{audit}");
    }
}

on_both_engines! {
    async fn hostile_or_unreadable_looks_are_refused_and_change_nothing(server: TestServer) {
        let admin = sign_in_as_site_admin(&server).await;
        let ok = admin.submit("/admin/platform", "/admin/platform/branding", &[("name", "Acme ID"), ("colour", "#1d4ed8")]).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        let long = "x".repeat(41);
        for (name, logo, colour, why) in [
            ("", "", "", "name"),
            ("   ", "", "", "name"),
            (long.as_str(), "", "", "name"),
            ("Acme\u{202e}DI", "", "", "name"),
            ("Acme\u{200b}", "", "", "name"),
            ("Acme\nID", "", "", "name"),
            ("<script>alert(1)</script>", "javascript:alert(1)", "", "https"),
            ("Acme", "http://cdn.acme.test/logo.svg", "", "https"),
            ("Acme", "data:image/svg+xml,<svg onload=alert(1)>", "", "https"),
            ("Acme", "https://user:pw@cdn.acme.test/x.png", "", "logo"),
            ("Acme", "", "#fff;} body { display:none", "#rrggbb"),
            ("Acme", "", "red", "#rrggbb"),
            ("Acme", "", "#12345", "#rrggbb"),
            ("Acme", "", "#ffff00", "too light"),
            ("Acme", "", "#cccccc", "too light"),
        ] {
            let refused = admin
                .submit("/admin/platform", "/admin/platform/branding", &[("name", name), ("logo_uri", logo), ("colour", colour)])
                .await;
            assert_eq!(refused.status, 400, "{name:?} {logo:?} {colour:?}: {}", refused.body);
            assert!(refused.contains(r#"role="alert""#), "{}", refused.body);
            assert!(refused.body.to_lowercase().contains(why), "{why}: {}", refused.body);
            assert!(!refused.contains("<script>alert"), "typed values are escaped");
            let login = server.browser().get("/login").await;
            assert!(login.contains("· Acme ID</title>"), "unchanged after {name:?}: {}", login.body);
            assert!(brand_css(&server).await.contains("#1d4ed8"));
        }

        // Only site admins: a signed-in person, a forged form without a token, and the API
        // without a token are all refused.
        let person = verified_user(&server, "person@example.com").await;
        let platform = person.get("/admin/platform").await;
        assert_eq!(platform.status, 403, "{}", platform.body);
        let account = person.get("/account").await;
        let forged = person.post_raw("/admin/platform/branding", &[("csrf_token", &account.csrf()), ("name", "Pwned")]).await;
        assert_eq!(forged.status, 403, "{}", forged.body);
        let no_token = admin.post_raw("/admin/platform/branding", &[("name", "Pwned")]).await;
        assert_eq!(no_token.status, 403, "{}", no_token.body);
        let (status, _) = call(&server, "PUT", "/branding", None, Some(json!({"name": "Pwned"}))).await;
        assert_eq!(status, 401);
        assert!(server.browser().get("/login").await.contains("· Acme ID</title>"));
    }
}

on_both_engines! {
    async fn the_admin_api_shows_replaces_and_resets_the_look(server: TestServer) {
        let token = site_admin_token(&server, "ops@example.com").await;
        let t = Some(token.as_str());
        let (status, body) = call(&server, "GET", "/branding", t, None).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"name": "Latchkey", "logo_uri": null, "colour": null, "default": true}));

        let (status, body) = call(&server, "PUT", "/branding", t, Some(json!({"name": "Acme ID", "logo_uri": LOGO, "colour": "#0B5394"}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"name": "Acme ID", "logo_uri": LOGO, "colour": "#0b5394", "default": false}));
        assert!(server.browser().get("/signup").await.contains("· Acme ID</title>"));

        for (bad, why) in [
            (json!({"name": "Acme", "color": "#000000"}), "unknown field"),
            (json!({"logo_uri": LOGO}), "missing field"),
            (json!({"name": "Acme", "colour": "#eeeeee"}), "too light"),
            (json!({"name": "Acme", "logo_uri": "javascript:alert(1)"}), "https"),
            (json!({"name": "\u{0007}"}), "name"),
            (json!("Acme"), "invalid type"),
        ] {
            let (status, body) = call(&server, "PUT", "/branding", t, Some(bad.clone())).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["error"], "invalid_request", "{body}");
            assert!(body["error_description"].as_str().unwrap().to_lowercase().contains(why), "{bad}: {body}");
        }
        let (_, body) = call(&server, "GET", "/branding", t, None).await;
        assert_eq!(body["name"], "Acme ID", "refusals changed nothing");

        let (status, _) = call(&server, "DELETE", "/branding", t, None).await;
        assert_eq!(status, 204);
        let (_, body) = call(&server, "GET", "/branding", t, None).await;
        assert_eq!(body["default"], Value::Bool(true));
        let (status, doc) = call(&server, "GET", "/openapi.json", t, None).await;
        assert_eq!(status, 200);
        assert!(doc["paths"]["/branding"]["put"].is_object());
    }
}

#[test]
fn the_cli_shows_sets_and_resets_the_look() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shown = latchkey(d, &["branding", "show", "--json", "--init"], None, &[]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(cli_json(&shown)["default"], true);

    let set = latchkey(
        d,
        &["branding", "set", "--name", "Acme ID", "--colour", "#0b5394", "--json"],
        None,
        &[],
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(
        cli_json(&set),
        json!({"name": "Acme ID", "logo_uri": null, "colour": "#0b5394", "default": false})
    );
    // What is not given stays.
    let logo = latchkey(d, &["branding", "set", "--logo-uri", LOGO, "--json"], None, &[]);
    assert_eq!(
        cli_json(&logo),
        json!({"name": "Acme ID", "logo_uri": LOGO, "colour": "#0b5394", "default": false})
    );

    let low = latchkey(d, &["branding", "set", "--colour", "#f0f0f0"], None, &[]);
    assert_eq!(low.code, 2, "{}", low.stderr);
    assert!(low.stderr.contains("--colour") && low.stderr.contains("too light"), "{}", low.stderr);
    let bad =
        latchkey(d, &["branding", "set", "--logo-uri", "http://cdn.acme.test/x.png"], None, &[]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--logo-uri"), "{}", bad.stderr);

    let plain = latchkey(d, &["branding", "set", "--no-logo", "--default-colour"], None, &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain.stdout.contains("name:   Acme ID") && plain.stdout.contains("logo:   (none)"),
        "{}",
        plain.stdout
    );

    let reset = latchkey(d, &["branding", "reset", "--json"], None, &[]);
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    let shown = latchkey(d, &["branding", "show", "--json"], None, &[]);
    assert_eq!(cli_json(&shown)["name"], "Latchkey");
}

//! Hostile and malformed input: CSRF, content types, sizes, malformed fields. A rejected
//! request changes nothing.

use super::PASSWORD;

on_both_engines! {
    async fn forms_without_the_right_csrf_token_are_refused(server: TestServer) {
        let b = server.browser();
        let page = b.get("/signup").await;
        let token = page.csrf();
        let fields = [("email", "csrf@example.com"), ("name", "C"), ("password", PASSWORD)];
        let missing = b.post_raw("/signup", &fields).await;
        assert_eq!(missing.status, 403);
        let mut wrong = vec![("csrf_token", "A".repeat(43))];
        wrong.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(b.post_raw("/signup", &wrong).await.status, 403);
        // A token from another browser does not work either.
        let other = server.browser();
        let mut foreign = vec![("csrf_token", token.as_str())];
        foreign.extend_from_slice(&fields);
        assert_eq!(other.post_raw("/signup", &foreign).await.status, 403);
        // Cross-site requests are refused by Fetch metadata even before the token is checked.
        let cross = b
            .send(b.http.post(format!("{}/signup", server.url)).header("sec-fetch-site", "cross-site").form(&foreign))
            .await;
        assert_eq!(cross.status, 403);
        assert!(server.mails_to("csrf@example.com").is_empty(), "no account was created");
        let login = b.post_raw("/login", &[("email", "x@example.com"), ("password", "x")]).await;
        assert_eq!(login.status, 403);
    }
}

on_both_engines! {
    async fn malformed_fields_get_messages_next_to_them(server: TestServer) {
        let b = server.browser();
        let long_email = format!("{}@example.com", "a".repeat(300));
        for (email, name, password, expect) in [
            ("not-an-email", "N", PASSWORD, "email-error"),
            (long_email.as_str(), "N", PASSWORD, "email-error"),
            ("ok@example.com", "", PASSWORD, "name-error"),
            ("ok@example.com", "N\u{7}", PASSWORD, "name-error"),
            ("ok@example.com", "N", "short", "password-error"),
            ("ok@example.com", "N", &"p".repeat(300), "password-error"),
            ("a\r\nBcc: x@evil.com@example.com", "N", PASSWORD, "email-error"),
        ] {
            let page = b.submit("/signup", "/signup", &[("email", email), ("name", name), ("password", password)]).await;
            assert_eq!(page.status, 400, "{email:?} {name:?}");
            assert!(page.contains(&format!("id=\"{expect}\"")), "{expect} for {email:?}");
            assert!(page.contains("aria-invalid=\"true\""));
        }
        assert!(server.sent_mail().is_empty(), "nothing was written, nothing was sent");
        // Escaping: what we echo back is inert.
        let page = b.submit("/signup", "/signup", &[("email", "\"><script>alert(1)</script>"), ("name", "<b>x</b>"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 400);
        assert!(!page.contains("<script>alert(1)</script>") && !page.contains("<b>x</b>"));
    }
}

on_both_engines! {
    async fn wrong_content_types_and_oversized_bodies_are_refused(server: TestServer) {
        let b = server.browser();
        let token = b.get("/login").await.csrf();
        let json = b
            .send(b.http.post(format!("{}/login", server.url)).header("content-type", "application/json").body(format!("{{\"csrf_token\":\"{token}\"}}")))
            .await;
        assert_eq!(json.status, 415);
        let huge = "x".repeat(200 * 1024);
        let big = b.post_raw("/signup", &[("csrf_token", &token), ("email", "big@example.com"), ("name", &huge), ("password", PASSWORD)]).await;
        assert_eq!(big.status, 413);
        assert!(server.sent_mail().is_empty());
        // Token shapes we never issue do not reach storage and read as invalid links.
        for bad in ["", "x", "'; DROP TABLE accounts; --", &"a".repeat(5000)] {
            let page = b.get(&format!("/reset-password?token={}", url_encode(bad))).await;
            assert_eq!(page.status, 400);
            let page = b.get(&format!("/verify-email?token={}", url_encode(bad))).await;
            assert_eq!(page.status, 400);
        }
        // A forged session cookie is simply not a session.
        let forged = b.send(b.http.get(format!("{}/account", server.url)).header("cookie", "latchkey_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await;
        assert_eq!(forged.status, 303);
    }
}

on_both_engines! {
    async fn pages_carry_security_headers_and_redirects_stay_local(server: TestServer) {
        let b = server.browser();
        let page = b.get("/login").await;
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        // The login form ends at a product's redirect URI (browsers apply form-action to the
        // redirects after a submission), so it alone leaves form-action open; other pages pin it.
        assert!(!csp.contains("form-action"), "{csp}");
        let signup_csp = b.get("/signup").await.header("content-security-policy").unwrap().to_owned();
        assert!(signup_csp.contains("form-action 'self'"), "{signup_csp}");
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert!(page.header("x-request-id").is_some());
        // Scripts come from our own files only (the CSP has no 'unsafe-inline').
        let inline = page.body.split("<script").skip(1).any(|tag| !tag.trim_start().starts_with("src=\"/assets/"));
        assert!(!inline, "no inline script");
        for input in ["type=\"email\"", "type=\"password\"", "name=\"csrf_token\""] {
            assert!(page.contains(input));
        }
        // Every input has a label.
        for id in ["email", "password"] {
            assert!(page.contains(&format!("<label for=\"{id}\">")));
        }

        let _ = crate::verified_user(&server, "redirect@example.com").await;
        let c = server.browser();
        let page = c.submit("/login?next=//evil.example/x", "/login", &[("email", "redirect@example.com"), ("password", PASSWORD), ("next", "//evil.example/x")]).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), Some("/account"));
        let d = server.browser();
        let page = d.submit("/login", "/login", &[("email", "redirect@example.com"), ("password", PASSWORD), ("next", "/account?notice=verified")]).await;
        assert_eq!(page.location(), Some("/account?notice=verified"));
        assert_eq!(b.get("/no/such/page").await.status, 404);
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

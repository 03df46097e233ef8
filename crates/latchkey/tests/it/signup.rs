//! Sign-up, email verification and the no-enumeration promise.

use super::{PASSWORD, verified_user};

on_both_engines! {
    async fn signup_verify_and_login(server: TestServer) {
        let browser = server.browser();
        let page = browser
            .submit("/signup", "/signup", &[("email", "Ada@Example.com"), ("name", "Ada Lovelace"), ("password", PASSWORD)])
            .await;
        // POST, then redirect: a reload of the next page sends nothing again.
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location(), Some("/signup/check-email"));
        let check = browser.get("/signup/check-email").await;
        assert!(check.contains("Check your email"));
        assert!(check.contains("Ada@example.com") || check.contains("ada@example.com"), "{}", check.body);
        let reloaded = browser.get("/signup/check-email").await;
        assert!(reloaded.contains("Check your email") && !reloaded.body.to_lowercase().contains("ada@example.com"));
        // Not signed in yet.
        assert_eq!(browser.get("/account").await.status, 303);

        let mail = server.mail_to("Ada@example.com", 1).await;
        assert_eq!(mail.subject, "Verify your email address");
        let link = mail.link_to("/verify-email");
        assert!(link.starts_with(&server.url), "links are absolute under the public URL: {link}");

        // Opening the link only shows a button (mail scanners cannot use it up).
        let token = mail.token_for("/verify-email");
        let page = browser.get(&format!("/verify-email?token={token}")).await;
        assert_eq!(page.status, 200);
        assert!(page.contains("Verify my email"));
        let page = browser.post_raw("/verify-email", &[("csrf_token", &page.csrf()), ("token", &token)]).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), Some("/account?notice=verified"));
        let cookie = page.set_cookies().into_iter().find(|c| c.starts_with("latchkey_session=")).unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"));

        let account = browser.get("/account").await;
        assert_eq!(account.status, 200);
        assert!(account.contains("Ada Lovelace") && account.contains("Ada@example.com"));
        assert!(account.contains(">Verified<"));

        // The link is single-use: opened again by its signed-in owner, it says the address is
        // verified (not "expired"); by anyone else, only that it cannot be used.
        let again = browser.get(&format!("/verify-email?token={token}")).await;
        assert_eq!(again.status, 200);
        assert!(again.contains("is verified") && !again.contains("expired"), "{}", again.body);
        let stranger = server.browser().get(&format!("/verify-email?token={token}")).await;
        assert_eq!(stranger.status, 400);
        assert!(stranger.contains("expired or was already used"));

        // Log out, log back in with the password (email case does not matter).
        let page = browser.submit("/logout", "/logout", &[]).await;
        assert_eq!(page.status, 303);
        assert_eq!(browser.get("/account").await.status, 303);
        browser.log_in("ada@EXAMPLE.com", PASSWORD).await;
        assert_eq!(browser.get("/account").await.status, 200);
    }
}

on_both_engines! {
    async fn signup_with_a_taken_address_reveals_nothing(server: TestServer) {
        let _owner = verified_user(&server, "taken@example.com").await;
        let fresh = server.browser();
        let new_post = fresh
            .submit("/signup", "/signup", &[("email", "new@example.com"), ("name", "New"), ("password", PASSWORD)])
            .await;
        let new_page = fresh.get("/signup/check-email").await;
        let taken_post = fresh
            .submit("/signup", "/signup", &[("email", "TAKEN@example.com"), ("name", "Other"), ("password", "another password")])
            .await;
        let taken_page = fresh.get("/signup/check-email").await;
        assert_eq!((new_post.status, new_post.location()), (taken_post.status, taken_post.location()));
        assert_eq!(new_page.status, taken_page.status);
        assert_eq!(
            new_page.body.replace("new@example.com", "X"),
            taken_page.body.replace("TAKEN@example.com", "X"),
            "the two answers must be indistinguishable"
        );
        // The owner is told instead; the account is unchanged.
        let notice = server.mail_to("taken@example.com", 2).await;
        assert_eq!(notice.subject, "You already have an account");
        server.browser().log_in("taken@example.com", super::PASSWORD).await;
    }
}

on_both_engines! {
    async fn verification_links_expire_and_can_be_resent(server: TestServer) {
        let browser = server.browser();
        browser
            .submit("/signup", "/signup", &[("email", "late@example.com"), ("name", "Late"), ("password", PASSWORD)])
            .await;
        let first = server.mail_to("late@example.com", 1).await.token_for("/verify-email");
        server.clock.advance(24 * 3600 + 1);
        let page = browser.get(&format!("/verify-email?token={first}")).await;
        assert_eq!(page.status, 400);
        let csrf = browser.get("/login").await.csrf();
        let page = browser.post_raw("/verify-email", &[("csrf_token", &csrf), ("token", &first)]).await;
        assert_eq!(page.status, 400, "an expired link is refused on submit too");

        let page = browser.submit("/verify-email/resend", "/verify-email/resend", &[("email", "late@example.com")]).await;
        assert_eq!(page.status, 200);
        assert!(page.contains("a new link is on its way"));
        let second = server.mail_to("late@example.com", 2).await.token_for("/verify-email");
        assert_ne!(first, second);
        let page = browser.submit(&format!("/verify-email?token={second}"), "/verify-email", &[("token", &second)]).await;
        assert_eq!(page.status, 303);

        // Unknown addresses get the same answer and no mail.
        let page = browser.submit("/verify-email/resend", "/verify-email/resend", &[("email", "nobody@example.com")]).await;
        assert_eq!(page.status, 200);
        assert!(page.contains("a new link is on its way"));
        assert!(server.mails_to("nobody@example.com").is_empty());
    }
}

on_both_engines! {
    async fn resending_is_rate_limited_per_address(server: TestServer) {
        let browser = server.browser();
        browser
            .submit("/signup", "/signup", &[("email", "spam@example.com"), ("name", "S"), ("password", PASSWORD)])
            .await;
        server.mail_to("spam@example.com", 1).await;
        for _ in 0..6 {
            let page = browser.submit("/verify-email/resend", "/verify-email/resend", &[("email", "spam@example.com")]).await;
            assert_eq!(page.status, 200, "the answer does not change when the limit is reached");
        }
        // One sign-up mail plus three resends (the per-address limit), however often asked.
        server.mail_to("spam@example.com", 4).await;
        let count = server.mails_to("spam@example.com").len();
        assert_eq!(count, 4);
    }
}

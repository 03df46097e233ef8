//! "Forgot password": no enumeration, single use, one hour, every session ends.

use super::{PASSWORD, verified_user};

on_both_engines! {
    async fn reset_answers_identically_for_unknown_addresses(server: TestServer) {
        let _owner = verified_user(&server, "known@example.com").await;
        let b = server.browser();
        let known = b.submit("/forgot-password", "/forgot-password", &[("email", "known@example.com")]).await;
        let unknown = b.submit("/forgot-password", "/forgot-password", &[("email", "unknown@example.com")]).await;
        assert_eq!(known.status, 200);
        assert_eq!(known.status, unknown.status);
        assert_eq!(
            known.body.replace("known@example.com", "X"),
            unknown.body.replace("unknown@example.com", "X")
        );
        assert_eq!(server.mail_to("known@example.com", 2).await.subject, "Reset your password");
        assert!(server.mails_to("unknown@example.com").is_empty());
    }
}

on_both_engines! {
    async fn reset_sets_the_password_once_and_ends_all_sessions(server: TestServer) {
        let signed_in = verified_user(&server, "reset@example.com").await;
        let b = server.browser();
        b.submit("/forgot-password", "/forgot-password", &[("email", "reset@example.com")]).await;
        let mail = server.mail_to("reset@example.com", 2).await;
        let token = mail.token_for("/reset-password");

        let mismatch = b
            .submit(&format!("/reset-password?token={token}"), "/reset-password", &[("token", &token), ("password", "new password one"), ("password_confirm", "new password two")])
            .await;
        assert_eq!(mismatch.status, 400);
        assert!(mismatch.contains("do not match"));

        let done = b
            .submit(&format!("/reset-password?token={token}"), "/reset-password", &[("token", &token), ("password", "new password one"), ("password_confirm", "new password one")])
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(done.location(), Some("/login?notice=password_reset"));
        assert_eq!(signed_in.get("/account").await.status, 303, "every session ended");

        // Reuse is refused, on the page and on submit.
        assert_eq!(b.get(&format!("/reset-password?token={token}")).await.status, 400);
        let page = b.get("/login").await;
        let reuse = b
            .post_raw("/reset-password", &[("csrf_token", &page.csrf()), ("token", &token), ("password", "third password!"), ("password_confirm", "third password!")])
            .await;
        assert_eq!(reuse.status, 400);
        assert!(reuse.contains("expired or was already used"));

        let old = b.submit("/login", "/login", &[("email", "reset@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(old.status, 401);
        b.log_in("reset@example.com", "new password one").await;
    }
}

on_both_engines! {
    async fn reset_links_expire_after_an_hour(server: TestServer) {
        let _owner = verified_user(&server, "slow@example.com").await;
        let b = server.browser();
        b.submit("/forgot-password", "/forgot-password", &[("email", "slow@example.com")]).await;
        let token = server.mail_to("slow@example.com", 2).await.token_for("/reset-password");
        server.clock.advance(3601);
        let page = b.get(&format!("/reset-password?token={token}")).await;
        assert_eq!(page.status, 400);
        let csrf = b.get("/login").await.csrf();
        let submit = b
            .post_raw("/reset-password", &[("csrf_token", &csrf), ("token", &token), ("password", "too late now!"), ("password_confirm", "too late now!")])
            .await;
        assert_eq!(submit.status, 400);
        server.browser().log_in("slow@example.com", PASSWORD).await;
    }
}

on_both_engines! {
    async fn a_reset_link_proves_the_email(server: TestServer) {
        let b = server.browser();
        b.submit("/signup", "/signup", &[("email", "unverified@example.com"), ("name", "U"), ("password", PASSWORD)]).await;
        // Mail goes out in batches; wait for the first so "the second" is well defined.
        server.mail_to("unverified@example.com", 1).await;
        b.submit("/forgot-password", "/forgot-password", &[("email", "unverified@example.com")]).await;
        let token = server.mail_to("unverified@example.com", 2).await.token_for("/reset-password");
        b.submit(&format!("/reset-password?token={token}"), "/reset-password", &[("token", &token), ("password", "fresh password"), ("password_confirm", "fresh password")]).await;
        b.log_in("unverified@example.com", "fresh password").await;
        assert!(b.get("/account").await.contains(">Verified<"));
    }
}

//! `/account`: profile, name and password changes.

use super::{PASSWORD, verified_user};

on_both_engines! {
    async fn change_name_and_refuse_a_bad_one(server: TestServer) {
        let browser = verified_user(&server, "name@example.com").await;
        let page = browser.submit("/account", "/account/name", &[("name", "  Grace Hopper ")]).await;
        assert_eq!(page.status, 303);
        let account = browser.get("/account?notice=name_changed").await;
        assert!(account.contains("Grace Hopper") && account.contains("Your name was saved."));

        let page = browser.submit("/account", "/account/name", &[("name", &"x".repeat(101))]).await;
        assert_eq!(page.status, 400);
        assert!(page.contains("too long"));
        assert!(page.contains("id=\"name-error\""), "the message sits next to the field");
        assert!(browser.get("/account").await.contains("Grace Hopper"), "nothing changed");
    }
}

on_both_engines! {
    async fn change_password_revokes_other_sessions_and_notifies(server: TestServer) {
        let laptop = verified_user(&server, "pw@example.com").await;
        let phone = server.browser();
        phone.log_in("pw@example.com", PASSWORD).await;

        let wrong = laptop
            .submit("/account", "/account/password", &[("current_password", "not it at all"), ("new_password", "a brand new passphrase")])
            .await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.contains("current password is incorrect"));
        let weak = laptop
            .submit("/account", "/account/password", &[("current_password", PASSWORD), ("new_password", "short")])
            .await;
        assert_eq!(weak.status, 400);
        assert!(weak.contains("at least 8"));
        assert_eq!(phone.get("/account").await.status, 200, "failed attempts change nothing");

        let ok = laptop
            .submit("/account", "/account/password", &[("current_password", PASSWORD), ("new_password", "a brand new passphrase")])
            .await;
        assert_eq!(ok.status, 303);
        assert_eq!(laptop.get("/account").await.status, 200, "this session stays");
        assert_eq!(phone.get("/account").await.status, 303, "every other session ends");
        let notice = server.mail_to("pw@example.com", 2).await;
        assert_eq!(notice.subject, "Your password was changed");

        let fresh = server.browser();
        let old = fresh.submit("/login", "/login", &[("email", "pw@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(old.status, 401);
        fresh.log_in("pw@example.com", "a brand new passphrase").await;
    }
}

on_both_engines! {
    async fn deactivation_ends_sessions_at_once(server: TestServer) {
        let browser = verified_user(&server, "gone@example.com").await;
        assert_eq!(browser.get("/account").await.status, 200);
        let admin = server.site_admin();
        let email = latchkey_core::accounts::Email::parse("gone@example.com").unwrap();
        server.core.accounts().deactivate_account(&admin, &email).await.unwrap();
        assert_eq!(browser.get("/account").await.status, 303);
        let page = server
            .browser()
            .submit("/login", "/login", &[("email", "gone@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 403);
        assert!(page.contains("deactivated"));
    }
}

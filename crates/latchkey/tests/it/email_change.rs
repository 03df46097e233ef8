//! Changing the email: confirmed from the new address, undone from the old one.

use latchkey_testkit::TestServer;

use super::{PASSWORD, verified_user};

async fn link(server: &TestServer, to: &str, n: usize, path: &str) -> String {
    let token = server.mail_to(to, n).await.token_for(path);
    format!("{path}?token={token}")
}

on_both_engines! {
    async fn an_email_change_is_confirmed_by_the_new_address_and_can_be_undone_from_the_old(server: TestServer) {
        let browser = verified_user(&server, "old@example.com").await;
        let _other = verified_user(&server, "taken@example.com").await;

        // Refused without the password, and for the same address; nothing changes.
        let page = browser.submit("/account", "/account/email", &[("new_email", "new@example.com"), ("current_password", "wrong password!")]).await;
        assert_eq!(page.status, 401);
        let page = browser.submit("/account", "/account/email", &[("new_email", "OLD@example.com"), ("current_password", PASSWORD)]).await;
        assert_eq!(page.status, 400);
        assert!(server.mails_to("new@example.com").is_empty());

        // An address that already has an account: the same answer; its owner is told.
        let page = browser.submit("/account", "/account/email", &[("new_email", "taken@example.com"), ("current_password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/account/email?notice=email_change_sent"));
        let told = server.mail_to("taken@example.com", 2).await;
        assert!(told.subject.contains("already have an account"), "{}", told.subject);

        let page = browser.submit("/account", "/account/email", &[("new_email", "new@example.com"), ("current_password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/account/email?notice=email_change_sent"));
        server.browser().log_in("old@example.com", PASSWORD).await;
        let confirm = link(&server, "new@example.com", 1, "/account/email/confirm").await;
        let page = browser.get(&confirm).await;
        assert_eq!(page.status, 200, "a page with a button: link scanners change nothing");
        let token = latchkey_testkit::hidden_input(&page.body, "token").unwrap();
        let page = browser.post_raw("/account/email/confirm", &[("csrf_token", &page.csrf()), ("token", &token)]).await;
        assert_eq!(page.location(), Some("/account?notice=email_changed"));
        assert!(browser.get("/account").await.body.contains("new@example.com"));
        let old = server.browser().submit("/login", "/login", &[("email", "old@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(old.status, 401, "the old address no longer signs in");
        server.browser().log_in("new@example.com", PASSWORD).await;
        let again = browser.get(&confirm).await;
        assert_eq!(again.status, 400, "used once");

        // "This wasn't me" from the old address.
        let revert = link(&server, "old@example.com", 2, "/account/email/revert").await;
        let page = server.browser().get(&revert).await;
        let token = latchkey_testkit::hidden_input(&page.body, "token").unwrap();
        let undo = server.browser();
        let form = undo.get(&revert).await;
        let page = undo.post_raw("/account/email/revert", &[("csrf_token", &form.csrf()), ("token", &token)]).await;
        assert_eq!(page.location(), Some("/login?notice=email_reverted"));
        assert_eq!(browser.get("/account").await.status, 303, "every session ended");
        let login = server.browser().submit("/login", "/login", &[("email", "old@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(login.status, 401, "the password must be reset");
        // The notice and the reset link may arrive in either order.
        server.mail_to("old@example.com", 4).await;
        let mails = server.mails_to("old@example.com");
        assert!(mails.iter().any(|m| m.decoded.contains("every signed-in session")), "the owner is told what went");
        assert!(mails.iter().any(|m| m.decoded.contains("/reset-password?token=")), "a reset link");

        // Sensitive: a sign-in older than ten minutes asks again.
        let fresh = server.browser();
        fresh.log_in("taken@example.com", PASSWORD).await;
        server.clock.advance(601);
        let page = fresh.submit("/account", "/account/email", &[("new_email", "x@example.com"), ("current_password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/login?reauth=1&next=%2Faccount%2Femail"));
    }
}

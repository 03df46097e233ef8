//! Account closure: people ask, administrators close; closing signs out at once, erasure
//! follows the grace period unless the account is reactivated; the id stays as a tombstone.

use latchkey_core::accounts::Email;
use latchkey_core::flows::SetStatusError;

use super::{PASSWORD, verified_user};

on_both_engines! {
    async fn closure_is_requested_by_the_person_and_done_by_an_admin(server: TestServer) {
        let site = server.site_admin();
        let person = verified_user(&server, "leaving@example.com").await;
        let email = Email::parse("leaving@example.com").unwrap();
        let page = person.submit("/account", "/account/closure-request", &[("reason", "moving on")]).await;
        assert_eq!(page.location(), Some("/account?notice=closure_requested"));
        assert_eq!(person.get("/account").await.status, 200, "asking changes nothing yet");
        let requests = server.core.accounts().site_closure_requests(&site).await.unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].reason, "moving on");

        let closed = server.core.accounts().close_account(&site, &email).await.unwrap();
        assert_eq!(closed.status.as_str(), "closed");
        assert!(server.core.accounts().site_closure_requests(&site).await.unwrap().is_empty(), "the request is done");
        assert_eq!(person.get("/account").await.status, 303, "signed out at once");
        let login = server.browser().submit("/login", "/login", &[("email", "leaving@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(login.status, 403);
        assert!(matches!(server.core.accounts().close_account(&site, &email).await, Err(SetStatusError::Closed)));

        // Within the grace period it can be undone.
        server.core.accounts().reactivate_account(&site, &email).await.unwrap();
        server.browser().log_in("leaving@example.com", PASSWORD).await;

        // After it, the personal data is gone and only the id remains.
        let id = server.core.accounts().close_account(&site, &email).await.unwrap().id;
        server.clock.advance(14 * 24 * 3600 - 10);
        assert_eq!(server.core.accounts().erase_closed_accounts().await.unwrap(), 0, "not before the grace period");
        server.clock.advance(20);
        assert_eq!(server.core.accounts().erase_closed_accounts().await.unwrap(), 1);
        assert!(server.core.accounts().find_account(&site, &email).await.unwrap().is_none(), "the email is gone");
        assert!(matches!(server.core.accounts().reactivate_account(&site, &email).await, Err(SetStatusError::NotFound)));
        let accounts = server.core.accounts().list_accounts(&site, 100, 0).await.unwrap();
        let tombstone = accounts.iter().find(|a| a.id == id).expect("the id stays");
        assert_eq!((tombstone.name.as_str(), tombstone.status.as_str()), ("Closed account", "closed"));
        assert!(tombstone.password_hash.is_none());
        // The address is free for a new account.
        let again = server.browser();
        let page = again.submit("/signup", "/signup", &[("email", "leaving@example.com"), ("name", "New"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 303);
        let token = server.mail_to("leaving@example.com", 2).await.token_for("/verify-email");
        let page = again.submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)]).await;
        assert_eq!(page.status, 303, "a new account, not a resurrected one");
        let fresh = server.core.accounts().find_account(&site, &email).await.unwrap().unwrap();
        assert_ne!(fresh.id, id);
    }
}

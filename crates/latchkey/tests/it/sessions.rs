//! Server-side sessions: listing, signing out one or all, expiry.

use super::{PASSWORD, verified_user};

fn session_ids(body: &str) -> Vec<String> {
    body.match_indices("/account/sessions/")
        .filter_map(|(i, _)| {
            let rest = &body[i + "/account/sessions/".len()..];
            let id: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            (id != "end-all").then_some(id)
        })
        .collect()
}

on_both_engines! {
    async fn sessions_are_listed_and_can_be_ended(server: TestServer) {
        let laptop = verified_user(&server, "s@example.com").await;
        let phone = server.browser();
        phone.log_in("s@example.com", PASSWORD).await;
        let page = laptop.get("/account/sessions").await;
        let ids = session_ids(&page.body);
        assert_eq!(ids.len(), 2, "both sessions are listed");
        assert!(page.contains("This browser"));
        assert!(page.contains("Chrome on Linux"));
        assert!(page.contains("127.0.0.1"));

        // Sign out the other one; ending our own session instead would log us out.
        let mut ended_other = false;
        for id in &ids {
            let page = laptop.submit("/account", &format!("/account/sessions/{id}/end"), &[]).await;
            assert_eq!(page.status, 303);
            if page.location() == Some("/account/sessions?notice=session_ended") {
                ended_other = true;
                break;
            }
            // That was our own session: log back in and keep going.
            laptop.log_in("s@example.com", PASSWORD).await;
        }
        assert!(ended_other);
        assert_eq!(phone.get("/account").await.status, 303, "the phone was signed out");

        // Ending a session that does not exist (or is someone else's) is a 404, not an error.
        let page = laptop.submit("/account", "/account/sessions/0190f0f0-0000-7000-8000-000000000000/end", &[]).await;
        assert_eq!(page.status, 404);
        let page = laptop.submit("/account", "/account/sessions/not-a-uuid/end", &[]).await;
        assert_eq!(page.status, 404);
    }
}

on_both_engines! {
    async fn sign_out_everywhere_ends_every_session(server: TestServer) {
        let a = verified_user(&server, "everywhere@example.com").await;
        let b = server.browser();
        b.log_in("everywhere@example.com", PASSWORD).await;
        let page = a.submit("/account", "/account/sessions/end-all", &[]).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), Some("/login?notice=signed_out_everywhere"));
        assert_eq!(a.get("/account").await.status, 303);
        assert_eq!(b.get("/account").await.status, 303);
    }
}

on_both_engines! {
    async fn idle_and_old_sessions_expire(server: TestServer) {
        let browser = verified_user(&server, "idle@example.com").await;
        server.clock.advance(6 * 24 * 3600);
        assert_eq!(browser.get("/account").await.status, 200, "used within the idle window");
        server.clock.advance(6 * 24 * 3600);
        assert_eq!(browser.get("/account").await.status, 200, "last use refreshed the idle window");
        server.clock.advance(7 * 24 * 3600 + 1);
        assert_eq!(browser.get("/account").await.status, 303, "idle for over 7 days");

        browser.log_in("idle@example.com", PASSWORD).await;
        for _ in 0..4 {
            server.clock.advance(6 * 24 * 3600);
            assert_eq!(browser.get("/account").await.status, 200);
        }
        server.clock.advance(6 * 24 * 3600 - 1);
        assert_eq!(browser.get("/account").await.status, 200, "just under 30 days");
        server.clock.advance(1);
        assert_eq!(browser.get("/account").await.status, 303, "absolute lifetime of 30 days");
        assert_eq!(server.core.sessions().purge_expired_sessions().await.unwrap(), 0, "already removed on use");
    }
}

on_both_engines! {
    async fn logout_needs_a_post_and_ends_only_this_session(server: TestServer) {
        let a = verified_user(&server, "logout@example.com").await;
        let b = server.browser();
        b.log_in("logout@example.com", PASSWORD).await;
        let page = a.get("/logout").await;
        assert_eq!(page.status, 200);
        assert!(page.contains("Log out of Latchkey"));
        assert_eq!(a.get("/account").await.status, 200, "GET /logout changes nothing");
        let page = a.post_raw("/logout", &[("csrf_token", &page.csrf())]).await;
        assert_eq!(page.status, 303);
        assert_eq!(a.get("/account").await.status, 303);
        assert_eq!(b.get("/account").await.status, 200);
    }
}

//! Check-then-act on counters: a parallel burst of guesses is counted before any is
//! evaluated, so no more than the limit (5) ever reach argon2id or the code check.

use futures_util::future::join_all;

use crate::{PASSWORD, verified_user};

/// How many answers were verdicts on the guess (not "too many attempts").
fn evaluated(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s != 429).count()
}

on_both_engines! {
    async fn a_burst_of_wrong_passwords_is_evaluated_at_most_five_times(server: TestServer) {
        let _owner = verified_user(&server, "burst@example.com").await;
        // From 40 addresses, so only the account's counter is in play.
        let browsers: Vec<_> = (0..40).map(|i| server.browser_from(&format!("10.9.0.{i}"))).collect();
        let mut forms = Vec::new();
        for b in &browsers {
            forms.push(b.get("/login").await.csrf());
        }
        let guesses = browsers.iter().zip(&forms).enumerate().map(|(i, (b, csrf))| async move {
            let password = format!("wrong guess number {i}");
            b.post_raw("/login", &[("csrf_token", csrf), ("email", "burst@example.com"), ("password", &password)])
                .await
                .status
        });
        let statuses = join_all(guesses).await;
        assert!(evaluated(&statuses) <= 5, "{} guesses were evaluated: {statuses:?}", evaluated(&statuses));
        assert!(statuses.iter().all(|s| matches!(s, 401 | 429)), "{statuses:?}");
        let page = server.browser().submit("/login", "/login", &[("email", "burst@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 429, "the right password waits out the window too");
        server.clock.advance(301);
        let page = server.browser().submit("/login", "/login", &[("email", "burst@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 303, "and then signs in");
    }
}

on_both_engines! {
    async fn a_burst_of_wrong_second_step_codes_is_evaluated_at_most_five_times(server: TestServer) {
        let owner = verified_user(&server, "tsv@example.com").await;
        let (_app, _codes) = crate::two_factor::enrol(&server, &owner).await;
        let attacker = server.browser();
        let csrf = crate::two_factor::password_step(&attacker).await;
        // TOTP guesses and recovery-code guesses share one counter.
        let guesses = (0..30).map(|i| {
            let (attacker, csrf) = (&attacker, csrf.clone());
            async move {
                let code = if i % 2 == 0 { format!("{:06}", 100_000 + i) } else { format!("aaaa-bbbb-cccc-{i:04}") };
                crate::two_factor::second_step(attacker, &csrf, &code).await.status
            }
        });
        let statuses = join_all(guesses).await;
        assert!(evaluated(&statuses) <= 5, "{} codes were evaluated: {statuses:?}", evaluated(&statuses));
    }
}

on_both_engines! {
    async fn a_burst_of_password_rechecks_is_evaluated_at_most_five_times(server: TestServer) {
        let browser = verified_user(&server, "recheck@example.com").await;
        let csrf = browser.get("/account").await.csrf();
        let guesses = (0..30).map(|i| {
            let (browser, csrf) = (&browser, csrf.clone());
            async move {
                let password = format!("not my password {i}");
                browser
                    .post_raw("/account/email", &[("csrf_token", &csrf), ("new_email", "elsewhere@example.com"), ("current_password", &password)])
                    .await
                    .status
            }
        });
        let statuses = join_all(guesses).await;
        assert!(evaluated(&statuses) <= 5, "{} re-checks were evaluated: {statuses:?}", evaluated(&statuses));
        assert!(server.mails_to("elsewhere@example.com").is_empty());
    }
}

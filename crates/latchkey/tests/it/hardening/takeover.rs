//! Account takeover through the mailbox: pre-registration (sign up with someone else's
//! address), emailed links that skip a factor, an email change that leaves a way in, and the
//! email-change form as a mail cannon.

use latchkey_core::accounts::Email;
use latchkey_testkit::{Browser, TestServer};

use crate::oidc::{GrantType, SigningAlg, register};
use crate::{PASSWORD, verified_user};

async fn signed_up_unverified(server: &TestServer, email: &str) -> Browser {
    let browser = server.browser();
    let page = browser
        .submit(
            "/signup",
            "/signup",
            &[("email", email), ("name", "Someone"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    browser.log_in(email, PASSWORD).await;
    browser
}

async fn signed_in(browser: &Browser) -> bool {
    browser.get("/account").await.status == 200
}

async fn factors_of(
    server: &TestServer,
    email: &str,
) -> latchkey_core::second_factor::TwoFactorStatus {
    let account = server
        .core
        .accounts()
        .find_account(&server.site_admin(), &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    server.core.second_factor().two_factor_status(&account.id).await.unwrap()
}

/// Asks for a reset link from the forgot-password form and sets `new_password` with it.
async fn reset_password(server: &TestServer, email: &str, new_password: &str) {
    let browser = server.browser();
    let page = browser.submit("/forgot-password", "/forgot-password", &[("email", email)]).await;
    assert!(page.status < 400, "{}", page.body);
    // Other mail (the sign-up's link) may still be on its way: find the reset by its link.
    let token =
        latchkey_testkit::eventually("the reset link", std::time::Duration::from_secs(10), || {
            let found = server
                .mails_to(email)
                .into_iter()
                .find(|m| m.decoded.contains("/reset-password?token="));
            async move { found }
        })
        .await
        .token_for("/reset-password");
    let page = browser
        .submit(
            &format!("/reset-password?token={token}"),
            "/reset-password",
            &[("token", &token), ("password", new_password), ("password_confirm", new_password)],
        )
        .await;
    assert!(page.status < 400, "{}", page.body);
}

on_both_engines! {
    async fn an_unverified_account_enrols_no_factor_and_reaches_no_product(server: TestServer) {
        let squatter = signed_up_unverified(&server, "victim@example.com").await;
        let page = squatter.submit("/account/security", "/account/security/totp", &[]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        let csrf = squatter.get("/account/security").await.csrf();
        let page = squatter.post_raw("/account/security/keys/begin", &[("csrf_token", &csrf), ("nickname", "mine")]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        let page = squatter.submit("/account/security", "/account/security/recovery-codes", &[]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(!factors_of(&server, "victim@example.com").await.enabled());

        let wiki = register(&server, "Wiki", false, SigningAlg::RS256, vec![GrantType::AuthorizationCode]).await;
        let callback = url::form_urlencoded::byte_serialize(crate::oidc::CALLBACK.as_bytes()).collect::<String>();
        let url = format!("/oauth/authorize?client_id={}&redirect_uri={callback}&response_type=code&scope=openid&state=s", wiki.id);
        let page = squatter.get(&url).await;
        assert_eq!(page.status, 403, "no product until the address is verified: {}", page.body);
        let page = squatter.get(&format!("{url}&prompt=none")).await;
        assert!(page.location().unwrap().contains("error=interaction_required"), "{:?}", page.location());
    }
}

on_both_engines! {
    async fn the_owners_reset_throws_out_whoever_registered_their_address(server: TestServer) {
        let squatter = signed_up_unverified(&server, "victim@example.com").await;
        // The squatter also starts moving the account to an address of their own.
        let page = squatter
            .submit("/account", "/account/email", &[("new_email", "squatter@example.net"), ("current_password", PASSWORD)])
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let confirm = server.mail_to("squatter@example.net", 1).await.token_for("/account/email/confirm");

        reset_password(&server, "victim@example.com", "the owner's own new password").await;
        assert!(!signed_in(&squatter).await, "the squatter's session ended");
        let page = squatter.get(&format!("/account/email/confirm?token={confirm}")).await;
        assert_eq!(page.status, 400, "the pending email change was cancelled: {}", page.body);
        let account = server
            .core.accounts()
            .find_account(&server.site_admin(), &Email::parse("victim@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(account.email_verified(), "the reset proved the mailbox");
        let owner = server.browser();
        owner.log_in("victim@example.com", "the owner's own new password").await;
        server.mail_to("victim@example.com", 3).await;
        let told = server.mails_to("victim@example.com");
        assert!(told.iter().any(|m| m.decoded.contains("every signed-in session")), "the owner is told what went");
    }
}

on_both_engines! {
    async fn undoing_an_email_change_removes_every_way_in_it_left(server: TestServer) {
        let owner = verified_user(&server, "tsv@example.com").await;
        let other_session = server.browser();
        other_session.log_in("tsv@example.com", PASSWORD).await;
        let (_app, _codes) = crate::two_factor::enrol(&server, &owner).await;

        // Someone with the owner's session moves the account to their own address.
        let page = owner
            .submit("/account", "/account/email", &[("new_email", "thief@example.net"), ("current_password", PASSWORD)])
            .await;
        assert_eq!(page.location(), Some("/account/email?notice=email_change_sent"), "{}", page.body);
        let token = server.mail_to("thief@example.net", 1).await.token_for("/account/email/confirm");
        let page = owner.submit(&format!("/account/email/confirm?token={token}"), "/account/email/confirm", &[("token", &token)]).await;
        assert_eq!(page.location(), Some("/account?notice=email_changed"));
        assert!(signed_in(&owner).await, "the confirming browser stays signed in");
        assert!(!signed_in(&other_session).await, "other sessions end on a confirmed change");

        // The owner undoes it from the old address: the factor set up under the session goes.
        let revert = latchkey_testkit::eventually("the revert link", std::time::Duration::from_secs(10), || {
            let found = server.mails_to("tsv@example.com").into_iter().find(|m| m.decoded.contains("/account/email/revert?token="));
            async move { found }
        })
        .await
        .token_for("/account/email/revert");
        let undo = server.browser();
        let page = undo.submit(&format!("/account/email/revert?token={revert}"), "/account/email/revert", &[("token", &revert)]).await;
        assert_eq!(page.location(), Some("/login?notice=email_reverted"));
        assert!(!signed_in(&owner).await);
        let status = factors_of(&server, "tsv@example.com").await;
        assert!(!status.enabled() && status.recovery_codes_left == 0, "{status:?}");
        latchkey_testkit::eventually("the mail saying what went", std::time::Duration::from_secs(10), || {
            let found = server.mails_to("tsv@example.com").into_iter().any(|m| m.decoded.contains("the authenticator app"));
            async move { found.then_some(()) }
        })
        .await;
    }
}

on_both_engines! {
    async fn no_emailed_link_signs_in_past_a_second_factor(server: TestServer) {
        let owner = verified_user(&server, "tsv@example.com").await;
        let (_app, _codes) = crate::two_factor::enrol(&server, &owner).await;
        let page = owner
            .submit("/account", "/account/email", &[("new_email", "new-tsv@example.com"), ("current_password", PASSWORD)])
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let token = server.mail_to("new-tsv@example.com", 1).await.token_for("/account/email/confirm");

        // Confirmed from a browser with no session: the change happens, nobody is signed in.
        let stranger = server.browser();
        let page = stranger
            .submit(&format!("/account/email/confirm?token={token}"), "/account/email/confirm", &[("token", &token)])
            .await;
        assert!(page.status < 400, "{}", page.body);
        assert!(!signed_in(&stranger).await, "the confirmation link signed a browser in past the second step");
        assert!(stranger.cookie("latchkey_session").is_none(), "no session cookie");
    }
}

async fn ask(browser: &Browser, to: &str) -> latchkey_testkit::Page {
    browser
        .submit("/account", "/account/email", &[("new_email", to), ("current_password", PASSWORD)])
        .await
}

on_both_engines! {
    async fn the_email_change_form_is_no_mail_cannon(server: TestServer) {
        let first = verified_user(&server, "first@example.com").await;
        let second = verified_user(&server, "second@example.com").await;
        for _ in 0..3 {
            assert_eq!(ask(&first, "target@example.net").await.status, 303);
        }
        assert_eq!(ask(&first, "target@example.net").await.status, 429, "a visible limit per account");
        // Another account: the same answer, but the target address gets nothing more.
        assert_eq!(ask(&second, "target@example.net").await.status, 303);
        server.mail_to("target@example.net", 3).await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(server.mails_to("target@example.net").len(), 3, "a silent limit per target address");
    }
}

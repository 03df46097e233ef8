//! Two-step verification: enrolment, the second login step, replay and skew, recovery codes,
//! throttling, step-up, turning it off, and the mail every change sends.

use latchkey_testkit::{Browser, TestServer};
use totp_rs::{Algorithm, Secret, TOTP};

use super::{PASSWORD, verified_user};

fn app(secret_base32: &str) -> TOTP {
    let secret = Secret::Encoded(secret_base32.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret, None, String::new())
}

fn code_at(app: &TOTP, server: &TestServer, offset_steps: i64) -> String {
    let now = server.core.kernel().clock().now().unix() + offset_steps * 30;
    app.generate(u64::try_from(now).unwrap())
}

fn text_between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("{start} not in {body}")) + start.len();
    let to = body[from..].find(end).unwrap() + from;
    &body[from..to]
}

/// Turns two-step verification on; returns the app and the recovery codes.
pub(crate) async fn enrol(server: &TestServer, browser: &Browser) -> (TOTP, Vec<String>) {
    let page = browser.submit("/account/security", "/account/security/totp", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data:image/svg+xml;base64,"), "a QR code rendered here");
    let grouped = text_between(&page.body, "id=\"totp-secret\">", "<");
    assert!(
        grouped.split(' ').all(|g| g.len() <= 4),
        "the key is shown in groups of four: {grouped}"
    );
    let secret = grouped.replace(' ', "");
    assert!(page.body.contains(&format!("id=\"totp-key\" type=\"text\" class=\"visually-hidden\" readonly tabindex=\"-1\" aria-label=\"The key, for copying\" value=\"{secret}\"")), "the whole key for the copy button");
    let app = app(&secret);
    let wrong = browser
        .post_raw(
            "/account/security/totp/confirm",
            &[("csrf_token", &page.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains(&secret), "the same secret is shown again");
    let status = server
        .core
        .second_factor()
        .two_factor_status(&account_id(server, browser).await)
        .await
        .unwrap();
    assert!(!status.totp, "not on before a valid code");
    let done = browser
        .post_raw(
            "/account/security/totp/confirm",
            &[("csrf_token", &page.csrf()), ("code", &code_at(&app, server, 0))],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> =
        done.body.split("<li><code>").skip(1).map(|s| s[..19].to_owned()).collect();
    assert_eq!(codes.len(), 10);
    // Copy, download (a plain-text file, no script needed) and print, then "I have saved them".
    let download = text_between(&done.body, "href=\"data:text/plain;charset=utf-8,", "\"");
    let file: String = url::form_urlencoded::parse(format!("x={download}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    assert!(codes.iter().all(|c| file.contains(c.as_str())), "{file}");
    assert!(
        done.body.contains("download=\"recovery-codes.txt\"")
            && done.body.contains("data-print")
            && done.body.contains("data-gates=\"codes-done\"")
    );
    (app, codes)
}

async fn account_id(server: &TestServer, browser: &Browser) -> latchkey_core::accounts::AccountId {
    let _ = browser;
    let email = latchkey_core::accounts::Email::parse("tsv@example.com").unwrap();
    server.core.accounts().find_account(&server.site_admin(), &email).await.unwrap().unwrap().id
}

/// Password step; returns the second-step page's CSRF token.
pub(crate) async fn password_step(browser: &Browser) -> String {
    let page = browser
        .submit("/login", "/login", &[("email", "tsv@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/login/second-factor")),
        "{}",
        page.body
    );
    let form = browser.get("/login/second-factor").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("autocomplete=\"one-time-code\""));
    form.csrf()
}

pub(crate) async fn second_step(
    browser: &Browser,
    csrf: &str,
    code: &str,
) -> latchkey_testkit::Page {
    browser.post_raw("/login/second-factor", &[("csrf_token", csrf), ("code", code)]).await
}

on_both_engines! {
    async fn two_step_verification_guards_the_login(server: TestServer) {
        let browser = verified_user(&server, "tsv@example.com").await;
        let (app, codes) = enrol(&server, &browser).await;
        let mail = server.mail_to("tsv@example.com", 2).await;
        assert!(mail.decoded.contains("Two-step verification was turned on"), "{}", mail.decoded);

        // A new browser: the password alone grants nothing but the second step.
        let other = server.browser();
        let csrf = password_step(&other).await;
        assert_eq!(other.get("/account").await.status, 303, "no session yet");
        let page = second_step(&other, &csrf, "123456").await;
        assert_eq!(page.status, 401);
        assert!(page.body.contains("not valid"));

        // The code of the previous step is accepted (clock skew)... (a minute on, so that step
        // is later than the one used at enrolment: steps are only ever accepted in order)
        server.clock.advance(60);
        let skewed = code_at(&app, &server, -1);
        let page = second_step(&other, &csrf, &skewed).await;
        assert_eq!((page.status, page.location()), (303, Some("/account")), "{}", page.body);
        assert_eq!(other.get("/account").await.status, 200);

        // ...but never twice, and not two steps away.
        let third = server.browser();
        let csrf = password_step(&third).await;
        assert_eq!(second_step(&third, &csrf, &skewed).await.status, 401, "replay refused");
        assert_eq!(second_step(&third, &csrf, &code_at(&app, &server, -2)).await.status, 401);
        assert_eq!(second_step(&third, &csrf, &code_at(&app, &server, 2)).await.status, 401);

        // A recovery code works once, in any case and spacing.
        let recovery = codes[0].to_lowercase().replace('-', " ");
        let page = second_step(&third, &csrf, &recovery).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let fourth = server.browser();
        let csrf = password_step(&fourth).await;
        assert_eq!(second_step(&fourth, &csrf, &codes[0]).await.status, 401, "used up");
        let status = server.core.second_factor().two_factor_status(&account_id(&server, &browser).await).await.unwrap();
        assert_eq!(status.recovery_codes_left, 9);

        // The pending login expires.
        server.clock.advance(301);
        let page = second_step(&fourth, &csrf, &code_at(&app, &server, 0)).await;
        assert_eq!(page.location(), Some("/login?notice=second_factor_expired"));
    }
}

on_both_engines! {
    async fn wrong_codes_are_throttled_and_turning_off_needs_password_and_code(server: TestServer) {
        let browser = verified_user(&server, "tsv@example.com").await;
        let (app, codes) = enrol(&server, &browser).await;
        let attacker = server.browser();
        let csrf = password_step(&attacker).await;
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(second_step(&attacker, &csrf, "000000").await.status);
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        let page = second_step(&attacker, &csrf, &code_at(&app, &server, 0)).await;
        assert_eq!(page.status, 429, "even a right code waits out the window");

        // Step-up: after ten minutes, making new recovery codes asks for a fresh sign-in.
        server.clock.advance(601);
        let page = browser.submit("/account/security", "/account/security/recovery-codes", &[]).await;
        assert_eq!(page.location(), Some("/login?reauth=1&next=%2Faccount%2Fsecurity"));

        let account = browser.get("/account").await;
        let page = browser.post_raw("/account/password", &[("csrf_token", &account.csrf()), ("current_password", PASSWORD), ("new_password", "a different long password")]).await;
        assert_eq!(page.location(), Some("/login?reauth=1&next=%2Faccount%2Fpassword"), "password changes need a recent sign-in too");

        server.clock.advance(301);
        let security = browser.get("/account/security").await;
        let stale = browser
            .post_raw("/account/security/totp/disable", &[("csrf_token", &security.csrf()), ("password", PASSWORD), ("code", &codes[1])])
            .await;
        assert_eq!(stale.location(), Some("/login?reauth=1&next=%2Faccount%2Fsecurity"), "turning it off needs a recent sign-in");
        let page = browser
            .submit("/login?reauth=1&next=%2Faccount%2Fsecurity", "/login", &[("email", "tsv@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.location(), Some("/login/second-factor"), "{}", page.body);
        let csrf = browser.get("/login/second-factor").await.csrf();
        let page = second_step(&browser, &csrf, &code_at(&app, &server, 0)).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let security = browser.get("/account/security").await;
        let off = |password: &'static str, code: String| {
            let csrf = security.csrf();
            let browser = &browser;
            async move {
                browser.post_raw("/account/security/totp/disable", &[("csrf_token", &csrf), ("password", password), ("code", &code)]).await
            }
        };
        assert_eq!(off("wrong password!", code_at(&app, &server, 0)).await.status, 401);
        assert_eq!(off(PASSWORD, "999999".into()).await.status, 401);
        let page = off(PASSWORD, codes[1].clone()).await;
        assert_eq!((page.status, page.location()), (303, Some("/account/security?notice=two_factor_off")));
        let mail = server.mail_to("tsv@example.com", 3).await;
        assert!(mail.decoded.contains("turned off"), "{}", mail.decoded);
        let fresh = server.browser();
        let page = fresh.submit("/login", "/login", &[("email", "tsv@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(page.location(), Some("/account"), "one step again");

        // A site admin's reset (for a person who lost everything) turns it off and tells them.
        let (_app, _codes) = enrol(&server, &fresh).await;
        let email = latchkey_core::accounts::Email::parse("tsv@example.com").unwrap();
        let reset = server.core.second_factor().reset_two_factor(&server.site_admin(), &email).await.unwrap();
        assert!(reset.is_some());
        let status = server.core.second_factor().two_factor_status(&account_id(&server, &fresh).await).await.unwrap();
        assert!(!status.enabled());
        assert_eq!(status.recovery_codes_left, 0);
        latchkey_testkit::eventually("the reset notice", std::time::Duration::from_secs(10), || {
            let found = server.mails_to("tsv@example.com").into_iter().any(|m| m.decoded.contains("An administrator turned off"));
            async move { found.then_some(()) }
        })
        .await;
    }
}

async fn passkey_post(
    browser: &Browser,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let page = browser.post_raw(path, fields).await;
    (page.status, serde_json::from_str(&page.body).unwrap_or_default())
}

on_both_engines! {
    async fn webauthn_ceremonies_are_single_use_and_refuse_junk(server: TestServer, with |c: &mut latchkey::Config| {
        c.public_url = format!("http://localhost:{}", c.listen.port());
    }) {
        let browser = server.browser();
        let csrf = browser.get("/login").await.csrf();
        let (status, begun) = passkey_post(&browser, "/login/passkey/begin", &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 200, "{begun}");
        assert_eq!(begun["options"]["publicKey"]["rpId"], "localhost");
        assert_eq!(begun["options"]["publicKey"]["userVerification"], "required");
        let challenge = begun["challenge"].as_str().unwrap().to_owned();

        for junk in ["", "not json", "{}", r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"authenticatorData":"AAAA","clientDataJSON":"AAAA","signature":"AAAA","userHandle":null},"extensions":{}}"#] {
            let (_, again) = passkey_post(&browser, "/login/passkey/begin", &[("csrf_token", &csrf)]).await;
            let fresh = again["challenge"].as_str().unwrap().to_owned();
            let (status, answer) = passkey_post(&browser, "/login/passkey/finish", &[("csrf_token", &csrf), ("challenge", &fresh), ("credential", junk)]).await;
            assert_eq!(status, 401, "{junk}: {answer}");
            assert!(answer["error"].is_string());
            let (status, _) = passkey_post(&browser, "/login/passkey/finish", &[("csrf_token", &csrf), ("challenge", &fresh), ("credential", junk)]).await;
            assert_eq!(status, 401, "a ceremony is used once");
        }
        // Expired ceremonies are gone.
        server.clock.advance(301);
        let (status, answer) = passkey_post(&browser, "/login/passkey/finish", &[("csrf_token", &csrf), ("challenge", &challenge), ("credential", "{}")]).await;
        assert_eq!(status, 401, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains("expired"));
        // Without the CSRF token, nothing starts; without a pending login, no second step.
        assert_eq!(browser.post_raw("/login/passkey/begin", &[]).await.status, 403);
        let (status, _) = passkey_post(&browser, "/login/second-factor/key/begin", &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 401);
    }
}

on_both_engines! {
    async fn security_keys_need_a_host_name(server: TestServer) {
        let browser = verified_user(&server, "ip@example.com").await;
        let page = browser.get("/account/security").await;
        assert!(page.body.contains("need Latchkey to be reached by a host name"));
        let (status, answer) = passkey_post(&browser, "/account/security/keys/begin", &[("csrf_token", &page.csrf())]).await;
        assert_eq!(status, 409, "{answer}");
        assert!(!browser.get("/login").await.body.contains("Sign in with a passkey"));
    }
}

//! Mail over real SMTP to a local sink.

use std::time::Duration;

use latchkey_testkit::{Engine, SmtpSink, TestServer, eventually};

#[tokio::test]
async fn verification_mail_goes_out_over_smtp() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let server = TestServer::spawn_with(Engine::Sqlite, |c| c.smtp_url = Some(url)).await.unwrap();
    let b = server.browser();
    let page = b
        .submit(
            "/signup",
            "/signup",
            &[("email", "smtp@example.com"), ("name", "Sam"), ("password", super::PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303);
    let mail = eventually("a message at the SMTP sink", Duration::from_secs(10), || {
        let found = sink.messages().into_iter().next();
        async move { found }
    })
    .await;
    assert_eq!(mail.to, "smtp@example.com");
    assert_eq!(mail.subject, "Verify your email address");
    let token = mail.token_for("/verify-email");
    assert_eq!(token.len(), 43);
    assert!(server.sent_mail().is_empty(), "with SMTP configured nothing goes to the outbox");
    let page = b
        .submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(page.status, 303);
}

/// Waits until the first delivery attempt has failed and been recorded (a queued message is
/// "pending" before its first attempt too; the attempt, not the queueing, must be over before
/// the test brings SMTP back and moves the clock, or the retry is scheduled from the moved
/// clock).
async fn failed_once(server: &TestServer) {
    eventually("a failed first attempt", Duration::from_secs(10), || {
        let core = server.core.clone();
        let admin = server.site_admin();
        async move {
            let (records, _) = core
                .accounts()
                .deliveries(&admin, latchkey_core::outbox::DeliveryKind::Mail, 10)
                .await
                .unwrap();
            records
                .iter()
                .any(|r| r.status == "pending" && r.attempts >= 1 && r.last_error.is_some())
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn mail_survives_an_smtp_outage_and_is_retried() {
    let sink = SmtpSink::start().await;
    let toggle = latchkey_testkit::TcpToggle::start(sink.addr).await;
    toggle.down();
    let url = format!("smtp://{}", toggle.addr);
    let server = TestServer::spawn_with(Engine::Sqlite, |c| c.smtp_url = Some(url)).await.unwrap();
    let b = server.browser();
    let page = b
        .submit(
            "/signup",
            "/signup",
            &[("email", "patient@example.com"), ("name", "P"), ("password", super::PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303, "the person is not kept waiting by the outage");
    // The first attempt fails and is scheduled again; nothing is lost.
    failed_once(&server).await;
    assert!(sink.messages().is_empty());
    toggle.up();
    server.clock.advance(11);
    let mail = eventually("delivery after the outage", Duration::from_secs(10), || {
        let found = sink.messages().into_iter().next();
        async move { found }
    })
    .await;
    assert_eq!(mail.to, "patient@example.com");
    // The sink has the message a moment before the outbox records the delivery.
    eventually("the delivery recorded", Duration::from_secs(10), || {
        let core = server.core.clone();
        async move {
            let status = core.kernel().mailer().queue_status().await.unwrap();
            (status == vec![("delivered".to_owned(), 1)]).then_some(())
        }
    })
    .await;
}

/// After an SMTP outage, a site admin sees the waiting mail with its error in the console and
/// sends it now instead of waiting for the backoff.
#[tokio::test]
async fn the_console_shows_waiting_mail_and_retries_it_now() {
    let sink = SmtpSink::start().await;
    let toggle = latchkey_testkit::TcpToggle::start(sink.addr).await;
    let url = format!("smtp://{}", toggle.addr);
    let server = TestServer::spawn_with(Engine::Sqlite, |c| c.smtp_url = Some(url)).await.unwrap();
    let admin = super::console::sign_in_as_site_admin(&server).await;
    toggle.down();
    let b = server.browser();
    b.submit(
        "/signup",
        "/signup",
        &[("email", "waiting@example.com"), ("name", "W"), ("password", super::PASSWORD)],
    )
    .await;
    failed_once(&server).await;
    let page = admin.get("/admin/deliveries?kind=mail").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("waiting@example.com") && page.contains("1 pending"), "{}", page.body);
    assert_eq!(admin.get("/admin/deliveries?kind=carrier-pigeon").await.status, 400);

    toggle.up();
    let retried = admin
        .post_raw("/admin/deliveries/retry", &[("csrf_token", &page.csrf()), ("kind", "mail")])
        .await;
    assert_eq!(retried.location(), Some("/admin/deliveries?kind=mail&retried=1"));
    // No clock advance: "retry now" made it due.
    let mail = eventually("delivery after retry now", Duration::from_secs(15), || {
        let found = sink.messages().into_iter().find(|m| m.to == "waiting@example.com");
        async move { found }
    })
    .await;
    assert_eq!(mail.to, "waiting@example.com");
    let forged = admin
        .post_raw("/admin/deliveries/retry", &[("csrf_token", "forged"), ("kind", "mail")])
        .await;
    assert_eq!(forged.status, 403, "CSRF-protected");
}

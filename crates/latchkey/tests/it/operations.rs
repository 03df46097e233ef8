//! `/healthz`, `/readyz`, `/metrics`, and readiness when the database is gone.

use std::time::{Duration, Instant};

use latchkey_store::{SqlStore, StoreOptions};

on_both_engines! {
    async fn health_readiness_and_metrics(server: TestServer) {
        let b = server.browser();
        let health = b.get("/healthz").await;
        assert_eq!(health.status, 200);
        assert!(health.set_cookies().is_empty(), "probes get no cookies");
        assert_eq!(b.get("/readyz").await.status, 200);
        let _ = b.submit("/login", "/login", &[("email", "m@example.com"), ("password", "wrong password")]).await;
        let metrics = b.get("/metrics").await;
        assert_eq!(metrics.status, 200);
        assert!(metrics.contains("latchkey_http_requests_total"), "{}", metrics.body);
        assert!(metrics.contains("route=\"/login\""));
        assert!(metrics.contains("latchkey_logins_total{outcome=\"invalid_credentials\"} 1"));
    }
}

/// A database that accepts connections and never answers: the worst case for a pool.
async fn black_hole() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

#[tokio::test]
async fn readiness_check_answers_within_two_seconds_when_the_database_hangs() {
    let addr = black_hole().await;
    let options = StoreOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store =
        SqlStore::connect_lazy(&format!("postgres://postgres@{addr}/test"), &options).unwrap();
    let started = Instant::now();
    assert!(store.ping(Duration::from_millis(1500)).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn readiness_fails_fast_during_an_outage_and_recovers_by_itself() {
    let Some(pg) = latchkey_testkit::postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: the outage test needs PostgreSQL");
        return;
    };
    let mut url = url::Url::parse(&pg).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target).await.unwrap().next().unwrap();
    let toggle = latchkey_testkit::TcpToggle::start(target).await;
    url.set_port(Some(toggle.addr.port())).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    let store = SqlStore::connect(url.as_str(), &StoreOptions::default()).await.unwrap();
    assert!(store.ping(Duration::from_millis(1500)).await.is_ok());

    toggle.down();
    let started = Instant::now();
    assert!(store.ping(Duration::from_millis(1500)).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());

    toggle.up();
    latchkey_testkit::eventually("the pool to reconnect", Duration::from_secs(10), || {
        let store = store.clone();
        async move { store.ping(Duration::from_millis(1500)).await.ok() }
    })
    .await;
}

/// One request of the load: when it started (since the load began), its status, how long.
type Answer = (Duration, u16, Duration);

/// Pages that read the database on every request, from one signed-in browser, until `stop`.
async fn page_load(
    browser: latchkey_testkit::Browser,
    began: Instant,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Answer> {
    let mut answers = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let sent = Instant::now();
        let page = browser.get("/account/sessions").await;
        answers.push((sent.duration_since(began), page.status, sent.elapsed()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    answers
}

/// PostgreSQL restarted (here: cut off and back, every connection dropped) while people use
/// their pages: during the outage every request answers `503` with `Retry-After` quickly,
/// nobody is signed out, and the node serves again by itself when the database is back.
#[tokio::test]
async fn a_database_outage_under_load_answers_503_and_recovers_without_a_restart() {
    let Some(pg) = latchkey_testkit::postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: the outage test needs PostgreSQL");
        return;
    };
    let url = url::Url::parse(&pg).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target).await.unwrap().next().unwrap();
    let toggle = latchkey_testkit::TcpToggle::start(target).await;
    let port = toggle.addr.port();
    let server =
        latchkey_testkit::TestServer::spawn_with(latchkey_testkit::Engine::Postgres, |c| {
            let mut url = url::Url::parse(&c.database_url).unwrap();
            url.set_host(Some("127.0.0.1")).unwrap();
            url.set_port(Some(port)).unwrap();
            c.database_url = url.to_string();
        })
        .await
        .unwrap();
    let browser = crate::verified_user(&server, "steady@example.com").await;
    assert_eq!(browser.get("/account/sessions").await.status, 200);

    let began = Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> =
        (0..6).map(|_| tokio::spawn(page_load(browser.clone(), began, stop.clone()))).collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    toggle.down();
    let down_at = began.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let probe = Instant::now();
    let ready = server.browser().get("/readyz").await;
    assert_eq!(ready.status, 503, "not ready while the database is gone");
    assert!(probe.elapsed() < Duration::from_secs(2), "readiness took {:?}", probe.elapsed());
    let page = browser.get("/account/sessions").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert_eq!(page.header("retry-after"), Some("1"));
    assert!(page.contains("briefly unavailable"), "{}", page.body);
    tokio::time::sleep(Duration::from_secs(3)).await;

    toggle.up();
    let up_at = began.elapsed();
    latchkey_testkit::eventually("pages to be served again", Duration::from_secs(15), || {
        let b = browser.clone();
        async move { (b.get("/account/sessions").await.status == 200).then_some(()) }
    })
    .await;
    let recovered_after = began.elapsed().saturating_sub(up_at);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers: Vec<Answer> = Vec::new();
    for task in load {
        answers.extend(task.await.unwrap());
    }

    let odd: Vec<_> = answers.iter().filter(|(_, s, _)| *s != 200 && *s != 503).collect();
    assert!(odd.is_empty(), "only pages or 503s, never an error page or a sign-out: {odd:?}");
    let during: Vec<_> = answers
        .iter()
        .filter(|(at, _, took)| *at > down_at + Duration::from_millis(200) && *at + *took < up_at)
        .collect();
    assert!(!during.is_empty(), "the load ran through the outage");
    assert!(during.iter().all(|(_, s, _)| *s == 503), "{during:?}");
    let slowest = during.iter().map(|(_, _, took)| *took).max().unwrap();
    assert!(slowest < Duration::from_secs(3), "503s come fast: the slowest took {slowest:?}");
    let last = answers.iter().max_by_key(|(at, _, _)| *at).unwrap();
    assert_eq!(last.1, 200, "served again after the outage");
    eprintln!(
        "outage: {} requests during it, all 503, slowest {slowest:?}; served again {recovered_after:?} after the database came back; {} requests in all",
        during.len(),
        answers.len()
    );

    // Still the same person, signed in; and logging in works again.
    assert!(browser.get("/account/email").await.contains("steady@example.com"));
    let other = server.browser();
    other.log_in("steady@example.com", crate::PASSWORD).await;
    assert_eq!(other.get("/account/sessions").await.status, 200);
}

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

//! Faults (issue 17): the real `latchkey serve` process killed with SIGKILL in the middle of a
//! burst of sign-ups, then started again on the same data. Every sign-up that was answered is
//! there, with its verification mail, and the database opens cleanly — on SQLite and on
//! PostgreSQL.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_testkit::{FreshDatabase, eventually, hidden_input, postgres_url, read_outbox};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(dir: &std::path::Path, database_url: &str) -> (Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("serve")
        .current_dir(dir)
        .env_remove("LATCHKEY_CONFIG")
        .env("LATCHKEY_CONFIG", dir.join("fast.toml"))
        .env("LATCHKEY_DATA_DIR", dir.join("data"))
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_LISTEN", format!("127.0.0.1:{port}"))
        .env("LATCHKEY_LOG", "error")
        // Each sign-up comes from its own address (sign-ups are throttled per address).
        .env("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

async fn healthy(url: &str) {
    let http = reqwest::Client::new();
    eventually("the server answers", Duration::from_secs(30), || {
        let req = http.get(format!("{url}/readyz")).send();
        async move { req.await.ok().filter(|r| r.status().is_success()).map(drop) }
    })
    .await;
}

/// One sign-up; `Some(true)` when the server answered that it was done.
async fn sign_up(url: &str, email: &str, from: &str) -> Option<bool> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", from.parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let form = http.get(format!("{url}/signup")).send().await.ok()?.text().await.ok()?;
    let csrf = hidden_input(&form, "csrf_token")?;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("email", email),
        ("name", "Burst"),
        ("password", "a-long-password"),
    ];
    let done = http.post(format!("{url}/signup")).form(&fields).send().await.ok()?;
    Some(done.status() == 303)
}

async fn killed_mid_burst_loses_no_answered_sign_up(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    let database_url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", d.join("data").join("latchkey.db").display()));
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;

    // Six writers sign people up as fast as they can; the process is killed mid-burst.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (url, answered) = (url.clone(), answered.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let email = format!("w{w}-{n}@example.com");
                    let from = format!("10.{w}.{}.{}", n / 250, n % 250 + 1);
                    match sign_up(&url, &email, &from).await {
                        Some(true) => answered.lock().unwrap().push(email),
                        Some(false) => panic!("{email}: refused while the server was up"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.lock().unwrap().len() < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 60, "the burst got going: {}", answered.len());

    // Started again on the same data: it opens, and every answered sign-up gets its mail
    // (the account and its queued verification job both survived). Jobs the killed process
    // had leased wait for their lease (two minutes) to run out, then go out.
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;
    let outbox = d.join("data").join("outbox");
    eventually("every answered sign-up's verification mail", Duration::from_mins(3), || {
        let mailed: std::collections::HashSet<String> =
            read_outbox(&outbox).into_iter().map(|m| m.to).collect();
        let missing = answered.iter().filter(|e| !mailed.contains(*e)).count();
        async move { (missing == 0).then_some(()) }
    })
    .await;
    assert_eq!(
        sign_up(&url, "after@example.com", "192.0.2.1").await,
        Some(true),
        "it takes new sign-ups"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_answered_sign_up_on_sqlite() {
    killed_mid_burst_loses_no_answered_sign_up(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_answered_sign_up_on_postgres() {
    let Some(admin) = postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let db = FreshDatabase::create(&admin).await;
    killed_mid_burst_loses_no_answered_sign_up(Some(db.url.clone())).await;
}

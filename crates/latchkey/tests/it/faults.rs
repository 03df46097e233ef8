//! Faults (issue 17): the real `latchkey serve` process killed with SIGKILL under write load,
//! then started again on the same data, on SQLite and on PostgreSQL. Every sign-up that was
//! answered is there with its verification mail; every answered login's session and every
//! answered code grant's refresh token still work; an import cut off keeps whole batches only
//! and the same file imported again completes it.

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

/// The CLI on the same data as the server (`start`'s environment).
fn cli(dir: &std::path::Path, database_url: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .current_dir(dir)
        .env("LATCHKEY_CONFIG", dir.join("fast.toml"))
        .env("LATCHKEY_DATA_DIR", dir.join("data"))
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn field(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value[name].as_str().unwrap().to_owned()
}

const CALLBACK: &str = "http://127.0.0.1:9/cb";
/// RFC 7636's example pair.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A password login, then a product's code flow to the token endpoint: the browser (holding
/// its session cookie) and the refresh token, once both were answered.
async fn log_in_and_get_tokens(
    url: &str,
    email: &str,
    from: &str,
    client: &(String, String),
) -> Option<(reqwest::Client, String)> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", from.parse().unwrap());
    let browser = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let form = browser.get(format!("{url}/login")).send().await.ok()?.text().await.ok()?;
    let csrf = hidden_input(&form, "csrf_token")?;
    let fields = [("csrf_token", csrf.as_str()), ("email", email), ("password", "a-long-password")];
    let login = browser.post(format!("{url}/login")).form(&fields).send().await.ok()?;
    assert_eq!(login.status(), 303, "{email}: the login was refused while the server was up");
    let authorize = format!(
        "{url}/oauth/authorize?client_id={}&response_type=code&scope=openid&redirect_uri={}\
         &state=s&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256",
        client.0,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let hop = browser.get(authorize).send().await.ok()?;
    let location = hop.headers().get("location")?.to_str().ok()?.to_owned();
    let code = url::Url::parse(&location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map_or_else(|| panic!("no code in {location}"), |(_, v)| v.into_owned());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let answer = reqwest::Client::new()
        .post(format!("{url}/oauth/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    assert_eq!(answer.status(), 200, "the token request was refused while the server was up");
    let tokens: serde_json::Value = answer.json().await.ok()?;
    Some((browser, tokens["refresh_token"].as_str()?.to_owned()))
}

async fn killed_under_logins_and_grants_keeps_every_answered_one(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    let database_url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", d.join("data").join("latchkey.db").display()));
    let product = cli(
        &d,
        &database_url,
        &["client", "create", "--name", "Tracker", "--redirect-uri", CALLBACK, "--json"],
        "",
    );
    let client = (field(&product, "client_id"), field(&product, "client_secret"));
    for w in 0..4 {
        let email = format!("person{w}@example.com");
        let args = ["user", "create", "--email", &email, "--verified", "--password-stdin"];
        cli(&d, &database_url, &args, "a-long-password\n");
    }
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;

    // Four people log in again and again, each time signing in to the product and redeeming
    // the code (a session, a grant, a refresh token written per round); killed mid-burst.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, answered, client) = (url.clone(), answered.clone(), client.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let from = format!("10.{w}.{}.{}", n / 250, n % 250 + 1);
                    let email = format!("person{w}@example.com");
                    match log_in_and_get_tokens(&url, &email, &from, &client).await {
                        Some(done) => answered.lock().unwrap().push(done),
                        None => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.lock().unwrap().len() < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    assert!(answered.len() >= 40, "the burst got going: {}", answered.len());

    // Started again: every answered login's session still signs its browser in, and every
    // answered refresh token is redeemable (once: it rotates).
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;
    let http = reqwest::Client::new();
    for (n, (browser, refresh)) in answered.iter().enumerate() {
        let page = browser.get(format!("{url}/account")).send().await.unwrap();
        assert_eq!(page.status(), 200, "login {n}: its session was lost");
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
        let answer = http
            .post(format!("{url}/oauth/token"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "grant {n}: its refresh token was lost");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_logins_and_token_grants_keeps_every_answered_one_on_sqlite() {
    killed_under_logins_and_grants_keeps_every_answered_one(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_logins_and_token_grants_keeps_every_answered_one_on_postgres() {
    let Some(admin) = postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let db = FreshDatabase::create(&admin).await;
    killed_under_logins_and_grants_keeps_every_answered_one(Some(db.url.clone())).await;
}

async fn killed_mid_import_leaves_whole_batches(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    let database_url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", d.join("data").join("latchkey.db").display()));
    let args = [
        "user",
        "create",
        "--email",
        "root@example.com",
        "--verified",
        "--site-admin",
        "--password-stdin",
    ];
    cli(&d, &database_url, &args, "a-long-password\n");
    let token =
        cli(&d, &database_url, &["admin-token", "create", "--email", "root@example.com"], "");
    let token = token.trim().to_owned();
    let product = cli(
        &d,
        &database_url,
        &["client", "create", "--name", "Tracker", "--redirect-uri", CALLBACK, "--json"],
        "",
    );
    let client = field(&product, "client_id");
    let total = 60_000;
    let mut lines = String::new();
    for i in 0..total {
        let line = serde_json::json!({"legacy_id": i.to_string(), "email": format!("u{i}@example.com"), "password_hash": BCRYPT});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;
    let http = reqwest::Client::new();
    let records = |url: String| {
        let (http, token, client) = (http.clone(), token.clone(), client.clone());
        async move {
            let figures: serde_json::Value = http
                .get(format!("{url}/api/v1/clients/{client}/legacy"))
                .bearer_auth(&token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            figures["records"].as_u64()
        }
    };

    // The import streams in slowly; once some batches are in, the server is killed.
    let upload =
        tokio::spawn(slow_upload(url.clone(), client.clone(), token.clone(), lines.clone()));
    eventually("the import under way", Duration::from_mins(1), || {
        let url = url.clone();
        async move { records(url).await.filter(|n| *n > 0).map(drop) }
    })
    .await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!upload.await.unwrap(), "the import was cut short");

    // Started again: only whole batches are there (one transaction each), and the same file
    // imported again completes it without duplicating anything.
    let (mut child, url) = start(&d, &database_url);
    healthy(&url).await;
    let kept = records(url.clone()).await.unwrap();
    assert!(kept > 0 && kept < total, "{kept}");
    assert_eq!(kept % 1000, 0, "{kept} records: a batch was half-written");
    let again: serde_json::Value = http
        .post(format!("{url}/api/v1/clients/{client}/legacy/import"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(lines)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["imported"].as_u64(), Some(total - kept), "{again}");
    assert_eq!(again["unchanged"].as_u64(), Some(kept), "{again}");
    assert_eq!(records(url.clone()).await, Some(total));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Posts the import with chunked encoding, a thousand lines every 50 ms; whether the server
/// answered that it was done.
async fn slow_upload(url: String, client: String, token: String, lines: String) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = url.trim_start_matches("http://").to_owned();
    let Ok(mut stream) = tokio::net::TcpStream::connect(&host).await else { return false };
    let head = format!(
        "POST /api/v1/clients/{client}/legacy/import HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let all: Vec<&str> = lines.lines().collect();
    for batch in all.chunks(1000) {
        let mut chunk = batch.join("\n");
        chunk.push('\n');
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if stream.write_all(framed.as_bytes()).await.is_err() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if stream.write_all(b"0\r\n\r\n").await.is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer.starts_with("HTTP/1.1 200")
}

/// A bcrypt hash from the legacy vectors: only its form matters here.
const BCRYPT: &str = "$2b$04$7JIxbpcVTkLnyGOoOBEiReURFSjV9kBduTQZE6/fEkqJlf5g7zgEa";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_import_leaves_whole_batches_on_sqlite() {
    killed_mid_import_leaves_whole_batches(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_import_leaves_whole_batches_on_postgres() {
    let Some(admin) = postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let db = FreshDatabase::create(&admin).await;
    killed_mid_import_leaves_whole_batches(Some(db.url.clone())).await;
}

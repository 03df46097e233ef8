//! `TestServer`: the real application on 127.0.0.1:0.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use latchkey::{App, Config, Overrides};
use latchkey_core::Core;
use latchkey_core::authority::{SignedIn, SiteAdmin};
use tokio::sync::oneshot;

use crate::mail::{Mail, read_outbox};
use crate::postgres::{FreshDatabase, postgres_url};
use crate::{Browser, FakeClock, eventually};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub url: String,
    pub clock: Arc<FakeClock>,
    pub config: Config,
    pub core: Core,
    /// The local operator's site-admin authority (what the CLI acts with).
    operator: SiteAdmin,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    data_dir: tempfile::TempDir,
    _database: Option<FreshDatabase>,
}

impl TestServer {
    /// A server on `engine` with test settings (cheap password hashing, the outbox for mail).
    /// `None` when the engine is PostgreSQL and `LATCHKEY_TEST_POSTGRES_URL` is not set.
    pub async fn spawn(engine: Engine) -> Option<Self> {
        Self::spawn_with(engine, |_| {}).await
    }

    /// Like [`spawn`](Self::spawn), letting the test adjust the configuration first.
    pub async fn spawn_with(engine: Engine, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let database = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(FreshDatabase::create(&postgres_url()?).await),
        };
        let data_dir = tempfile::tempdir().expect("temp dir");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let mut env = HashMap::new();
        env.insert("LATCHKEY_LISTEN".to_owned(), addr.to_string());
        env.insert("LATCHKEY_DATA_DIR".to_owned(), data_dir.path().display().to_string());
        if let Some(db) = &database {
            env.insert("LATCHKEY_DATABASE_URL".to_owned(), db.url.clone());
        }
        let mut config = Config::load(&env, data_dir.path()).expect("test configuration");
        // Fast hashing keeps tests quick; the real parameters are exercised by the bench.
        config.passwords.memory_kib = 256;
        config.passwords.iterations = 1;
        tweak(&mut config);

        let clock = Arc::new(FakeClock::default());
        let overrides = Overrides { clock: clock.clone(), listener: Some(listener) };
        let app = App::build_with(config.clone(), overrides).await.expect("server starts");
        let core = app.core().clone();
        let operator = SiteAdmin::operator(app.operator());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = app
                .run_until_stopped(async {
                    let _ = rx.await;
                })
                .await;
        });
        Some(Self {
            url: format!("http://{addr}"),
            clock,
            config,
            core,
            operator,
            shutdown: Some(tx),
            task: Some(task),
            data_dir,
            _database: database,
        })
    }

    /// The local operator acting as site admin, as the CLI does.
    pub fn site_admin(&self) -> SiteAdmin {
        self.operator.clone()
    }

    /// The signed-in capability behind the browser's session cookie (panics if it has none).
    pub async fn signed_in(&self, browser: &Browser) -> SignedIn {
        let cookie = browser.cookie("latchkey_session").expect("the browser has a session");
        self.core
            .sessions()
            .resolve_session(&cookie)
            .await
            .expect("session lookup")
            .expect("a live session")
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.url, None)
    }

    /// A browser whose requests appear to come from `ip` (needs `trusted_proxies` to include
    /// 127.0.0.1).
    pub fn browser_from(&self, ip: &str) -> Browser {
        Browser::new(&self.url, Some(ip.to_owned()))
    }

    pub fn outbox(&self) -> PathBuf {
        self.data_dir.path().join("outbox")
    }

    /// Every message in the outbox so far, oldest first.
    pub fn sent_mail(&self) -> Vec<Mail> {
        read_outbox(&self.outbox())
    }

    /// Waits for the `n`th (1-based) message to `to`.
    pub async fn mail_to(&self, to: &str, n: usize) -> Mail {
        let to = to.to_ascii_lowercase();
        eventually(&format!("mail #{n} to {to}"), Duration::from_secs(10), || {
            let found =
                self.sent_mail().into_iter().filter(|m| m.to.to_ascii_lowercase() == to).nth(n - 1);
            async move { found }
        })
        .await
    }

    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        let to = to.to_ascii_lowercase();
        self.sent_mail().into_iter().filter(|m| m.to.to_ascii_lowercase() == to).collect()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

//! `Cluster`: several nodes of the real application on one PostgreSQL database and one master
//! key, behind a round-robin TCP proxy — the deployment `docs/operations.md` describes, on
//! loopback ports. A cluster browser opens a new connection per request, so consecutive
//! requests land on different nodes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use latchkey_core::ports::Rng as _;
use tokio::net::{TcpListener, TcpStream};

use crate::mail::Mail;
use crate::postgres::{FreshDatabase, postgres_url};
use crate::{Browser, Engine, TestServer, eventually};

pub struct Cluster {
    /// The public URL: the proxy in front of every node.
    pub url: String,
    /// Dropped before the database.
    pub nodes: Vec<TestServer>,
    proxy: RoundRobin,
    _database: FreshDatabase,
}

impl Cluster {
    /// `n` nodes; `None` when `LATCHKEY_TEST_POSTGRES_URL` is not set.
    pub async fn spawn(n: usize) -> Option<Self> {
        let database = FreshDatabase::create(&postgres_url()?).await;
        let proxy = RoundRobin::start().await;
        let url = format!("http://{}", proxy.addr);
        let mut master_key = [0u8; 32];
        latchkey::OsRng.fill(&mut master_key);
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let (db, public) = (database.url.clone(), url.clone());
            let node = TestServer::spawn_with(Engine::Sqlite, move |c| {
                c.database_url = db;
                c.public_url = public;
                c.master_key = Some(master_key);
            })
            .await?;
            nodes.push(node);
        }
        let backends = nodes.iter().map(|s| s.url.trim_start_matches("http://").parse().unwrap());
        proxy.set_backends(backends.collect());
        Some(Self { url, nodes, proxy, _database: database })
    }

    /// A browser on the public URL; each request is a new connection, to the next node.
    pub fn browser(&self) -> Browser {
        Browser::one_connection_per_request(&self.url)
    }

    /// How many connections each node has been given so far.
    pub fn served(&self) -> Vec<usize> {
        self.proxy.served()
    }

    /// Moves every node's clock.
    pub fn advance(&self, secs: i64) {
        for node in &self.nodes {
            node.clock.advance(secs);
        }
    }

    /// Waits for the `n`th (1-based) message to `to`, whichever node delivered it.
    pub async fn mail_to(&self, to: &str, n: usize) -> Mail {
        eventually(&format!("mail #{n} to {to}"), Duration::from_secs(10), || {
            let found = self.mails_to(to).into_iter().nth(n - 1);
            async move { found }
        })
        .await
    }

    /// Every message to `to` from every node's outbox.
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.nodes.iter().flat_map(|node| node.mails_to(to)).collect()
    }
}

/// Hands each accepted connection to the next backend in turn.
struct RoundRobin {
    addr: SocketAddr,
    backends: Arc<OnceLock<Vec<SocketAddr>>>,
    served: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

const MAX_NODES: usize = 8;

impl RoundRobin {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let backends: Arc<OnceLock<Vec<SocketAddr>>> = Arc::new(OnceLock::new());
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new((0..MAX_NODES).map(|_| AtomicUsize::new(0)).collect());
        let (b, s) = (backends.clone(), served.clone());
        let task = tokio::spawn(async move {
            let next = AtomicUsize::new(0);
            while let Ok((mut inbound, _)) = listener.accept().await {
                let Some(targets) = b.get().filter(|t| !t.is_empty()) else { continue };
                let i = next.fetch_add(1, Ordering::Relaxed) % targets.len();
                s[i].fetch_add(1, Ordering::Relaxed);
                let target = targets[i];
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Self { addr, backends, served, task }
    }

    fn set_backends(&self, backends: Vec<SocketAddr>) {
        assert!(backends.len() <= MAX_NODES, "at most {MAX_NODES} nodes");
        self.backends.set(backends).expect("backends are set once");
    }

    fn served(&self) -> Vec<usize> {
        let n = self.backends.get().map_or(0, Vec::len);
        self.served.iter().take(n).map(|c| c.load(Ordering::Relaxed)).collect()
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

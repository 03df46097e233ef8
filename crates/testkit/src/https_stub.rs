//! An HTTPS server for tests (127.0.0.1, any free port) with its own certificate authority,
//! serving `/.well-known/latchkey-verification.txt` per host name from a table: a body, a
//! redirect, or a status. The CA's PEM goes into Latchkey's `[outbound] extra_roots`, exactly
//! as an operator with an internal CA would configure it. Certificates come from `rcgen`, TLS
//! from `tokio-rustls`, HTTP from axum.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

/// What the server answers for one host.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this text.
    Body(String),
    /// 302 to this URL.
    Redirect(String),
    /// This status and no body.
    Status(u16),
}

type Table = Arc<Mutex<HashMap<String, Reply>>>;

pub struct HttpsStub {
    pub port: u16,
    /// The CA certificate (PEM) that signed the server's certificate.
    pub ca_pem: String,
    table: Table,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsStub {
    /// Serves TLS with one certificate valid for `names`.
    pub async fn start(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let leaf = CertificateParams::new(names)
            .expect("server params")
            .signed_by(&leaf_key, &issuer)
            .expect("server certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
            .expect("TLS configuration");

        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTPS stub");
        let port = tcp.local_addr().expect("HTTPS stub address").port();
        let listener = TlsListener { tcp, acceptor: TlsAcceptor::from(Arc::new(config)) };
        let table: Table = Arc::default();
        let app = axum::Router::new()
            .route("/.well-known/latchkey-verification.txt", axum::routing::get(serve))
            .with_state(table.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, ca_pem: ca_cert.pem(), table, task }
    }

    /// What `host` answers from now on.
    pub fn set(&self, host: &str, reply: Reply) {
        self.table.lock().unwrap().insert(host.to_ascii_lowercase(), reply);
    }

    /// `host` answers 404 from now on.
    pub fn remove(&self, host: &str) {
        self.table.lock().unwrap().remove(&host.to_ascii_lowercase());
    }
}

impl Drop for HttpsStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(State(table): State<Table>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase())
        .unwrap_or_default();
    let reply = table.lock().unwrap().get(&host).cloned();
    match reply {
        Some(Reply::Body(text)) => text.into_response(),
        Some(Reply::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else { continue };
            // A client that gives up on our certificate just ends its connection.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

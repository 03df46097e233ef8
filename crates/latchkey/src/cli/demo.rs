//! `latchkey demo`: Latchkey plus the Tracker and Wiki demo products on the next two ports.

use std::net::SocketAddr;

use crate::app::App;
use crate::cli::Failure;
use crate::cli::serve::{init_logging, shutdown_signal};
use crate::config::Config;
use crate::demo;
use latchkey_core::flows::SiteAdmin;

pub async fn run(config: Config) -> Result<(), Failure> {
    init_logging(&config.log);
    let listen = config.listen;
    if !listen.ip().is_loopback() {
        return Err(Failure::Usage(format!(
            "LATCHKEY_LISTEN: latchkey demo runs on a loopback address (got {listen}); \
             its products use plain http"
        )));
    }
    let mut listeners = Vec::new();
    let mut bases = Vec::new();
    for (offset, name) in (1u16..).zip(demo::PRODUCTS) {
        let port = listen.port().checked_add(offset).ok_or_else(|| {
            Failure::Usage("LATCHKEY_LISTEN: the demo needs the two ports after it".into())
        })?;
        let addr = SocketAddr::new(listen.ip(), port);
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Failure::Refused(format!("the {name} demo product cannot listen on {addr}: {e}"))
        })?;
        listeners.push(listener);
        bases.push((name, format!("http://{addr}")));
    }
    let issuer = config.public_url.clone();
    let data_dir = config.data_dir.clone();
    let app = App::build(config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let specs =
        demo::prepare(app.core(), &SiteAdmin::operator(app.operator()), &data_dir, &issuer, &bases)
            .await
            .map_err(Failure::Refused)?;
    for (spec, listener) in specs.into_iter().zip(listeners) {
        let router = demo::router(spec).map_err(Failure::Refused)?;
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "demo product stopped");
            }
        });
    }
    eprintln!(
        "Latchkey demo\n  Latchkey: {issuer}/signup  (sign up; the verification mail is a file in {})\n  \
         Tracker:  {}/\n  Wiki:     {}/\nSign in to one product, open the other: no second login. \
         Sign out in one: the other is signed out too. Ctrl-C stops everything.",
        data_dir.join("outbox").display(),
        bases[0].1,
        bases[1].1,
    );
    app.run_until_stopped(shutdown_signal()).await.map_err(|e| Failure::Refused(e.to_string()))
}

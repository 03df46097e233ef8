//! `latchkey serve` and `latchkey migrate`.

use tracing_subscriber::EnvFilter;

use std::sync::Arc;

use crate::app::{App, Backend};
use crate::cli::{Failure, print_json};
use crate::config::Config;
use crate::platform::SystemClock;

pub(super) fn init_logging(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never in a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

pub async fn serve(config: Config) -> Result<(), Failure> {
    init_logging(&config.log);
    let public_url = config.public_url.clone();
    let mail_target = match &config.smtp_url {
        Some(_) => "SMTP (LATCHKEY_SMTP_URL)".to_owned(),
        None => config.outbox_dir().display().to_string(),
    };
    let app = App::build(config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    // The common-password list loads on first use; a server loads it now, so the first
    // sign-up does not wait for it (CLI commands never pay for it unless they set a password).
    latchkey_core::policies::passwords::warm_up();
    let addr = app.local_addr().map_err(|e| Failure::Refused(e.to_string()))?;
    tracing::info!(%addr, %public_url, mail = %mail_target, "Latchkey is listening");
    eprintln!(
        "Latchkey is running at {public_url} (listening on {addr}); mail goes to {mail_target}."
    );
    match app.core().accounts().has_site_admin().await {
        Ok(false) => eprintln!(
            "No site admin exists yet. Create one with:\n  \
             echo 'a-long-password' | latchkey user create --email you@example.com --name 'Your Name' \
             --site-admin --verified --password-stdin"
        ),
        Ok(true) => {}
        Err(e) => tracing::warn!(error = %e, "could not check for a site admin"),
    }
    app.run_until_stopped(shutdown_signal()).await.map_err(|e| Failure::Refused(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn migrate(config: Config, json: bool) -> Result<(), Failure> {
    init_logging("warn");
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    backend.store.close().await;
    if json {
        print_json(&serde_json::json!({ "migrated": true }));
    } else {
        println!("The database is up to date.");
    }
    Ok(())
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

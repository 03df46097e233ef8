//! Wiring: the one place concrete types meet. `App::build(Config)` opens the database, runs
//! migrations, starts mail delivery and binds the listener; `run_until_stopped` serves until
//! the shutdown signal, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_core::authority::{Operator, SiteAdmin};
use latchkey_core::credentials::PasswordHasher;
use latchkey_core::jobs::Job;
use latchkey_core::oidc_provider::{OidcSettings, OidcState};
use latchkey_core::ports::Rng as _;
use latchkey_core::ports::{Clock, MailTransport};
use latchkey_core::{Core, CoreSettings, Ports};
use latchkey_store::{SqlStore, StoreError, StoreOptions};
use latchkey_web::{AppParts, AppState, Metrics, ReadinessProbe, WebSettings};
use tokio::net::TcpListener;

use crate::backchannel::HttpLogoutNotifier;
use crate::config::Config;
use crate::dns::HickoryDns;
use crate::jwks_fetch::HttpKeyFetcher;
use crate::mail::{Delivery, Transport};
use crate::platform::{OsRng, SystemClock};
use crate::web_proof::HttpsProofFetcher;
use latchkey_core::flash::FlashState;
use latchkey_core::saml_sp::SamlState;
use latchkey_core::second_factor::SecondFactorState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, #[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("LATCHKEY_SMTP_URL: {0}")]
    Smtp(String),
    #[error("LATCHKEY_MAIL_FROM: {0}")]
    MailFrom(String),
    #[error("password hashing: {0}")]
    Hasher(String),
    #[error("master key {0}: {1}")]
    MasterKey(String, String),
    #[error("signing keys: {0}")]
    SigningKeys(String),
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("LATCHKEY_DNS_SERVER: {0}")]
    Dns(String),
    /// A CLI command in a folder with no database, where the server's default location was
    /// not chosen on purpose.
    #[error(
        "there is no Latchkey database at {0}. Run this where the server runs, set LATCHKEY_DATA_DIR (or LATCHKEY_DATABASE_URL), or add --init to create a new, empty one here."
    )]
    NoDatabase(String),
}

/// Replaceable parts, for tests: a clock they can move, a listener bound before the public
/// URL is known.
pub struct Overrides {
    pub clock: Arc<dyn Clock>,
    pub listener: Option<std::net::TcpListener>,
}

impl Default for Overrides {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), listener: None }
    }
}

/// The domain core on its database, without the HTTP side (what the CLI needs).
pub struct Backend {
    pub core: Core,
    /// The local operator's authority (the CLI's; never handed to the web layer).
    pub operator: Operator,
    pub store: SqlStore,
    pub mail: Arc<dyn MailTransport>,
}

impl Backend {
    /// The local operator acting as site admin (every CLI command).
    pub fn site_admin(&self) -> SiteAdmin {
        SiteAdmin::operator(&self.operator)
    }

    /// For CLI commands: notes which data folder and database it uses (printed once the
    /// command succeeded), and refuses to
    /// create a new SQLite database in the default location (`./latchkey-data`, relative to
    /// wherever the command runs) unless `--init` asks for one: a command run from the wrong
    /// folder must not quietly work on an empty database.
    pub async fn open_for_cli(config: &Config) -> Result<Self, StartError> {
        let sqlite_file = config
            .database_url
            .strip_prefix("sqlite://")
            .map(|rest| std::path::PathBuf::from(rest.split('?').next().unwrap_or_default()));
        let shown = match &sqlite_file {
            Some(path) => path.display().to_string(),
            None => redact_url(&config.database_url),
        };
        if let Some(path) = &sqlite_file
            && !path.exists()
            && !config.location_chosen
            && !config.init
        {
            return Err(StartError::NoDatabase(path.display().to_string()));
        }
        let _ = USED_STORAGE
            .set(format!("data folder {}, database {shown}", config.data_dir.display()));
        Self::open(config, Arc::new(crate::platform::SystemClock)).await
    }

    pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        crate::private_files::ensure_private_dir(&config.data_dir)
            .and_then(|()| crate::private_files::prepare_sqlite_file(&config.database_url))
            .and_then(|()| {
                // An existing outbox that others can read is reported too.
                let outbox = config.outbox_dir();
                if outbox.is_dir() {
                    crate::private_files::ensure_private_dir(&outbox)
                } else {
                    Ok(())
                }
            })
            .map_err(|e| StartError::DataDir(config.data_dir.display().to_string(), e))?;
        let store = SqlStore::connect(&config.database_url, &StoreOptions::default()).await?;
        let migrated = store.migrate().await?;
        if let Some(newer) = migrated.newer_schema {
            tracing::warn!(
                database_schema = newer,
                this_release = migrated.newest_known,
                "the database was migrated by a newer Latchkey; this node runs on it as the release before (a rolling upgrade) — finish the upgrade soon"
            );
        }
        let from = config.mail_from.parse().map_err(|e| StartError::MailFrom(format!("{e}")))?;
        let delivery = match &config.smtp_url {
            Some(url) => Transport::smtp(url).map_err(StartError::Smtp)?,
            None => Delivery::Outbox(config.outbox_dir()),
        };
        let mail: Arc<dyn MailTransport> = Arc::new(Transport::new(from, delivery));
        let rng = Arc::new(OsRng);
        let hasher = PasswordHasher::new(config.passwords, rng.as_ref())
            .map_err(|e| StartError::Hasher(e.to_string()))?;
        let shared = Arc::new(store.clone());
        let https = Arc::new(
            HttpsProofFetcher::new(config.dns_server, &config.outbound)
                .map_err(StartError::Http)?,
        );
        let ports = Ports {
            accounts: shared.clone(),
            sessions: shared.clone(),
            tokens: shared.clone(),
            throttle: shared.clone(),
            outbox: shared.clone(),
            admin_tokens: shared.clone(),
            second_factor: shared.clone(),
            orgs: shared.clone(),
            audit: shared.clone(),
            branding: shared.clone(),
            job_leases: shared.clone(),
            email_changes: shared.clone(),
            dns: Arc::new(HickoryDns::new(config.dns_server).map_err(StartError::Dns)?),
            web_proof: https.clone(),
            saml_metadata: https,
            saml_verifier: Arc::new(latchkey_protocol::saml::signature::Bergshamra),
            saml: shared.clone(),
            clients: shared.clone(),
            signing_keys: shared.clone(),
            policies: shared.clone(),
            api_tokens: shared.clone(),
            legacy: shared.clone(),
            oidc: shared,
            fetcher: Arc::new(HttpKeyFetcher::new().map_err(StartError::Http)?),
            clock,
            rng,
        };
        let mut settings = CoreSettings::new(&config.public_url);
        settings.throttle = config.throttle;
        settings.session_lifetime_secs = config.session_lifetime_secs;
        settings.session_idle_secs = config.session_idle_secs;
        settings.closure_grace_secs = config.closure_grace_secs;
        settings.audit_retention_secs = config.audit_retention_secs;
        let master_key = match config.master_key {
            Some(k) => k,
            None => load_or_create_master_key(&config.data_dir.join("master.key"))?,
        };
        let oidc = OidcState::new(master_key, OidcSettings::default())
            .map_err(|e| StartError::SigningKeys(e.to_string()))?;
        let second_factor = SecondFactorState::new(&master_key, &config.public_url)
            .map_err(|e| StartError::SigningKeys(e.to_string()))?;
        let saml =
            SamlState::new(&master_key).map_err(|e| StartError::SigningKeys(e.to_string()))?;
        let flash =
            FlashState::new(&master_key).map_err(|e| StartError::SigningKeys(e.to_string()))?;
        let (core, operator) =
            Core::new(&ports, settings, hasher, oidc, second_factor, saml, flash);
        core.oidc()
            .ensure_signing_keys()
            .await
            .map_err(|e| StartError::SigningKeys(e.to_string()))?;
        Ok(Self { core, operator, store, mail })
    }
}

/// The key that seals signing keys at rest. Created on first start (readable by the owner
/// only); every node of a PostgreSQL deployment needs the same one (`LATCHKEY_MASTER_KEY`).
fn load_or_create_master_key(path: &std::path::Path) -> Result<[u8; 32], StartError> {
    let err = |e: &dyn std::fmt::Display| {
        StartError::MasterKey(path.display().to_string(), e.to_string())
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| err(&"must hold exactly 32 bytes"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            OsRng.fill(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|e| err(&e))?;
            std::io::Write::write_all(&mut file, &key).map_err(|e| err(&e))?;
            Ok(key)
        }
        Err(e) => Err(err(&e)),
    }
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    backend: Backend,
    server: crate::config::ServerSettings,
}

struct DatabaseReadiness(SqlStore);

#[async_trait]
impl ReadinessProbe for DatabaseReadiness {
    async fn check(&self, timeout: Duration) -> Result<(), String> {
        self.0.ping(timeout).await.map_err(|e| e.to_string())
    }
}

impl App {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: Config, overrides: Overrides) -> Result<Self, StartError> {
        let backend = Backend::open(&config, overrides.clock).await?;
        latchkey_web::footer::set_support_url(config.support_url.as_deref());
        let state = AppState::new(AppParts {
            core: backend.core.clone(),
            settings: Arc::new(WebSettings {
                public_url: config.public_url.clone(),
                trusted_proxies: config.trusted_proxies.clone(),
                metrics_enabled: config.metrics_enabled,
                allowed_hosts: config.server.allowed_hosts.clone(),
            }),
            readiness: Arc::new(DatabaseReadiness(backend.store.clone())),
            metrics: Arc::new(Metrics::new()),
        });
        let listener = match overrides.listener {
            Some(std_listener) => std_listener
                .set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(std_listener))
                .map_err(|e| StartError::Bind(config.listen, e))?,
            None => TcpListener::bind(config.listen)
                .await
                .map_err(|e| StartError::Bind(config.listen, e))?,
        };
        Ok(Self {
            listener,
            router: latchkey_web::router(state),
            backend,
            server: config.server.clone(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn core(&self) -> &Core {
        &self.backend.core
    }

    /// The local operator's authority, for the program that runs the app (tests).
    pub fn operator(&self) -> &Operator {
        &self.backend.operator
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let jobs = tokio::spawn(housekeeping(self.backend.core.clone()));
        let notifier = HttpLogoutNotifier::new().map_err(std::io::Error::other)?;
        let mail = tokio::spawn(deliver_outboxes(
            self.backend.core.clone(),
            self.backend.mail.clone(),
            notifier,
        ));
        let served = crate::serve::serve(self.listener, self.router, &self.server, shutdown).await;
        jobs.abort();
        mail.abort();
        if let Err(e) = self.backend.core.jobs().step_down(Job::Housekeeping).await {
            tracing::warn!(error = %e, "could not hand housekeeping over");
        }
        self.backend.store.close().await;
        served
    }
}

/// Delivers queued mail and back-channel logouts: polls the outbox twice a second, and
/// straight again while there is more due. Every node runs it; leases keep them from
/// delivering an item twice.
async fn deliver_outboxes(
    core: Core,
    transport: Arc<dyn MailTransport>,
    notifier: HttpLogoutNotifier,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            if let Err(e) = core.accounts().process_mail_requests().await {
                tracing::error!(error = %e, "processing mail requests failed");
            }
            let mail = core.kernel().mailer().deliver_due(transport.as_ref()).await;
            let logouts = core.oidc().deliver_due_logouts(&notifier).await;
            match (mail, logouts) {
                (Ok(m), Ok(l)) if m.is_empty() && l.is_empty() => break,
                (Ok(m), Ok(l)) => tracing::debug!(mail = ?m, logouts = ?l, "delivery round"),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    break;
                }
            }
        }
    }
}

/// Removes expired sessions and stale throttle counters, re-checks domains, writes API-token
/// use counts and summaries. With several nodes, each round runs on the one holding the
/// housekeeping lease (renewed every round, taken over by another node within
/// [`HOUSEKEEPING_LEASE_SECS`] of its holder dying; handed over at once on a clean stop), so
/// organizations' admins get one mail, not one per node. The first round runs one period after
/// start, not during it (a node restarting in a loop does not hammer the database, and tests
/// that move a fake clock do not race a round started late).
async fn housekeeping(core: Core) {
    let period = Duration::from_mins(5);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        match core.jobs().lead(Job::Housekeeping, HOUSEKEEPING_LEASE_SECS).await {
            Ok(true) => housekeeping_round(&core).await,
            Ok(false) => tracing::debug!("housekeeping runs on another node this round"),
            Err(e) => tracing::warn!(error = %e, "could not take the housekeeping lease"),
        }
    }
}

/// Outlasts two rounds, so the holder keeps it while it lives; a dead holder's rounds move to
/// another node within this.
pub const HOUSEKEEPING_LEASE_SECS: i64 = 12 * 60;

/// One round of [`housekeeping`]: every clean-up is idempotent, so a round repeated (a node
/// paused past its lease) only repeats harmless deletes.
pub async fn housekeeping_round(core: &Core) {
    if let Err(e) = core.sessions().purge_expired_sessions().await {
        tracing::warn!(error = %e, "session cleanup failed");
    }
    if let Err(e) = core.guard().purge_stale_counters().await {
        tracing::warn!(error = %e, "throttle counter cleanup failed");
    }
    if let Err(e) = core.kernel().mailer().purge_delivered().await {
        tracing::warn!(error = %e, "outbox cleanup failed");
    }
    if let Err(e) = core.orgs().recheck_due_domains().await {
        tracing::warn!(error = %e, "domain re-checks failed");
    }
    if let Err(e) = core.audit().purge_audit_log().await {
        tracing::warn!(error = %e, "audit log retention failed");
    }
    if let Err(e) = core.accounts().erase_closed_accounts().await {
        tracing::warn!(error = %e, "erasing closed accounts failed");
    }
    if let Err(e) = core.second_factor().purge_expired_second_factor().await {
        tracing::warn!(error = %e, "pending login cleanup failed");
    }
    if let Err(e) = core.oidc().purge_expired().await {
        tracing::warn!(error = %e, "expired code and assertion cleanup failed");
    }
    if let Err(e) = core.legacy().purge_expired_links().await {
        tracing::warn!(error = %e, "expired account-change link cleanup failed");
    }
    if let Err(e) = core.saml().purge_expired().await {
        tracing::warn!(error = %e, "expired SAML login and assertion cleanup failed");
    }
    if let Err(e) = core.saml().warn_expiring_certificates().await {
        tracing::warn!(error = %e, "SAML certificate expiry notices failed");
    }
    if let Err(e) = core.api_tokens().summarize_use().await {
        tracing::warn!(error = %e, "API token use summary failed");
    }
}

/// Which data folder and database a CLI command used: printed on stderr after it succeeded
/// (a refusal stays one line).
pub static USED_STORAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A database URL without its password, for messages.
fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

//! Configuration: an optional TOML file overlaid by `LATCHKEY_*` environment variables, as
//! `shared/CONTRACT.md` specifies. Every value is checked here; a bad one becomes a
//! [`ConfigError`] naming the setting, which `main` prints as one line before exiting with 2.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_core::credentials::PasswordHashing;
use latchkey_core::flows::ThrottlePolicy;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// No trailing slash; also the OIDC issuer.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The data folder or the database was set on purpose (environment or config file), so
    /// a CLI command may create a new database there.
    pub location_chosen: bool,
    /// `--init`: a CLI command may create a new database in the default location.
    pub init: bool,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Where people with account trouble get help (footer of every page, error pages).
    pub support_url: Option<String>,
    pub dns_server: Option<SocketAddr>,
    pub log: String,
    pub trusted_proxies: Vec<IpAddr>,
    pub metrics_enabled: bool,
    pub passwords: PasswordHashing,
    pub throttle: ThrottlePolicy,
    pub session_lifetime_secs: i64,
    pub session_idle_secs: i64,
    /// How long a closed account keeps its personal data (it can be reactivated meanwhile).
    pub closure_grace_secs: i64,
    /// How long audit events are kept.
    pub audit_retention_secs: i64,
    /// Fetches triggered by organization admins or outside input.
    pub outbound: OutboundPolicy,
    /// `LATCHKEY_MASTER_KEY` (base64 of 32 bytes) if set; otherwise `<data dir>/master.key`.
    pub master_key: Option<[u8; 32]>,
    /// The HTTP server's guards: host names served, read timeouts, connection cap.
    pub server: ServerSettings,
}

/// `[server]`: what the listener accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Host names served besides `localhost` and IP literals (DNS rebinding defence).
    /// Default: the public URL's host. `*` allows any.
    pub allowed_hosts: Vec<String>,
    /// A client must send its request line and headers within this time.
    pub header_read_timeout: Duration,
    /// A request body must keep arriving: at most this long between two pieces of it.
    pub body_read_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    allowed_hosts: Option<Vec<String>>,
    header_read_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
}

impl ServerSection {
    fn resolve(
        &self,
        env: &HashMap<String, String>,
        public_url: &str,
    ) -> Result<ServerSettings, ConfigError> {
        let (setting, listed): (&str, Vec<String>) = match env.get("LATCHKEY_ALLOWED_HOSTS") {
            Some(v) => ("LATCHKEY_ALLOWED_HOSTS", v.split(',').map(str::to_owned).collect()),
            None => ("server.allowed_hosts", self.allowed_hosts.clone().unwrap_or_default()),
        };
        let mut allowed_hosts = Vec::new();
        if let Some(host) =
            url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(str::to_owned))
        {
            allowed_hosts.push(host.trim_end_matches('.').to_ascii_lowercase());
        }
        for item in listed.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let ok = item == "*"
                || (item.len() <= 253
                    && !item.starts_with(['.', '-'])
                    && item.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':')
                    }));
            if !ok {
                return Err(bad(
                    setting,
                    format!(
                        "{item:?} is not a host name (give names without scheme or port, or \"*\")"
                    ),
                ));
            }
            allowed_hosts.push(item.trim_end_matches('.').to_ascii_lowercase());
        }
        let secs = |name: &str, v: Option<u64>, default: u64| -> Result<Duration, ConfigError> {
            match v.unwrap_or(default) {
                0 => Err(bad(name, "must be at least 1 second")),
                n => Ok(Duration::from_secs(n)),
            }
        };
        let max_connections = self.max_connections.unwrap_or(1024);
        if max_connections == 0 {
            return Err(bad("server.max_connections", "must be at least 1"));
        }
        Ok(ServerSettings {
            allowed_hosts,
            header_read_timeout: secs(
                "server.header_read_timeout_secs",
                self.header_read_timeout_secs,
                10,
            )?,
            body_read_timeout: secs(
                "server.body_read_timeout_secs",
                self.body_read_timeout_secs,
                20,
            )?,
            max_connections,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

/// The data folder, the database URL, and whether either was chosen (not the defaults).
fn storage(
    data_dir: Option<(String, String)>,
    database_url: Option<(String, String)>,
    cwd: &Path,
) -> Result<(PathBuf, String, bool), ConfigError> {
    let chosen = data_dir.is_some() || database_url.is_some();
    let data_dir = match data_dir {
        Some((name, v)) if v.trim().is_empty() => return Err(bad(&name, "must not be empty")),
        Some((_, v)) => cwd.join(v),
        None => cwd.join("latchkey-data"),
    };
    let database_url = match database_url {
        Some((name, v)) => {
            let scheme = v.split_once("://").map(|(s, _)| s);
            if !matches!(scheme, Some("sqlite" | "postgres" | "postgresql")) {
                return Err(bad(&name, "must start with sqlite:// or postgres://"));
            }
            v
        }
        None => format!("sqlite://{}", data_dir.join("latchkey.db").display()),
    };
    Ok((data_dir, database_url, chosen))
}

/// An https (or http) page, or a `mailto:` address.
fn parse_support_url(name: &str, v: String) -> Result<String, ConfigError> {
    let ok = v.starts_with("mailto:") && v.len() > 7
        || url::Url::parse(&v)
            .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if !ok || v.chars().any(char::is_control) {
        return Err(bad(name, "must be an https URL or a mailto: address"));
    }
    Ok(v)
}

fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError { setting: setting.to_owned(), problem: problem.into() }
}

/// The file's shape. Unknown keys are refused so a typo does not silently do nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    support_url: Option<String>,
    dns_server: Option<String>,
    log: Option<String>,
    master_key: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    metrics: Option<bool>,
    #[serde(default)]
    passwords: PasswordsSection,
    #[serde(default)]
    throttle: ThrottleSection,
    #[serde(default)]
    sessions: SessionsSection,
    #[serde(default)]
    accounts: AccountsSection,
    #[serde(default)]
    audit: AuditSection,
    #[serde(default)]
    outbound: OutboundSection,
    #[serde(default)]
    server: ServerSection,
}

/// Outbound fetches that an organization admin or outside input points at (the HTTPS proof of
/// a domain; later the metadata of identity providers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow private and loopback addresses (tests, closed networks). Off by default.
    pub allow_private_addresses: bool,
    /// PEM certificates trusted besides the built-in web roots (an internal CA, tests).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The port the HTTPS proof is fetched from (443; tests move it).
    pub verification_https_port: u16,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        Self { allow_private_addresses: false, extra_roots_pem: None, verification_https_port: 443 }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboundSection {
    allow_private_addresses: Option<bool>,
    /// A PEM file of extra trusted root certificates.
    extra_roots: Option<String>,
    verification_https_port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditSection {
    /// Days audit events are kept (default 365).
    retention_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsSection {
    /// Days between closing an account and erasing its personal data (default 14).
    closure_grace_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordsSection {
    memory_kib: Option<u32>,
    iterations: Option<u32>,
    parallelism: Option<u32>,
    max_concurrent: Option<usize>,
    queue_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleSection {
    account_failures: Option<u32>,
    ip_failures: Option<u32>,
    login_window_secs: Option<i64>,
    mails_per_address: Option<u32>,
    requests_per_ip: Option<u32>,
    mail_window_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsSection {
    lifetime_secs: Option<i64>,
    idle_secs: Option<i64>,
}

impl Config {
    /// Reads the process environment and the config file it points to.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> =
            std::env::vars().filter(|(k, _)| k.starts_with("LATCHKEY_")).collect();
        Self::load(&env, Path::new("."))
    }

    /// `env` holds the `LATCHKEY_*` variables; `cwd` is where defaults are relative to.
    pub fn load(env: &HashMap<String, String>, cwd: &Path) -> Result<Self, ConfigError> {
        let file = FileConfig::find(env, cwd)?;

        // Environment first, then file, then default.
        let pick = |var: &str, from_file: &Option<String>| -> Option<(String, String)> {
            env.get(var)
                .map(|v| (var.to_owned(), v.clone()))
                .or_else(|| from_file.clone().map(|v| (file_key(var), v)))
        };

        let listen = match pick("LATCHKEY_LISTEN", &file.listen) {
            Some((name, v)) => v
                .parse::<SocketAddr>()
                .map_err(|_| bad(&name, format!("{v:?} is not an address like 127.0.0.1:8080")))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match pick("LATCHKEY_PUBLIC_URL", &file.public_url) {
            Some((name, v)) => parse_public_url(&v).map_err(|p| bad(&name, p))?,
            None => format!("http://{listen}"),
        };
        let (data_dir, database_url, location_chosen) = storage(
            pick("LATCHKEY_DATA_DIR", &file.data_dir),
            pick("LATCHKEY_DATABASE_URL", &file.database_url),
            cwd,
        )?;
        let smtp_url = pick("LATCHKEY_SMTP_URL", &file.smtp_url)
            .map(|(n, v)| parse_smtp_url(&n, v))
            .transpose()?;
        let support_url = pick("LATCHKEY_SUPPORT_URL", &file.support_url)
            .map(|(name, v)| parse_support_url(&name, v))
            .transpose()?;
        let mail_from = match pick("LATCHKEY_MAIL_FROM", &file.mail_from) {
            Some((name, v)) => {
                if v.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(bad(
                        &name,
                        "must be a mailbox like \"Latchkey <no-reply@example.com>\"",
                    ));
                }
                v
            }
            None => default_mail_from(&public_url),
        };
        let dns_server = pick("LATCHKEY_DNS_SERVER", &file.dns_server)
            .map(|(name, v)| {
                v.parse::<SocketAddr>()
                    .map_err(|_| bad(&name, format!("{v:?} is not an ip:port like 127.0.0.1:53")))
            })
            .transpose()?;
        let log = pick("LATCHKEY_LOG", &file.log)
            .map_or(Ok("info".to_owned()), |(n, v)| parse_log(&n, v))?;
        let trusted_proxies = match env.get("LATCHKEY_TRUSTED_PROXIES") {
            Some(v) => parse_ips("LATCHKEY_TRUSTED_PROXIES", v.split(','))?,
            None => parse_ips(
                "trusted_proxies",
                file.trusted_proxies.iter().flatten().map(String::as_str),
            )?,
        };
        let metrics_enabled = env
            .get("LATCHKEY_METRICS")
            .map_or(Ok(file.metrics.unwrap_or(true)), |v| parse_switch("LATCHKEY_METRICS", v))?;

        let master_key = pick("LATCHKEY_MASTER_KEY", &file.master_key)
            .map(|(name, v)| parse_master_key(&name, &v))
            .transpose()?;
        let passwords = file.passwords.resolve()?;
        let throttle = file.throttle.resolve()?;
        let outbound = file.outbound.resolve(cwd)?;
        let server = file.server.resolve(env, &public_url)?;

        Ok(Self {
            listen,
            public_url,
            data_dir,
            location_chosen,
            init: false,
            database_url,
            smtp_url,
            mail_from,
            support_url,
            dns_server,
            log,
            trusted_proxies,
            metrics_enabled,
            passwords,
            throttle,
            session_lifetime_secs: positive(
                "sessions.lifetime_secs",
                file.sessions.lifetime_secs,
                2_592_000,
            )?,
            master_key,
            session_idle_secs: positive("sessions.idle_secs", file.sessions.idle_secs, 604_800)?,
            closure_grace_secs: days(
                "accounts.closure_grace_days",
                file.accounts.closure_grace_days,
                14,
            )?,
            audit_retention_secs: days("audit.retention_days", file.audit.retention_days, 365)?,
            outbound,
            server,
        })
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

impl FileConfig {
    /// `LATCHKEY_CONFIG` if set, else `./latchkey.toml` if present, else nothing.
    fn find(env: &HashMap<String, String>, cwd: &Path) -> Result<Self, ConfigError> {
        if let Some(path) = env.get("LATCHKEY_CONFIG") {
            return read_file("LATCHKEY_CONFIG", &cwd.join(path));
        }
        let default = cwd.join("latchkey.toml");
        if default.exists() { read_file("latchkey.toml", &default) } else { Ok(Self::default()) }
    }
}

impl PasswordsSection {
    fn resolve(&self) -> Result<PasswordHashing, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut passwords = PasswordHashing::owasp(cores);
        passwords.memory_kib = self.memory_kib.unwrap_or(passwords.memory_kib);
        passwords.iterations = self.iterations.unwrap_or(passwords.iterations);
        passwords.parallelism = self.parallelism.unwrap_or(passwords.parallelism);
        passwords.max_concurrent = self.max_concurrent.unwrap_or(passwords.max_concurrent);
        if let Some(ms) = self.queue_timeout_ms {
            passwords.queue_timeout = Duration::from_millis(ms);
        }
        let params = argon2::Params::new(
            passwords.memory_kib,
            passwords.iterations,
            passwords.parallelism,
            None,
        );
        if params.is_err() {
            return Err(bad(
                "passwords",
                "memory_kib, iterations and parallelism are not valid argon2 parameters",
            ));
        }
        if passwords.max_concurrent == 0 {
            return Err(bad("passwords.max_concurrent", "must be at least 1"));
        }
        Ok(passwords)
    }
}

impl OutboundSection {
    fn resolve(&self, cwd: &Path) -> Result<OutboundPolicy, ConfigError> {
        let extra_roots_pem = match &self.extra_roots {
            Some(path) => {
                let name = "outbound.extra_roots";
                let pem = std::fs::read(cwd.join(path))
                    .map_err(|e| bad(name, format!("cannot read {path}: {e}")))?;
                match reqwest::Certificate::from_pem_bundle(&pem) {
                    Ok(certs) if !certs.is_empty() => Some(pem),
                    _ => return Err(bad(name, format!("{path} holds no PEM certificate"))),
                }
            }
            None => None,
        };
        let port = self.verification_https_port.unwrap_or(443);
        if port == 0 {
            return Err(bad("outbound.verification_https_port", "must be a port from 1 to 65535"));
        }
        Ok(OutboundPolicy {
            allow_private_addresses: self.allow_private_addresses.unwrap_or(false),
            extra_roots_pem,
            verification_https_port: port,
        })
    }
}

impl ThrottleSection {
    fn resolve(&self) -> Result<ThrottlePolicy, ConfigError> {
        let d = ThrottlePolicy::default();
        Ok(ThrottlePolicy {
            account_failures: self.account_failures.unwrap_or(d.account_failures),
            ip_failures: self.ip_failures.unwrap_or(d.ip_failures),
            login_window_secs: positive(
                "throttle.login_window_secs",
                self.login_window_secs,
                d.login_window_secs,
            )?,
            mails_per_address: self.mails_per_address.unwrap_or(d.mails_per_address),
            requests_per_ip: self.requests_per_ip.unwrap_or(d.requests_per_ip),
            mail_window_secs: positive(
                "throttle.mail_window_secs",
                self.mail_window_secs,
                d.mail_window_secs,
            )?,
        })
    }
}

fn read_file(setting: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_owned();
        bad(setting, format!("{} is not valid: {msg}", path.display()))
    })
}

/// `LATCHKEY_PUBLIC_URL` → `public_url`, for naming the setting when it came from the file.
fn file_key(var: &str) -> String {
    var.trim_start_matches("LATCHKEY_").to_ascii_lowercase()
}

fn parse_public_url(v: &str) -> Result<String, String> {
    let url = url::Url::parse(v).map_err(|e| format!("{v:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// URL with a host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("must not carry a query, fragment or credentials".to_owned());
    }
    // Exactly as given (OIDC issuers compare as strings), minus a trailing slash on a bare host.
    Ok(v.strip_suffix('/').filter(|_| url.path() == "/").unwrap_or(v).to_owned())
}

fn parse_smtp_url(name: &str, v: String) -> Result<String, ConfigError> {
    let ok = url::Url::parse(&v)
        .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some());
    if ok {
        Ok(v)
    } else {
        Err(bad(name, "must look like smtp://host:port or smtps://user:pass@host:port"))
    }
}

fn default_mail_from(public_url: &str) -> String {
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.domain().map(str::to_owned))
        .filter(|d| d.contains('.'))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("no-reply@{host}")
}

fn parse_ips<'a>(
    setting: &str,
    items: impl Iterator<Item = &'a str>,
) -> Result<Vec<IpAddr>, ConfigError> {
    items
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>().map_err(|_| bad(setting, format!("{s:?} is not an IP address")))
        })
        .collect()
}

fn parse_master_key(name: &str, v: &str) -> Result<[u8; 32], ConfigError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad(name, "must be 32 random bytes in base64 (openssl rand -base64 32)"))
}

fn parse_log(name: &str, v: String) -> Result<String, ConfigError> {
    match tracing_subscriber::EnvFilter::try_new(&v) {
        Ok(_) => Ok(v),
        Err(e) => Err(bad(name, format!("not a log filter: {e}"))),
    }
}

fn parse_switch(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(bad(name, "must be on or off")),
    }
}

/// A number of days (1 to 3650) as seconds.
fn days(setting: &str, value: Option<i64>, default: i64) -> Result<i64, ConfigError> {
    match value.unwrap_or(default) {
        d if (1..=3650).contains(&d) => Ok(d * 24 * 3600),
        _ => Err(bad(setting, "must be a number of days from 1 to 3650")),
    }
}

fn positive(setting: &str, value: Option<i64>, default: i64) -> Result<i64, ConfigError> {
    match value {
        Some(v) if v <= 0 => Err(bad(setting, "must be a positive number of seconds")),
        Some(v) => Ok(v),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests;

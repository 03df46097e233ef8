//! The command line (`shared/CONTRACT.md`, "Command line"): `serve`, `migrate`, `user …`.
//! Exit codes: 0 done, 1 refused or failed, 2 bad usage or configuration. With `--json`
//! anywhere on the line, a command prints exactly one JSON document on stdout.

mod admin_token;
mod api_token;
mod audit;
mod backup;
mod branding;
mod client;
mod deliveries;
mod demo;
mod keys;
mod legacy;
mod org;
mod policy;
mod saml;
mod serve;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "One account for every product an organization runs."
)]
pub struct Cli {
    /// Print exactly one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Create a new, empty database in the default data folder (`./latchkey-data`) if there
    /// is none: without it, a command run from another folder refuses instead of working on
    /// an empty database. `serve` creates one on its first start anyway.
    #[arg(long, global = true)]
    init: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole system: web UI, protocol endpoints, background jobs.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run Latchkey with two demo products (Tracker, Wiki) on the next two ports.
    Demo,
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage products (OpenID Connect clients).
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage organizations, their admins and domains.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Manage bearer tokens for the admin API.
    #[command(subcommand)]
    AdminToken(admin_token::AdminTokenCommand),
    /// Manage API tokens (app passwords) of any account.
    #[command(subcommand)]
    ApiToken(api_token::ApiTokenCommand),
    /// Manage bot accounts (API tokens only, no web sign-in).
    #[command(subcommand)]
    Bot(api_token::BotCommand),
    /// The site's default authentication policy (accounts no organization manages).
    #[command(subcommand)]
    Policy(policy::SitePolicyCommand),
    /// Read the audit log (all of it, or one organization's), filtered, as JSON Lines or CSV.
    Audit(audit::AuditCommand),
    /// Copy the embedded (SQLite) database to FILE while the server runs. PostgreSQL:
    /// use `pg_dump`.
    Backup {
        /// A new file (never overwritten), created readable by you only.
        file: std::path::PathBuf,
    },
    /// Restore a backup into a data folder that has no database yet; then start the server.
    Restore {
        file: std::path::PathBuf,
        /// The master key file of the installation the backup came from (copied into the
        /// data folder), unless it is already there or `LATCHKEY_MASTER_KEY` is set.
        #[arg(long)]
        master_key_file: Option<std::path::PathBuf>,
    },
    /// The look of every page and mail: name, logo, colour.
    #[command(subcommand)]
    Branding(branding::BrandingCommand),
    /// The mail and back-channel logout queues: what waits, what was delivered, dead letters.
    #[command(subcommand)]
    Deliveries(deliveries::DeliveriesCommand),
}

/// What a failed command tells its caller.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or configuration: exit 2.
    Usage(String),
    /// Refused or failed: exit 1.
    Refused(String),
}

impl Failure {
    fn exit(self) -> ExitCode {
        match self {
            Self::Usage(m) => {
                eprintln!("latchkey: {m}");
                ExitCode::from(2)
            }
            Self::Refused(m) => {
                eprintln!("latchkey: {m}");
                ExitCode::from(1)
            }
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let mut config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return Failure::Usage(e.to_string()).exit(),
    };
    config.init = cli.init;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return Failure::Refused(format!("cannot start the runtime: {e}")).exit(),
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::serve(config).await,
            Command::Migrate => serve::migrate(config, cli.json).await,
            Command::Demo => demo::run(config).await,
            Command::User(cmd) => user::run(cmd, config, cli.json).await,
            Command::Client(cmd) => client::run(cmd, config, cli.json).await,
            Command::Keys(cmd) => keys::run(cmd, config, cli.json).await,
            Command::AdminToken(cmd) => admin_token::run(cmd, config, cli.json).await,
            Command::Org(cmd) => org::run(cmd, config, cli.json).await,
            Command::Audit(cmd) => audit::run(cmd, config, cli.json).await,
            Command::Backup { file } => backup::backup(&file, config, cli.json).await,
            Command::Restore { file, master_key_file } => {
                backup::restore(&file, master_key_file.as_deref(), config, cli.json).await
            }
            Command::Branding(cmd) => branding::run(cmd, config, cli.json).await,
            Command::Deliveries(cmd) => deliveries::run(cmd, config, cli.json).await,
            Command::Policy(cmd) => policy::run(cmd, config, cli.json).await,
            Command::ApiToken(cmd) => api_token::run(cmd, config, cli.json).await,
            Command::Bot(cmd) => api_token::run_bot(cmd, config, cli.json).await,
        }
    });
    match outcome {
        Ok(()) => {
            if let Some(used) = crate::app::USED_STORAGE.get() {
                eprintln!("latchkey: {used}");
            }
            ExitCode::SUCCESS
        }
        Err(f) => f.exit(),
    }
}

/// Prints a JSON document on stdout.
fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

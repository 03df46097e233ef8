//! `latchkey user create|list|show|deactivate`.

use clap::Subcommand;
use latchkey_core::Core;
use latchkey_core::accounts::{Account, DisplayName, Email};
use latchkey_core::credentials::Password;
use latchkey_core::flows::{CreateAccountError, CreateAccountRequest, SetStatusError};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Create(CreateArgs),
    /// List accounts, oldest first.
    List {
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Show one account.
    Show { email: String },
    /// Deactivate an account and end all its sessions at once.
    Deactivate { email: String },
    /// Turn off a person's two-step verification (authenticator app, security keys, recovery
    /// codes) when they have lost them; they are emailed.
    #[command(name = "reset-2fa")]
    ResetTwoFactor { email: String },
    /// Close an account: deactivated at once, personal data erased after the grace period
    /// (`[accounts] closure_grace_days`, default 14) unless reactivated.
    Close { email: String },
    /// Make a deactivated account, or a closed one not yet erased, active again.
    Reactivate { email: String },
    /// Make an account a site administrator (`--revoke` takes it away; never the last one).
    SiteAdmin {
        email: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Mail the person a password reset link (on their request; nothing changes until they use it).
    ResetPassword { email: String },
    /// Where the person is signed in (their live sessions).
    Sessions { email: String },
    /// End one of the person's sessions (a lost laptop): that browser is signed out, here and
    /// in the products it signed in to.
    EndSession {
        email: String,
        #[arg(long)]
        session: String,
    },
}

/// `latchkey user create`.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "command-line switches")]
pub struct CreateArgs {
    #[arg(long)]
    pub email: String,
    /// Display name (defaults to the part of the email before the @).
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from one line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Mark the email as already verified.
    #[arg(long)]
    pub verified: bool,
    /// Make the account a site administrator.
    #[arg(long)]
    pub site_admin: bool,
    /// No password: mail the person a link to choose one (it also verifies the address).
    #[arg(long, conflicts_with_all = ["password_stdin", "verified", "site_admin"])]
    pub invite: bool,
}

pub async fn run(cmd: UserCommand, config: Config, json: bool) -> Result<(), Failure> {
    // Validate input before touching the database.
    let backend = || async {
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))
    };
    match cmd {
        UserCommand::Create(args) => create(&config, args, json).await?,
        UserCommand::List { limit, offset } => {
            let backend = backend().await?;
            let accounts = backend
                .core
                .accounts()
                .list_accounts(&backend.site_admin(), limit, offset)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let mut users = Vec::with_capacity(accounts.len());
                for a in &accounts {
                    users.push(account_json(&backend.core, a).await?);
                }
                print_json(&json!({ "users": users }));
            } else {
                println!("{:<40} {:<12} {:<9} NAME", "EMAIL", "STATUS", "VERIFIED");
                for a in &accounts {
                    println!(
                        "{:<40} {:<12} {:<9} {}",
                        a.email.as_str(),
                        a.status.as_str(),
                        if a.email_verified() { "yes" } else { "no" },
                        a.name
                    );
                }
            }
        }
        UserCommand::Show { email } => {
            let email = parse_email(&email)?;
            let backend = backend().await?;
            let account = backend
                .core
                .accounts()
                .find_account(&backend.site_admin(), &email)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?
                .ok_or_else(|| Failure::Refused(format!("no account has the email {email}")))?;
            output(&backend.core, json, &account, &describe(&account)).await?;
        }
        UserCommand::Deactivate { email } => {
            change_status(&backend().await?, Change::Deactivate, &email, json).await?;
        }
        UserCommand::ResetTwoFactor { email } => {
            let email = parse_email(&email)?;
            reset_two_factor(&backend().await?, &email, json).await?;
        }
        UserCommand::Close { email } => {
            change_status(&backend().await?, Change::Close, &email, json).await?;
        }
        UserCommand::Reactivate { email } => {
            change_status(&backend().await?, Change::Reactivate, &email, json).await?;
        }
        UserCommand::ResetPassword { email } => {
            let email = parse_email(&email)?;
            let backend = backend().await?;
            let account = backend
                .core
                .accounts()
                .send_password_reset_as_site_admin(&backend.site_admin(), &email)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            output(
                &backend.core,
                json,
                &account,
                &format!("Sent a password reset link to {email}"),
            )
            .await?;
        }
        cmd @ (UserCommand::Sessions { .. }
        | UserCommand::EndSession { .. }
        | UserCommand::SiteAdmin { .. }) => {
            sessions(&backend().await?, cmd, json).await?;
        }
    }
    Ok(())
}

async fn reset_two_factor(backend: &Backend, email: &Email, json: bool) -> Result<(), Failure> {
    let account = backend
        .core
        .second_factor()
        .reset_two_factor(&backend.site_admin(), email)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?
        .ok_or_else(|| Failure::Refused(format!("no account has the email {email}")))?;
    output(
        &backend.core,
        json,
        &account,
        &format!("Two-step verification of {} is off; they were emailed.", account.email),
    )
    .await
}

enum Change {
    Deactivate,
    Close,
    Reactivate,
}

async fn change_status(
    backend: &Backend,
    change: Change,
    email: &str,
    json: bool,
) -> Result<(), Failure> {
    let email = parse_email(email)?;
    let core = &backend.core;
    let admin = &backend.site_admin();
    let done = match change {
        Change::Deactivate => core.accounts().deactivate_account(admin, &email).await,
        Change::Close => core.accounts().close_account(admin, &email).await,
        Change::Reactivate => core.accounts().reactivate_account(admin, &email).await,
    };
    let account = done.map_err(|e| match e {
        SetStatusError::NotFound => Failure::Refused(format!("no account has the email {email}")),
        SetStatusError::Closed => Failure::Refused(format!(
            "{email} is closed (or already erased); a closed account cannot be changed this way"
        )),
        e @ (SetStatusError::Unexpected(_)
        | SetStatusError::Protected
        | SetStatusError::OwnAccount
        | SetStatusError::LastSiteAdmin
        | SetStatusError::Bot) => Failure::Refused(e.to_string()),
    })?;
    let human = match change {
        Change::Deactivate => {
            format!("Deactivated {}; all its sessions have ended.", account.email)
        }
        Change::Close => format!(
            "Closed {}; its sessions ended, and its personal data will be erased after the grace period.",
            account.email
        ),
        Change::Reactivate => format!("{} is active again.", account.email),
    };
    output(core, json, &account, &human).await
}

fn parse_email(raw: &str) -> Result<Email, Failure> {
    Email::parse(raw).map_err(|e| Failure::Usage(format!("email {raw:?}: {e}")))
}

/// One line from stdin, line ending dropped.
fn read_password() -> Result<Password, Failure> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        Failure::Usage(format!("--password-stdin: cannot read standard input: {e}"))
    })?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Password::parse(line).map_err(|e| Failure::Usage(format!("--password-stdin: {e}")))
}

/// The account as JSON, with the organization that manages it.
async fn account_json(core: &Core, a: &Account) -> Result<serde_json::Value, Failure> {
    let summary =
        core.orgs().account_summary(a).await.map_err(|e| Failure::Refused(e.to_string()))?;
    serde_json::to_value(summary).map_err(|e| Failure::Refused(e.to_string()))
}

fn describe(a: &Account) -> String {
    format!(
        "id:             {}\nemail:          {}\nname:           {}\nemail verified: {}\nstatus:         {}\nsite admin:     {}\ncreated:        {}",
        a.id,
        a.email,
        a.name,
        if a.email_verified() { "yes" } else { "no" },
        a.status.as_str(),
        if a.site_admin { "yes" } else { "no" },
        a.created_at.rfc3339()
    )
}

async fn create(config: &Config, args: CreateArgs, json: bool) -> Result<(), Failure> {
    let CreateArgs { email, name, password_stdin, verified, site_admin, invite } = args;
    let email = parse_email(&email)?;
    let name = match name {
        Some(n) => DisplayName::parse(&n).map_err(|e| Failure::Usage(format!("--name: {e}")))?,
        None => DisplayName::from_email(&email),
    };
    if invite {
        return invite_account(
            &Backend::open_for_cli(config).await.map_err(|e| Failure::Refused(e.to_string()))?,
            email,
            name,
            json,
        )
        .await;
    }
    let password = if password_stdin { Some(read_password()?) } else { None };
    let backend =
        Backend::open_for_cli(config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let request =
        CreateAccountRequest { email, name, password, email_verified: verified, site_admin };
    let account =
        backend.core.accounts().create_account(&backend.site_admin(), request).await.map_err(
            |e| match e {
                CreateAccountError::EmailTaken => Failure::Refused(e.to_string()),
                other => Failure::Refused(other.to_string()),
            },
        )?;
    output(
        &backend.core,
        json,
        &account,
        &format!("Created account {} for {}", account.id, account.email),
    )
    .await?;
    Ok(())
}

/// `user create --invite`: no password; the person is mailed a link to choose one.
async fn invite_account(
    backend: &Backend,
    email: latchkey_core::accounts::Email,
    name: DisplayName,
    json: bool,
) -> Result<(), Failure> {
    let account = backend
        .core
        .accounts()
        .invite_account(&backend.site_admin(), email, name, "An administrator")
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let human = format!("Created account {} for {}; invitation mailed", account.id, account.email);
    output(&backend.core, json, &account, &human).await
}

async fn output(core: &Core, json: bool, account: &Account, human: &str) -> Result<(), Failure> {
    if json {
        print_json(&account_json(core, account).await?);
    } else {
        println!("{human}");
    }
    Ok(())
}

/// `user sessions`, `user end-session` and `user site-admin`.
async fn sessions(backend: &Backend, cmd: UserCommand, json: bool) -> Result<(), Failure> {
    match cmd {
        UserCommand::SiteAdmin { email, revoke } => {
            let email = parse_email(&email)?;
            let account = backend
                .core
                .accounts()
                .set_site_admin(&backend.site_admin(), &email, !revoke)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                print_json(&account_json(&backend.core, &account).await?);
            } else if revoke {
                println!("{email} is no longer a site administrator.");
            } else {
                println!("{email} is a site administrator.");
            }
        }
        UserCommand::Sessions { email } => {
            let email = parse_email(&email)?;
            let sessions = backend
                .core
                .accounts()
                .account_sessions(&backend.site_admin(), &email)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let items: Vec<_> =
                    sessions.iter().map(latchkey_core::sessions::Session::describe).collect();
                print_json(&json!({ "sessions": items }));
            } else if sessions.is_empty() {
                println!("Not signed in anywhere.");
            } else {
                for s in &sessions {
                    println!("{}  {}  {}", s.id.as_str(), s.client.ip, s.client.user_agent);
                }
            }
        }
        UserCommand::EndSession { email, session } => {
            let email = parse_email(&email)?;
            let id = latchkey_core::sessions::SessionId::parse(&session)
                .ok_or_else(|| Failure::Usage(format!("{session:?} is not a session id")))?;
            let ended = backend
                .core
                .accounts()
                .end_account_session(&backend.site_admin(), &email, &id)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if !ended {
                return Err(Failure::Refused(format!("{email} has no session {session}")));
            }
            if json {
                print_json(&json!({ "session": session, "ended": true }));
            } else {
                println!("Ended the session {session} of {email}.");
            }
        }
        _ => {}
    }
    Ok(())
}

//! `latchkey admin-token create|list|revoke`: bearer tokens for the admin API.

use clap::Subcommand;
use latchkey_core::accounts::Email;
use latchkey_core::flows::AdminTokenError;
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Issue a token for a site admin's account; it is printed once.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for (shown in listings).
        #[arg(long, default_value = "admin API")]
        label: String,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

pub async fn run(cmd: AdminTokenCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let core = &backend.core;
    match cmd {
        AdminTokenCommand::Create { email, label } => {
            let email =
                Email::parse(&email).map_err(|e| Failure::Usage(format!("--email: {e}")))?;
            let (token, secret) =
                core.accounts().create_admin_token(&admin, &email, &label).await.map_err(|e| {
                    match e {
                        AdminTokenError::BadLabel => Failure::Usage(format!("--label: {e}")),
                        other => Failure::Refused(other.to_string()),
                    }
                })?;
            if json {
                print_json(&json!({ "id": token.id, "token": secret, "email": email.as_str() }));
            } else {
                println!("{secret}");
                eprintln!(
                    "Admin API token {} for {email} (shown once). Send it as \
                     \"Authorization: Bearer …\" to {}/api/v1/.",
                    token.id, config.public_url
                );
            }
        }
        AdminTokenCommand::List => {
            let tokens = core
                .accounts()
                .list_admin_tokens(&admin)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let items: Vec<_> =
                    tokens.iter().map(latchkey_core::flows::AdminToken::describe).collect();
                print_json(&json!({ "tokens": items }));
            } else {
                for t in &tokens {
                    let state = if t.revoked_at.is_some() { "revoked" } else { "live" };
                    println!("{}  {state:<8} {}  {}", t.id, t.account, t.label);
                }
            }
        }
        AdminTokenCommand::Revoke { id } => {
            let revoked = core
                .accounts()
                .revoke_admin_token(&admin, &id)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if !revoked {
                return Err(Failure::Refused(format!("no live admin token {id}")));
            }
            if json {
                print_json(&json!({ "id": id, "revoked": true }));
            } else {
                println!("Revoked {id}");
            }
        }
    }
    Ok(())
}

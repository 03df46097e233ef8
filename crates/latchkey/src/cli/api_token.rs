//! `latchkey api-token create|list|revoke` (any account's API tokens, as the operator) and
//! `latchkey bot create|list` (accounts that hold API tokens only).

use clap::Subcommand;
use latchkey_core::accounts::{Account, Email};
use latchkey_core::api_tokens::{ApiTokenError, BotOwner, TokenRequest, TokenView};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ApiTokenCommand {
    /// Create an API token for an account (a bot's, usually); it is printed once.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for (shown in listings).
        #[arg(long)]
        name: String,
        /// Days until it expires (default 365, capped by the account's policy).
        #[arg(long)]
        expires_days: Option<u32>,
        /// Restrict the token to this product (client id); repeat for several. Default: every
        /// product.
        #[arg(long = "client")]
        clients: Vec<String>,
    },
    /// List an account's API tokens (never their values).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke one of an account's API tokens; effective at once.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BotCommand {
    /// Create a bot account: no mailbox, no web sign-in, API tokens only.
    Create {
        #[arg(long)]
        name: String,
        /// The organization (id or name) that owns and manages the bot.
        #[arg(long)]
        org: Option<String>,
    },
    /// List bots (all, or one organization's).
    List {
        #[arg(long)]
        org: Option<String>,
    },
}

fn failure(e: ApiTokenError) -> Failure {
    match e {
        ApiTokenError::BadName
        | ApiTokenError::BadLifetime(_)
        | ApiTokenError::UnknownProduct(_) => Failure::Usage(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn email(raw: &str) -> Result<Email, Failure> {
    Email::parse(raw).map_err(|e| Failure::Usage(format!("--email: {e}")))
}

fn print_tokens(tokens: &[TokenView], json: bool) {
    if json {
        let items: Vec<_> = tokens.iter().map(TokenView::summary).collect();
        print_json(&json!({ "tokens": items }));
        return;
    }
    for t in tokens {
        let products = if t.products.is_empty() {
            "every product".to_owned()
        } else {
            t.products.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(",")
        };
        println!(
            "{}  {:<8} {}  expires {}  {}",
            t.token.id,
            t.state.as_str(),
            t.token.name,
            t.expires_at.rfc3339(),
            products
        );
    }
}

pub async fn run(cmd: ApiTokenCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let tokens = backend.core.api_tokens();
    match cmd {
        ApiTokenCommand::Create { email: raw, name, expires_days, clients } => {
            let email = email(&raw)?;
            let request = TokenRequest { name, expires_days, products: clients };
            let (view, secret) =
                tokens.create_as_site_admin(&admin, &email, &request).await.map_err(failure)?;
            if json {
                let mut out = view.summary();
                out["token"] = secret.into();
                print_json(&out);
            } else {
                println!("{secret}");
                eprintln!(
                    "API token {} for {email} (shown once), expires {}. Products check it at \
                     {}/oauth/basic-auth/verify with the username {email}.",
                    view.token.id,
                    view.expires_at.rfc3339(),
                    config.public_url
                );
            }
        }
        ApiTokenCommand::List { email: raw } => {
            let list = tokens.list_as_site_admin(&admin, &email(&raw)?).await.map_err(failure)?;
            print_tokens(&list, json);
        }
        ApiTokenCommand::Revoke { email: raw, id } => {
            tokens.revoke_as_site_admin(&admin, &email(&raw)?, &id).await.map_err(failure)?;
            if json {
                print_json(&json!({ "id": id, "revoked": true }));
            } else {
                println!("Revoked {id}");
            }
        }
    }
    Ok(())
}

fn bot_json(bot: &Account) -> serde_json::Value {
    json!({
        "id": bot.id.as_str(),
        "email": bot.email.as_str(),
        "name": bot.name.as_str(),
        "org": bot.bot_org_id,
        "status": bot.status.as_str(),
        "created_at": bot.created_at.rfc3339(),
    })
}

pub async fn run_bot(cmd: BotCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let tokens = backend.core.api_tokens();
    // `--org` by id or by name.
    let resolve = async |org: Option<String>| -> Result<Option<String>, Failure> {
        match org {
            None => Ok(None),
            Some(raw) => backend
                .core
                .orgs()
                .org_admin_by_id_or_name(&admin, &raw)
                .await
                .map(|a| Some(a.org().id.clone()))
                .map_err(|e| Failure::Refused(e.to_string())),
        }
    };
    match cmd {
        BotCommand::Create { name, org } => {
            let org = resolve(org).await?;
            let bot = tokens
                .create_bot(BotOwner::Site(&admin, org.as_deref()), &name)
                .await
                .map_err(failure)?;
            if json {
                print_json(&bot_json(&bot));
            } else {
                println!("{}", bot.email);
                eprintln!(
                    "Bot {} created; its username is {}. Give it a token with: latchkey \
                     api-token create --email {} --name …",
                    bot.name, bot.email, bot.email
                );
            }
        }
        BotCommand::List { org } => {
            let org = resolve(org).await?;
            let bots = tokens
                .list_bots_as_site_admin(&admin)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let bots: Vec<&Account> = bots
                .iter()
                .filter(|b| org.as_ref().is_none_or(|o| b.bot_org_id.as_ref() == Some(o)))
                .collect();
            if json {
                print_json(
                    &json!({ "bots": bots.iter().map(|b| bot_json(b)).collect::<Vec<_>>() }),
                );
            } else {
                for b in bots {
                    println!(
                        "{}  {}  {}  {}",
                        b.id,
                        b.email,
                        b.name,
                        b.bot_org_id.as_deref().unwrap_or("-")
                    );
                }
            }
        }
    }
    Ok(())
}

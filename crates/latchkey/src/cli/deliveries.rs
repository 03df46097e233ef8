//! `latchkey deliveries list|retry`: the mail and back-channel logout queues, as the console's
//! Deliveries page shows them.

use clap::Subcommand;
use latchkey_core::outbox::DeliveryKind;
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// The newest deliveries of a queue (never their content) and counts by status.
    List {
        /// mail or logout.
        #[arg(long, default_value = "mail")]
        queue: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Make the queue's waiting deliveries due now (after an outage is fixed); dead letters
    /// stay dead: their content was erased when they were given up.
    Retry {
        #[arg(long, default_value = "mail")]
        queue: String,
    },
}

fn queue(raw: &str) -> Result<DeliveryKind, Failure> {
    match raw {
        "mail" => Ok(DeliveryKind::Mail),
        "logout" | "backchannel-logout" => Ok(DeliveryKind::BackchannelLogout),
        _ => Err(Failure::Usage(format!("--queue: mail or logout, not {raw:?}"))),
    }
}

pub async fn run(cmd: DeliveriesCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let accounts = backend.core.accounts();
    let refused = |e: latchkey_core::ports::RepoError| Failure::Refused(e.to_string());
    match cmd {
        DeliveriesCommand::List { queue: raw, limit } => {
            let (recent, counts) = accounts
                .deliveries(&admin, queue(&raw)?, limit.clamp(1, 1000))
                .await
                .map_err(refused)?;
            if json {
                let items: Vec<_> = recent
                    .iter()
                    .map(|d| {
                        json!({
                            "summary": d.summary,
                            "recipient": d.recipient,
                            "status": d.status,
                            "attempts": d.attempts,
                            "last_error": d.last_error,
                            "created_at": d.created_at.rfc3339(),
                        })
                    })
                    .collect();
                let counts: serde_json::Map<String, serde_json::Value> =
                    counts.into_iter().map(|(s, n)| (s, n.into())).collect();
                print_json(&json!({ "deliveries": items, "counts": counts }));
            } else {
                for (status, n) in &counts {
                    println!("{status}: {n}");
                }
                for d in &recent {
                    println!(
                        "{}  {}  {}  {} attempts  {}  {}",
                        d.created_at.rfc3339(),
                        d.status,
                        d.recipient,
                        d.attempts,
                        d.summary,
                        d.last_error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        DeliveriesCommand::Retry { queue: raw } => {
            let n = accounts.retry_deliveries(&admin, queue(&raw)?).await.map_err(refused)?;
            if json {
                print_json(&json!({ "retried": n }));
            } else {
                println!("{n} waiting deliveries will be tried again within a minute.");
            }
        }
    }
    Ok(())
}

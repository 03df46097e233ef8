//! `latchkey keys rotate`.

use clap::Subcommand;
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Introduce the next signing key for every algorithm: published now, signing in ten
    /// minutes; the keys it replaces stay published until their tokens have expired.
    Rotate,
}

pub async fn run(cmd: KeysCommand, config: Config, json: bool) -> Result<(), Failure> {
    match cmd {
        KeysCommand::Rotate => {
            let backend = Backend::open_for_cli(&config)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let created = backend
                .core
                .oidc()
                .rotate_signing_keys(&backend.site_admin())
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let keys: Vec<_> = created
                    .iter()
                    .map(|(kid, alg)| json!({"kid": kid, "alg": alg.as_str()}))
                    .collect();
                print_json(
                    &json!({ "keys": keys, "signing_from_secs": latchkey_core::oidc_provider::PUBLISH_AHEAD_SECS }),
                );
            } else {
                for (kid, alg) in &created {
                    println!(
                        "new {} key {kid}: published now, signing in ten minutes",
                        alg.as_str()
                    );
                }
            }
        }
    }
    Ok(())
}

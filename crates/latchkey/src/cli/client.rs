//! `latchkey client create|list`: register products (OAuth clients).

// Doc comments here are `--help` text for operators, not rustdoc.
#![allow(clippy::doc_markdown)]

use clap::Subcommand;
use latchkey_core::oidc_provider::{
    AuthMethod, Client, ClientKeys, GrantType, NewClientRequest, RegisterClientError,
};
use latchkey_protocol::jose::SigningAlg;
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

// Parsed once per process; boxing the big variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a product. Prints its client_id and, for confidential clients, the secret
    /// (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A public client (SPA, native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Allowed grant (repeat for several): authorization_code, refresh_token,
        /// client_credentials. Default: authorization_code and refresh_token.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Scope a client_credentials token may carry (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// A third-party product: people see a consent screen once per scope set.
        #[arg(long)]
        third_party: bool,
        /// Authenticate with private_key_jwt using the public JWK Set in this file
        /// (no secret is issued).
        #[arg(long, conflicts_with = "jwks_uri")]
        jwks_file: Option<std::path::PathBuf>,
        /// Authenticate with private_key_jwt using the JWK Set published at this URL.
        #[arg(long)]
        jwks_uri: Option<String>,
    },
    /// List registered products.
    List,
    /// Import a product's own users (JSON Lines or CSV) with their password hashes.
    Import(crate::cli::legacy::ImportArgs),
    /// Set a product's rollout: legacy (imported only), upgrading (people upgrade at their next
    /// sign-in through Latchkey) or upgraded (every sign-in goes through Latchkey).
    Rollout {
        #[arg(long)]
        client: String,
        #[arg(long)]
        state: String,
    },
    /// The migration of a product's legacy users.
    #[command(subcommand)]
    Legacy(crate::cli::legacy::LegacyCommand),
}

fn register_failure(e: RegisterClientError) -> Failure {
    match e {
        RegisterClientError::Invalid(m) => Failure::Usage(m),
        RegisterClientError::Unexpected(e) => Failure::Refused(e.to_string()),
    }
}

/// `--grant` values; none means the authorization code flow with refresh tokens.
fn parse_grants(grants: &[String]) -> Result<Vec<GrantType>, Failure> {
    if grants.is_empty() {
        return Ok(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    }
    grants
        .iter()
        .map(|g| {
            GrantType::parse(g)
                .ok_or_else(|| Failure::Usage(format!("--grant: unknown grant type {g:?}")))
        })
        .collect()
}

pub async fn run(cmd: ClientCommand, config: Config, json: bool) -> Result<(), Failure> {
    match cmd {
        ClientCommand::Create {
            name,
            redirect_uris,
            public,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            grants,
            scopes,
            id_token_alg,
            third_party,
            jwks_file,
            jwks_uri,
        } => {
            let keys = match (jwks_file, jwks_uri) {
                (Some(path), _) => {
                    Some(ClientKeys::Inline(std::fs::read_to_string(&path).map_err(|e| {
                        Failure::Usage(format!("--jwks-file {}: {e}", path.display()))
                    })?))
                }
                (None, Some(uri)) => Some(ClientKeys::Uri(uri)),
                (None, None) => None,
            };
            let grant_types = parse_grants(&grants)?;
            let id_token_alg = SigningAlg::parse(&id_token_alg).ok_or_else(|| {
                Failure::Usage("--id-token-alg: use RS256, ES256 or EdDSA".into())
            })?;
            let request = NewClientRequest {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                grant_types,
                public,
                keys,
                scopes,
                id_token_alg,
                first_party: !third_party,
            };
            let backend = Backend::open_for_cli(&config)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let registered = backend
                .core
                .oidc()
                .register_client(&backend.site_admin(), request)
                .await
                .map_err(register_failure)?;
            let secret = registered.secret.as_ref().map(|s| s.expose().to_owned());
            if json {
                let mut doc = serde_json::to_value(registered.client.summary())
                    .map_err(|e| Failure::Refused(e.to_string()))?;
                doc["client_secret"] = secret.into();
                print_json(&doc);
            } else {
                println!("Registered {} ({})", registered.client.name, registered.client.id);
                println!("client_id:     {}", registered.client.id);
                match (secret, registered.client.auth_method()) {
                    (Some(s), _) => println!("client_secret: {s}\n(shown once: store it now)"),
                    (None, AuthMethod::PrivateKeyJwt) => {
                        println!("authentication: private_key_jwt (no secret)");
                    }
                    (None, _) => println!("public client: no secret; PKCE (S256) is required"),
                }
                println!("discovery:     {}/.well-known/openid-configuration", config.public_url);
            }
        }
        ClientCommand::Import(args) => return crate::cli::legacy::import(args, config, json).await,
        ClientCommand::Rollout { client, state } => {
            return crate::cli::legacy::rollout(&client, &state, config, json).await;
        }
        ClientCommand::Legacy(cmd) => return crate::cli::legacy::run(cmd, config, json).await,
        ClientCommand::List => {
            let backend = Backend::open_for_cli(&config)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let clients = backend
                .core
                .oidc()
                .list_clients(&backend.site_admin())
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let clients: Vec<_> = clients.iter().map(Client::summary).collect();
                print_json(&json!({ "clients": clients }));
            } else {
                for c in &clients {
                    println!("{}  {}  {}", c.id, c.name, c.redirect_uris.join(" "));
                }
            }
        }
    }
    Ok(())
}

//! `latchkey client create|list|show|update|rotate-secret|disable|enable|delete`: products
//! (OAuth clients) and their life cycle.

// Doc comments here are `--help` text for operators, not rustdoc.
#![allow(clippy::doc_markdown)]

use clap::Subcommand;
use latchkey_core::oidc_provider::{
    AuthMethod, Client, ClientChanges, ClientKeys, GrantType, ManageClientError, NewClientRequest,
    RegisterClientError,
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
        /// An https image shown beside the product's name.
        #[arg(long)]
        logo_uri: Option<String>,
    },
    /// List registered products.
    List,
    #[command(flatten)]
    Manage(ManageCommand),
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

/// A product's life cycle after registration.
#[derive(Debug, Subcommand)]
pub enum ManageCommand {
    /// One product's settings and what deleting it would end.
    Show {
        /// Its client ID.
        #[arg(long)]
        client: String,
    },
    /// Change a product's settings; only what is given changes. A list given replaces the
    /// whole list.
    Update(UpdateArgs),
    /// Issue a new client secret (shown once); the old one stops working at once.
    RotateSecret {
        #[arg(long)]
        client: String,
    },
    /// Disable a product: nobody signs in to it, its secret is refused and its tokens are
    /// inactive until it is enabled again.
    Disable {
        #[arg(long)]
        client: String,
    },
    /// Enable a disabled product again.
    Enable {
        #[arg(long)]
        client: String,
    },
    /// Delete a product with its sign-ins (grants), refresh tokens, consents and legacy users.
    Delete {
        #[arg(long)]
        client: String,
    },
}

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "command-line switches")]
pub struct UpdateArgs {
    #[arg(long)]
    client: String,
    #[arg(long)]
    name: Option<String>,
    /// Exact redirect URI (repeat for several; replaces the list).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Replaces the post-logout redirect URIs (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Remove every post-logout redirect URI.
    #[arg(long, conflicts_with = "post_logout_redirect_uris")]
    no_post_logout_redirect_uris: bool,
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// Remove the back-channel logout URI.
    #[arg(long, conflicts_with = "backchannel_logout_uri")]
    no_backchannel_logout: bool,
    /// An https image shown beside the product's name.
    #[arg(long)]
    logo_uri: Option<String>,
    #[arg(long, conflicts_with = "logo_uri")]
    no_logo: bool,
    /// People see a consent screen (third party) or not (first party).
    #[arg(long, conflicts_with = "first_party")]
    third_party: bool,
    #[arg(long)]
    first_party: bool,
    /// A scope a client_credentials token may carry (repeat; replaces the list).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    #[arg(long, conflicts_with = "scopes")]
    no_scopes: bool,
}

impl UpdateArgs {
    fn changes(self) -> ClientChanges {
        let list = |items: Vec<String>, clear: bool| (clear || !items.is_empty()).then_some(items);
        ClientChanges {
            name: self.name,
            redirect_uris: list(self.redirect_uris, false),
            post_logout_redirect_uris: list(
                self.post_logout_redirect_uris,
                self.no_post_logout_redirect_uris,
            ),
            backchannel_logout_uri: if self.no_backchannel_logout {
                Some(None)
            } else {
                self.backchannel_logout_uri.map(Some)
            },
            logo_uri: if self.no_logo { Some(None) } else { self.logo_uri.map(Some) },
            first_party: match (self.first_party, self.third_party) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            scopes: list(self.scopes, self.no_scopes),
        }
    }
}

fn manage_failure(e: ManageClientError) -> Failure {
    match e {
        ManageClientError::NotFound => {
            Failure::Refused("no such product (see latchkey client list)".into())
        }
        ManageClientError::Invalid(m) => Failure::Usage(m),
        ManageClientError::Unexpected(e) => Failure::Refused(e.to_string()),
    }
}

fn print_client(c: &Client, json: bool) -> Result<(), Failure> {
    if json {
        print_json(
            &serde_json::to_value(c.summary()).map_err(|e| Failure::Refused(e.to_string()))?,
        );
    } else {
        println!("{} ({})", c.name, c.id);
        println!("kind:          {}", c.kind_words());
        println!("enabled:       {}", if c.disabled_at.is_none() { "yes" } else { "no" });
        println!("first party:   {}", if c.first_party { "yes" } else { "no (consent screen)" });
        println!("redirect URIs: {}", c.redirect_uris.join(" "));
        if !c.post_logout_redirect_uris.is_empty() {
            println!("post-logout:   {}", c.post_logout_redirect_uris.join(" "));
        }
        if let Some(u) = &c.backchannel_logout_uri {
            println!("back-channel:  {u}");
        }
        if let Some(u) = &c.logo_uri {
            println!("logo:          {u}");
        }
        if !c.scopes.is_empty() {
            println!("scopes:        {}", c.scopes.join(" "));
        }
    }
    Ok(())
}

/// The life-cycle commands after registration.
async fn manage(cmd: ManageCommand, config: &Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let oidc = backend.core.oidc();
    let cmd_enable = matches!(cmd, ManageCommand::Enable { .. });
    match cmd {
        ManageCommand::Show { client } => {
            let found = oidc
                .client_for_admin(&admin, &client)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?
                .ok_or_else(|| manage_failure(ManageClientError::NotFound))?;
            let usage = oidc
                .client_usage(&admin, &client)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let mut doc = serde_json::to_value(found.summary())
                    .map_err(|e| Failure::Refused(e.to_string()))?;
                doc["usage"] = serde_json::to_value(usage).unwrap_or_default();
                print_json(&doc);
            } else {
                print_client(&found, false)?;
                println!(
                    "in use:        {} people signed in, {} consents, {} basic-auth bindings, {} legacy users",
                    usage.signed_in_people,
                    usage.consents,
                    usage.basic_auth_bindings,
                    usage.legacy_records
                );
            }
        }
        ManageCommand::Update(args) => {
            let client_id = args.client.clone();
            let updated = oidc
                .update_client(&admin, &client_id, args.changes())
                .await
                .map_err(manage_failure)?;
            print_client(&updated, json)?;
        }
        ManageCommand::RotateSecret { client } => {
            let (found, secret) =
                oidc.rotate_client_secret(&admin, &client).await.map_err(manage_failure)?;
            if json {
                print_json(&json!({ "client_id": found.id, "client_secret": secret.expose() }));
            } else {
                println!("New secret for {} ({})", found.name, found.id);
                println!(
                    "client_secret: {}\n(shown once: store it now; the old secret no longer works)",
                    secret.expose()
                );
            }
        }
        ManageCommand::Disable { client } | ManageCommand::Enable { client } => {
            let enable = cmd_enable;
            let changed =
                oidc.set_client_enabled(&admin, &client, enable).await.map_err(manage_failure)?;
            let state = if enable { "enabled" } else { "disabled" };
            if json {
                print_json(&json!({ "client_id": client, "enabled": enable, "changed": changed }));
            } else if changed {
                println!("{client} is {state}");
            } else {
                println!("{client} was already {state}");
            }
        }
        ManageCommand::Delete { client } => {
            let usage = oidc.delete_client(&admin, &client).await.map_err(manage_failure)?;
            if json {
                print_json(&json!({ "deleted": client, "ended": usage }));
            } else {
                println!(
                    "Deleted {client}: ended {} people's sign-ins, {} consents, {} basic-auth bindings, {} legacy users",
                    usage.signed_in_people,
                    usage.consents,
                    usage.basic_auth_bindings,
                    usage.legacy_records
                );
            }
        }
    }
    Ok(())
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
            logo_uri,
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
                logo_uri,
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
        ClientCommand::Manage(cmd) => return manage(cmd, &config, json).await,
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

//! `latchkey org saml …`: an organization's SAML connections.

use clap::Subcommand;
use latchkey_core::Core;
use latchkey_core::flows::SiteAdmin;
use latchkey_core::saml_sp::{ConnectionRequest, IdpSource, Preset, SamlConnection, SamlError};
use serde_json::json;

use crate::cli::{Failure, print_json};

#[derive(Debug, Subcommand)]
pub enum SamlCommand {
    /// Connect the organization's identity provider, bound to some of its verified domains.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// A verified domain of the organization (repeat for more).
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// The IdP's metadata XML, from a file.
        #[arg(long, conflicts_with = "metadata_url", required_unless_present = "metadata_url")]
        metadata_file: Option<std::path::PathBuf>,
        /// The IdP's metadata, fetched from an https URL.
        #[arg(long)]
        metadata_url: Option<String>,
        /// okta, entra-id, google-workspace, onelogin, adfs, keycloak or custom.
        #[arg(long, default_value = "custom")]
        preset: String,
        /// Accept sign-ins the IdP starts (off by default).
        #[arg(long)]
        allow_idp_initiated: bool,
        /// Create the managed account at a person's first sign-in.
        #[arg(long)]
        jit: bool,
        /// Accept RSA-SHA1 signatures (refused unless set).
        #[arg(long)]
        allow_sha1: bool,
        /// Sign our AuthnRequests with the connection's key (its certificate is in our
        /// metadata).
        #[arg(long)]
        sign_requests: bool,
        /// Sign-ins started at the IdP land on this product (client ID) instead of the account
        /// page.
        #[arg(long)]
        landing_client: Option<String>,
    },
    /// Change a connection: only what is given changes (`--jit=false` turns a switch off).
    Update(Box<UpdateArgs>),
    /// The organization's connections.
    List {
        #[arg(long)]
        org: String,
    },
    /// One connection: the IdP, our entity ID, ACS and metadata URLs, certificates.
    Show {
        #[arg(long)]
        org: String,
        #[arg(long)]
        connection: String,
    },
    /// Remove a connection (its people sign in with passwords again).
    Remove {
        #[arg(long)]
        org: String,
        #[arg(long)]
        connection: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[arg(long)]
    org: String,
    #[arg(long)]
    connection: String,
    #[arg(long)]
    name: Option<String>,
    /// The verified domains it answers for (repeat; replaces the list).
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// New IdP metadata: replaces its entity ID, SSO URL and certificates.
    #[arg(long, conflicts_with = "metadata_url")]
    metadata_file: Option<std::path::PathBuf>,
    #[arg(long)]
    metadata_url: Option<String>,
    /// Trust another IdP certificate too (PEM file; repeat), e.g. its next one.
    #[arg(long = "add-certificate")]
    add_certificates: Vec<std::path::PathBuf>,
    /// Stop trusting a certificate, by its SHA-256 fingerprint as `show` prints it (repeat).
    #[arg(long = "remove-certificate")]
    remove_certificates: Vec<String>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    jit: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    allow_idp_initiated: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    allow_sha1: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    sign_requests: Option<bool>,
    /// The product IdP-initiated sign-ins land on (client ID); "" for the account page.
    #[arg(long)]
    landing_client: Option<String>,
    /// The attribute carrying the email; "" reads the NameID.
    #[arg(long)]
    email_attribute: Option<String>,
    #[arg(long)]
    given_name_attribute: Option<String>,
    #[arg(long)]
    family_name_attribute: Option<String>,
    #[arg(long)]
    display_name_attribute: Option<String>,
    #[arg(long)]
    groups_attribute: Option<String>,
}

/// `Some("")` clears an attribute name, `None` keeps it.
fn attribute(given: Option<String>, current: Option<String>) -> Option<String> {
    match given {
        Some(raw) if raw.trim().is_empty() => None,
        Some(raw) => Some(raw.trim().to_owned()),
        None => current,
    }
}

async fn update(
    core: &Core,
    admin: &latchkey_core::orgs::OrgAdmin,
    args: UpdateArgs,
) -> Result<SamlConnection, Failure> {
    let saml = core.saml();
    let c = saml.connection(admin, &args.connection).await.map_err(refused)?;
    let source = match (args.metadata_file, args.metadata_url) {
        (Some(path), _) => IdpSource::Metadata(
            std::fs::read_to_string(&path)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?,
        ),
        (None, Some(url)) => IdpSource::MetadataUrl(url),
        (None, None) => {
            let removed: Vec<String> = args
                .remove_certificates
                .iter()
                .map(|f| f.replace(':', "").to_uppercase())
                .collect();
            let mut certificates: Vec<String> = c
                .certificates
                .iter()
                .filter(|cert| !removed.contains(&cert.info().fingerprint.replace(':', "")))
                .map(latchkey_protocol::saml::signature::Certificate::to_base64)
                .collect();
            for path in &args.add_certificates {
                certificates.push(
                    std::fs::read_to_string(path)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?,
                );
            }
            IdpSource::Manual {
                entity_id: c.idp_entity_id.clone(),
                sso_url: c.sso_url.clone(),
                certificates,
            }
        }
    };
    let m = c.mapping.clone();
    let request = ConnectionRequest {
        name: args.name.unwrap_or_else(|| c.name.clone()),
        preset: c.preset,
        source,
        domains: if args.domains.is_empty() {
            c.domains.iter().map(|d| d.as_str().to_owned()).collect()
        } else {
            args.domains
        },
        jit: args.jit.unwrap_or(c.jit),
        allow_idp_initiated: args.allow_idp_initiated.unwrap_or(c.allow_idp_initiated),
        allow_sha1: args.allow_sha1.unwrap_or(c.allow_sha1),
        sign_requests: args.sign_requests.unwrap_or(c.sign_requests),
        landing_client: args.landing_client.or(c.landing_client.clone()),
        mapping: Some(latchkey_core::saml_sp::AttributeMapping {
            email: attribute(args.email_attribute, m.email),
            given_name: attribute(args.given_name_attribute, m.given_name),
            family_name: attribute(args.family_name_attribute, m.family_name),
            display_name: attribute(args.display_name_attribute, m.display_name),
            groups: attribute(args.groups_attribute, m.groups),
        }),
    };
    saml.update_connection(admin, &c.id, request).await.map_err(refused)
}

fn refused(e: SamlError) -> Failure {
    match e {
        SamlError::Invalid(_) => Failure::Usage(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn describe(core: &Core, c: &SamlConnection) -> serde_json::Value {
    core.saml().describe(c)
}

fn print_connection(core: &Core, c: &SamlConnection, json: bool) {
    let doc = describe(core, c);
    if json {
        print_json(&doc);
        return;
    }
    println!("{} ({}) for {}", c.name, c.id, doc["domains"]);
    println!("  IdP entity ID: {}", c.idp_entity_id);
    println!("  IdP SSO URL:   {}", c.sso_url);
    println!(
        "  Give your IdP: entity ID / metadata {}",
        doc["entity_id"].as_str().unwrap_or_default()
    );
    println!(
        "                 ACS (HTTP-POST)      {}",
        doc["acs_url"].as_str().unwrap_or_default()
    );
    for cert in doc["certificates"].as_array().into_iter().flatten() {
        println!("  certificate {} (sha256 {})", cert["subject"], cert["sha256"]);
    }
    if let Some(sha) = doc["sp_certificate"]["sha256"].as_str() {
        let signed = if c.sign_requests { "signed" } else { "not signed" };
        println!("  our certificate: sha256 {sha} (requests {signed})");
    }
    println!(
        "  new people: {}; IdP-initiated: {}",
        if c.jit { "created at first sign-in" } else { "need an account" },
        match (c.allow_idp_initiated, &c.landing_client) {
            (false, _) => "refused".to_owned(),
            (true, Some(client)) => format!("lands on product {client}"),
            (true, None) => "lands on /account".to_owned(),
        }
    );
    let expiring = core.saml().expiring(c);
    for (subject, _) in &expiring {
        println!(
            "  WARNING: the certificate {subject} expires within 30 days; add the IdP's new one"
        );
    }
}

pub async fn run(
    core: &Core,
    site: &SiteAdmin,
    cmd: SamlCommand,
    json: bool,
) -> Result<(), Failure> {
    let admin_for = async |org: &str| {
        core.orgs()
            .org_admin_by_id_or_name(site, org)
            .await
            .map_err(|e| Failure::Refused(e.to_string()))
    };
    let saml = core.saml();
    match cmd {
        SamlCommand::Add {
            org,
            name,
            domains,
            metadata_file,
            metadata_url,
            preset,
            allow_idp_initiated,
            jit,
            allow_sha1,
            sign_requests,
            landing_client,
        } => {
            let admin = admin_for(&org).await?;
            let preset = Preset::parse(&preset)
                .ok_or_else(|| Failure::Usage(format!("unknown --preset {preset:?}")))?;
            let source = match (metadata_file, metadata_url) {
                (Some(path), _) => IdpSource::Metadata(
                    std::fs::read_to_string(&path)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?,
                ),
                (None, Some(url)) => IdpSource::MetadataUrl(url),
                (None, None) => {
                    return Err(Failure::Usage("--metadata-file or --metadata-url".to_owned()));
                }
            };
            let request = ConnectionRequest {
                name,
                preset,
                source,
                domains,
                jit,
                allow_idp_initiated,
                allow_sha1,
                sign_requests,
                landing_client,
                mapping: None,
            };
            let connection = saml.add_connection(&admin, request).await.map_err(refused)?;
            print_connection(core, &connection, json);
        }
        SamlCommand::Update(args) => {
            let admin = admin_for(&args.org).await?;
            let connection = update(core, &admin, *args).await?;
            print_connection(core, &connection, json);
        }
        SamlCommand::List { org } => {
            let admin = admin_for(&org).await?;
            let list =
                saml.list_connections(&admin).await.map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let items: Vec<_> = list.iter().map(|c| describe(core, c)).collect();
                print_json(&json!({ "connections": items }));
            } else if list.is_empty() {
                println!("No SAML connections.");
            } else {
                for c in &list {
                    let domains: Vec<&str> =
                        c.domains.iter().map(latchkey_core::orgs::Domain::as_str).collect();
                    println!("{}  {}  {}  {}", c.id, c.name, c.preset.as_str(), domains.join(","));
                }
            }
        }
        SamlCommand::Show { org, connection } => {
            let admin = admin_for(&org).await?;
            let c = saml.connection(&admin, &connection).await.map_err(refused)?;
            print_connection(core, &c, json);
        }
        SamlCommand::Remove { org, connection } => {
            let admin = admin_for(&org).await?;
            saml.remove_connection(&admin, &connection).await.map_err(refused)?;
            if json {
                print_json(&json!({ "connection_id": connection, "removed": true }));
            } else {
                println!("Removed SAML connection {connection}.");
            }
        }
    }
    Ok(())
}

//! `latchkey org …`: organizations, their admins and domains (see `shared/CONTRACT.md`).

use std::sync::Arc;

use clap::Subcommand;
use latchkey_core::accounts::Email;
use latchkey_core::flows::SiteAdmin;
use latchkey_core::orgs::{DomainCheck, OrgDomain, OrgError};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;
use crate::platform::SystemClock;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with its first admin (an existing account).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin: String,
    },
    /// List organizations.
    List,
    /// Manage an organization's admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Claim and verify domains.
    #[command(subcommand)]
    Domain(DomainCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make an existing account an admin of the organization.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a domain; prints the TXT record to publish on it.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
    },
    /// Look for the TXT record now.
    Verify {
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
    },
    /// List the organization's domains.
    List {
        #[arg(long)]
        org: String,
    },
}

fn refused(e: OrgError) -> Failure {
    match e {
        OrgError::BadName | OrgError::BadDomain(_) => Failure::Usage(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn email(raw: &str, flag: &str) -> Result<Email, Failure> {
    Email::parse(raw).map_err(|e| Failure::Usage(format!("{flag}: {e}")))
}

pub async fn run(cmd: OrgCommand, config: Config, json: bool) -> Result<(), Failure> {
    let site = SiteAdmin::local_operator();
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let core = &backend.core;
    match cmd {
        OrgCommand::Create { name, admin } => {
            let admin = email(&admin, "--admin")?;
            let org = core.create_organization(&site, &name, &admin).await.map_err(refused)?;
            if json {
                print_json(&json!({ "org_id": org.id, "name": org.name }));
            } else {
                println!("Created {} ({}); {admin} administers it.", org.name, org.id);
            }
        }
        OrgCommand::List => {
            let orgs = core
                .list_organizations(&site)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                let items: Vec<_> =
                    orgs.iter().map(|o| json!({ "org_id": o.id, "name": o.name })).collect();
                print_json(&json!({ "organizations": items }));
            } else {
                for o in &orgs {
                    println!("{}  {}", o.id, o.name);
                }
            }
        }
        OrgCommand::Admin(AdminCommand::Add { org, email: who }) => {
            let who = email(&who, "--email")?;
            let admin = core.org_admin_as_site_admin(&site, &org).await.map_err(refused)?;
            let added = core.add_org_admin(&admin, &who).await.map_err(refused)?;
            if json {
                print_json(&json!({ "org_id": org, "email": who.as_str(), "added": added }));
            } else if added {
                println!("{who} now administers {}.", admin.org.name);
            } else {
                println!("{who} already administers {}.", admin.org.name);
            }
        }
        OrgCommand::Domain(DomainCommand::Add { org, domain }) => {
            let admin = core.org_admin_as_site_admin(&site, &org).await.map_err(refused)?;
            let added = core.add_domain(&admin, &domain).await.map_err(refused)?;
            if json {
                print_json(&added.to_json());
            } else {
                println!(
                    "Publish this TXT record on {} (the domain itself, not a subdomain):\n  {}\n\
                     then run: latchkey org domain verify --org {org} --domain {}",
                    added.domain,
                    added.txt_record(),
                    added.domain
                );
            }
        }
        OrgCommand::Domain(DomainCommand::Verify { org, domain }) => {
            let admin = core.org_admin_as_site_admin(&site, &org).await.map_err(refused)?;
            let DomainCheck { domain, detail } =
                core.verify_domain(&admin, &domain).await.map_err(refused)?;
            if json {
                let mut doc = domain.to_json();
                doc["detail"] = detail.into();
                print_json(&doc);
            } else {
                println!("{}: {} ({detail})", domain.domain, domain.status.as_str());
            }
        }
        OrgCommand::Domain(DomainCommand::List { org }) => {
            let admin = core.org_admin_as_site_admin(&site, &org).await.map_err(refused)?;
            let domains =
                core.list_domains(&admin).await.map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                print_json(
                    &json!({ "domains": domains.iter().map(OrgDomain::to_json).collect::<Vec<_>>() }),
                );
            } else {
                for d in &domains {
                    println!("{}  {}  {}", d.domain, d.status.as_str(), d.txt_record());
                }
            }
        }
    }
    Ok(())
}

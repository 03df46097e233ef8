//! `latchkey org …`: organizations, their admins and domains (see `shared/CONTRACT.md`).

use clap::Subcommand;
use latchkey_core::Core;
use latchkey_core::accounts::Email;
use latchkey_core::clock::Timestamp;
use latchkey_core::flows::SiteAdmin;
use latchkey_core::orgs::{
    DomainCheck, ManagedAccount, ManagedAction, ManagedActionError, OrgDomain, OrgError,
};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

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
    /// Delete an organization: its bots are deactivated, its admins, domains, policies and
    /// SAML connections deleted; people's accounts stay, no longer managed.
    Delete {
        #[arg(long)]
        org: String,
    },
    /// Manage an organization's admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Claim and verify domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// The accounts the organization manages, and what its admins can do to them.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Authentication policies: password rules, required two-step, session limits.
    #[command(subcommand)]
    Policy(crate::cli::policy::OrgPolicyCommand),
    /// SAML single sign-on with the organization's identity provider.
    #[command(subcommand)]
    Saml(crate::cli::saml::SamlCommand),
}

/// Which organization and which of its managed accounts.
#[derive(Debug, clap::Args)]
pub struct Managed {
    #[arg(long)]
    org: String,
    #[arg(long)]
    email: String,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// List the managed accounts: status, two-step, last active, products used.
    List {
        #[arg(long)]
        org: String,
    },
    /// Deactivate: ends its sessions, refresh tokens and API tokens at once.
    Deactivate(Managed),
    /// Make a deactivated (or closed, not yet erased) account active again.
    Reactivate(Managed),
    /// Close: deactivated now, personal data erased after the grace period.
    Close(Managed),
    /// Email the person a password reset link.
    ResetPassword(Managed),
    /// Turn the account's two-step verification off (the person is told).
    ResetTwoFactor(Managed),
    /// Change the account's display name.
    Rename {
        #[command(flatten)]
        who: Managed,
        #[arg(long)]
        name: String,
    },
    /// Move the account to another address on the organization's verified domains.
    ChangeEmail {
        #[command(flatten)]
        who: Managed,
        #[arg(long)]
        new_email: String,
    },
}

/// What an `org account` command asks for.
enum AccountStep {
    List(String),
    Act(Managed, ManagedAction),
}

impl AccountCommand {
    fn step(self) -> Result<AccountStep, Failure> {
        let parse = |name: &str, value: &str| {
            ManagedAction::parse(name, value).map_err(|e| Failure::Usage(e.to_string()))
        };
        let (who, action) = match self {
            Self::List { org } => return Ok(AccountStep::List(org)),
            Self::Deactivate(who) => (who, ManagedAction::Deactivate),
            Self::Reactivate(who) => (who, ManagedAction::Reactivate),
            Self::Close(who) => (who, ManagedAction::Close),
            Self::ResetPassword(who) => (who, ManagedAction::SendPasswordReset),
            Self::ResetTwoFactor(who) => (who, ManagedAction::ResetTwoFactor),
            Self::Rename { who, name } => (who, parse("rename", &name)?),
            Self::ChangeEmail { who, new_email } => (who, parse("change-email", &new_email)?),
        };
        Ok(AccountStep::Act(who, action))
    }
}

async fn run_account(
    core: &Core,
    site: &SiteAdmin,
    cmd: AccountCommand,
    json: bool,
) -> Result<(), Failure> {
    let (who, action) = match cmd.step()? {
        AccountStep::Act(who, action) => (who, action),
        AccountStep::List(org) => return list_accounts(core, site, &org, json).await,
    };
    let target = email(&who.email, "--email")?;
    let admin = core.orgs().org_admin_by_id_or_name(site, &who.org).await.map_err(refused)?;
    let account = core.orgs().act_on_managed_account(&admin, &target, &action).await.map_err(
        |e| match e {
            ManagedActionError::BadValue(_) | ManagedActionError::UnknownAction(_) => {
                Failure::Usage(e.to_string())
            }
            other => Failure::Refused(other.to_string()),
        },
    )?;
    let summary =
        core.orgs().account_summary(&account).await.map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        print_json(&json!(summary));
    } else {
        println!("{}: {} done; the account is {}.", account.email, action.name(), summary.status);
    }
    Ok(())
}

async fn list_accounts(
    core: &Core,
    site: &SiteAdmin,
    org: &str,
    json: bool,
) -> Result<(), Failure> {
    let admin = core.orgs().org_admin_by_id_or_name(site, org).await.map_err(refused)?;
    let accounts = core
        .orgs()
        .managed_accounts(&admin, 10_000)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        let items: Vec<_> = accounts.iter().map(ManagedAccount::to_json).collect();
        print_json(&json!({ "accounts": items }));
        return Ok(());
    }
    for m in &accounts {
        println!(
            "{}  {}  two-step {}  last active {}  products: {}",
            m.account.email,
            m.account.status.as_str(),
            if m.two_factor { "on" } else { "off" },
            m.last_active_at.map_or_else(|| "never".to_owned(), Timestamp::rfc3339),
            if m.products.is_empty() { "none".to_owned() } else { m.products.join(", ") },
        );
    }
    Ok(())
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
    /// Remove an admin (never the last one).
    Remove {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a domain; prints the TXT record (or HTTPS file) to publish.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
    },
    /// Look for the proof (TXT record, then HTTPS file) now.
    Verify {
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
    },
    /// Remove a domain: its accounts are no longer managed; SAML connections stop serving it.
    Remove {
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

/// What an `org … remove` or `org delete` command takes away.
enum Removal {
    Admin { org: String, email: String },
    Domain { org: String, domain: String },
    Org { org: String },
}

async fn remove(core: &Core, site: &SiteAdmin, what: Removal, json: bool) -> Result<(), Failure> {
    match what {
        Removal::Admin { org, email: who } => {
            let who = email(&who, "--email")?;
            let admin = core.orgs().org_admin_by_id_or_name(site, &org).await.map_err(refused)?;
            core.orgs().remove_org_admin(&admin, &who).await.map_err(refused)?;
            if json {
                print_json(
                    &json!({ "org_id": admin.org().id, "email": who.as_str(), "removed": true }),
                );
            } else {
                println!("{who} no longer administers {}.", admin.org().name);
            }
        }
        Removal::Domain { org, domain } => {
            let admin = core.orgs().org_admin_by_id_or_name(site, &org).await.map_err(refused)?;
            let changed = core.orgs().remove_domain(&admin, &domain).await.map_err(refused)?;
            if json {
                print_json(
                    &json!({ "org_id": admin.org().id, "domain": domain, "changed": changed }),
                );
            } else {
                println!(
                    "Removed {domain} from {}: {} accounts are no longer managed.",
                    admin.org().name,
                    changed.managed_accounts
                );
            }
        }
        Removal::Org { org } => {
            let admin = core.orgs().org_admin_by_id_or_name(site, &org).await.map_err(refused)?;
            let id = admin.org().id.clone();
            let ended = core.orgs().delete_organization(site, &id).await.map_err(refused)?;
            if json {
                print_json(&json!({ "org_id": id, "ended": ended }));
            } else {
                println!(
                    "Deleted {} ({id}): {} admins, {} domains ({} accounts no longer managed), {} policies, {} SAML connections; {} bots deactivated.",
                    admin.org().name,
                    ended.admins,
                    ended.domains,
                    ended.managed_accounts,
                    ended.policies,
                    ended.saml_connections,
                    ended.bots
                );
            }
        }
    }
    Ok(())
}

async fn list_domains(core: &Core, site: &SiteAdmin, org: &str, json: bool) -> Result<(), Failure> {
    let admin = core.orgs().org_admin_by_id_or_name(site, org).await.map_err(refused)?;
    let domains =
        core.orgs().list_domains(&admin).await.map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        print_json(
            &json!({ "domains": domains.iter().map(OrgDomain::to_json).collect::<Vec<_>>() }),
        );
    } else {
        for d in &domains {
            println!("{}  {}  {}", d.domain, d.status.as_str(), d.txt_record());
        }
    }
    Ok(())
}

pub async fn run(cmd: OrgCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let core = &backend.core;
    let site = backend.site_admin();
    match cmd {
        OrgCommand::Create { name, admin } => {
            let admin = email(&admin, "--admin")?;
            let org =
                core.orgs().create_organization(&site, &name, &admin).await.map_err(refused)?;
            if json {
                print_json(&json!({ "org_id": org.id, "name": org.name }));
            } else {
                println!("Created {} ({}); {admin} administers it.", org.name, org.id);
            }
        }
        OrgCommand::List => {
            let orgs = core
                .orgs()
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
            let admin = core.orgs().org_admin_by_id_or_name(&site, &org).await.map_err(refused)?;
            let added = core.orgs().add_org_admin(&admin, &who).await.map_err(refused)?;
            if json {
                print_json(&json!({ "org_id": org, "email": who.as_str(), "added": added }));
            } else if added {
                println!("{who} now administers {}.", admin.org().name);
            } else {
                println!("{who} already administers {}.", admin.org().name);
            }
        }
        OrgCommand::Admin(AdminCommand::Remove { org, email: who }) => {
            remove(core, &site, Removal::Admin { org, email: who }, json).await?;
        }
        OrgCommand::Domain(DomainCommand::Remove { org, domain }) => {
            remove(core, &site, Removal::Domain { org, domain }, json).await?;
        }
        OrgCommand::Delete { org } => remove(core, &site, Removal::Org { org }, json).await?,
        OrgCommand::Domain(DomainCommand::Add { org, domain }) => {
            let admin = core.orgs().org_admin_by_id_or_name(&site, &org).await.map_err(refused)?;
            let added = core.orgs().add_domain(&admin, &domain).await.map_err(refused)?;
            if json {
                print_json(&added.to_json());
            } else {
                println!(
                    "Publish this TXT record on {} (the domain itself, not a subdomain):\n  {}\n\
                     or serve a text file holding {} at {}\n\
                     then run: latchkey org domain verify --org {org} --domain {}",
                    added.domain,
                    added.txt_record(),
                    added.token,
                    added.proof_url(),
                    added.domain
                );
            }
        }
        OrgCommand::Domain(DomainCommand::Verify { org, domain }) => {
            let admin = core.orgs().org_admin_by_id_or_name(&site, &org).await.map_err(refused)?;
            let DomainCheck { domain, detail } =
                core.orgs().verify_domain(&admin, &domain).await.map_err(refused)?;
            if json {
                let mut doc = domain.to_json();
                doc["detail"] = detail.into();
                print_json(&doc);
            } else {
                println!("{}: {} ({detail})", domain.domain, domain.status.as_str());
            }
        }
        OrgCommand::Account(cmd) => run_account(core, &site, cmd, json).await?,
        OrgCommand::Policy(cmd) => crate::cli::policy::run_org(core, &site, cmd, json).await?,
        OrgCommand::Saml(cmd) => crate::cli::saml::run(core, &site, cmd, json).await?,
        OrgCommand::Domain(DomainCommand::List { org }) => {
            list_domains(core, &site, &org, json).await?;
        }
    }
    Ok(())
}

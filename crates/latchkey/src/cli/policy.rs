//! `latchkey policy …` (the site default) and `latchkey org policy …` (an organization's
//! policies): list, show, create, update (with `--dry-run` for the preview) and assign.

use clap::Subcommand;
use latchkey_core::Core;
use latchkey_core::orgs::OrgAdmin;
use latchkey_core::policies::{
    PolicyChange, PolicyEditor, PolicyError, PolicySettings, PolicyView, Preview,
};
use serde_json::json;

use crate::cli::{Failure, print_json};

/// The settings a command may change; those left out keep their value (or the default, for
/// a new policy).
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Shortest password allowed, in characters (8-128).
    #[arg(long)]
    password_min_length: Option<u32>,
    /// Minimum zxcvbn score of a new password (0-4).
    #[arg(long)]
    password_min_strength: Option<u8>,
    /// A new password may not be one of the last N (0-24).
    #[arg(long)]
    password_history: Option<u32>,
    /// Days before a password must be replaced (0 = never).
    #[arg(long)]
    password_max_age_days: Option<u32>,
    /// Require two-step verification (`--require-two-step=false` to stop requiring it).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    require_two_step: Option<bool>,
    /// Days people may still sign in without two-step once it is required (0-90).
    #[arg(long)]
    two_step_grace_days: Option<u32>,
    /// Longest a sign-in lasts, in minutes (browser sessions and products' refresh tokens).
    #[arg(long)]
    session_max_minutes: Option<u32>,
    /// A sign-in unused this long ends, in minutes.
    #[arg(long)]
    session_idle_minutes: Option<u32>,
    /// Whether people and bots may create and use API tokens (on|off).
    #[arg(long, value_parser = on_off)]
    api_tokens: Option<bool>,
    /// Longest an API token lives, in days (1-3650); lowering it shortens existing tokens.
    #[arg(long)]
    api_token_max_days: Option<u32>,
    /// Whether products may verify passwords over basic auth (on|off); off in the site
    /// default turns it off everywhere.
    #[arg(long, value_parser = on_off)]
    password_basic_auth: Option<bool>,
    /// Members sign in through the organization's identity provider only
    /// (`--sso-required`, `--sso-required=false`).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    sso_required: Option<bool>,
}

/// `on` or `off` (also `true`/`false`, `yes`/`no`).
fn on_off(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("expected on or off, not {raw:?}")),
    }
}

impl SettingsArgs {
    fn apply(&self, base: PolicySettings) -> PolicySettings {
        PolicySettings {
            password_min_length: self.password_min_length.unwrap_or(base.password_min_length),
            password_min_strength: self.password_min_strength.unwrap_or(base.password_min_strength),
            password_history: self.password_history.unwrap_or(base.password_history),
            password_max_age_days: self.password_max_age_days.unwrap_or(base.password_max_age_days),
            require_two_step: self.require_two_step.unwrap_or(base.require_two_step),
            two_step_grace_days: self.two_step_grace_days.unwrap_or(base.two_step_grace_days),
            session_max_minutes: self.session_max_minutes.unwrap_or(base.session_max_minutes),
            session_idle_minutes: self.session_idle_minutes.unwrap_or(base.session_idle_minutes),
            api_tokens: self.api_tokens.unwrap_or(base.api_tokens),
            api_token_max_days: self.api_token_max_days.unwrap_or(base.api_token_max_days),
            password_basic_auth: self.password_basic_auth.unwrap_or(base.password_basic_auth),
            sso_required: self.sso_required.unwrap_or(base.sso_required),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Rename the policy.
    #[arg(long)]
    name: Option<String>,
    /// Everyone under the policy chooses a new password at their next sign-in.
    #[arg(long)]
    require_new_password: bool,
    /// Show what the change would do, and save nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `latchkey policy …`: the site default, for accounts no organization manages (and site admins).
#[derive(Debug, Subcommand)]
pub enum SitePolicyCommand {
    /// Show the site default policy.
    Show,
    /// Change the site default policy.
    Update(UpdateArgs),
}

/// `latchkey org policy …`.
#[derive(Debug, Subcommand)]
pub enum OrgPolicyCommand {
    /// The organization's policies and how many people each covers.
    List {
        #[arg(long)]
        org: String,
    },
    /// One policy (an id, or `default`).
    Show {
        #[arg(long)]
        org: String,
        #[arg(long)]
        policy: String,
    },
    /// Add a policy (starts from the site's built-in defaults).
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Change a policy (an id, or `default`).
    Update {
        #[arg(long)]
        org: String,
        #[arg(long)]
        policy: String,
        #[command(flatten)]
        update: UpdateArgs,
    },
    /// Put managed accounts under a policy (`default` puts them back under the default).
    Assign {
        #[arg(long)]
        org: String,
        #[arg(long)]
        policy: String,
        /// An address (repeatable).
        #[arg(long)]
        email: Vec<String>,
        /// A file with one address per line (blank lines and `#` comments are skipped).
        #[arg(long)]
        emails_file: Option<std::path::PathBuf>,
    },
}

fn refused(e: PolicyError) -> Failure {
    match e {
        PolicyError::Unexpected(_) => Failure::Refused(e.to_string()),
        PolicyError::Invalid(_) | PolicyError::BadName => Failure::Usage(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn print_view(view: &PolicyView, json: bool) {
    if json {
        print_json(&json!(view));
        return;
    }
    let s = &view.settings;
    println!(
        "{}  {}{}  ({} people)\n  passwords: at least {} characters, strength {}+, history {}, \
         max age {}\n  two-step: {}\n  sessions: at most {} min, idle {} min\n  api tokens: {} \
         (at most {} days), password basic auth: {}",
        view.policy_id,
        view.name,
        if view.is_default { " [default]" } else { "" },
        view.people,
        s.password_min_length,
        s.password_min_strength,
        s.password_history,
        if s.password_max_age_days == 0 {
            "never".to_owned()
        } else {
            format!("{} days", s.password_max_age_days)
        },
        if s.require_two_step {
            format!("required (grace {} days)", s.two_step_grace_days)
        } else {
            "optional".to_owned()
        },
        s.session_max_minutes,
        s.session_idle_minutes,
        if s.api_tokens { "on" } else { "off" },
        s.api_token_max_days,
        if s.password_basic_auth { "on" } else { "off" },
    );
}

fn print_preview(preview: &Preview) {
    println!(
        "This change covers {} people: {} will have to choose a new password at their next \
         sign-in, {} will have to set up two-step verification.",
        preview.people, preview.new_password, preview.enrol_two_step
    );
}

async fn update(
    core: &Core,
    editor: PolicyEditor<'_>,
    policy: &str,
    args: UpdateArgs,
    json: bool,
) -> Result<(), Failure> {
    let policies = core.policies();
    let current = policies.show(editor, policy).await.map_err(refused)?;
    let change = PolicyChange {
        name: args.name,
        settings: args.settings.apply(current.settings),
        require_new_password: args.require_new_password,
    };
    let preview = policies.preview(editor, policy, &change).await.map_err(refused)?;
    if args.dry_run {
        if json {
            print_json(&json!({ "dry_run": true, "preview": preview }));
        } else {
            print_preview(&preview);
        }
        return Ok(());
    }
    let view = policies.update(editor, policy, &change).await.map_err(refused)?;
    if json {
        let mut doc = json!(view);
        doc["preview"] = json!(preview);
        print_json(&doc);
    } else {
        print_preview(&preview);
        print_view(&view, false);
    }
    Ok(())
}

pub async fn run(
    cmd: SitePolicyCommand,
    config: crate::config::Config,
    json: bool,
) -> Result<(), Failure> {
    let backend = crate::app::Backend::open_for_cli(&config)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let site = backend.site_admin();
    run_site(&backend.core, &site, cmd, json).await
}

async fn run_site(
    core: &Core,
    site: &latchkey_core::flows::SiteAdmin,
    cmd: SitePolicyCommand,
    json: bool,
) -> Result<(), Failure> {
    let editor = PolicyEditor::Site(site);
    match cmd {
        SitePolicyCommand::Show => {
            let view = core.policies().show(editor, "default").await.map_err(refused)?;
            print_view(&view, json);
            Ok(())
        }
        SitePolicyCommand::Update(args) => update(core, editor, "default", args, json).await,
    }
}

fn read_emails(
    inline: Vec<String>,
    file: Option<&std::path::Path>,
) -> Result<Vec<String>, Failure> {
    let mut emails = inline;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("--emails-file {}: {e}", path.display())))?;
        emails.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split(',').next().unwrap_or_default().trim().to_owned()),
        );
    }
    if emails.is_empty() {
        return Err(Failure::Usage("give --email (repeatable) or --emails-file".into()));
    }
    if emails.len() > 100_000 {
        return Err(Failure::Usage("at most 100000 addresses at once".into()));
    }
    Ok(emails)
}

pub async fn run_org(
    core: &Core,
    site: &latchkey_core::flows::SiteAdmin,
    cmd: OrgPolicyCommand,
    json: bool,
) -> Result<(), Failure> {
    let admin_for = async |org: &str| -> Result<OrgAdmin, Failure> {
        core.orgs()
            .org_admin_by_id_or_name(site, org)
            .await
            .map_err(|e| Failure::Refused(e.to_string()))
    };
    let policies = core.policies();
    match cmd {
        OrgPolicyCommand::List { org } => {
            let admin = admin_for(&org).await?;
            let views = policies.list(PolicyEditor::Org(&admin)).await.map_err(refused)?;
            if json {
                print_json(&json!({ "policies": views }));
            } else {
                for v in &views {
                    print_view(v, false);
                }
            }
        }
        OrgPolicyCommand::Show { org, policy } => {
            let admin = admin_for(&org).await?;
            let view = policies.show(PolicyEditor::Org(&admin), &policy).await.map_err(refused)?;
            print_view(&view, json);
        }
        OrgPolicyCommand::Create { org, name, settings } => {
            let admin = admin_for(&org).await?;
            let settings = settings.apply(PolicySettings::default());
            let view = policies
                .create(PolicyEditor::Org(&admin), &name, settings)
                .await
                .map_err(refused)?;
            print_view(&view, json);
        }
        OrgPolicyCommand::Update { org, policy, update: args } => {
            let admin = admin_for(&org).await?;
            update(core, PolicyEditor::Org(&admin), &policy, args, json).await?;
        }
        OrgPolicyCommand::Assign { org, policy, email, emails_file } => {
            let emails = read_emails(email, emails_file.as_deref())?;
            let admin = admin_for(&org).await?;
            let report = policies.assign(&admin, &policy, &emails).await.map_err(refused)?;
            if json {
                print_json(&json!(report));
            } else {
                println!("{} accounts assigned.", report.assigned.len());
                for r in &report.refused {
                    println!("  {}: {}", r.email, r.reason);
                }
            }
            if report.assigned.is_empty() && !report.refused.is_empty() {
                return Err(Failure::Refused("no account was assigned".into()));
            }
        }
    }
    Ok(())
}

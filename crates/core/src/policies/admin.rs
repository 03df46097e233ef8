//! What admins do with policies: list, create, edit (with a preview of what the change does to
//! the people under it), and assign accounts. Org admins act on their organization's policies
//! and managed accounts; site admins on the site default. Every change is audit-logged with
//! the settings before and after.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Policies, Policy, PolicyId, PolicyScope, PolicySettings, Snapshot, TwoStep};
use crate::accounts::{Account, Email};
use crate::audit::{Actor, Outcome, Record};
use crate::authority::{OrgAdmin, SiteAdmin};
use crate::errors::{RepoError, Unexpected};
use crate::policies::model::InvalidSettings;

/// Who is editing, and so which policies they may touch.
#[derive(Debug, Clone, Copy)]
pub enum PolicyEditor<'a> {
    Site(&'a SiteAdmin),
    Org(&'a OrgAdmin),
}

impl PolicyEditor<'_> {
    fn scope(&self) -> PolicyScope {
        match self {
            Self::Site(_) => PolicyScope::Site,
            Self::Org(admin) => PolicyScope::Org(admin.org().id.clone()),
        }
    }

    fn actor(&self) -> Actor<'_> {
        match self {
            Self::Site(s) => Actor::Site(s),
            Self::Org(o) => Actor::Org(o),
        }
    }

    fn record(&self, event: &'static str) -> Record<'_> {
        let record = Record::new(event, self.actor());
        match self {
            Self::Site(_) => record,
            Self::Org(o) => record.in_org(&o.org().id),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("No such policy.")]
    NotFound,
    #[error("Give the policy a name of 1 to 80 characters.")]
    BadName,
    #[error("{0}")]
    Invalid(#[from] InvalidSettings),
    #[error("Only organizations add policies; the site has its default alone.")]
    SiteHasOnlyItsDefault,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for PolicyError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A policy as the consoles, CLI and API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyView {
    pub policy_id: String,
    pub name: String,
    pub is_default: bool,
    pub settings: PolicySettings,
    /// People under it now.
    pub people: usize,
    pub passwords_valid_after: Option<String>,
    pub updated_at: String,
}

/// An edit: new settings (and name), and whether everyone under the policy must choose a new
/// password at their next sign-in.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    pub name: Option<String>,
    pub settings: PolicySettings,
    pub require_new_password: bool,
}

/// What an edit would do to the people under the policy, before it is saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    pub people: usize,
    /// Will have to choose a new password at their next sign-in (who did not have to before).
    pub new_password: usize,
    /// Will have to set up two-step verification (at once or after the grace period).
    pub enrol_two_step: usize,
}

/// The outcome of assigning a list of addresses.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AssignReport {
    pub assigned: Vec<String>,
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub email: String,
    pub reason: &'static str,
}

fn valid_name(name: &str) -> Result<String, PolicyError> {
    let name = name.trim();
    let ok =
        !name.is_empty() && name.chars().count() <= 80 && !crate::text::has_hidden_or_control(name);
    if ok { Ok(name.to_owned()) } else { Err(PolicyError::BadName) }
}

impl Policies {
    /// Everyone in the scope: an organization's managed accounts, or every account the site
    /// default may cover (unmanaged ones and site admins).
    async fn people_in(
        &self,
        snap: &Snapshot,
        scope: &PolicyScope,
    ) -> Result<Vec<Account>, RepoError> {
        const PAGE: u32 = 500;
        let mut out = Vec::new();
        match scope {
            PolicyScope::Org(org) => {
                for (domain, owner) in &snap.domains {
                    if owner != org {
                        continue;
                    }
                    let mut offset = 0;
                    loop {
                        let page = self.accounts.list_by_email_domain(domain, PAGE, offset).await?;
                        let n = u32::try_from(page.len()).unwrap_or(u32::MAX);
                        out.extend(page.into_iter().filter(|a| !a.site_admin));
                        if n < PAGE {
                            break;
                        }
                        offset += PAGE;
                    }
                }
            }
            PolicyScope::Site => {
                let mut offset = 0;
                loop {
                    let page = self.accounts.list(PAGE, offset).await?;
                    let n = u32::try_from(page.len()).unwrap_or(u32::MAX);
                    out.extend(
                        page.into_iter()
                            .filter(|a| a.site_admin || snap.managing_org(&a.email).is_none()),
                    );
                    if n < PAGE {
                        break;
                    }
                    offset += PAGE;
                }
            }
        }
        Ok(out)
    }

    /// The scope's default policy, stored (created with the built-in settings on first use).
    async fn stored_default(&self, scope: &PolicyScope) -> Result<Arc<Policy>, RepoError> {
        let snap = self.snapshot().await?;
        let existing = match scope {
            PolicyScope::Site => snap.site.clone(),
            PolicyScope::Org(org) => snap.org_default(org),
        };
        if !existing.id.as_str().is_empty() {
            return Ok(existing);
        }
        let now = self.kernel.now();
        let mut policy = Policy::builtin(scope.clone(), now);
        policy.id = PolicyId::from_stored(self.kernel.new_id(now));
        self.repo.insert_policy(&policy).await?;
        let snap = self.reload().await?;
        Ok(match scope {
            PolicyScope::Site => snap.site.clone(),
            PolicyScope::Org(org) => snap.org_default(org),
        })
    }

    /// `default` or a policy id, within the editor's scope.
    async fn find_in_scope(
        &self,
        scope: &PolicyScope,
        reference: &str,
    ) -> Result<Arc<Policy>, PolicyError> {
        if reference == "default" {
            return Ok(self.stored_default(scope).await?);
        }
        let snap = self.snapshot().await?;
        snap.by_id
            .get(reference)
            .filter(|p| &p.scope == scope)
            .cloned()
            .ok_or(PolicyError::NotFound)
    }

    /// The scope's policies, default first, with how many people each covers.
    pub async fn list(&self, editor: PolicyEditor<'_>) -> Result<Vec<PolicyView>, PolicyError> {
        let scope = editor.scope();
        self.stored_default(&scope).await?;
        let snap = self.snapshot().await?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for person in self.people_in(&snap, &scope).await? {
            *counts.entry(snap.effective(&person).id.as_str().to_owned()).or_default() += 1;
        }
        let mut views: Vec<PolicyView> = snap
            .by_id
            .values()
            .filter(|p| p.scope == scope)
            .map(|p| view(p, counts.get(p.id.as_str()).copied().unwrap_or(0)))
            .collect();
        views.sort_by(|a, b| b.is_default.cmp(&a.is_default).then(a.name.cmp(&b.name)));
        Ok(views)
    }

    /// One policy of the scope (`default` or an id).
    pub async fn show(
        &self,
        editor: PolicyEditor<'_>,
        reference: &str,
    ) -> Result<PolicyView, PolicyError> {
        let id = self.find_in_scope(&editor.scope(), reference).await?.id.clone();
        self.list(editor)
            .await?
            .into_iter()
            .find(|v| v.policy_id == id.as_str())
            .ok_or(PolicyError::NotFound)
    }

    /// Adds a policy to an organization.
    pub async fn create(
        &self,
        editor: PolicyEditor<'_>,
        name: &str,
        settings: PolicySettings,
    ) -> Result<PolicyView, PolicyError> {
        let PolicyEditor::Org(_) = editor else { return Err(PolicyError::SiteHasOnlyItsDefault) };
        let name = valid_name(name)?;
        settings.validate()?;
        let now = self.kernel.now();
        let policy = Policy {
            id: PolicyId::from_stored(self.kernel.new_id(now)),
            scope: editor.scope(),
            is_default: false,
            name,
            settings,
            passwords_valid_after: None,
            two_step_since: settings.require_two_step.then_some(now),
            created_at: now,
            updated_at: now,
        };
        self.repo.insert_policy(&policy).await?;
        self.reload().await?;
        let record = editor
            .record("policy.created")
            .about(policy.name.clone())
            .details(serde_json::json!({ "policy": policy.id.as_str(), "settings": settings }));
        self.audit.record(record).await;
        Ok(view(&policy, 0))
    }

    /// What an edit would do, without saving it.
    pub async fn preview(
        &self,
        editor: PolicyEditor<'_>,
        reference: &str,
        change: &PolicyChange,
    ) -> Result<Preview, PolicyError> {
        let scope = editor.scope();
        let current = self.find_in_scope(&scope, reference).await?;
        change.settings.validate()?;
        let proposed = self.edited(&current, change);
        let snap = self.snapshot().await?;
        let now = self.kernel.now();
        let people: Vec<Account> = self
            .people_in(&snap, &scope)
            .await?
            .into_iter()
            .filter(|a| snap.effective(a).id == current.id)
            .collect();
        let ids: Vec<_> = people.iter().map(|a| a.id.clone()).collect();
        let with_factor = self.repo.accounts_with_second_factor(&ids).await?;
        let mut preview = Preview { people: people.len(), ..Preview::default() };
        for person in &people {
            // Asking everyone for a new password catches every password there is, including
            // one chosen in this very second.
            let renews = proposed.password_renewal(person, now).is_some()
                || (change.require_new_password && person.password_hash.is_some());
            if renews && current.password_renewal(person, now).is_none() {
                preview.new_password += 1;
            }
            let has = with_factor.contains(&person.id);
            if proposed.two_step(person, has, now) != TwoStep::NotRequired
                && current.two_step(person, has, now) == TwoStep::NotRequired
            {
                preview.enrol_two_step += 1;
            }
        }
        Ok(preview)
    }

    /// The policy as it would be after the change (at the injected time).
    fn edited(&self, current: &Policy, change: &PolicyChange) -> Policy {
        let now = self.kernel.now();
        let mut next = current.clone();
        if let Some(name) = &change.name {
            next.name.clone_from(name);
        }
        next.settings = change.settings;
        if change.require_new_password {
            next.passwords_valid_after = Some(now);
        }
        if change.settings.require_two_step && !current.settings.require_two_step {
            next.two_step_since = Some(now);
        }
        next.updated_at = now;
        next
    }

    /// Saves an edit; the change reaches every node within a few seconds.
    pub async fn update(
        &self,
        editor: PolicyEditor<'_>,
        reference: &str,
        change: &PolicyChange,
    ) -> Result<PolicyView, PolicyError> {
        let current = self.find_in_scope(&editor.scope(), reference).await?;
        change.settings.validate()?;
        if let Some(name) = &change.name {
            valid_name(name)?;
        }
        let mut next = self.edited(&current, change);
        if let Some(name) = &change.name {
            next.name = valid_name(name)?;
        }
        self.repo.update_policy(&next).await?;
        self.reload().await?;
        let record =
            editor.record("policy.updated").about(next.name.clone()).details(serde_json::json!({
                "policy": next.id.as_str(),
                "before": current.settings,
                "after": next.settings,
                "require_new_password": change.require_new_password,
            }));
        self.audit.record(record).await;
        self.show(editor, next.id.as_str()).await
    }

    /// Puts managed accounts under a policy of their organization (its default: back to it).
    /// Addresses the organization does not manage, and site admins, are refused one by one.
    pub async fn assign(
        &self,
        admin: &OrgAdmin,
        reference: &str,
        emails: &[String],
    ) -> Result<AssignReport, PolicyError> {
        let editor = PolicyEditor::Org(admin);
        let policy = self.find_in_scope(&editor.scope(), reference).await?;
        let snap = self.snapshot().await?;
        let org = admin.org().id.as_str();
        let mut report = AssignReport::default();
        for raw in emails.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let refuse = |reason| Refusal { email: raw.chars().take(254).collect(), reason };
            let Ok(email) = Email::parse(raw) else {
                report.refused.push(refuse("not an email address"));
                continue;
            };
            // Addresses outside the organization are refused alike, existing or not.
            if snap.managing_org(&email) != Some(org) {
                report.refused.push(refuse("not managed by this organization"));
                continue;
            }
            let Some(account) = self.accounts.find_by_email(&email).await? else {
                report.refused.push(refuse("no account has this address"));
                continue;
            };
            if account.site_admin {
                report.refused.push(refuse("site admins stay under the site policy"));
                let record = editor
                    .record("policy.assigned")
                    .outcome(Outcome::Refused)
                    .target(&account)
                    .details(serde_json::json!({ "reason": "site admin" }));
                self.audit.record(record).await;
                continue;
            }
            let to = (!policy.is_default).then_some(&policy.id);
            self.repo.assign_policy(&account.id, to).await?;
            let record =
                editor.record("policy.assigned").target(&account).details(serde_json::json!({
                    "from": snap.effective(&account).id.as_str(),
                    "to": policy.id.as_str(),
                }));
            self.audit.record(record).await;
            report.assigned.push(account.email.as_str().to_owned());
        }
        self.reload().await?;
        Ok(report)
    }
}

fn view(policy: &Policy, people: usize) -> PolicyView {
    PolicyView {
        policy_id: policy.id.as_str().to_owned(),
        name: policy.name.clone(),
        is_default: policy.is_default,
        settings: policy.settings,
        people,
        passwords_valid_after: policy.passwords_valid_after.map(crate::clock::Timestamp::rfc3339),
        updated_at: policy.updated_at.rfc3339(),
    }
}

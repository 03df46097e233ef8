//! The policy consoles: `/admin/org/<id>/policies` (an organization's policies: create, edit
//! with a preview before saving, assign accounts) and `/admin/policy` (the site default, for
//! site admins). Edits go through a preview: the first press shows what the change does to
//! the people under the policy, the second saves it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::policies::{
    PolicyChange, PolicyEditor, PolicyError, PolicySettings, PolicyView, Preview,
};
use serde::Deserialize;

use crate::error::{PageError, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, OrgConsole, PageQuery};
use crate::state::AppState;

/// Minutes in words: "30 days", "12 hours", "45 minutes".
fn duration(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if minutes.is_multiple_of(24 * 60) {
        plural(minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    /// The site console's navigation marks this section.
    section: &'static str,
    csrf: String,
    /// "Site default policy" or the organization's name.
    heading: String,
    /// Where forms post (`/admin/policy` or `/admin/org/<id>/policies`).
    base: String,
    back: String,
    /// Only organizations add policies and assign accounts.
    org: bool,
    notice: Option<String>,
    /// An error of the create or assign form.
    page_error: Option<String>,
    /// An error of the edit form.
    form_error: Option<String>,
    policies: Vec<PolicyView>,
    /// Each policy's session limits in words, in the order of `policies`.
    session_words: Vec<String>,
    editing: PolicyView,
    form: SettingsForm,
    preview: Option<Preview>,
}

/// The edit form as typed (numbers as text so a bad value comes back as it was typed).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    policy: String,
    name: String,
    password_min_length: String,
    password_min_strength: String,
    password_history: String,
    password_max_age_days: String,
    require_two_step: Option<String>,
    two_step_grace_days: String,
    session_max_minutes: String,
    session_idle_minutes: String,
    api_tokens: Option<String>,
    api_token_max_days: String,
    password_basic_auth: Option<String>,
    sso_required: Option<String>,
    require_new_password: Option<String>,
    /// Set by the preview's "Save" button.
    confirm: Option<String>,
}

impl SettingsForm {
    fn of(view: &PolicyView) -> Self {
        let s = &view.settings;
        Self {
            policy: view.policy_id.clone(),
            name: view.name.clone(),
            password_min_length: s.password_min_length.to_string(),
            password_min_strength: s.password_min_strength.to_string(),
            password_history: s.password_history.to_string(),
            password_max_age_days: s.password_max_age_days.to_string(),
            require_two_step: s.require_two_step.then(|| "on".to_owned()),
            two_step_grace_days: s.two_step_grace_days.to_string(),
            session_max_minutes: s.session_max_minutes.to_string(),
            session_idle_minutes: s.session_idle_minutes.to_string(),
            api_tokens: s.api_tokens.then(|| "on".to_owned()),
            api_token_max_days: s.api_token_max_days.to_string(),
            password_basic_auth: s.password_basic_auth.then(|| "on".to_owned()),
            sso_required: s.sso_required.then(|| "on".to_owned()),
            require_new_password: None,
            confirm: None,
        }
    }

    fn number<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, String> {
        raw.trim().parse().map_err(|_| format!("{what}: enter a whole number."))
    }

    fn change(&self) -> Result<PolicyChange, String> {
        let settings = PolicySettings {
            password_min_length: Self::number(&self.password_min_length, "Minimum length")?,
            password_min_strength: Self::number(&self.password_min_strength, "Minimum strength")?,
            password_history: Self::number(&self.password_history, "Password history")?,
            password_max_age_days: Self::number(&self.password_max_age_days, "Maximum age")?,
            require_two_step: self.require_two_step.is_some(),
            two_step_grace_days: Self::number(&self.two_step_grace_days, "Grace period")?,
            session_max_minutes: Self::number(&self.session_max_minutes, "Maximum session")?,
            session_idle_minutes: Self::number(&self.session_idle_minutes, "Idle timeout")?,
            api_tokens: self.api_tokens.is_some(),
            api_token_max_days: Self::number(&self.api_token_max_days, "API token lifetime")?,
            password_basic_auth: self.password_basic_auth.is_some(),
            sso_required: self.sso_required.is_some(),
        };
        settings.validate().map_err(|e| e.to_string())?;
        Ok(PolicyChange {
            name: Some(self.name.clone()).filter(|n| !n.trim().is_empty()),
            settings,
            require_new_password: self.require_new_password.is_some(),
        })
    }

    fn policy_ref(&self) -> &str {
        if self.policy.is_empty() { "default" } else { &self.policy }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PoliciesQuery {
    policy: Option<String>,
    notice: Option<String>,
    assigned: Option<usize>,
    refused: Option<usize>,
}

fn notice(q: &PoliciesQuery) -> Option<String> {
    match q.notice.as_deref()? {
        "saved" => {
            Some("The policy was saved. It applies on every node within a few seconds.".into())
        }
        "created" => {
            Some("The policy was created with the default settings; adjust it below.".into())
        }
        "assigned" => Some(format!(
            "{} accounts moved to the policy. {} addresses were refused (not managed by this organization, a site admin, or no account).",
            q.assigned.unwrap_or(0),
            q.refused.unwrap_or(0)
        )),
        _ => None,
    }
}

struct Scope {
    heading: String,
    base: String,
    back: String,
}

/// What the page shows besides the policies: the edit form as typed (with its preview or
/// error), a notice, or another form's error.
#[derive(Default)]
struct Shown {
    edit: Option<(SettingsForm, Option<Preview>, Option<String>)>,
    notice: Option<String>,
    page_error: Option<String>,
}

async fn render_page(
    state: &AppState,
    editor: PolicyEditor<'_>,
    scope: Scope,
    csrf: String,
    selected: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let Shown { edit, notice, page_error } = shown;
    let policies = state.core.policies();
    let list = policies.list(editor).await.map_err(unexpected)?;
    let editing = match list.iter().find(|p| p.policy_id == selected) {
        Some(v) => v.clone(),
        None => policies.show(editor, "default").await.map_err(unexpected)?,
    };
    let (form, preview, form_error) =
        edit.unwrap_or_else(|| (SettingsForm::of(&editing), None, None));
    let failed = form_error.is_some() || page_error.is_some();
    let session_words = list
        .iter()
        .map(|p| {
            let s = &p.settings;
            format!(
                "{}, idle {}",
                duration(s.session_max_minutes),
                duration(s.session_idle_minutes)
            )
        })
        .collect();
    let page = render(&PoliciesPage {
        section: "policy",
        csrf,
        heading: scope.heading,
        base: scope.base,
        back: scope.back,
        org: matches!(editor, PolicyEditor::Org(_)),
        notice,
        page_error,
        form_error,
        policies: list,
        session_words,
        editing,
        form,
        preview,
    });
    Ok(if failed { (StatusCode::BAD_REQUEST, page).into_response() } else { page })
}

fn unexpected(e: PolicyError) -> PageError {
    match e {
        PolicyError::Unexpected(u) => PageError::from(u),
        other => PageError::from(latchkey_core::errors::Unexpected::from(
            latchkey_core::errors::RepoError(other.to_string().into()),
        )),
    }
}

fn org_scope(admin: &latchkey_core::orgs::OrgAdmin) -> Scope {
    let id = &admin.org().id;
    Scope {
        heading: format!("{} · Authentication policies", admin.org().name),
        base: format!("/admin/org/{id}/policies"),
        back: format!("/admin/org/{id}"),
    }
}

fn site_scope() -> Scope {
    Scope {
        heading: "Site default policy".into(),
        base: "/admin/policy".into(),
        back: "/admin".into(),
    }
}

pub async fn org_show(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<PoliciesQuery>,
) -> Result<Response, PageError> {
    let selected = q.policy.clone().unwrap_or_default();
    let editor = PolicyEditor::Org(&admin);
    let shown = Shown { notice: notice(&q), ..Shown::default() };
    render_page(&state, editor, org_scope(&admin), csrf.0, &selected, shown).await
}

pub async fn site_show(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<PoliciesQuery>,
) -> Result<Response, PageError> {
    let editor = PolicyEditor::Site(console.admin());
    let shown = Shown { notice: notice(&q), ..Shown::default() };
    render_page(&state, editor, site_scope(), csrf.0, "", shown).await
}

/// Preview first; save on the preview's confirmation.
async fn edit(
    state: &AppState,
    editor: PolicyEditor<'_>,
    scope: Scope,
    csrf: String,
    form: SettingsForm,
) -> Result<Response, PageError> {
    let policies = state.core.policies();
    let reference = form.policy_ref().to_owned();
    let change = match form.change() {
        Ok(c) => c,
        Err(why) => {
            let shown = Shown { edit: Some((form, None, Some(why))), ..Shown::default() };
            return render_page(state, editor, scope, csrf, &reference, shown).await;
        }
    };
    let outcome = if form.confirm.is_some() {
        policies.update(editor, &reference, &change).await.map(|v| Err(v.policy_id))
    } else {
        policies.preview(editor, &reference, &change).await.map(Ok)
    };
    match outcome {
        Ok(Ok(preview)) => {
            let shown = Shown { edit: Some((form, Some(preview), None)), ..Shown::default() };
            render_page(state, editor, scope, csrf, &reference, shown).await
        }
        Ok(Err(saved)) => {
            Ok(Redirect::to(&format!("{}?policy={saved}&notice=saved", scope.base)).into_response())
        }
        Err(PolicyError::Unexpected(u)) => Err(PageError::from(u)),
        Err(e) => {
            let shown = Shown { edit: Some((form, None, Some(e.to_string()))), ..Shown::default() };
            render_page(state, editor, scope, csrf, &reference, shown).await
        }
    }
}

pub async fn org_edit(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    edit(&state, PolicyEditor::Org(&admin), org_scope(&admin), csrf.0, form).await
}

pub async fn site_edit(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    csrf: CsrfToken,
    CsrfForm(mut form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    form.policy = "default".into();
    edit(&state, PolicyEditor::Site(console.admin()), site_scope(), csrf.0, form).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    name: String,
}

pub async fn org_create(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<Response, PageError> {
    let editor = PolicyEditor::Org(&admin);
    match state.core.policies().create(editor, &form.name, PolicySettings::default()).await {
        Ok(view) => Ok(Redirect::to(&format!(
            "/admin/org/{}/policies?policy={}&notice=created",
            admin.org().id,
            view.policy_id
        ))
        .into_response()),
        Err(PolicyError::Unexpected(u)) => Err(PageError::from(u)),
        Err(e) => {
            let shown = Shown { page_error: Some(e.to_string()), ..Shown::default() };
            render_page(&state, editor, org_scope(&admin), csrf.0, "", shown).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    policy: String,
    emails: String,
}

pub async fn org_assign(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, PageError> {
    let emails: Vec<String> = form
        .emails
        .split(|c: char| c == '\n' || c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(ToOwned::to_owned)
        .collect();
    let editor = PolicyEditor::Org(&admin);
    if emails.is_empty() || emails.len() > 5000 {
        let why = "Give between 1 and 5000 addresses, one per line.";
        let shown = Shown { page_error: Some(why.into()), ..Shown::default() };
        return render_page(&state, editor, org_scope(&admin), csrf.0, &form.policy, shown).await;
    }
    let reference = if form.policy.is_empty() { "default" } else { form.policy.as_str() };
    match state.core.policies().assign(&admin, reference, &emails).await {
        Ok(report) => Ok(Redirect::to(&format!(
            "/admin/org/{}/policies?policy={}&notice=assigned&assigned={}&refused={}",
            admin.org().id,
            form.policy,
            report.assigned.len(),
            report.refused.len()
        ))
        .into_response()),
        Err(PolicyError::Unexpected(u)) => Err(PageError::from(u)),
        Err(e) => {
            let shown = Shown { page_error: Some(e.to_string()), ..Shown::default() };
            render_page(&state, editor, org_scope(&admin), csrf.0, "", shown).await
        }
    }
}

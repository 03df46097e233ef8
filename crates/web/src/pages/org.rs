//! `/admin/org/<id>`: an organization's console for its admins (and site admins): domains and
//! their verification, the accounts it manages (deactivate), its administrators. Anyone else
//! gets the same "not found" as for an organization that does not exist.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::accounts::Email;
use latchkey_core::orgs::{DomainStatus, ManagedAction, ManagedActionError, OrgAdmin, OrgError};
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::OrgConsole;
use crate::extract::{CsrfForm, CsrfToken, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::audit::{self, AuditView};
use crate::pages::format_time;
use crate::state::AppState;
use latchkey_core::audit::AuditQuery;
use latchkey_core::audit::AuditScope;

struct DomainRow {
    domain: String,
    status: &'static str,
    txt: String,
    token: String,
    url: String,
    proof: &'static str,
    checked: String,
    error: String,
}

struct AccountRow {
    email: String,
    name: String,
    /// `active`, `deactivated` or `closed`.
    status: &'static str,
    /// The admin's own account: no deactivate or close.
    own: bool,
    /// A site admin or another organization's admin: no actions for this admin.
    protected: bool,
    two_factor: bool,
    /// The name of the policy the account is under.
    policy: String,
    last_active: String,
    products: String,
}

#[derive(Template)]
#[template(path = "org_console.html")]
struct ConsolePage {
    csrf: String,
    /// A site admin is looking (they may delete the organization).
    site_admin: bool,
    org_id: String,
    org_name: String,
    notice: Option<&'static str>,
    form_error: Option<String>,
    domains: Vec<DomainRow>,
    /// Verified domains whose proof has gone missing.
    missing_proof: Vec<String>,
    accounts: Vec<AccountRow>,
    admins: Vec<String>,
    requests: Vec<(String, String)>,
}

async fn page(state: &AppState, admin: &OrgAdmin, csrf: String) -> Result<ConsolePage, PageError> {
    let core = &state.core;
    let domains = core.orgs().list_domains(admin).await?;
    let mut accounts = Vec::new();
    for m in core.orgs().managed_accounts(admin, 500).await? {
        let policy = if m.account.site_admin {
            "Site default (site admin)".to_owned()
        } else {
            core.policies().for_account(&m.account).await?.name.clone()
        };
        accounts.push(AccountRow {
            email: m.account.email.to_string(),
            name: m.account.name.to_string(),
            status: m.account.status.as_str(),
            own: admin.actor() == Some(&m.account.id),
            protected: m.protected,
            two_factor: m.two_factor,
            policy,
            last_active: m
                .last_active_at
                .map_or_else(|| "never".into(), |t| format_time(t.unix()).0),
            products: if m.products.is_empty() { "none".into() } else { m.products.join(", ") },
        });
    }
    let requests = core
        .accounts()
        .org_closure_requests(admin)
        .await?
        .into_iter()
        .map(|r| (r.account.email.to_string(), r.reason))
        .collect();
    let admins =
        core.orgs().org_admin_accounts(admin).await?.iter().map(|a| a.email.to_string()).collect();
    Ok(ConsolePage {
        csrf,
        site_admin: admin.is_site_admin(),
        org_id: admin.org().id.clone(),
        org_name: admin.org().name.clone(),
        notice: None,
        form_error: None,
        missing_proof: domains
            .iter()
            .filter(|d| d.status == DomainStatus::Verified && d.last_error.is_some())
            .map(|d| d.domain.to_string())
            .collect(),
        domains: domains
            .iter()
            .map(|d| DomainRow {
                domain: d.domain.to_string(),
                status: d.status.as_str(),
                txt: d.txt_record(),
                token: d.token.clone(),
                url: d.proof_url(),
                proof: d.proof.map_or("", |p| p.describe()),
                checked: d
                    .last_checked_at
                    .map_or_else(|| "never".into(), |t| format_time(t.unix()).0),
                error: d.last_error.clone().unwrap_or_default(),
            })
            .collect(),
        accounts,
        admins,
        requests,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let mut p = page(&state, &admin, csrf.0).await?;
    p.notice = match q.notice.as_deref() {
        Some("domain_added") => {
            Some("Domain added: publish its TXT record or HTTPS file, then verify.")
        }
        Some("verified") => Some("The domain is verified."),
        Some("not_verified") => {
            Some("No proof was found yet; the last check says what each method found.")
        }
        Some("deactivated") => Some("The account was deactivated and signed out everywhere."),
        Some("reactivated") => Some("The account is active again."),
        Some("admin_added") => Some("The administrator was added."),
        Some("closed") => Some("The account was closed and signed out everywhere."),
        Some("reset_sent") => Some("A password reset link was sent to the person."),
        Some("two_factor_reset") => {
            Some("Two-step verification was turned off; the person was emailed.")
        }
        Some("renamed") => Some("The name was changed."),
        Some("email_changed") => Some("The email address was changed; both addresses were told."),
        Some("admin_removed") => Some("The administrator was removed; their console access ended."),
        Some("domain_removed") => {
            Some("The domain was removed; its accounts are no longer managed by the organization.")
        }
        _ => None,
    };
    Ok(render(&p))
}

async fn with_error(
    state: &AppState,
    admin: &OrgAdmin,
    csrf: String,
    message: String,
) -> Result<Response, PageError> {
    let mut p = page(state, admin, csrf).await?;
    p.form_error = Some(message);
    Ok((StatusCode::BAD_REQUEST, render(&p)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DomainForm {
    domain: String,
}

pub async fn domain_add(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<DomainForm>,
) -> Result<Response, PageError> {
    let id = admin.org().id.clone();
    match state.core.orgs().add_domain(&admin, &form.domain).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/org/{id}?notice=domain_added")).into_response()),
        Err(OrgError::BadDomain(e)) => with_error(&state, &admin, csrf.0, e.to_string()).await,
        Err(e) => Err(PageError::unexpected(&e)),
    }
}

pub async fn domain_verify(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<DomainForm>,
) -> Result<Response, PageError> {
    let id = admin.org().id.clone();
    match state.core.orgs().verify_domain(&admin, &form.domain).await {
        Ok(check) => {
            let notice = if check.domain.status == DomainStatus::Verified {
                "verified"
            } else {
                "not_verified"
            };
            Ok(Redirect::to(&format!("/admin/org/{id}?notice={notice}")).into_response())
        }
        Err(e @ (OrgError::BadDomain(_) | OrgError::UnknownDomain(_))) => {
            with_error(&state, &admin, csrf.0, e.to_string()).await
        }
        Err(e) => Err(PageError::unexpected(&e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

pub async fn account_deactivate(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(form): CsrfForm<ManagedForm>,
) -> Result<Response, PageError> {
    managed_account_action(&state, &admin, &form.email, "deactivate", "").await
}

pub async fn account_close(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(form): CsrfForm<ManagedForm>,
) -> Result<Response, PageError> {
    managed_account_action(&state, &admin, &form.email, "close", "").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmQuery {
    email: String,
    action: String,
}

/// Deactivate, close and reset two-step each ask first, on their own page.
fn confirm_managed(admin: &OrgAdmin, csrf: String, email: &str, action: &str) -> Response {
    let id = &admin.org().id;
    let (path, heading, message, button) = match action {
        "deactivate" => (
            format!("/admin/org/{id}/accounts/deactivate"),
            format!("Deactivate {email}?"),
            "They are signed out at once, here and in every product, and their API tokens stop working. You can reactivate the account later.",
            "Deactivate the account",
        ),
        "close" => (
            format!("/admin/org/{id}/accounts/close"),
            format!("Close {email}?"),
            "They are signed out everywhere at once and cannot sign in again; their personal data is erased after the grace period.",
            "Close the account",
        ),
        "reset_two_factor" => (
            format!("/admin/org/{id}/accounts/action"),
            format!("Reset the two-step verification of {email}?"),
            "Their authenticator app, security keys and recovery codes are removed; they are emailed. Do this only after checking who is asking.",
            "Reset two-step verification",
        ),
        _ => {
            return crate::error::message_page(
                StatusCode::BAD_REQUEST,
                "Unknown action",
                "Go back and try again.",
            );
        }
    };
    let mut fields = vec![("email", email.to_owned())];
    if action == "reset_two_factor" {
        fields.push(("action", action.to_owned()));
    }
    render(&ConfirmPage {
        csrf,
        heading,
        message: message.to_owned(),
        action: path,
        button,
        cancel: format!("/admin/org/{id}"),
        fields,
    })
}

pub async fn account_deactivate_confirm(
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConfirmQuery>,
) -> Result<Response, PageError> {
    Ok(confirm_managed(&admin, csrf.0, &q.email, "deactivate"))
}

pub async fn account_close_confirm(
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConfirmQuery>,
) -> Result<Response, PageError> {
    Ok(confirm_managed(&admin, csrf.0, &q.email, "close"))
}

pub async fn account_action_confirm(
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConfirmQuery>,
) -> Result<Response, PageError> {
    Ok(confirm_managed(&admin, csrf.0, &q.email, &q.action))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ManagedForm {
    email: String,
    action: String,
    name: String,
    new_email: String,
}

/// The other actions on a managed account: reactivate, send a password reset link, reset
/// two-step verification, rename, change the email.
pub async fn account_action(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(form): CsrfForm<ManagedForm>,
) -> Result<Response, PageError> {
    let value = if form.action == "change_email" { &form.new_email } else { &form.name };
    managed_account_action(&state, &admin, &form.email, &form.action, value).await
}

/// One action of an org admin on an account the organization manages; any other account is
/// "not found".
async fn managed_account_action(
    state: &AppState,
    admin: &OrgAdmin,
    email: &str,
    action: &str,
    value: &str,
) -> Result<Response, PageError> {
    let id = &admin.org().id;
    let not_found =
        || message_page(StatusCode::NOT_FOUND, "Account not found", "No such managed account.");
    let Ok(email) = Email::parse(email) else { return Ok(not_found()) };
    let action = match ManagedAction::parse(action, value) {
        Ok(a) => a,
        Err(e) => {
            return Ok(message_page(StatusCode::BAD_REQUEST, "Not done", &e.to_string()));
        }
    };
    Ok(match state.core.orgs().act_on_managed_account(admin, &email, &action).await {
        Ok(_) => {
            let notice = match action {
                ManagedAction::Deactivate => "deactivated",
                ManagedAction::Reactivate => "reactivated",
                ManagedAction::Close => "closed",
                ManagedAction::SendPasswordReset => "reset_sent",
                ManagedAction::ResetTwoFactor => "two_factor_reset",
                ManagedAction::Rename(_) => "renamed",
                ManagedAction::ChangeEmail(_) => "email_changed",
            };
            Redirect::to(&format!("/admin/org/{id}?notice={notice}")).into_response()
        }
        Err(ManagedActionError::NotFound) => not_found(),
        Err(e @ ManagedActionError::Closed) => {
            message_page(StatusCode::CONFLICT, "Account closed", &e.to_string())
        }
        Err(e @ ManagedActionError::Protected) => message_page(
            StatusCode::FORBIDDEN,
            "Only site administrators can do this",
            &e.to_string(),
        ),
        Err(ManagedActionError::Unexpected(e)) => return Err(e.into()),
        Err(e) => message_page(StatusCode::BAD_REQUEST, "Not done", &e.to_string()),
    })
}

/// The organization's audit log: filters, pages, exports.
pub async fn audit(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Result<Response, PageError> {
    let id = admin.org().id.clone();
    let view = AuditView {
        owner: admin.org().name.clone(),
        base: format!("/admin/org/{id}/audit"),
        back_href: format!("/admin/org/{id}"),
        back_label: admin.org().name.clone(),
        scope: AuditScope::Org(admin),
    };
    audit::page(&state, view, &q).await
}

pub async fn audit_export(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Result<Response, PageError> {
    audit::export(&state, AuditScope::Org(admin), &q).await
}

pub async fn admin_add(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    let id = admin.org().id.clone();
    let Ok(email) = Email::parse(&form.email) else {
        return with_error(&state, &admin, csrf.0, "Enter an email address.".into()).await;
    };
    match state.core.orgs().add_org_admin(&admin, &email).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/org/{id}?notice=admin_added")).into_response()),
        Err(e @ OrgError::UnknownAccount(_)) => {
            with_error(&state, &admin, csrf.0, e.to_string()).await
        }
        Err(e) => Err(PageError::unexpected(&e)),
    }
}

//! `/admin/users/account?email=…`: one account as a site admin sees it — profile, status, the
//! organization that manages it, two-step state, sessions (each can be ended), API tokens,
//! that person's recent audit events, and the actions (each confirmed on its own page).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::accounts::{AccountStatus, Email};
use latchkey_core::api_tokens::TokenState;
use latchkey_core::audit::{AuditFilter, AuditScope};
use latchkey_core::sessions::SessionId;
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, PageQuery};
use crate::pages::account::describe_device;
use crate::pages::format_time;
use crate::state::AppState;

/// How many of the person's latest audit events the page shows.
const EVENTS: usize = 25;

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    started: String,
    last_seen: String,
}

struct TokenRow {
    name: String,
    state: &'static str,
    expires: String,
}

struct EventRow {
    at: String,
    event: String,
    outcome: String,
    actor: String,
}

#[allow(clippy::struct_excessive_bools)] // facts of one account, each shown on its own
#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountPage {
    csrf: String,
    notice: Option<&'static str>,
    email: String,
    name: String,
    status: &'static str,
    verified: bool,
    site_admin: bool,
    kind: &'static str,
    has_password: bool,
    created: String,
    managed_by: Option<(String, String)>,
    two_step: String,
    /// Products the person signed in to, in words ("none" when none).
    products: String,
    last_active: String,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    events: Vec<EventRow>,
    active: bool,
    closed: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountQuery {
    email: String,
    notice: Option<String>,
}

fn not_found() -> Response {
    message_page(StatusCode::NOT_FOUND, "Account not found", "No account has that email.")
}

pub async fn show(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<AccountQuery>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&q.email) else { return Ok(not_found()) };
    let core = &state.core;
    let Some(account) = core.accounts().find_account(&me.admin, &email).await? else {
        return Ok(not_found());
    };
    let managed_by = core.orgs().managing_org(&account).await?.map(|o| (o.id, o.name));
    let factors = core.second_factor().two_factor_status(&account.id).await?;
    let two_step = if factors.enabled() {
        let mut parts = Vec::new();
        if factors.totp {
            parts.push("authenticator app".to_owned());
        }
        if factors.security_keys > 0 {
            parts.push(format!("{} security key(s) or passkey(s)", factors.security_keys));
        }
        parts.push(format!("{} recovery codes left", factors.recovery_codes_left));
        format!("On: {}", parts.join(", "))
    } else {
        "Off".to_owned()
    };
    let sessions = core
        .accounts()
        .account_sessions(&me.admin, &email)
        .await
        .map_err(|e| PageError::unexpected(&e))?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.as_str().to_owned(),
            device: describe_device(&s.client.user_agent),
            ip: s.client.ip.clone(),
            started: format_time(s.created_at.unix()).0,
            last_seen: format_time(s.last_seen_at.unix()).0,
        })
        .collect();
    let tokens = core
        .api_tokens()
        .list_as_site_admin(&me.admin, &email)
        .await
        .map_err(|e| PageError::unexpected(&e))?
        .into_iter()
        .map(|t| TokenRow {
            name: t.token.name.clone(),
            state: match t.state {
                TokenState::Active => "active",
                TokenState::Expired => "expired",
                TokenState::Revoked => "revoked",
            },
            expires: format_time(t.expires_at.unix()).0,
        })
        .collect();
    let filter =
        AuditFilter { target_id: Some(account.id.as_str().to_owned()), ..AuditFilter::default() };
    let mut events =
        core.audit().audit_events(&AuditScope::Site(me.admin.clone()), &filter, 1000).await?;
    events.reverse();
    events.truncate(EVENTS);
    let (products, last_active) = core.accounts().account_activity(&me.admin, &account).await?;
    let summary = account.summary();
    Ok(render(&AccountPage {
        products: if products.is_empty() { "none".to_owned() } else { products.join(", ") },
        last_active: last_active.map_or_else(|| "never".to_owned(), |t| format_time(t.unix()).0),
        csrf: csrf.0,
        notice: match q.notice.as_deref() {
            Some("session_ended") => Some("The session was ended; that browser is signed out."),
            Some("reactivated") => Some("The account is active again."),
            Some("site_admin_granted") => Some("The account is a site administrator now."),
            Some("site_admin_revoked") => Some("The account is no longer a site administrator."),
            Some("reset_sent") => Some("A password reset link was mailed to the person."),
            Some("invited") => {
                Some("The account was made; the person was mailed a link to choose a password.")
            }
            _ => None,
        },
        email: summary.email,
        name: summary.name,
        status: summary.status,
        verified: summary.email_verified,
        site_admin: summary.site_admin,
        kind: summary.kind,
        has_password: summary.has_password,
        created: format_time(account.created_at.unix()).0,
        managed_by,
        two_step,
        sessions,
        tokens,
        events: events
            .into_iter()
            .map(|e| EventRow {
                at: format_time(e.at).0,
                event: e.event,
                outcome: e.outcome,
                actor: e.actor,
            })
            .collect(),
        active: account.status == AccountStatus::Active,
        closed: account.status == AccountStatus::Closed,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SessionForm {
    email: String,
    session: String,
}

/// Ends one of the person's sessions (a lost laptop).
pub async fn end_session(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_found()) };
    let Some(session) = SessionId::parse(&form.session) else { return Ok(not_found()) };
    match state.core.accounts().end_account_session(&me.admin, &email, &session).await {
        Ok(_) => {}
        Err(latchkey_core::flows::SetStatusError::NotFound) => return Ok(not_found()),
        Err(e) => return Err(PageError::unexpected(&e)),
    }
    Ok(Redirect::to(&account_path(email.as_str(), "session_ended")).into_response())
}

/// Reactivates a deactivated account (or a closed one not erased yet).
pub async fn reactivate(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_found()) };
    match state.core.accounts().reactivate_account(&me.admin, &email).await {
        Ok(_) => Ok(Redirect::to(&account_path(email.as_str(), "reactivated")).into_response()),
        Err(latchkey_core::flows::SetStatusError::NotFound) => Ok(not_found()),
        Err(latchkey_core::flows::SetStatusError::Unexpected(e)) => Err(e.into()),
        Err(e) => Ok(message_page(StatusCode::CONFLICT, "Not reactivated", &e.to_string())),
    }
}

fn account_path(email: &str, notice: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("notice", notice)
        .finish();
    format!("/admin/users/account?{query}")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SiteAdminQuery {
    email: String,
    /// `1` to make, `0` to remove.
    make: String,
}

/// "Make site admin" / "Remove site admin", confirmed first.
pub async fn site_admin_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: crate::extract::CsrfToken,
    PageQuery(q): PageQuery<SiteAdminQuery>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&q.email) else { return Ok(not_found()) };
    if state.core.accounts().find_account(&me.admin, &email).await?.is_none() {
        return Ok(not_found());
    }
    let make = q.make == "1";
    let (heading, message, button) = if make {
        (
            format!("Make {email} a site administrator?"),
            "They can then see and change every account, product, organization and setting of this installation, and create admin API tokens.",
            "Make site administrator",
        )
    } else {
        (
            format!("Remove {email} as a site administrator?"),
            "Their console and their admin API tokens stop working at their next request. Their account stays as it is.",
            "Remove site administrator",
        )
    };
    Ok(render(&crate::pages::api_tokens::ConfirmPage {
        csrf: csrf.0,
        heading,
        message: message.to_owned(),
        action: "/admin/users/site-admin".to_owned(),
        button,
        cancel: account_path(email.as_str(), ""),
        fields: vec![
            ("email", email.to_string()),
            ("make", if make { "1" } else { "0" }.to_owned()),
        ],
    }))
}

pub async fn site_admin_set(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<SiteAdminQuery>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_found()) };
    let make = form.make == "1";
    match state.core.accounts().set_site_admin(&me.admin, &email, make).await {
        Ok(_) => {
            let notice = if make { "site_admin_granted" } else { "site_admin_revoked" };
            Ok(Redirect::to(&account_path(email.as_str(), notice)).into_response())
        }
        Err(latchkey_core::flows::SetStatusError::NotFound) => Ok(not_found()),
        Err(latchkey_core::flows::SetStatusError::Unexpected(e)) => Err(e.into()),
        Err(e) => Ok(message_page(StatusCode::FORBIDDEN, "Not allowed", &e.to_string())),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

/// Mails the person a password reset link (no confirmation: it changes nothing until they
/// use it).
pub async fn send_reset(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_found()) };
    match state.core.accounts().send_password_reset_as_site_admin(&me.admin, &email).await {
        Ok(_) => Ok(Redirect::to(&account_path(email.as_str(), "reset_sent")).into_response()),
        Err(latchkey_core::flows::SetStatusError::NotFound) => Ok(not_found()),
        Err(
            e @ (latchkey_core::flows::SetStatusError::Bot
            | latchkey_core::flows::SetStatusError::Closed),
        ) => Ok(message_page(StatusCode::CONFLICT, "No reset link sent", &e.to_string())),
        Err(e) => Err(PageError::unexpected(&e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    name: String,
}

/// Creates an account without a password and mails the person a link to choose one.
pub async fn invite(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    let refused = |m: &str| message_page(StatusCode::BAD_REQUEST, "No invitation sent", m);
    let Ok(email) = Email::parse(&form.email) else {
        return Ok(refused("Enter the person's email address."));
    };
    let name = if form.name.trim().is_empty() {
        latchkey_core::accounts::DisplayName::from_email(&email)
    } else {
        match latchkey_core::accounts::DisplayName::parse(&form.name) {
            Ok(n) => n,
            Err(e) => return Ok(refused(&e.to_string())),
        }
    };
    let inviter = me.account_name().to_owned();
    match state.core.accounts().invite_account(&me.admin, email.clone(), name, &inviter).await {
        Ok(_) => Ok(Redirect::to(&account_path(email.as_str(), "invited")).into_response()),
        Err(e @ latchkey_core::flows::CreateAccountError::EmailTaken) => {
            Ok(message_page(StatusCode::CONFLICT, "No invitation sent", &e.to_string()))
        }
        Err(e) => Err(PageError::unexpected(&e)),
    }
}

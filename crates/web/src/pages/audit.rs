//! The audit log page, shared by the site console (`/admin/audit`: every event) and each
//! organization's console (`/admin/org/<id>/audit`: its events only): filters, keyset pages and
//! the streamed exports.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_core::audit::AuditScope;

use crate::error::{PageError, message_page, render};
use crate::pages::format_time;
use crate::state::AppState;
use latchkey_core::audit::{AuditFilterError, AuditQuery, ExportFormat};

struct EventRow {
    time: String,
    event: String,
    /// `success`, `failure` or `refused` (the badge's colour).
    outcome: String,
    actor: String,
    target: String,
    ip: String,
    /// The details worth a column: how (method), from which browser, why.
    details: String,
}

/// Events an operator most often looks for (the event picker's suggestions).
const KNOWN_EVENTS: [&str; 22] = [
    "login",
    "logout",
    "signup",
    "email.verified",
    "password.changed",
    "password.reset",
    "password.reset_refused",
    "email.changed",
    "two_factor.enabled",
    "two_factor.disabled",
    "two_factor.reset",
    "account.deactivated",
    "account.reactivated",
    "account.closed",
    "domain.added",
    "domain.verified",
    "domain.proof_missing",
    "policy.updated",
    "api_token.created",
    "api_token.revoked",
    "saml.login_refused",
    "saml.certificate_expiring",
];

fn details_of(details: &serde_json::Value, user_agent: &str) -> String {
    let mut parts = Vec::new();
    for key in ["method", "reason", "connection", "client_id"] {
        if let Some(v) = details.get(key).and_then(serde_json::Value::as_str) {
            parts.push(format!("{key}: {v}"));
        }
    }
    if !user_agent.is_empty() {
        parts.push(crate::pages::account::describe_device(user_agent));
    }
    parts.join(" · ")
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    /// Whose log: "Site" or the organization's name.
    owner: String,
    /// The page's own path (filters and pages hang off it).
    base: String,
    back_href: String,
    back_label: String,
    /// The site console shows its navigation.
    site: bool,
    section: &'static str,
    form_error: Option<String>,
    person: String,
    event: String,
    from: String,
    until: String,
    /// The filter as a query string, for the next page and exports.
    query: String,
    events: Vec<EventRow>,
    /// Older and newer pages (newest first).
    older: Option<String>,
    newer: Option<String>,
    known_events: &'static [&'static str],
}

const AUDIT_PAGE: u32 = 100;

/// Where a log page lives and what it links back to.
pub struct AuditView {
    pub scope: AuditScope,
    pub owner: String,
    pub base: String,
    pub back_href: String,
    pub back_label: String,
}

pub async fn page(
    state: &AppState,
    view: AuditView,
    q: &AuditQuery,
) -> Result<Response, PageError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("person", text(&q.person)),
            ("event", text(&q.event)),
            ("from", text(&q.from)),
            ("until", text(&q.until)),
        ])
        .finish();
    let mut page = AuditPage {
        owner: view.owner,
        base: view.base,
        back_href: view.back_href,
        back_label: view.back_label,
        site: matches!(view.scope, AuditScope::Site(_)),
        section: "audit",
        form_error: None,
        person: text(&q.person),
        event: text(&q.event),
        from: text(&q.from),
        until: text(&q.until),
        query,
        events: Vec::new(),
        older: None,
        newer: None,
        known_events: &KNOWN_EVENTS,
    };
    let filter = match state.core.audit().audit_filter(q).await {
        Ok(f) => f,
        Err(AuditFilterError::Invalid(message)) => {
            page.form_error = Some(message);
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
        Err(AuditFilterError::Unexpected(e)) => return Err(e.into()),
    };
    // Newest first. `before`: the next older page; `after`: the next newer one (read oldest
    // first from there, then turned round).
    let going_newer = filter.after.is_some() && filter.before.is_none();
    let filter = latchkey_core::audit::AuditFilter { newest_first: !going_newer, ..filter };
    let mut events = state.core.audit().audit_events(&view.scope, &filter, AUDIT_PAGE).await?;
    let full = events.len() == AUDIT_PAGE as usize;
    if going_newer {
        events.reverse();
    }
    let (has_older, has_newer) =
        if going_newer { (true, full) } else { (full, filter.before.is_some()) };
    if !events.is_empty() {
        page.older = events.last().filter(|_| has_older).map(|e| e.id.clone());
        page.newer = events.first().filter(|_| has_newer).map(|e| e.id.clone());
    }
    page.events = events
        .into_iter()
        .map(|e| EventRow {
            time: format_time(e.at).0,
            event: e.event,
            outcome: e.outcome,
            actor: e.actor,
            target: e.target,
            details: details_of(&e.details, &e.user_agent),
            ip: e.ip,
        })
        .collect();
    Ok(render(&page))
}

pub async fn export(
    state: &AppState,
    scope: AuditScope,
    q: &AuditQuery,
) -> Result<Response, PageError> {
    let filter = match state.core.audit().audit_filter(q).await {
        Ok(f) => f,
        Err(AuditFilterError::Invalid(message)) => {
            return Ok(message_page(StatusCode::BAD_REQUEST, "Bad filter", &message));
        }
        Err(AuditFilterError::Unexpected(e)) => return Err(e.into()),
    };
    let format = match ExportFormat::parse(q.format.as_deref()) {
        Ok(f) => f,
        Err(message) => return Ok(message_page(StatusCode::BAD_REQUEST, "Bad format", &message)),
    };
    Ok(crate::audit_export::export(state.core.clone(), scope, filter, format))
}

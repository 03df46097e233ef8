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
    outcome: String,
    actor: String,
    target: String,
    ip: String,
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
    next: Option<String>,
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
        next: None,
    };
    let filter = match state.core.audit().audit_filter(q).await {
        Ok(f) => f,
        Err(AuditFilterError::Invalid(message)) => {
            page.form_error = Some(message);
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
        Err(AuditFilterError::Unexpected(e)) => return Err(e.into()),
    };
    let events = state.core.audit().audit_events(&view.scope, &filter, AUDIT_PAGE).await?;
    if events.len() == AUDIT_PAGE as usize {
        page.next = events.last().map(|e| e.id.clone());
    }
    page.events = events
        .into_iter()
        .map(|e| EventRow {
            time: format_time(e.at).0,
            event: e.event,
            outcome: e.outcome,
            actor: e.actor,
            target: e.target,
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

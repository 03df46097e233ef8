//! The audit log over HTTP: a filter read from the query string (person, event, time range,
//! `after` for the next page), pages as JSON, and exports as JSON Lines or CSV that stream page
//! by page (keyset paging by id), so a million events never sit in memory at once. The CLI
//! (`latchkey audit`) uses the same filter, paging and CSV lines.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latchkey_core::Core;
use latchkey_core::accounts::Email;
use latchkey_core::audit::{AuditEvent, AuditFilter, AuditScope};
use latchkey_core::clock::Timestamp;
use serde::Deserialize;

/// Events per page of an export.
pub const EXPORT_PAGE: u32 = 500;

/// The filter for the page after `events` (a full page), or `None` when they were the last.
pub fn next_page(filter: &AuditFilter, events: &[AuditEvent]) -> Option<AuditFilter> {
    (events.len() == EXPORT_PAGE as usize)
        .then(|| AuditFilter { after: events.last().map(|e| e.id.clone()), ..filter.clone() })
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct AuditQuery {
    /// An account's email.
    pub person: Option<String>,
    pub event: Option<String>,
    /// RFC 3339 or Unix seconds.
    pub from: Option<String>,
    pub until: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
    /// `jsonl` (default) or `csv`, for exports.
    pub format: Option<String>,
}

fn instant(raw: &str, name: &str) -> Result<Timestamp, String> {
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(Timestamp::from_unix(secs));
    }
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| Timestamp::from_unix(t.unix_timestamp()))
        .map_err(|_| format!("{name} must be RFC 3339 (2026-12-01T00:00:00Z) or Unix seconds"))
}

/// The filter a query asks for. A person with no account matches nothing.
pub async fn filter(core: &Core, q: &AuditQuery) -> Result<AuditFilter, String> {
    let nonempty =
        |v: &Option<String>| v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let target_id = match nonempty(&q.person) {
        Some(person) => {
            let email = Email::parse(&person).map_err(|e| format!("person: {e}"))?;
            Some(
                core.audit_person(&email)
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_else(|| "-".to_owned()),
            )
        }
        None => None,
    };
    let after = nonempty(&q.after);
    if after
        .as_ref()
        .is_some_and(|a| a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) || a.len() > 18)
    {
        return Err("after must be an event id from an earlier page".into());
    }
    Ok(AuditFilter {
        org_id: None,
        target_id,
        event: nonempty(&q.event),
        from: nonempty(&q.from).map(|v| instant(&v, "from")).transpose()?,
        until: nonempty(&q.until).map(|v| instant(&v, "until")).transpose()?,
        after,
    })
}

fn csv_field(value: &str) -> String {
    // A leading =, +, - or @ would make a spreadsheet evaluate the cell.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub const CSV_HEADER: &str =
    "id,time,event,outcome,actor_id,actor,target_id,target,org_id,ip,user_agent,details\n";

/// One event as a CSV record (formula-looking cells defused), with its line ending.
pub fn csv_line(e: &AuditEvent) -> String {
    let time = Timestamp::from_unix(e.at).rfc3339();
    let fields = [
        e.id.as_str(),
        time.as_str(),
        e.event.as_str(),
        e.outcome.as_str(),
        e.actor_id.as_deref().unwrap_or(""),
        e.actor.as_str(),
        e.target_id.as_deref().unwrap_or(""),
        e.target.as_str(),
        e.org_id.as_deref().unwrap_or(""),
        e.ip.as_str(),
        e.user_agent.as_str(),
        &e.details.to_string(),
    ];
    let mut out = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

/// Streams every event the scope and filter allow, page by page.
pub fn export(core: Core, scope: AuditScope, filter: AuditFilter, csv: bool) -> Response {
    let first = csv.then(|| Bytes::from_static(CSV_HEADER.as_bytes()));
    let pages = futures_util::stream::unfold(Some(filter), move |state| {
        let core = core.clone();
        let scope = scope.clone();
        async move {
            let filter = state?;
            match core.audit_events(&scope, &filter, EXPORT_PAGE).await {
                Ok(events) if events.is_empty() => None,
                Ok(events) => {
                    let next = next_page(&filter, &events);
                    let mut chunk = String::new();
                    for e in &events {
                        if csv {
                            chunk.push_str(&csv_line(e));
                        } else {
                            chunk.push_str(&serde_json::to_string(e).unwrap_or_default());
                            chunk.push('\n');
                        }
                    }
                    Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let head = futures_util::stream::iter(first.map(Ok::<_, std::io::Error>));
    let body = Body::from_stream(futures_util::StreamExt::chain(head, pages));
    let (content_type, name) = if csv {
        ("text/csv; charset=utf-8", "audit.csv")
    } else {
        ("application/x-ndjson", "audit.jsonl")
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn instants_are_rfc3339_or_unix_seconds() {
        assert_eq!(instant("1700000000", "from").unwrap().unix(), 1_700_000_000);
        assert_eq!(instant("2026-12-01T00:00:00Z", "from").unwrap().unix(), 1_796_083_200);
        assert!(instant("yesterday", "from").is_err());
    }
}

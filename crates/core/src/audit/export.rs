//! The audit log for readers outside the process: a filter from outside input (person, event,
//! time range, `after` for the next page), keyset paging by id, and the export formats (JSON
//! Lines, CSV with formula-looking cells defused). The console, the admin API and the CLI all
//! read the log through this, so a million events are never in memory at once.

use serde::Deserialize;

use crate::accounts::Email;
use crate::audit::Audit;
use crate::audit::{AuditEvent, AuditFilter, AuditScope};
use crate::clock::Timestamp;
use crate::errors::RepoError;

/// Events per page of an export.
pub const EXPORT_PAGE: u32 = 500;

/// The filter as people and scripts type it (query string, CLI flags).
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
    /// Events older than this id (the console's pages go newest first).
    pub before: Option<String>,
    pub limit: Option<u32>,
    /// `jsonl` (default) or `csv`, for exports.
    pub format: Option<String>,
}

/// Why a filter could not be made: the query is wrong (say so to the person), or storage
/// failed while looking up the person it names (never passed off as a bad query).
#[derive(Debug, thiserror::Error)]
pub enum AuditFilterError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

impl From<String> for AuditFilterError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

/// How an export writes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

impl ExportFormat {
    /// `None` and `jsonl` are JSON Lines; `csv` is CSV; anything else is refused.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw {
            None | Some("jsonl") => Ok(Self::JsonLines),
            Some("csv") => Ok(Self::Csv),
            Some(_) => Err("format must be jsonl or csv".into()),
        }
    }

    /// What comes before the first event.
    pub fn header(self) -> &'static str {
        match self {
            Self::JsonLines => "",
            Self::Csv => CSV_HEADER,
        }
    }

    /// One event, with its line ending.
    pub fn line(self, event: &AuditEvent) -> String {
        match self {
            Self::JsonLines => {
                let mut line = serde_json::to_string(event).unwrap_or_default();
                line.push('\n');
                line
            }
            Self::Csv => csv_line(event),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::JsonLines => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::JsonLines => "audit.jsonl",
            Self::Csv => "audit.csv",
        }
    }
}

fn instant(raw: &str, name: &str) -> Result<Timestamp, String> {
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(Timestamp::from_unix(secs));
    }
    // A day (what a date picker sends): its start, UTC.
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(raw, &day) {
        return Ok(Timestamp::from_unix(date.midnight().assume_utc().unix_timestamp()));
    }
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| Timestamp::from_unix(t.unix_timestamp()))
        .map_err(|_| {
            format!(
                "{name} must be a day (2026-12-01), RFC 3339 (2026-12-01T00:00:00Z) or Unix seconds"
            )
        })
}

/// The filter for the page after `events` (a full page of `page_size`), or `None` when they
/// were the last.
pub fn next_page(
    filter: &AuditFilter,
    events: &[AuditEvent],
    page_size: u32,
) -> Option<AuditFilter> {
    (events.len() == page_size as usize)
        .then(|| AuditFilter { after: events.last().map(|e| e.id.clone()), ..filter.clone() })
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

/// Every event a scope and filter allow, read page by page ([`Audit::next_export_page`]).
#[derive(Clone)]
pub struct AuditExport {
    scope: AuditScope,
    next: Option<AuditFilter>,
}

impl AuditExport {
    pub fn new(scope: AuditScope, filter: AuditFilter) -> Self {
        Self { scope, next: Some(filter) }
    }
}

impl Audit {
    /// The filter a query asks for. A person with no account matches nothing.
    pub async fn audit_filter(&self, q: &AuditQuery) -> Result<AuditFilter, AuditFilterError> {
        let nonempty =
            |v: &Option<String>| v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let target_id = match nonempty(&q.person) {
            Some(person) => {
                let email = Email::parse(&person).map_err(|e| format!("person: {e}"))?;
                Some(self.audit_person(&email).await?.unwrap_or_else(|| "-".to_owned()))
            }
            None => None,
        };
        let after = nonempty(&q.after);
        let before = nonempty(&q.before);
        let bad =
            |a: &String| a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) || a.len() > 18;
        if after.as_ref().is_some_and(bad) || before.as_ref().is_some_and(bad) {
            return Err(AuditFilterError::Invalid(
                "after and before must be event ids from another page".into(),
            ));
        }
        Ok(AuditFilter {
            org_id: None,
            target_id,
            event: nonempty(&q.event),
            from: nonempty(&q.from).map(|v| instant(&v, "from")).transpose()?,
            until: nonempty(&q.until).map(|v| instant(&v, "until")).transpose()?,
            after,
            before,
            newest_first: false,
        })
    }

    /// The export's next page of events, oldest first; `None` once every event was read.
    pub async fn next_export_page(
        &self,
        export: &mut AuditExport,
    ) -> Result<Option<Vec<AuditEvent>>, RepoError> {
        let Some(filter) = export.next.take() else { return Ok(None) };
        let events = self.audit_events(&export.scope, &filter, EXPORT_PAGE).await?;
        if events.is_empty() {
            return Ok(None);
        }
        export.next = next_page(&filter, &events, EXPORT_PAGE);
        Ok(Some(events))
    }
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
        assert_eq!(instant("2026-12-01", "from").unwrap().unix(), 1_796_083_200);
        assert!(instant("2026-13-01", "from").is_err());
    }

    #[test]
    fn formats_are_named_and_others_refused() {
        assert_eq!(ExportFormat::parse(None), Ok(ExportFormat::JsonLines));
        assert_eq!(ExportFormat::parse(Some("csv")), Ok(ExportFormat::Csv));
        assert!(ExportFormat::parse(Some("xml")).is_err());
    }
}

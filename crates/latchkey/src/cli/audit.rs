//! `latchkey audit`: the audit log from the command line, with the console's filters, streamed
//! page by page as JSON Lines (default), CSV (`--csv`) or, with `--json`, one document
//! `{"events": […]}` written as it is read.

use std::io::Write as _;

use latchkey_core::audit::{AuditExport, AuditFilterError, AuditQuery, AuditScope, ExportFormat};

use crate::app::Backend;
use crate::cli::Failure;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct AuditCommand {
    /// Only this organization's events (its id).
    #[arg(long)]
    org: Option<String>,
    /// Only events about this account (its email).
    #[arg(long)]
    person: Option<String>,
    /// Only this event type (login, account.deactivated, …).
    #[arg(long)]
    event: Option<String>,
    /// From this instant (RFC 3339 or Unix seconds).
    #[arg(long)]
    from: Option<String>,
    /// Until this instant (RFC 3339 or Unix seconds).
    #[arg(long)]
    until: Option<String>,
    /// CSV instead of JSON Lines.
    #[arg(long)]
    csv: bool,
}

pub async fn run(cmd: AuditCommand, config: Config, json: bool) -> Result<(), Failure> {
    if cmd.csv && json {
        return Err(Failure::Usage("--csv and --json exclude each other".into()));
    }
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let core = &backend.core;
    let site = backend.site_admin();
    let scope = match &cmd.org {
        Some(org) => AuditScope::Org(
            core.orgs()
                .org_admin_by_id_or_name(&site, org)
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?,
        ),
        None => AuditScope::Site(site),
    };
    let query = AuditQuery {
        person: cmd.person,
        event: cmd.event,
        from: cmd.from,
        until: cmd.until,
        ..AuditQuery::default()
    };
    let filter = core.audit().audit_filter(&query).await.map_err(|e| match e {
        AuditFilterError::Invalid(message) => Failure::Usage(message),
        AuditFilterError::Unexpected(e) => Failure::Refused(e.to_string()),
    })?;
    let format = if cmd.csv { ExportFormat::Csv } else { ExportFormat::JsonLines };
    let mut export = AuditExport::new(scope, filter);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let failed = |e: std::io::Error| Failure::Refused(format!("writing the output: {e}"));
    if json {
        out.write_all(b"{\"events\":[").map_err(failed)?;
    } else {
        out.write_all(format.header().as_bytes()).map_err(failed)?;
    }
    let mut first = true;
    while let Some(events) = core
        .audit()
        .next_export_page(&mut export)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?
    {
        for e in &events {
            let line = if json {
                let doc = serde_json::to_string(e).map_err(|e| Failure::Refused(e.to_string()))?;
                if first { doc } else { format!(",{doc}") }
            } else {
                format.line(e)
            };
            first = false;
            out.write_all(line.as_bytes()).map_err(failed)?;
        }
    }
    if json {
        out.write_all(b"]}\n").map_err(failed)?;
    }
    out.flush().map_err(failed)
}

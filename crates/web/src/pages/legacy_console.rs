//! The site console's page for one product's users from before Latchkey
//! (`/admin/products/{id}/legacy`): its rollout state, the figures, the import (an upload,
//! imported as it arrives, with a progress display when scripts run), each import's result,
//! and the purge of old hashes after a confirmation.

use std::time::Duration;

use askama::Template;
use axum::extract::{FromRequest as _, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::StreamExt as _;
use latchkey_core::legacy::reader::ImportFormat;
use latchkey_core::legacy::{ImportRun, ImportSummary, LegacyError, LegacyStats, Rollout};
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::{
    ConsoleAdmin, CsrfForm, CsrfToken, PageQuery, csrf_matches, csrf_rejection, presented_csrf,
};
use crate::legacy_import::{ImportFailure, import_stream};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::format_time;
use crate::state::AppState;

fn here(client_id: &str) -> String {
    format!("/admin/products/{client_id}/legacy")
}

async fn product_name(
    state: &AppState,
    me: &ConsoleAdmin,
    client_id: &str,
) -> Result<Option<String>, PageError> {
    let clients = state.core.oidc().list_clients(&me.admin).await?;
    Ok(clients.into_iter().find(|c| c.id == client_id).map(|c| c.name))
}

fn no_product() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "No such product",
        "There is no product with that client id.",
    )
}

/// An import as the pages show it.
struct ImportView {
    id: String,
    when: String,
    source: String,
    dry_run: bool,
    imported: u64,
    updated: u64,
    unchanged: u64,
    skipped: u64,
    errors: u64,
    seconds: String,
    first_errors: Vec<(u64, String)>,
}

fn view(s: ImportSummary) -> ImportView {
    ImportView {
        when: format_time(s.finished_at).0,
        seconds: format!("{:.1}", Duration::from_millis(s.milliseconds).as_secs_f64()),
        first_errors: s.first_errors.into_iter().map(|e| (e.line, e.reason)).collect(),
        id: s.id,
        source: s.source,
        dry_run: s.dry_run,
        imported: s.imported,
        updated: s.updated,
        unchanged: s.unchanged,
        skipped: s.skipped,
        errors: s.errors,
    }
}

#[derive(Template)]
#[template(path = "legacy_console.html")]
struct LegacyPage {
    section: &'static str,
    csrf: String,
    client_id: String,
    name: String,
    rollout: Option<&'static str>,
    stats: LegacyStats,
    last: Option<ImportView>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(client_id): Path<String>,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let Some(name) = product_name(&state, &me, &client_id).await? else {
        return Ok(no_product());
    };
    let legacy = state.core.legacy();
    let (rollout, figures) = match legacy.status(&me.admin, &client_id).await {
        Ok(s) => s,
        Err(LegacyError::UnknownProduct(_)) => return Ok(no_product()),
        Err(LegacyError::Unexpected(e)) => return Err(PageError::unexpected(&e)),
    };
    let last = legacy.import_summary(&me.admin, &client_id, None).await?.map(view);
    let notice = match q.notice.as_deref() {
        Some("rollout") => Some("The rollout state was changed."),
        Some("purged") => Some("The old password hashes were purged."),
        _ => None,
    };
    Ok(render(&LegacyPage {
        section: "products",
        csrf: csrf.0,
        client_id,
        name,
        rollout: rollout.map(Rollout::as_str),
        stats: figures,
        last,
        notice,
    }))
}

#[derive(Template)]
#[template(path = "legacy_import_result.html")]
struct ResultPage {
    section: &'static str,
    client_id: String,
    name: String,
    import: ImportView,
}

pub async fn result(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path((client_id, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(name) = product_name(&state, &me, &client_id).await? else {
        return Ok(no_product());
    };
    let Some(import) = state.core.legacy().import_summary(&me.admin, &client_id, Some(&id)).await?
    else {
        return Ok(message_page(
            StatusCode::NOT_FOUND,
            "No such import",
            "That import is not on record.",
        ));
    };
    Ok(render(&ResultPage { section: "products", client_id, name, import: view(import) }))
}

/// The longest CSRF field read from the upload form.
const MAX_SMALL_FIELD: usize = 256;

async fn small_field(field: &mut axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut out = Vec::new();
    while let Some(chunk) = field.next().await {
        out.extend_from_slice(&chunk.ok()?);
        if out.len() > MAX_SMALL_FIELD {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

fn refused(message: &str) -> Response {
    message_page(StatusCode::BAD_REQUEST, "Nothing was imported", message)
}

/// `POST …/legacy/import` (multipart: `csrf_token`, optional `dry_run`, then `file`). The
/// file is imported as it arrives; the answer redirects to the import's result page.
pub async fn import(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(client_id): Path<String>,
    req: Request,
) -> Response {
    let cookie = presented_csrf(&req);
    let Ok(mut form) = Multipart::from_request(req, &state).await else {
        return refused("Send the file with the form on the product's page.");
    };
    let (mut csrf_ok, mut dry_run) = (false, false);
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return refused("Choose a file to import."),
            Err(e) => return refused(&format!("The upload could not be read: {e}")),
        };
        match field.name() {
            Some("csrf_token") => {
                let value = small_field(&mut field).await.unwrap_or_default();
                csrf_ok = csrf_matches(cookie.as_deref(), &value);
            }
            Some("dry_run") => dry_run = true,
            Some("file") if !csrf_ok => return csrf_rejection(),
            Some("file") => {
                let by_name = field.file_name().and_then(ImportFormat::from_file_name);
                let by_type = field.content_type().and_then(ImportFormat::from_content_type);
                let Some(format) = by_name.or(by_type) else {
                    return refused("Name the file .jsonl or .csv, so we can tell its format.");
                };
                let run = ImportRun { source: "console", dry_run, milliseconds: 0 };
                return match import_stream(&state, &me.admin, &client_id, format, run, field).await
                {
                    Ok((_, id)) => {
                        Redirect::to(&format!("{}/imports/{id}", here(&client_id))).into_response()
                    }
                    Err(ImportFailure::Legacy(LegacyError::UnknownProduct(_))) => no_product(),
                    Err(ImportFailure::Legacy(LegacyError::Unexpected(e))) => {
                        crate::error::unexpected_page(&e)
                    }
                    Err(e @ ImportFailure::Unreadable { .. }) => refused(&e.to_string()),
                };
            }
            _ => {}
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RolloutForm {
    state: String,
}

pub async fn rollout(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(client_id): Path<String>,
    CsrfForm(form): CsrfForm<RolloutForm>,
) -> Result<Response, PageError> {
    let Some(rollout) = Rollout::parse(&form.state) else {
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "Unknown state",
            "Choose legacy, upgrading or upgraded.",
        ));
    };
    match state.core.legacy().set_rollout(&me.admin, &client_id, rollout).await {
        Ok(()) => Ok(Redirect::to(&format!("{}?notice=rollout", here(&client_id))).into_response()),
        Err(LegacyError::UnknownProduct(_)) => Ok(no_product()),
        Err(LegacyError::Unexpected(e)) => Err(PageError::unexpected(&e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PurgeForm {
    older_than_days: String,
}

impl PurgeForm {
    fn days(&self) -> Result<Option<u32>, Box<Response>> {
        let raw = self.older_than_days.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse::<u32>().map(Some).map_err(|_| {
            Box::new(message_page(
                StatusCode::BAD_REQUEST,
                "Not a number of days",
                "Enter a whole number of days, or leave it empty.",
            ))
        })
    }
}

/// The purge's confirmation, with how many hashes it would forget.
pub async fn confirm_purge(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(client_id): Path<String>,
    PageQuery(form): PageQuery<PurgeForm>,
) -> Result<Response, PageError> {
    let days = match form.days() {
        Ok(d) => d,
        Err(page) => return Ok(*page),
    };
    let Some(name) = product_name(&state, &me, &client_id).await? else {
        return Ok(no_product());
    };
    let count = match state.core.legacy().purge(&me.admin, &client_id, days, true).await {
        Ok(n) => n,
        Err(LegacyError::UnknownProduct(_)) => return Ok(no_product()),
        Err(LegacyError::Unexpected(e)) => return Err(PageError::unexpected(&e)),
    };
    let which = days.map_or_else(
        || "of the records already upgraded".to_owned(),
        |d| format!("of the records already upgraded or unused for {d} days"),
    );
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Purge {count} old password hashes of {name}?"),
        message: format!(
            "This forgets the old password hashes {which}. The records stay, so {name} keeps its user ids; someone who had not upgraded yet can still do it through \u{201c}forgot password\u{201d}. This cannot be undone."
        ),
        action: format!(
            "{}/purge?older_than_days={}",
            here(&client_id),
            days.map(|d| d.to_string()).unwrap_or_default()
        ),
        button: "Purge the hashes",
        cancel: here(&client_id),
        fields: vec![],
    }))
}

pub async fn purge(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(client_id): Path<String>,
    PageQuery(form): PageQuery<PurgeForm>,
    CsrfForm(_): CsrfForm<crate::pages::login::NoFields>,
) -> Result<Response, PageError> {
    let days = match form.days() {
        Ok(d) => d,
        Err(page) => return Ok(*page),
    };
    match state.core.legacy().purge(&me.admin, &client_id, days, false).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?notice=purged", here(&client_id))).into_response()),
        Err(LegacyError::UnknownProduct(_)) => Ok(no_product()),
        Err(LegacyError::Unexpected(e)) => Err(PageError::unexpected(&e)),
    }
}

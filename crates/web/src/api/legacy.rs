//! `/api/v1/clients/{id}/legacy…`: a product's legacy upgrade over the admin API: the import
//! (the request body is the file, streamed), the rollout state, the figures and the purge.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use latchkey_core::legacy::reader::ImportFormat;
use latchkey_core::legacy::{ImportRun, LegacyError, Rollout};
use serde::Deserialize;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body};
use crate::legacy_import::{ImportFailure, import_stream};
use crate::state::AppState;

impl From<LegacyError> for ApiError {
    fn from(e: LegacyError) -> Self {
        match e {
            LegacyError::UnknownProduct(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            LegacyError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ImportQuery {
    format: Option<String>,
    dry_run: bool,
}

/// `POST /api/v1/clients/{id}/legacy/import`: the body is the JSON Lines or CSV file
/// (`?format=`, else from `Content-Type`), read as it arrives.
pub(super) async fn legacy_import(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(client_id): Path<String>,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult {
    let format = match q.format.as_deref() {
        Some(f) => {
            ImportFormat::parse(f).ok_or_else(|| ApiError::invalid("format: use jsonl or csv"))?
        }
        None => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(ImportFormat::from_content_type)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "invalid_request",
                    "send Content-Type application/x-ndjson or text/csv, or ?format=jsonl|csv",
                )
            })?,
    };
    let run = ImportRun { source: "api", dry_run: q.dry_run, milliseconds: 0 };
    let stream = body.into_data_stream();
    match import_stream(&state, &caller.admin, &client_id, format, run, stream).await {
        Ok((report, id)) => {
            let mut doc = json!(report);
            doc["id"] = id.into();
            doc["dry_run"] = q.dry_run.into();
            Ok(Json(doc).into_response())
        }
        Err(ImportFailure::Legacy(e)) => Err(e.into()),
        Err(e @ ImportFailure::Unreadable { .. }) => Err(ApiError::invalid(e.to_string())),
    }
}

/// `GET /api/v1/clients/{id}/legacy`: the rollout state, the figures and the last import.
pub(super) async fn legacy_status(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(client_id): Path<String>,
) -> ApiResult {
    let legacy = state.core.legacy();
    let (rollout, figures) = legacy.status(&caller.admin, &client_id).await?;
    let last = legacy.import_summary(&caller.admin, &client_id, None).await?;
    let mut doc = json!(figures);
    doc["client_id"] = client_id.into();
    doc["rollout"] = json!(rollout);
    doc["last_import"] = json!(last);
    Ok(Json(doc).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RolloutBody {
    state: String,
}

/// `PUT /api/v1/clients/{id}/rollout`.
pub(super) async fn legacy_rollout(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(client_id): Path<String>,
    Body(body): Body<RolloutBody>,
) -> ApiResult {
    let rollout = Rollout::parse(&body.state)
        .ok_or_else(|| ApiError::invalid("state: use legacy, upgrading or upgraded"))?;
    state.core.legacy().set_rollout(&caller.admin, &client_id, rollout).await?;
    Ok(Json(json!({ "client_id": client_id, "rollout": rollout })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct PurgeBody {
    older_than_days: Option<u32>,
    dry_run: bool,
}

/// `POST /api/v1/clients/{id}/legacy/purge`.
pub(super) async fn legacy_purge(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(client_id): Path<String>,
    Body(body): Body<PurgeBody>,
) -> ApiResult {
    let purged = state
        .core
        .legacy()
        .purge(&caller.admin, &client_id, body.older_than_days, body.dry_run)
        .await?;
    Ok(Json(json!({ "client_id": client_id, "purged": purged, "dry_run": body.dry_run }))
        .into_response())
}

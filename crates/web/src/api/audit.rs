//! `/api/v1/audit`: the audit log, a page at a time or exported whole.

use crate::state::AppState;
use axum::Json;
use axum::extract::Query;
use axum::extract::State;
use axum::response::IntoResponse;
use latchkey_core::audit::AuditScope;
use latchkey_core::audit::ExportFormat;
use latchkey_core::audit::{AuditFilterError, AuditQuery};
use serde_json::json;

use super::{Admin, ApiError, ApiResult};

pub(super) async fn audit_query(
    state: &AppState,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(AuditQuery, latchkey_core::audit::AuditFilter), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let filter = state.core.audit().audit_filter(&q).await.map_err(|e| match e {
        AuditFilterError::Invalid(message) => ApiError::invalid(message),
        AuditFilterError::Unexpected(e) => e.into(),
    })?;
    Ok((q, filter))
}

/// One page of the audit log, oldest first; `next` continues after it.
pub(super) async fn audit_page(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let (q, filter) = audit_query(&state, query).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let events =
        state.core.audit().audit_events(&AuditScope::Site(caller.admin), &filter, limit).await?;
    let next = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.clone()));
    Ok(Json(json!({ "events": events, "next": next.flatten() })).into_response())
}

/// The whole (filtered) log as JSON Lines or CSV, streamed.
pub(super) async fn audit_export(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let (q, filter) = audit_query(&state, query).await?;
    let format = ExportFormat::parse(q.format.as_deref()).map_err(ApiError::invalid)?;
    Ok(crate::audit_export::export(
        state.core.clone(),
        AuditScope::Site(caller.admin),
        filter,
        format,
    ))
}

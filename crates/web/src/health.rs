//! `/healthz` (the process answers), `/readyz` (the database answers, within 2 s whatever its
//! state) and `/metrics` (Prometheus text format).

use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Something whose reachability decides readiness (the database).
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// Must return within `timeout`.
    async fn check(&self, timeout: Duration) -> Result<(), String>;
}

/// Under the 2 s budget with room for the response itself.
const READY_TIMEOUT: Duration = Duration::from_millis(1500);

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    // The probe bounds itself; this outer bound holds even if it misbehaves.
    let verdict = tokio::time::timeout(READY_TIMEOUT + Duration::from_millis(200), async {
        state.readiness.check(READY_TIMEOUT).await
    })
    .await;
    match verdict {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    if !state.settings.metrics_enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.core.kernel().outbox().counts().await {
        Ok(counts) => state.metrics.set_outbox(&counts),
        Err(e) => tracing::warn!(error = %e, "outbox counts unavailable for /metrics"),
    }
    match state.metrics.render() {
        Ok(body) => (
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

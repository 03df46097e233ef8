//! The audit log's export over HTTP: core's page-by-page export ([`AuditExport`]) as a
//! streamed response body, so a million events never sit in memory at once.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latchkey_core::Core;
use latchkey_core::audit::{AuditExport, AuditFilter, AuditScope, ExportFormat};

/// Streams every event the scope and filter allow, in `format`.
pub fn export(
    core: Core,
    scope: AuditScope,
    filter: AuditFilter,
    format: ExportFormat,
) -> Response {
    let header =
        Some(format.header()).filter(|h| !h.is_empty()).map(|h| Bytes::from_static(h.as_bytes()));
    let pages = futures_util::stream::unfold(Some(AuditExport::new(scope, filter)), move |state| {
        let core = core.clone();
        async move {
            let mut export = state?;
            match core.audit().next_export_page(&mut export).await {
                Ok(None) => None,
                Ok(Some(events)) => {
                    let chunk: String = events.iter().map(|e| format.line(e)).collect();
                    Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), Some(export)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let head = futures_util::stream::iter(header.map(Ok::<_, std::io::Error>));
    let body = Body::from_stream(futures_util::StreamExt::chain(head, pages));
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", format.file_name()),
            ),
        ],
        body,
    )
        .into_response()
}

//! A legacy import from a stream of bytes (the admin API's request body, the console's
//! uploaded file), with bounded memory: the bytes go through a small channel to the blocking
//! thread that parses them into batches ([`spawn_batches`]), and the batches to the import.
//! A slow import slows the upload down (back-pressure) instead of buffering it.

use std::io::Read;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt as _};
use latchkey_core::authority::SiteAdmin;
use latchkey_core::legacy::reader::{ImportFormat, spawn_batches};
use latchkey_core::legacy::{ImportReport, ImportRun, LegacyError};
use tokio::sync::mpsc;

use crate::state::AppState;

/// Chunks in flight between the upload and the parser.
const CHUNKS_IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The upload could not be read (broken off, or not in the format): what was imported
    /// before stays, and the report says how much that was.
    #[error("{reason} ({} records were imported or updated before that)", .report.imported + .report.updated)]
    Unreadable { reason: String, report: ImportReport },
    #[error(transparent)]
    Legacy(#[from] LegacyError),
}

/// The blocking side's view of the upload.
struct ChannelRead {
    chunks: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Imports the records `body` carries into the product; the report and the kept import's id.
pub async fn import_stream<S, E>(
    state: &AppState,
    admin: &SiteAdmin,
    client_id: &str,
    format: ImportFormat,
    run: ImportRun<'_>,
    body: S,
) -> Result<(ImportReport, String), ImportFailure>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let started = std::time::Instant::now();
    let legacy = state.core.legacy();
    legacy.begin_import(admin, client_id, run.dry_run).await?;
    let (chunk_tx, chunk_rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let mut batch_rx =
        spawn_batches(ChannelRead { chunks: chunk_rx, current: Bytes::new() }, format);
    let forward = async move {
        let mut body = body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("reading the upload: {e}"));
            let failed = chunk.is_err();
            if chunk_tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    };
    let consume = async {
        let mut report = ImportReport::default();
        while let Some(batch) = batch_rx.recv().await {
            match batch {
                Ok(lines) => {
                    report.add(legacy.import_read(admin, client_id, lines, run.dry_run).await?);
                }
                Err(reason) => return Err(ImportFailure::Unreadable { reason, report }),
            }
        }
        Ok(report)
    };
    let ((), outcome) = tokio::join!(forward, consume);
    let mut report = outcome?;
    report.errors.sort_by_key(|e| e.line);
    let run = ImportRun {
        milliseconds: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..run
    };
    let id = legacy.finish_import(admin, client_id, &report, run).await?;
    Ok((report, id))
}

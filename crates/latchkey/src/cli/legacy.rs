//! `latchkey client import|rollout|legacy status`: upgrading a product's own user database.
//! The import streams the file (JSON Lines or CSV) in batches of a thousand lines, so memory
//! stays flat whatever its size, and shows progress (rate and ETA) on a terminal.

// Doc comments here are `--help` text for operators, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::io::{IsTerminal as _, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use latchkey_core::legacy::model::MAX_LINE_ERRORS;
use latchkey_core::legacy::reader::{ImportFormat, spawn_batches};
use latchkey_core::legacy::{ImportReport, ImportRun, Rollout};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum LegacyCommand {
    /// Records imported, upgraded, waiting, unverified, unusable.
    Status {
        #[arg(long)]
        client: String,
    },
    /// Forget the old password hashes of upgraded records (and, with --older-than-days, of
    /// records unused that long). The records stay, so products keep their legacy_user_id.
    Purge {
        #[arg(long)]
        client: String,
        #[arg(long)]
        older_than_days: Option<u32>,
        /// Count only.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(cmd: LegacyCommand, config: Config, json: bool) -> Result<(), Failure> {
    match cmd {
        LegacyCommand::Status { client } => status(&client, config, json).await,
        LegacyCommand::Purge { client, older_than_days, dry_run } => {
            purge(&client, older_than_days, dry_run, config, json).await
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The product (client id) whose users these are.
    #[arg(long)]
    client: String,
    /// JSON Lines or CSV with the fields legacy_id, username, email, name, password_hash,
    /// active, created_at, last_login_at (CSV: the same header names).
    file: PathBuf,
    /// jsonl or csv (default: from the file's extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Validate and count; write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Counts bytes read, for the progress display.
struct Counted<R> {
    inner: R,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

struct Progress {
    show: bool,
    total: u64,
    read: Arc<std::sync::atomic::AtomicU64>,
    started: Instant,
    last: Instant,
}

impl Progress {
    // Display arithmetic: rounding a percentage or a rate is harmless.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn tick(&mut self, lines: u64, force: bool) {
        if !self.show || (!force && self.last.elapsed().as_millis() < 250) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let done = self.read.load(std::sync::atomic::Ordering::Relaxed);
        let fraction = if self.total == 0 { 1.0 } else { done as f64 / self.total as f64 };
        let eta = if fraction > 0.0 { secs / fraction - secs } else { 0.0 };
        let width = 30usize;
        let filled = ((fraction.min(1.0)) * width as f64) as usize;
        eprint!(
            "\r[{}{}] {:>3.0}%  {lines} lines  {:.0}/s  ETA {:.0}s   ",
            "#".repeat(filled),
            " ".repeat(width - filled),
            fraction * 100.0,
            lines as f64 / secs,
            eta.max(0.0)
        );
    }
}

fn format_of(args: &ImportArgs) -> Result<ImportFormat, Failure> {
    if let Some(f) = args.format {
        return Ok(match f {
            Format::Jsonl => ImportFormat::Jsonl,
            Format::Csv => ImportFormat::Csv,
        });
    }
    ImportFormat::from_file_name(&args.file.to_string_lossy()).ok_or_else(|| {
        Failure::Usage("cannot tell the format from the file name: add --format jsonl|csv".into())
    })
}

pub async fn import(args: ImportArgs, config: Config, json: bool) -> Result<(), Failure> {
    let format = format_of(&args)?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.file.display())))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Counted { inner: file, read: read.clone() };
    let mut batches = spawn_batches(counted, format);
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let admin = backend.site_admin();
    let legacy = backend.core.legacy();
    legacy
        .begin_import(&admin, &args.client, args.dry_run)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let mut progress = Progress {
        show: !json && std::io::stderr().is_terminal(),
        total,
        read,
        started: Instant::now(),
        last: Instant::now(),
    };
    let mut report = ImportReport::default();
    let mut seen = 0u64;
    while let Some(batch) = batches.recv().await {
        let batch =
            batch.map_err(|e| if seen == 0 { Failure::Usage(e) } else { Failure::Refused(e) })?;
        seen += batch.len() as u64;
        let done = legacy
            .import_read(&admin, &args.client, batch, args.dry_run)
            .await
            .map_err(|e| Failure::Refused(e.to_string()))?;
        report.add(done);
        progress.tick(seen, false);
    }
    progress.tick(seen, true);
    if progress.show {
        eprintln!();
    }
    report.errors.sort_by_key(|e| e.line);
    let run = ImportRun {
        source: "cli",
        dry_run: args.dry_run,
        milliseconds: u64::try_from(progress.started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let id = legacy
        .finish_import(&admin, &args.client, &report, run)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        let mut doc = json!(report);
        doc["dry_run"] = args.dry_run.into();
        doc["id"] = id.into();
        doc["milliseconds"] = json!(progress.started.elapsed().as_millis());
        print_json(&doc);
    } else {
        println!(
            "{}imported {}, updated {}, unchanged {}, skipped {} ({} lines in {:.1}s)",
            if args.dry_run { "dry run: " } else { "" },
            report.imported,
            report.updated,
            report.unchanged,
            report.skipped,
            seen,
            progress.started.elapsed().as_secs_f64()
        );
        for e in report.errors.iter().take(50) {
            println!("  line {}: {}", e.line, e.reason);
        }
        let more = report.errors.len().saturating_sub(50) as u64 + report.errors_not_listed;
        if more > 0 {
            println!("  … and {more} more (use --json for the first {MAX_LINE_ERRORS})");
        }
    }
    Ok(())
}

pub async fn rollout(client: &str, state: &str, config: Config, json: bool) -> Result<(), Failure> {
    let state = Rollout::parse(state)
        .ok_or_else(|| Failure::Usage("--state must be legacy, upgrading or upgraded".into()))?;
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    backend
        .core
        .legacy()
        .set_rollout(&backend.site_admin(), client, state)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        print_json(&json!({ "client_id": client, "rollout": state }));
    } else {
        println!("{client} is now {}", state.as_str());
    }
    Ok(())
}

pub async fn purge(
    client: &str,
    older_than_days: Option<u32>,
    dry_run: bool,
    config: Config,
    json: bool,
) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let purged = backend
        .core
        .legacy()
        .purge(&backend.site_admin(), client, older_than_days, dry_run)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        print_json(&json!({ "client_id": client, "purged": purged, "dry_run": dry_run }));
    } else if dry_run {
        println!("{purged} password hashes would be purged");
    } else {
        println!("{purged} password hashes purged");
    }
    Ok(())
}

pub async fn status(client: &str, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let (rollout, stats) = backend
        .core
        .legacy()
        .status(&backend.site_admin(), client)
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
    if json {
        let mut doc = json!(stats);
        doc["client_id"] = client.into();
        doc["rollout"] = json!(rollout);
        print_json(&doc);
    } else {
        println!(
            "{client}: {}\n  records {}, upgraded {}, waiting {}, upgraded but unverified {}, unusable hashes {}",
            rollout.map_or("no legacy users", Rollout::as_str),
            stats.records,
            stats.upgraded,
            stats.waiting,
            stats.unverified,
            stats.unusable_hash
        );
    }
    Ok(())
}

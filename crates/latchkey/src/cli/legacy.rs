//! `latchkey client import|rollout|legacy status`: upgrading a product's own user database.
//! The import streams the file (JSON Lines or CSV) in batches of a thousand lines, so memory
//! stays flat whatever its size, and shows progress (rate and ETA) on a terminal.

// Doc comments here are `--help` text for operators, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::io::{BufRead, BufReader, IsTerminal as _, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use latchkey_core::legacy::{ImportReport, RawLegacyRecord, Rollout};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;
use crate::platform::SystemClock;

const BATCH: usize = 1000;

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

fn format_of(args: &ImportArgs) -> Result<Format, Failure> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    match args.file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("jsonl" | "ndjson" | "json") => Ok(Format::Jsonl),
        Some("csv") => Ok(Format::Csv),
        _ => Err(Failure::Usage(
            "cannot tell the format from the file name: add --format jsonl|csv".into(),
        )),
    }
}

/// JSON values as the text the validator reads (booleans and numbers too).
fn jsonl_record(line: &str) -> Result<RawLegacyRecord, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("each line must be a JSON object".into());
    };
    let field = |name: &str| match map.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(format!("{name} must be a string, number or boolean")),
    };
    Ok(RawLegacyRecord {
        legacy_id: field("legacy_id")?,
        username: field("username")?,
        email: field("email")?,
        name: field("name")?,
        password_hash: field("password_hash")?,
        active: field("active")?,
        created_at: field("created_at")?,
        last_login_at: field("last_login_at")?,
    })
}

/// One line read: its number, and the record or why it is not one.
type ReadLine = (u64, Result<RawLegacyRecord, String>);

/// Reads the file line by line (or CSV record by record) and hands out batches.
enum Lines {
    Jsonl(std::io::Lines<BufReader<Counted<std::fs::File>>>, u64),
    Csv(csv::StringRecordsIntoIter<Counted<std::fs::File>>, csv::StringRecord),
}

impl Lines {
    /// The next batch of (line number, record or why not); empty at the end.
    fn batch(&mut self) -> Result<Vec<ReadLine>, Failure> {
        let mut out = Vec::with_capacity(BATCH);
        while out.len() < BATCH {
            match self {
                Self::Jsonl(lines, n) => {
                    let Some(line) = lines.next() else { break };
                    *n += 1;
                    let line =
                        line.map_err(|e| Failure::Refused(format!("reading the file: {e}")))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    out.push((*n, jsonl_record(&line)));
                }
                Self::Csv(records, headers) => {
                    let Some(record) = records.next() else { break };
                    match record {
                        Ok(r) => {
                            let line = r.position().map_or(0, csv::Position::line);
                            let get = |name: &str| {
                                headers
                                    .iter()
                                    .position(|h| h == name)
                                    .and_then(|i| r.get(i))
                                    .map(str::to_owned)
                            };
                            let raw = RawLegacyRecord {
                                legacy_id: get("legacy_id"),
                                username: get("username"),
                                email: get("email"),
                                name: get("name"),
                                password_hash: get("password_hash"),
                                active: get("active"),
                                created_at: get("created_at"),
                                last_login_at: get("last_login_at"),
                            };
                            out.push((line, Ok(raw)));
                        }
                        Err(e) => {
                            let line = e.position().map_or(0, csv::Position::line);
                            out.push((line, Err(format!("malformed CSV: {e}"))));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

pub async fn import(args: ImportArgs, config: Config, json: bool) -> Result<(), Failure> {
    let format = format_of(&args)?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.file.display())))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Counted { inner: file, read: read.clone() };
    let mut lines = match format {
        Format::Jsonl => Lines::Jsonl(BufReader::with_capacity(1 << 16, counted).lines(), 0),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(counted);
            let headers =
                reader.headers().map_err(|e| Failure::Usage(format!("CSV header: {e}")))?.clone();
            if !headers.iter().any(|h| h == "legacy_id") || !headers.iter().any(|h| h == "email") {
                return Err(Failure::Usage(
                    "the CSV header must name at least legacy_id and email".into(),
                ));
            }
            Lines::Csv(reader.into_records(), headers)
        }
    };
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
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
    loop {
        let batch = lines.batch()?;
        if batch.is_empty() {
            break;
        }
        seen += batch.len() as u64;
        let mut good = Vec::with_capacity(batch.len());
        for (line, parsed) in batch {
            match parsed {
                Ok(raw) => good.push((line, raw)),
                Err(reason) => {
                    report.skipped += 1;
                    report.errors.push(latchkey_core::legacy::LineError { line, reason });
                }
            }
        }
        let done = legacy
            .import_batch(&admin, &args.client, good, args.dry_run)
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
    legacy.finish_import(&admin, &args.client, &report, args.dry_run).await;
    if json {
        let mut doc = json!(report);
        doc["dry_run"] = args.dry_run.into();
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
        if report.errors.len() > 50 {
            println!("  … and {} more (use --json for all)", report.errors.len() - 50);
        }
    }
    Ok(())
}

pub async fn rollout(client: &str, state: &str, config: Config, json: bool) -> Result<(), Failure> {
    let state = Rollout::parse(state)
        .ok_or_else(|| Failure::Usage("--state must be legacy, upgrading or upgraded".into()))?;
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
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
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
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
    let backend = Backend::open(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| Failure::Refused(e.to_string()))?;
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

//! Reading an import file (JSON Lines or CSV) from any byte source, in batches of
//! [`BATCH`] lines, with bounded memory: a line longer than [`MAX_LINE`] is reported and
//! skipped, never held whole. Shared by the CLI (a file), the admin API (a streamed request
//! body) and the site console (an upload). Pure parsing: the caller owns the I/O.

use std::io::{BufRead, BufReader, Read};

use crate::legacy::model::RawLegacyRecord;

/// Lines per batch (one transaction each).
pub const BATCH: usize = 1000;
/// The longest line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Jsonl,
    Csv,
}

impl ImportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// From a file name's extension.
    pub fn from_file_name(name: &str) -> Option<Self> {
        name.rsplit_once('.').and_then(|(_, ext)| Self::parse(ext))
    }

    /// From an HTTP `Content-Type`.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-ndjson"
            | "application/jsonl"
            | "application/json-lines"
            | "application/json" => Some(Self::Jsonl),
            "text/csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// One line read: its number, and the record or why it is not one.
pub type ReadLine = (u64, Result<RawLegacyRecord, String>);

/// The fields a line may carry.
const FIELDS: [&str; 8] = [
    "legacy_id",
    "username",
    "email",
    "name",
    "password_hash",
    "active",
    "created_at",
    "last_login_at",
];

fn record_from(
    mut get: impl FnMut(&str) -> Result<Option<String>, String>,
) -> Result<RawLegacyRecord, String> {
    let mut values = Vec::with_capacity(FIELDS.len());
    for name in FIELDS {
        values.push(get(name)?);
    }
    let mut v = values.into_iter();
    let mut next = || v.next().flatten();
    Ok(RawLegacyRecord {
        legacy_id: next(),
        username: next(),
        email: next(),
        name: next(),
        password_hash: next(),
        active: next(),
        created_at: next(),
        last_login_at: next(),
    })
}

/// A JSON object line; numbers and booleans are read as their text, as CSV gives them.
pub fn jsonl_record(line: &str) -> Result<RawLegacyRecord, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("each line must be a JSON object".into());
    };
    record_from(|name| match map.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(format!("{name} must be a string, number or boolean")),
    })
}

enum Source<R: Read> {
    Jsonl { reader: BufReader<R>, line: u64, buf: Vec<u8> },
    Csv { records: csv::StringRecordsIntoIter<R>, headers: csv::StringRecord },
}

/// Hands out an import's lines in batches.
pub struct ImportReader<R: Read> {
    source: Source<R>,
}

impl<R: Read> ImportReader<R> {
    /// For CSV, reads the header row, which must name at least `legacy_id` and `email`.
    pub fn new(reader: R, format: ImportFormat) -> Result<Self, String> {
        let source = match format {
            ImportFormat::Jsonl => Source::Jsonl {
                reader: BufReader::with_capacity(1 << 16, reader),
                line: 0,
                buf: Vec::with_capacity(1024),
            },
            ImportFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
                let headers = reader.headers().map_err(|e| format!("CSV header: {e}"))?.clone();
                if !headers.iter().any(|h| h == "legacy_id")
                    || !headers.iter().any(|h| h == "email")
                {
                    return Err("the CSV header must name at least legacy_id and email".into());
                }
                Source::Csv { records: reader.into_records(), headers }
            }
        };
        Ok(Self { source })
    }

    /// The next batch; empty at the end. An error is a failure to read the source itself
    /// (the upload broke off), not a bad line.
    pub fn batch(&mut self) -> Result<Vec<ReadLine>, String> {
        let mut out = Vec::with_capacity(BATCH);
        while out.len() < BATCH {
            let next = match &mut self.source {
                Source::Jsonl { reader, line, buf } => next_jsonl(reader, line, buf)?,
                Source::Csv { records, headers } => next_csv(records, headers),
            };
            match next {
                Next::Line(read) => out.push(read),
                Next::Blank => {}
                Next::End => break,
            }
        }
        Ok(out)
    }
}

/// What the source holds next.
enum Next {
    End,
    Blank,
    Line(ReadLine),
}

fn next_jsonl<R: Read>(
    reader: &mut BufReader<R>,
    line: &mut u64,
    buf: &mut Vec<u8>,
) -> Result<Next, String> {
    buf.clear();
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', buf)
        .map_err(|e| format!("reading the upload: {e}"))?;
    if n == 0 {
        return Ok(Next::End);
    }
    *line += 1;
    if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
        // Skip the rest of the line without holding it.
        loop {
            let chunk = reader.fill_buf().map_err(|e| format!("reading the upload: {e}"))?;
            if chunk.is_empty() {
                break;
            }
            if let Some(at) = chunk.iter().position(|b| *b == b'\n') {
                reader.consume(at + 1);
                break;
            }
            let len = chunk.len();
            reader.consume(len);
        }
        return Ok(Next::Line((*line, Err(format!("line longer than {} KiB", MAX_LINE / 1024)))));
    }
    let Ok(text) = std::str::from_utf8(buf) else {
        return Ok(Next::Line((*line, Err("not valid UTF-8".to_owned()))));
    };
    if text.trim().is_empty() {
        return Ok(Next::Blank);
    }
    Ok(Next::Line((*line, jsonl_record(text.trim_end()))))
}

fn next_csv<R: Read>(
    records: &mut csv::StringRecordsIntoIter<R>,
    headers: &csv::StringRecord,
) -> Next {
    let Some(record) = records.next() else { return Next::End };
    Next::Line(match record {
        Ok(r) => {
            let line = r.position().map_or(0, csv::Position::line);
            let raw = record_from(|name| {
                Ok(headers.iter().position(|h| h == name).and_then(|i| r.get(i)).map(str::to_owned))
            });
            (line, raw)
        }
        Err(e) => {
            let line = e.position().map_or(0, csv::Position::line);
            (line, Err(format!("malformed CSV: {e}")))
        }
    })
}

/// Reads `source` on a blocking thread and hands out its batches through a small channel, so
/// parsing runs alongside the database writes and at most two batches wait in memory. The
/// channel ends after the last batch, or after an error (the source could not be read).
pub fn spawn_batches<R: Read + Send + 'static>(
    source: R,
    format: ImportFormat,
) -> tokio::sync::mpsc::Receiver<Result<Vec<ReadLine>, String>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut reader = match ImportReader::new(source, format) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            match reader.batch() {
                Ok(lines) if lines.is_empty() => return,
                Ok(lines) => {
                    if tx.blocking_send(Ok(lines)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], format: ImportFormat) -> Vec<ReadLine> {
        let mut reader = ImportReader::new(input, format).unwrap();
        let mut out = Vec::new();
        loop {
            let batch = reader.batch().unwrap();
            if batch.is_empty() {
                return out;
            }
            out.extend(batch);
        }
    }

    #[test]
    fn json_lines_keep_their_numbers_and_say_what_is_wrong() {
        let input = b"{\"legacy_id\":7,\"email\":\"a@example.com\",\"active\":false}\n\n[1]\nnot json\n{\"legacy_id\":{\"x\":1}}\n";
        let lines = all(input, ImportFormat::Jsonl);
        assert_eq!(lines.len(), 4);
        let first = lines[0].1.as_ref().unwrap();
        assert_eq!(
            (lines[0].0, first.legacy_id.as_deref(), first.active.as_deref()),
            (1, Some("7"), Some("false"))
        );
        assert_eq!(lines[1].0, 3, "blank lines count but are not records");
        assert!(lines[1].1.as_ref().unwrap_err().contains("JSON object"));
        assert!(lines[2].1.as_ref().unwrap_err().contains("not valid JSON"));
        assert!(lines[3].1.as_ref().unwrap_err().contains("legacy_id must be"));
    }

    #[test]
    fn a_huge_line_or_bad_bytes_are_reported_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE * 3];
        input.extend_from_slice(b"\n\xff\xfe\n{\"legacy_id\":\"2\",\"email\":\"b@example.com\"}");
        let lines = all(&input, ImportFormat::Jsonl);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].1.as_ref().unwrap_err().contains("longer than"));
        assert!(lines[1].1.as_ref().unwrap_err().contains("UTF-8"));
        assert_eq!((lines[2].0, lines[2].1.as_ref().unwrap().legacy_id.as_deref()), (3, Some("2")));
    }

    #[test]
    fn csv_needs_its_header_and_reads_by_name() {
        assert!(ImportReader::new(&b"id,mail\n1,a@example.com\n"[..], ImportFormat::Csv).is_err());
        let lines =
            all(b"email,legacy_id,extra\na@example.com,1,x\n\"unterminated,2\n", ImportFormat::Csv);
        let first = lines[0].1.as_ref().unwrap();
        assert_eq!(
            (first.legacy_id.as_deref(), first.email.as_deref()),
            (Some("1"), Some("a@example.com"))
        );
        assert_eq!(lines[0].0, 2);
    }

    #[test]
    fn formats_are_told_by_name_and_content_type() {
        assert_eq!(ImportFormat::from_file_name("users.JSONL"), Some(ImportFormat::Jsonl));
        assert_eq!(ImportFormat::from_file_name("users.csv"), Some(ImportFormat::Csv));
        assert_eq!(ImportFormat::from_file_name("users"), None);
        assert_eq!(
            ImportFormat::from_content_type("text/csv; charset=utf-8"),
            Some(ImportFormat::Csv)
        );
        assert_eq!(
            ImportFormat::from_content_type("application/x-ndjson"),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(ImportFormat::from_content_type("text/plain"), None);
    }
}

//! Reading the mail Latchkey wrote to its outbox (or that reached the SMTP sink).

use std::path::Path;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The message as sent.
    pub raw: String,
    /// The message with quoted-printable soft breaks and escapes undone, for finding links.
    pub decoded: String,
}

impl Mail {
    pub fn parse(raw: &str) -> Self {
        let header = |name: &str| {
            raw.lines()
                .take_while(|l| !l.is_empty())
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            to: header("To:"),
            subject: header("Subject:"),
            raw: raw.to_owned(),
            decoded: decode_quoted_printable(raw),
        }
    }

    /// The token of the first link to `path` (e.g. "/verify-email") in the message.
    pub fn token_for(&self, path: &str) -> String {
        let marker = format!("{path}?token=");
        let start = self
            .decoded
            .find(&marker)
            .unwrap_or_else(|| panic!("no {path} link in {}", self.decoded))
            + marker.len();
        self.decoded[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The first absolute link to `path`, as it appears in the message.
    pub fn link_to(&self, path: &str) -> String {
        let marker = format!("{path}?token=");
        let at = self.decoded.find(&marker).unwrap_or_else(|| panic!("no {path} link"));
        let start = self.decoded[..at].rfind("http").expect("absolute link");
        format!("{}{marker}{}", &self.decoded[start..at], self.token_for(path))
    }
}

pub fn read_outbox(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|raw| Mail::parse(&raw))
        .collect()
}

/// RFC 2045 §6.7 quoted-printable: `=\r\n` is a soft line break, `=XX` a byte. Anything
/// else is kept as it is (good enough to read our own messages in tests).
fn decode_quoted_printable(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if bytes[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

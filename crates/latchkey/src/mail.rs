//! Mail transports behind the core's `MailTransport` port: messages are framed as RFC 5322 by
//! lettre and written to the outbox folder or sent over SMTP. The delivery job in core decides
//! when (and whether again); this module only knows how.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use latchkey_core::mail::OutgoingMail;
use latchkey_core::ports::{MailError, MailTransport};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where framed messages end up.
pub enum Delivery {
    /// One `.eml` file per message in this folder.
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Transport {
    from: Mailbox,
    delivery: Delivery,
    sequence: AtomicU64,
}

impl Transport {
    pub fn new(from: Mailbox, delivery: Delivery) -> Self {
        Self { from, delivery, sequence: AtomicU64::new(0) }
    }

    pub fn smtp(url: &str) -> Result<Delivery, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|b| Delivery::Smtp(b.timeout(Some(Duration::from_secs(20))).build()))
            .map_err(|e| e.to_string())
    }
}

#[async_trait]
impl MailTransport for Transport {
    async fn deliver(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = frame(&self.from, mail.clone())?;
        let err = |e: &dyn std::fmt::Display| MailError(e.to_string());
        match &self.delivery {
            Delivery::Outbox(dir) => {
                let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
                // The folder is 0700 and the files 0600: they carry live links.
                if !dir.is_dir() {
                    crate::private_files::ensure_private_dir(dir).map_err(|e| err(&e))?;
                }
                // Written under a temporary name and renamed, so readers never see half a file.
                let name = outbox_file_name(seq);
                let tmp = dir.join(format!(".{name}.tmp"));
                let mut options = tokio::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                options.mode(0o600);
                let mut file = options.open(&tmp).await.map_err(|e| err(&e))?;
                tokio::io::AsyncWriteExt::write_all(&mut file, &message.formatted())
                    .await
                    .map_err(|e| err(&e))?;
                tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| err(&e))?;
                drop(file);
                tokio::fs::rename(&tmp, dir.join(name)).await.map_err(|e| err(&e))
            }
            Delivery::Smtp(transport) => {
                transport.send(message).await.map(|_| ()).map_err(|e| err(&e))
            }
        }
    }
}

#[allow(clippy::disallowed_methods)] // file names only need to sort by arrival
fn outbox_file_name(seq: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:024}-{seq:06}.eml")
}

/// The message as sent. A sender configured without a display name (the default) takes the
/// installation's name from the message, so mail is from "Acme ID <no-reply@…>" once a site
/// admin named it so.
pub fn frame(from: &Mailbox, mail: OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|e| MailError(format!("recipient: {e}")))?;
    let from = match (&from.name, mail.sender_name) {
        (None, Some(name)) => Mailbox::new(Some(name), from.email.clone()),
        _ => from.clone(),
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| MailError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_standard_multipart_message() {
        let from: Mailbox = "Latchkey <no-reply@example.com>".parse().unwrap();
        let m = frame(
            &from,
            OutgoingMail {
                sender_name: Some("Acme ID".into()),
                to: "ada@example.com".into(),
                subject: "Verify your email address".into(),
                text: "plain https://x.example/verify-email?token=abc".into(),
                html: "<p>html</p>".into(),
            },
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("From: Latchkey <no-reply@example.com>"));
        assert!(text.contains("To: ada@example.com"));
        assert!(text.contains("Subject: Verify your email address"));
        assert!(text.contains("Date: "));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain"));
        assert!(text.contains("text/html"));
    }

    #[test]
    fn header_injection_in_the_recipient_is_refused() {
        let from: Mailbox = "Latchkey <no-reply@example.com>".parse().unwrap();
        let bad = OutgoingMail {
            sender_name: None,
            to: "a@example.com\r\nBcc: evil@example.com".into(),
            subject: "x".into(),
            text: "x".into(),
            html: "x".into(),
        };
        assert!(frame(&from, bad).is_err());
    }

    #[test]
    fn a_sender_without_a_name_takes_the_installations_name_safely() {
        let from: Mailbox = "no-reply@example.com".parse().unwrap();
        let mail = |name: &str| OutgoingMail {
            sender_name: Some(name.into()),
            to: "ada@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        let text = String::from_utf8(frame(&from, mail("Acme ID")).unwrap().formatted()).unwrap();
        assert!(text.contains(r#"From: "Acme ID" <no-reply@example.com>"#), "{text}");
        // Quotes, angle brackets and commas in a name stay inside the display name.
        let text = String::from_utf8(
            frame(&from, mail("Evil\" <boss@evil.test>, x")).unwrap().formatted(),
        )
        .unwrap();
        let header = text.lines().find(|l| l.starts_with("From: ")).unwrap();
        assert!(header.ends_with("<no-reply@example.com>"), "{header}");
        assert_eq!(header.matches('<').count(), 1, "{header}");
        let queued_before: OutgoingMail =
            serde_json::from_str(r#"{"to":"a@example.com","subject":"s","text":"t","html":"h"}"#)
                .unwrap();
        assert_eq!(queued_before.sender_name, None);
    }
}

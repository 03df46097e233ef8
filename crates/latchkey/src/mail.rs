//! Mail delivery behind the core's `Mailer` port: messages are framed as RFC 5322 by lettre
//! and handed to a background task, which writes them to the outbox folder or sends them over
//! SMTP with retries. Requests never wait on a mail server.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_core::mail::OutgoingMail;
use latchkey_core::ports::{MailError, Mailer};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

/// Where framed messages end up.
#[derive(Clone)]
pub enum Delivery {
    /// One `.eml` file per message in this folder.
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Delivery {
    pub fn smtp(url: &str) -> Result<Self, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|b| Self::Smtp(b.timeout(Some(Duration::from_secs(20))).build()))
            .map_err(|e| e.to_string())
    }

    async fn deliver(&self, message: &Message, seq: u64) -> Result<(), String> {
        match self {
            Self::Outbox(dir) => {
                let bytes = message.formatted();
                tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
                // Written under a temporary name and renamed, so readers never see half a file.
                let name = outbox_file_name(seq);
                let tmp = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&tmp, bytes).await.map_err(|e| e.to_string())?;
                tokio::fs::rename(&tmp, dir.join(name)).await.map_err(|e| e.to_string())
            }
            Self::Smtp(transport) => {
                transport.send(message.clone()).await.map(|_| ()).map_err(|e| e.to_string())
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

/// Frames messages and queues them for the delivery task.
pub struct QueuedMailer {
    from: Mailbox,
    queue: mpsc::Sender<Message>,
}

/// Attempts per message, and the pause before each retry.
const RETRY_DELAYS: [Duration; 3] =
    [Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(30)];

impl QueuedMailer {
    /// Starts the delivery task on the current runtime.
    pub fn start(from: Mailbox, delivery: Delivery) -> Self {
        let (queue, mut rx) = mpsc::channel::<Message>(10_000);
        tokio::spawn(async move {
            let mut seq = 0u64;
            while let Some(message) = rx.recv().await {
                seq += 1;
                let mut attempt = 0;
                loop {
                    match delivery.deliver(&message, seq).await {
                        Ok(()) => break,
                        Err(e) if attempt < RETRY_DELAYS.len() => {
                            tracing::warn!(error = %e, attempt, "mail delivery failed; will retry");
                            tokio::time::sleep(RETRY_DELAYS[attempt]).await;
                            attempt += 1;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "mail delivery failed; giving up");
                            break;
                        }
                    }
                }
            }
        });
        Self { from, queue }
    }
}

pub fn frame(from: &Mailbox, mail: OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|e| MailError(format!("recipient: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject)
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| MailError(e.to_string()))
}

#[async_trait]
impl Mailer for QueuedMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let message = frame(&self.from, mail)?;
        self.queue.try_send(message).map_err(|e| MailError(format!("mail queue: {e}")))
    }
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
            to: "a@example.com\r\nBcc: evil@example.com".into(),
            subject: "x".into(),
            text: "x".into(),
            html: "x".into(),
        };
        assert!(frame(&from, bad).is_err());
    }
}

//! [`Core`]: the ports and settings every use case runs against. Use cases are `impl Core`
//! blocks in the module that owns them (`flows/signup.rs`, `sessions/service.rs`, …).

use std::sync::Arc;

use crate::accounts::ports::AccountRepo;
use crate::audit::ports::AuditRepo;
use crate::authority::Operator;
use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::credentials::PasswordHasher;
use crate::flows::ThrottlePolicy;
use crate::flows::ports::{AdminTokenRepo, EmailChangeRepo, OneTimeTokenRepo, ThrottleRepo};
use crate::mail::OutgoingMail;
use crate::oidc_provider::OidcState;
use crate::oidc_provider::ports::{ClientRepo, KeyFetcher, OidcRepo, SigningKeyRepo};
use crate::orgs::ports::{DnsResolver, OrgRepo, WebProofFetcher};
use crate::outbox::ports::{NewOutboxItem, OutboxRepo};
use crate::second_factor::SecondFactorState;
use crate::second_factor::ports::SecondFactorRepo;
use crate::secret::Rng;
use crate::sessions::ports::SessionRepo;

/// Everything outside the domain, wired by the binary.
#[derive(Clone)]
pub struct Ports {
    pub accounts: Arc<dyn AccountRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub tokens: Arc<dyn OneTimeTokenRepo>,
    pub throttle: Arc<dyn ThrottleRepo>,
    pub outbox: Arc<dyn OutboxRepo>,
    pub admin_tokens: Arc<dyn AdminTokenRepo>,
    pub second_factor: Arc<dyn SecondFactorRepo>,
    pub orgs: Arc<dyn OrgRepo>,
    pub audit: Arc<dyn AuditRepo>,
    pub email_changes: Arc<dyn EmailChangeRepo>,
    pub dns: Arc<dyn DnsResolver>,
    pub web_proof: Arc<dyn WebProofFetcher>,
    pub clients: Arc<dyn ClientRepo>,
    pub signing_keys: Arc<dyn SigningKeyRepo>,
    pub oidc: Arc<dyn OidcRepo>,
    pub fetcher: Arc<dyn KeyFetcher>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// Base of every link we email (no trailing slash).
    pub public_url: String,
    /// Absolute lifetime of a browser session.
    pub session_lifetime_secs: i64,
    /// A session unused for this long ends.
    pub session_idle_secs: i64,
    pub verify_email_ttl_secs: i64,
    pub reset_password_ttl_secs: i64,
    pub throttle: ThrottlePolicy,
    /// Closed accounts keep their personal data this long (reactivation is possible).
    pub closure_grace_secs: i64,
    /// Audit events are kept this long.
    pub audit_retention_secs: i64,
}

impl CoreSettings {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            session_lifetime_secs: 30 * 24 * 3600,
            session_idle_secs: 7 * 24 * 3600,
            verify_email_ttl_secs: 24 * 3600,
            reset_password_ttl_secs: 3600,
            throttle: ThrottlePolicy::default(),
            closure_grace_secs: 14 * 24 * 3600,
            audit_retention_secs: 365 * 24 * 3600,
        }
    }
}

#[derive(Clone)]
pub struct Core {
    pub(crate) ports: Ports,
    pub(crate) settings: CoreSettings,
    pub(crate) hasher: PasswordHasher,
    pub(crate) oidc: Arc<OidcState>,
    pub(crate) second_factor: Arc<SecondFactorState>,
}

impl Core {
    /// The core, and the local operator's authority for whoever built it (the binary's CLI;
    /// the web layer only ever gets the core).
    pub fn new(
        ports: Ports,
        settings: CoreSettings,
        hasher: PasswordHasher,
        oidc: OidcState,
        second_factor: SecondFactorState,
    ) -> (Self, Operator) {
        let core = Self {
            ports,
            settings,
            hasher,
            oidc: Arc::new(oidc),
            second_factor: Arc::new(second_factor),
        };
        (core, Operator::mint())
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    pub fn clock(&self) -> &dyn Clock {
        self.ports.clock.as_ref()
    }

    /// A fresh 256-bit bearer token (used by the web layer for CSRF cookies).
    pub fn new_opaque_token(&self) -> crate::secret::OpaqueToken {
        crate::secret::OpaqueToken::generate(self.ports.rng.as_ref())
    }

    /// A new UUIDv7 string from the injected clock and randomness.
    pub(crate) fn new_id(&self, now: Timestamp) -> String {
        let mut random = [0u8; 10];
        self.ports.rng.fill(&mut random);
        let millis = u64::try_from(now.unix()).unwrap_or(0).saturating_mul(1000);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string()
    }

    /// An absolute URL under the public URL, for emails.
    pub(crate) fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.settings.public_url, path_and_query)
    }

    /// Queues mail in the durable outbox; the delivery job sends it. From the use case's point
    /// of view mail is best effort: the action has happened, and a failure to queue is logged
    /// rather than undoing it.
    pub(crate) async fn send_mail(&self, mail: Result<OutgoingMail, crate::mail::RenderError>) {
        let mail = match mail {
            Ok(mail) => mail,
            Err(e) => {
                tracing::error!(error = %e, "could not render mail");
                return;
            }
        };
        let now = self.ports.clock.now();
        let payload = match serde_json::to_string(&mail) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not serialize mail");
                return;
            }
        };
        let item = NewOutboxItem {
            id: self.new_id(now),
            kind: crate::mail::OUTBOX_KIND,
            recipient: mail.to,
            summary: mail.subject,
            payload,
            created_at: now,
        };
        if let Err(e) = self.ports.outbox.enqueue(&item).await {
            tracing::error!(error = %e, "could not queue mail");
        }
    }
}

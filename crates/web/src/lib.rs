//! Latchkey's HTTP surface: server-rendered pages, health and metrics endpoints (and, as they
//! arrive, the REST API and the OIDC, SAML and SCIM endpoints). Handlers are thin: they parse,
//! call one use case on [`latchkey_core::Core`], and map the result. Domain errors become HTTP
//! responses in [`error`] only.

mod api;
mod audit_export;
pub mod brand;
mod error;
mod extract;
mod flash;
pub mod footer;
mod health;
mod host_check;
mod legacy_import;
mod metrics;
mod oidc;
mod pages;
mod router;
mod saml;
mod state;

pub use health::ReadinessProbe;
pub use metrics::Metrics;
pub use router::router;
pub use state::{AppParts, AppState, WebSettings};

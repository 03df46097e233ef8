//! Latchkey's domain: accounts, credentials, sessions and the flows people go through.
//! Framework-free: no HTTP, SQL or mail-transport types appear here; the outside world is
//! reached only through the traits in each feature's `ports` (all re-exported by [`ports`]).
//! Each feature's use cases are methods of its service (`Accounts`, `Sessions`, …), built over
//! only the ports and services it uses; [`Core`] composes them.

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod authority;
pub mod branding;
pub mod clock;
pub mod credentials;
pub mod errors;
pub mod flash;
pub mod flows;
pub mod guard;
mod id;
pub mod jobs;
pub mod kernel;
mod layering;
pub mod legacy;
pub mod mail;
pub mod oidc_provider;
pub mod orgs;
pub mod outbox;
pub mod policies;
pub mod ports;
pub mod return_to;
pub mod saml_sp;
mod sealed;
pub mod second_factor;
pub mod secret;
pub mod sessions;
pub mod settings;
pub mod text;

mod service;

pub use outbox::DeliveryReport;
pub use service::{Core, Ports};
pub use settings::CoreSettings;

//! Latchkey's domain: accounts, credentials, sessions and the flows people go through.
//! Framework-free: no HTTP, SQL or mail-transport types appear here; the outside world is
//! reached only through the traits in [`ports`].

pub mod accounts;
pub mod audit;
pub mod authority;
pub mod clock;
pub mod credentials;
pub mod errors;
pub mod flows;
mod id;
mod layering;
pub mod mail;
pub mod oidc_provider;
pub mod orgs;
pub mod outbox;
pub mod ports;
pub mod return_to;
mod sealed;
pub mod second_factor;
pub mod secret;
pub mod sessions;
pub mod text;

mod service;

pub use outbox::DeliveryReport;
pub use service::{Core, CoreSettings, Ports};

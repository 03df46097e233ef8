//! The `latchkey` binary's library half: configuration, wiring and the CLI, so the test kit
//! can start exactly what `latchkey serve` starts.

pub mod app;
mod backchannel;
pub mod cli;
pub mod config;
pub mod demo;
mod dns;
mod jwks_fetch;
mod mail;
mod platform;
mod private_files;
mod serve;
mod web_proof;

pub use app::{App, Backend, Overrides, StartError};
pub use config::{Config, ConfigError};
pub use platform::{OsRng, SystemClock};

//! Server-side sessions: one per signed-in browser, shared by every product. Owns creating,
//! resolving (the hot path of every signed-in request), listing and ending sessions.

pub mod model;
mod service;

pub use model::{ClientInfo, Session, SessionId};
pub use service::{
    LoginSuccess, NewSessionCookie, SessionError, SessionLifetimes, Sessions, SignedOutEverywhere,
};
pub mod ports;

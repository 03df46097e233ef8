//! Extractors: who is calling (client details, session) and validated form input (CSRF).

mod client;
mod console;
mod cookies;
mod csrf;
mod query;
mod session;

pub use client::Client;
pub use console::{ConsoleAdmin, OrgConsole};
pub use cookies::{
    CookieNames, flash_cookie, flash_cookie_removal, pending_cookie, pending_cookie_removal,
    pending_token, session_cookie, session_cookie_removal,
};
pub use csrf::{CsrfForm, CsrfToken, csrf_cookie, csrf_rejection_response};
pub(crate) use csrf::{csrf_matches, csrf_rejection, presented_csrf};
pub use query::PageQuery;
pub use session::{MaybeSignedIn, SignedIn};

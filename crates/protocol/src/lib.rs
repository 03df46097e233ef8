//! OpenID Connect, OAuth 2.0, JOSE and SAML 2.0 as data: message types, their parsing from outside input,
//! and the checks the specifications define (PKCE, parameter rules). No I/O, no storage, no
//! clock: callers pass time in. Every parser here has tests for malformed and hostile input.

pub mod jose;
pub mod oidc;
pub mod saml;

//! JOSE: signing algorithms and public keys as JWKs (RFC 7517, 7518, 8037).

mod jwk;

pub use jwk::{Jwk, JwkSet, SigningAlg};

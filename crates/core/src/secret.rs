//! Secrets that must never be logged: a redacting wrapper, opaque bearer tokens and their
//! at-rest hashes.
//!
//! Tokens handed to people (session cookies, email links) carry 256 bits from the `Rng` port.
//! Only their SHA-256 is stored: with that much entropy a fast hash is enough (DESIGN rule 12),
//! and it makes the lookup an indexed equality, so no timing of a comparison is observable.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A cryptographically secure random source.
pub trait Rng: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// A value that prints as `[redacted]` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; call sites that use this are the ones to audit.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Bytes of randomness in every bearer token we issue (256 bits).
const TOKEN_BYTES: usize = 32;

/// A bearer token as the holder sees it (cookie value, link parameter).
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken(Secret<String>);

impl OpaqueToken {
    pub fn generate(rng: &dyn Rng) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill(&mut bytes);
        Self(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts a token presented by a client. Anything that is not the shape we issue is
    /// refused before it reaches storage.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = raw.len() == 43
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(Secret::new(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.expose())
    }
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken([redacted])")
    }
}

/// SHA-256 of a token, hex encoded: the only form in which tokens are stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
        }
        Self(hex)
    }

    /// Rebuilds a hash read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Constant-time equality for secrets compared in memory (CSRF tokens and the like).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting;
    impl Rng for Counting {
        fn fill(&self, buf: &mut [u8]) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = u8::try_from(i % 251).unwrap_or(0);
            }
        }
    }

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let t = OpaqueToken::generate(&Counting);
        assert_eq!(t.expose().len(), 43);
        let again = OpaqueToken::parse(t.expose()).unwrap();
        assert_eq!(again.hash(), t.hash());
        assert_eq!(t.hash().as_str().len(), 64);
    }

    #[test]
    fn hostile_tokens_are_refused() {
        for raw in ["", "short", &"a".repeat(44), &format!("{}'", "a".repeat(42)), &"é".repeat(22)]
        {
            assert!(OpaqueToken::parse(raw).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let t = OpaqueToken::generate(&Counting);
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_eq!(format!("{:?}", Secret::new("pw")), "[redacted]");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}

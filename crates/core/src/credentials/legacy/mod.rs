//! Password hashes imported from products' own user databases, recognised by their exact
//! shape and verified with `RustCrypto`'s implementations: bcrypt (`$2a$`, `$2b$`, `$2y$`, also
//! `{CRYPT}`-wrapped), Atlassian `{PKCS5S2}`, Django `pbkdf2_sha256$`/`pbkdf2_sha1$`, PHC strings
//! (`$argon2id$`, `$argon2i$`, `$pbkdf2-sha256$` in both the PHC and passlib layouts, `$scrypt$`)
//! and LDAP `{SSHA}`, `{SSHA256}`, `{SSHA512}`. A shape that is not exactly one of these is
//! refused with the reason; nothing is guessed. Work factors are bounded so a hostile record
//! cannot make one login burn seconds of CPU or gigabytes of memory. Digests are compared in
//! constant time.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use subtle::ConstantTimeEq as _;

#[cfg(test)]
mod tests;

/// Work factors past these are refused (a record asking for more is hostile or broken).
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
const MAX_BCRYPT_COST: u32 = 16;
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
const MAX_ARGON2_MEMORY_KIB: u32 = 1024 * 1024;
/// Longest stored hash accepted at all.
const MAX_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

/// A recognised legacy hash, parsed and within bounds.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyHash {
    kind: Kind,
    format: &'static str,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Bcrypt(String),
    Pbkdf2 { prf: Prf, iterations: u32, salt: Vec<u8>, key: Vec<u8> },
    Scrypt { log_n: u8, r: u32, p: u32, salt: Vec<u8>, key: Vec<u8> },
    Argon2(String),
    SaltedSha { prf: Prf, salt: Vec<u8>, digest: Vec<u8> },
}

impl std::fmt::Debug for LegacyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LegacyHash({}, [redacted])", self.format)
    }
}

/// Why a stored hash is not usable, for the import report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LegacyHashError(pub String);

fn bad<T>(reason: impl Into<String>) -> Result<T, LegacyHashError> {
    Err(LegacyHashError(reason.into()))
}

/// passlib's "adapted base64": `.` for `+`, no padding.
fn ab64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text.replace('.', "+")).ok()
}

fn b64_any(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok().or_else(|| STANDARD_NO_PAD.decode(text).ok())
}

impl LegacyHash {
    /// Recognises a stored hash by its exact shape.
    pub fn parse(stored: &str) -> Result<Self, LegacyHashError> {
        let s = stored.trim();
        if s.is_empty() {
            return bad("no password hash");
        }
        if s.len() > MAX_LEN || !s.is_ascii() {
            return bad("the password hash is too long or not ASCII");
        }
        let upper_prefix =
            s.get(..s.find('}').map_or(0, |i| i + 1)).unwrap_or("").to_ascii_uppercase();
        match upper_prefix.as_str() {
            "{PKCS5S2}" => return Self::crowd(&s[9..]),
            "{SSHA}" => return Self::salted_sha(Prf::Sha1, &s[6..], "ldap-ssha"),
            "{SSHA256}" => return Self::salted_sha(Prf::Sha256, &s[9..], "ldap-ssha256"),
            "{SSHA512}" => return Self::salted_sha(Prf::Sha512, &s[9..], "ldap-ssha512"),
            "{CRYPT}" => {
                let inner = &s[7..];
                return if inner.starts_with("$2") {
                    Self::bcrypt(inner, "crypt-bcrypt")
                } else {
                    bad(
                        "{CRYPT} hashes are supported only when they wrap bcrypt ($2a$, $2b$, $2y$)",
                    )
                };
            }
            "" => {}
            other => return bad(format!("unsupported password hash scheme {other}")),
        }
        if let Some(rest) = s.strip_prefix("pbkdf2_sha256$") {
            return Self::django(Prf::Sha256, rest, "django-pbkdf2-sha256");
        }
        if let Some(rest) = s.strip_prefix("pbkdf2_sha1$") {
            return Self::django(Prf::Sha1, rest, "django-pbkdf2-sha1");
        }
        if s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$") {
            return Self::bcrypt(s, "bcrypt");
        }
        if s.starts_with("$argon2id$") || s.starts_with("$argon2i$") {
            return Self::argon2(s);
        }
        if s.starts_with("$scrypt$") {
            return Self::scrypt(s);
        }
        for (prefix, prf) in [
            ("$pbkdf2-sha256$", Prf::Sha256),
            ("$pbkdf2-sha512$", Prf::Sha512),
            ("$pbkdf2$", Prf::Sha1),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                return Self::phc_pbkdf2(prf, rest);
            }
        }
        bad("unrecognised password hash format")
    }

    /// The format's name, for reports.
    pub fn format(&self) -> &'static str {
        self.format
    }

    fn of(kind: Kind, format: &'static str) -> Self {
        Self { kind, format }
    }

    fn bcrypt(s: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        // $2b$CC$ + 22 salt + 31 hash characters, bcrypt's own base64 alphabet.
        let well_formed = s.len() == 60
            && s.as_bytes()[6] == b'$'
            && s[7..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
        let Some(cost) = s.get(4..6).and_then(|c| c.parse::<u32>().ok()).filter(|_| well_formed)
        else {
            return bad("malformed bcrypt hash");
        };
        if !(4..=MAX_BCRYPT_COST).contains(&cost) {
            return bad(format!("bcrypt cost {cost} is outside 4–{MAX_BCRYPT_COST}"));
        }
        Ok(Self::of(Kind::Bcrypt(s.to_owned()), format))
    }

    fn crowd(body: &str) -> Result<Self, LegacyHashError> {
        match b64_any(body) {
            Some(raw) if raw.len() == 48 => Ok(Self::of(
                Kind::Pbkdf2 {
                    prf: Prf::Sha1,
                    iterations: 10_000,
                    salt: raw[..16].to_vec(),
                    key: raw[16..].to_vec(),
                },
                "crowd-pkcs5s2",
            )),
            _ => {
                bad("malformed {PKCS5S2} hash: expected base64 of a 16-byte salt and a 32-byte key")
            }
        }
    }

    fn salted_sha(prf: Prf, body: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        let len = match prf {
            Prf::Sha1 => 20,
            Prf::Sha256 => 32,
            Prf::Sha512 => 64,
        };
        match b64_any(body) {
            Some(raw) if raw.len() > len && raw.len() <= len + 64 => Ok(Self::of(
                Kind::SaltedSha { prf, salt: raw[len..].to_vec(), digest: raw[..len].to_vec() },
                format,
            )),
            _ => bad(format!("malformed {format} hash: expected base64 of the digest and a salt")),
        }
    }

    fn iterations(raw: &str) -> Result<u32, LegacyHashError> {
        match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_PBKDF2_ITERATIONS).contains(&n) => Ok(n),
            _ => bad(format!("PBKDF2 iterations must be 1–{MAX_PBKDF2_ITERATIONS}")),
        }
    }

    fn django(prf: Prf, rest: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        let mut parts = rest.split('$');
        let (Some(iterations), Some(salt), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return bad("malformed Django hash: expected algorithm$iterations$salt$hash");
        };
        let iterations = Self::iterations(iterations)?;
        let Some(key) = STANDARD.decode(key).ok().filter(|k| !k.is_empty() && k.len() <= 64) else {
            return bad("malformed Django hash: the hash is not base64");
        };
        if salt.is_empty() || salt.contains('$') {
            return bad("malformed Django hash: empty salt");
        }
        // Django salts are used as text, not decoded.
        Ok(Self::of(Kind::Pbkdf2 { prf, iterations, salt: salt.as_bytes().to_vec(), key }, format))
    }

    /// `$pbkdf2-sha256$i=N,l=L$salt$hash` (PHC, standard base64) or passlib's
    /// `$pbkdf2-sha256$N$salt$hash` (adapted base64).
    fn phc_pbkdf2(prf: Prf, rest: &str) -> Result<Self, LegacyHashError> {
        let mut parts = rest.split('$');
        let (Some(params), Some(salt), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return bad("malformed PBKDF2 hash: expected $pbkdf2-…$params$salt$hash");
        };
        let (iterations, salt, key, format) = if let Some(list) = params.strip_prefix("i=") {
            let iterations = Self::iterations(list.split(',').next().unwrap_or_default())?;
            (
                iterations,
                STANDARD_NO_PAD.decode(salt).ok(),
                STANDARD_NO_PAD.decode(key).ok(),
                "phc-pbkdf2",
            )
        } else {
            (Self::iterations(params)?, ab64(salt), ab64(key), "passlib-pbkdf2")
        };
        match (salt, key) {
            (Some(salt), Some(key)) if !salt.is_empty() && (16..=64).contains(&key.len()) => {
                Ok(Self::of(Kind::Pbkdf2 { prf, iterations, salt, key }, format))
            }
            _ => bad("malformed PBKDF2 hash: salt or hash is not base64"),
        }
    }

    fn scrypt(s: &str) -> Result<Self, LegacyHashError> {
        let mut parts = s.trim_start_matches('$').split('$');
        let (Some("scrypt"), Some(params), Some(salt), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return bad("malformed scrypt hash: expected $scrypt$ln=…,r=…,p=…$salt$hash");
        };
        let (mut log_n, mut r, mut p) = (None, None, None);
        for pair in params.split(',') {
            match pair.split_once('=') {
                Some(("ln", v)) => log_n = v.parse::<u8>().ok(),
                Some(("r", v)) => r = v.parse::<u32>().ok(),
                Some(("p", v)) => p = v.parse::<u32>().ok(),
                _ => return bad("malformed scrypt parameters"),
            }
        }
        let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
            return bad("scrypt needs ln, r and p");
        };
        let memory = 128u64 * u64::from(r) * (1u64 << log_n.min(63));
        if log_n == 0
            || log_n > MAX_SCRYPT_LOG_N
            || r == 0
            || p == 0
            || p > 16
            || memory > MAX_SCRYPT_MEMORY
        {
            return bad("scrypt parameters are out of bounds");
        }
        match (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(key)) {
            (Ok(salt), Ok(key)) if (16..=64).contains(&key.len()) => {
                Ok(Self::of(Kind::Scrypt { log_n, r, p, salt, key }, "phc-scrypt"))
            }
            _ => bad("malformed scrypt hash: salt or hash is not base64"),
        }
    }

    fn argon2(s: &str) -> Result<Self, LegacyHashError> {
        let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(s) else {
            return bad("malformed argon2 hash");
        };
        let Ok(params) = argon2::Params::try_from(&parsed) else {
            return bad("argon2 parameters are out of range");
        };
        if params.m_cost() > MAX_ARGON2_MEMORY_KIB || params.t_cost() > 64 || params.p_cost() > 16 {
            return bad("argon2 parameters are out of bounds");
        }
        let format = if s.starts_with("$argon2id$") { "phc-argon2id" } else { "phc-argon2i" };
        Ok(Self::of(Kind::Argon2(s.to_owned()), format))
    }

    /// Whether `password` is the one this hash was made from. CPU-bound (run it off the async
    /// threads).
    pub fn verify(&self, password: &str) -> bool {
        let pw = password.as_bytes();
        match &self.kind {
            Kind::Bcrypt(full) => {
                // PHP's $2y$ and the old $2a$ are computed as $2b$.
                let normalized = format!("$2b${}", &full[4..]);
                bcrypt::verify(pw, &normalized).unwrap_or(false)
            }
            Kind::Pbkdf2 { prf, iterations, salt, key } => {
                let mut out = vec![0u8; key.len()];
                match prf {
                    Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, *iterations, &mut out),
                    Prf::Sha256 => {
                        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, *iterations, &mut out);
                    }
                    Prf::Sha512 => {
                        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, salt, *iterations, &mut out);
                    }
                }
                out.ct_eq(key).into()
            }
            Kind::Scrypt { log_n, r, p, salt, key } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, key.len()) else {
                    return false;
                };
                let mut out = vec![0u8; key.len()];
                scrypt::scrypt(pw, salt, &params, &mut out).is_ok() && bool::from(out.ct_eq(key))
            }
            Kind::Argon2(phc) => {
                use argon2::password_hash::PasswordVerifier as _;
                argon2::password_hash::phc::PasswordHash::new(phc)
                    .is_ok_and(|h| argon2::Argon2::default().verify_password(pw, &h).is_ok())
            }
            Kind::SaltedSha { prf, salt, digest } => {
                use sha2::Digest as _;
                let computed = match prf {
                    Prf::Sha1 => {
                        sha1::Sha1::new().chain_update(pw).chain_update(salt).finalize().to_vec()
                    }
                    Prf::Sha256 => {
                        sha2::Sha256::new().chain_update(pw).chain_update(salt).finalize().to_vec()
                    }
                    Prf::Sha512 => {
                        sha2::Sha512::new().chain_update(pw).chain_update(salt).finalize().to_vec()
                    }
                };
                computed.ct_eq(digest).into()
            }
        }
    }
}

//! Passwords: the validated input type and argon2id hashing on a bounded blocking pool.
//!
//! Hashing is deliberately expensive (~12 ms and 19 MiB each at the OWASP parameters), so
//! at most `max_concurrent` hashes run at once (one per core by default): memory stays bounded
//! and the async runtime is never starved. A request that cannot get a slot within
//! `queue_timeout` fails with [`HashError::Busy`] so the caller can answer 503 rather than let
//! a login storm pile up.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::ports::Rng;
use crate::secret::Secret;

/// A password as typed, within bounds. Never printed.
#[derive(Clone)]
pub struct Password(Secret<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {0} characters.")]
    TooShort(usize),
    #[error("Use at most {0} characters.")]
    TooLong(usize),
}

impl Password {
    /// NIST SP 800-63B §5.1.1.2: at least 8 characters; we allow long passphrases but bound
    /// the work a single request can cause.
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort(Self::MIN_CHARS));
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong(Self::MAX_CHARS));
        }
        Ok(Self(Secret::new(input.to_owned())))
    }

    /// For checking a password that is about to be compared, not set: login accepts whatever
    /// was typed (within the size bound) so old passwords of other shapes still work.
    pub fn for_verification(input: &str) -> Result<Self, PasswordError> {
        if input.chars().count() > Self::MAX_CHARS {
            return Err(PasswordError::TooLong(Self::MAX_CHARS));
        }
        Ok(Self(Secret::new(input.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// argon2id cost parameters and the concurrency bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
    pub queue_timeout: Duration,
}

impl PasswordHashing {
    /// OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    pub fn owasp(max_concurrent: usize) -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: max_concurrent.max(1),
            queue_timeout: Duration::from_secs(2),
        }
    }

    fn params(&self) -> Result<Params, HashError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| HashError::Unexpected(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot stayed taken for the whole queue timeout.
    #[error("password hashing is saturated")]
    Busy,
    #[error("password hashing failed: {0}")]
    Unexpected(String),
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash used weaker parameters than today's: store this one.
    YesRehashed(String),
}

#[derive(Clone)]
pub struct PasswordHasher {
    config: PasswordHashing,
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist so
    /// that the answer takes as long as for one that does.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(config: PasswordHashing, rng: &dyn Rng) -> Result<Self, HashError> {
        let params = config.params()?;
        let mut random_password = [0u8; 32];
        rng.fill(&mut random_password);
        let dummy_hash = hash_blocking(&params, &random_password, rng)?;
        Ok(Self {
            config,
            params,
            slots: Arc::new(Semaphore::new(config.max_concurrent)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub fn config(&self) -> PasswordHashing {
        self.config
    }

    pub async fn hash(&self, password: &Password, rng: &dyn Rng) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let params = self.params.clone();
        let pw = password.clone();
        self.run(move || hash_with_salt(&params, pw.expose().as_bytes(), &salt)).await
    }

    /// Checks `password` against `stored` (a PHC string), or against the dummy hash when
    /// there is no stored hash, so both cases cost one argon2id evaluation.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
        rng: &dyn Rng,
    ) -> Result<Verified, HashError> {
        let real = stored.is_some();
        let stored: Arc<str> = stored.map_or_else(|| self.dummy_hash.clone(), Arc::from);
        let pw = password.clone();
        let current = self.params.clone();
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok(Verified::No);
            };
            let ok = Argon2::default().verify_password(pw.expose().as_bytes(), &parsed).is_ok();
            if !(ok && real) {
                return Ok(Verified::No);
            }
            let same_params = parsed.algorithm.as_str() == "argon2id"
                && Params::try_from(&parsed).is_ok_and(|p| {
                    p.m_cost() == current.m_cost()
                        && p.t_cost() == current.t_cost()
                        && p.p_cost() == current.p_cost()
                });
            if same_params {
                Ok(Verified::Yes)
            } else {
                hash_with_salt(&current, pw.expose().as_bytes(), &salt).map(Verified::YesRehashed)
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit =
            tokio::time::timeout(self.config.queue_timeout, self.slots.clone().acquire_owned())
                .await
                .map_err(|_| HashError::Busy)?
                .map_err(|e| HashError::Unexpected(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let result = job();
            drop(permit);
            result
        })
        .await
        .map_err(|e| HashError::Unexpected(e.to_string()))?
    }
}

fn hash_with_salt(params: &Params, password: &[u8], salt: &[u8]) -> Result<String, HashError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_with_salt(password, salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Unexpected(e.to_string()))
}

fn hash_blocking(params: &Params, password: &[u8], rng: &dyn Rng) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    hash_with_salt(params, password, &salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TestRng;
    impl Rng for TestRng {
        fn fill(&self, buf: &mut [u8]) {
            use std::sync::atomic::{AtomicU8, Ordering};
            static NEXT: AtomicU8 = AtomicU8::new(1);
            for b in buf {
                *b = NEXT.fetch_add(7, Ordering::Relaxed);
            }
        }
    }

    fn cheap(max_concurrent: usize) -> PasswordHashing {
        PasswordHashing {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent,
            queue_timeout: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hasher = PasswordHasher::new(cheap(2), &TestRng).unwrap();
        let pw = Password::parse("correct horse battery").unwrap();
        let hash = hasher.hash(&pw, &TestRng).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(hasher.verify(&pw, Some(&hash), &TestRng).await.unwrap(), Verified::Yes);
        let wrong = Password::for_verification("correct horse battery!").unwrap();
        assert_eq!(hasher.verify(&wrong, Some(&hash), &TestRng).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn missing_or_garbage_hashes_never_verify() {
        let hasher = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let pw = Password::parse("whatever123").unwrap();
        assert_eq!(hasher.verify(&pw, None, &TestRng).await.unwrap(), Verified::No);
        for garbage in ["", "$argon2id$", "plaintext", "$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA"] {
            assert_eq!(
                hasher.verify(&pw, Some(garbage), &TestRng).await.unwrap(),
                Verified::No,
                "{garbage}"
            );
        }
    }

    #[tokio::test]
    async fn weaker_hashes_are_upgraded_on_success() {
        let old = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let pw = Password::parse("upgrade me please").unwrap();
        let old_hash = old.hash(&pw, &TestRng).await.unwrap();
        let mut stronger = cheap(1);
        stronger.iterations = 2;
        let new = PasswordHasher::new(stronger, &TestRng).unwrap();
        match new.verify(&pw, Some(&old_hash), &TestRng).await.unwrap() {
            Verified::YesRehashed(h) => assert!(h.contains("m=64,t=2,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn saturated_hasher_answers_busy_instead_of_queueing_forever() {
        let hasher = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let held = hasher.slots.clone().acquire_owned().await.unwrap();
        let pw = Password::parse("patience is a virtue").unwrap();
        assert!(matches!(hasher.hash(&pw, &TestRng).await, Err(HashError::Busy)));
        drop(held);
        assert!(hasher.hash(&pw, &TestRng).await.is_ok());
    }

    #[test]
    fn password_bounds() {
        assert_eq!(Password::parse("short").unwrap_err(), PasswordError::TooShort(8));
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert!(Password::for_verification("short").is_ok());
        assert!(!format!("{:?}", Password::parse("secret-value").unwrap()).contains("secret"));
    }
}

//! Passwords: the validated input type and argon2id hashing on a bounded blocking pool.
//!
//! Hashing is deliberately expensive (~20 ms and 19 MiB each at the OWASP parameters), so it
//! runs on `max_concurrent` dedicated threads (one per core by default), never on the async
//! runtime: memory stays bounded and request handling is never starved. A request that cannot
//! get a slot within `queue_timeout` fails with [`HashError::Busy`] so the caller can answer
//! 503 rather than let a login storm pile up.
//!
//! Each thread keeps its argon2 working memory between hashes. Allocating 19 MiB afresh for
//! every hash made the kernel fault in and zero those pages each time, about a sixth of the
//! cost of a login on the benchmark machine (docs/PERFORMANCE.md).

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

use crate::secret::Rng;
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

/// Stored hashes asking for more memory than this are refused rather than computed: a
/// corrupt or hostile row must not make one login allocate gigabytes.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

#[derive(Clone)]
pub struct PasswordHasher {
    config: PasswordHashing,
    params: Params,
    slots: Arc<Semaphore>,
    /// Feeds the hashing threads; each owns its working memory.
    workers: mpsc::Sender<Job>,
    /// A hash of a random password, verified against when an account does not exist so
    /// that the answer takes as long as for one that does.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(config: PasswordHashing, rng: &dyn Rng) -> Result<Self, HashError> {
        let params = config.params()?;
        let mut random_password = [0u8; 32];
        rng.fill(&mut random_password);
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let dummy_hash = hash_with_salt(&params, &random_password, &salt, &mut Vec::new())?;
        Ok(Self {
            config,
            params: params.clone(),
            slots: Arc::new(Semaphore::new(config.max_concurrent)),
            workers: start_workers(config.max_concurrent, params.block_count())?,
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
        self.run(move |memory| hash_with_salt(&params, pw.expose().as_bytes(), &salt, memory)).await
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
        self.run(move |memory| {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok(Verified::No);
            };
            let ok = verify_phc(&parsed, pw.expose().as_bytes(), memory);
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
                hash_with_salt(&current, pw.expose().as_bytes(), &salt, memory)
                    .map(Verified::YesRehashed)
            }
        })
        .await
    }

    /// Checks `password` against legacy hashes (in the same bounded pool as argon2id). On the
    /// first match: its index and the password rehashed with argon2id. With no match, the
    /// dummy argon2id hash is verified too, so a failed upgrade costs at least what a failed
    /// login does and tells nobody that legacy records exist.
    pub async fn verify_legacy(
        &self,
        password: &Password,
        hashes: Vec<super::legacy::LegacyHash>,
        rng: &dyn Rng,
    ) -> Result<Option<(usize, String)>, HashError> {
        let pw = password.clone();
        let params = self.params.clone();
        let dummy = self.dummy_hash.clone();
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        self.run(move |memory| {
            let found = hashes.iter().position(|h| h.verify(pw.expose()));
            if let Some(i) = found {
                let fresh = hash_with_salt(&params, pw.expose().as_bytes(), &salt, memory)?;
                return Ok(Some((i, fresh)));
            }
            if let Ok(parsed) = PasswordHash::new(&dummy) {
                let _ = verify_phc(&parsed, pw.expose().as_bytes(), memory);
            }
            Ok(None)
        })
        .await
    }

    /// Like [`verify_legacy`](Self::verify_legacy), without the rehash: for checks that do
    /// not upgrade the account (a legacy password over basic auth). A miss still costs the
    /// dummy argon2id verification.
    pub async fn matches_legacy(
        &self,
        password: &Password,
        hashes: Vec<super::legacy::LegacyHash>,
    ) -> Result<Option<usize>, HashError> {
        let pw = password.clone();
        let dummy = self.dummy_hash.clone();
        self.run(move |memory| {
            let found = hashes.iter().position(|h| h.verify(pw.expose()));
            if found.is_none()
                && let Ok(parsed) = PasswordHash::new(&dummy)
            {
                let _ = verify_phc(&parsed, pw.expose().as_bytes(), memory);
            }
            Ok(found)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit =
            tokio::time::timeout(self.config.queue_timeout, self.slots.clone().acquire_owned())
                .await
                .map_err(|_| HashError::Busy)?
                .map_err(|e| HashError::Unexpected(e.to_string()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
            // Released only when the work is done, even if the caller stopped waiting.
            drop(permit);
        });
        self.workers
            .send(job)
            .map_err(|_| HashError::Unexpected("password hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| HashError::Unexpected("a password hashing thread failed".into()))?
    }
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Starts `count` hashing threads sharing one queue. They end when the last sender is dropped.
fn start_workers(count: usize, keep_blocks: usize) -> Result<mpsc::Sender<Job>, HashError> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for i in 0..count {
        let receiver = receiver.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                let mut memory: Vec<Block> = Vec::new();
                loop {
                    let next = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = next else { return };
                    job(&mut memory);
                    // A stored hash with a larger cost grew the buffer: do not keep the excess.
                    memory.truncate(keep_blocks);
                    memory.shrink_to(keep_blocks);
                }
            })
            .map_err(|e| HashError::Unexpected(format!("cannot start a hashing thread: {e}")))?;
    }
    Ok(sender)
}

/// Runs argon2 in `memory`, growing it to the block count the parameters need.
fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::new());
    }
    argon.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
}

/// A new argon2id PHC string for `password`.
fn hash_with_salt(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let unexpected = |e: &dyn std::fmt::Display| HashError::Unexpected(e.to_string());
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, params, password, salt, &mut out, memory).map_err(|e| unexpected(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| unexpected(&e))?,
        salt: Some(Salt::new(salt).map_err(|e| unexpected(&e))?),
        hash: Some(Output::new(&out).map_err(|e| unexpected(&e))?),
    };
    Ok(phc.to_string())
}

/// Recomputes a stored argon2 (any variant) hash with its own parameters and compares the
/// outputs in constant time.
fn verify_phc(parsed: &PasswordHash, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version {
        Some(v) => match Version::try_from(v) {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => Version::V0x10,
    };
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    if params.m_cost() > MAX_MEMORY_KIB {
        tracing::warn!(
            m_cost = params.m_cost(),
            "refusing to verify a hash with excessive memory cost"
        );
        return false;
    }
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon, &params, password, salt, &mut out, memory).is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
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

    #[tokio::test]
    async fn verifies_hashes_made_by_the_reference_api() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let pw = Password::parse("interop check").unwrap();
        let params = Params::new(64, 1, 1, None).unwrap();
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
            let reference = Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password_with_salt(b"interop check", b"saltsaltsaltsalt")
                .unwrap()
                .to_string();
            let verdict = hasher.verify(&pw, Some(&reference), &TestRng).await.unwrap();
            assert_ne!(verdict, Verified::No, "{reference}");
        }
        // Ours verify with the reference verifier too.
        let ours = hasher.hash(&pw, &TestRng).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"interop check", &parsed).is_ok());
        // Our encoder writes exactly what the crate's own API writes for the same input.
        let fixed = hash_with_salt(&params, b"interop check", b"saltsaltsaltsalt", &mut Vec::new())
            .unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(b"interop check", b"saltsaltsaltsalt")
            .unwrap()
            .to_string();
        assert_eq!(fixed, reference);
    }

    #[tokio::test]
    async fn known_answer_from_the_reference_implementation() {
        // The argon2 reference implementation's test run: argon2id, "password", "somesalt".
        const REFERENCE: &str = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        let hasher = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let right = Password::for_verification("password").unwrap();
        let wrong = Password::for_verification("passwore").unwrap();
        assert!(matches!(
            hasher.verify(&right, Some(REFERENCE), &TestRng).await.unwrap(),
            Verified::YesRehashed(_)
        ));
        assert_eq!(hasher.verify(&wrong, Some(REFERENCE), &TestRng).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn absurd_memory_costs_are_refused_without_allocating() {
        let hasher = PasswordHasher::new(cheap(1), &TestRng).unwrap();
        let pw = Password::parse("whatever123").unwrap();
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(hasher.verify(&pw, Some(huge), &TestRng).await.unwrap(), Verified::No);
    }

    #[test]
    fn password_bounds() {
        assert_eq!(Password::parse("short").unwrap_err(), PasswordError::TooShort(8));
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert!(Password::for_verification("short").is_ok());
        assert!(!format!("{:?}", Password::parse("secret-value").unwrap()).contains("secret"));
    }
}

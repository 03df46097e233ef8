//! Signing keys: generated with aws-lc-rs, stored encrypted (AES-256-GCM under the master
//! key, the key id as associated data), published in the JWKS before they sign, and retired
//! only after every token they signed has expired. Loaded keys are cached in memory and
//! reloaded every minute, so a rotation on one node reaches all of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Header};
use latchkey_protocol::jose::{Jwk, JwkSet, SigningAlg};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::ports::{SigningKeyRepo, StoredKey};
use crate::secret::Rng;
use crate::secret::Secret;

/// A new key is published this long before it signs, so relying parties that cache the JWKS
/// already know it when the first token signed with it arrives.
pub const PUBLISH_AHEAD_SECS: i64 = 600;
/// The longest-lived token a key signs (ID tokens); a replaced key stays published this long.
pub const LONGEST_TOKEN_SECS: i64 = 3600;
const CACHE_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key is active for {0:?}")]
    NoActiveKey(SigningAlg),
    #[error("key material: {0}")]
    Crypto(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<crate::sealed::SealError> for KeyError {
    fn from(e: crate::sealed::SealError) -> Self {
        Self::Crypto(e.to_string())
    }
}

impl From<KeyError> for RepoError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Repo(e) => e,
            other => RepoError(other.to_string().into()),
        }
    }
}

/// A private key, parsed once when the keys are loaded. (Signing through `jsonwebtoken`
/// parses and checks the PKCS#8 key on every call, which cost as much as the signature.)
enum KeyPair {
    Rs256(aws_lc_rs::rsa::KeyPair),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

struct SigningKey {
    kid: String,
    pair: KeyPair,
}

impl SigningKey {
    fn parse(kid: &str, alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let bad = |what: &str| KeyError::Crypto(format!("stored {what} key {kid} does not parse"));
        let pair = match alg {
            SigningAlg::RS256 => {
                KeyPair::Rs256(aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map_err(|_| bad("RSA"))?)
            }
            SigningAlg::ES256 => KeyPair::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|_| bad("P-256"))?,
            ),
            SigningAlg::EdDSA => {
                KeyPair::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| bad("Ed25519"))?)
            }
        };
        Ok(Self { kid: kid.to_owned(), pair })
    }

    /// The JWS signature of `input` (RFC 7518 §3: PKCS#1 v1.5 with SHA-256, ECDSA P-256 with
    /// SHA-256 as the fixed-width `r || s`, Ed25519), by aws-lc-rs.
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = || KeyError::Crypto("signing failed".to_owned());
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.pair {
            KeyPair::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, input, &mut signature)
                    .map_err(|_| failed())?;
                Ok(signature)
            }
            KeyPair::Es256(pair) => {
                Ok(pair.sign(&rng, input).map_err(|_| failed())?.as_ref().to_vec())
            }
            KeyPair::EdDsa(pair) => Ok(pair.sign(input).as_ref().to_vec()),
        }
    }
}

struct Loaded {
    at: Timestamp,
    signing: HashMap<SigningAlg, Arc<SigningKey>>,
    verifying: HashMap<String, (SigningAlg, DecodingKey)>,
    published: JwkSet,
}

pub struct KeyRing {
    master: Secret<[u8; 32]>,
    cache: RwLock<Option<Arc<Loaded>>>,
}

impl KeyRing {
    pub fn new(master_key: [u8; 32]) -> Self {
        Self { master: Secret::new(master_key), cache: RwLock::new(None) }
    }

    fn aead(&self) -> Result<LessSafeKey, KeyError> {
        UnboundKey::new(&AES_256_GCM, self.master.expose())
            .map(LessSafeKey::new)
            .map_err(|_| KeyError::Crypto("bad master key".into()))
    }

    fn seal(&self, kid: &str, plaintext: &[u8], rng: &dyn Rng) -> Result<String, KeyError> {
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KeyError::Crypto("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(buf);
        Ok(STANDARD.encode(out))
    }

    fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let raw = STANDARD.decode(sealed).map_err(|_| KeyError::Crypto("not base64".into()))?;
        if raw.len() < 12 + 16 {
            return Err(KeyError::Crypto("truncated key".into()));
        }
        let (nonce, body) = raw.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::Crypto("bad nonce".into()))?;
        let mut body = body.to_vec();
        let plain = self
            .aead()?
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| {
                KeyError::Crypto(format!(
                    "cannot decrypt key {kid}: wrong master key or tampered data"
                ))
            })?;
        Ok(plain.to_vec())
    }

    fn generate(
        &self,
        alg: SigningAlg,
        now: Timestamp,
        active_from: Timestamp,
        rng: &dyn Rng,
    ) -> Result<StoredKey, KeyError> {
        let mut id = [0u8; 16];
        rng.fill(&mut id);
        let kid = URL_SAFE_NO_PAD.encode(id);
        let crypto = |what: &str| KeyError::Crypto(format!("cannot generate {what} key"));
        let (pkcs8, jwk) = match alg {
            SigningAlg::RS256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| crypto("RSA"))?;
                let der = pair.as_der().map_err(|_| crypto("RSA"))?;
                let public = pair.public_key();
                let jwk = Jwk::rsa(
                    &kid,
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                );
                (der.as_ref().to_vec(), jwk)
            }
            SigningAlg::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| crypto("P-256"))?;
                let der = pair.to_pkcs8v1().map_err(|_| crypto("P-256"))?;
                let jwk =
                    Jwk::p256(&kid, pair.public_key().as_ref()).ok_or_else(|| crypto("P-256"))?;
                (der.as_ref().to_vec(), jwk)
            }
            SigningAlg::EdDSA => {
                let pair = Ed25519KeyPair::generate().map_err(|_| crypto("Ed25519"))?;
                let der = pair.to_pkcs8().map_err(|_| crypto("Ed25519"))?;
                let jwk = Jwk::ed25519(&kid, pair.public_key().as_ref())
                    .ok_or_else(|| crypto("Ed25519"))?;
                (der.as_ref().to_vec(), jwk)
            }
        };
        Ok(StoredKey {
            private_key: self.seal(&kid, &pkcs8, rng)?,
            public_jwk: serde_json::to_string(&jwk).map_err(|e| KeyError::Crypto(e.to_string()))?,
            kid,
            alg,
            created_at: now,
            active_from,
            retire_at: None,
        })
    }

    /// At start-up: makes sure every algorithm has a key that can sign now.
    pub async fn ensure_keys(
        &self,
        repo: &dyn SigningKeyRepo,
        rng: &dyn Rng,
        now: Timestamp,
    ) -> Result<(), KeyError> {
        let keys = repo.list().await?;
        for alg in SigningAlg::ALL {
            let usable = keys.iter().any(|k| {
                k.alg == alg && k.active_from <= now && k.retire_at.is_none_or(|r| r > now)
            });
            if !usable {
                repo.insert(&self.generate(alg, now, now, rng)?).await?;
                tracing::info!(alg = alg.as_str(), "generated a signing key");
            }
        }
        self.invalidate();
        Ok(())
    }

    /// Introduces the next key for every algorithm: published now, signing after
    /// [`PUBLISH_AHEAD_SECS`]; the keys it replaces stay published until their last tokens
    /// have expired.
    pub async fn rotate(
        &self,
        repo: &dyn SigningKeyRepo,
        rng: &dyn Rng,
        now: Timestamp,
    ) -> Result<Vec<(String, SigningAlg)>, KeyError> {
        let existing = repo.list().await?;
        let active_from = now.plus_secs(PUBLISH_AHEAD_SECS);
        let mut created = Vec::new();
        for alg in SigningAlg::ALL {
            let next = self.generate(alg, now, active_from, rng)?;
            repo.insert(&next).await?;
            for old in existing.iter().filter(|k| k.alg == alg && k.retire_at.is_none()) {
                repo.set_retire_at(&old.kid, active_from.plus_secs(LONGEST_TOKEN_SECS)).await?;
            }
            created.push((next.kid, alg));
        }
        self.invalidate();
        Ok(created)
    }

    pub fn invalidate(&self) {
        if let Ok(mut g) = self.cache.write() {
            *g = None;
        }
    }

    async fn loaded(
        &self,
        repo: &dyn SigningKeyRepo,
        now: Timestamp,
    ) -> Result<Arc<Loaded>, KeyError> {
        let cached = self.cache.read().ok().and_then(|g| g.clone());
        if let Some(l) = cached.filter(|l| l.at <= now && l.at.secs_until(now) < CACHE_SECS) {
            return Ok(l);
        }
        let mut signing: HashMap<SigningAlg, (Timestamp, Arc<SigningKey>)> = HashMap::new();
        let mut verifying = HashMap::new();
        let mut published = JwkSet::default();
        for key in repo.list().await? {
            if key.retire_at.is_some_and(|r| r <= now) {
                continue;
            }
            let jwk: Jwk = serde_json::from_str(&key.public_jwk)
                .map_err(|e| KeyError::Crypto(e.to_string()))?;
            if let Some(decoding) = jwk.decoding_key() {
                verifying.insert(key.kid.clone(), (key.alg, decoding));
            }
            published.keys.push(jwk);
            if key.active_from <= now
                && signing.get(&key.alg).is_none_or(|(from, _)| *from < key.active_from)
            {
                let der = self.open(&key.kid, &key.private_key)?;
                let parsed = SigningKey::parse(&key.kid, key.alg, &der)?;
                signing.insert(key.alg, (key.active_from, Arc::new(parsed)));
            }
        }
        let loaded = Arc::new(Loaded {
            at: now,
            signing: signing.into_iter().map(|(alg, (_, k))| (alg, k)).collect(),
            verifying,
            published,
        });
        if let Ok(mut g) = self.cache.write() {
            *g = Some(loaded.clone());
        }
        Ok(loaded)
    }

    pub async fn jwks(
        &self,
        repo: &dyn SigningKeyRepo,
        now: Timestamp,
    ) -> Result<JwkSet, KeyError> {
        Ok(self.loaded(repo, now).await?.published.clone())
    }

    /// A compact JWS of `claims` with the active key for `alg`; `typ` goes in the header.
    pub async fn sign<T: Serialize>(
        &self,
        repo: &dyn SigningKeyRepo,
        now: Timestamp,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let loaded = self.loaded(repo, now).await?;
        let key = loaded.signing.get(&alg).ok_or(KeyError::NoActiveKey(alg))?;
        let mut header = Header::new(alg.to_jsonwebtoken());
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        // RFC 7515 §7.1, the compact serialization: the signing input is the base64url header
        // and claims joined by a dot; the signature follows after another.
        let mut jws = base64_json(&header)?;
        jws.push('.');
        jws.push_str(&base64_json(claims)?);
        let signature = key.sign(jws.as_bytes())?;
        jws.push('.');
        jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jws)
    }

    /// Verifies a JWT we signed: known `kid`, that key's algorithm only (so `alg: none` and
    /// algorithm confusion fail), the expected `typ` and issuer. Expiry is the caller's check,
    /// against the injected clock. `Ok(None)` is the verdict "not ours / not valid"; a key
    /// store that cannot be read is an `Err`, never mistaken for a bad token.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        repo: &dyn SigningKeyRepo,
        now: Timestamp,
        token: &str,
        typ: &str,
        issuer: &str,
    ) -> Result<Option<T>, KeyError> {
        if token.len() > 8192 {
            return Ok(None);
        }
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
        if header.typ.as_deref() != Some(typ) {
            return Ok(None);
        }
        let loaded = self.loaded(repo, now).await?;
        let Some((alg, key)) = header.kid.as_deref().and_then(|kid| loaded.verifying.get(kid))
        else {
            return Ok(None);
        };
        let mut validation = jsonwebtoken::Validation::new(alg.to_jsonwebtoken());
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Ok(jsonwebtoken::decode::<T>(token, key, &validation).ok().map(|d| d.claims))
    }
}

/// A JWS part: the JSON of `value`, base64url without padding.
fn base64_json<T: Serialize + ?Sized>(value: &T) -> Result<String, KeyError> {
    let json = serde_json::to_vec(value).map_err(|e| KeyError::Crypto(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

//! Sealed envelopes: small payloads the browser or a product carries and hands back
//! (authorization codes, sign-out receipts) or that we store but must read back (TOTP secrets), encrypted and authenticated with AES-256-GCM under
//! a key derived from the master key with HKDF-SHA256 and a label per purpose, so an envelope
//! made for one purpose never opens as another. Output is base64url without padding.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::secret::Rng;

/// The master key could not be turned into an envelope key.
#[derive(Debug, thiserror::Error)]
#[error("cannot derive an envelope key from the master key")]
pub struct SealError;

/// Envelopes longer than this are not ours.
const MAX_CHARS: usize = 4096;

pub struct Sealer {
    key: LessSafeKey,
    label: &'static [u8],
}

impl Sealer {
    pub fn new(master_key: &[u8; 32], label: &'static [u8]) -> Result<Self, SealError> {
        let prk = Salt::new(HKDF_SHA256, b"latchkey").extract(master_key);
        let info = [label];
        let okm = prk.expand(&info, &AES_256_GCM).map_err(|_| SealError)?;
        Ok(Self { key: LessSafeKey::new(UnboundKey::from(okm)), label })
    }

    pub fn seal(&self, plaintext: &[u8], rng: &dyn Rng) -> Option<String> {
        let mut buf = plaintext.to_vec();
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.label),
                &mut buf,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend(buf);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        if sealed.len() > MAX_CHARS {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(self.label), &mut body).ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);

    impl Rng for Counter {
        fn fill(&self, buf: &mut [u8]) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            buf.fill(n);
        }
    }

    #[test]
    fn envelopes_open_only_for_their_key_and_purpose_and_untampered() {
        let rng = Counter(std::sync::atomic::AtomicU8::new(1));
        let codes = Sealer::new(&[7; 32], b"codes").unwrap();
        let sealed = codes.seal(b"payload", &rng).unwrap();
        assert_eq!(codes.open(&sealed).unwrap(), b"payload");
        assert_ne!(codes.seal(b"payload", &rng).unwrap(), sealed, "a fresh nonce each time");
        assert!(Sealer::new(&[8; 32], b"codes").unwrap().open(&sealed).is_none(), "other key");
        assert!(
            Sealer::new(&[7; 32], b"receipts").unwrap().open(&sealed).is_none(),
            "other purpose"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(codes.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_none(), "tampered");
        for junk in ["", "abc", "!!!!", &"A".repeat(5000), &sealed[..sealed.len() - 4]] {
            assert!(codes.open(junk).is_none(), "{junk:.20}");
        }
    }
}

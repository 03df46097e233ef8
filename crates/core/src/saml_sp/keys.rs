//! A connection's service-provider key pair: RSA-2048 (aws-lc-rs, through `rcgen`, which also
//! writes the self-signed certificate our metadata publishes), the private key sealed under the
//! master key. It signs our AuthnRequests (RSA-SHA256, the Redirect binding) and decrypts the
//! assertions an IdP encrypts to it.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use latchkey_protocol::saml::encryption::DecryptionKey;
use latchkey_protocol::saml::signature::Certificate;
use zeroize::Zeroizing;

use super::model::SpKey;
use crate::clock::Timestamp;
use crate::errors::Unexpected;
use crate::sealed::{SealError, Sealer};
use crate::secret::Rng;

/// How long our self-signed certificates are valid: IdPs that check validity must not need a
/// new one every year; rotating means a new connection key (see docs/saml.md).
const CERTIFICATE_YEARS: i64 = 10;

/// The master-key-derived state SAML needs: the sealer of SP private keys.
pub struct SamlState {
    sp_keys: Sealer,
}

fn unexpected(what: impl std::fmt::Display) -> Unexpected {
    Unexpected(what.to_string().into())
}

impl SamlState {
    pub fn new(master_key: &[u8; 32]) -> Result<Self, SealError> {
        Ok(Self { sp_keys: Sealer::new(master_key, b"latchkey saml sp keys v1")? })
    }

    /// A new key pair and certificate for connection `id`.
    pub(crate) fn generate(
        &self,
        id: &str,
        now: Timestamp,
        rng: &dyn Rng,
    ) -> Result<SpKey, Unexpected> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(unexpected)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(unexpected)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("Latchkey SAML service provider {id}"));
        let start = time::OffsetDateTime::from_unix_timestamp(now.unix()).map_err(unexpected)?;
        params.not_before = start - time::Duration::days(1);
        params.not_after = start + time::Duration::days(365 * CERTIFICATE_YEARS);
        let cert = params.self_signed(&pair).map_err(unexpected)?;
        let certificate = Certificate::from_der(cert.der().to_vec()).map_err(unexpected)?;
        let private = Zeroizing::new(pair.serialize_der());
        let sealed =
            self.sp_keys.seal(&private, rng).ok_or_else(|| unexpected("sealing the SP key"))?;
        Ok(SpKey { sealed, certificate })
    }

    fn private_der(&self, key: &SpKey) -> Result<Zeroizing<Vec<u8>>, Unexpected> {
        self.sp_keys
            .open(&key.sealed)
            .map(Zeroizing::new)
            .ok_or_else(|| unexpected("the SAML SP key does not open with this master key"))
    }

    pub(crate) fn decryption_key(&self, key: &SpKey) -> Result<DecryptionKey, Unexpected> {
        DecryptionKey::from_pkcs8_der(&self.private_der(key)?).map_err(unexpected)
    }

    /// RSA-SHA256 (PKCS#1 v1.5) over `data`.
    pub(crate) fn sign(&self, key: &SpKey, data: &[u8]) -> Result<Vec<u8>, String> {
        let der = self.private_der(key).map_err(|e| e.to_string())?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| e.to_string())?;
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut signature)
            .map_err(|e| e.to_string())?;
        Ok(signature)
    }
}

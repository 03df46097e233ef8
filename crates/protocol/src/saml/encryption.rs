//! Encrypted assertions (XML Encryption, through `bergshamra-enc`): RSA-OAEP key transport with
//! AES-GCM or AES-CBC, the key found inside the encrypted assertion, nothing fetched and no
//! other algorithm. Every failure to decrypt reads the same, so the ACS is no decryption
//! oracle.

use base64::Engine as _;
use bergshamra_enc::EncContext;
use bergshamra_keys::KeysManager;
use uppsala::{Document, NodeId};

use super::xml::{self, NS_XENC};

const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// Key transport: RSA-OAEP only (RSA PKCS#1 v1.5 invites Bleichenbacher's attack).
pub const KEY_TRANSPORT: [&str; 2] =
    ["http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p", "http://www.w3.org/2009/xmlenc11#rsa-oaep"];

/// Content encryption, most preferred first (as our metadata lists them).
pub const BLOCK_CIPHERS: [&str; 5] = [
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
];

/// Our RSA private key for a connection (PKCS#8). Never printed.
#[derive(Clone)]
pub struct DecryptionKey {
    pem: String,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptionKey(redacted)")
    }
}

impl DecryptionKey {
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, String> {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        bergshamra_keys::loader::load_rsa_private_pem(pem.as_bytes())
            .map_err(|e| format!("not an RSA private key: {e}"))?;
        Ok(Self { pem })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("the assertion is encrypted with {0}, which is not accepted")]
    Algorithm(String),
    #[error("the encrypted assertion is malformed: {0}")]
    Structure(&'static str),
    #[error("the encrypted assertion could not be decrypted with this connection's key")]
    Failed,
}

/// Checks the one `EncryptedData` inside `encrypted` and returns `source` with it replaced by
/// its plaintext (to be parsed and checked again like any outside XML).
pub fn decrypt(
    source: &str,
    doc: &Document<'_>,
    encrypted: NodeId,
    key: &DecryptionKey,
) -> Result<String, DecryptError> {
    let everywhere = xml::descendants(doc, doc.root(), NS_XENC, "EncryptedData");
    match everywhere.as_slice() {
        [one] if doc.parent(*one) == Some(encrypted) => {}
        [_] => return Err(DecryptError::Structure("EncryptedData is not where it belongs")),
        _ => return Err(DecryptError::Structure("exactly one EncryptedData is expected")),
    }
    for (ns, local) in [
        (NS_XENC, "CipherReference"),
        (NS_XENC, "AgreementMethod"),
        (NS_XENC11, "DerivedKey"),
        (NS_XENC11, "KeyDerivationMethod"),
    ] {
        if !xml::descendants(doc, encrypted, ns, local).is_empty() {
            return Err(DecryptError::Algorithm(local.to_owned()));
        }
    }
    for method in xml::descendants(doc, encrypted, NS_XENC, "EncryptionMethod") {
        let algorithm = xml::attr(doc, method, "Algorithm").unwrap_or_default();
        let parent = doc.parent(method);
        let allowed: &[&str] = match parent {
            Some(p) if xml::is(doc, p, NS_XENC, "EncryptedData") => &BLOCK_CIPHERS,
            Some(p) if xml::is(doc, p, NS_XENC, "EncryptedKey") => &KEY_TRANSPORT,
            _ => &[],
        };
        if !allowed.contains(&algorithm) {
            return Err(DecryptError::Algorithm(algorithm.to_owned()));
        }
    }
    if xml::descendants(doc, encrypted, NS_XENC, "EncryptedKey").is_empty() {
        return Err(DecryptError::Structure("no EncryptedKey"));
    }
    let loaded = bergshamra_keys::loader::load_rsa_private_pem(key.pem.as_bytes())
        .map_err(|_| DecryptError::Failed)?;
    let mut keys = KeysManager::new();
    keys.add_key(loaded);
    let ctx =
        EncContext::new(keys).with_disable_cipher_reference(true).with_max_pbkdf2_iterations(0);
    bergshamra_enc::decrypt::decrypt(&ctx, source).map_err(|_| DecryptError::Failed)
}

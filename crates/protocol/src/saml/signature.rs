//! XML signatures, behind our own trait: what the rest of Latchkey needs to know is which
//! elements a trusted key signed. The implementation is `bergshamra` (ADR 0003); XML-DSig and
//! canonicalization are never written here.

use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use uppsala::{Document, NodeId};

use super::xml::{self, NS_DSIG};

/// An identity provider's signing certificate (DER).
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate(Vec<u8>);

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({} bytes)", self.0.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-256 of the DER, hex, as IdP consoles show it.
    pub fingerprint: String,
}

impl Certificate {
    /// A certificate as metadata and consoles carry it: PEM, or bare base64 of the DER
    /// (whitespace ignored). Only an X.509 certificate with a public key we can verify with is
    /// accepted.
    pub fn parse(raw: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let body: String = raw
            .lines()
            .filter(|l| !l.trim_start().starts_with("-----"))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect();
        if body.is_empty() {
            return Err("the certificate is empty".to_owned());
        }
        let der =
            base64::engine::general_purpose::STANDARD.decode(body.as_bytes()).map_err(|_| {
                "the certificate is not base64 (PEM or the bare DER in base64)".to_owned()
            })?;
        Self::from_der(der)
    }

    pub fn from_der(der: Vec<u8>) -> Result<Self, String> {
        x509_parser::parse_x509_certificate(&der)
            .map_err(|e| format!("not an X.509 certificate: {e}"))?;
        bergshamra_keys::loader::load_x509_cert_der(&der)
            .map_err(|e| format!("the certificate's key cannot verify signatures: {e}"))?;
        Ok(Self(der))
    }

    pub fn der(&self) -> &[u8] {
        &self.0
    }

    /// The DER in base64, one line (metadata's `X509Certificate`, and storage).
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }

    pub fn info(&self) -> CertificateInfo {
        use sha2::Digest as _;
        let fingerprint = hex_upper(&sha2::Sha256::digest(&self.0));
        match x509_parser::parse_x509_certificate(&self.0) {
            Ok((_, cert)) => CertificateInfo {
                subject: cert.subject().to_string(),
                not_before: cert.validity().not_before.timestamp(),
                not_after: cert.validity().not_after.timestamp(),
                fingerprint,
            },
            Err(_) => {
                CertificateInfo { subject: String::new(), not_before: 0, not_after: 0, fingerprint }
            }
        }
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 3), |mut s, b| {
        if !s.is_empty() {
            s.push(':');
        }
        let _ = write!(s, "{b:02X}");
        s
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the document is not signed")]
    Unsigned,
    #[error("no signature was made by the identity provider's certificate: {0}")]
    Invalid(String),
    #[error("the signature uses {0}, which is not accepted")]
    Algorithm(String),
    #[error("the signature does not cover exactly the element that holds it")]
    NotEnveloped,
    #[error("the signature cannot be checked: {0}")]
    Structure(String),
}

/// What a verifier reports: the elements that a signature by one of `trusted` covers, each the
/// parent of its (enveloped) signature.
pub trait SignatureVerifier: Send + Sync {
    fn signed_elements(
        &self,
        doc: &Document<'_>,
        trusted: &[Certificate],
        allow_sha1: bool,
    ) -> Result<Vec<NodeId>, SignatureError>;
}

const SIGNATURE_METHODS: [&str; 6] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
const DIGEST_METHODS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
const SHA1_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// `bergshamra` in its secure mode: only the configured certificates' keys (never a key the
/// document carries), references only to the signature's own surroundings, every digest
/// computed here, duplicate IDs refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct Bergshamra;

impl SignatureVerifier for Bergshamra {
    fn signed_elements(
        &self,
        doc: &Document<'_>,
        trusted: &[Certificate],
        allow_sha1: bool,
    ) -> Result<Vec<NodeId>, SignatureError> {
        let root = doc.root();
        let signatures = xml::descendants(doc, root, NS_DSIG, "Signature");
        if signatures.is_empty() {
            return Err(SignatureError::Unsigned);
        }
        for signature in &signatures {
            check_algorithms(doc, *signature, allow_sha1)?;
        }
        let mut keys = KeysManager::new();
        for cert in trusted {
            let key = bergshamra_keys::loader::load_x509_cert_der(cert.der())
                .map_err(|e| SignatureError::Structure(e.to_string()))?;
            keys.add_key(key);
        }
        if keys.is_empty() {
            return Err(SignatureError::Invalid("no certificate is configured".to_owned()));
        }
        let ctx = DsigContext::new(keys);
        let results = bergshamra_dsig::verify::verify_all_document(&ctx, doc)
            .map_err(|e| SignatureError::Structure(e.to_string()))?;
        let mut signed = Vec::new();
        let mut reasons = Vec::new();
        for result in results {
            match result {
                VerifyResult::Valid { signature_node, references, .. } => {
                    let parent = doc.parent(signature_node);
                    // Exactly one reference, to the element the signature sits in.
                    match references.as_slice() {
                        [only]
                            if only.digest_verified
                                && only.resolved_node.is_some()
                                && only.resolved_node == parent =>
                        {
                            signed.extend(parent);
                        }
                        _ => return Err(SignatureError::NotEnveloped),
                    }
                }
                VerifyResult::Invalid { reason } => reasons.push(reason),
            }
        }
        if signed.is_empty() {
            return Err(SignatureError::Invalid(reasons.join("; ")));
        }
        Ok(signed)
    }
}

/// Only the SHA-2 family; SHA-1 when the connection explicitly allows it.
fn check_algorithms(
    doc: &Document<'_>,
    signature: NodeId,
    allow_sha1: bool,
) -> Result<(), SignatureError> {
    let structure = |e: xml::XmlError| SignatureError::Structure(e.to_string());
    let info = xml::required_child(doc, signature, NS_DSIG, "SignedInfo").map_err(structure)?;
    let method = xml::required_child(doc, info, NS_DSIG, "SignatureMethod").map_err(structure)?;
    let algorithm = xml::attr(doc, method, "Algorithm").unwrap_or_default();
    let sha1_ok = allow_sha1 && algorithm == SHA1_SIGNATURE;
    if !SIGNATURE_METHODS.contains(&algorithm) && !sha1_ok {
        return Err(SignatureError::Algorithm(algorithm.to_owned()));
    }
    for digest in xml::descendants(doc, info, NS_DSIG, "DigestMethod") {
        let algorithm = xml::attr(doc, digest, "Algorithm").unwrap_or_default();
        let sha1_ok = allow_sha1 && algorithm == SHA1_DIGEST;
        if !DIGEST_METHODS.contains(&algorithm) && !sha1_ok {
            return Err(SignatureError::Algorithm(algorithm.to_owned()));
        }
    }
    Ok(())
}

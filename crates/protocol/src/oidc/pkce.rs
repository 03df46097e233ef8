//! Proof Key for Code Exchange (RFC 7636). Only `S256` is accepted: `plain` offers no
//! protection against an attacker who can read the authorization request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::oidc::OAuthError;

/// A `code_challenge` with method `S256`, checked for shape (RFC 7636 §4.2: the base64url
/// encoding of a SHA-256 digest is 43 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, OAuthError> {
        match method {
            Some("S256") => {}
            None | Some("plain") => {
                return Err(OAuthError::invalid_request("code_challenge_method must be S256"));
            }
            Some(_) => {
                return Err(OAuthError::invalid_request("unsupported code_challenge_method"));
            }
        }
        let well_formed = challenge.len() == 43
            && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(OAuthError::invalid_request("malformed code_challenge"));
        }
        Ok(Self(challenge.to_owned()))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(code_verifier)) == code_challenge`, with the verifier's
/// own syntax (§4.1: 43–128 unreserved characters) enforced. Constant time.
pub fn verify_s256(verifier: &str, challenge: &CodeChallenge) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.0.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(verify_s256(VERIFIER, &c));
        assert!(!verify_s256(&VERIFIER.replace('d', "e"), &c));
    }

    #[test]
    fn plain_missing_and_malformed_challenges_are_refused() {
        assert!(CodeChallenge::parse(CHALLENGE, Some("plain")).is_err());
        assert!(CodeChallenge::parse(CHALLENGE, None).is_err());
        assert!(CodeChallenge::parse(CHALLENGE, Some("s256")).is_err());
        assert!(CodeChallenge::parse("short", Some("S256")).is_err());
        assert!(CodeChallenge::parse(&format!("{}=", &CHALLENGE[..42]), Some("S256")).is_err());
    }

    #[test]
    fn malformed_verifiers_never_match() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        for bad in ["", "short", &"a".repeat(129), &format!("{VERIFIER} "), "é".repeat(43).as_str()]
        {
            assert!(!verify_s256(bad, &c), "{bad:?}");
        }
    }
}

//! Public signing keys as published in the JWKS document.

use serde::{Deserialize, Serialize};

/// The algorithms Latchkey signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// A public key (RFC 7517 §4). Only the members for our key types are modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
}

impl Jwk {
    /// RSA public key from its big-endian modulus and exponent (RFC 7518 §6.3.1).
    pub fn rsa(kid: &str, n: &[u8], e: &[u8]) -> Self {
        Self::base("RSA", kid, SigningAlg::RS256).with(|k| {
            k.n = Some(b64(n));
            k.e = Some(b64(e));
        })
    }

    /// P-256 public key from its uncompressed SEC1 point `04 || x || y` (RFC 7518 §6.2.1).
    pub fn p256(kid: &str, uncompressed_point: &[u8]) -> Option<Self> {
        let (tag, xy) = uncompressed_point.split_first()?;
        if *tag != 4 || xy.len() != 64 {
            return None;
        }
        let (x, y) = xy.split_at(32);
        Some(Self::base("EC", kid, SigningAlg::ES256).with(|k| {
            k.crv = Some("P-256".into());
            k.x = Some(b64(x));
            k.y = Some(b64(y));
        }))
    }

    /// Ed25519 public key (RFC 8037 §2).
    pub fn ed25519(kid: &str, public: &[u8]) -> Option<Self> {
        (public.len() == 32).then(|| {
            Self::base("OKP", kid, SigningAlg::EdDSA).with(|k| {
                k.crv = Some("Ed25519".into());
                k.x = Some(b64(public));
            })
        })
    }

    fn base(kty: &str, kid: &str, alg: SigningAlg) -> Self {
        Self {
            kty: kty.into(),
            kid: kid.into(),
            use_: "sig".into(),
            alg: alg.as_str().into(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }

    pub fn alg(&self) -> Option<SigningAlg> {
        SigningAlg::parse(&self.alg)
    }

    /// The verification key for this JWK.
    pub fn decoding_key(&self) -> Option<jsonwebtoken::DecodingKey> {
        match (self.kty.as_str(), &self.n, &self.e, &self.x, &self.y) {
            ("RSA", Some(n), Some(e), _, _) => {
                jsonwebtoken::DecodingKey::from_rsa_components(n, e).ok()
            }
            ("EC", _, _, Some(x), Some(y)) => {
                jsonwebtoken::DecodingKey::from_ec_components(x, y).ok()
            }
            ("OKP", _, _, Some(x), _) => jsonwebtoken::DecodingKey::from_ed_components(x).ok(),
            _ => None,
        }
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_round_trip_and_unknown_ones_are_refused() {
        for a in SigningAlg::ALL {
            assert_eq!(SigningAlg::parse(a.as_str()), Some(a));
        }
        for bad in ["none", "HS256", "rs256", "", "ES256 "] {
            assert_eq!(SigningAlg::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn p256_points_must_be_uncompressed_and_complete() {
        let mut point = vec![4u8];
        point.extend([1u8; 64]);
        let jwk = Jwk::p256("k1", &point).unwrap();
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_deref()), ("EC", Some("P-256")));
        assert!(Jwk::p256("k1", &point[..64]).is_none());
        point[0] = 2;
        assert!(Jwk::p256("k1", &point).is_none());
        assert!(Jwk::ed25519("k2", &[0u8; 31]).is_none());
    }

    #[test]
    fn serializes_the_members_clients_expect() {
        let jwk = Jwk::rsa("kid-1", &[1, 0, 1], &[1, 0, 1]);
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["use"], "sig");
        assert_eq!(json["alg"], "RS256");
        assert_eq!(json["e"], "AQAB");
        assert!(json.get("x").is_none());
    }
}

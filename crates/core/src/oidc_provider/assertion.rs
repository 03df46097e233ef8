//! `private_key_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2 and §3): the client
//! signs a short-lived JWT with its own key; we verify it against the JWK Set registered for
//! the client (inline, or fetched from its `jwks_uri` and cached), and accept each assertion
//! once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_protocol::oidc::paths;
use serde::Deserialize;

use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::clients::{AuthMethod, Client, ClientAuthFailure, ClientKeys};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const MAX_ASSERTION_BYTES: usize = 8 * 1024;
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// An assertion may not claim to live longer than this (it is single-use; a long one is a
/// replay risk if the jti store were ever purged early).
const MAX_LIFETIME_SECS: i64 = 600;
const LEEWAY_SECS: i64 = 30;
/// Fetched key sets are kept this long; a key id we do not know triggers an early refetch,
/// at most this often.
const JWKS_TTL_SECS: i64 = 300;
const REFETCH_AFTER_SECS: i64 = 30;

/// Asymmetric algorithms only (`CLIENT_ASSERTION_ALGS`): a shared-secret (HS*) assertion is
/// refused, and an unsigned one does not parse.
fn allowed(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::PS256
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    )
}

/// A JWK Set we can register or use: JSON, within size, public keys only, each usable.
pub fn parse_jwks(json: &str) -> Result<JwkSet, String> {
    if json.len() > MAX_JWKS_BYTES {
        return Err("the JWK Set is larger than 64 KiB".into());
    }
    let raw: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "the JWK Set is not valid JSON".to_owned())?;
    let keys = raw.get("keys").and_then(|k| k.as_array()).ok_or("the JWK Set has no \"keys\"")?;
    if keys.is_empty() {
        return Err("the JWK Set has no keys".into());
    }
    for key in keys {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|f| key.get(f).is_some()) {
            return Err("the JWK Set contains private or symmetric key material".into());
        }
    }
    let set: JwkSet =
        serde_json::from_value(raw).map_err(|e| format!("the JWK Set is not valid: {e}"))?;
    for jwk in &set.keys {
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err("symmetric keys cannot authenticate a client".into());
        }
        DecodingKey::from_jwk(jwk)
            .map_err(|e| format!("a key in the JWK Set is not usable: {e}"))?;
    }
    Ok(set)
}

pub(crate) fn check_jwks(json: &str) -> Result<(), String> {
    parse_jwks(json).map(|_| ())
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &[String]) -> bool {
        match self {
            Self::One(a) => wanted.contains(a),
            Self::Many(list) => list.iter().any(|a| wanted.contains(a)),
        }
    }
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    jti: String,
    nbf: Option<i64>,
}

/// Key sets by where they came from (the inline JSON or the URI), with when they were loaded.
#[derive(Default)]
pub struct ClientKeyCache {
    sets: Mutex<HashMap<String, (Timestamp, Arc<JwkSet>)>>,
}

impl ClientKeyCache {
    fn get(&self, source: &str) -> Option<(Timestamp, Arc<JwkSet>)> {
        self.sets.lock().ok()?.get(source).cloned()
    }

    fn put(&self, source: &str, at: Timestamp, set: Arc<JwkSet>) {
        if let Ok(mut sets) = self.sets.lock() {
            if sets.len() > 10_000 {
                sets.clear();
            }
            sets.insert(source.to_owned(), (at, set));
        }
    }
}

/// The keys that may have signed: the one named by `kid`, or all of them without a `kid`.
fn candidates<'a>(set: &'a JwkSet, kid: Option<&str>) -> Vec<&'a Jwk> {
    set.keys.iter().filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid).collect()
}

impl OidcProvider {
    /// The client's key set; `refresh` refetches a URI-published set if the cached one is at
    /// least [`REFETCH_AFTER_SECS`] old (a rotated key).
    async fn client_key_set(
        &self,
        keys: &ClientKeys,
        refresh: bool,
    ) -> Result<Option<Arc<JwkSet>>, String> {
        let now = self.kernel.now();
        match keys {
            ClientKeys::Inline(json) => {
                if let Some((_, set)) = self.state.client_keys.get(json) {
                    return Ok(Some(set));
                }
                let set = Arc::new(parse_jwks(json)?);
                self.state.client_keys.put(json, now, set.clone());
                Ok(Some(set))
            }
            ClientKeys::Uri(uri) => {
                let cached = self.state.client_keys.get(uri);
                if let Some((at, set)) = &cached {
                    let age = at.secs_until(now);
                    let fresh =
                        if refresh { age < REFETCH_AFTER_SECS } else { age < JWKS_TTL_SECS };
                    if fresh {
                        // Too soon to refetch: there are no newer keys to try.
                        return Ok(if refresh { None } else { Some(set.clone()) });
                    }
                }
                let body = self.fetcher.fetch_jwks(uri).await?;
                let set = Arc::new(parse_jwks(&body)?);
                self.state.client_keys.put(uri, now, set.clone());
                Ok(Some(set))
            }
        }
    }

    /// Verifies a `client_assertion`. `claimed_id` is the `client_id` sent alongside, if any;
    /// it must name the same client as the assertion.
    pub(crate) async fn authenticate_assertion(
        &self,
        claimed_id: Option<&str>,
        assertion: &str,
    ) -> Result<Result<Client, ClientAuthFailure>, RepoError> {
        let bad = Ok(Err(ClientAuthFailure::BadAssertion));
        if assertion.len() > MAX_ASSERTION_BYTES {
            return bad;
        }
        let Ok(header) = jsonwebtoken::decode_header(assertion) else { return bad };
        if !allowed(header.alg) {
            return bad;
        }
        // Only to find the client; nothing is trusted before the signature verifies.
        let Ok(unverified) =
            jsonwebtoken::dangerous::insecure_decode_claims::<AssertionClaims>(assertion)
        else {
            return bad;
        };
        if claimed_id.is_some_and(|id| id != unverified.sub) {
            return bad;
        }
        let Some(client) = self.find_client(&unverified.sub).await? else {
            return Ok(Err(ClientAuthFailure::UnknownClient));
        };
        let (AuthMethod::PrivateKeyJwt, Some(keys)) = (client.auth_method(), &client.keys) else {
            return Ok(Err(ClientAuthFailure::WrongMethod));
        };
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let kid = header.kid.as_deref();
        let mut claims = None;
        for refresh in [false, true] {
            let set = match self.client_key_set(keys, refresh).await {
                Ok(Some(set)) => set,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(client = %client.id, error = %e, "client keys unavailable");
                    break;
                }
            };
            claims = candidates(&set, kid).into_iter().find_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
                    .ok()
                    .map(|d| d.claims)
            });
            if claims.is_some() || matches!(keys, ClientKeys::Inline(_)) {
                break;
            }
        }
        let Some(claims) = claims else { return bad };
        let now = self.kernel.now().unix();
        let issuer = self.kernel.public_url().to_owned();
        let audiences = [format!("{issuer}{}", paths::TOKEN), issuer];
        let valid = claims.iss == client.id
            && claims.sub == client.id
            && claims.aud.contains(&audiences)
            && claims.exp + LEEWAY_SECS > now
            && claims.exp <= now + MAX_LIFETIME_SECS
            && claims.nbf.is_none_or(|nbf| nbf <= now + LEEWAY_SECS)
            && !claims.jti.is_empty()
            && claims.jti.len() <= 256;
        if !valid {
            return bad;
        }
        let first_use = self
            .repo
            .record_assertion(
                &client.id,
                &claims.jti,
                Timestamp::from_unix(claims.exp + LEEWAY_SECS),
            )
            .await?;
        if !first_use {
            tracing::warn!(client = %client.id, "client assertion replayed");
            return bad;
        }
        Ok(Ok(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_protocol::oidc::CLIENT_ASSERTION_ALGS;

    #[test]
    fn key_sets_with_private_or_symmetric_material_are_refused() {
        let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}"#;
        assert!(parse_jwks(private).unwrap_err().contains("private"));
        let oct = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert!(parse_jwks(oct).is_err());
        assert!(parse_jwks("{}").is_err());
        assert!(parse_jwks(r#"{"keys":[]}"#).is_err());
        assert!(parse_jwks("not json").is_err());
        let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "a".repeat(MAX_JWKS_BYTES));
        assert!(parse_jwks(&huge).unwrap_err().contains("64 KiB"));
    }

    #[test]
    fn a_public_key_set_is_accepted() {
        let public = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        let set = parse_jwks(public).unwrap();
        assert_eq!(candidates(&set, Some("k1")).len(), 1);
        assert_eq!(candidates(&set, Some("other")).len(), 0);
        assert_eq!(candidates(&set, None).len(), 1);
    }

    #[test]
    fn only_asymmetric_algorithms_are_allowed() {
        assert!(!allowed(Algorithm::HS256));
        assert!(!allowed(Algorithm::HS512));
        for name in CLIENT_ASSERTION_ALGS {
            let alg: Algorithm = name.parse().unwrap();
            assert!(allowed(alg), "{name}");
        }
    }
}

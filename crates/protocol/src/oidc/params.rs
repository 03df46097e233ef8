//! Request parameters as the specs treat them: each at most once (RFC 6749 §3.1, §3.2), empty
//! values the same as absent, and bounded in size.

use std::collections::HashMap;

use crate::oidc::OAuthError;

/// Longest value accepted for any single parameter.
const MAX_VALUE: usize = 4096;
/// Most parameters accepted in one request.
const MAX_PARAMS: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// From decoded `application/x-www-form-urlencoded` pairs (a query or a form body).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            if map.len() >= MAX_PARAMS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            if v.len() > MAX_VALUE || k.len() > 256 {
                return Err(OAuthError::invalid_request(format!("parameter {k:.64} is too long")));
            }
            if v.is_empty() {
                continue;
            }
            if map.insert(k.to_owned(), v.to_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!("parameter {k:.64} is repeated")));
            }
        }
        Ok(Self(map))
    }

    /// Parses a raw `application/x-www-form-urlencoded` string.
    pub fn from_urlencoded(raw: &[u8]) -> Result<Self, OAuthError> {
        Self::from_pairs(url::form_urlencoded::parse(raw))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key).ok_or_else(|| OAuthError::invalid_request(format!("{key} is required")))
    }

    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Every parameter, sorted by name: a canonical form (to bind something to this exact
    /// request).
    pub fn sorted_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> =
            self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.sort_unstable();
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_oversized_and_excessive_parameters_are_refused() {
        assert!(Params::from_pairs([("a", "1"), ("a", "2")]).is_err());
        assert!(Params::from_pairs([("a", "x".repeat(5000))]).is_err());
        let many: Vec<(String, String)> = (0..100).map(|i| (format!("p{i}"), "v".into())).collect();
        assert!(Params::from_pairs(many).is_err());
        let p = Params::from_pairs([("a", ""), ("b", "2")]).unwrap();
        assert_eq!((p.get("a"), p.get("b")), (None, Some("2")));
        let p = Params::from_urlencoded(b"a=%20x&b=%E2%82%AC").unwrap();
        assert_eq!((p.get("a"), p.get("b")), (Some(" x"), Some("€")));
    }
}

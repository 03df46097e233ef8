//! Where a person goes after signing in: a path on this server, parsed once where it enters
//! (a query string, a form, a pending login) and carried as [`ReturnTo`] from then on, so an
//! open redirect cannot be introduced by a use case forgetting to check a `&str`.

use std::fmt;

/// A local path (`/…`): never another host (`//host`, `/\host`), never a scheme, no control
/// characters or backslashes, at most 4096 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

impl ReturnTo {
    pub const MAX_BYTES: usize = 4096;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.starts_with("/\\")
            && raw.len() <= Self::MAX_BYTES
            && !raw.chars().any(|c| c.is_control() || c == '\\');
        ok.then(|| Self(raw.to_owned()))
    }

    /// `raw` if it is a local path, else the account page.
    pub fn parse_or_account(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_else(Self::account)
    }

    /// `/account`, where a sign-in with nowhere else to go lands.
    pub fn account() -> Self {
        Self("/account".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ReturnTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReturnTo({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_return_targets() {
        assert_eq!(ReturnTo::parse("/account").unwrap().as_str(), "/account");
        assert_eq!(
            ReturnTo::parse("/oauth/authorize?x=1").unwrap().as_str(),
            "/oauth/authorize?x=1"
        );
        for bad in [
            "",
            "account",
            "//evil.com",
            "/\\evil.com",
            "https://evil.com",
            "/a\nb",
            "/a\\b",
            "/\t/evil.com",
        ] {
            assert_eq!(ReturnTo::parse(bad), None, "{bad:?}");
        }
        assert!(ReturnTo::parse(&format!("/{}", "a".repeat(5000))).is_none());
        assert_eq!(ReturnTo::parse_or_account("//evil.com").as_str(), "/account");
    }
}

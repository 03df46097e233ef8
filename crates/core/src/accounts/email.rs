//! Email addresses as accepted at the edge: a deliberately strict subset of RFC 5321
//! (dot-atom local part, hostname domain), with a normalized form for uniqueness.

use std::fmt;

/// An email address that passed [`Email::parse`].
///
/// `as_str` keeps the local part as the person typed it (mail is sent there); `normalized`
/// lower-cases everything and is what uniqueness and look-ups use.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email {
    display: String,
    normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("That email address is too long (254 characters at most).")]
    TooLong,
    #[error("Enter an email address like name@example.com.")]
    Malformed,
}

/// RFC 5321 §4.5.3.1: local part 64 octets, whole path 254 usable octets.
const MAX_LOCAL: usize = 64;
const MAX_TOTAL: usize = 254;

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_TOTAL * 2 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        if !valid_local_part(local) {
            return Err(EmailError::Malformed);
        }
        let domain = normalize_domain(domain).ok_or(EmailError::Malformed)?;
        let display = format!("{local}@{domain}");
        if display.len() > MAX_TOTAL {
            return Err(EmailError::TooLong);
        }
        let normalized = display.to_ascii_lowercase();
        Ok(Self { display, normalized })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    pub fn domain(&self) -> &str {
        self.display.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.display)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// Dot-atom per RFC 5322 §3.2.3, ASCII only; quoted strings and comments are refused.
fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || SPECIALS.contains(&b))
}

/// Lower-cased ASCII (punycode for internationalized names) with at least two labels.
fn normalize_domain(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain.contains(char::is_whitespace) {
        return None;
    }
    let ascii = idna::domain_to_ascii_strict(domain).ok()?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let well_formed = labels.len() >= 2
        && ascii.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    well_formed.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalizes_case() {
        let e = Email::parse("  Ada.Lovelace+jira@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace+jira@example.com");
        assert_eq!(e.normalized(), "ada.lovelace+jira@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn internationalized_domains_become_punycode() {
        let e = Email::parse("x@bücher.example").unwrap();
        assert_eq!(e.domain(), "xn--bcher-kva.example");
        assert_eq!(Email::parse("x@example.com.").unwrap().domain(), "example.com");
    }

    #[test]
    fn hostile_and_malformed_input_is_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(300));
        let long_label = format!("a@{}.com", "b".repeat(64));
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@example.com",
            "a@exa mple.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "\"quoted\"@example.com",
            "a<script>@example.com",
            "a\r\nBcc: x@evil.com@example.com",
            "a@example.com\r\nBcc: x@evil.com",
            "a@-example.com",
            "a@example-.com",
            "a@1.2.3.4",
            "a@[127.0.0.1]",
            "a@exa_mple.com",
            "ä@example.com",
            &long_local,
            &long_total,
            &long_label,
        ] {
            assert!(Email::parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}

//! Domain names an organization can claim: parsed strictly, in their ASCII (punycode) form,
//! lower case, without a trailing dot. Unicode names go through IDNA (UTS #46) with the `url`
//! crate, so look-alike spellings either normalise to the same name or become a different,
//! visibly punycoded one — and a claim is only ever granted to whoever controls that name's
//! DNS.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("Enter a domain name like example.com.")]
    Malformed,
    #[error("That domain name is too long (253 characters, 63 per label, at most).")]
    TooLong,
    #[error("Enter a domain name, not an IP address.")]
    IpAddress,
    #[error("A domain name needs at least two labels, like example.com.")]
    TopLevel,
    #[error("{0} is a public email domain that anyone can use; it cannot be claimed.")]
    PublicEmail(String),
}

const PUBLIC_EMAIL_DOMAINS: &str = include_str!("public_email_domains.txt");

fn is_public_email_domain(domain: &str) -> bool {
    PUBLIC_EMAIL_DOMAINS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == domain)
}

impl Domain {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 1024 {
            return Err(DomainError::Malformed);
        }
        // One trailing dot is the absolute form of the same name.
        let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || "*/\\:@?#[]%".contains(c)) {
            return Err(DomainError::Malformed);
        }
        let ascii = match url::Host::parse(name) {
            Ok(url::Host::Domain(d)) => d,
            Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Err(DomainError::IpAddress),
            Err(_) => return Err(DomainError::Malformed),
        };
        let ascii = ascii.to_ascii_lowercase();
        if ascii.len() > 253 {
            return Err(DomainError::TooLong);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        for label in &labels {
            if label.len() > 63 {
                return Err(DomainError::TooLong);
            }
            let hostname_label = !label.is_empty()
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !hostname_label {
                return Err(DomainError::Malformed);
            }
        }
        if labels.len() < 2 {
            return Err(DomainError::TopLevel);
        }
        if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return Err(DomainError::IpAddress);
        }
        if is_public_email_domain(&ascii) {
            return Err(DomainError::PublicEmail(ascii));
        }
        Ok(Self(ascii))
    }

    /// For values read back from storage (already parsed once).
    pub fn from_stored(ascii: String) -> Self {
        Self(ascii)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        for (input, want) in [
            ("Example.COM", "example.com"),
            ("example.com.", "example.com"),
            ("  sub.example.com ", "sub.example.com"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("ｅｘａｍｐｌｅ.com", "example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ] {
            assert_eq!(Domain::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn look_alikes_become_a_different_visible_name() {
        // Cyrillic "а" (U+0430) in place of the Latin "a".
        let spoof = Domain::parse("ex\u{0430}mple.com").unwrap();
        assert_ne!(spoof.as_str(), "example.com");
        assert!(spoof.as_str().starts_with("xn--"), "{spoof}");
    }

    #[test]
    fn hostile_names_are_refused() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        for (input, want) in [
            ("", DomainError::Malformed),
            (".", DomainError::Malformed),
            ("example..com", DomainError::Malformed),
            ("*.example.com", DomainError::Malformed),
            ("example.com/path", DomainError::Malformed),
            ("user@example.com", DomainError::Malformed),
            ("exa mple.com", DomainError::Malformed),
            ("-example.com", DomainError::Malformed),
            ("example-.com", DomainError::Malformed),
            ("exa_mple.com", DomainError::Malformed),
            ("example.com..", DomainError::Malformed),
            (long_label.as_str(), DomainError::TooLong),
            (long_name.as_str(), DomainError::TooLong),
            ("192.168.0.1", DomainError::IpAddress),
            ("[::1]", DomainError::Malformed),
            ("1.2.3.4.5", DomainError::Malformed),
            ("example.123", DomainError::Malformed),
            ("localhost", DomainError::TopLevel),
            ("com", DomainError::TopLevel),
            ("gmail.com", DomainError::PublicEmail("gmail.com".into())),
            ("GMAIL.COM.", DomainError::PublicEmail("gmail.com".into())),
        ] {
            assert_eq!(Domain::parse(input), Err(want), "{input:?}");
        }
        assert!(Domain::parse("mail.gmail.com").is_ok(), "subdomains are separate domains");
    }
}

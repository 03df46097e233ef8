//! A person's display name: free text, but bounded and free of control characters.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct DisplayName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("Enter your name.")]
    Empty,
    #[error("That name is too long (100 characters at most).")]
    TooLong,
    #[error(
        "Names cannot contain control characters or invisible formatting characters (such as right-to-left overrides or zero-width spaces)."
    )]
    ControlCharacters,
}

const MAX_CHARS: usize = 100;

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, DisplayNameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        if trimmed.chars().count() > MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        if crate::text::has_hidden_or_control(trimmed) {
            return Err(DisplayNameError::ControlCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A stand-in when an administrator creates an account without a name: the email's
    /// local part.
    pub fn from_email(email: &super::Email) -> Self {
        let local = email.as_str().split('@').next().unwrap_or_default();
        Self::parse(local).unwrap_or_else(|_| Self("user".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplayName({:?})", self.0)
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds_names() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse("Zoë 李").unwrap().as_str(), "Zoë 李");
        assert_eq!(DisplayName::parse(" "), Err(DisplayNameError::Empty));
        assert_eq!(DisplayName::parse(&"x".repeat(101)), Err(DisplayNameError::TooLong));
        assert_eq!(DisplayName::parse("a\u{0}b"), Err(DisplayNameError::ControlCharacters));
        assert_eq!(DisplayName::parse("a\nb"), Err(DisplayNameError::ControlCharacters));
    }
}

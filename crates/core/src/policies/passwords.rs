//! The password rules a new password must pass: length, the shipped list of the 100,000 most
//! common passwords (refused under every policy), and zxcvbn strength with the account's own
//! name and address as known words. History is checked by the service (it needs the hashes).
//!
//! The common list is looked up in a hash set keyed with a per-process random key, so a lookup
//! costs the same wherever (or whether) the password sits in the list, and its timing says
//! nothing about which entries are near it.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::credentials::Password;
use crate::policies::model::PolicySettings;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt").lines().filter(|l| !l.is_empty()).collect()
});

/// Zxcvbn's work grows with length; past this many characters a password is strong anyway
/// and only the prefix is scored.
const SCORED_CHARS: usize = 64;

/// Why a new password was refused, in words shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("Use at least {0} characters.")]
    TooShort(u32),
    #[error("This is one of the most common passwords. Choose one that is harder to guess.")]
    Common,
    #[error("This password is too easy to guess. {hint}")]
    TooWeak { score: u8, hint: String },
    #[error("You used this password recently. Choose one you have not used before.")]
    Reused,
}

/// Loads the common list now (it is otherwise loaded on first use): `serve` calls it at start.
pub fn warm_up() {
    LazyLock::force(&COMMON);
}

pub fn is_common(password: &str) -> bool {
    COMMON.contains(password) || COMMON.contains(password.to_lowercase().as_str())
}

/// The zxcvbn verdict for the meter and the strength rule: a score 0–4 and a hint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Strength {
    pub score: u8,
    pub common: bool,
    pub hint: String,
}

/// Scores a password, taking the account's own name and address parts as easy guesses.
pub fn strength(password: &str, user_inputs: &[&str]) -> Strength {
    let scored: String = password.chars().take(SCORED_CHARS).collect();
    let mut inputs: Vec<&str> = Vec::new();
    for input in user_inputs {
        inputs.push(input);
        inputs.extend(input.split(|c: char| !c.is_alphanumeric()).filter(|p| p.len() >= 3));
    }
    let entropy = zxcvbn::zxcvbn(&scored, &inputs);
    let common = is_common(password);
    let score = if common { 0 } else { u8::from(entropy.score()) };
    let hint = entropy
        .feedback()
        .and_then(|f| {
            f.warning()
                .map(|w| w.to_string())
                .or_else(|| f.suggestions().first().map(ToString::to_string))
        })
        .unwrap_or_else(|| "Add another word or two; uncommon words are better.".to_owned());
    Strength { score, common, hint }
}

/// Length, the common list and strength; the history rule is the service's.
pub fn check(
    settings: &PolicySettings,
    password: &Password,
    user_inputs: &[&str],
) -> Result<(), PasswordRuleError> {
    let raw = password.expose();
    let min = settings.password_min_length;
    if raw.chars().count() < usize::try_from(min).unwrap_or(usize::MAX) {
        return Err(PasswordRuleError::TooShort(min));
    }
    if is_common(raw) {
        return Err(PasswordRuleError::Common);
    }
    if settings.password_min_strength > 0 {
        let s = strength(raw, user_inputs);
        if s.score < settings.password_min_strength {
            return Err(PasswordRuleError::TooWeak { score: s.score, hint: s.hint });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[test]
    fn the_shipped_list_has_the_hundred_thousand_most_common_passwords() {
        assert_eq!(COMMON.len(), 100_000);
        for p in ["123456", "password", "qwertyuiop", "iloveyou"] {
            assert!(is_common(p), "{p}");
        }
        assert!(is_common("PassWord"), "case does not make a common password uncommon");
        assert!(!is_common("correct horse battery staple"));
    }

    #[test]
    fn a_common_password_is_refused_even_when_no_strength_is_required() {
        let lax = PolicySettings { password_min_length: 8, ..PolicySettings::default() };
        assert_eq!(check(&lax, &pw("qwertyuiop"), &[]), Err(PasswordRuleError::Common));
        assert_eq!(check(&lax, &pw("baseball1"), &[]), Err(PasswordRuleError::Common));
        assert_eq!(check(&lax, &pw("vellum-quarry-71"), &[]), Ok(()));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let s = PolicySettings { password_min_length: 10, ..PolicySettings::default() };
        assert_eq!(check(&s, &pw("ééééééééé"), &[]), Err(PasswordRuleError::TooShort(10)));
        assert_eq!(check(&s, &pw("éèêëēėęàáâ"), &[]), Ok(()));
    }

    #[test]
    fn the_accounts_own_name_and_address_make_a_password_weaker() {
        let s = PolicySettings { password_min_strength: 4, ..PolicySettings::default() };
        let inputs = ["Zebulon Quixote", "zebulon.quixote@example.com"];
        let (alone, known) =
            (strength("ZebulonQuixote1", &[]).score, strength("ZebulonQuixote1", &inputs).score);
        assert!(alone > known);
        assert!(matches!(
            check(&s, &pw("ZebulonQuixote1"), &inputs),
            Err(PasswordRuleError::TooWeak { .. })
        ));
        assert_eq!(check(&s, &pw("ZebulonQuixote1"), &[]), Ok(()), "strong to a stranger");
        assert_eq!(check(&s, &pw("tramway-saffron-gull-93"), &inputs), Ok(()));
    }

    #[test]
    fn hostile_passwords_are_scored_quickly_and_without_panicking() {
        let long = "a".repeat(256);
        let mixed: String = "\u{0}\u{202e}😀ﷺ".repeat(60);
        for p in [long.as_str(), mixed.as_str(), "\u{0}", " "] {
            let s = strength(p, &["", "@", "a@b"]);
            assert!(s.score <= 4);
        }
    }
}

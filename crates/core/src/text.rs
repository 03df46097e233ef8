//! Free text that people type and others read (names of people, organizations, products,
//! security keys, labels): it may not carry characters that hide or reorder what is shown.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Control characters (Cc) and invisible format characters (Cf: right-to-left overrides and
/// isolates such as U+202E and U+2066, zero-width spaces, the byte-order mark, tag characters)
/// spoof names in consoles and in mail. The two joiners (U+200C ZWNJ, U+200D ZWJ) are Cf but
/// are part of correct spelling in Persian and Indic scripts and of emoji, and cannot reorder
/// text, so they are allowed.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || (c.general_category() == GeneralCategory::Format
            && !matches!(c, '\u{200C}' | '\u{200D}'))
}

/// Whether `s` has any character [`is_hidden_or_control`] refuses.
pub fn has_hidden_or_control(s: &str) -> bool {
    // ASCII has no format characters: only its controls count (the common case, and the hot
    // one in a million-record import).
    if s.is_ascii() {
        return s.bytes().any(|b| b.is_ascii_control());
    }
    s.chars().any(is_hidden_or_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_invisible_characters_are_refused() {
        for hostile in [
            "evil\u{202E}nimda",
            "\u{2066}admin\u{2069}",
            "ad\u{200B}min",
            "\u{FEFF}admin",
            "admin\u{E0041}",
            "a\u{0000}b",
            "line\nbreak",
            "soft\u{00AD}hyphen",
        ] {
            assert!(has_hidden_or_control(hostile), "{hostile:?}");
        }
    }

    #[test]
    fn ordinary_names_in_any_script_pass() {
        for name in
            ["Zoë Åström", "山田 太郎", "محمد\u{200C}رضا", "Ada 👩\u{200D}💻", "O'Brien-Smith"]
        {
            assert!(!has_hidden_or_control(name), "{name:?}");
        }
    }
}

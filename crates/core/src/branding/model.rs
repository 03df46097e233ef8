//! What an installation is called and how it looks: the name on every page and in every mail,
//! an optional logo, and the colour of links and buttons. Checked here, once, for every way in
//! (console, CLI, admin API).

use std::fmt;

/// The name pages and mail use when nobody has set one.
pub const DEFAULT_NAME: &str = "Latchkey";

/// The colour the stylesheet uses when nobody has set one.
pub const DEFAULT_COLOUR: Colour = Colour([0x0c, 0x66, 0xe4]);

/// Buttons carry white text on the brand colour and links are the brand colour on white: both
/// must be readable (WCAG 2.1 SC 1.4.3, normal text).
pub const MIN_CONTRAST: f64 = 4.5;

const MAX_NAME_CHARS: usize = 40;

/// The installation's look. `Brand::default()` is Latchkey's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    name: String,
    logo_uri: Option<String>,
    colour: Option<Colour>,
    /// When an administrator last changed it (`None`: never, the default).
    updated_at: Option<i64>,
}

impl Default for Brand {
    fn default() -> Self {
        Self { name: DEFAULT_NAME.to_owned(), logo_uri: None, colour: None, updated_at: None }
    }
}

/// What an administrator asks for; [`Brand::new`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandInput {
    pub name: String,
    /// Empty or `None`: no logo.
    pub logo_uri: Option<String>,
    /// `#rrggbb` (or `rrggbb`); empty or `None`: the default colour.
    pub colour: Option<String>,
}

/// Why a brand was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandError {
    #[error(
        "the name must be 1 to {MAX_NAME_CHARS} characters, without control or invisible formatting characters"
    )]
    Name,
    #[error("{0}")]
    Logo(String),
    #[error("the colour must be written #rrggbb, for example #0c66e4")]
    ColourSyntax,
    #[error(
        "the colour {colour} is too light: white text on it and it on white have a contrast of {ratio:.1}:1, and at least {MIN_CONTRAST}:1 is needed to be readable"
    )]
    ColourContrast { colour: Colour, ratio: f64 },
}

impl Brand {
    /// Checks what an administrator typed; whitespace around each value is ignored.
    pub fn new(input: &BrandInput, updated_at: i64) -> Result<Self, BrandError> {
        let name = input.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || crate::text::has_hidden_or_control(name)
        {
            return Err(BrandError::Name);
        }
        let logo_uri = match input.logo_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => {
                check_logo_uri(uri).map_err(BrandError::Logo)?;
                Some(uri.to_owned())
            }
        };
        let colour = match input.colour.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(Colour::parse(raw)?.readable()?),
        };
        Ok(Self { name: name.to_owned(), logo_uri, colour, updated_at: Some(updated_at) })
    }

    /// A brand as stored: it was checked when it was saved, and is checked again (a row
    /// edited by hand that no longer passes gives Latchkey's own look, with a warning).
    pub fn from_stored(
        name: &str,
        logo_uri: Option<&str>,
        colour: Option<&str>,
        updated_at: i64,
    ) -> Self {
        let input = BrandInput {
            name: name.to_owned(),
            logo_uri: logo_uri.map(str::to_owned),
            colour: colour.map(str::to_owned),
        };
        Self::new(&input, updated_at).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the stored branding is not valid; using the default");
            Self { updated_at: Some(updated_at), ..Self::default() }
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn logo_uri(&self) -> Option<&str> {
        self.logo_uri.as_deref()
    }

    /// The colour an administrator chose, if any.
    pub fn colour(&self) -> Option<Colour> {
        self.colour
    }

    /// The colour pages and mail use.
    pub fn colour_or_default(&self) -> Colour {
        self.colour.unwrap_or(DEFAULT_COLOUR)
    }

    pub fn updated_at(&self) -> Option<i64> {
        self.updated_at
    }

    /// As the admin API, `latchkey branding show --json` and the audit log show it.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "logo_uri": self.logo_uri,
            "colour": self.colour.map(|c| c.to_string()),
            "default": self.is_default(),
        })
    }

    /// Whether this is Latchkey's own look (nobody changed it, or it was reset).
    pub fn is_default(&self) -> bool {
        self.updated_at.is_none()
    }
}

/// An sRGB colour, shown as `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    /// `#rrggbb` or `rrggbb`, either case. Nothing else: the value ends up in a stylesheet.
    pub fn parse(raw: &str) -> Result<Self, BrandError> {
        let hex = raw.strip_prefix('#').unwrap_or(raw);
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BrandError::ColourSyntax);
        }
        let byte =
            |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| BrandError::ColourSyntax);
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// WCAG 2.1 relative luminance.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2])
    }

    /// The WCAG contrast ratio against white (1 to 21).
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }

    fn readable(self) -> Result<Self, BrandError> {
        let ratio = self.contrast_with_white();
        if ratio < MIN_CONTRAST {
            return Err(BrandError::ColourContrast { colour: self, ratio });
        }
        Ok(self)
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }
}

/// A logo is an https image (the pages' content policy loads images from https only): the
/// installation's and products'.
pub fn check_logo_uri(raw: &str) -> Result<(), String> {
    let url =
        url::Url::parse(raw).map_err(|_| format!("the logo {raw:?} is not an absolute URL"))?;
    if url.scheme() != "https"
        || raw.len() > 2000
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "the logo {raw:?} must be an https URL (up to 2000 characters, no credentials)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, logo: Option<&str>, colour: Option<&str>) -> BrandInput {
        BrandInput {
            name: name.to_owned(),
            logo_uri: logo.map(str::to_owned),
            colour: colour.map(str::to_owned),
        }
    }

    #[test]
    fn a_plain_brand_is_accepted_and_trimmed() {
        let b = Brand::new(
            &input("  Acme ID ", Some(" https://cdn.acme.test/logo.svg "), Some("#0B5CAD")),
            7,
        )
        .unwrap();
        assert_eq!(b.name(), "Acme ID");
        assert_eq!(b.logo_uri(), Some("https://cdn.acme.test/logo.svg"));
        assert_eq!(b.colour().unwrap().to_string(), "#0b5cad");
        assert!(!b.is_default());
        let plain = Brand::new(&input("Acme", Some(""), Some("")), 7).unwrap();
        assert_eq!((plain.logo_uri(), plain.colour()), (None, None));
        assert_eq!(plain.colour_or_default(), DEFAULT_COLOUR);
    }

    #[test]
    fn hostile_names_are_refused() {
        for name in ["", "   ", "Acme\u{202e}DI", "Acme\nBank", &"x".repeat(41)] {
            assert_eq!(Brand::new(&input(name, None, None), 1), Err(BrandError::Name), "{name:?}");
        }
        assert!(Brand::new(&input(&"é".repeat(40), None, None), 1).is_ok());
    }

    #[test]
    fn logos_must_be_https_without_credentials() {
        for logo in [
            "javascript:alert(1)",
            "http://cdn.acme.test/logo.png",
            "data:image/svg+xml,<svg/>",
            "https://user:pw@cdn.acme.test/logo.png",
            "/assets/logo.png",
        ] {
            assert!(
                matches!(Brand::new(&input("A", Some(logo), None), 1), Err(BrandError::Logo(_))),
                "{logo}"
            );
        }
    }

    #[test]
    fn colours_are_strict_hex_and_readable_on_white() {
        for bad in ["red", "#fff", "#12345g", "#0c66e4;}body{display:none", "0c66e4 ", "#0c66e4aa"]
        {
            let got = Colour::parse(bad);
            assert_eq!(got, Err(BrandError::ColourSyntax), "{bad:?}");
        }
        assert_eq!(Colour::parse("0c66e4").unwrap(), DEFAULT_COLOUR);
        // Latchkey's own blue passes; yellow does not.
        assert!(DEFAULT_COLOUR.contrast_with_white() >= MIN_CONTRAST);
        let yellow = Brand::new(&input("A", None, Some("#ffcc00")), 1).unwrap_err();
        assert!(
            matches!(yellow, BrandError::ColourContrast { ratio, .. } if ratio < 2.0),
            "{yellow}"
        );
        assert!(yellow.to_string().contains("#ffcc00"));
        // Black is 21:1; white is 1:1.
        assert!((Colour::parse("#000000").unwrap().contrast_with_white() - 21.0).abs() < 1e-9);
        assert!((Colour::parse("#ffffff").unwrap().contrast_with_white() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_stored_row_that_no_longer_passes_falls_back_to_the_default_look() {
        let b = Brand::from_stored("Acme", None, Some("#ffff00"), 9);
        assert_eq!(b.name(), DEFAULT_NAME);
        assert_eq!(b.colour(), None);
        let ok = Brand::from_stored("Acme", None, Some("#123456"), 9);
        assert_eq!(ok.name(), "Acme");
    }
}

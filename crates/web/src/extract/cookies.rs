//! Cookie names and attributes. On https deployments the names carry the `__Host-` prefix,
//! which browsers accept only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain
//! cannot plant one.

use axum_extra::extract::cookie::{Cookie, SameSite};
use time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// The pending login between password and second factor (grants nothing else).
    pub pending: &'static str,
    /// A one-time message from a POST to the page it redirects to (core's `flash`).
    pub flash: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn new(secure: bool) -> Self {
        if secure {
            Self {
                session: "__Host-latchkey_session",
                csrf: "__Host-latchkey_csrf",
                pending: "__Host-latchkey_2fa",
                flash: "__Host-latchkey_flash",
                secure,
            }
        } else {
            Self {
                session: "latchkey_session",
                csrf: "latchkey_csrf",
                pending: "latchkey_2fa",
                flash: "latchkey_flash",
                secure,
            }
        }
    }
}

pub fn session_cookie(names: CookieNames, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((names.session, value))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(max_age_secs))
        .build()
}

pub fn session_cookie_removal(names: CookieNames) -> Cookie<'static> {
    Cookie::build((names.session, ""))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Lax)
        .max_age(Duration::ZERO)
        .build()
}

/// The pending-login cookie: five minutes, like the pending login itself.
pub fn pending_cookie(names: CookieNames, value: String) -> Cookie<'static> {
    Cookie::build((names.pending, value))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(300))
        .build()
}

/// The pending login's token from its cookie (empty when there is none).
pub fn pending_token(names: CookieNames, jar: &axum_extra::extract::CookieJar) -> String {
    jar.get(names.pending).map(|c| c.value().to_owned()).unwrap_or_default()
}

pub fn pending_cookie_removal(names: CookieNames) -> Cookie<'static> {
    Cookie::build((names.pending, ""))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(0))
        .build()
}

/// The flash cookie: as long as a flash message lives, never readable by scripts.
pub fn flash_cookie(names: CookieNames, value: String) -> Cookie<'static> {
    Cookie::build((names.flash, value))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(latchkey_core::flash::FLASH_TTL_SECS))
        .build()
}

pub fn flash_cookie_removal(names: CookieNames) -> Cookie<'static> {
    Cookie::build((names.flash, ""))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::ZERO)
        .build()
}

//! Server-rendered pages, one module per page group. No page calls another page's module;
//! what they share (redirect targets, notices, time formatting) lives here.

pub mod account;
pub mod admin;
pub mod admin_account;
pub mod api_tokens;
pub mod audit;
pub mod console_tokens;
pub mod email_change;
pub mod email_request;
pub mod keys;
pub mod legacy_console;
pub mod login;
pub mod org;
pub mod org_removal;
pub mod password_reset;
pub mod platform;
pub mod policies;
pub mod products;
pub mod rollout_status;
pub mod saml_console;
pub mod security;
pub mod services;
pub mod sign_in_steps;
pub mod signup;
pub mod upgraded;
pub mod verify_email;

use axum::response::{IntoResponse, Redirect, Response};

use crate::extract::MaybeSignedIn;

pub async fn home(MaybeSignedIn(signed_in): MaybeSignedIn) -> Response {
    if signed_in.is_some() { Redirect::to("/account") } else { Redirect::to("/login") }
        .into_response()
}

/// Where a sensitive change sends someone whose sign-in is not recent enough (core decides):
/// the login form, then back to `back`.
pub fn sign_in_again(back: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    format!("/login?reauth=1&next={next}")
}

/// Notices are chosen by key, so a link can never make a page say something we did not write.
/// An authenticator key in groups of four, easier to read and type ("ABCD EFGH …").
pub(crate) fn key_groups(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Recovery codes as the body of a `data:text/plain` download link, one per line.
pub(crate) fn codes_download(codes: &[String]) -> String {
    let text = format!(
        "{} recovery codes (each works once)\n\n{}\n",
        crate::brand::name(),
        codes.join("\n")
    );
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

pub fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "password_reset" => Some("Your password was changed. Log in with your new password."),
        "signed_out_everywhere" => Some("You were signed out on every device."),
        "verified" => Some("Your email address is verified. Welcome!"),
        "verified_log_in" => {
            Some("Your email address is verified. Log in with your password and your second step.")
        }
        "name_changed" => Some("Your name was saved."),
        "password_changed" => {
            Some("Your password was changed, and every other device was signed out.")
        }
        "session_ended" => Some("That session was signed out."),
        "access_revoked" => Some("That product no longer has access to your account."),
        "second_factor_expired" => Some("That sign-in took too long. Log in again."),
        "two_factor_off" => Some("The authenticator app was turned off."),
        "email_change_sent" => Some(
            "Check the new address: the change takes effect when you follow the link we sent there.",
        ),
        "email_changed" => Some("Your email address was changed."),
        "email_reverted" => Some(
            "The email change was undone and every device signed out. Choose a new password with the link we sent to your address.",
        ),
        "closure_requested" => Some(
            "Your request to close the account was sent to its administrators. Nothing changes until they act on it.",
        ),
        "key_added" => Some("The security key was added."),
        "key_renamed" => Some("The security key was renamed."),
        "key_removed" => Some("The security key was removed."),
        "token_revoked" => Some("The API token was revoked. It no longer works anywhere."),
        "reauth" => Some("Please sign in again to continue."),
        "policy" => Some(
            "Your organization's sign-in policy has changed. Sign in again to continue; you may be asked to choose a new password or set up two-step verification.",
        ),
        _ => None,
    }
}

/// "2026-11-27 01:49 UTC" and its ISO form for `<time datetime>`.
pub fn format_time(unix: i64) -> (String, String) {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return (unix.to_string(), unix.to_string());
    };
    let human = format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    );
    let iso = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    (human, iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_notices_say_nothing() {
        assert!(notice_text(Some("verified")).is_some());
        assert!(notice_text(Some("<script>")).is_none());
        assert!(notice_text(None).is_none());
    }

    #[test]
    fn times_format_in_utc() {
        assert_eq!(format_time(0).0, "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_000_000).1, "2026-11-18T11:06:40Z");
    }
}

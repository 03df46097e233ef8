//! What people and administrators type that becomes an identifier: email addresses, domain
//! names (verified by DNS TXT or an HTTPS file), PKCE challenges, and the organization-domain
//! proof file's text. Any input may be refused; none may panic.
#![no_main]

use latchkey_core::accounts::Email;
use latchkey_core::orgs::Domain;
use latchkey_protocol::oidc::CodeChallenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(email) = Email::parse(text) {
        assert!(Email::parse(email.as_str()).is_ok(), "a parsed address parses again");
    }
    if let Ok(domain) = Domain::parse(text) {
        assert_eq!(
            Domain::parse(domain.as_str()).as_ref(),
            Ok(&domain),
            "canonical form is stable"
        );
    }
    let (challenge, method) = text.split_once('\n').unwrap_or((text, "S256"));
    let _ = CodeChallenge::parse(challenge, Some(method));
});

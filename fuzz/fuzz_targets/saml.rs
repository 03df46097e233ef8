//! SAML from outside: the `SAMLResponse` form field (base64), XML documents, IdP metadata,
//! deflated redirect-binding messages and IdP certificates. Any input may be refused; none may
//! panic. (The signed-response path is also fuzzed by a bounded mutation test in
//! `latchkey-protocol` that needs real signed fixtures.)
#![no_main]

use latchkey_protocol::saml::{metadata, request, response, signature, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = response::decode_post(text);
    let _ = xml::parse(text);
    let _ = metadata::IdpMetadata::parse(text);
    let _ = request::inflate(text, 64 * 1024);
    if let Ok(cert) = signature::Certificate::parse(text) {
        let _ = cert.info();
    }
});

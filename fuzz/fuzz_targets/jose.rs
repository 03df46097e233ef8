//! JOSE from outside: a product's JWK Set (registered or fetched from its `jwks_uri`) and the
//! compact JWTs products present (client assertions, `id_token_hint`): header and claims
//! decoding, and our own JWK shape. Any input may be refused; none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = latchkey_core::oidc_provider::parse_jwks(text);
    if let Ok(set) = serde_json::from_str::<latchkey_protocol::jose::JwkSet>(text) {
        for key in &set.keys {
            let _ = key.decoding_key();
        }
    }
    let _ = jsonwebtoken::decode_header(text);
    let _ = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(text);
});

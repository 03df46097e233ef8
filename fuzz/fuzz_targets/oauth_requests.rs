//! Authorization and token requests as a client sends them: a form body (or query string)
//! parsed into parameters, then into an authorization request and into a token request. Any
//! input may be refused; none may panic.
#![no_main]

use latchkey_protocol::oidc::{AuthorizationTarget, Params, TokenRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::from_urlencoded(data) else { return };
    if let Ok(target) = AuthorizationTarget::parse(params.clone()) {
        let _ = target.into_request();
    }
    let _ = TokenRequest::parse(params);
});

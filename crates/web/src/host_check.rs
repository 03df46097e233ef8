//! DNS rebinding defence: a request whose `Host` names a host we do not serve is refused with
//! 421 before any handler runs. A rebinding page reaches us under the attacker's own host
//! name (which then resolves to this server), so it is the name that is checked; IP literals
//! cannot be rebound and are always accepted, as is `localhost`. Health probes, which
//! orchestrators send to the pod's address under any name, are exempt.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The host part of a `Host` header or an authority (`name`, `name:port`, `[v6]:port`),
/// lower-cased and without a trailing dot. `None` when it is not a valid authority.
pub(crate) fn host_of(authority: &str) -> Option<String> {
    let parsed: axum::http::uri::Authority = authority.parse().ok()?;
    if parsed.as_str().contains('@') {
        return None;
    }
    let after_host = &parsed.as_str()[parsed.host().len()..];
    if !after_host.is_empty() && parsed.port_u16().is_none() {
        return None;
    }
    let host = parsed.host().trim_end_matches('.').to_ascii_lowercase();
    let well_formed = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    (!host.is_empty() && well_formed).then_some(host)
}

/// Whether `host` (as returned by [`host_of`]) is served: `*` in the list allows any.
pub(crate) fn host_allowed(allowed: &[String], host: &str) -> bool {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || literal.parse::<std::net::IpAddr>().is_ok()
        || allowed.iter().any(|a| a == "*" || a == host)
}

/// The 421 for a request whose host is not served; `None` when it may go on.
pub(crate) fn refusal(state: &AppState, req: &Request) -> Option<Response> {
    if matches!(req.uri().path(), "/healthz" | "/readyz") {
        return None;
    }
    // HTTP/2 carries the authority in the URI; HTTP/1.1 in the Host header.
    let authority = match req.uri().authority() {
        Some(a) => Some(a.as_str()),
        None => req.headers().get(header::HOST).and_then(|h| h.to_str().ok()),
    };
    match authority.and_then(host_of) {
        Some(h) if host_allowed(&state.settings.allowed_hosts, &h) => None,
        _ => Some(
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "This server does not answer for that host name. Operators: add it to server.allowed_hosts.\n",
            )
                .into_response(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_ip_literals_pass() {
        let allowed = vec!["id.example.com".to_owned()];
        for (authority, ok) in [
            ("id.example.com", true),
            ("ID.Example.com.:443", true),
            ("localhost:8080", true),
            ("127.0.0.1:8080", true),
            ("[::1]:8080", true),
            ("10.0.0.7", true),
            ("attacker.example", false),
            ("id.example.com.attacker.example", false),
            ("127.0.0.1.nip.io", false),
        ] {
            let host = host_of(authority).unwrap();
            assert_eq!(host_allowed(&allowed, &host), ok, "{authority}");
        }
        assert!(host_allowed(&["*".to_owned()], "anything.example"));
    }

    #[test]
    fn hostile_authorities_are_not_hosts() {
        for junk in ["", "user@id.example.com", "id.example.com:port", "a b", "[::1"] {
            assert_eq!(host_of(junk), None, "{junk:?}");
        }
    }
}

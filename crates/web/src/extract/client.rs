//! The caller's address and user agent. The address comes from the socket, or from
//! `X-Forwarded-For` only when the socket peer is a configured trusted proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use latchkey_core::sessions::ClientInfo;

use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl<S> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let ip = client_ip(peer, &parts.headers, &state.settings.trusted_proxies);
        let ua = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(Self(ClientInfo::new(ua, &ip.map_or_else(|| "unknown".to_owned(), |i| i.to_string()))))
    }
}

/// Walks `X-Forwarded-For` from the right while the hop is trusted; the first untrusted
/// address is the client. Anything unparsable ends the walk at the last trusted hop.
fn client_ip(
    peer: Option<IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let mut current = peer?;
    if !trusted.contains(&current) {
        return Some(current);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        current = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let got = client_ip(Some(peer), &headers("1.2.3.4"), &[]);
        assert_eq!(got, Some(peer));
    }

    #[test]
    fn trusted_proxy_chain_yields_the_first_untrusted_hop() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let got = client_ip(Some(proxy), &headers("6.6.6.6, 198.51.100.7, 10.0.0.1"), &[proxy]);
        assert_eq!(got, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn garbage_in_forwarded_for_stops_at_the_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let got = client_ip(Some(proxy), &headers("not-an-ip"), &[proxy]);
        assert_eq!(got, Some(proxy));
    }
}

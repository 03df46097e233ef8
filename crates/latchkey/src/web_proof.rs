//! The HTTPS method of domain verification: fetches
//! `https://<domain>/.well-known/latchkey-verification.txt`. An organization admin decides
//! which domain is fetched, so this is outside input: the host is resolved through the same
//! resolver as the TXT look-ups and private, loopback and other non-public addresses are refused
//! (unless `[outbound] allow_private_addresses` is on) — checked on the addresses actually
//! connected to, so a name cannot rebind to an internal address between check and use. No
//! proxy, HTTPS only, redirects only within the same host and port (at most three), three
//! seconds to connect, five in all, 4 KiB of body at most.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::Resolver;
use hickory_resolver::name_server::TokioConnectionProvider;
use latchkey_core::orgs::{Domain, WELL_KNOWN_PATH};
use latchkey_core::ports::{MetadataFetcher, WebProofFetcher};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::OutboundPolicy;

const MAX_BYTES: usize = 4 * 1024;
const MAX_REDIRECTS: usize = 3;

pub struct HttpsProofFetcher {
    http: reqwest::Client,
    port: u16,
    allow_private: bool,
}

/// IdP metadata documents (Entra ID's carry many certificates) stay well under this.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

impl HttpsProofFetcher {
    pub fn new(dns_server: Option<SocketAddr>, policy: &OutboundPolicy) -> Result<Self, String> {
        let resolver = GuardedResolver {
            resolver: crate::dns::resolver(dns_server)?,
            allow_private: policy.allow_private_addresses,
        };
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .https_only(true)
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("Latchkey/", env!("CARGO_PKG_VERSION"), " domain-verification"))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let first = &attempt.previous()[0];
                let next = attempt.url();
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if next.scheme() != "https"
                    || next.host_str() != first.host_str()
                    || next.port_or_known_default() != first.port_or_known_default()
                {
                    let to = format!(
                        "{}://{}:{}",
                        next.scheme(),
                        next.host_str().unwrap_or("?"),
                        next.port_or_known_default().unwrap_or(0)
                    );
                    attempt.error(format!("redirected off the host ({to}); not followed"))
                } else {
                    attempt.follow()
                }
            }));
        if let Some(pem) = &policy.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("extra roots: {e}"))?;
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let http = builder.build().map_err(|e| format!("HTTPS client: {e}"))?;
        Ok(Self {
            http,
            port: policy.verification_https_port,
            allow_private: policy.allow_private_addresses,
        })
    }

    fn url(&self, domain: &Domain) -> String {
        if self.port == 443 {
            format!("https://{domain}{WELL_KNOWN_PATH}")
        } else {
            format!("https://{domain}:{}{WELL_KNOWN_PATH}", self.port)
        }
    }
}

impl HttpsProofFetcher {
    /// GETs `url` and reads at most `limit` bytes of UTF-8 text.
    async fn text(&self, url: &str, accept: &str, limit: usize) -> Result<String, String> {
        let mut response = self
            .http
            .get(url)
            .header("accept", accept)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", cause(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| format!("{url}: {}", cause(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                return Err(format!("{url} sent more than {} KiB", limit / 1024));
            }
        }
        String::from_utf8(body).map_err(|_| format!("{url} is not UTF-8 text"))
    }
}

#[async_trait]
impl WebProofFetcher for HttpsProofFetcher {
    async fn verification_file(&self, domain: &Domain) -> Result<String, String> {
        self.text(&self.url(domain), "text/plain", MAX_BYTES).await
    }
}

#[async_trait]
impl MetadataFetcher for HttpsProofFetcher {
    async fn idp_metadata(&self, raw: &str) -> Result<String, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err(format!("{raw:?} is not an https URL"));
        }
        // An address written in the URL never reaches the guarded resolver: check it here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(format!("{raw:?} has no host")),
        };
        if literal.is_some_and(|ip| !self.allow_private && !is_public(ip)) {
            return Err(format!(
                "{raw:?} is a private, loopback or otherwise non-public address, which is refused"
            ));
        }
        self.text(
            url.as_str(),
            "application/samlmetadata+xml, application/xml, text/xml",
            MAX_METADATA_BYTES,
        )
        .await
    }
}

/// The innermost cause of a request error, which is the part that tells the admin something
/// ("connection refused", "invalid peer certificate: …", our own refusals).
fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".to_owned();
    }
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{0} resolves only to private, loopback or otherwise non-public addresses, which are refused"
)]
struct NonPublic(String);

#[derive(Debug, thiserror::Error)]
#[error("{0} has no address")]
struct NoAddress(String);

/// Resolves with hickory and drops the addresses that must not be reached.
struct GuardedResolver {
    resolver: Resolver<TokioConnectionProvider>,
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.resolver.clone();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let lookup = resolver.lookup_ip(format!("{host}.")).await.map_err(|e| {
                if e.is_nx_domain() || e.is_no_records_found() {
                    Box::new(NoAddress(host.clone())) as Box<dyn std::error::Error + Send + Sync>
                } else {
                    Box::new(e)
                }
            })?;
            let all: Vec<IpAddr> = lookup.iter().collect();
            let allowed: Vec<SocketAddr> = all
                .iter()
                .filter(|ip| allow_private || is_public(**ip))
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect();
            if allowed.is_empty() {
                return Err(if all.is_empty() {
                    Box::new(NoAddress(host)) as Box<dyn std::error::Error + Send + Sync>
                } else {
                    Box::new(NonPublic(host))
                });
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, carrier-grade NAT, multicast, documentation, benchmarking, reserved or
/// unspecified — with IPv4 embedded in IPv6 (mapped, NAT64, 6to4) judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15, benchmarking
        || a >= 240) // 240.0.0.0/4, reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        let [o1, o2] = high.to_be_bytes();
        let [o3, o4] = low.to_be_bytes();
        Ipv4Addr::new(o1, o2, o3, o4)
    };
    match s[0] {
        // 64:ff9b::/96, NAT64: the IPv4 address in the last 32 bits.
        0x0064 if s[1] == 0xff9b => is_public_v4(embedded_v4(s[6], s[7])),
        // 2002::/16, 6to4: the IPv4 address in bits 16..48.
        0x2002 => is_public_v4(embedded_v4(s[1], s[2])),
        // 2001:db8::/32, documentation.
        0x2001 if s[1] == 0x0db8 => false,
        _ => {
            !(ip.is_unspecified()
                || ip.is_loopback()
                || ip.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
                || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, site-local (deprecated)
                || s[..6] == [0; 6]) // ::/96, IPv4-compatible and other reserved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:0001::1",
            "2002:c0a8:0101::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} counted as public");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public} counted as private");
        }
    }
}

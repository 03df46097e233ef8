//! TXT look-ups for domain verification with `hickory-resolver`: through `LATCHKEY_DNS_SERVER`
//! when set (plain UDP/TCP to that address), else the system resolver. No caching (a fresh
//! record must count at once), a few seconds at most per look-up.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use latchkey_core::orgs::Domain;
use latchkey_core::ports::{DnsError, DnsResolver};

pub struct HickoryDns {
    resolver: Resolver<TokioConnectionProvider>,
}

impl HickoryDns {
    pub fn new(server: Option<SocketAddr>) -> Result<Self, String> {
        Ok(Self { resolver: resolver(server)? })
    }
}

/// A resolver for verification look-ups: through `server` when given, else the system's.
pub fn resolver(server: Option<SocketAddr>) -> Result<Resolver<TokioConnectionProvider>, String> {
    let mut builder = match server {
        Some(addr) => {
            let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
            Resolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], group),
                TokioConnectionProvider::default(),
            )
        }
        None => Resolver::builder_tokio().map_err(|e| format!("system resolver: {e}"))?,
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = Duration::from_secs(2);
    options.attempts = 1;
    options.cache_size = 0;
    options.ndots = 0;
    Ok(builder.build())
}

#[async_trait]
impl DnsResolver for HickoryDns {
    async fn txt(&self, name: &Domain) -> Result<Vec<String>, DnsError> {
        // Fully qualified: the apex itself, never a search-domain suffix.
        let fqdn = format!("{name}.");
        match self.resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    // A TXT record may be split into character-strings; they join into one value.
                    txt.txt_data().iter().map(|part| String::from_utf8_lossy(part)).collect()
                })
                .collect()),
            Err(e) if e.is_nx_domain() => Err(DnsError::NotFound),
            Err(e) if e.is_no_records_found() => Err(DnsError::NoRecords),
            Err(e) if e.proto().is_some_and(|p| matches!(p.kind(), ProtoErrorKind::Timeout)) => {
                Err(DnsError::Timeout)
            }
            Err(e) => Err(DnsError::Failed(e.to_string())),
        }
    }
}

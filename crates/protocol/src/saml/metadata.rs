//! Metadata: the identity provider's, read from what an admin uploads or points to; ours,
//! written for them to give their IdP.

use uppsala::{Document, NodeId};

use super::request::{BINDING_POST, BINDING_REDIRECT, NAMEID_EMAIL};
use super::signature::Certificate;
use super::xml::{self, NS_DSIG, NS_METADATA, XmlError, escape};

/// What Latchkey needs of an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// The HTTP-Redirect SingleSignOnService location.
    pub sso_url: String,
    /// Signing certificates: `use="signing"` or without a `use`.
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the metadata describes no identity provider (no IDPSSODescriptor)")]
    NoIdp,
    #[error("the metadata describes {0} identity providers; upload the one for this connection")]
    SeveralIdps(usize),
    #[error("the metadata has no entityID")]
    NoEntityId,
    #[error("the identity provider offers no HTTP-Redirect SingleSignOnService")]
    NoRedirectSso,
    #[error("the SSO URL {0:?} is not an https URL")]
    BadSsoUrl(String),
    #[error(
        "the metadata has no signing certificate, and a connection without one is never accepted"
    )]
    NoCertificate,
    #[error("a signing certificate is unusable: {0}")]
    BadCertificate(String),
}

impl IdpMetadata {
    pub fn parse(source: &str) -> Result<Self, MetadataError> {
        let doc = xml::parse(source)?;
        let root = doc.document_element().ok_or(MetadataError::NoIdp)?;
        let entities: Vec<NodeId> = if xml::is(&doc, root, NS_METADATA, "EntityDescriptor") {
            vec![root]
        } else {
            xml::descendants(&doc, root, NS_METADATA, "EntityDescriptor")
        };
        let idps: Vec<(NodeId, NodeId)> = entities
            .into_iter()
            .filter_map(|e| {
                xml::one_child(&doc, e, NS_METADATA, "IDPSSODescriptor")
                    .ok()
                    .flatten()
                    .map(|d| (e, d))
            })
            .collect();
        let (entity, descriptor) = match idps.as_slice() {
            [] => return Err(MetadataError::NoIdp),
            [one] => *one,
            many => return Err(MetadataError::SeveralIdps(many.len())),
        };
        let entity_id = xml::attr(&doc, entity, "entityID")
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or(MetadataError::NoEntityId)?
            .to_owned();
        let sso_url = xml::children(&doc, descriptor, NS_METADATA, "SingleSignOnService")
            .into_iter()
            .find(|s| xml::attr(&doc, *s, "Binding") == Some(BINDING_REDIRECT))
            .and_then(|s| xml::attr(&doc, s, "Location"))
            .ok_or(MetadataError::NoRedirectSso)?
            .trim()
            .to_owned();
        check_sso_url(&sso_url)?;
        let certificates = signing_certificates(&doc, descriptor)?;
        Ok(Self { entity_id, sso_url, certificates })
    }
}

/// An SSO URL must be an absolute `https` URL (plain `http` only to a loopback host, for
/// tests and local IdPs).
pub fn check_sso_url(raw: &str) -> Result<(), MetadataError> {
    let ok = url::Url::parse(raw).is_ok_and(|u| match u.scheme() {
        "https" => u.host().is_some(),
        "http" => matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    });
    if ok { Ok(()) } else { Err(MetadataError::BadSsoUrl(raw.to_owned())) }
}

fn signing_certificates(
    doc: &Document<'_>,
    descriptor: NodeId,
) -> Result<Vec<Certificate>, MetadataError> {
    let mut certificates = Vec::new();
    for key in xml::children(doc, descriptor, NS_METADATA, "KeyDescriptor") {
        if matches!(xml::attr(doc, key, "use"), Some(u) if u != "signing") {
            continue;
        }
        for cert in xml::descendants(doc, key, NS_DSIG, "X509Certificate") {
            let text = xml::strict_text(doc, cert)?;
            let cert = Certificate::parse(&text).map_err(MetadataError::BadCertificate)?;
            if !certificates.contains(&cert) {
                certificates.push(cert);
            }
        }
    }
    if certificates.is_empty() {
        return Err(MetadataError::NoCertificate);
    }
    Ok(certificates)
}

/// Our side, for the identity provider's admin.
#[derive(Debug, Clone)]
pub struct SpDescription<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    /// Our certificate, offered for both uses: the IdP checks our signed requests with it
    /// and encrypts assertions to it.
    pub certificate: Option<&'a Certificate>,
    /// We sign every AuthnRequest (the IdP may then insist on it).
    pub sign_requests: bool,
}

/// Our metadata: entity ID, ACS (HTTP-POST), the NameID format we ask for, and our
/// certificate for signing and encryption with the block ciphers we accept.
pub fn sp_metadata(sp: &SpDescription<'_>) -> String {
    let keys = sp
        .certificate
        .map(|cert| {
            let cert = cert.to_base64();
            let descriptor = |usage: &str, methods: &str| {
                format!(
                    concat!(
                        "\n    ",
                        r#"<md:KeyDescriptor use="{usage}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
                        "<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>",
                        "</ds:KeyInfo>{methods}</md:KeyDescriptor>"
                    ),
                    usage = usage,
                    cert = cert,
                    methods = methods,
                )
            };
            let methods = super::encryption::BLOCK_CIPHERS.iter().fold(String::new(), |mut out, m| {
                out.push_str(r#"<md:EncryptionMethod Algorithm=""#);
                out.push_str(m);
                out.push_str(r#""/>"#);
                out
            });
            descriptor("signing", "") + &descriptor("encryption", &methods)
        })
        .unwrap_or_default();
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">"#,
            "\n  ",
            r#"<md:SPSSODescriptor AuthnRequestsSigned="{signed}" WantAssertionsSigned="true" "#,
            r#"protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}"#,
            "\n    <md:NameIDFormat>{format}</md:NameIDFormat>\n    ",
            r#"<md:AssertionConsumerService Binding="{binding}" Location="{acs}" index="0" isDefault="true"/>"#,
            "\n  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n"
        ),
        entity = escape(sp.entity_id),
        signed = sp.sign_requests,
        keys = keys,
        format = NAMEID_EMAIL,
        binding = BINDING_POST,
        acs = escape(sp.acs_url),
    )
}

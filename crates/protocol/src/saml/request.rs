//! The AuthnRequest we send, over the HTTP-Redirect binding (bindings §3.4): raw DEFLATE,
//! base64, then the query string.

use std::io::Write as _;

use base64::Engine as _;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use url::Url;

use super::xml::escape;

pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The one algorithm we sign our requests with.
pub const SIG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// Signs the Redirect binding's octets: RSA-SHA256 (PKCS#1 v1.5) by the caller's key.
pub type Signer<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

#[derive(Debug, Clone)]
pub struct AuthnRequest<'a> {
    /// Starts with a letter or `_` (an xs:ID).
    pub id: &'a str,
    /// RFC 3339, UTC.
    pub issue_instant: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub idp_sso_url: &'a str,
    /// Ask for a fresh authentication at the IdP.
    pub force_authn: bool,
}

impl AuthnRequest<'_> {
    pub fn to_xml(&self) -> String {
        format!(
            concat!(
                r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
                r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" "#,
                r#"IssueInstant="{instant}" Destination="{destination}" "#,
                r#"AssertionConsumerServiceURL="{acs}" ProtocolBinding="{binding}"{force}>"#,
                r#"<saml:Issuer>{issuer}</saml:Issuer>"#,
                r#"<samlp:NameIDPolicy Format="{format}" AllowCreate="true"/>"#,
                r#"</samlp:AuthnRequest>"#
            ),
            id = escape(self.id),
            instant = escape(self.issue_instant),
            destination = escape(self.idp_sso_url),
            acs = escape(self.acs_url),
            binding = BINDING_POST,
            force = if self.force_authn { r#" ForceAuthn="true""# } else { "" },
            issuer = escape(self.sp_entity_id),
            format = NAMEID_EMAIL,
        )
    }

    /// The IdP's SSO URL with `SAMLRequest` and `RelayState` added to its query.
    pub fn redirect_url(&self, relay_state: &str) -> Result<Url, String> {
        self.redirect(relay_state, None)
    }

    /// The same, signed as the Redirect binding signs (bindings §3.4.4.1): `sign` gets the
    /// octets `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as they stand in the query and
    /// returns an RSA-SHA256 (PKCS#1 v1.5) signature.
    pub fn signed_redirect_url(&self, relay_state: &str, sign: Signer<'_>) -> Result<Url, String> {
        self.redirect(relay_state, Some(sign))
    }

    fn redirect(&self, relay_state: &str, sign: Option<Signer<'_>>) -> Result<Url, String> {
        let mut url = Url::parse(self.idp_sso_url).map_err(|e| format!("the SSO URL: {e}"))?;
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
        let deflated = encoder
            .write_all(self.to_xml().as_bytes())
            .and_then(|()| encoder.finish())
            .map_err(|e| e.to_string())?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let encode =
            |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let mut ours = format!(
            "SAMLRequest={}&RelayState={}",
            encode(&b64.encode(deflated)),
            encode(relay_state)
        );
        if let Some(sign) = sign {
            ours.push_str("&SigAlg=");
            ours.push_str(&encode(SIG_RSA_SHA256));
            let signature = sign(ours.as_bytes())?;
            ours.push_str("&Signature=");
            ours.push_str(&encode(&b64.encode(signature)));
        }
        let query = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{ours}"),
            _ => ours,
        };
        url.set_query(Some(&query));
        Ok(url)
    }
}

/// Inflates a Redirect-binding `SAMLRequest` (what an IdP does; tests and "test connection"
/// use it), at most `limit` bytes.
pub fn inflate(encoded: &str, limit: usize) -> Result<String, String> {
    use std::io::Read as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .map_err(|_| "not base64".to_owned())?;
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(limit as u64 + 1)
        .read_to_string(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() > limit {
        return Err("too large".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_through_the_redirect_binding() {
        let request = AuthnRequest {
            id: "_abc",
            issue_instant: "2026-12-04T08:00:00Z",
            sp_entity_id: "https://id.example/saml/c1/metadata",
            acs_url: "https://id.example/saml/c1/acs",
            idp_sso_url: "https://idp.example/sso?tenant=a&x=<1>",
            force_authn: false,
        };
        let url = request.redirect_url("relay\"&").unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("tenant".to_owned(), "a".to_owned()));
        assert_eq!(pairs.last().unwrap(), &("RelayState".to_owned(), "relay\"&".to_owned()));
        let xml = inflate(&pairs.iter().find(|p| p.0 == "SAMLRequest").unwrap().1, 10_000).unwrap();
        assert_eq!(xml, request.to_xml());
        assert!(xml.contains(r#"Destination="https://idp.example/sso?tenant=a&amp;x=&lt;1&gt;""#));
        let doc = crate::saml::xml::parse(&xml).unwrap();
        let root = doc.document_element().unwrap();
        assert_eq!(doc.get_attribute(root, "ID"), Some("_abc"));
    }

    #[test]
    fn a_signed_redirect_signs_exactly_its_three_parameters_as_sent() {
        let request = AuthnRequest {
            id: "_abc",
            issue_instant: "2026-12-04T08:00:00Z",
            sp_entity_id: "https://id.example/saml/c1/metadata",
            acs_url: "https://id.example/saml/c1/acs",
            idp_sso_url: "https://idp.example/sso?tenant=a",
            force_authn: false,
        };
        let seen = std::cell::RefCell::new(Vec::new());
        let url = request
            .signed_redirect_url("r e&l", &|octets| {
                seen.borrow_mut().extend_from_slice(octets);
                Ok(vec![1, 2, 3])
            })
            .unwrap();
        let query = url.query().unwrap();
        let signed = String::from_utf8(seen.into_inner()).unwrap();
        assert!(query.starts_with("tenant=a&"), "{query}");
        assert_eq!(query, format!("tenant=a&{signed}&Signature=AQID"));
        assert!(signed.starts_with("SAMLRequest="), "{signed}");
        assert!(signed.contains("&RelayState=r+e%26l&SigAlg="), "{signed}");
        assert!(
            signed.ends_with(
                "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"
            )
        );
    }
}

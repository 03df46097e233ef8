//! SAML connections as data: an organization's identity provider, the domains it answers
//! for, and how its attributes map onto an account.

use latchkey_protocol::saml::response::Assertion;
use latchkey_protocol::saml::signature::Certificate;

use crate::clock::Timestamp;
use crate::orgs::model::Domain;

/// Well-known identity providers: a label, short guidance for the console, default mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Okta,
    EntraId,
    GoogleWorkspace,
    OneLogin,
    Adfs,
    Keycloak,
    Custom,
}

impl Preset {
    pub const ALL: [Self; 7] = [
        Self::Okta,
        Self::EntraId,
        Self::GoogleWorkspace,
        Self::OneLogin,
        Self::Adfs,
        Self::Keycloak,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Okta => "okta",
            Self::EntraId => "entra-id",
            Self::GoogleWorkspace => "google-workspace",
            Self::OneLogin => "onelogin",
            Self::Adfs => "adfs",
            Self::Keycloak => "keycloak",
            Self::Custom => "custom",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Okta => "Okta",
            Self::EntraId => "Microsoft Entra ID",
            Self::GoogleWorkspace => "Google Workspace",
            Self::OneLogin => "OneLogin",
            Self::Adfs => "AD FS",
            Self::Keycloak => "Keycloak",
            Self::Custom => "Another SAML 2.0 identity provider",
        }
    }

    /// Where the admin finds the IdP's metadata, and what to give it of ours.
    pub fn guidance(self) -> &'static str {
        match self {
            Self::Okta => {
                "In Okta: Applications → Create App Integration → SAML 2.0. Single sign-on URL: our \
                 ACS URL; Audience URI: our entity ID; Name ID format: EmailAddress. Then copy the \
                 'Metadata URL' from the Sign On tab."
            }
            Self::EntraId => {
                "In Entra ID: Enterprise applications → New application → Create your own → \
                 Set up single sign-on → SAML. Identifier: our entity ID; Reply URL: our ACS URL. \
                 Download 'Federation Metadata XML' from section 3."
            }
            Self::GoogleWorkspace => {
                "In the Google Admin console: Apps → Web and mobile apps → Add custom SAML app. \
                 Download the IdP metadata; ACS URL and Entity ID are ours; Name ID format: EMAIL, \
                 Name ID: Primary email."
            }
            Self::OneLogin => {
                "In OneLogin: Applications → Add App → 'SAML Custom Connector (Advanced)'. \
                 Audience: our entity ID; Recipient and ACS URL: our ACS URL. Download the \
                 metadata from More Actions → SAML Metadata."
            }
            Self::Adfs => {
                "In AD FS Management: Relying Party Trusts → Add → import our metadata URL, add a \
                 claim rule sending 'E-Mail-Addresses' as 'Name ID' (Email). AD FS metadata is at \
                 /FederationMetadata/2007-06/FederationMetadata.xml."
            }
            Self::Keycloak => {
                "In Keycloak: Clients → Import client → our metadata. The realm's IdP metadata is \
                 at /realms/<realm>/protocol/saml/descriptor. Set 'Name ID format' to email."
            }
            Self::Custom => {
                "Give your identity provider our metadata URL (or the entity ID and ACS URL), ask \
                 it to send the email as the NameID (or name the attribute below), and upload its \
                 metadata here."
            }
        }
    }

    pub fn default_mapping(self) -> AttributeMapping {
        let names =
            |email: Option<&str>, given: &str, family: &str, display: &str, groups: &str| {
                AttributeMapping {
                    email: email.map(str::to_owned),
                    given_name: Some(given.to_owned()),
                    family_name: Some(family.to_owned()),
                    display_name: Some(display.to_owned()),
                    groups: Some(groups.to_owned()),
                }
            };
        match self {
            Self::EntraId | Self::Adfs => names(
                Some("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                "http://schemas.microsoft.com/identity/claims/displayname",
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            ),
            Self::Okta | Self::OneLogin | Self::GoogleWorkspace => {
                names(None, "firstName", "lastName", "displayName", "groups")
            }
            Self::Keycloak | Self::Custom => {
                names(None, "givenName", "sn", "displayName", "groups")
            }
        }
    }
}

/// Which attributes carry what. `email: None` means the NameID is the address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttributeMapping {
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub groups: Option<String>,
}

/// What a verified assertion says of the person, through the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedPerson {
    pub email: String,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

impl AttributeMapping {
    pub fn apply(&self, assertion: &Assertion) -> MappedPerson {
        let one = |name: &Option<String>| {
            name.as_deref()
                .and_then(|n| assertion.attribute(&[n]))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let email = match &self.email {
            Some(attr) => {
                assertion.attribute(&[attr.as_str(), "email", "mail"]).unwrap_or_default()
            }
            None => assertion.name_id.as_str(),
        }
        .trim()
        .to_owned();
        let name = one(&self.display_name).map(str::to_owned).or_else(|| {
            let parts: Vec<&str> =
                [one(&self.given_name), one(&self.family_name)].into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        let groups = self
            .groups
            .as_deref()
            .and_then(|g| assertion.attributes.iter().find(|(k, _)| k == g))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        MappedPerson { email, name, groups }
    }
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent switches of one connection
pub struct SamlConnection {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub preset: Preset,
    pub idp_entity_id: String,
    pub sso_url: String,
    pub certificates: Vec<Certificate>,
    pub domains: Vec<Domain>,
    pub mapping: AttributeMapping,
    /// A first login creates the managed account.
    pub jit: bool,
    pub allow_idp_initiated: bool,
    pub allow_sha1: bool,
    /// Our key pair for this connection: it signs our AuthnRequests (when `sign_requests`)
    /// and decrypts encrypted assertions. `None` only for connections stored before keys
    /// existed; one is made the first time it is needed.
    pub sp_key: Option<SpKey>,
    /// Sign every AuthnRequest (the Redirect binding's signature).
    pub sign_requests: bool,
    /// IdP-initiated sign-ins land on this product's site (a client ID); `None`: `/account`.
    pub landing_client: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection's service-provider key: the RSA private key sealed under the master key
/// (never stored or shown in the clear), and its self-signed certificate, which our metadata
/// publishes.
#[derive(Clone)]
pub struct SpKey {
    pub sealed: String,
    pub certificate: Certificate,
}

impl std::fmt::Debug for SpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpKey").field("certificate", &self.certificate).finish_non_exhaustive()
    }
}

impl SamlConnection {
    /// Our entity ID for this connection (the audience), also where our metadata is.
    pub fn sp_entity_id(&self, public_url: &str) -> String {
        format!("{public_url}/saml/{}/metadata", self.id)
    }

    pub fn acs_url(&self, public_url: &str) -> String {
        format!("{public_url}/saml/{}/acs", self.id)
    }

    /// The provider name in `external_identities`.
    pub fn provider(&self) -> String {
        format!("saml:{}", self.id)
    }

    pub fn answers_for(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.as_str().eq_ignore_ascii_case(domain))
    }

    /// Certificates that expire within `days` of `now` (or already have).
    pub fn expiring_certificates(&self, now: Timestamp, days: i64) -> Vec<(String, i64)> {
        self.certificates
            .iter()
            .map(Certificate::info)
            .filter(|i| i.not_after <= now.plus_secs(days * 86_400).unix())
            .map(|i| (i.subject, i.not_after))
            .collect()
    }
}

/// An SP-initiated login in flight, behind its RelayState.
#[derive(Debug, Clone)]
pub struct PendingSamlLogin {
    pub connection_id: String,
    pub request_id: String,
    pub next: String,
    /// Started by "test connection": report, do not sign in.
    pub test: bool,
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(name_id: &str, attrs: &[(&str, &str)]) -> Assertion {
        Assertion {
            id: "a1".to_owned(),
            issuer: "idp".to_owned(),
            name_id: name_id.to_owned(),
            name_id_format: None,
            session_index: None,
            attributes: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            replayable_until: 0,
        }
    }

    #[test]
    fn mapping_reads_the_name_id_or_the_named_attribute() {
        let okta = Preset::Okta.default_mapping();
        let person = okta.apply(&assertion(
            " alice@acme.test ",
            &[("firstName", "Alice"), ("lastName", "Liddell")],
        ));
        assert_eq!(person.email, "alice@acme.test");
        assert_eq!(person.name.as_deref(), Some("Alice Liddell"));
        let entra = Preset::EntraId.default_mapping();
        let person = entra.apply(&assertion(
            "opaque-object-id",
            &[
                (
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    "bob@acme.test",
                ),
                ("http://schemas.microsoft.com/identity/claims/displayname", "Bob B."),
            ],
        ));
        assert_eq!(person.email, "bob@acme.test");
        assert_eq!(person.name.as_deref(), Some("Bob B."));
        assert_eq!(entra.apply(&assertion("x", &[])).email, "");
        for preset in Preset::ALL {
            assert_eq!(Preset::parse(preset.as_str()), Some(preset));
        }
    }
}

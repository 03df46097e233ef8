//! SAML single sign-on: Latchkey as the service provider of an organization's identity
//! provider, for the managed accounts on the domains the organization verified. A verified
//! assertion ends in the usual sign-in (session, pending steps), so every product signs in
//! through it.

pub mod model;
pub mod ports;

mod expiry;
mod keys;
mod login;

use std::sync::Arc;

use latchkey_protocol::saml::metadata::{self, IdpMetadata};
use latchkey_protocol::saml::signature::{Certificate, SignatureVerifier};

pub use keys::SamlState;
pub use login::{SamlLogin, SamlLoginError, TestReport};
pub use model::{AttributeMapping, MappedPerson, PendingSamlLogin, Preset, SamlConnection, SpKey};

use crate::accounts::ports::AccountRepo;
use crate::audit::{Actor, Audit, Record};
use crate::authority::OrgAdmin;
use crate::errors::{RepoError, Unexpected};
use crate::kernel::Kernel;
use crate::oidc_provider::OidcProvider;
use crate::orgs::model::{Domain, DomainStatus};
use crate::orgs::ports::OrgRepo;
use crate::saml_sp::ports::{MetadataFetcher, SamlRepo, SaveConnectionError};
use crate::second_factor::SecondFactor;

/// Where the identity provider's details come from.
#[derive(Debug, Clone)]
pub enum IdpSource {
    /// Metadata XML, uploaded.
    Metadata(String),
    /// Metadata at an https URL, fetched through the guarded fetcher.
    MetadataUrl(String),
    /// Entered by hand.
    Manual { entity_id: String, sso_url: String, certificates: Vec<String> },
}

/// A connection as an organization admin describes it.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent switches of one connection
pub struct ConnectionRequest {
    pub name: String,
    pub preset: Preset,
    pub source: IdpSource,
    pub domains: Vec<String>,
    pub jit: bool,
    pub allow_idp_initiated: bool,
    pub allow_sha1: bool,
    /// Sign our AuthnRequests with the connection's key.
    pub sign_requests: bool,
    /// Where IdP-initiated sign-ins land: a product's client ID, or `None` for `/account`.
    pub landing_client: Option<String>,
    /// `None`: the preset's defaults.
    pub mapping: Option<AttributeMapping>,
}

#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} is not a verified domain of this organization")]
    DomainNotVerified(String),
    #[error("{0} is already bound to another SAML connection")]
    DomainTaken(String),
    #[error("no such SAML connection")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for SamlError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// The ports the SAML service uses.
pub struct SamlPorts {
    pub saml: Arc<dyn SamlRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub orgs: Arc<dyn OrgRepo>,
    pub fetcher: Arc<dyn MetadataFetcher>,
    pub verifier: Arc<dyn SignatureVerifier>,
}

#[derive(Clone)]
pub struct SamlSp {
    repo: Arc<dyn SamlRepo>,
    accounts: Arc<dyn AccountRepo>,
    orgs: Arc<dyn OrgRepo>,
    fetcher: Arc<dyn MetadataFetcher>,
    verifier: Arc<dyn SignatureVerifier>,
    oidc: OidcProvider,
    state: Arc<SamlState>,
    second_factor: SecondFactor,
    audit: Audit,
    kernel: Kernel,
}

/// Allowed clock difference with identity providers.
pub const CLOCK_SKEW_SECS: i64 = 120;
/// How long an SP-initiated login may take at the IdP.
pub const LOGIN_TTL_SECS: i64 = 15 * 60;
/// Certificates expiring within this many days are warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

impl SamlSp {
    pub fn new(
        ports: SamlPorts,
        state: SamlState,
        oidc: OidcProvider,
        second_factor: SecondFactor,
        audit: Audit,
        kernel: Kernel,
    ) -> Self {
        Self {
            repo: ports.saml,
            accounts: ports.accounts,
            orgs: ports.orgs,
            fetcher: ports.fetcher,
            verifier: ports.verifier,
            oidc,
            state: Arc::new(state),
            second_factor,
            audit,
            kernel,
        }
    }

    /// Creates a connection. Every domain must be one the organization has verified and no
    /// other connection holds; at least one signing certificate is required.
    pub async fn add_connection(
        &self,
        admin: &OrgAdmin,
        request: ConnectionRequest,
    ) -> Result<SamlConnection, SamlError> {
        let now = self.kernel.now();
        let connection = self.build(admin, None, request, now).await?;
        self.save(admin, &connection, "saml.connection_created").await?;
        Ok(connection)
    }

    /// Replaces a connection's settings (same id: the IdP's configuration stays valid).
    pub async fn update_connection(
        &self,
        admin: &OrgAdmin,
        id: &str,
        request: ConnectionRequest,
    ) -> Result<SamlConnection, SamlError> {
        let existing = self.connection(admin, id).await?;
        let connection = self.build(admin, Some(&existing), request, self.kernel.now()).await?;
        self.save(admin, &connection, "saml.connection_updated").await?;
        Ok(connection)
    }

    async fn save(
        &self,
        admin: &OrgAdmin,
        connection: &SamlConnection,
        event: &'static str,
    ) -> Result<(), SamlError> {
        match self.repo.save_connection(connection).await {
            Ok(()) => {}
            Err(SaveConnectionError::DomainTaken(d)) => return Err(SamlError::DomainTaken(d)),
            Err(SaveConnectionError::Unexpected(e)) => return Err(e.into()),
        }
        let record = Record::new(event, Actor::Org(admin))
            .in_org(&admin.org().id)
            .about(format!("SAML connection {}", connection.name))
            .details(serde_json::json!({
                "connection": connection.id,
                "idp_entity_id": connection.idp_entity_id,
                "domains": connection.domains.iter().map(Domain::as_str).collect::<Vec<_>>(),
                "jit": connection.jit,
                "allow_idp_initiated": connection.allow_idp_initiated,
                "allow_sha1": connection.allow_sha1,
                "sign_requests": connection.sign_requests,
                "certificates": connection.certificates.iter().map(|c| c.info().fingerprint).collect::<Vec<_>>(),
            }));
        self.audit.record(record).await;
        Ok(())
    }

    async fn build(
        &self,
        admin: &OrgAdmin,
        existing: Option<&SamlConnection>,
        request: ConnectionRequest,
        now: crate::clock::Timestamp,
    ) -> Result<SamlConnection, SamlError> {
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 100 || crate::text::has_hidden_or_control(name)
        {
            return Err(SamlError::Invalid(
                "the name must be 1 to 100 visible characters".to_owned(),
            ));
        }
        let idp = self.idp(request.source).await?;
        let domains = self.verified_domains(admin, &request.domains).await?;
        let landing_client = match request.landing_client.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(client) => Some(self.landing(client).await?),
        };
        let id = existing.map_or_else(|| self.kernel.new_id(now), |e| e.id.clone());
        let sp_key = match existing.and_then(|e| e.sp_key.clone()) {
            Some(key) => key,
            None => self.state.generate(&id, now, self.kernel.rng())?,
        };
        Ok(SamlConnection {
            id,
            org_id: admin.org().id.clone(),
            name: name.to_owned(),
            preset: request.preset,
            idp_entity_id: idp.entity_id,
            sso_url: idp.sso_url,
            certificates: idp.certificates,
            domains,
            mapping: request.mapping.unwrap_or_else(|| request.preset.default_mapping()),
            jit: request.jit,
            allow_idp_initiated: request.allow_idp_initiated,
            allow_sha1: request.allow_sha1,
            sp_key: Some(sp_key),
            sign_requests: request.sign_requests,
            landing_client,
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
        })
    }

    /// A product people can land on: registered, with a web address.
    async fn landing(&self, client: &str) -> Result<String, SamlError> {
        let found = self.oidc.find_client(client).await?.ok_or_else(|| {
            SamlError::Invalid(format!("there is no product with client ID {client:?}"))
        })?;
        if found.home_url().is_none() {
            return Err(SamlError::Invalid(format!(
                "{} has no web address to land on (only native redirect URIs)",
                found.name
            )));
        }
        Ok(found.id)
    }

    /// Where an IdP-initiated sign-in to a product goes: the product's site.
    pub async fn landing_url(&self, client: &str) -> Result<Option<String>, RepoError> {
        Ok(self.oidc.find_client(client).await?.and_then(|c| c.home_url()))
    }

    async fn idp(&self, source: IdpSource) -> Result<IdpMetadata, SamlError> {
        let invalid = |e: metadata::MetadataError| SamlError::Invalid(e.to_string());
        match source {
            IdpSource::Metadata(xml) => IdpMetadata::parse(&xml).map_err(invalid),
            IdpSource::MetadataUrl(url) => {
                let xml = self
                    .fetcher
                    .idp_metadata(url.trim())
                    .await
                    .map_err(|e| SamlError::Invalid(format!("the metadata URL: {e}")))?;
                IdpMetadata::parse(&xml).map_err(invalid)
            }
            IdpSource::Manual { entity_id, sso_url, certificates } => {
                let entity_id = entity_id.trim().to_owned();
                if entity_id.is_empty() || entity_id.len() > 1024 {
                    return Err(SamlError::Invalid("the IdP entity ID is required".to_owned()));
                }
                let sso_url = sso_url.trim().to_owned();
                metadata::check_sso_url(&sso_url).map_err(invalid)?;
                let mut certs = Vec::new();
                for raw in certificates.iter().filter(|c| !c.trim().is_empty()) {
                    certs.push(
                        Certificate::parse(raw).map_err(|e| {
                            SamlError::Invalid(format!("a signing certificate: {e}"))
                        })?,
                    );
                }
                if certs.is_empty() {
                    return Err(invalid(metadata::MetadataError::NoCertificate));
                }
                Ok(IdpMetadata { entity_id, sso_url, certificates: certs })
            }
        }
    }

    async fn verified_domains(
        &self,
        admin: &OrgAdmin,
        raw: &[String],
    ) -> Result<Vec<Domain>, SamlError> {
        if raw.is_empty() {
            return Err(SamlError::Invalid(
                "bind the connection to at least one verified domain".to_owned(),
            ));
        }
        let mut domains: Vec<Domain> = Vec::new();
        for name in raw {
            let domain =
                Domain::parse(name).map_err(|e| SamlError::Invalid(format!("{name}: {e}")))?;
            let held = self.orgs.find_domain(&admin.org().id, &domain).await?;
            if !held.is_some_and(|d| d.status == DomainStatus::Verified) {
                return Err(SamlError::DomainNotVerified(domain.as_str().to_owned()));
            }
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        Ok(domains)
    }

    pub async fn list_connections(
        &self,
        admin: &OrgAdmin,
    ) -> Result<Vec<SamlConnection>, RepoError> {
        self.repo.list_connections(&admin.org().id).await
    }

    /// One of the organization's connections (another organization's is "not found").
    pub async fn connection(
        &self,
        admin: &OrgAdmin,
        id: &str,
    ) -> Result<SamlConnection, SamlError> {
        self.repo
            .find_connection(id)
            .await?
            .filter(|c| c.org_id == admin.org().id)
            .ok_or(SamlError::NotFound)
    }

    pub async fn remove_connection(&self, admin: &OrgAdmin, id: &str) -> Result<(), SamlError> {
        let connection = self.connection(admin, id).await?;
        self.repo.delete_connection(&connection.id).await?;
        let record = Record::new("saml.connection_removed", Actor::Org(admin))
            .in_org(&admin.org().id)
            .about(format!("SAML connection {}", connection.name))
            .details(serde_json::json!({ "connection": connection.id }));
        self.audit.record(record).await;
        Ok(())
    }

    /// Our metadata for a connection (public: the IdP's admin needs it).
    pub async fn sp_metadata(&self, id: &str) -> Result<Option<String>, Unexpected> {
        let Some(connection) = self.repo.find_connection(id).await? else { return Ok(None) };
        let connection = self.keyed(connection).await?;
        let (entity_id, acs_url) = self.sp_endpoints(&connection);
        Ok(Some(metadata::sp_metadata(&metadata::SpDescription {
            entity_id: &entity_id,
            acs_url: &acs_url,
            certificate: connection.sp_key.as_ref().map(|k| &k.certificate),
            sign_requests: connection.sign_requests,
        })))
    }

    /// The connection with its SP key: one stored before keys existed gets one now (the first
    /// node to store it wins; the others read it back).
    pub(crate) async fn keyed(
        &self,
        connection: SamlConnection,
    ) -> Result<SamlConnection, Unexpected> {
        if connection.sp_key.is_some() {
            return Ok(connection);
        }
        let key = self.state.generate(&connection.id, self.kernel.now(), self.kernel.rng())?;
        self.repo.set_sp_key_if_absent(&connection.id, &key).await?;
        self.repo
            .find_connection(&connection.id)
            .await?
            .filter(|c| c.sp_key.is_some())
            .ok_or_else(|| Unexpected("the SAML connection disappeared".into()))
    }

    /// Our entity ID and ACS URL for a connection.
    pub fn sp_endpoints(&self, connection: &SamlConnection) -> (String, String) {
        let base = self.kernel.public_url();
        (connection.sp_entity_id(base), connection.acs_url(base))
    }

    /// A connection as the CLI and the admin API print it.
    pub fn describe(&self, c: &SamlConnection) -> serde_json::Value {
        let (entity_id, acs_url) = self.sp_endpoints(c);
        let certificates: Vec<_> = c
            .certificates
            .iter()
            .map(|cert| {
                let info = cert.info();
                serde_json::json!({ "subject": info.subject, "not_after": info.not_after, "sha256": info.fingerprint })
            })
            .collect();
        serde_json::json!({
            "connection_id": c.id,
            "org_id": c.org_id,
            "name": c.name,
            "preset": c.preset.as_str(),
            "domains": c.domains.iter().map(Domain::as_str).collect::<Vec<_>>(),
            "idp_entity_id": c.idp_entity_id,
            "sso_url": c.sso_url,
            "entity_id": entity_id,
            "acs_url": acs_url,
            "metadata_url": entity_id,
            "jit": c.jit,
            "allow_idp_initiated": c.allow_idp_initiated,
            "allow_sha1": c.allow_sha1,
            "sign_requests": c.sign_requests,
            "landing_client": c.landing_client,
            "sp_certificate": c.sp_key.as_ref().map(|k| {
                let info = k.certificate.info();
                serde_json::json!({ "not_after": info.not_after, "sha256": info.fingerprint })
            }),
            "mapping": c.mapping,
            "certificates": certificates,
            "expiring_certificates": self.expiring(c).len(),
        })
    }

    /// Certificates expiring within [`EXPIRY_WARNING_DAYS`], for the console's warning.
    pub fn expiring(&self, connection: &SamlConnection) -> Vec<(String, i64)> {
        connection.expiring_certificates(self.kernel.now(), EXPIRY_WARNING_DAYS)
    }
}

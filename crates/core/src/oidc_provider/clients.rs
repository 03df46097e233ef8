//! Products that sign in through Latchkey (OAuth clients): registration and authentication.
//!
//! Client secrets carry 256 bits and are stored as SHA-256, compared in constant time: a
//! password hash here would cap the token endpoint at a few dozen requests per second per core
//! for no gain (the secret is not guessable).

use latchkey_protocol::jose::SigningAlg;

use crate::authority::SiteAdmin;
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::oidc_provider::OidcProvider;
use crate::secret::{OpaqueToken, TokenHash, constant_time_eq};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "authorization_code" => Some(Self::AuthorizationCode),
            "refresh_token" => Some(Self::RefreshToken),
            "client_credentials" => Some(Self::ClientCredentials),
            _ => None,
        }
    }
}

/// Where a `private_key_jwt` client's public keys are (OIDC Core §9, RFC 7523).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeys {
    /// A JWK Set registered with the client (JSON text, checked at registration).
    Inline(String),
    /// A URL the client publishes its JWK Set at; fetched and cached.
    Uri(String),
}

/// How a client proves who it is at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Public clients (SPAs, native apps): they identify themselves and use PKCE.
    None,
    /// `client_secret_basic` or `client_secret_post`.
    Secret,
    /// `private_key_jwt`: a signed assertion.
    PrivateKeyJwt,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// Set for clients that authenticate with a secret.
    pub secret_hash: Option<TokenHash>,
    /// Set for clients that authenticate with `private_key_jwt`.
    pub keys: Option<ClientKeys>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    /// Scopes a `client_credentials` token may carry.
    pub scopes: Vec<String>,
    /// First-party products skip the consent screen.
    pub first_party: bool,
    pub id_token_alg: SigningAlg,
    pub created_at: Timestamp,
    /// An https image shown beside the product's name (consent screen, the person's account).
    pub logo_uri: Option<String>,
    /// Set while a site admin has the product disabled: nobody signs in to it and its tokens,
    /// secret and grants do not work until it is enabled again.
    pub disabled_at: Option<Timestamp>,
}

impl Client {
    pub fn auth_method(&self) -> AuthMethod {
        match (&self.secret_hash, &self.keys) {
            (Some(_), _) => AuthMethod::Secret,
            (None, Some(_)) => AuthMethod::PrivateKeyJwt,
            (None, None) => AuthMethod::None,
        }
    }

    pub fn is_public(&self) -> bool {
        self.auth_method() == AuthMethod::None
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The product's site: the origin of its first web redirect URI (where an IdP-initiated
    /// sign-in can send a person). `None` for a product with only native redirect URIs.
    pub fn home_url(&self) -> Option<String> {
        self.redirect_uris.iter().find_map(|raw| {
            let url = url::Url::parse(raw).ok()?;
            matches!(url.scheme(), "https" | "http")
                .then(|| format!("{}/", url.origin().ascii_serialization()))
        })
    }

    /// Exact string match, as OAuth 2.0 Security BCP §4.1 requires: no wildcards, no prefixes.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// What operators see of a client (CLI `--json`, admin API): never its secret or keys.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub token_endpoint_auth_method: &'static str,
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<&'static str>,
    pub scopes: Vec<String>,
    pub id_token_signed_response_alg: &'static str,
    pub jwks_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
}

impl Client {
    pub fn summary(&self) -> ClientSummary {
        ClientSummary {
            client_id: self.id.clone(),
            name: self.name.clone(),
            public: self.is_public(),
            token_endpoint_auth_method: match self.auth_method() {
                AuthMethod::None => "none",
                AuthMethod::Secret => "client_secret_basic",
                AuthMethod::PrivateKeyJwt => "private_key_jwt",
            },
            first_party: self.first_party,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            grant_types: self.grant_types.iter().map(|g| g.as_str()).collect(),
            scopes: self.scopes.clone(),
            id_token_signed_response_alg: self.id_token_alg.as_str(),
            jwks_uri: match &self.keys {
                Some(ClientKeys::Uri(u)) => Some(u.clone()),
                _ => None,
            },
            logo_uri: self.logo_uri.clone(),
            enabled: self.disabled_at.is_none(),
            created_at: self.created_at.unix(),
        }
    }

    /// "web app", "single-page/native" or "service", as the console names the kinds.
    pub fn kind_words(&self) -> &'static str {
        if !self.allows(GrantType::AuthorizationCode) {
            "service"
        } else if self.is_public() {
            "single-page/native"
        } else {
            "web app"
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewClientRequest {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub public: bool,
    /// `private_key_jwt` instead of a secret.
    pub keys: Option<ClientKeys>,
    pub scopes: Vec<String>,
    pub id_token_alg: SigningAlg,
    /// Third-party products show the consent screen.
    pub first_party: bool,
    pub logo_uri: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterClientError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for RegisterClientError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A registered client and its secret, which is shown once and never stored.
#[derive(Debug)]
pub struct RegisteredClient {
    pub client: Client,
    pub secret: Option<OpaqueToken>,
}

/// Why a client could not be authenticated; the endpoint answers `invalid_client` for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthFailure {
    UnknownClient,
    WrongSecret,
    MissingSecret,
    /// The client authenticates another way than the one it was registered for.
    WrongMethod,
    /// A `private_key_jwt` assertion that does not verify, has expired or was replayed.
    BadAssertion,
}

/// A redirect URI we can register: absolute, no fragment (RFC 6749 §3.1.2), and https unless
/// it points at the loopback interface or is a native app's private-use scheme.
fn check_redirect_uri(raw: &str, public: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|_| format!("{raw:?} is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(format!("{raw:?} must not contain a fragment"));
    }
    if raw.len() > 2000 {
        return Err("redirect URIs are limited to 2000 characters".into());
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!("{raw:?} must use https (http is allowed only for loopback)")),
        scheme if public && scheme.contains('.') => Ok(()),
        _ => Err(format!("{raw:?} has an unsupported scheme")),
    }
}

fn check_plain_uri(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|_| format!("{raw:?} is not an absolute URL"))?;
    if matches!(url.scheme(), "http" | "https") && url.fragment().is_none() {
        Ok(())
    } else {
        Err(format!("{raw:?} must be an http(s) URL without a fragment"))
    }
}

/// What a product may change after registration (its kind, grant types, authentication method
/// and keys stay as registered). `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `Some(None)` removes the back-channel logout URI.
    pub backchannel_logout_uri: Option<Option<String>>,
    /// `Some(None)` removes the logo.
    pub logo_uri: Option<Option<String>>,
    pub first_party: Option<bool>,
    /// For products with the `client_credentials` grant.
    pub scopes: Option<Vec<String>>,
}

/// Why a product could not be changed, re-keyed, switched or deleted.
#[derive(Debug, thiserror::Error)]
pub enum ManageClientError {
    #[error("no such product")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for ManageClientError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// What deleting a product ends, shown before it is deleted and recorded after.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClientUsage {
    /// People with a live sign-in (grant) at the product.
    pub signed_in_people: u64,
    /// People who allowed the (third-party) product to see their details.
    pub consents: u64,
    /// Accounts the product verifies basic-auth passwords for.
    pub basic_auth_bindings: u64,
    /// The product's own users waiting in the legacy upgrade.
    pub legacy_records: u64,
}

/// The settings every product must satisfy, at registration and after each change.
fn check_settings(c: &Client) -> Result<(), String> {
    let name = c.name.as_str();
    if name.is_empty() || name.chars().count() > 100 || crate::text::has_hidden_or_control(name) {
        return Err("the name must be 1 to 100 characters, without control or invisible formatting characters (such as right-to-left overrides)".into());
    }
    if c.grant_types.is_empty() {
        return Err("at least one grant type is needed".into());
    }
    if c.allows(GrantType::AuthorizationCode) && c.redirect_uris.is_empty() {
        return Err("the authorization code grant needs at least one redirect URI".into());
    }
    if c.redirect_uris.len() > 50 || c.post_logout_redirect_uris.len() > 50 {
        return Err("a product has at most 50 redirect URIs of each kind".into());
    }
    let public = c.is_public();
    for uri in &c.redirect_uris {
        check_redirect_uri(uri, public)?;
    }
    for uri in c.post_logout_redirect_uris.iter().chain(&c.backchannel_logout_uri) {
        check_plain_uri(uri)?;
    }
    if let Some(logo) = &c.logo_uri {
        crate::branding::model::check_logo_uri(logo)?;
    }
    check_scopes(&c.scopes)
}

/// Scopes a service may ask for (`client_credentials`): RFC 6749 §3.3 scope tokens, at most 50.
fn check_scopes(scopes: &[String]) -> Result<(), String> {
    if scopes.len() > 50 {
        return Err("a service has at most 50 scopes".into());
    }
    for scope in scopes {
        let ok = !scope.is_empty()
            && scope.len() <= 100
            && scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !ok {
            return Err(format!(
                "{scope:?} is not a scope: use 1 to 100 visible ASCII characters without spaces, quotes or backslashes"
            ));
        }
    }
    Ok(())
}

impl OidcProvider {
    pub async fn register_client(
        &self,
        admin: &SiteAdmin,
        req: NewClientRequest,
    ) -> Result<RegisteredClient, RegisterClientError> {
        let invalid = |m: String| RegisterClientError::Invalid(m);
        if req.public && req.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(invalid("a public client cannot use client_credentials".into()));
        }
        match &req.keys {
            Some(_) if req.public => {
                return Err(invalid("a public client has no keys; drop --public".into()));
            }
            Some(ClientKeys::Inline(jwks)) => {
                super::assertion::check_jwks(jwks).map_err(invalid)?;
            }
            Some(ClientKeys::Uri(uri)) => check_plain_uri(uri).map_err(invalid)?,
            None => {}
        }
        let now = self.kernel.now();
        let secret =
            (!req.public && req.keys.is_none()).then(|| OpaqueToken::generate(self.kernel.rng()));
        let client = Client {
            id: self.kernel.new_id(now),
            name: req.name.trim().to_owned(),
            secret_hash: secret.as_ref().map(OpaqueToken::hash),
            keys: req.keys,
            redirect_uris: req.redirect_uris,
            post_logout_redirect_uris: req.post_logout_redirect_uris,
            backchannel_logout_uri: req.backchannel_logout_uri,
            grant_types: req.grant_types,
            scopes: req.scopes,
            first_party: req.first_party,
            id_token_alg: req.id_token_alg,
            created_at: now,
            logo_uri: req.logo_uri,
            disabled_at: None,
        };
        check_settings(&client).map_err(invalid)?;
        self.clients.insert(&client).await?;
        self.state.clients.invalidate();
        tracing::info!(client = %client.id, name = %client.name, "client registered");
        let record = crate::audit::Record::new(
            "client.registered",
            crate::audit::Actor::Site(admin),
        )
        .about(client.name.as_str())
        .details(serde_json::json!({ "client_id": client.id, "first_party": client.first_party }));
        self.audit.record(record).await;
        Ok(RegisteredClient { client, secret })
    }

    /// One product as stored, enabled or not (the console's product page).
    pub async fn client_for_admin(
        &self,
        _admin: &SiteAdmin,
        id: &str,
    ) -> Result<Option<Client>, RepoError> {
        Ok(self.clients.list().await?.into_iter().find(|c| c.id == id))
    }

    async fn stored_client(&self, id: &str) -> Result<Client, ManageClientError> {
        self.clients
            .list()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(ManageClientError::NotFound)
    }

    async fn record_client_event(
        &self,
        admin: &SiteAdmin,
        event: &'static str,
        client: &Client,
        details: serde_json::Value,
    ) {
        let mut details = details;
        details["client_id"] = client.id.clone().into();
        let record = crate::audit::Record::new(event, crate::audit::Actor::Site(admin))
            .about(client.name.as_str())
            .details(details);
        self.audit.record(record).await;
    }

    /// Changes a product's settings; they are checked as at registration. The secret, the
    /// switch and the kind are not touched here, so a concurrent rotation is never undone.
    pub async fn update_client(
        &self,
        admin: &SiteAdmin,
        id: &str,
        changes: ClientChanges,
    ) -> Result<Client, ManageClientError> {
        let mut client = self.stored_client(id).await?;
        let mut fields = Vec::new();
        if let Some(name) = changes.name {
            name.trim().clone_into(&mut client.name);
            fields.push("name");
        }
        if let Some(uris) = changes.redirect_uris {
            client.redirect_uris = uris;
            fields.push("redirect_uris");
        }
        if let Some(uris) = changes.post_logout_redirect_uris {
            client.post_logout_redirect_uris = uris;
            fields.push("post_logout_redirect_uris");
        }
        if let Some(uri) = changes.backchannel_logout_uri {
            client.backchannel_logout_uri = uri;
            fields.push("backchannel_logout_uri");
        }
        if let Some(logo) = changes.logo_uri {
            client.logo_uri = logo;
            fields.push("logo_uri");
        }
        if let Some(first_party) = changes.first_party {
            client.first_party = first_party;
            fields.push("first_party");
        }
        if let Some(scopes) = changes.scopes {
            client.scopes = scopes;
            fields.push("scopes");
        }
        check_settings(&client).map_err(ManageClientError::Invalid)?;
        if !self.clients.update_settings(&client).await? {
            return Err(ManageClientError::NotFound);
        }
        self.state.clients.invalidate();
        self.record_client_event(
            admin,
            "client.updated",
            &client,
            serde_json::json!({ "changed": fields }),
        )
        .await;
        Ok(client)
    }

    /// A new secret for a product that authenticates with one; the old one stops working at
    /// once on this node and within the registry's refresh (5 s) on the others.
    pub async fn rotate_client_secret(
        &self,
        admin: &SiteAdmin,
        id: &str,
    ) -> Result<(Client, OpaqueToken), ManageClientError> {
        let client = self.stored_client(id).await?;
        if client.auth_method() != AuthMethod::Secret {
            return Err(ManageClientError::Invalid(
                "this product has no secret to rotate (it is public or signs its own assertions)"
                    .into(),
            ));
        }
        let secret = OpaqueToken::generate(self.kernel.rng());
        if !self.clients.set_secret_hash(id, &secret.hash()).await? {
            return Err(ManageClientError::NotFound);
        }
        self.state.clients.invalidate();
        self.record_client_event(admin, "client.secret_rotated", &client, serde_json::json!({}))
            .await;
        Ok((client, secret))
    }

    /// Disables or enables a product. Disabled, nobody signs in to it, its secret is refused,
    /// and its access and refresh tokens are inactive; enabled again, they work until they
    /// expire. Returns false when it already was in that state.
    pub async fn set_client_enabled(
        &self,
        admin: &SiteAdmin,
        id: &str,
        enabled: bool,
    ) -> Result<bool, ManageClientError> {
        let client = self.stored_client(id).await?;
        let at = (!enabled).then(|| self.kernel.now());
        if !self.clients.set_disabled(id, at).await? {
            return Ok(false);
        }
        self.state.clients.invalidate();
        let event = if enabled { "client.enabled" } else { "client.disabled" };
        self.record_client_event(admin, event, &client, serde_json::json!({})).await;
        Ok(true)
    }

    /// What deleting the product would end.
    pub async fn client_usage(
        &self,
        _admin: &SiteAdmin,
        id: &str,
    ) -> Result<ClientUsage, RepoError> {
        self.clients.usage(id).await
    }

    /// Deletes a product with its grants, refresh tokens, consents and legacy records; its
    /// access tokens are inactive at once (introspection and `UserInfo` look the product up).
    pub async fn delete_client(
        &self,
        admin: &SiteAdmin,
        id: &str,
    ) -> Result<ClientUsage, ManageClientError> {
        let client = self.stored_client(id).await?;
        let usage = self.clients.usage(id).await?;
        if !self.clients.delete(id).await? {
            return Err(ManageClientError::NotFound);
        }
        self.state.clients.invalidate();
        tracing::info!(client = %client.id, name = %client.name, "client deleted");
        self.record_client_event(
            admin,
            "client.deleted",
            &client,
            serde_json::to_value(usage).unwrap_or_default(),
        )
        .await;
        Ok(usage)
    }

    pub async fn list_clients(&self, _admin: &SiteAdmin) -> Result<Vec<Client>, RepoError> {
        self.clients.list().await
    }

    /// The client, from the in-memory registry (refreshed from the database every few
    /// seconds, so every node sees new clients promptly).
    /// Disabled products are not found: every protocol path treats them as unknown.
    pub async fn find_client(&self, id: &str) -> Result<Option<Client>, RepoError> {
        Ok(self
            .state
            .clients
            .get(id, self.clients.as_ref(), self.kernel.now())
            .await?
            .filter(|c| c.disabled_at.is_none()))
    }

    /// Whether the product is registered and enabled, without copying it (the token checks).
    pub(crate) async fn client_is_live(&self, id: &str) -> Result<bool, RepoError> {
        self.state.clients.is_live(id, self.clients.as_ref(), self.kernel.now()).await
    }

    /// `client_secret_basic` / `client_secret_post` (RFC 6749 §2.3.1), or a public client that
    /// only identifies itself.
    pub async fn authenticate_client(
        &self,
        id: &str,
        secret: Option<&str>,
    ) -> Result<Result<Client, ClientAuthFailure>, RepoError> {
        let Some(client) = self.find_client(id).await? else {
            return Ok(Err(ClientAuthFailure::UnknownClient));
        };
        if client.auth_method() == AuthMethod::PrivateKeyJwt {
            return Ok(Err(ClientAuthFailure::WrongMethod));
        }
        Ok(match (&client.secret_hash, secret) {
            (None, None) => Ok(client),
            (None, Some(_)) => Err(ClientAuthFailure::WrongSecret),
            (Some(_), None) => Err(ClientAuthFailure::MissingSecret),
            (Some(expected), Some(given)) => {
                let given = TokenHash::of(given);
                if constant_time_eq(given.as_str().as_bytes(), expected.as_str().as_bytes()) {
                    Ok(client)
                } else {
                    Err(ClientAuthFailure::WrongSecret)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked_at_registration() {
        for ok in ["https://rp.example/cb", "http://127.0.0.1:9000/cb", "http://localhost/cb"] {
            assert!(check_redirect_uri(ok, false).is_ok(), "{ok}");
        }
        assert!(check_redirect_uri("com.example.app:/oauth", true).is_ok());
        for bad in [
            "/relative",
            "https://rp.example/cb#frag",
            "http://rp.example/cb",
            "javascript:alert(1)",
            "com.example.app:/oauth",
            "data:text/html,hi",
        ] {
            assert!(check_redirect_uri(bad, false).is_err(), "{bad}");
        }
    }
}

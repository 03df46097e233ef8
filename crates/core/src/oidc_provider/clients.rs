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
            created_at: self.created_at.unix(),
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

impl OidcProvider {
    pub async fn register_client(
        &self,
        admin: &SiteAdmin,
        req: NewClientRequest,
    ) -> Result<RegisteredClient, RegisterClientError> {
        let invalid = |m: String| RegisterClientError::Invalid(m);
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 100 || crate::text::has_hidden_or_control(name)
        {
            return Err(invalid("the name must be 1 to 100 characters, without control or invisible formatting characters (such as right-to-left overrides)".into()));
        }
        if req.grant_types.is_empty() {
            return Err(invalid("at least one grant type is needed".into()));
        }
        let needs_redirect = req.grant_types.contains(&GrantType::AuthorizationCode);
        if needs_redirect && req.redirect_uris.is_empty() {
            return Err(invalid(
                "the authorization code grant needs at least one redirect URI".into(),
            ));
        }
        if req.public && req.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(invalid("a public client cannot use client_credentials".into()));
        }
        for uri in &req.redirect_uris {
            check_redirect_uri(uri, req.public).map_err(invalid)?;
        }
        for uri in req.post_logout_redirect_uris.iter().chain(&req.backchannel_logout_uri) {
            check_plain_uri(uri).map_err(invalid)?;
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
            name: name.to_owned(),
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
        };
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

    pub async fn list_clients(&self, _admin: &SiteAdmin) -> Result<Vec<Client>, RepoError> {
        self.clients.list().await
    }

    /// The client, from the in-memory registry (refreshed from the database every few
    /// seconds, so every node sees new clients promptly).
    pub async fn find_client(&self, id: &str) -> Result<Option<Client>, RepoError> {
        self.state.clients.get(id, self.clients.as_ref(), self.kernel.now()).await
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

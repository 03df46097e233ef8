//! Products that sign in through Latchkey (OAuth clients): registration and authentication.
//!
//! Client secrets carry 256 bits and are stored as SHA-256, compared in constant time: a
//! password hash here would cap the token endpoint at a few dozen requests per second per core
//! for no gain (the secret is not guessable).

use latchkey_protocol::jose::SigningAlg;

use crate::Core;
use crate::clock::Timestamp;
use crate::flows::{SiteAdmin, Unexpected};
use crate::ports::RepoError;
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

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// `None` for public clients (SPAs, native apps), which must use PKCE.
    pub secret_hash: Option<TokenHash>,
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
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Exact string match, as OAuth 2.0 Security BCP §4.1 requires: no wildcards, no prefixes.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
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
    pub scopes: Vec<String>,
    pub id_token_alg: SigningAlg,
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

impl Core {
    pub async fn register_client(
        &self,
        _admin: &SiteAdmin,
        req: NewClientRequest,
    ) -> Result<RegisteredClient, RegisterClientError> {
        let invalid = |m: String| RegisterClientError::Invalid(m);
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(invalid("the name must be 1 to 100 printable characters".into()));
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
        let now = self.ports.clock.now();
        let secret = (!req.public).then(|| OpaqueToken::generate(self.ports.rng.as_ref()));
        let client = Client {
            id: self.new_id(now),
            name: name.to_owned(),
            secret_hash: secret.as_ref().map(OpaqueToken::hash),
            redirect_uris: req.redirect_uris,
            post_logout_redirect_uris: req.post_logout_redirect_uris,
            backchannel_logout_uri: req.backchannel_logout_uri,
            grant_types: req.grant_types,
            scopes: req.scopes,
            first_party: true,
            id_token_alg: req.id_token_alg,
            created_at: now,
        };
        self.ports.clients.insert(&client).await?;
        self.oidc.clients.invalidate();
        tracing::info!(client = %client.id, name = %client.name, "client registered");
        Ok(RegisteredClient { client, secret })
    }

    pub async fn list_clients(&self, _admin: &SiteAdmin) -> Result<Vec<Client>, RepoError> {
        self.ports.clients.list().await
    }

    /// The client, from the in-memory registry (refreshed from the database every few
    /// seconds, so every node sees new clients promptly).
    pub async fn find_client(&self, id: &str) -> Result<Option<Client>, RepoError> {
        self.oidc.clients.get(id, self.ports.clients.as_ref(), self.ports.clock.now()).await
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

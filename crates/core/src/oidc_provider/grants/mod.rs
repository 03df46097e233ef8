//! The token endpoint: client authentication, then one module per grant type.

mod authorization_code;
mod client_credentials;
mod refresh_token;

pub(crate) use authorization_code::{grant_of_jti, revoked_grant_marker};

use latchkey_protocol::oidc::{ClientCredentialsInBody, ErrorCode, OAuthError, TokenRequest};

use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::oidc_provider::ASSERTION_TYPE;
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::clients::Client;
use crate::oidc_provider::{KeyError, server_error};

/// How the client presented itself: `client_secret_basic`, `client_secret_post`,
/// `private_key_jwt`, or only a `client_id` (public clients).
#[derive(Debug, Clone, Default)]
pub struct ClientAuthentication {
    pub basic: Option<(String, String)>,
    pub body: ClientCredentialsInBody,
}

pub use latchkey_protocol::oidc::TokenResponse;

#[derive(Debug, thiserror::Error)]
pub enum TokenEndpointError {
    #[error("{0}")]
    OAuth(OAuthError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<OAuthError> for TokenEndpointError {
    fn from(e: OAuthError) -> Self {
        Self::OAuth(e)
    }
}

impl From<RepoError> for TokenEndpointError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<KeyError> for TokenEndpointError {
    fn from(e: KeyError) -> Self {
        tracing::error!(error = %e, "signing failed");
        Self::OAuth(server_error())
    }
}

pub(crate) fn invalid_grant(description: &str) -> TokenEndpointError {
    TokenEndpointError::OAuth(OAuthError::new(ErrorCode::InvalidGrant, description))
}

fn invalid_client() -> TokenEndpointError {
    TokenEndpointError::OAuth(OAuthError::new(
        ErrorCode::InvalidClient,
        "client authentication failed",
    ))
}

impl OidcProvider {
    /// RFC 6749 §2.3: exactly one way of authenticating. Failures are all `invalid_client`.
    pub async fn authenticate_token_client(
        &self,
        auth: &ClientAuthentication,
    ) -> Result<Client, TokenEndpointError> {
        let body = &auth.body;
        if let Some(assertion) = &body.client_assertion {
            if auth.basic.is_some() || body.client_secret.is_some() {
                return Err(
                    OAuthError::invalid_request("use one client authentication method").into()
                );
            }
            if body.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
                return Err(OAuthError::invalid_request(
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .into());
            }
            return match self.authenticate_assertion(body.client_id.as_deref(), assertion).await? {
                Ok(client) => Ok(client),
                Err(why) => {
                    tracing::info!(?why, "client assertion refused");
                    Err(invalid_client())
                }
            };
        }
        let (id, secret) = match (&auth.basic, &body.client_id, &body.client_secret) {
            (Some(_), _, Some(_)) => {
                return Err(
                    OAuthError::invalid_request("use one client authentication method").into()
                );
            }
            (Some((id, secret)), body_id, None) => {
                if body_id.as_ref().is_some_and(|b| b != id) {
                    return Err(OAuthError::invalid_request("client_id does not match").into());
                }
                (id.as_str(), Some(secret.as_str()))
            }
            (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
            (None, None, _) => return Err(invalid_client()),
        };
        match self.authenticate_client(id, secret).await? {
            Ok(client) => Ok(client),
            Err(why) => {
                tracing::info!(client = %id.chars().take(64).collect::<String>(), ?why, "client authentication failed");
                Err(invalid_client())
            }
        }
    }

    pub async fn token(
        &self,
        request: TokenRequest,
        auth: &ClientAuthentication,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let client = self.authenticate_token_client(auth).await?;
        match request {
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                self.grant_authorization_code(
                    &client,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                )
                .await
            }
            TokenRequest::RefreshToken { refresh_token, scopes } => {
                self.grant_refresh_token(&client, &refresh_token, scopes).await
            }
            TokenRequest::ClientCredentials { scopes } => {
                self.grant_client_credentials(&client, scopes).await
            }
        }
    }
}

//! `grant_type=client_credentials` (RFC 6749 §4.4): a product acting as itself. Stateless: the
//! token is a signed JWT and nothing is written, so this path scales with CPU alone.

use latchkey_protocol::oidc::{ErrorCode, OAuthError};

use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::TokenResponse;
use crate::oidc_provider::clients::{Client, GrantType};
use crate::oidc_provider::grants::TokenEndpointError;

impl OidcProvider {
    pub(crate) async fn grant_client_credentials(
        &self,
        client: &Client,
        scopes: Option<Vec<String>>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        if client.is_public() || !client.allows(GrantType::ClientCredentials) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "grant not allowed for this client",
            )
            .into());
        }
        let scope = match scopes {
            Some(asked) => {
                if asked.iter().any(|s| !client.scopes.contains(s)) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        "scope not allowed for this client",
                    )
                    .into());
                }
                asked.join(" ")
            }
            None => client.scopes.join(" "),
        };
        let access =
            self.mint_access_token(client, &client.id, &scope, None, self.new_jti()).await?;
        Ok(TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            refresh_token: None,
            id_token: None,
            scope,
        })
    }
}

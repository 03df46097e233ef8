//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh
//! token; presenting a used one again revokes the whole family (OAuth 2.0 Security BCP §4.14).

use latchkey_protocol::oidc::{ErrorCode, OAuthError};

use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::TokenResponse;
use crate::oidc_provider::clients::{Client, GrantType};
use crate::oidc_provider::grants::{TokenEndpointError, invalid_grant};
use crate::oidc_provider::ports::RefreshUse;
use crate::secret::OpaqueToken;

impl OidcProvider {
    pub(crate) async fn grant_refresh_token(
        &self,
        client: &Client,
        refresh_token: &str,
        scopes: Option<Vec<String>>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        if !client.allows(GrantType::RefreshToken) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "grant not allowed for this client",
            )
            .into());
        }
        let Some(token) = OpaqueToken::parse(refresh_token) else {
            return Err(invalid_grant("invalid refresh token"));
        };
        let now = self.kernel.now();
        // The binding first: another client's refresh token is refused without being used, so
        // it neither burns the token nor makes the rightful client's next use look like reuse.
        let Some((bound_to, _, _)) = self.repo.find_refresh_token(&token.hash()).await? else {
            return Err(invalid_grant("invalid or expired refresh token"));
        };
        match self.repo.find_grant(&bound_to).await? {
            Some(grant) if grant.client_id == client.id => {}
            Some(_) => return Err(invalid_grant("the refresh token was issued to another client")),
            None => return Err(invalid_grant("invalid refresh token")),
        }
        let grant_id = match self.repo.use_refresh_token(&token.hash(), now).await? {
            RefreshUse::Fresh(g) => g,
            RefreshUse::Reused(g) => {
                self.revoke_grant(&g).await?;
                tracing::warn!(grant = %g, "refresh token reused; grant revoked");
                return Err(invalid_grant("refresh token already used"));
            }
            RefreshUse::Invalid => return Err(invalid_grant("invalid or expired refresh token")),
        };
        let Some(grant) = self.repo.find_grant(&grant_id).await? else {
            return Err(invalid_grant("invalid refresh token"));
        };
        if grant.client_id != client.id {
            return Err(invalid_grant("the refresh token was issued to another client"));
        }
        if grant.revoked_at.is_some() {
            return Err(invalid_grant("the grant was revoked"));
        }
        let live = match self.sessions.find_by_id(&grant.session).await? {
            Some((session, account)) if self.session_allows_tokens(&session, &account).await? => {
                Some((session, account))
            }
            _ => None,
        };
        let Some((session, account)) = live else {
            self.revoke_grant(&grant.id).await?;
            return Err(invalid_grant("the sign-in session has ended"));
        };
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        let granted: Vec<&str> = grant.scope.split(' ').collect();
        let scope = match scopes {
            Some(asked) => {
                if asked.iter().any(|s| !granted.contains(&s.as_str())) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        "scope exceeds the original grant",
                    )
                    .into());
                }
                asked.join(" ")
            }
            None => grant.scope.clone(),
        };
        let access = self
            .mint_access_token(
                client,
                account.id.as_str(),
                &scope,
                Some((session.id.as_str(), grant.auth_time)),
                self.grant_jti(&grant.id),
            )
            .await?;
        let id_token = if scope.split(' ').any(|s| s == "openid") {
            Some(
                self.mint_id_token(client, &account, &scope, &session, grant.auth_time, None)
                    .await?,
            )
        } else {
            None
        };
        let refresh_token = self.mint_refresh_token(&grant.id, &session, &account).await?;
        Ok(TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            refresh_token: Some(refresh_token),
            id_token,
            scope,
        })
    }
}

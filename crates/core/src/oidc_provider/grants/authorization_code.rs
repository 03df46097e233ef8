//! `grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3, RFC 7636 §4.6).

use latchkey_protocol::oidc::{CodeChallenge, ErrorCode, OAuthError, verify_s256};

use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::TokenResponse;
use crate::oidc_provider::clients::{Client, GrantType};
use crate::oidc_provider::grants::{TokenEndpointError, invalid_grant};
use crate::oidc_provider::ports::{CodeClaim, Grant};
use crate::secret::TokenHash;

/// How long a used code is remembered after it expires, to revoke on late replays.
const REMEMBER_USED_CODES_SECS: i64 = 3600;

impl OidcProvider {
    pub(crate) async fn grant_authorization_code(
        &self,
        client: &Client,
        code_text: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        if !client.allows(GrantType::AuthorizationCode) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "grant not allowed for this client",
            )
            .into());
        }
        let Some(contents) = self.state.codes.open(code_text) else {
            return Err(invalid_grant("invalid or expired authorization code"));
        };
        // The binding first (client, redirect URI, PKCE), then the claim: a client that holds
        // someone else's code neither burns it nor turns the rightful use into a "replay".
        let code = contents;
        if code.client_id != client.id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if redirect_uri != Some(code.redirect_uri.as_str()) {
            return Err(invalid_grant("redirect_uri does not match the authorization request"));
        }
        match (&code.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) => {
                if !verify_s256(verifier, &CodeChallenge::from_stored(challenge.clone())) {
                    return Err(invalid_grant("PKCE verification failed"));
                }
            }
            (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
            (None, Some(_)) => {
                return Err(invalid_grant("no code_challenge was sent with this code"));
            }
            (None, None) => {}
        }
        let now = self.kernel.now();
        let hash = TokenHash::of(code_text);
        // Claimed even when expired, so a late replay still revokes what the first use granted.
        let keep_until = code.expires_at.plus_secs(REMEMBER_USED_CODES_SECS);
        match self.repo.claim_code(&hash, keep_until).await? {
            CodeClaim::First => {}
            CodeClaim::Reused(grant) => {
                // RFC 6749 §4.1.2: a replayed code revokes what it granted.
                if let Some(grant) = grant {
                    self.revoke_grant(&grant).await?;
                    tracing::warn!(%grant, "authorization code replayed; grant revoked");
                }
                return Err(invalid_grant("authorization code already used"));
            }
        }
        if now >= code.expires_at {
            return Err(invalid_grant("invalid or expired authorization code"));
        }
        let Some((session, account)) = self.sessions.find_by_id(&code.session).await? else {
            return Err(invalid_grant("the sign-in session has ended"));
        };
        if !self.session_allows_tokens(&session, &account).await? {
            return Err(invalid_grant("the sign-in session has ended"));
        }
        let grant_id = self.kernel.new_id(now);
        let grant = Grant {
            access_jti: self.grant_jti(&grant_id),
            id: grant_id,
            client_id: client.id.clone(),
            account: account.id.clone(),
            session: session.id.clone(),
            scope: code.scope.clone(),
            auth_time: code.auth_time,
            created_at: now,
            revoked_at: None,
        };
        self.repo.insert_grant(&grant, Some(&hash)).await?;
        let access = self
            .mint_access_token(
                client,
                account.id.as_str(),
                &grant.scope,
                Some((session.id.as_str(), grant.auth_time)),
                grant.access_jti.clone(),
            )
            .await?;
        let id_token = self
            .mint_id_token(client, &account, &grant.scope, &session, grant.auth_time, code.nonce)
            .await?;
        let refresh_token = if client.allows(GrantType::RefreshToken) {
            Some(self.mint_refresh_token(&grant.id, &session, &account).await?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            refresh_token,
            id_token: Some(id_token),
            scope: grant.scope,
        })
    }

    /// Revokes a grant: its refresh tokens die, and every access token minted under it (the
    /// first one and each a refresh minted; their `jti` names the grant) is refused until the
    /// last of them would have expired.
    pub(crate) async fn revoke_grant(
        &self,
        grant_id: &str,
    ) -> Result<(), crate::errors::RepoError> {
        let now = self.kernel.now();
        if let Some(grant) = self.repo.revoke_grant(grant_id, now).await? {
            let marker = revoked_grant_marker(&grant.id);
            let expires = now.plus_secs(self.state.settings.access_token_ttl_secs);
            self.repo.revoke_access_token(&marker, expires).await?;
            self.state.revoked.remember(&marker);
            let first = grant.created_at.plus_secs(self.state.settings.access_token_ttl_secs);
            self.repo.revoke_access_token(&grant.access_jti, first).await?;
            self.state.revoked.remember(&grant.access_jti);
        }
        Ok(())
    }
}

/// The revocation list's entry for a whole grant (never a real `jti`: those have no colon).
pub(crate) fn revoked_grant_marker(grant_id: &str) -> String {
    format!("grant:{grant_id}")
}

/// The grant an access token was minted under, from its `jti` (see `OidcProvider::grant_jti`).
pub(crate) fn grant_of_jti(jti: &str) -> Option<&str> {
    jti.split_once('.').map(|(grant, _)| grant).filter(|g| !g.is_empty())
}

impl OidcProvider {}

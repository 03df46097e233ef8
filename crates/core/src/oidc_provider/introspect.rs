//! What a presented token is worth: introspection (RFC 7662), revocation (RFC 7009) and
//! `UserInfo` (OIDC Core §5.3), plus the key-facing use cases (JWKS, rotation).

use latchkey_protocol::jose::JwkSet;
use latchkey_protocol::oidc::AccessTokenClaims;
use serde::Serialize;

use crate::accounts::Account;
use crate::authority::SiteAdmin;
use crate::errors::RepoError;
use crate::oidc_provider::KeyError;
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::clients::Client;
use crate::oidc_provider::grants::{grant_of_jti, revoked_grant_marker};
use crate::secret::OpaqueToken;
use crate::sessions::SessionId;

/// RFC 7662 §2.2. Inactive tokens say nothing else.
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserInfoError {
    /// RFC 6750 §3.1 `invalid_token`.
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    /// RFC 6750 §3.1 `insufficient_scope`.
    #[error("the access token was not issued for the openid scope")]
    InsufficientScope,
    #[error(transparent)]
    Unexpected(#[from] crate::errors::Unexpected),
}

impl From<RepoError> for UserInfoError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl OidcProvider {
    /// The claims of an access token we signed (`typ`, key, algorithm and issuer checked),
    /// from the verified-token cache when it was seen before. Expiry is not checked here.
    async fn signed_access_claims(
        &self,
        token: &str,
    ) -> Result<Option<AccessTokenClaims>, RepoError> {
        let key = super::verified::VerifiedTokens::key(token);
        if let Some(claims) = self.state.verified.get(&key) {
            return Ok(Some(claims));
        }
        let now = self.kernel.now();
        let Some(claims) = self
            .state
            .keys
            .verify::<AccessTokenClaims>(
                self.signing_keys.as_ref(),
                now,
                token,
                "at+jwt",
                self.kernel.public_url(),
            )
            .await?
        else {
            return Ok(None);
        };
        self.state.verified.insert(key, claims.clone());
        Ok(Some(claims))
    }

    /// A live access token's claims and, for user tokens, the account: the signature, `typ`,
    /// issuer and expiry hold, it was not revoked, and its session and account are still live.
    async fn live_access_token(
        &self,
        token: &str,
    ) -> Result<Option<(AccessTokenClaims, Option<Account>)>, RepoError> {
        let now = self.kernel.now();
        let Some(claims) = self.signed_access_claims(token).await? else {
            return Ok(None);
        };
        if claims.exp <= now.unix() {
            return Ok(None);
        }
        // A deleted or disabled product's tokens are not live (tokens never outlive what
        // revoked them).
        if !self.client_is_live(&claims.client_id).await? {
            return Ok(None);
        }
        let revoked = &self.state.revoked;
        let repo = self.repo.as_ref();
        if revoked.is_revoked(&claims.jti, repo, now).await? {
            return Ok(None);
        }
        if let Some(grant) = grant_of_jti(&claims.jti)
            && revoked.is_revoked(&revoked_grant_marker(grant), repo, now).await?
        {
            return Ok(None);
        }
        let account = match &claims.sid {
            Some(sid) => {
                let Some(id) = SessionId::parse(sid) else { return Ok(None) };
                match self.sessions.find_by_id(&id).await? {
                    Some((session, account))
                        if account.id.as_str() == claims.sub
                            && self.session_allows_tokens(&session, &account).await? =>
                    {
                        Some(account)
                    }
                    _ => return Ok(None),
                }
            }
            None => None,
        };
        Ok(Some((claims, account)))
    }

    /// RFC 7662, for an authenticated client. Access tokens and refresh tokens are recognised,
    /// but only those issued to the calling client or whose audience names it: another
    /// product's token is `active: false`, exactly like an unknown one (RFC 7662 §4: a
    /// protected resource learns nothing about tokens that are not meant for it).
    pub async fn introspect(
        &self,
        client: &Client,
        token: &str,
        ip: &str,
    ) -> Result<Introspection, RepoError> {
        let caller = client.id.as_str();
        if token.starts_with(crate::api_tokens::API_TOKEN_PREFIX) {
            return self.introspect_api_token(caller, token, ip).await;
        }
        if let Some((claims, account)) = self.live_access_token(token).await?
            && (claims.client_id == caller || claims.aud == caller)
        {
            return Ok(Introspection {
                active: true,
                scope: Some(claims.scope),
                client_id: Some(claims.client_id),
                username: account.map(|a| a.email.as_str().to_owned()),
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                sub: Some(claims.sub),
                aud: Some(claims.aud),
                iss: Some(claims.iss),
                jti: Some(claims.jti),
                sid: claims.sid,
            });
        }
        let Some(refresh) = OpaqueToken::parse(token) else {
            return Ok(Introspection::default());
        };
        let now = self.kernel.now();
        let Some((grant_id, expires_at, used)) =
            self.repo.find_refresh_token(&refresh.hash()).await?
        else {
            return Ok(Introspection::default());
        };
        let grant = self.repo.find_grant(&grant_id).await?;
        let Some(grant) = grant.filter(|g| {
            g.client_id == client.id && g.revoked_at.is_none() && !used && now < expires_at
        }) else {
            return Ok(Introspection::default());
        };
        let live = match self.sessions.find_by_id(&grant.session).await? {
            Some((session, account)) if self.session_allows_tokens(&session, &account).await? => {
                Some(account)
            }
            _ => None,
        };
        let Some(account) = live else {
            return Ok(Introspection::default());
        };
        Ok(Introspection {
            active: true,
            scope: Some(grant.scope),
            client_id: Some(grant.client_id),
            username: Some(account.email.as_str().to_owned()),
            exp: Some(expires_at.unix()),
            iat: Some(grant.created_at.unix()),
            sub: Some(account.id.as_str().to_owned()),
            iss: Some(self.kernel.public_url().to_owned()),
            sid: Some(grant.session.as_str().to_owned()),
            ..Introspection::default()
        })
    }

    /// An API token (`token_type_hint=api_token` is optional: the prefix tells): active when
    /// it is live and usable by the calling product.
    async fn introspect_api_token(
        &self,
        caller: &str,
        token: &str,
        ip: &str,
    ) -> Result<Introspection, RepoError> {
        let Some(found) = self.api_tokens.introspect(caller, token, ip).await? else {
            return Ok(Introspection::default());
        };
        Ok(Introspection {
            active: true,
            username: Some(found.username),
            token_type: Some("api_token"),
            exp: Some(found.expires_at.unix()),
            iat: Some(found.created_at.unix()),
            sub: Some(found.sub),
            iss: Some(self.kernel.public_url().to_owned()),
            jti: Some(found.token_id),
            ..Introspection::default()
        })
    }

    /// RFC 7009: revokes a refresh token (and its whole grant) or an access token, if it was
    /// issued to this client. Unknown tokens and other clients' tokens change nothing and get
    /// the same answer (§2.2).
    pub async fn revoke_token(&self, client: &Client, token: &str) -> Result<(), RepoError> {
        if let Some(refresh) = OpaqueToken::parse(token)
            && let Some((grant_id, _, _)) = self.repo.find_refresh_token(&refresh.hash()).await?
        {
            if let Some(grant) = self.repo.find_grant(&grant_id).await?
                && grant.client_id == client.id
            {
                self.revoke_grant(&grant_id).await?;
                tracing::info!(client = %client.id, grant = %grant_id, "refresh token revoked");
                self.audit_token_revoked(client, &grant.account, "refresh_token").await?;
            }
            return Ok(());
        }
        if let Some(claims) = self.signed_access_claims(token).await?
            && claims.client_id == client.id
        {
            self.repo
                .revoke_access_token(&claims.jti, crate::clock::Timestamp::from_unix(claims.exp))
                .await?;
            self.state.revoked.remember(&claims.jti);
            tracing::info!(client = %client.id, "access token revoked");
            let account = crate::accounts::AccountId::from_stored(claims.sub);
            self.audit_token_revoked(client, &account, "access_token").await?;
        }
        Ok(())
    }

    async fn audit_token_revoked(
        &self,
        client: &Client,
        account: &crate::accounts::AccountId,
        kind: &str,
    ) -> Result<(), RepoError> {
        let account = self.accounts.find_by_id(account).await?;
        let record = crate::audit::Record::new("token.revoked", crate::audit::Actor::Product(&client.id))
            .maybe_target(account.as_ref())
            .details(serde_json::json!({ "token_type": kind, "client_id": client.id, "product": client.name }));
        self.audit.record(record).await;
        Ok(())
    }

    /// OIDC Core §5.3: the claims the token's scopes allow.
    pub async fn userinfo(&self, token: &str) -> Result<serde_json::Value, UserInfoError> {
        let Some((claims, Some(account))) = self.live_access_token(token).await? else {
            return Err(UserInfoError::InvalidToken);
        };
        let scopes: Vec<&str> = claims.scope.split(' ').collect();
        if !scopes.contains(&"openid") {
            return Err(UserInfoError::InsufficientScope);
        }
        let mut out = serde_json::json!({ "sub": account.id.as_str() });
        if scopes.contains(&"email") {
            out["email"] = account.email.as_str().into();
            out["email_verified"] = account.email_verified().into();
        }
        if scopes.contains(&"profile") {
            out["name"] = account.name.as_str().into();
            out["updated_at"] = account.updated_at.unix().into();
        }
        if let Some(id) = self.legacy.legacy_user_id(&account.id, &claims.client_id).await? {
            out["legacy_user_id"] = id.into();
        }
        Ok(out)
    }

    pub async fn jwks(&self) -> Result<JwkSet, KeyError> {
        let now = self.kernel.now();
        self.state.keys.jwks(self.signing_keys.as_ref(), now).await
    }

    /// Start-up: every signing algorithm has a usable key.
    pub async fn ensure_signing_keys(&self) -> Result<(), KeyError> {
        let now = self.kernel.now();
        self.state.keys.ensure_keys(self.signing_keys.as_ref(), self.kernel.rng(), now).await
    }

    /// `latchkey keys rotate`.
    pub async fn rotate_signing_keys(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<(String, latchkey_protocol::jose::SigningAlg)>, KeyError> {
        let now = self.kernel.now();
        self.state.keys.rotate(self.signing_keys.as_ref(), self.kernel.rng(), now).await
    }
}

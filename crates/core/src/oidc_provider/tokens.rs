//! Minting the tokens a grant hands out: RFC 9068 access tokens, ID tokens, refresh tokens.

use latchkey_protocol::jose::SigningAlg;
use latchkey_protocol::oidc::{AccessTokenClaims, IdTokenClaims};

use crate::accounts::Account;
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::oidc_provider::KeyError;
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::clients::Client;
use crate::oidc_provider::ports::NewRefreshToken;
use crate::secret::OpaqueToken;
use crate::sessions::model::Session;

/// Access tokens are ES256: RSA signing costs ~20× more and would dominate the endpoint.
pub(crate) const ACCESS_TOKEN_ALG: SigningAlg = SigningAlg::ES256;

pub(crate) struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

impl OidcProvider {
    pub(crate) fn new_jti(&self) -> String {
        OpaqueToken::generate(self.kernel.rng()).expose()[..22].to_owned()
    }

    /// The `jti` of an access token minted under a grant: the grant's id, a dot, then random.
    /// Every token of a grant (the first and each one a refresh mints) names it, so revoking
    /// the grant revokes them all without storing each one.
    pub(crate) fn grant_jti(&self, grant_id: &str) -> String {
        format!("{grant_id}.{}", self.new_jti())
    }

    pub(crate) async fn mint_access_token(
        &self,
        client: &Client,
        subject: &str,
        scope: &str,
        session: Option<(&str, Timestamp)>,
        jti: String,
    ) -> Result<AccessToken, KeyError> {
        let now = self.kernel.now();
        let ttl = self.state.settings.access_token_ttl_secs;
        let claims = AccessTokenClaims {
            iss: self.kernel.public_url().to_owned(),
            sub: subject.to_owned(),
            aud: client.id.clone(),
            exp: now.unix() + ttl,
            iat: now.unix(),
            jti,
            client_id: client.id.clone(),
            scope: scope.to_owned(),
            auth_time: session.map(|(_, t)| t.unix()),
            sid: session.map(|(s, _)| s.to_owned()),
        };
        let token = self
            .state
            .keys
            .sign(self.signing_keys.as_ref(), now, ACCESS_TOKEN_ALG, "at+jwt", &claims)
            .await?;
        Ok(AccessToken { token, expires_in: ttl })
    }

    pub(crate) async fn mint_id_token(
        &self,
        client: &Client,
        account: &Account,
        scope: &str,
        session: &Session,
        auth_time: Timestamp,
        nonce: Option<String>,
    ) -> Result<String, KeyError> {
        let now = self.kernel.now();
        let has = |s: &str| scope.split(' ').any(|x| x == s);
        let claims = IdTokenClaims {
            iss: self.kernel.public_url().to_owned(),
            sub: account.id.as_str().to_owned(),
            aud: client.id.clone(),
            exp: now.unix() + self.state.settings.id_token_ttl_secs,
            iat: now.unix(),
            auth_time: auth_time.unix(),
            amr: session.amr.iter().map(|m| m.as_str().to_owned()).collect(),
            nonce,
            sid: session.id.as_str().to_owned(),
            email: has("email").then(|| account.email.as_str().to_owned()),
            email_verified: has("email").then(|| account.email_verified()),
            name: has("profile").then(|| account.name.as_str().to_owned()),
            updated_at: has("profile").then(|| account.updated_at.unix()),
            legacy_user_id: self.legacy.legacy_user_id(&account.id, &client.id).await?,
        };
        self.state
            .keys
            .sign(self.signing_keys.as_ref(), now, client.id_token_alg, "JWT", &claims)
            .await
    }

    /// A refresh token in `grant_id`'s family. It lives until the session ends or until it
    /// has gone unused for the policy's idle timeout, whichever comes first.
    pub(crate) async fn mint_refresh_token(
        &self,
        grant_id: &str,
        session: &Session,
        account: &Account,
    ) -> Result<String, RepoError> {
        let now = self.kernel.now();
        let policy = self.policies.for_account(account).await?;
        let idle_until = now.plus_secs(policy.settings.session_idle_secs());
        let ends_at = session.created_at.plus_secs(policy.settings.session_max_secs());
        let expires_at = session.expires_at.min(idle_until).min(ends_at);
        let token = OpaqueToken::generate(self.kernel.rng());
        self.repo
            .insert_refresh_token(&NewRefreshToken {
                hash: token.hash(),
                grant_id: grant_id.to_owned(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(token.expose().to_owned())
    }
}

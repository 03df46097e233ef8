//! The authorization endpoint's decision (OIDC Core §3.1.2): error page, login first, or a
//! response for the client.

use latchkey_protocol::oidc::{
    AuthorizationTarget, ErrorCode, OAuthError, Params, Prompt, ResponseMode,
};

use crate::Core;
use crate::accounts::Account;
use crate::flows::Unexpected;
use crate::oidc_provider::KNOWN_SCOPES;
use crate::oidc_provider::clients::GrantType;
use crate::ports::AuthorizationCode;
use crate::secret::OpaqueToken;
use crate::sessions::Session;

#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Shown to the person; the client or redirect URI could not be trusted.
    ErrorPage(OAuthError),
    /// The person must sign in (again) and come back. `reauth_after` is set when an existing
    /// session is not fresh enough (`prompt=login`, `max_age`).
    Login { reauth_after: Option<i64>, login_hint: Option<String> },
    /// Back to the client.
    Respond { redirect_uri: String, response_mode: ResponseMode, params: Vec<(String, String)> },
}

impl Core {
    /// `auth_after`: the time a re-authentication was asked for, echoed back after login.
    pub async fn authorize(
        &self,
        params: Params,
        signed_in: Option<(&Session, &Account)>,
        auth_after: Option<i64>,
    ) -> Result<AuthorizeOutcome, Unexpected> {
        let target = match AuthorizationTarget::parse(params) {
            Ok(t) => t,
            Err(e) => return Ok(AuthorizeOutcome::ErrorPage(e)),
        };
        let Some(client) = self.find_client(&target.client_id).await? else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "unknown client_id",
            )));
        };
        if !client.has_redirect_uri(&target.redirect_uri) {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "redirect_uri is not registered for this client",
            )));
        }
        let (redirect_uri, state, response_mode) =
            (target.redirect_uri.clone(), target.state.clone(), target.response_mode);
        let respond = |mut params: Vec<(String, String)>| {
            if let Some(state) = &state {
                params.push(("state".into(), state.clone()));
            }
            // RFC 9207: tell the client who answered.
            params.push(("iss".into(), self.settings.public_url.clone()));
            AuthorizeOutcome::Respond { redirect_uri: redirect_uri.clone(), response_mode, params }
        };
        let error = |e: OAuthError| {
            respond(vec![
                ("error".into(), e.error.as_str().into()),
                ("error_description".into(), e.error_description),
            ])
        };
        let request = match target.into_request() {
            Ok(r) => r,
            Err(e) => return Ok(error(e)),
        };
        if !client.allows(GrantType::AuthorizationCode) {
            return Ok(error(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "this client may not use the code flow",
            )));
        }
        if client.is_public() && request.code_challenge.is_none() {
            return Ok(error(OAuthError::invalid_request("public clients must use PKCE (S256)")));
        }
        let none = request.prompt.contains(&Prompt::None);
        let Some((session, account)) = signed_in else {
            if none {
                return Ok(error(OAuthError::new(ErrorCode::LoginRequired, "no one is signed in")));
            }
            return Ok(AuthorizeOutcome::Login {
                reauth_after: None,
                login_hint: request.login_hint,
            });
        };
        let now = self.ports.clock.now();
        let needs_fresh_login = request.prompt.contains(&Prompt::Login)
            || request.max_age.is_some_and(|m| session.created_at.secs_until(now) > m);
        let reauthenticated = auth_after.is_some_and(|t| session.created_at.unix() >= t);
        if needs_fresh_login && !reauthenticated {
            if none {
                return Ok(error(OAuthError::new(
                    ErrorCode::LoginRequired,
                    "a fresh sign-in is required",
                )));
            }
            return Ok(AuthorizeOutcome::Login {
                reauth_after: Some(now.unix()),
                login_hint: request.login_hint,
            });
        }
        // First-party products skip consent (Latchkey's own products); third-party consent
        // arrives with the consent screen.
        let scope: Vec<&str> = request
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| KNOWN_SCOPES.contains(s))
            .collect();
        let code = OpaqueToken::generate(self.ports.rng.as_ref());
        self.ports
            .oidc
            .insert_code(&AuthorizationCode {
                hash: code.hash(),
                client_id: client.id.clone(),
                account: account.id.clone(),
                session: session.id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                scope: scope.join(" "),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.as_ref().map(|c| c.as_str().to_owned()),
                auth_time: session.created_at,
                created_at: now,
                expires_at: now.plus_secs(self.oidc.settings.code_ttl_secs),
            })
            .await?;
        Ok(respond(vec![("code".into(), code.expose().to_owned())]))
    }
}

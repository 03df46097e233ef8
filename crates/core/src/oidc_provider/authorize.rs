//! The authorization endpoint's decision (OIDC Core §3.1.2): error page, login first, or a
//! response for the client.

use crate::policies::SessionVerdict;
use latchkey_protocol::oidc::{
    AuthorizationRequest, AuthorizationTarget, ErrorCode, OAuthError, Params, Prompt, ResponseMode,
};

use crate::accounts::Account;
use crate::errors::Unexpected;
use crate::oidc_provider::KNOWN_SCOPES;
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::clients::{Client, GrantType};
use crate::oidc_provider::codes::CodeContents;
use crate::oidc_provider::ports::Consent;
use crate::sessions::Session;

#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Shown to the person; the client or redirect URI could not be trusted.
    ErrorPage(OAuthError),
    /// The person must sign in (again) and come back. `reauth_marker` is set when an existing
    /// session is not fresh enough (`prompt=login`, `max_age`): a sealed marker, bound to this
    /// request and the time it was asked, that the request carries back after the sign-in.
    Login { reauth_marker: Option<String>, login_hint: Option<String> },
    /// The session is live, but its policy wants something of the account first (a new
    /// password, two-step set-up): the person signs in again, and the sign-in stops at those
    /// steps before coming back here. A session alone never sets a password or a factor.
    SignInAgain { login_hint: Option<String> },
    /// The signed-in account has not verified its email address: no product gets it until
    /// it does (someone may have signed up with another person's address).
    VerifyEmailFirst { client_name: String },
    /// A third-party product asks for this person's data for the first time (or for more of
    /// it, or with `prompt=consent`): show the consent screen, then come back with the answer.
    Consent { client_name: String, logo_uri: Option<String>, scopes: Vec<String> },
    /// Back to the client.
    Respond { redirect_uri: String, response_mode: ResponseMode, params: Vec<(String, String)> },
}

/// Where the answer to an authorization request goes, once its redirect URI is trusted.
struct Reply {
    redirect_uri: String,
    state: Option<String>,
    response_mode: ResponseMode,
    iss: String,
}

impl Reply {
    fn respond(&self, mut params: Vec<(String, String)>) -> AuthorizeOutcome {
        if let Some(state) = &self.state {
            params.push(("state".into(), state.clone()));
        }
        // RFC 9207: tell the client who answered.
        params.push(("iss".into(), self.iss.clone()));
        AuthorizeOutcome::Respond {
            redirect_uri: self.redirect_uri.clone(),
            response_mode: self.response_mode,
            params,
        }
    }

    fn error(&self, e: OAuthError) -> AuthorizeOutcome {
        self.respond(vec![
            ("error".into(), e.error.as_str().into()),
            ("error_description".into(), e.error_description),
        ])
    }
}

/// The person's answer on the consent screen, when this request comes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentDecision {
    NotAsked,
    Allowed,
    Denied,
}

enum ConsentStep {
    Proceed,
    Refuse(OAuthError),
    Ask,
}

fn covers(granted: &str, wanted: &[&str]) -> bool {
    wanted.iter().all(|w| granted.split(' ').any(|g| g == *w))
}

/// How long a re-authentication marker is good for (the sign-in it asks for, second step
/// included, must happen within it).
const REAUTH_MARKER_SECS: i64 = 900;

#[derive(serde::Serialize, serde::Deserialize)]
struct ReauthMarker {
    /// When the fresh sign-in was asked for: a session created since then counts as fresh.
    at: i64,
    /// SHA-256 of the request's parameters (the marker works for this request only).
    req: String,
}

fn request_digest(params: &Params) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (k, v) in params.sorted_pairs() {
        for part in [k, v] {
            hash.update(u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            hash.update(part.as_bytes());
        }
    }
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, hash.finalize())
}

impl OidcProvider {
    /// `reauth_marker`: the marker an earlier answer put on this request when it asked for a
    /// fresh sign-in (`prompt=login`, `max_age`), carried back by the browser. It is sealed,
    /// so nobody can make one, and it is bound to this exact request and to the time it was
    /// asked: a session created since then is fresh; anything else asks again.
    /// `consent`: the answer from the consent screen (a CSRF-protected form), if any.
    pub async fn authorize(
        &self,
        params: Params,
        signed_in: Option<(&Session, &Account)>,
        reauth_marker: Option<&str>,
        consent: ConsentDecision,
    ) -> Result<AuthorizeOutcome, Unexpected> {
        // Only a request that can ask for a fresh sign-in needs its digest (the SSO hop does not).
        let digest = (params.get("prompt").is_some() || params.get("max_age").is_some())
            .then(|| request_digest(&params));
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
        let reply = Reply {
            redirect_uri: target.redirect_uri.clone(),
            state: target.state.clone(),
            response_mode: target.response_mode,
            iss: self.kernel.public_url().to_owned(),
        };
        let respond = |params| reply.respond(params);
        let error = |e| reply.error(e);
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
                reauth_marker: None,
                login_hint: request.login_hint,
            });
        };
        if let Some(stop) = self
            .session_gate(&reply, &request, (session, account), reauth_marker, digest, &client)
            .await?
        {
            return Ok(stop);
        }
        let scope: Vec<&str> = request
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| KNOWN_SCOPES.contains(s))
            .collect();
        match self.consent_step(&client, account, &scope, &request.prompt, consent).await? {
            ConsentStep::Proceed => {}
            ConsentStep::Refuse(e) => return Ok(error(e)),
            ConsentStep::Ask => {
                return Ok(AuthorizeOutcome::Consent {
                    client_name: client.name.clone(),
                    logo_uri: client.logo_uri.clone(),
                    scopes: scope.iter().map(|s| (*s).to_owned()).collect(),
                });
            }
        }
        let code = self.issue_code(&client, session, &request, &scope)?;
        Ok(respond(vec![("code".into(), code)]))
    }

    /// What a live session must pass before a product gets a code from it: fresh enough for
    /// this request (`prompt=login`, `max_age`), still allowed by its policy, a verified address.
    /// `Some` is where the browser goes instead.
    async fn session_gate(
        &self,
        reply: &Reply,
        request: &AuthorizationRequest,
        (session, account): (&Session, &Account),
        reauth_marker: Option<&str>,
        digest: Option<String>,
        client: &Client,
    ) -> Result<Option<AuthorizeOutcome>, Unexpected> {
        let none = request.prompt.contains(&Prompt::None);
        let error = |e| Ok(Some(reply.error(e)));
        if let Some(marker) = self.reauth_needed(request, session, reauth_marker, digest)? {
            if none {
                return error(OAuthError::new(
                    ErrorCode::LoginRequired,
                    "a fresh sign-in is required",
                ));
            }
            return Ok(Some(AuthorizeOutcome::Login {
                reauth_marker: Some(marker),
                login_hint: request.login_hint.clone(),
            }));
        }
        let policy = self.policies.for_account(account).await.map_err(Unexpected::from)?;
        let now = self.kernel.now();
        let verdict = policy.session_verdict(
            account,
            session.created_at,
            session.last_seen_at,
            &session.amr,
            now,
        );
        if verdict != SessionVerdict::Live {
            if none {
                return error(OAuthError::new(
                    ErrorCode::LoginRequired,
                    "the account's policy asks for a new sign-in",
                ));
            }
            return Ok(Some(AuthorizeOutcome::SignInAgain {
                login_hint: request.login_hint.clone(),
            }));
        }
        if !account.email_verified() {
            if none {
                return error(OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "the account's email address is not verified yet",
                ));
            }
            return Ok(Some(AuthorizeOutcome::VerifyEmailFirst {
                client_name: client.name.clone(),
            }));
        }
        Ok(None)
    }

    /// `prompt=login` and `max_age`: `None` when the session is fresh enough for this
    /// request, otherwise the sealed marker to carry through the sign-in. A session created
    /// after a valid marker for this request was issued counts as the re-authentication.
    fn reauth_needed(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
        reauth_marker: Option<&str>,
        digest: Option<String>,
    ) -> Result<Option<String>, Unexpected> {
        let now = self.kernel.now();
        let needs_fresh_login = request.prompt.contains(&Prompt::Login)
            || request.max_age.is_some_and(|m| session.created_at.secs_until(now) > m);
        let (true, Some(digest)) = (needs_fresh_login, digest) else {
            return Ok(None);
        };
        let asked_at = reauth_marker
            .and_then(|m| self.state.reauth.open(m))
            .and_then(|plain| serde_json::from_slice::<ReauthMarker>(&plain).ok())
            .filter(|m| {
                m.req == digest && m.at <= now.unix() && now.unix() - m.at <= REAUTH_MARKER_SECS
            })
            .map(|m| m.at);
        if asked_at.is_some_and(|t| session.created_at.unix() >= t) {
            return Ok(None);
        }
        let marker = ReauthMarker { at: now.unix(), req: digest };
        serde_json::to_vec(&marker)
            .ok()
            .and_then(|plain| self.state.reauth.seal(&plain, self.kernel.rng()))
            .map(Some)
            .ok_or_else(|| {
                Unexpected::from(crate::errors::RepoError("sealing a marker failed".into()))
            })
    }

    fn issue_code(
        &self,
        client: &Client,
        session: &Session,
        request: &AuthorizationRequest,
        scope: &[&str],
    ) -> Result<String, Unexpected> {
        let now = self.kernel.now();
        let contents = CodeContents {
            client_id: client.id.clone(),
            account: session.account.clone(),
            session: session.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: scope.join(" "),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.as_ref().map(|c| c.as_str().to_owned()),
            auth_time: session.created_at,
            created_at: now,
            expires_at: now.plus_secs(self.state.settings.code_ttl_secs),
        };
        let code = self.state.codes.seal(&contents, self.kernel.rng()).ok_or_else(|| {
            Unexpected::from(crate::errors::RepoError(
                "sealing an authorization code failed".into(),
            ))
        })?;
        Ok(code)
    }
}

impl OidcProvider {
    /// First-party products (the organization's own) skip consent; third-party ones ask once
    /// per scope set, and the answer is remembered until revoked from /account.
    async fn consent_step(
        &self,
        client: &Client,
        account: &Account,
        scope: &[&str],
        prompt: &[Prompt],
        consent: ConsentDecision,
    ) -> Result<ConsentStep, Unexpected> {
        if client.first_party {
            return Ok(ConsentStep::Proceed);
        }
        let earlier = self.repo.find_consent(&account.id, &client.id).await?;
        match consent {
            ConsentDecision::Denied => Ok(ConsentStep::Refuse(OAuthError::new(
                ErrorCode::AccessDenied,
                "the person did not allow access",
            ))),
            ConsentDecision::Allowed => {
                let mut granted: Vec<&str> = scope.to_vec();
                if let Some(c) = &earlier {
                    granted.extend(c.scope.split(' ').filter(|s| !scope.contains(s)));
                }
                self.repo
                    .save_consent(&Consent {
                        account: account.id.clone(),
                        client_id: client.id.clone(),
                        scope: granted.join(" "),
                        granted_at: self.kernel.now(),
                    })
                    .await?;
                tracing::info!(account = %account.id, client = %client.id, "consent given");
                let record = crate::audit::Record::new(
                    "consent.granted",
                    crate::audit::Actor::Person(account),
                )
                .target(account)
                .details(serde_json::json!({
                    "client_id": client.id,
                    "product": client.name,
                    "scope": granted.join(" "),
                }));
                self.audit.record(record).await;
                Ok(ConsentStep::Proceed)
            }
            ConsentDecision::NotAsked => {
                let remembered = earlier.is_some_and(|c| covers(&c.scope, scope));
                if remembered && !prompt.contains(&Prompt::Consent) {
                    Ok(ConsentStep::Proceed)
                } else if prompt.contains(&Prompt::None) {
                    Ok(ConsentStep::Refuse(OAuthError::new(
                        ErrorCode::ConsentRequired,
                        "the person has not allowed this product yet",
                    )))
                } else {
                    Ok(ConsentStep::Ask)
                }
            }
        }
    }
}

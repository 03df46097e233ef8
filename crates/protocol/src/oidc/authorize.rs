//! The authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1), parsed in two stages.
//!
//! Stage one ([`AuthorizationTarget::parse`]) finds who is asking and where the answer would
//! go. Until the provider has checked `client_id` and `redirect_uri` against its registry, an
//! error must be shown to the person, never sent to the redirect URI (RFC 6749 §4.1.2.1: no
//! open redirector). Stage two ([`AuthorizationTarget::into_request`]) validates the rest;
//! its errors go back to the (verified) redirect URI with `state`.

use crate::oidc::{CodeChallenge, ErrorCode, OAuthError, Params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    /// OAuth 2.0 Form Post Response Mode.
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

#[derive(Debug, Clone)]
pub struct AuthorizationTarget {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_mode: ResponseMode,
    rest: Params,
}

#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_mode: ResponseMode,
    /// Requested scopes, de-duplicated, in request order; always contains `openid`.
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Vec<Prompt>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

impl AuthorizationTarget {
    pub fn parse(mut params: Params) -> Result<Self, OAuthError> {
        let client_id = params
            .take("client_id")
            .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        // OIDC Core §3.1.2.1: redirect_uri is REQUIRED.
        let redirect_uri = params
            .take("redirect_uri")
            .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
        let response_mode = match params.take("response_mode").as_deref() {
            None | Some("query") => ResponseMode::Query,
            Some("form_post") => ResponseMode::FormPost,
            Some(_) => return Err(OAuthError::invalid_request("unsupported response_mode")),
        };
        let state = params.take("state");
        Ok(Self { client_id, redirect_uri, state, response_mode, rest: params })
    }

    pub fn into_request(self) -> Result<AuthorizationRequest, OAuthError> {
        let p = &self.rest;
        if p.get("request").is_some() {
            return Err(OAuthError::new(
                ErrorCode::RequestNotSupported,
                "request objects are not supported",
            ));
        }
        if p.get("request_uri").is_some() {
            return Err(OAuthError::new(
                ErrorCode::RequestUriNotSupported,
                "request_uri is not supported",
            ));
        }
        match p.require("response_type")? {
            "code" => {}
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "only the authorization code flow (response_type=code) is supported",
                ));
            }
        }
        let scopes = parse_scope(p.require("scope")?)?;
        if !scopes.iter().any(|s| s == "openid") {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "scope must include openid"));
        }
        let code_challenge = match (p.get("code_challenge"), p.get("code_challenge_method")) {
            (Some(c), method) => Some(CodeChallenge::parse(c, method)?),
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method without code_challenge",
                ));
            }
            (None, None) => None,
        };
        let prompt = parse_prompt(p.get("prompt"))?;
        let max_age = match p.get("max_age") {
            Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                OAuthError::invalid_request("max_age must be a non-negative integer")
            })?),
            None => None,
        };
        Ok(AuthorizationRequest {
            scopes,
            nonce: p.get("nonce").map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint: p.get("login_hint").map(str::to_owned),
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            state: self.state,
            response_mode: self.response_mode,
        })
    }
}

/// RFC 6749 §3.3: space-delimited, case-sensitive tokens of `%x21 / %x23-5B / %x5D-7E`.
pub(crate) fn parse_scope(raw: &str) -> Result<Vec<String>, OAuthError> {
    let mut scopes: Vec<String> = Vec::new();
    for token in raw.split(' ').filter(|t| !t.is_empty()) {
        let valid = token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !valid || token.len() > 128 {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "malformed scope"));
        }
        if !scopes.iter().any(|s| s == token) {
            scopes.push(token.to_owned());
        }
    }
    if scopes.is_empty() || scopes.len() > 32 {
        return Err(OAuthError::new(ErrorCode::InvalidScope, "malformed scope"));
    }
    Ok(scopes)
}

/// OIDC Core §3.1.2.1: `none` must stand alone.
fn parse_prompt(raw: Option<&str>) -> Result<Vec<Prompt>, OAuthError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let mut prompts = Vec::new();
    for token in raw.split(' ').filter(|t| !t.is_empty()) {
        let p = match token {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            "select_account" => Prompt::SelectAccount,
            _ => return Err(OAuthError::invalid_request("unsupported prompt value")),
        };
        if !prompts.contains(&p) {
            prompts.push(p);
        }
    }
    if prompts.contains(&Prompt::None) && prompts.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(query: &str) -> Result<AuthorizationTarget, OAuthError> {
        AuthorizationTarget::parse(Params::from_urlencoded(query.as_bytes())?)
    }

    const OK: &str = "client_id=c&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid%20email&state=s1&nonce=n1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

    #[test]
    fn a_well_formed_request_parses() {
        let r = target(OK).unwrap().into_request().unwrap();
        assert_eq!(r.client_id, "c");
        assert_eq!(r.redirect_uri, "https://rp.example/cb");
        assert_eq!(r.scopes, ["openid", "email"]);
        assert_eq!((r.state.as_deref(), r.nonce.as_deref()), (Some("s1"), Some("n1")));
        assert!(r.code_challenge.is_some());
        assert_eq!(r.response_mode, ResponseMode::Query);
    }

    #[test]
    fn stage_one_errors_never_know_a_redirect_target() {
        assert!(target("redirect_uri=https%3A%2F%2Fx").is_err());
        assert!(target("client_id=c").is_err());
        assert!(target("client_id=c&redirect_uri=x&response_mode=fragment").is_err());
        assert!(target("client_id=c&client_id=d&redirect_uri=x").is_err());
    }

    #[test]
    fn stage_two_errors_carry_the_right_codes() {
        let cases = [
            ("response_type=token&scope=openid", ErrorCode::UnsupportedResponseType),
            ("response_type=code%20id_token&scope=openid", ErrorCode::UnsupportedResponseType),
            ("scope=openid", ErrorCode::InvalidRequest),
            ("response_type=code&scope=email", ErrorCode::InvalidScope),
            ("response_type=code&scope=openid%20%22bad%22", ErrorCode::InvalidScope),
            ("response_type=code&scope=openid&prompt=none%20login", ErrorCode::InvalidRequest),
            ("response_type=code&scope=openid&prompt=bogus", ErrorCode::InvalidRequest),
            ("response_type=code&scope=openid&max_age=-1", ErrorCode::InvalidRequest),
            ("response_type=code&scope=openid&max_age=soon", ErrorCode::InvalidRequest),
            (
                "response_type=code&scope=openid&code_challenge_method=S256",
                ErrorCode::InvalidRequest,
            ),
            (
                "response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
                ErrorCode::InvalidRequest,
            ),
            ("response_type=code&scope=openid&request=eyJ", ErrorCode::RequestNotSupported),
            (
                "response_type=code&scope=openid&request_uri=https%3A%2F%2Fx",
                ErrorCode::RequestUriNotSupported,
            ),
        ];
        for (rest, code) in cases {
            let q =
                format!("client_id=c&redirect_uri=https%3A%2F%2Frp.example%2Fcb&state=s&{rest}");
            let err = target(&q).unwrap().into_request().unwrap_err();
            assert_eq!(err.error, code, "{rest}");
        }
    }

    #[test]
    fn scopes_are_deduplicated_and_prompts_parsed() {
        let q = "client_id=c&redirect_uri=x&response_type=code&scope=openid%20openid%20profile&prompt=login%20consent&max_age=0&response_mode=form_post";
        let r = target(q).unwrap().into_request().unwrap();
        assert_eq!(r.scopes, ["openid", "profile"]);
        assert_eq!(r.prompt, [Prompt::Login, Prompt::Consent]);
        assert_eq!(r.max_age, Some(0));
        assert_eq!(r.response_mode, ResponseMode::FormPost);
    }
}

//! The token request (RFC 6749 §4.1.3, §4.4.2, §6) and client credentials sent in the body
//! (§2.3.1). HTTP Basic credentials are read by the web layer.

use crate::oidc::authorize::parse_scope;
use crate::oidc::{ErrorCode, OAuthError, Params};

/// The token endpoint's success answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    RefreshToken { refresh_token: String, scopes: Option<Vec<String>> },
    ClientCredentials { scopes: Option<Vec<String>> },
}

/// Client credentials from the body, if sent: `client_id` / `client_secret`
/// (`client_secret_post`) or `client_assertion_type` / `client_assertion` (`private_key_jwt`,
/// RFC 7521 §4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentialsInBody {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl ClientCredentialsInBody {
    /// Removes the credentials from the parameters.
    pub fn take(params: &mut Params) -> Self {
        Self {
            client_id: params.take("client_id"),
            client_secret: params.take("client_secret"),
            client_assertion_type: params.take("client_assertion_type"),
            client_assertion: params.take("client_assertion"),
        }
    }
}

impl TokenRequest {
    pub fn parse(mut params: Params) -> Result<(Self, ClientCredentialsInBody), OAuthError> {
        let credentials = ClientCredentialsInBody::take(&mut params);
        let scopes = |p: &Params| p.get("scope").map(parse_scope).transpose();
        let request = match params.require("grant_type")? {
            "authorization_code" => Self::AuthorizationCode {
                code: params.require("code")?.to_owned(),
                redirect_uri: params.get("redirect_uri").map(str::to_owned),
                code_verifier: params.get("code_verifier").map(str::to_owned),
            },
            "refresh_token" => Self::RefreshToken {
                refresh_token: params.require("refresh_token")?.to_owned(),
                scopes: scopes(&params)?,
            },
            "client_credentials" => Self::ClientCredentials { scopes: scopes(&params)? },
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "grant_type is not supported",
                ));
            }
        };
        Ok((request, credentials))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(TokenRequest, ClientCredentialsInBody), OAuthError> {
        TokenRequest::parse(Params::from_urlencoded(body.as_bytes())?)
    }

    #[test]
    fn grants_parse() {
        let (r, c) = parse("grant_type=authorization_code&code=abc&redirect_uri=x&code_verifier=v&client_id=id&client_secret=s").unwrap();
        assert_eq!(
            r,
            TokenRequest::AuthorizationCode {
                code: "abc".into(),
                redirect_uri: Some("x".into()),
                code_verifier: Some("v".into())
            }
        );
        assert_eq!((c.client_id.as_deref(), c.client_secret.as_deref()), (Some("id"), Some("s")));
        let (r, _) = parse("grant_type=client_credentials&scope=a%20b").unwrap();
        assert_eq!(
            r,
            TokenRequest::ClientCredentials { scopes: Some(vec!["a".into(), "b".into()]) }
        );
        let (r, _) = parse("grant_type=refresh_token&refresh_token=rt").unwrap();
        assert_eq!(r, TokenRequest::RefreshToken { refresh_token: "rt".into(), scopes: None });
    }

    #[test]
    fn hostile_token_requests_are_refused_with_the_right_code() {
        assert_eq!(parse("code=abc").unwrap_err().error, ErrorCode::InvalidRequest);
        assert_eq!(
            parse("grant_type=password&username=a&password=b").unwrap_err().error,
            ErrorCode::UnsupportedGrantType
        );
        assert_eq!(
            parse("grant_type=implicit").unwrap_err().error,
            ErrorCode::UnsupportedGrantType
        );
        assert_eq!(
            parse("grant_type=authorization_code").unwrap_err().error,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse("grant_type=authorization_code&code=a&code=b").unwrap_err().error,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse("grant_type=client_credentials&scope=%22").unwrap_err().error,
            ErrorCode::InvalidScope
        );
    }
}

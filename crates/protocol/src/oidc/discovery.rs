//! OpenID Provider Metadata (OIDC Discovery 1.0 §3, RFC 8414 §2). Only endpoints that exist
//! are listed.

use serde::Serialize;

use crate::jose::SigningAlg;

/// Field for field the metadata document, so the booleans are the spec's, not a design choice.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub end_session_endpoint: String,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub userinfo_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Algorithms accepted for `private_key_jwt` assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
}

/// Algorithms accepted for `private_key_jwt` client assertions: asymmetric only.
pub const CLIENT_ASSERTION_ALGS: [&str; 5] = ["RS256", "PS256", "ES256", "ES384", "EdDSA"];

/// Paths of the provider's endpoints, relative to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/oauth/authorize";
    pub const TOKEN: &str = "/oauth/token";
    pub const USERINFO: &str = "/oauth/userinfo";
    pub const JWKS: &str = "/oauth/jwks";
    pub const INTROSPECT: &str = "/oauth/introspect";
    pub const REVOKE: &str = "/oauth/revoke";
    pub const END_SESSION: &str = "/oauth/logout";
}

impl ProviderMetadata {
    /// `issuer` exactly as configured (no trailing slash is added: OIDC Discovery §4.3 compares
    /// it as a string).
    pub fn new(issuer: &str) -> Self {
        let at = |path: &str| format!("{}{path}", issuer.trim_end_matches('/'));
        let client_auth = vec!["client_secret_basic", "client_secret_post", "private_key_jwt"];
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: at(paths::AUTHORIZE),
            token_endpoint: at(paths::TOKEN),
            userinfo_endpoint: at(paths::USERINFO),
            jwks_uri: at(paths::JWKS),
            introspection_endpoint: at(paths::INTROSPECT),
            revocation_endpoint: at(paths::REVOKE),
            end_session_endpoint: at(paths::END_SESSION),
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
            scopes_supported: vec!["openid", "profile", "email", "offline_access"],
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query", "form_post"],
            grant_types_supported: vec![
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ],
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: SigningAlg::ALL
                .iter()
                .map(|a| a.as_str())
                .collect(),
            userinfo_signing_alg_values_supported: vec!["none"],
            token_endpoint_auth_methods_supported: client_auth.clone(),
            token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS.to_vec(),
            introspection_endpoint_auth_methods_supported: client_auth.clone(),
            revocation_endpoint_auth_methods_supported: client_auth,
            code_challenge_methods_supported: vec!["S256"],
            claims_supported: vec![
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "amr",
                "nonce",
                "sid",
                "email",
                "email_verified",
                "name",
                "updated_at",
                "legacy_user_id",
            ],
            prompt_values_supported: vec!["none", "login", "consent", "select_account"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_kept_exactly_and_endpoints_hang_off_it() {
        let m = ProviderMetadata::new("https://id.example.com/auth");
        assert_eq!(m.issuer, "https://id.example.com/auth");
        assert_eq!(m.token_endpoint, "https://id.example.com/auth/oauth/token");
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["id_token_signing_alg_values_supported"][0], "RS256");
        assert_eq!(json["code_challenge_methods_supported"][0], "S256");
    }
}

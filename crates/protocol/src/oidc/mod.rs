//! OpenID Connect Core 1.0 and the OAuth 2.0 RFCs it builds on, as message types.

mod authorize;
mod claims;
mod discovery;
mod error;
mod params;
mod pkce;
mod token;

pub use authorize::{AuthorizationRequest, AuthorizationTarget, Prompt, ResponseMode};
pub use claims::{AccessTokenClaims, IdTokenClaims};
pub use discovery::{CLIENT_ASSERTION_ALGS, ProviderMetadata, paths};
pub use error::{ErrorCode, OAuthError};
pub use params::Params;
pub use pkce::{CodeChallenge, verify_s256};
pub use token::{ClientCredentialsInBody, TokenRequest, TokenResponse};

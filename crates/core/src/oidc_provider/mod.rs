//! Latchkey as an OpenID Provider: products (clients), signing keys, the authorization
//! endpoint's decisions, the grants (one file each), `UserInfo`, introspection and revocation.
//! Message syntax lives in `latchkey-protocol`; HTTP in `latchkey-web`.

mod assertion;
mod authorize;
mod clients;
mod codes;
mod consent;
mod grants;
mod introspect;
mod keys;
mod logout;
mod registry;
mod revocations;
pub(crate) mod store_types;
mod tokens;
mod verified;

pub use assertion::{ASSERTION_TYPE, parse_jwks};
pub use authorize::{AuthorizeOutcome, ConsentDecision};
pub use clients::{
    AuthMethod, Client, ClientAuthFailure, ClientChanges, ClientKeys, ClientSummary, ClientUsage,
    GrantType, ManageClientError, NewClientRequest, RegisterClientError, RegisteredClient,
};
pub use consent::AllowedProduct;
pub use grants::{ClientAuthentication, TokenEndpointError, TokenResponse};
pub use introspect::{Introspection, UserInfoError};
pub use keys::{KeyError, KeyRing, PUBLISH_AHEAD_SECS};
pub use logout::{BACKCHANNEL_KIND, EndSessionPlan};

use crate::api_tokens::ApiTokens;
use crate::legacy::Legacy;
use crate::policies::Policies;
use std::sync::Arc;

use latchkey_protocol::oidc::OAuthError;

use crate::accounts::ports::AccountRepo;
use crate::audit::Audit;
use crate::kernel::Kernel;
use crate::oidc_provider::ports::{ClientRepo, KeyFetcher, OidcRepo, SigningKeyRepo};
use crate::sessions::ports::SessionRepo;

/// Lifetimes of what the provider issues.
#[derive(Debug, Clone, Copy)]
pub struct OidcSettings {
    pub code_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub id_token_ttl_secs: i64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        // RFC 6749 §4.1.2 recommends codes live at most 10 minutes; one is plenty.
        Self {
            code_ttl_secs: 60,
            access_token_ttl_secs: 900,
            id_token_ttl_secs: keys::LONGEST_TOKEN_SECS,
        }
    }
}

/// The provider's in-memory state: the client registry cache and the key ring.
pub struct OidcState {
    pub(crate) clients: registry::ClientCache,
    pub(crate) client_keys: assertion::ClientKeyCache,
    pub(crate) revoked: revocations::RevocationCache,
    pub(crate) verified: verified::VerifiedTokens,
    pub(crate) keys: KeyRing,
    pub(crate) codes: codes::CodeSealer,
    pub(crate) receipts: crate::sealed::Sealer,
    /// Re-authentication markers (`prompt=login`, `max_age`): sealed, bound to one request.
    pub(crate) reauth: crate::sealed::Sealer,
    pub(crate) settings: OidcSettings,
}

impl OidcState {
    pub fn new(master_key: [u8; 32], settings: OidcSettings) -> Result<Self, KeyError> {
        Ok(Self {
            clients: registry::ClientCache::default(),
            client_keys: assertion::ClientKeyCache::default(),
            revoked: revocations::RevocationCache::default(),
            verified: verified::VerifiedTokens::default(),
            codes: codes::CodeSealer::new(&master_key)?,
            receipts: crate::sealed::Sealer::new(&master_key, b"latchkey sign-out receipts v1")?,
            reauth: crate::sealed::Sealer::new(&master_key, b"latchkey reauth markers v1")?,
            keys: KeyRing::new(master_key),
            settings,
        })
    }
}

pub(crate) fn server_error() -> OAuthError {
    OAuthError::new(
        latchkey_protocol::oidc::ErrorCode::ServerError,
        "the server could not complete the request",
    )
}

/// Scopes this provider knows; others are ignored (OIDC Core §5.4 lets a provider ignore
/// scopes it does not understand).
pub(crate) const KNOWN_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The OpenID provider's service: products, keys, the authorization and token endpoints'
/// decisions, `UserInfo`, introspection, revocation and single logout.
#[derive(Clone)]
pub struct OidcProvider {
    clients: Arc<dyn ClientRepo>,
    signing_keys: Arc<dyn SigningKeyRepo>,
    repo: Arc<dyn OidcRepo>,
    fetcher: Arc<dyn KeyFetcher>,
    sessions: Arc<dyn SessionRepo>,
    accounts: Arc<dyn AccountRepo>,
    policies: Policies,
    api_tokens: ApiTokens,
    legacy: Legacy,
    audit: Audit,
    kernel: Kernel,
    state: Arc<OidcState>,
}

/// The provider's ports, as the wiring hands them over.
pub struct OidcPorts {
    pub clients: Arc<dyn ClientRepo>,
    pub signing_keys: Arc<dyn SigningKeyRepo>,
    pub oidc: Arc<dyn OidcRepo>,
    pub fetcher: Arc<dyn KeyFetcher>,
    pub sessions: Arc<dyn SessionRepo>,
    pub accounts: Arc<dyn AccountRepo>,
}

impl OidcProvider {
    pub fn new(
        ports: OidcPorts,
        policies: Policies,
        api_tokens: ApiTokens,
        legacy: Legacy,
        audit: Audit,
        kernel: Kernel,
        state: OidcState,
    ) -> Self {
        Self {
            clients: ports.clients,
            signing_keys: ports.signing_keys,
            repo: ports.oidc,
            fetcher: ports.fetcher,
            sessions: ports.sessions,
            accounts: ports.accounts,
            policies,
            api_tokens,
            legacy,
            audit,
            kernel,
            state: Arc::new(state),
        }
    }

    /// Whether tokens may still be issued under this session: it has not ended by its own
    /// clock, and its policy (length, password and two-step rules) still allows it. Product
    /// refresh tokens are not browser activity, so idleness is judged by the refresh token's
    /// own lifetime instead (see `mint_refresh_token`).
    pub(crate) async fn session_allows_tokens(
        &self,
        session: &crate::sessions::model::Session,
        account: &crate::accounts::Account,
    ) -> Result<bool, crate::errors::RepoError> {
        let now = self.kernel.now();
        if !account.is_active() || now >= session.expires_at {
            return Ok(false);
        }
        let policy = self.policies.for_account(account).await?;
        let verdict = policy.session_verdict(account, session.created_at, now, &session.amr, now);
        Ok(verdict == crate::policies::SessionVerdict::Live)
    }

    /// Forgets expired authorization codes, client assertions and revoked-token entries
    /// (housekeeping).
    pub async fn purge_expired(&self) -> Result<u64, crate::errors::RepoError> {
        self.repo.purge_expired(self.kernel.now()).await
    }
}
pub mod ports;

//! The flows a person goes through, one module per intention: sign up, verify the email,
//! log in, reset a forgotten password, change settings. Each is a set of `Accounts` methods
//! with its own error type; HTTP mapping happens in `latchkey-web` only.

/// `From<NewPasswordError>` for a flow's error with `Rule`, `Busy` and `Unexpected` variants:
/// every flow that sets a password reports the policy's refusal the same way.
macro_rules! from_new_password_error {
    ($error:ty) => {
        impl From<$crate::policies::NewPasswordError> for $error {
            fn from(e: $crate::policies::NewPasswordError) -> Self {
                match e {
                    $crate::policies::NewPasswordError::Rule(r) => Self::Rule(r),
                    $crate::policies::NewPasswordError::Busy => Self::Busy,
                    $crate::policies::NewPasswordError::Unexpected(u) => Self::Unexpected(u),
                }
            }
        }
    };
}

pub(crate) mod account_settings;
mod admin_tokens;
mod closure;
mod deliveries;
mod email_change;
mod links;
mod login;
pub(crate) mod mail_requests;
mod new_password;
mod password_reset;
mod provisioning;
mod reclaim;
mod signup;
mod verify_email;

pub use crate::guard::{STEP_UP_SECS, ThrottlePolicy};
pub use crate::sessions::LoginSuccess;
pub use account_settings::{ChangeNameError, ChangePasswordError};
pub use admin_tokens::{ADMIN_TOKEN_PREFIX, AdminCaller, AdminToken, AdminTokenError};
pub use closure::ClosureRequest;
pub use email_change::ChangeEmailError;
pub use login::{LoginError, LoginOutcome};
pub use new_password::NewPasswordStepError;
pub use password_reset::{CompleteResetError, RequestResetError};
pub use provisioning::{
    AccountPage, CreateAccountError, CreateAccountRequest, SetStatusError, SiteAdmin,
};
pub use signup::{SignUpError, SignUpRequest};
pub use verify_email::{ResendVerificationError, Verified as EmailVerified, VerifyEmailError};

pub use crate::errors::Unexpected;

use std::sync::Arc;

use crate::accounts::Account;
use crate::accounts::ports::AccountRepo;
use crate::audit::Audit;
use crate::credentials::PasswordHasher;
use crate::errors::RepoError;
use crate::flows::ports::{AdminTokenRepo, EmailChangeRepo, OneTimeTokenRepo};
use crate::guard::Guard;
use crate::kernel::Kernel;
use crate::oidc_provider::OidcProvider;
use crate::orgs::model::Organization;
use crate::orgs::ports::OrgRepo;
use crate::policies::Policies;
use crate::second_factor::SecondFactor;
use crate::sessions::Sessions;
use crate::settings::CoreSettings;

/// The accounts' service: what a person does with their account (sign up, verify, log in,
/// reset, change settings, ask for closure) and what administrators do to accounts.
#[derive(Clone)]
pub struct Accounts {
    repo: Arc<dyn AccountRepo>,
    tokens: Arc<dyn OneTimeTokenRepo>,
    email_changes: Arc<dyn EmailChangeRepo>,
    admin_tokens: Arc<dyn AdminTokenRepo>,
    orgs: Arc<dyn OrgRepo>,
    hasher: PasswordHasher,
    guard: Guard,
    policies: Policies,
    sessions: Sessions,
    oidc: OidcProvider,
    second_factor: SecondFactor,
    api_tokens: crate::api_tokens::ApiTokens,
    legacy: crate::legacy::Legacy,
    audit: Audit,
    kernel: Kernel,
    settings: CoreSettings,
}

/// The accounts' ports, as the wiring hands them over.
pub struct AccountPorts {
    pub accounts: Arc<dyn AccountRepo>,
    pub tokens: Arc<dyn OneTimeTokenRepo>,
    pub email_changes: Arc<dyn EmailChangeRepo>,
    pub admin_tokens: Arc<dyn AdminTokenRepo>,
    pub orgs: Arc<dyn OrgRepo>,
}

/// The services accounts build on.
pub struct AccountDeps {
    pub hasher: PasswordHasher,
    pub guard: Guard,
    pub policies: Policies,
    pub sessions: Sessions,
    pub oidc: OidcProvider,
    pub second_factor: SecondFactor,
    pub api_tokens: crate::api_tokens::ApiTokens,
    pub legacy: crate::legacy::Legacy,
    pub audit: Audit,
    pub kernel: Kernel,
}

impl Accounts {
    pub fn new(ports: AccountPorts, deps: AccountDeps, settings: CoreSettings) -> Self {
        Self {
            repo: ports.accounts,
            tokens: ports.tokens,
            email_changes: ports.email_changes,
            admin_tokens: ports.admin_tokens,
            orgs: ports.orgs,
            hasher: deps.hasher,
            guard: deps.guard,
            policies: deps.policies,
            sessions: deps.sessions,
            oidc: deps.oidc,
            second_factor: deps.second_factor,
            api_tokens: deps.api_tokens,
            legacy: deps.legacy,
            audit: deps.audit,
            kernel: deps.kernel,
            settings,
        }
    }

    /// The organization that manages the account (the one that verified its domain).
    async fn managing_org(&self, account: &Account) -> Result<Option<Organization>, RepoError> {
        crate::orgs::ports::managing_org(self.orgs.as_ref(), account).await
    }
}

impl From<crate::accounts::ports::InsertAccountError> for Unexpected {
    fn from(e: crate::accounts::ports::InsertAccountError) -> Self {
        Self(Box::new(e))
    }
}

impl From<crate::sessions::SessionError> for Unexpected {
    fn from(e: crate::sessions::SessionError) -> Self {
        Self(Box::new(e))
    }
}

pub mod ports;

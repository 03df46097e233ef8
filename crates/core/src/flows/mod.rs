//! The flows a person goes through, one module per intention: sign up, verify the email,
//! log in, reset a forgotten password, change settings. Each is a set of `impl Core` methods
//! with its own error type; HTTP mapping happens in `latchkey-web` only.

pub(crate) mod account_settings;
mod admin_tokens;
mod closure;
mod email_change;
mod links;
mod login;
pub(crate) mod mail_requests;
mod password_reset;
mod provisioning;
mod reclaim;
mod signup;
pub(crate) mod throttle;
mod verify_email;

pub use account_settings::{ChangeNameError, ChangePasswordError, STEP_UP_SECS};
pub use admin_tokens::{ADMIN_TOKEN_PREFIX, AdminCaller, AdminToken, AdminTokenError};
pub use closure::ClosureRequest;
pub use email_change::ChangeEmailError;
pub use login::{LoginError, LoginOutcome, LoginSuccess};
pub use password_reset::{CompleteResetError, RequestResetError};
pub use provisioning::{CreateAccountError, CreateAccountRequest, SetStatusError, SiteAdmin};
pub use signup::{SignUpError, SignUpRequest};
pub use throttle::ThrottlePolicy;
pub use verify_email::{ResendVerificationError, Verified as EmailVerified, VerifyEmailError};

use crate::credentials::HashError;
use crate::errors::RepoError;

pub use crate::errors::Unexpected;

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

/// Hashing either answers, is saturated (the caller says "try again shortly"), or broke.
pub(crate) enum HashFailure {
    Busy,
    Unexpected(Unexpected),
}

impl From<RepoError> for HashFailure {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<HashError> for HashFailure {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            HashError::Unexpected(_) => Self::Unexpected(Unexpected(Box::new(e))),
        }
    }
}
pub mod ports;

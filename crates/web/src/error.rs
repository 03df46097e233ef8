//! The one place domain errors become HTTP: a status, a message a person can act on, and
//! `Retry-After` where waiting helps. Internal error text is logged, never sent.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use latchkey_core::flows::{
    ChangeNameError, ChangePasswordError, CompleteResetError, LoginError, RequestResetError,
    ResendVerificationError, SignUpError, VerifyEmailError,
};

const GENERIC: &str = "Something went wrong on our side. Try again in a moment.";
/// Storage out of reach for a moment (a database restart or failover): `503`, retry soon.
pub(crate) const UNAVAILABLE: &str = "The service is briefly unavailable. Try again in a moment.";

/// A failed use case as a page will show it.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<i64>,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None }
    }

    fn throttled(secs: i64, message: String) -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, message, retry_after: Some(secs) }
    }

    fn busy(message: String) -> Self {
        Self { status: StatusCode::SERVICE_UNAVAILABLE, message, retry_after: Some(1) }
    }

    fn unexpected(e: &(dyn std::error::Error + 'static)) -> Self {
        if latchkey_core::errors::is_unavailable(e) {
            tracing::warn!(error = %e, "storage unavailable");
            return Self::busy(UNAVAILABLE.to_owned());
        }
        tracing::error!(error = %e, source = ?e.source(), "unexpected failure");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, GENERIC)
    }

    /// Puts the status and `Retry-After` on a rendered page.
    pub fn apply(&self, mut response: Response) -> Response {
        *response.status_mut() = self.status;
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<latchkey_core::second_factor::SecondFactorError> for Failure {
    fn from(e: latchkey_core::second_factor::SecondFactorError) -> Self {
        use latchkey_core::second_factor::SecondFactorError as E;
        match e {
            E::WrongCode | E::WrongPassword | E::Expired | E::KeyRefused => {
                Self::new(StatusCode::UNAUTHORIZED, e.to_string())
            }
            E::BadNickname => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            E::KeysUnavailable => Self::new(StatusCode::CONFLICT, e.to_string()),
            E::Deactivated | E::EmailNotVerified | E::SignInAgain | E::SsoRequired => {
                Self::new(StatusCode::FORBIDDEN, e.to_string())
            }
            E::AlreadyEnabled | E::NotEnrolling | E::NotEnabled | E::RequiredByPolicy => {
                Self::new(StatusCode::CONFLICT, e.to_string())
            }
            E::Throttled(s) => Self::throttled(s, e.to_string()),
            E::Busy => Self::busy(e.to_string()),
            E::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<LoginError> for Failure {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => Self::new(StatusCode::UNAUTHORIZED, e.to_string()),
            LoginError::Deactivated | LoginError::SsoRequired => {
                Self::new(StatusCode::FORBIDDEN, e.to_string())
            }
            LoginError::Throttled(s) => Self::throttled(s, e.to_string()),
            LoginError::Busy => Self::busy(e.to_string()),
            LoginError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<SignUpError> for Failure {
    fn from(e: SignUpError) -> Self {
        match e {
            SignUpError::Throttled(s) => Self::throttled(s, e.to_string()),
            SignUpError::Busy => Self::busy(e.to_string()),
            SignUpError::Rule(_) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            SignUpError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<VerifyEmailError> for Failure {
    fn from(e: VerifyEmailError) -> Self {
        match e {
            VerifyEmailError::InvalidLink => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            VerifyEmailError::Deactivated => Self::new(StatusCode::FORBIDDEN, e.to_string()),
            VerifyEmailError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<ResendVerificationError> for Failure {
    fn from(e: ResendVerificationError) -> Self {
        match e {
            ResendVerificationError::Throttled(s) => Self::throttled(s, e.to_string()),
            ResendVerificationError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<RequestResetError> for Failure {
    fn from(e: RequestResetError) -> Self {
        match e {
            RequestResetError::Throttled(s) => Self::throttled(s, e.to_string()),
            RequestResetError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<CompleteResetError> for Failure {
    fn from(e: CompleteResetError) -> Self {
        match e {
            CompleteResetError::InvalidLink | CompleteResetError::Rule(_) => {
                Self::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            CompleteResetError::Busy => Self::busy(e.to_string()),
            CompleteResetError::SsoRequired => Self::new(StatusCode::FORBIDDEN, e.to_string()),
            CompleteResetError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<ChangePasswordError> for Failure {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::WrongCurrentPassword => {
                Self::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            ChangePasswordError::Throttled(s) => Self::throttled(s, e.to_string()),
            ChangePasswordError::Busy => Self::busy(e.to_string()),
            ChangePasswordError::Rule(_) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            ChangePasswordError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<latchkey_core::flows::NewPasswordStepError> for Failure {
    fn from(e: latchkey_core::flows::NewPasswordStepError) -> Self {
        use latchkey_core::flows::NewPasswordStepError as E;
        match e {
            E::Expired => Self::new(StatusCode::UNAUTHORIZED, e.to_string()),
            E::Rule(_) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            E::Busy => Self::busy(e.to_string()),
            E::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<ChangeNameError> for Failure {
    fn from(e: ChangeNameError) -> Self {
        match e {
            ChangeNameError::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl From<latchkey_core::ports::RepoError> for Failure {
    fn from(e: latchkey_core::ports::RepoError) -> Self {
        Self::unexpected(&e)
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    heading: &'a str,
    message: &'a str,
    is_error: bool,
    link_href: &'a str,
    link_text: &'a str,
}

/// Renders any template; a template that fails to render is a bug, answered with a 500.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, GENERIC).into_response()
        }
    }
}

/// A full page that explains what happened and where to go next.
pub fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let link_text = format!("Go to {}", crate::brand::name());
    let page = MessagePage {
        heading,
        message,
        is_error: status.is_client_error() || status.is_server_error(),
        link_href: "/",
        link_text: &link_text,
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

pub fn failure_page(failure: &Failure, heading: &str) -> Response {
    failure.apply(message_page(failure.status, heading, &failure.message))
}

/// A page's failure that no person can fix (storage, a bug): it renders as the generic error
/// page, and `?` works on every core error, so page builders read as a list of reads.
#[derive(Debug)]
pub struct PageError(Response);

impl PageError {
    /// Any failure the page does not handle itself, shown as the generic error page.
    pub fn unexpected(e: &(dyn std::error::Error + 'static)) -> Self {
        Self(unexpected_page(e))
    }

    /// The error page with this status and message (a missing or refused thing).
    pub fn page(status: StatusCode, heading: &str, message: &str) -> Self {
        Self(message_page(status, heading, message))
    }
}

impl From<latchkey_core::oidc_provider::ManageClientError> for PageError {
    fn from(e: latchkey_core::oidc_provider::ManageClientError) -> Self {
        use latchkey_core::oidc_provider::ManageClientError as E;
        match e {
            E::NotFound => {
                Self::page(StatusCode::NOT_FOUND, "Not found", "There is no such product.")
            }
            E::Invalid(m) => Self::page(StatusCode::BAD_REQUEST, "Cannot do that", &m),
            E::Unexpected(u) => Self::unexpected(&u),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<PageError> for Response {
    fn from(e: PageError) -> Self {
        e.0
    }
}

impl From<latchkey_core::saml_sp::SamlError> for PageError {
    fn from(e: latchkey_core::saml_sp::SamlError) -> Self {
        match e {
            latchkey_core::saml_sp::SamlError::NotFound => Self(message_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such SAML connection.",
            )),
            other => Self::unexpected(&other),
        }
    }
}

impl From<latchkey_core::saml_sp::SamlLoginError> for PageError {
    fn from(e: latchkey_core::saml_sp::SamlLoginError) -> Self {
        Self::unexpected(&e)
    }
}

impl From<latchkey_core::errors::RepoError> for PageError {
    fn from(e: latchkey_core::errors::RepoError) -> Self {
        Self(unexpected_page(&e))
    }
}

impl From<latchkey_core::errors::Unexpected> for PageError {
    fn from(e: latchkey_core::errors::Unexpected) -> Self {
        Self(unexpected_page(&e))
    }
}

impl From<latchkey_core::sessions::SessionError> for PageError {
    fn from(e: latchkey_core::sessions::SessionError) -> Self {
        Self(unexpected_page(&e))
    }
}

/// Every signing-key failure (no active key, key material, storage) is one no person can fix.
impl From<latchkey_core::oidc_provider::KeyError> for PageError {
    fn from(e: latchkey_core::oidc_provider::KeyError) -> Self {
        Self(unexpected_page(&e))
    }
}

pub fn unexpected_page(e: &(dyn std::error::Error + 'static)) -> Response {
    let failure = Failure::unexpected(e);
    failure_page(&failure, "Something went wrong")
}

pub async fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Check the link, or start again from the home page.",
    )
}

/// The policy for pages whose form submission ends at a product: the login form (→
/// `/oauth/authorize` → the product's redirect URI), the second step, the consent screen and
/// the logout confirmation. Browsers apply `form-action` to every redirect after a form
/// submission, so `'self'` would stop the last hop; these pages keep everything else.
const CSP_LEADS_TO_PRODUCTS: &str = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; \
    script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn leads_to_products(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_LEADS_TO_PRODUCTS));
    response
}

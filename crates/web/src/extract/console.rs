//! The consoles' callers: a signed-in site admin (`/admin/…`), and a signed-in admin of the
//! organization named in the path (`/admin/org/{id}/…`).

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use latchkey_core::flows::SiteAdmin;
use latchkey_core::orgs::{OrgAdmin, OrgError};

use crate::error::{PageError, message_page};
use crate::extract::SignedIn;
use crate::state::AppState;

/// A signed-in site admin.
pub struct ConsoleAdmin {
    pub admin: SiteAdmin,
    /// The admin's display name (an invitation says who made the account).
    name: String,
}

impl ConsoleAdmin {
    pub(crate) fn admin(&self) -> &SiteAdmin {
        &self.admin
    }

    pub(crate) fn account_name(&self) -> &str {
        &self.name
    }
}

impl FromRequestParts<AppState> for ConsoleAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let me = SignedIn::from_request_parts(parts, state).await?;
        match SiteAdmin::of(&me) {
            Some(admin) => Ok(Self { admin, name: me.account().name.to_string() }),
            None => Err(message_page(
                StatusCode::FORBIDDEN,
                "Not an administrator",
                "Your account cannot use the site-admin console.",
            )),
        }
    }
}

fn org_not_found() -> Response {
    message_page(StatusCode::NOT_FOUND, "Not found", "There is no such organization.")
}

/// The signed-in admin of the organization named in the path (`/admin/org/{id}/…`); anyone
/// else, and any unknown id, gets the same "not found".
pub struct OrgConsole(pub OrgAdmin);

impl FromRequestParts<AppState> for OrgConsole {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let me = SignedIn::from_request_parts(parts, state).await?;
        let Ok(Path(id)) = Path::<String>::from_request_parts(parts, state).await else {
            return Err(org_not_found());
        };
        match state.core.orgs().org_admin_as(&me, &id).await {
            Ok(admin) => Ok(Self(admin)),
            Err(OrgError::NotFound) => {
                tracing::warn!(account = %me.account().id, org = %id, "organization console refused");
                Err(org_not_found())
            }
            Err(e) => Err(PageError::unexpected(&e).into()),
        }
    }
}

//! `/api/v1`: the admin REST API (JSON), authenticated with admin tokens
//! (`latchkey admin-token create`). Every action of the site-admin console is here too, so
//! operators can script it. The `OpenAPI` document at `/api/v1/openapi.json` describes it; a
//! test checks that every documented operation is routed.

use std::sync::OnceLock;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_core::accounts::Email;
use latchkey_core::flows::AdminCaller;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::AppState;

mod admin_tokens;
mod api_tokens;
mod audit;
mod branding;
mod legacy;
mod orgs;
mod policies;
mod products;
mod saml;
mod users;

use api_tokens::{api_tokens_create, api_tokens_list, api_tokens_revoke, bots_create, bots_list};
use audit::{audit_export, audit_page};
use legacy::{legacy_import, legacy_purge, legacy_rollout, legacy_status};
use orgs::{
    orgs_account_action, orgs_accounts, orgs_admin_add, orgs_admin_remove, orgs_create,
    orgs_delete, orgs_domain_add, orgs_domain_remove, orgs_domain_verify, orgs_domains, orgs_list,
    orgs_show,
};
use policies::{
    org_policies_create, org_policies_list, org_policy_assign, org_policy_show, org_policy_update,
    site_policy_show, site_policy_update,
};
use products::{
    client_delete, client_disable, client_enable, client_rotate_secret, client_show, client_update,
    clients_create, clients_list, deliveries, keys_rotate,
};
use saml::{saml_create, saml_list, saml_remove, saml_show, saml_update};
use users::{
    users_close, users_create, users_deactivate, users_list, users_reactivate,
    users_reset_two_factor, users_session_end, users_sessions, users_show, users_site_admin,
};

const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/users", get(users_list).post(users_create))
        .route("/api/v1/users/{email}", get(users_show))
        .route("/api/v1/users/{email}/deactivate", post(users_deactivate))
        .route("/api/v1/users/{email}/reset-two-factor", post(users_reset_two_factor))
        .route("/api/v1/users/{email}/close", post(users_close))
        .route("/api/v1/users/{email}/reactivate", post(users_reactivate))
        .route("/api/v1/users/{email}/reset-password", post(users::users_reset_password))
        .route("/api/v1/users/{email}/sessions", get(users_sessions))
        .route("/api/v1/users/{email}/site-admin", axum::routing::put(users_site_admin))
        .route("/api/v1/users/{email}/sessions/{id}", axum::routing::delete(users_session_end))
        .route("/api/v1/users/{email}/api-tokens", get(api_tokens_list).post(api_tokens_create))
        .route("/api/v1/users/{email}/api-tokens/{id}", axum::routing::delete(api_tokens_revoke))
        .route("/api/v1/bots", get(bots_list).post(bots_create))
        .route("/api/v1/clients", get(clients_list).post(clients_create))
        .route("/api/v1/clients/{id}", get(client_show).patch(client_update).delete(client_delete))
        .route("/api/v1/clients/{id}/secret", post(client_rotate_secret))
        .route("/api/v1/clients/{id}/disable", post(client_disable))
        .route("/api/v1/clients/{id}/enable", post(client_enable))
        .route("/api/v1/clients/{id}/legacy", get(legacy_status))
        .route(
            "/api/v1/clients/{id}/legacy/import",
            post(legacy_import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/clients/{id}/legacy/purge", post(legacy_purge))
        .route("/api/v1/clients/{id}/rollout", axum::routing::put(legacy_rollout))
        .route("/api/v1/deliveries/backchannel-logout", get(deliveries))
        .route("/api/v1/deliveries/mail", get(products::mail_deliveries))
        .route("/api/v1/deliveries/{kind}/retry", post(products::deliveries_retry))
        .route("/api/v1/keys/rotate", post(keys_rotate))
        .route("/api/v1/admin-tokens", get(admin_tokens::admin_tokens_list))
        .route(
            "/api/v1/admin-tokens/{id}",
            axum::routing::delete(admin_tokens::admin_tokens_revoke),
        )
        .route("/api/v1/orgs", get(orgs_list).post(orgs_create))
        .route("/api/v1/orgs/{id}", get(orgs_show).delete(orgs_delete))
        .route("/api/v1/orgs/{id}/admins", post(orgs_admin_add))
        .route("/api/v1/orgs/{id}/admins/{email}", axum::routing::delete(orgs_admin_remove))
        .route("/api/v1/orgs/{id}/domains/{domain}", axum::routing::delete(orgs_domain_remove))
        .route("/api/v1/orgs/{id}/domains", get(orgs_domains).post(orgs_domain_add))
        .route("/api/v1/orgs/{id}/domains/{domain}/verify", post(orgs_domain_verify))
        .route("/api/v1/orgs/{id}/accounts", get(orgs_accounts))
        .route("/api/v1/orgs/{id}/accounts/{email}/{action}", post(orgs_account_action))
        .route("/api/v1/policy", get(site_policy_show).patch(site_policy_update))
        .route("/api/v1/orgs/{id}/policies", get(org_policies_list).post(org_policies_create))
        .route("/api/v1/orgs/{id}/policies/{policy}", get(org_policy_show).patch(org_policy_update))
        .route("/api/v1/orgs/{id}/policies/{policy}/assign", post(org_policy_assign))
        .route("/api/v1/orgs/{id}/saml", get(saml_list).post(saml_create))
        .route(
            "/api/v1/orgs/{id}/saml/{connection}",
            get(saml_show).put(saml_update).delete(saml_remove),
        )
        .route(
            "/api/v1/branding",
            get(branding::branding_show)
                .put(branding::branding_update)
                .delete(branding::branding_reset),
        )
        .route("/api/v1/audit", get(audit_page))
        .route("/api/v1/audit/export", get(audit_export))
        .route("/api/v1/{*rest}", axum::routing::any(no_such_endpoint))
}

async fn no_such_endpoint() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// `{"error", "error_description"}` with a fitting status (the contract's JSON error shape).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    fn invalid(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn unexpected(e: &(dyn std::error::Error + 'static)) -> Self {
        if latchkey_core::errors::is_unavailable(e) {
            tracing::warn!(error = %e, "storage unavailable");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the database is out of reach for a moment; try again shortly",
            );
        }
        tracing::error!(error = %e, "admin API failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the request could not be completed",
        )
    }
}

impl From<latchkey_core::errors::RepoError> for ApiError {
    fn from(e: latchkey_core::errors::RepoError) -> Self {
        Self::unexpected(&e)
    }
}

impl From<latchkey_core::errors::Unexpected> for ApiError {
    fn from(e: latchkey_core::errors::Unexpected) -> Self {
        Self::unexpected(&e)
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::unexpected(&e)
    }
}

impl From<latchkey_core::oidc_provider::KeyError> for ApiError {
    fn from(e: latchkey_core::oidc_provider::KeyError) -> Self {
        Self::unexpected(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"latchkey-admin\""),
            );
        }
        response
    }
}

type ApiResult = Result<Response, ApiError>;

/// The authenticated caller: a live admin token of an active site admin.
pub struct Admin(AdminCaller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |d: &str| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", d);
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("send an admin token as \"Authorization: Bearer …\""))?;
        match state.core.accounts().authenticate_admin_token(presented).await? {
            Some(caller) => Ok(Self(caller)),
            None => Err(unauthorized("the admin token is not valid")),
        }
    }
}

/// A JSON body, with the contract's error shape when it does not parse.
pub struct Body<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(e @ JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                e.body_text(),
            )),
            Err(e) => Err(ApiError::invalid(e.body_text())),
        }
    }
}

async fn openapi(State(state): State<AppState>) -> Response {
    static DOC: OnceLock<Value> = OnceLock::new();
    let mut doc = DOC.get_or_init(|| serde_json::from_str(OPENAPI).unwrap_or_default()).clone();
    doc["servers"] = json!([{ "url": format!("{}/api/v1", state.settings.public_url) }]);
    Json(doc).into_response()
}

#[derive(Deserialize)]
struct Page {
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn default_limit() -> u32 {
    100
}

/// An account as the API shows it (with the organization that manages it).
async fn summary(state: &AppState, account: &latchkey_core::accounts::Account) -> ApiResult {
    let summary = state.core.orgs().account_summary(account).await?;
    Ok(Json(summary).into_response())
}

fn parse_email(raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| ApiError::invalid(format!("email: {e}")))
}

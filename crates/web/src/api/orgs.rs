//! `/api/v1/orgs`: organizations, their admins and domains, and the accounts they manage.

use crate::state::AppState;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::orgs::ManagedAccount;
use latchkey_core::orgs::ManagedAction;
use latchkey_core::orgs::ManagedActionError;
use latchkey_core::orgs::OrgDomain;
use latchkey_core::orgs::OrgError;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body, parse_email, summary};

impl From<OrgError> for ApiError {
    fn from(e: OrgError) -> Self {
        match e {
            OrgError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            OrgError::UnknownDomain(_) | OrgError::NotAnAdmin(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            OrgError::LastAdmin => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            OrgError::OwnAdmin => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            OrgError::UnknownAccount(_)
            | OrgError::BadName
            | OrgError::BadDomain(_)
            | OrgError::Ambiguous(_) => ApiError::invalid(e.to_string()),
            OrgError::Unexpected(u) => u.into(),
        }
    }
}

pub(super) async fn orgs_list(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let orgs = state.core.orgs().list_organizations(&caller.admin).await?;
    let items: Vec<_> = orgs.iter().map(|o| json!({ "org_id": o.id, "name": o.name })).collect();
    Ok(Json(json!({ "organizations": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewOrg {
    name: String,
    admin: String,
}

pub(super) async fn orgs_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewOrg>,
) -> ApiResult {
    let admin = parse_email(&body.admin)?;
    let org = state.core.orgs().create_organization(&caller.admin, &body.name, &admin).await?;
    Ok((StatusCode::CREATED, Json(json!({ "org_id": org.id, "name": org.name }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailBody {
    email: String,
}

pub(super) async fn orgs_admin_add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<EmailBody>,
) -> ApiResult {
    let email = parse_email(&body.email)?;
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let added = state.core.orgs().add_org_admin(&admin, &email).await?;
    Ok(Json(json!({ "org_id": id, "email": email.as_str(), "added": added })).into_response())
}

/// `DELETE /api/v1/orgs/{id}/admins/{email}`: never the last admin.
pub(super) async fn orgs_admin_remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, email)): Path<(String, String)>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    state.core.orgs().remove_org_admin(&admin, &email).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/orgs/{id}/domains/{domain}`: says what it changed.
pub(super) async fn orgs_domain_remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, domain)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let changed = state.core.orgs().remove_domain(&admin, &domain).await?;
    Ok(Json(json!({ "org_id": id, "domain": domain, "changed": changed })).into_response())
}

/// `GET /api/v1/orgs/{id}`: the organization and what deleting it would end.
pub(super) async fn orgs_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let usage = state.core.orgs().org_usage(&caller.admin, &id).await?;
    Ok(Json(json!({ "org_id": id, "name": admin.org().name, "usage": usage })).into_response())
}

/// `DELETE /api/v1/orgs/{id}`: says what it ended.
pub(super) async fn orgs_delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let ended = state.core.orgs().delete_organization(&caller.admin, &id).await?;
    Ok(Json(json!({ "org_id": id, "ended": ended })).into_response())
}

pub(super) async fn orgs_domains(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let domains = state.core.orgs().list_domains(&admin).await?;
    Ok(Json(json!({ "domains": domains.iter().map(OrgDomain::to_json).collect::<Vec<_>>() }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DomainBody {
    domain: String,
}

pub(super) async fn orgs_domain_add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<DomainBody>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let added = state.core.orgs().add_domain(&admin, &body.domain).await?;
    Ok((StatusCode::CREATED, Json(added.to_json())).into_response())
}

pub(super) async fn orgs_domain_verify(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, domain)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let check = state.core.orgs().verify_domain(&admin, &domain).await?;
    let mut doc = check.domain.to_json();
    doc["detail"] = check.detail.into();
    Ok(Json(doc).into_response())
}

pub(super) async fn orgs_accounts(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let accounts = state.core.orgs().managed_accounts(&admin, 1000).await?;
    let items: Vec<Value> = accounts.iter().map(ManagedAccount::to_json).collect();
    Ok(Json(json!({ "accounts": items })).into_response())
}

/// The value some actions take: `{"name": …}` to rename, `{"email": …}` to change the email.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ActionBody {
    name: Option<String>,
    email: Option<String>,
}

pub(super) async fn orgs_account_action(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, email, action)): Path<(String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let email = parse_email(&email)?;
    // Most actions take no body; those that take a value take it as JSON.
    let body: ActionBody = if raw.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| ApiError::invalid(e.to_string()))?
    };
    let value = body.name.or(body.email).unwrap_or_default();
    let action = ManagedAction::parse(&action, &value)?;
    let account = state.core.orgs().act_on_managed_account(&admin, &email, &action).await?;
    summary(&state, &account).await
}

impl From<ManagedActionError> for ApiError {
    fn from(e: ManagedActionError) -> Self {
        match e {
            ManagedActionError::NotFound | ManagedActionError::UnknownAction(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            ManagedActionError::Closed | ManagedActionError::OwnAccount => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            ManagedActionError::EmailRefused | ManagedActionError::BadValue(_) => {
                ApiError::invalid(e.to_string())
            }
            ManagedActionError::Protected => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            ManagedActionError::Unexpected(u) => u.into(),
        }
    }
}

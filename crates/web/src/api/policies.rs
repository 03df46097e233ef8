//! `/api/v1/policy` (the site default) and `/api/v1/orgs/{id}/policies` (an organization's
//! authentication policies): list, show, create, change (with a dry run for the preview) and
//! assign accounts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::policies::{PolicyChange, PolicyEditor, PolicyError, PolicySettings};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Admin, ApiError, ApiResult, Body};
use crate::state::AppState;

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            PolicyError::Unexpected(u) => u.into(),
            other => ApiError::invalid(other.to_string()),
        }
    }
}

/// Settings given as a partial JSON object on top of `base`; unknown names and values out of
/// range are refused with a message that names them.
fn merged(base: PolicySettings, patch: Option<Value>) -> Result<PolicySettings, ApiError> {
    let Some(patch) = patch else { return Ok(base) };
    let Value::Object(patch) = patch else {
        return Err(ApiError::invalid("settings must be a JSON object"));
    };
    let mut doc = serde_json::to_value(base).map_err(|e| ApiError::invalid(e.to_string()))?;
    if let Value::Object(fields) = &mut doc {
        fields.extend(patch);
    }
    let settings: PolicySettings =
        serde_json::from_value(doc).map_err(|e| ApiError::invalid(format!("settings: {e}")))?;
    settings.validate().map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(settings)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    settings: Option<Value>,
    #[serde(default)]
    require_new_password: bool,
    /// Answer with the preview and save nothing.
    #[serde(default)]
    dry_run: bool,
}

async fn change(
    state: &AppState,
    editor: PolicyEditor<'_>,
    policy: &str,
    body: ChangeBody,
) -> ApiResult {
    let policies = state.core.policies();
    let current = policies.show(editor, policy).await?;
    let change = PolicyChange {
        name: body.name,
        settings: merged(current.settings, body.settings)?,
        require_new_password: body.require_new_password,
    };
    let preview = policies.preview(editor, policy, &change).await?;
    if body.dry_run {
        return Ok(Json(json!({ "dry_run": true, "preview": preview })).into_response());
    }
    let view = policies.update(editor, policy, &change).await?;
    let mut doc = json!(view);
    doc["preview"] = json!(preview);
    Ok(Json(doc).into_response())
}

pub(super) async fn site_policy_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult {
    let view = state.core.policies().show(PolicyEditor::Site(&caller.admin), "default").await?;
    Ok(Json(json!(view)).into_response())
}

pub(super) async fn site_policy_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<ChangeBody>,
) -> ApiResult {
    change(&state, PolicyEditor::Site(&caller.admin), "default", body).await
}

pub(super) async fn org_policies_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &org).await?;
    let views = state.core.policies().list(PolicyEditor::Org(&admin)).await?;
    Ok(Json(json!({ "policies": views })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPolicy {
    name: String,
    #[serde(default)]
    settings: Option<Value>,
}

pub(super) async fn org_policies_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(org): Path<String>,
    Body(body): Body<NewPolicy>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &org).await?;
    let settings = merged(PolicySettings::default(), body.settings)?;
    let view =
        state.core.policies().create(PolicyEditor::Org(&admin), &body.name, settings).await?;
    Ok((StatusCode::CREATED, Json(json!(view))).into_response())
}

pub(super) async fn org_policy_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((org, policy)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &org).await?;
    let view = state.core.policies().show(PolicyEditor::Org(&admin), &policy).await?;
    Ok(Json(json!(view)).into_response())
}

pub(super) async fn org_policy_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((org, policy)): Path<(String, String)>,
    Body(body): Body<ChangeBody>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &org).await?;
    change(&state, PolicyEditor::Org(&admin), &policy, body).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignBody {
    emails: Vec<String>,
}

pub(super) async fn org_policy_assign(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((org, policy)): Path<(String, String)>,
    Body(body): Body<AssignBody>,
) -> ApiResult {
    if body.emails.is_empty() || body.emails.len() > 1000 {
        return Err(ApiError::invalid("give 1 to 1000 addresses in \"emails\""));
    }
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &org).await?;
    let report = state.core.policies().assign(&admin, &policy, &body.emails).await?;
    Ok(Json(json!(report)).into_response())
}

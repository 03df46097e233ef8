//! `/api/v1/orgs/{id}/saml`: an organization's SAML connections.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::saml_sp::{AttributeMapping, ConnectionRequest, IdpSource, Preset, SamlError};
use serde::Deserialize;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body};
use crate::state::AppState;

impl From<SamlError> for ApiError {
    fn from(e: SamlError) -> Self {
        match e {
            SamlError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            SamlError::DomainTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            SamlError::Invalid(_) | SamlError::DomainNotVerified(_) => {
                ApiError::invalid(e.to_string())
            }
            SamlError::Unexpected(u) => u.into(),
        }
    }
}

/// A connection: the IdP from `metadata_xml`, `metadata_url`, or `entity_id` + `sso_url` +
/// `certificates`.
#[allow(clippy::struct_excessive_bools)] // independent switches of one connection
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConnectionBody {
    name: String,
    domains: Vec<String>,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    metadata_xml: Option<String>,
    #[serde(default)]
    metadata_url: Option<String>,
    #[serde(default)]
    entity_id: Option<String>,
    #[serde(default)]
    sso_url: Option<String>,
    #[serde(default)]
    certificates: Vec<String>,
    #[serde(default)]
    jit: bool,
    #[serde(default)]
    allow_idp_initiated: bool,
    #[serde(default)]
    allow_sha1: bool,
    #[serde(default)]
    sign_requests: bool,
    #[serde(default)]
    landing_client: Option<String>,
    #[serde(default)]
    mapping: Option<AttributeMapping>,
}

impl ConnectionBody {
    fn into_request(self) -> Result<ConnectionRequest, ApiError> {
        let preset = match self.preset.as_deref() {
            None => Preset::Custom,
            Some(p) => Preset::parse(p)
                .ok_or_else(|| ApiError::invalid(format!("unknown preset {p:?}")))?,
        };
        let source = match (self.metadata_xml, self.metadata_url, self.entity_id, self.sso_url) {
            (Some(xml), None, None, None) => IdpSource::Metadata(xml),
            (None, Some(url), None, None) => IdpSource::MetadataUrl(url),
            (None, None, Some(entity_id), Some(sso_url)) => {
                IdpSource::Manual { entity_id, sso_url, certificates: self.certificates }
            }
            _ => {
                return Err(ApiError::invalid(
                    "give exactly one of metadata_xml, metadata_url, or entity_id with sso_url and certificates",
                ));
            }
        };
        Ok(ConnectionRequest {
            name: self.name,
            preset,
            source,
            domains: self.domains,
            jit: self.jit,
            allow_idp_initiated: self.allow_idp_initiated,
            allow_sha1: self.allow_sha1,
            sign_requests: self.sign_requests,
            landing_client: self.landing_client,
            mapping: self.mapping,
        })
    }
}

pub(super) async fn saml_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let saml = state.core.saml();
    let list =
        saml.list_connections(&admin).await.map_err(|e| ApiError::from(SamlError::from(e)))?;
    let items: Vec<_> = list.iter().map(|c| saml.describe(c)).collect();
    Ok(Json(json!({ "connections": items })).into_response())
}

pub(super) async fn saml_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<ConnectionBody>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let connection = state.core.saml().add_connection(&admin, body.into_request()?).await?;
    Ok((StatusCode::CREATED, Json(state.core.saml().describe(&connection))).into_response())
}

pub(super) async fn saml_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, connection)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let connection = state.core.saml().connection(&admin, &connection).await?;
    Ok(Json(state.core.saml().describe(&connection)).into_response())
}

pub(super) async fn saml_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, connection)): Path<(String, String)>,
    Body(body): Body<ConnectionBody>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    let updated =
        state.core.saml().update_connection(&admin, &connection, body.into_request()?).await?;
    Ok(Json(state.core.saml().describe(&updated)).into_response())
}

pub(super) async fn saml_remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, connection)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.orgs().org_admin_as_site_admin(&caller.admin, &id).await?;
    state.core.saml().remove_connection(&admin, &connection).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

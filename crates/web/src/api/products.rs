//! `/api/v1/clients`, `/api/v1/deliveries`, `/api/v1/keys`: products, their back-channel logout deliveries, and signing-key rotation.

use crate::state::AppState;
use axum::Json;
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::oidc_provider::Client;
use latchkey_core::oidc_provider::ClientKeys;
use latchkey_core::oidc_provider::GrantType;
use latchkey_core::oidc_provider::NewClientRequest;
use latchkey_core::oidc_provider::RegisterClientError;
use latchkey_protocol::jose::SigningAlg;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body, default_limit};

pub(super) async fn clients_list(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let clients = state.core.oidc().list_clients(&caller.admin).await?;
    let clients: Vec<_> = clients.iter().map(Client::summary).collect();
    Ok(Json(json!({ "clients": clients })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewClient {
    name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    backchannel_logout_uri: Option<String>,
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    public: bool,
    #[serde(default = "yes")]
    first_party: bool,
    #[serde(default)]
    scopes: Vec<String>,
    id_token_signed_response_alg: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
}

pub(super) fn yes() -> bool {
    true
}

impl NewClient {
    fn into_request(self) -> Result<NewClientRequest, ApiError> {
        let grant_types = match self.grant_types {
            None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            Some(list) => list
                .iter()
                .map(|g| {
                    GrantType::parse(g)
                        .ok_or_else(|| ApiError::invalid(format!("unknown grant type {g:?}")))
                })
                .collect::<Result<_, _>>()?,
        };
        let id_token_alg = match self.id_token_signed_response_alg.as_deref() {
            None => SigningAlg::RS256,
            Some(a) => SigningAlg::parse(a).ok_or_else(|| {
                ApiError::invalid("id_token_signed_response_alg: use RS256, ES256 or EdDSA")
            })?,
        };
        let keys = match (self.jwks, self.jwks_uri) {
            (Some(_), Some(_)) => return Err(ApiError::invalid("give jwks or jwks_uri, not both")),
            (Some(set), None) => Some(ClientKeys::Inline(set.to_string())),
            (None, Some(uri)) => Some(ClientKeys::Uri(uri)),
            (None, None) => None,
        };
        Ok(NewClientRequest {
            name: self.name,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri,
            grant_types,
            public: self.public,
            keys,
            scopes: self.scopes,
            id_token_alg,
            first_party: self.first_party,
        })
    }
}

pub(super) async fn clients_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewClient>,
) -> ApiResult {
    let request = body.into_request()?;
    let registered = state.core.oidc().register_client(&caller.admin, request).await?;
    let mut doc = serde_json::to_value(registered.client.summary())?;
    doc["client_secret"] = registered.secret.as_ref().map(|s| s.expose().to_owned()).into();
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

impl From<RegisterClientError> for ApiError {
    fn from(e: RegisterClientError) -> Self {
        match e {
            RegisterClientError::Invalid(m) => ApiError::invalid(m),
            RegisterClientError::Unexpected(u) => u.into(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct DeliveryQuery {
    #[serde(default = "default_limit")]
    limit: u32,
}

pub(super) async fn deliveries(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = query.limit.clamp(1, 1000);
    let core = &state.core;
    let recent = core.oidc().recent_logout_deliveries(&caller.admin, limit).await?;
    let counts = core.oidc().logout_delivery_status().await?;
    let items: Vec<_> = recent
        .iter()
        .map(|d| {
            json!({
                "product": d.summary,
                "endpoint": d.recipient,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "created_at": d.created_at.rfc3339(),
                "updated_at": d.updated_at.rfc3339(),
            })
        })
        .collect();
    let counts: serde_json::Map<String, Value> =
        counts.into_iter().map(|(status, n)| (status, n.into())).collect();
    Ok(Json(json!({ "deliveries": items, "counts": counts })).into_response())
}

pub(super) async fn keys_rotate(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let created = state.core.oidc().rotate_signing_keys(&caller.admin).await?;
    let keys: Vec<_> =
        created.iter().map(|(kid, alg)| json!({ "kid": kid, "alg": alg.as_str() })).collect();
    Ok(Json(json!({
        "keys": keys,
        "signing_from_secs": latchkey_core::oidc_provider::PUBLISH_AHEAD_SECS,
    }))
    .into_response())
}

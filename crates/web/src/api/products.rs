//! `/api/v1/clients`, `/api/v1/deliveries`, `/api/v1/keys`: products, their back-channel logout deliveries, and signing-key rotation.

use crate::state::AppState;
use axum::Json;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::oidc_provider::Client;
use latchkey_core::oidc_provider::ClientChanges;
use latchkey_core::oidc_provider::ClientKeys;
use latchkey_core::oidc_provider::GrantType;
use latchkey_core::oidc_provider::ManageClientError;
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
    logo_uri: Option<String>,
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
            logo_uri: self.logo_uri,
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

impl From<ManageClientError> for ApiError {
    fn from(e: ManageClientError) -> Self {
        match e {
            ManageClientError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such product")
            }
            ManageClientError::Invalid(m) => ApiError::invalid(m),
            ManageClientError::Unexpected(u) => u.into(),
        }
    }
}

/// `GET /api/v1/clients/{id}`: the product and what deleting it would end.
pub(super) async fn client_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let oidc = state.core.oidc();
    let client =
        oidc.client_for_admin(&caller.admin, &id).await?.ok_or(ManageClientError::NotFound)?;
    let mut doc = serde_json::to_value(client.summary())?;
    doc["usage"] = serde_json::to_value(oidc.client_usage(&caller.admin, &id).await?)?;
    Ok(Json(doc).into_response())
}

/// `null` for a field that can be removed, as opposed to the field left out.
#[allow(clippy::option_option, reason = "left out, null and a value are three different changes")]
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option, reason = "left out, null and a value are three different changes")]
pub(super) struct ClientPatch {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    backchannel_logout_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    logo_uri: Option<Option<String>>,
    first_party: Option<bool>,
    scopes: Option<Vec<String>>,
}

/// `PATCH /api/v1/clients/{id}`: only the fields given change (`null` removes the back-channel
/// logout URI or the logo).
pub(super) async fn client_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<ClientPatch>,
) -> ApiResult {
    let changes = ClientChanges {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        backchannel_logout_uri: body.backchannel_logout_uri,
        logo_uri: body.logo_uri,
        first_party: body.first_party,
        scopes: body.scopes,
    };
    let client = state.core.oidc().update_client(&caller.admin, &id, changes).await?;
    Ok(Json(client.summary()).into_response())
}

/// `POST /api/v1/clients/{id}/secret`: a new secret, returned once.
pub(super) async fn client_rotate_secret(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let (client, secret) = state.core.oidc().rotate_client_secret(&caller.admin, &id).await?;
    Ok(Json(json!({ "client_id": client.id, "client_secret": secret.expose() })).into_response())
}

async fn switch(state: &AppState, caller: &Admin, id: String, enable: bool) -> ApiResult {
    let changed = state.core.oidc().set_client_enabled(&caller.0.admin, &id, enable).await?;
    Ok(Json(json!({ "client_id": id, "enabled": enable, "changed": changed })).into_response())
}

/// `POST /api/v1/clients/{id}/disable`: nobody signs in to it and its tokens are inactive.
pub(super) async fn client_disable(
    State(state): State<AppState>,
    caller: Admin,
    Path(id): Path<String>,
) -> ApiResult {
    switch(&state, &caller, id, false).await
}

/// `POST /api/v1/clients/{id}/enable`.
pub(super) async fn client_enable(
    State(state): State<AppState>,
    caller: Admin,
    Path(id): Path<String>,
) -> ApiResult {
    switch(&state, &caller, id, true).await
}

/// `DELETE /api/v1/clients/{id}`: the product and everything it holds; says what it ended.
pub(super) async fn client_delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let ended = state.core.oidc().delete_client(&caller.admin, &id).await?;
    Ok(Json(json!({ "client_id": id, "ended": ended })).into_response())
}

#[derive(Deserialize)]
pub(super) struct DeliveryQuery {
    #[serde(default = "default_limit")]
    limit: u32,
}

/// One queue as the API shows it: the newest deliveries (never a payload) and the counts by
/// status; `label`/`to` name the summary and recipient fields for that queue.
async fn queue_document(
    state: &AppState,
    caller: &Admin,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
    kind: latchkey_core::outbox::DeliveryKind,
    (label, to): (&str, &str),
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = query.limit.clamp(1, 1000);
    let (recent, counts) = state.core.accounts().deliveries(&caller.0.admin, kind, limit).await?;
    let items: Vec<Value> = recent
        .iter()
        .map(|d| {
            json!({
                label: d.summary,
                to: d.recipient,
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

/// `GET /api/v1/deliveries/backchannel-logout`.
pub(super) async fn deliveries(
    State(state): State<AppState>,
    caller: Admin,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let kind = latchkey_core::outbox::DeliveryKind::BackchannelLogout;
    queue_document(&state, &caller, query, kind, ("product", "endpoint")).await
}

/// `GET /api/v1/deliveries/mail`: the mail queue (subjects and recipients, never content).
pub(super) async fn mail_deliveries(
    State(state): State<AppState>,
    caller: Admin,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let kind = latchkey_core::outbox::DeliveryKind::Mail;
    queue_document(&state, &caller, query, kind, ("subject", "recipient")).await
}

/// `POST /api/v1/deliveries/{mail|backchannel-logout}/retry`: waiting deliveries become due now.
pub(super) async fn deliveries_retry(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(kind): Path<String>,
) -> ApiResult {
    let queue = match kind.as_str() {
        "mail" => latchkey_core::outbox::DeliveryKind::Mail,
        "backchannel-logout" => latchkey_core::outbox::DeliveryKind::BackchannelLogout,
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such queue")),
    };
    let n = state.core.accounts().retry_deliveries(&caller.admin, queue).await?;
    Ok(Json(json!({ "retried": n })).into_response())
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

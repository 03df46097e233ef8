//! `/api/v1`: the admin REST API (JSON), authenticated with admin tokens
//! (`latchkey admin-token create`). Every action of the site-admin console is here too, so
//! operators can script it. The `OpenAPI` document at `/api/v1/openapi.json` describes it; a
//! test checks that every documented operation is routed.

use std::sync::OnceLock;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::credentials::Password;
use latchkey_core::flows::{AdminCaller, CreateAccountError, CreateAccountRequest, SetStatusError};
use latchkey_core::oidc_provider::{
    Client, ClientKeys, GrantType, NewClientRequest, RegisterClientError,
};
use latchkey_protocol::jose::SigningAlg;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::AppState;
use latchkey_core::audit::AuditScope;
use latchkey_core::audit::{AuditQuery, ExportFormat};
use latchkey_core::orgs::{ManagedAccount, ManagedAction, ManagedActionError, OrgDomain, OrgError};

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
        .route("/api/v1/clients", get(clients_list).post(clients_create))
        .route("/api/v1/deliveries/backchannel-logout", get(deliveries))
        .route("/api/v1/keys/rotate", post(keys_rotate))
        .route("/api/v1/orgs", get(orgs_list).post(orgs_create))
        .route("/api/v1/orgs/{id}/admins", post(orgs_admin_add))
        .route("/api/v1/orgs/{id}/domains", get(orgs_domains).post(orgs_domain_add))
        .route("/api/v1/orgs/{id}/domains/{domain}/verify", post(orgs_domain_verify))
        .route("/api/v1/orgs/{id}/accounts", get(orgs_accounts))
        .route("/api/v1/orgs/{id}/accounts/{email}/{action}", post(orgs_account_action))
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

    fn unexpected(e: &dyn std::error::Error) -> Self {
        tracing::error!(error = %e, "admin API failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the request could not be completed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        let mut response = (self.status, body).into_response();
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
        match state.core.authenticate_admin_token(presented).await {
            Ok(Some(caller)) => Ok(Self(caller)),
            Ok(None) => Err(unauthorized("the admin token is not valid")),
            Err(e) => Err(ApiError::unexpected(&e)),
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

async fn users_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(page) = page.map_err(|e| ApiError::invalid(e.body_text()))?;
    if page.limit == 0 || page.limit > 1000 {
        return Err(ApiError::invalid("limit must be between 1 and 1000"));
    }
    let accounts = state
        .core
        .list_accounts(&caller.admin, page.limit, page.offset)
        .await
        .map_err(|e| ApiError::unexpected(&e))?;
    let mut users = Vec::with_capacity(accounts.len());
    for a in &accounts {
        users.push(state.core.account_summary(a).await.map_err(|e| ApiError::unexpected(&e))?);
    }
    Ok(Json(json!({ "users": users, "limit": page.limit, "offset": page.offset })).into_response())
}

/// An account as the API shows it (with the organization that manages it).
async fn summary(state: &AppState, account: &latchkey_core::accounts::Account) -> ApiResult {
    let summary =
        state.core.account_summary(account).await.map_err(|e| ApiError::unexpected(&e))?;
    Ok(Json(summary).into_response())
}

fn parse_email(raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| ApiError::invalid(format!("email: {e}")))
}

async fn users_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.find_account(&caller.admin, &email).await {
        Ok(Some(a)) => summary(&state, &a).await,
        Ok(None) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email"))
        }
        Err(e) => Err(ApiError::unexpected(&e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    name: Option<String>,
    password: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(default)]
    site_admin: bool,
}

async fn users_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewUser>,
) -> ApiResult {
    let email = parse_email(&body.email)?;
    let name = match &body.name {
        Some(n) => DisplayName::parse(n).map_err(|e| ApiError::invalid(format!("name: {e}")))?,
        None => DisplayName::from_email(&email),
    };
    let password = body
        .password
        .as_deref()
        .map(Password::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("password: {e}")))?;
    let request = CreateAccountRequest {
        email,
        name,
        password,
        email_verified: body.email_verified,
        site_admin: body.site_admin,
    };
    match state.core.create_account(&caller.admin, request).await {
        Ok(a) => summary(&state, &a).await.map(|mut r| {
            *r.status_mut() = StatusCode::CREATED;
            r
        }),
        Err(CreateAccountError::EmailTaken) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "an account with this email already exists",
        )),
        Err(CreateAccountError::Busy) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "password hashing is saturated; try again",
        )),
        Err(CreateAccountError::Unexpected(e)) => Err(ApiError::unexpected(&e)),
    }
}

async fn users_deactivate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.deactivate_account(&caller.admin, &email).await {
        Ok(a) => summary(&state, &a).await,
        Err(SetStatusError::NotFound) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email"))
        }
        Err(SetStatusError::Closed) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a closed account cannot be changed",
        )),
        Err(e) => Err(status_error(e)),
    }
}

fn status_error(e: SetStatusError) -> ApiError {
    match e {
        SetStatusError::NotFound => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email")
        }
        SetStatusError::Closed => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the account is closed (or already erased)",
        ),
        SetStatusError::Protected => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
        }
        SetStatusError::Unexpected(e) => ApiError::unexpected(&e),
    }
}

async fn users_close(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.close_account(&caller.admin, &email).await {
        Ok(a) => summary(&state, &a).await,
        Err(e) => Err(status_error(e)),
    }
}

async fn users_reactivate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.reactivate_account(&caller.admin, &email).await {
        Ok(a) => summary(&state, &a).await,
        Err(e) => Err(status_error(e)),
    }
}

async fn users_reset_two_factor(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.reset_two_factor(&caller.admin, &email).await {
        Ok(Some(a)) => summary(&state, &a).await,
        Ok(None) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email"))
        }
        Err(e) => Err(ApiError::unexpected(&e)),
    }
}

async fn clients_list(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let clients =
        state.core.list_clients(&caller.admin).await.map_err(|e| ApiError::unexpected(&e))?;
    let clients: Vec<_> = clients.iter().map(Client::summary).collect();
    Ok(Json(json!({ "clients": clients })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
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

fn yes() -> bool {
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

async fn clients_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewClient>,
) -> ApiResult {
    let request = body.into_request()?;
    match state.core.register_client(&caller.admin, request).await {
        Ok(registered) => {
            let mut doc = serde_json::to_value(registered.client.summary())
                .map_err(|e| ApiError::unexpected(&e))?;
            doc["client_secret"] = registered.secret.as_ref().map(|s| s.expose().to_owned()).into();
            Ok((StatusCode::CREATED, Json(doc)).into_response())
        }
        Err(RegisterClientError::Invalid(m)) => Err(ApiError::invalid(m)),
        Err(RegisterClientError::Unexpected(e)) => Err(ApiError::unexpected(&e)),
    }
}

#[derive(Deserialize)]
struct DeliveryQuery {
    #[serde(default = "default_limit")]
    limit: u32,
}

async fn deliveries(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = query.limit.clamp(1, 1000);
    let core = &state.core;
    let recent = core
        .recent_logout_deliveries(&caller.admin, limit)
        .await
        .map_err(|e| ApiError::unexpected(&e))?;
    let counts = core.logout_delivery_status().await.map_err(|e| ApiError::unexpected(&e))?;
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

fn org_error(e: OrgError) -> ApiError {
    match e {
        OrgError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
        OrgError::UnknownDomain(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
        }
        OrgError::UnknownAccount(_) | OrgError::BadName | OrgError::BadDomain(_) => {
            ApiError::invalid(e.to_string())
        }
        OrgError::Unexpected(u) => ApiError::unexpected(&u),
    }
}

async fn orgs_list(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let orgs =
        state.core.list_organizations(&caller.admin).await.map_err(|e| ApiError::unexpected(&e))?;
    let items: Vec<_> = orgs.iter().map(|o| json!({ "org_id": o.id, "name": o.name })).collect();
    Ok(Json(json!({ "organizations": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
    admin: String,
}

async fn orgs_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewOrg>,
) -> ApiResult {
    let admin = parse_email(&body.admin)?;
    let org = state
        .core
        .create_organization(&caller.admin, &body.name, &admin)
        .await
        .map_err(org_error)?;
    Ok((StatusCode::CREATED, Json(json!({ "org_id": org.id, "name": org.name }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: String,
}

async fn orgs_admin_add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<EmailBody>,
) -> ApiResult {
    let email = parse_email(&body.email)?;
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let added = state.core.add_org_admin(&admin, &email).await.map_err(org_error)?;
    Ok(Json(json!({ "org_id": id, "email": email.as_str(), "added": added })).into_response())
}

async fn orgs_domains(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let domains = state.core.list_domains(&admin).await.map_err(|e| ApiError::unexpected(&e))?;
    Ok(Json(json!({ "domains": domains.iter().map(OrgDomain::to_json).collect::<Vec<_>>() }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainBody {
    domain: String,
}

async fn orgs_domain_add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Body(body): Body<DomainBody>,
) -> ApiResult {
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let added = state.core.add_domain(&admin, &body.domain).await.map_err(org_error)?;
    Ok((StatusCode::CREATED, Json(added.to_json())).into_response())
}

async fn orgs_domain_verify(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, domain)): Path<(String, String)>,
) -> ApiResult {
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let check = state.core.verify_domain(&admin, &domain).await.map_err(org_error)?;
    let mut doc = check.domain.to_json();
    doc["detail"] = check.detail.into();
    Ok(Json(doc).into_response())
}

async fn orgs_accounts(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let accounts =
        state.core.managed_accounts(&admin, 1000).await.map_err(|e| ApiError::unexpected(&e))?;
    let items: Vec<Value> = accounts.iter().map(ManagedAccount::to_json).collect();
    Ok(Json(json!({ "accounts": items })).into_response())
}

/// The value some actions take: `{"name": …}` to rename, `{"email": …}` to change the email.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    name: Option<String>,
    email: Option<String>,
}

async fn orgs_account_action(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, email, action)): Path<(String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult {
    let admin = state.core.org_admin_as_site_admin(&caller.admin, &id).await.map_err(org_error)?;
    let email = parse_email(&email)?;
    // Most actions take no body; those that take a value take it as JSON.
    let body: ActionBody = if raw.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| ApiError::invalid(e.to_string()))?
    };
    let value = body.name.or(body.email).unwrap_or_default();
    let action = ManagedAction::parse(&action, &value).map_err(managed_error)?;
    let account =
        state.core.act_on_managed_account(&admin, &email, &action).await.map_err(managed_error)?;
    summary(&state, &account).await
}

fn managed_error(e: ManagedActionError) -> ApiError {
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
        ManagedActionError::Unexpected(u) => ApiError::unexpected(&u),
    }
}

async fn audit_query(
    state: &AppState,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(AuditQuery, latchkey_core::audit::AuditFilter), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let filter = state.core.audit_filter(&q).await.map_err(ApiError::invalid)?;
    Ok((q, filter))
}

/// One page of the audit log, oldest first; `next` continues after it.
async fn audit_page(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let (q, filter) = audit_query(&state, query).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .core
        .audit_events(&AuditScope::Site(caller.admin), &filter, limit)
        .await
        .map_err(|e| ApiError::unexpected(&e))?;
    let next = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.clone()));
    Ok(Json(json!({ "events": events, "next": next.flatten() })).into_response())
}

/// The whole (filtered) log as JSON Lines or CSV, streamed.
async fn audit_export(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let (q, filter) = audit_query(&state, query).await?;
    let format = ExportFormat::parse(q.format.as_deref()).map_err(ApiError::invalid)?;
    Ok(crate::audit_export::export(
        state.core.clone(),
        AuditScope::Site(caller.admin),
        filter,
        format,
    ))
}

async fn keys_rotate(State(state): State<AppState>, Admin(caller): Admin) -> ApiResult {
    let created = state
        .core
        .rotate_signing_keys(&caller.admin)
        .await
        .map_err(|e| ApiError::unexpected(&e))?;
    let keys: Vec<_> =
        created.iter().map(|(kid, alg)| json!({ "kid": kid, "alg": alg.as_str() })).collect();
    Ok(Json(json!({
        "keys": keys,
        "signing_from_secs": latchkey_core::oidc_provider::PUBLISH_AHEAD_SECS,
    }))
    .into_response())
}

//! `/api/v1/users`: accounts — list, show, create, deactivate, close, reactivate, reset two-step.

use crate::state::AppState;
use axum::Json;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use latchkey_core::accounts::DisplayName;
use latchkey_core::credentials::Password;
use latchkey_core::flows::CreateAccountError;
use latchkey_core::flows::CreateAccountRequest;
use latchkey_core::flows::SetStatusError;
use serde::Deserialize;
use serde_json::json;

use super::{Admin, ApiError, ApiResult, Body, Page, parse_email, summary};

pub(super) async fn users_list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(page) = page.map_err(|e| ApiError::invalid(e.body_text()))?;
    if page.limit == 0 || page.limit > 1000 {
        return Err(ApiError::invalid("limit must be between 1 and 1000"));
    }
    let accounts =
        state.core.accounts().list_accounts(&caller.admin, page.limit, page.offset).await?;
    let mut users = Vec::with_capacity(accounts.len());
    for a in &accounts {
        users.push(state.core.orgs().account_summary(a).await?);
    }
    Ok(Json(json!({ "users": users, "limit": page.limit, "offset": page.offset })).into_response())
}

pub(super) async fn users_show(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.accounts().find_account(&caller.admin, &email).await? {
        Some(a) => summary(&state, &a).await,
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewUser {
    email: String,
    name: Option<String>,
    password: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(default)]
    site_admin: bool,
    /// No password: the person is mailed a link to choose one.
    #[serde(default)]
    invite: bool,
}

pub(super) async fn users_create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(body): Body<NewUser>,
) -> ApiResult {
    let email = parse_email(&body.email)?;
    let name = match &body.name {
        Some(n) => DisplayName::parse(n).map_err(|e| ApiError::invalid(format!("name: {e}")))?,
        None => DisplayName::from_email(&email),
    };
    if body.invite {
        if body.password.is_some() || body.site_admin || body.email_verified {
            return Err(ApiError::invalid(
                "invite: the person chooses the password and verifies the address; leave out password, email_verified and site_admin",
            ));
        }
        let inviter = "An administrator";
        let a = state.core.accounts().invite_account(&caller.admin, email, name, inviter).await?;
        return summary(&state, &a).await.map(|mut r| {
            *r.status_mut() = StatusCode::CREATED;
            r
        });
    }
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
    let a = state.core.accounts().create_account(&caller.admin, request).await?;
    summary(&state, &a).await.map(|mut r| {
        *r.status_mut() = StatusCode::CREATED;
        r
    })
}

/// `POST /api/v1/users/{email}/reset-password`: mails the person a reset link.
pub(super) async fn users_reset_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.accounts().send_password_reset_as_site_admin(&caller.admin, &email).await {
        Ok(_) => Ok(StatusCode::ACCEPTED.into_response()),
        Err(latchkey_core::flows::SetStatusError::NotFound) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email"))
        }
        Err(
            e @ (latchkey_core::flows::SetStatusError::Bot
            | latchkey_core::flows::SetStatusError::Closed),
        ) => Err(ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())),
        Err(e) => Err(ApiError::unexpected(&e)),
    }
}

impl From<CreateAccountError> for ApiError {
    fn from(e: CreateAccountError) -> Self {
        match e {
            CreateAccountError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "an account with this email already exists",
            ),
            CreateAccountError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "password hashing is saturated; try again",
            ),
            CreateAccountError::Rule(r) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", r.to_string())
            }
            CreateAccountError::Unexpected(u) => u.into(),
        }
    }
}

pub(super) async fn users_deactivate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.accounts().deactivate_account(&caller.admin, &email).await {
        Ok(a) => summary(&state, &a).await,
        Err(SetStatusError::NotFound) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email"))
        }
        Err(SetStatusError::Closed) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a closed account cannot be changed",
        )),
        Err(e) => Err(e.into()),
    }
}

impl From<SetStatusError> for ApiError {
    fn from(e: SetStatusError) -> Self {
        match e {
            SetStatusError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email")
            }
            SetStatusError::Closed => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the account is closed (or already erased)",
            ),
            SetStatusError::Protected
            | SetStatusError::OwnAccount
            | SetStatusError::LastSiteAdmin
            | SetStatusError::Bot => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            SetStatusError::Unexpected(u) => u.into(),
        }
    }
}

pub(super) async fn users_close(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let a = state.core.accounts().close_account(&caller.admin, &email).await?;
    summary(&state, &a).await
}

pub(super) async fn users_reactivate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let a = state.core.accounts().reactivate_account(&caller.admin, &email).await?;
    summary(&state, &a).await
}

pub(super) async fn users_reset_two_factor(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    match state.core.second_factor().reset_two_factor(&caller.admin, &email).await? {
        Some(a) => summary(&state, &a).await,
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no account has this email")),
    }
}

/// `GET /api/v1/users/{email}/sessions`: where the person is signed in.
pub(super) async fn users_sessions(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let sessions = state.core.accounts().account_sessions(&caller.admin, &email).await?;
    let items: Vec<_> = sessions.iter().map(latchkey_core::sessions::Session::describe).collect();
    Ok(Json(json!({ "sessions": items })).into_response())
}

/// `DELETE /api/v1/users/{email}/sessions/{id}`: ends that session (and its products').
pub(super) async fn users_session_end(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((email, id)): Path<(String, String)>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such session");
    let session = latchkey_core::sessions::SessionId::parse(&id).ok_or_else(not_found)?;
    if state.core.accounts().end_account_session(&caller.admin, &email, &session).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SiteAdminBody {
    site_admin: bool,
}

/// `PUT /api/v1/users/{email}/site-admin` `{"site_admin": true|false}`.
pub(super) async fn users_site_admin(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
    Body(body): Body<SiteAdminBody>,
) -> ApiResult {
    let email = parse_email(&email)?;
    let a = state.core.accounts().set_site_admin(&caller.admin, &email, body.site_admin).await?;
    summary(&state, &a).await
}

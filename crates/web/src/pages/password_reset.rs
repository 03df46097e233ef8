//! `/forgot-password` (request a link; same answer for every address) and `/reset-password`
//! (the emailed link: choose a new password).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::credentials::Password;
use serde::Deserialize;

use crate::error::{Failure, PageError, render};
use crate::extract::{Client, CsrfForm, CsrfToken, PageQuery};
use crate::pages::email_request::{EmailForm, EmailRequest};
use crate::state::AppState;

pub async fn forgot_show(csrf: CsrfToken) -> Response {
    EmailRequest::ResetPassword.show(csrf.0)
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    Client(client): Client,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Response {
    EmailRequest::ResetPassword.submit(&state, &client.ip, csrf.0, form).await
}

#[derive(Template, Default)]
#[template(path = "reset_password.html")]
struct ResetPage {
    csrf: String,
    token: String,
    valid: bool,
    form_error: Option<String>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    token: String,
    password: String,
    password_confirm: String,
}

pub async fn reset_show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    let valid = state.core.accounts().reset_link_is_valid(&q.token).await?;
    let page = ResetPage {
        csrf: csrf.0,
        token: if valid { q.token } else { String::new() },
        valid,
        ..ResetPage::default()
    };
    let status = if valid { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, render(&page)).into_response())
}

pub async fn reset_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Response {
    let mut page = ResetPage {
        csrf: csrf.0,
        token: form.token.chars().take(64).collect(),
        valid: true,
        ..ResetPage::default()
    };
    let password = match Password::parse(&form.password) {
        Ok(p) => p,
        Err(e) => {
            page.password_error = Some(e.to_string());
            return (StatusCode::BAD_REQUEST, render(&page)).into_response();
        }
    };
    if form.password != form.password_confirm {
        page.confirm_error = Some("The two passwords do not match.".to_owned());
        return (StatusCode::BAD_REQUEST, render(&page)).into_response();
    }
    match state.core.accounts().complete_password_reset(&form.token, &password).await {
        Ok(()) => Redirect::to("/login?notice=password_reset").into_response(),
        Err(e @ latchkey_core::flows::CompleteResetError::Rule(_)) => {
            page.password_error = Some(e.to_string());
            (StatusCode::BAD_REQUEST, render(&page)).into_response()
        }
        Err(e) => {
            let failure = Failure::from(e);
            page.valid = failure.status != StatusCode::BAD_REQUEST;
            page.form_error = Some(failure.message.clone());
            failure.apply(render(&page))
        }
    }
}

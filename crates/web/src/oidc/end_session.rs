//! `/oauth/logout` (RP-Initiated Logout 1.0): a product asks Latchkey to end the shared
//! session. With an `id_token_hint` for the current session it happens at once; otherwise the
//! person confirms (a CSRF-protected form), so a stray link cannot log anyone out.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::oidc_provider::EndSessionPlan;
use serde::Deserialize;

use crate::error::{PageError, leads_to_products, message_page, render};
use crate::extract::{
    CookieNames, CsrfForm, CsrfToken, MaybeSignedIn, SignedIn, session_cookie_removal,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct EndSessionParams {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

#[derive(Template)]
#[template(path = "end_session.html")]
struct ConfirmPage {
    csrf: String,
    id_token_hint: String,
    client_id: String,
    post_logout_redirect_uri: String,
    state: String,
}

async fn plan(state: &AppState, p: &EndSessionParams) -> Result<EndSessionPlan, Response> {
    state
        .core
        .oidc()
        .plan_end_session(
            p.id_token_hint.as_deref(),
            p.client_id.as_deref(),
            p.post_logout_redirect_uri.as_deref(),
            p.state.as_deref(),
        )
        .await
        .map_err(|m| message_page(StatusCode::BAD_REQUEST, "This logout link is not valid", &m))
}

fn finish(plan: &EndSessionPlan, jar: CookieJar, state: &AppState) -> Response {
    let names = CookieNames::new(state.settings.secure_cookies());
    let target = plan.redirect.as_deref().unwrap_or("/logout");
    (jar.add(session_cookie_removal(names)), Redirect::to(target)).into_response()
}

async fn end_session(
    state: AppState,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    params: EndSessionParams,
) -> Result<Response, PageError> {
    let plan = match plan(&state, &params).await {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let Some(me) = signed_in else {
        return Ok(finish(&plan, jar, &state));
    };
    if plan.hinted_session.as_deref() == Some(me.session().id.as_str()) {
        state.core.sessions().end_session(&me.account().id, &me.session().id).await?;
        return Ok(finish(&plan, jar, &state));
    }
    Ok(leads_to_products(render(&ConfirmPage {
        csrf: csrf.0,
        id_token_hint: params.id_token_hint.unwrap_or_default(),
        client_id: params.client_id.unwrap_or_default(),
        post_logout_redirect_uri: params.post_logout_redirect_uri.unwrap_or_default(),
        state: params.state.unwrap_or_default(),
    })))
}

pub async fn end_session_get(
    State(state): State<AppState>,
    signed_in: MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = serde_urlencoded::from_str(&query.unwrap_or_default()).unwrap_or_default();
    end_session(state, signed_in, jar, csrf, params).await
}

pub async fn end_session_post(
    State(state): State<AppState>,
    signed_in: MaybeSignedIn,
    jar: CookieJar,
    csrf: CsrfToken,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    end_session(state, signed_in, jar, csrf, params).await
}

/// The person confirmed on the page above.
pub async fn end_session_confirm(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    CsrfForm(params): CsrfForm<EndSessionParams>,
) -> Result<Response, PageError> {
    let params = EndSessionParams {
        id_token_hint: params.id_token_hint.filter(|s| !s.is_empty()),
        client_id: params.client_id.filter(|s| !s.is_empty()),
        post_logout_redirect_uri: params.post_logout_redirect_uri.filter(|s| !s.is_empty()),
        state: params.state.filter(|s| !s.is_empty()),
    };
    let plan = match plan(&state, &params).await {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    state.core.sessions().end_session(&me.account().id, &me.session().id).await?;
    Ok(finish(&plan, jar, &state))
}

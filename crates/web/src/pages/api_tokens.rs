//! API tokens on `/account/security`: the list, the form that creates one (the token is shown
//! once, on the answer to that POST, and never again), and revocation after a confirmation.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::api_tokens::{ApiTokenError, TokenRequest, TokenState, TokenView};

use crate::error::{Failure, PageError, render};
use crate::extract::{CsrfForm, CsrfToken, SignedIn};
use crate::pages::login::NoFields;
use crate::pages::{format_time, sign_in_again};
use crate::state::AppState;

const HERE: &str = "/account/security";

/// One token as the security page and the consoles list it.
pub(crate) struct TokenRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub products: String,
    pub state: &'static str,
    pub active: bool,
}

pub(crate) fn rows(views: &[TokenView]) -> Vec<TokenRow> {
    views
        .iter()
        .map(|v| {
            let t = &v.token;
            TokenRow {
                id: t.id.clone(),
                name: t.name.clone(),
                owner: v.owner.clone(),
                created: format_time(t.created_at.unix()).0,
                last_used: match (&t.last_used_at, &t.last_used_ip) {
                    (Some(at), Some(ip)) => format!("{} from {ip}", format_time(at.unix()).0),
                    (Some(at), None) => format_time(at.unix()).0,
                    _ => "never".to_owned(),
                },
                expires: format_time(v.expires_at.unix()).0,
                products: if v.products.is_empty() {
                    "Every product".to_owned()
                } else {
                    v.products.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(", ")
                },
                state: v.state.as_str(),
                active: v.state == TokenState::Active,
            }
        })
        .collect()
}

/// The security page's token section.
pub(crate) struct TokenSection {
    pub tokens: Vec<TokenRow>,
    /// Every product, as (client id, name), for the restriction checkboxes.
    pub products: Vec<(String, String)>,
    pub can_create: bool,
}

pub(crate) async fn section(state: &AppState, me: &SignedIn) -> Result<TokenSection, PageError> {
    let tokens = state.core.api_tokens().list_own(me).await?;
    Ok(TokenSection {
        tokens: rows(&tokens),
        products: state.core.api_tokens().products().await?,
        can_create: me.account().email_verified(),
    })
}

#[derive(Template)]
#[template(path = "api_token_created.html")]
struct CreatedPage {
    token: String,
    name: String,
    username: String,
    expires: String,
    products: String,
}

/// "Are you sure?" before something that cannot be undone (revoking a token).
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub csrf: String,
    pub heading: String,
    pub message: String,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
    /// Hidden fields the action needs (which account, …).
    pub fields: Vec<(&'static str, String)>,
}

pub(crate) fn failure(e: &ApiTokenError) -> Failure {
    let status = match e {
        ApiTokenError::BadName
        | ApiTokenError::BadLifetime(_)
        | ApiTokenError::UnknownProduct(_)
        | ApiTokenError::NotABot => StatusCode::BAD_REQUEST,
        ApiTokenError::NotFound
        | ApiTokenError::UnknownAccount
        | ApiTokenError::NotManaged
        | ApiTokenError::UnknownOrg(_) => StatusCode::NOT_FOUND,
        ApiTokenError::Unexpected(u) if latchkey_core::errors::is_unavailable(u) => {
            tracing::warn!(error = %u, "storage unavailable");
            return Failure {
                retry_after: Some(1),
                ..Failure::new(StatusCode::SERVICE_UNAVAILABLE, crate::error::UNAVAILABLE)
            };
        }
        ApiTokenError::Unexpected(u) => {
            tracing::error!(error = %u, "API token action failed");
            return Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Try again in a moment.",
            );
        }
        _ => StatusCode::FORBIDDEN,
    };
    Failure::new(status, e.to_string())
}

/// The create form's fields: `name`, `expires_days` and any number of `product` checkboxes.
pub(crate) fn token_request(fields: &[(String, String)]) -> Result<TokenRequest, Failure> {
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.trim());
    let expires_days = match get("expires_days").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            Failure::new(StatusCode::BAD_REQUEST, "Expiry: enter a whole number of days.")
        })?),
    };
    let products: Vec<String> =
        fields.iter().filter(|(f, _)| f == "product").map(|(_, v)| v.clone()).collect();
    if products.len() > 100 {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "Choose at most 100 products."));
    }
    Ok(TokenRequest { name: get("name").unwrap_or_default().to_owned(), expires_days, products })
}

/// The flash purpose of a new token, shown once at `/api-tokens/created`.
const TOKEN_CREATED: &str = "api_token_created";

/// POST/redirect/GET: the new token goes, sealed, to the page that shows it once.
pub(crate) fn created_redirect(
    state: &AppState,
    jar: CookieJar,
    view: &TokenView,
    token: &str,
) -> Response {
    let value = serde_json::json!({
        "token": token,
        "name": view.token.name,
        "username": view.owner,
        "expires": format_time(view.expires_at.unix()).0,
        "products": rows(std::slice::from_ref(view)).pop().map(|r| r.products).unwrap_or_default(),
    });
    crate::flash::redirect_with(state, jar, TOKEN_CREATED, value, "/api-tokens/created")
}

/// `/api-tokens/created`: the token, once; a reload goes back to the security page.
pub async fn created_show(
    State(state): State<AppState>,
    _me: SignedIn,
    jar: CookieJar,
) -> Response {
    let (jar, value) = crate::flash::take(&state, jar, TOKEN_CREATED);
    let Some(v) = value else { return Redirect::to(HERE).into_response() };
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let page = render(&CreatedPage {
        token: text("token"),
        name: text("name"),
        username: text("username"),
        expires: text("expires"),
        products: text("products"),
    });
    (jar, crate::flash::no_store(page)).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let request = match token_request(&fields) {
        Ok(r) => r,
        Err(f) => return crate::error::failure_page(&f, "API token not created"),
    };
    match state.core.api_tokens().create_own(&me, &request).await {
        Ok((view, token)) => created_redirect(&state, jar, &view, &token),
        Err(ApiTokenError::SignInAgain) => Redirect::to(&sign_in_again(HERE)).into_response(),
        Err(e) => crate::error::failure_page(&failure(&e), "API token not created"),
    }
}

pub async fn confirm_revoke(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let tokens = state.core.api_tokens().list_own(&me).await?;
    let Some(token) = tokens.iter().find(|t| t.token.id == id && t.state == TokenState::Active)
    else {
        return Ok(crate::error::failure_page(
            &Failure::new(StatusCode::NOT_FOUND, "No such active API token."),
            "API token",
        ));
    };
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Revoke \u{201c}{}\u{201d}?", token.token.name),
        message: "Scripts and bots using this token stop working at once, in every product. This cannot be undone; you can create a new token afterwards.".to_owned(),
        action: format!("/account/security/api-tokens/{}/revoke", token.token.id),
        button: "Revoke token",
        cancel: HERE.to_owned(), fields: vec![] }))
}

pub async fn revoke(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    match state.core.api_tokens().revoke_own(&me, &id).await {
        Ok(()) => Redirect::to("/account/security?notice=token_revoked#tokens-h").into_response(),
        Err(e) => crate::error::failure_page(&failure(&e), "API token not revoked"),
    }
}

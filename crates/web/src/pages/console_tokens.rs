//! Bots and API tokens in the consoles: an organization's (`/admin/org/{id}/api-tokens`: the
//! tokens of the accounts it manages and of its bots) and the site's (`/admin/bots`: every
//! bot). Tokens are shown once, on the answer to the POST that creates them; revoking asks for
//! a confirmation first.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::{Account, Email};
use latchkey_core::api_tokens::{ApiTokenError, BotOwner, TokenState, TokenView};
use serde::Deserialize;

use crate::error::{Failure, PageError, failure_page, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, OrgConsole, PageQuery};
use crate::pages::api_tokens::{
    ConfirmPage, TokenRow, created_redirect, failure, rows, token_request,
};
use crate::pages::format_time;
use crate::state::AppState;

struct BotRow {
    name: String,
    username: String,
    org: String,
    created: String,
    active: bool,
}

fn bot_rows(bots: &[Account]) -> Vec<BotRow> {
    bots.iter()
        .map(|b| BotRow {
            name: b.name.as_str().to_owned(),
            username: b.email.as_str().to_owned(),
            org: b.bot_org_id.clone().unwrap_or_default(),
            created: format_time(b.created_at.unix()).0,
            active: b.is_active(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console_tokens.html")]
struct ConsoleTokensPage {
    csrf: String,
    heading: String,
    /// `/admin/org/{id}` or `/admin`.
    base: String,
    back: String,
    org: bool,
    section: &'static str,
    notice: Option<&'static str>,
    bots: Vec<BotRow>,
    tokens: Vec<TokenRow>,
    products: Vec<(String, String)>,
    /// Organizations a site admin may give a bot to, as (id, name).
    orgs: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice(q: &NoticeQuery) -> Option<&'static str> {
    match q.notice.as_deref()? {
        "bot_created" => Some("The bot was created. Give it an API token below."),
        "token_revoked" => Some("The API token was revoked. It no longer works anywhere."),
        _ => None,
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

fn email_field(fields: &[(String, String)]) -> Result<Email, Failure> {
    Email::parse(field(fields, "email"))
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, format!("Username: {e}")))
}

pub async fn org_show(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let bots = state.core.api_tokens().list_org_bots(&admin).await?;
    let tokens = state.core.orgs().org_api_tokens(&admin).await?;
    let base = format!("/admin/org/{}", admin.org().id);
    Ok(render(&ConsoleTokensPage {
        csrf: csrf.0,
        heading: format!("{} · Bots and API tokens", admin.org().name),
        back: base.clone(),
        base,
        org: true,
        section: "bots",
        notice: notice(&q),
        bots: bot_rows(&bots),
        tokens: rows(&tokens),
        products: state.core.api_tokens().products().await?,
        orgs: Vec::new(),
    }))
}

pub async fn site_show(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let admin = console.admin();
    let bots = state.core.api_tokens().list_bots_as_site_admin(admin).await?;
    let tokens = state.core.api_tokens().bot_tokens_as_site_admin(admin).await?;
    let orgs = state.core.orgs().list_organizations(admin).await?;
    Ok(render(&ConsoleTokensPage {
        csrf: csrf.0,
        heading: "Bots and API tokens".to_owned(),
        base: "/admin".to_owned(),
        back: "/admin".to_owned(),
        org: false,
        section: "bots",
        notice: notice(&q),
        bots: bot_rows(&bots),
        tokens: rows(&tokens),
        products: state.core.api_tokens().products().await?,
        orgs: orgs.into_iter().map(|o| (o.id, o.name)).collect(),
    }))
}

pub async fn org_bot_create(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    match state.core.orgs().create_bot(&admin, field(&fields, "name")).await {
        Ok(_) => {
            Redirect::to(&format!("/admin/org/{}/api-tokens?notice=bot_created", admin.org().id))
                .into_response()
        }
        Err(e) => failure_page(&failure(&e), "Bot not created"),
    }
}

pub async fn site_bot_create(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let org = Some(field(&fields, "org")).filter(|o| !o.is_empty());
    let owner = BotOwner::Site(console.admin(), org);
    match state.core.api_tokens().create_bot(owner, field(&fields, "name")).await {
        Ok(_) => Redirect::to("/admin/bots?notice=bot_created").into_response(),
        Err(e) => failure_page(&failure(&e), "Bot not created"),
    }
}

fn created(
    state: &AppState,
    jar: CookieJar,
    result: Result<(TokenView, String), ApiTokenError>,
) -> Response {
    match result {
        Ok((view, token)) => created_redirect(state, jar, &view, &token),
        Err(e) => failure_page(&failure(&e), "API token not created"),
    }
}

pub async fn org_token_create(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    jar: CookieJar,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let (email, request) = match (email_field(&fields), token_request(&fields)) {
        (Ok(e), Ok(r)) => (e, r),
        (Err(f), _) | (_, Err(f)) => return failure_page(&f, "API token not created"),
    };
    created(&state, jar, state.core.orgs().create_api_token(&admin, &email, &request).await)
}

pub async fn site_token_create(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    jar: CookieJar,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let (email, request) = match (email_field(&fields), token_request(&fields)) {
        (Ok(e), Ok(r)) => (e, r),
        (Err(f), _) | (_, Err(f)) => return failure_page(&f, "API token not created"),
    };
    let tokens = state.core.api_tokens();
    created(
        &state,
        jar,
        tokens.create_for_bot_as_site_admin(console.admin(), &email, &request).await,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RevokeQuery {
    email: String,
    token: String,
}

fn confirm(tokens: &[TokenView], q: &RevokeQuery, csrf: String, base: &str) -> Response {
    let Some(t) = tokens.iter().find(|t| {
        t.token.id == q.token
            && t.owner.eq_ignore_ascii_case(&q.email)
            && t.state == TokenState::Active
    }) else {
        return failure_page(
            &Failure::new(StatusCode::NOT_FOUND, "No such active API token."),
            "API token",
        );
    };
    let action = format!(
        "{base}/api-tokens/revoke?email={}&token={}",
        url::form_urlencoded::byte_serialize(t.owner.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(t.token.id.as_bytes()).collect::<String>(),
    );
    render(&ConfirmPage {
        csrf,
        heading: format!("Revoke \u{201c}{}\u{201d} of {}?", t.token.name, t.owner),
        message: "Whatever uses this token stops working at once, in every product. This cannot be undone.".to_owned(),
        action,
        button: "Revoke token",
        cancel: format!("{}/{}", base, if base == "/admin" { "bots" } else { "api-tokens" }), fields: vec![] })
}

pub async fn org_confirm_revoke(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<RevokeQuery>,
) -> Result<Response, PageError> {
    let tokens = state.core.orgs().org_api_tokens(&admin).await?;
    Ok(confirm(&tokens, &q, csrf.0, &format!("/admin/org/{}", admin.org().id)))
}

pub async fn site_confirm_revoke(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<RevokeQuery>,
) -> Result<Response, PageError> {
    let tokens = state.core.api_tokens().bot_tokens_as_site_admin(console.admin()).await?;
    Ok(confirm(&tokens, &q, csrf.0, "/admin"))
}

fn revoked(result: Result<(), ApiTokenError>, to: &str) -> Response {
    match result {
        Ok(()) => Redirect::to(to).into_response(),
        Err(e) => failure_page(&failure(&e), "API token not revoked"),
    }
}

pub async fn org_revoke(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    PageQuery(q): PageQuery<RevokeQuery>,
    CsrfForm(_): CsrfForm<crate::pages::login::NoFields>,
) -> Response {
    let Ok(email) = Email::parse(&q.email) else {
        return failure_page(
            &Failure::new(StatusCode::NOT_FOUND, "No such API token."),
            "API token",
        );
    };
    let to = format!("/admin/org/{}/api-tokens?notice=token_revoked", admin.org().id);
    revoked(state.core.orgs().revoke_api_token(&admin, &email, &q.token).await, &to)
}

pub async fn site_revoke(
    State(state): State<AppState>,
    console: ConsoleAdmin,
    PageQuery(q): PageQuery<RevokeQuery>,
    CsrfForm(_): CsrfForm<crate::pages::login::NoFields>,
) -> Response {
    let Ok(email) = Email::parse(&q.email) else {
        return failure_page(
            &Failure::new(StatusCode::NOT_FOUND, "No such API token."),
            "API token",
        );
    };
    let result =
        state.core.api_tokens().revoke_as_site_admin(console.admin(), &email, &q.token).await;
    revoked(result, "/admin/bots?notice=token_revoked")
}

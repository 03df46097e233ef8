//! `/account/services`: the products the person uses, how each signs in, and which of its
//! legacy accounts is theirs; "change account" mails a link to the address of the legacy
//! account wanted, and the change happens when the asking account uses it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::accounts::Email;
use latchkey_core::legacy::{LinkChange, LinkChangeError, Rollout};
use serde::Deserialize;

use crate::error::{PageError, message_page, render, unexpected_page};
use crate::extract::{CsrfForm, CsrfToken, PageQuery, SignedIn};
use crate::pages::sign_in_again;
use crate::state::AppState;

const HERE: &str = "/account/services";

struct Row {
    client_id: String,
    name: String,
    sign_in: String,
    linked: Option<(String, String)>,
    can_change: bool,
}

/// A third-party product the person allowed, with what it can see in words.
struct AllowedRow {
    client_id: String,
    name: String,
    logo: Option<String>,
    scopes: Vec<String>,
    granted: String,
    granted_iso: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    section: &'static str,
    csrf: String,
    site_admin: bool,
    rows: Vec<Row>,
    allowed: Vec<AllowedRow>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "sent" => Some(
            "If that address has an account in the product, we sent it a link. Open it while signed in here to finish the change.",
        ),
        "changed" => Some("Done: the product now sees the account you chose."),
        "access_revoked" => Some("That product no longer has access to your account."),
        _ => None,
    }
}

fn sign_in_words(rollout: Option<Rollout>) -> String {
    let brand = crate::brand::name();
    match rollout {
        None | Some(Rollout::Upgraded) => format!("With {brand}"),
        Some(Rollout::Upgrading) => format!("With {brand} (moving over)"),
        Some(Rollout::Legacy) => "Still with its own sign-in".to_owned(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let rows = state
        .core
        .legacy()
        .services(&me)
        .await?
        .into_iter()
        .map(|s| Row {
            sign_in: sign_in_words(s.rollout),
            can_change: s.rollout.is_some(),
            client_id: s.client_id,
            name: s.name,
            linked: s.linked,
        })
        .collect();
    let allowed = state
        .core
        .oidc()
        .allowed_products(&me.account().id)
        .await?
        .into_iter()
        .map(|p| {
            let (granted, granted_iso) = crate::pages::format_time(p.granted_at.unix());
            AllowedRow {
                client_id: p.client_id,
                name: p.name,
                logo: p.logo_uri,
                scopes: p
                    .scopes
                    .iter()
                    .map(|s| {
                        crate::oidc::authorize::describe_scope(s)
                            .map_or_else(|| format!("Use \u{201c}{s}\u{201d}"), str::to_owned)
                    })
                    .collect(),
                granted,
                granted_iso,
            }
        })
        .collect();
    Ok(render(&ServicesPage {
        section: "products",
        csrf: csrf.0,
        site_admin: me.account().site_admin,
        rows,
        allowed,
        notice: notice(q.notice.as_deref()),
    }))
}

#[derive(Template)]
#[template(path = "service_change.html")]
struct ChangePage {
    csrf: String,
    client_id: String,
    product: String,
    email: String,
}

pub async fn change_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let services = state.core.legacy().services(&me).await?;
    let Some(service) = services.into_iter().find(|s| s.client_id == client_id) else {
        return Ok(refused(&LinkChangeError::UnknownProduct));
    };
    if service.rollout.is_none() {
        return Ok(refused(&LinkChangeError::NoLegacyAccounts(service.name)));
    }
    Ok(render(&ChangePage {
        csrf: csrf.0,
        client_id: service.client_id,
        product: service.name,
        email: me.account().email.as_str().to_owned(),
    }))
}

fn refused(e: &LinkChangeError) -> Response {
    let status = match e {
        LinkChangeError::UnknownProduct => StatusCode::NOT_FOUND,
        LinkChangeError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        LinkChangeError::OtherAccount | LinkChangeError::NotVerified => StatusCode::FORBIDDEN,
        LinkChangeError::Unexpected(u) => return unexpected_page(u),
        _ => StatusCode::BAD_REQUEST,
    };
    message_page(status, "The account was not changed", &e.to_string())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangeForm {
    email: String,
}

pub async fn change_submit(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Response {
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => {
            return message_page(StatusCode::BAD_REQUEST, "Not an email address", &e.to_string());
        }
    };
    match state.core.legacy().request_link_change(&me, &client_id, &email).await {
        Ok(()) => Redirect::to("/account/services?notice=sent").into_response(),
        Err(LinkChangeError::SignInAgain) => {
            Redirect::to(&sign_in_again(&format!("{HERE}/{client_id}/change"))).into_response()
        }
        Err(e) => refused(&e),
    }
}

#[derive(Template)]
#[template(path = "service_confirm.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
    change: LinkChange,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

/// The mailed link opens a page with the choice and a button (a POST): mail scanners that
/// follow links change nothing. Signed out, the person signs in first and comes back here.
pub async fn confirm_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<TokenQuery>,
) -> Response {
    match state.core.legacy().link_change(&me, &q.token).await {
        Ok(change) => render(&ConfirmPage { csrf: csrf.0, token: q.token, change }),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    token: String,
    legacy_id: String,
}

pub async fn confirm_submit(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Response {
    match state.core.legacy().confirm_link_change(&me, &form.token, &form.legacy_id).await {
        Ok(_) => Redirect::to("/account/services?notice=changed").into_response(),
        Err(e) => refused(&e),
    }
}

//! `/admin`: the site-admin console (accounts, products, back-channel logout deliveries).
//! Only signed-in site admins reach it; anyone else signed in gets a plain 403. Every action
//! here is also in the CLI and the admin API.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::{
    AccountSearch, AccountStatus, AccountSummary, Email, ListPosition, PageAt,
};
use latchkey_core::flows::SetStatusError;
use latchkey_core::oidc_provider::{
    ClientSummary, GrantType, NewClientRequest, RegisterClientError,
};
use latchkey_core::outbox::DeliveryKind;
use latchkey_protocol::jose::SigningAlg;
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::ConsoleAdmin;
use crate::extract::{CsrfForm, CsrfToken, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::audit::AuditView;
use crate::pages::format_time;
use crate::state::AppState;
use latchkey_core::audit::AuditQuery;
use latchkey_core::audit::AuditScope;

const PAGE_SIZE: u32 = 100;

#[derive(Template)]
#[template(path = "admin_overview.html")]
struct OverviewPage {
    section: &'static str,
    csrf: String,
    notice: Option<&'static str>,
    orgs: Vec<(String, String)>,
    form_error: Option<String>,
    accounts: usize,
    account_limit: u32,
    products: usize,
    deliveries: Vec<(String, u64)>,
}

async fn overview_page(
    state: &AppState,
    me: &ConsoleAdmin,
    csrf: String,
) -> Result<OverviewPage, PageError> {
    let core = &state.core;
    let counts = async {
        let accounts = core.accounts().list_accounts(&me.admin, 1000, 0).await?.len();
        let products = core.oidc().list_clients(&me.admin).await?.len();
        let deliveries = core.oidc().logout_delivery_status().await?;
        let orgs = core.orgs().list_organizations(&me.admin).await?;
        Ok::<_, latchkey_core::ports::RepoError>((accounts, products, deliveries, orgs))
    };
    let (accounts, products, deliveries, orgs) = counts.await?;
    Ok(OverviewPage {
        section: "overview",
        csrf,
        notice: None,
        orgs: orgs.into_iter().map(|o| (o.id, o.name)).collect(),
        form_error: None,
        accounts,
        account_limit: 1000,
        products,
        deliveries,
    })
}

pub async fn overview(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ProductsQuery>,
) -> Result<Response, PageError> {
    let mut page = overview_page(&state, &me, csrf.0).await?;
    if q.notice.as_deref() == Some("org_deleted") {
        page.notice = Some(
            "The organization is deleted; its bots are deactivated and its accounts are no longer managed.",
        );
    }
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OrgForm {
    name: String,
    admin: String,
}

/// Creates an organization with its first admin (an existing account).
pub async fn org_create(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<OrgForm>,
) -> Result<Response, PageError> {
    let outcome = match Email::parse(&form.admin) {
        Ok(admin) => state.core.orgs().create_organization(&me.admin, &form.name, &admin).await,
        Err(e) => Err(latchkey_core::orgs::OrgError::UnknownAccount(e.to_string())),
    };
    match outcome {
        Ok(org) => Ok(Redirect::to(&format!("/admin/org/{}", org.id)).into_response()),
        Err(latchkey_core::orgs::OrgError::Unexpected(e)) => Err(e.into()),
        Err(e) => {
            let mut p = overview_page(&state, &me, csrf.0).await?;
            p.form_error = Some(e.to_string());
            Ok((StatusCode::BAD_REQUEST, render(&p)).into_response())
        }
    }
}

struct RequestRow {
    email: String,
    requested: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    section: &'static str,
    csrf: String,
    notice: Option<&'static str>,
    requests: Vec<RequestRow>,
    users: Vec<AccountSummary>,
    /// The search as given, for the form and the paging links.
    q: String,
    status: String,
    two_step: String,
    org: String,
    /// (id, name) of every organization, for the filter.
    orgs: Vec<(String, String)>,
    /// `/admin/users?…` of the previous and next pages.
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
    /// `active`, `deactivated`, `closed`, or empty for any.
    status: String,
    /// `on`, `off`, or empty for any.
    two_step: String,
    /// An organization's id, or empty for any.
    org: String,
    after: Option<String>,
    before: Option<String>,
    notice: Option<String>,
}

fn users_link(filters: &[(&str, &str)], key: &str, position: &ListPosition) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters {
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    query.append_pair(key, &position.to_param());
    format!("/admin/users?{}", query.finish())
}

pub async fn users(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<UsersQuery>,
) -> Result<Response, PageError> {
    let requests = state
        .core
        .accounts()
        .site_closure_requests(&me.admin)
        .await?
        .into_iter()
        .map(|r| RequestRow {
            email: r.account.email.to_string(),
            requested: format_time(r.requested_at.unix()).0,
            reason: r.reason,
        })
        .collect();
    let text: String = q.q.trim().chars().take(254).collect();
    // With a search text the list is in matched-text order, and its links carry that position.
    let matched = !text.is_empty();
    let page = match (q.after.as_deref(), q.before.as_deref()) {
        (None, None) => Some(PageAt::First),
        (Some(a), None) => ListPosition::parse(a, matched).map(PageAt::After),
        (None, Some(b)) => ListPosition::parse(b, matched).map(PageAt::Before),
        (Some(_), Some(_)) => None,
    };
    let status = match q.status.as_str() {
        "" => Some(None),
        raw => AccountStatus::parse(raw).map(Some),
    };
    let two_step = match q.two_step.as_str() {
        "" => Some(None),
        "on" => Some(Some(true)),
        "off" => Some(Some(false)),
        _ => None,
    };
    let (Some(page), Some(status), Some(two_step)) = (page, status, two_step) else {
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "This address is not valid",
            "The page position or the status in the address does not make sense. Go back to the list and follow its links.",
        ));
    };
    let orgs: Vec<(String, String)> = state
        .core
        .orgs()
        .list_organizations(&me.admin)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let org = q.org.trim().to_owned();
    let search = AccountSearch {
        prefix: text.to_lowercase(),
        status,
        two_step,
        org: (!org.is_empty()).then(|| org.clone()),
        page,
        limit: PAGE_SIZE,
    };
    let found = state.core.accounts().search_accounts(&me.admin, &search).await?;
    let status_text = status.map(AccountStatus::as_str).unwrap_or_default().to_owned();
    Ok(render(&UsersPage {
        previous: found.previous.as_ref().map(|p| {
            let filters = [
                ("q", text.as_str()),
                ("status", status_text.as_str()),
                ("two_step", q.two_step.as_str()),
                ("org", org.as_str()),
            ];
            users_link(&filters, "before", p)
        }),
        next: found.next.as_ref().map(|p| {
            let filters = [
                ("q", text.as_str()),
                ("status", status_text.as_str()),
                ("two_step", q.two_step.as_str()),
                ("org", org.as_str()),
            ];
            users_link(&filters, "after", p)
        }),
        q: text.clone(),
        status: status_text.clone(),
        two_step: q.two_step.clone(),
        org: org.clone(),
        orgs,
        requests,
        section: "users",
        csrf: csrf.0,
        notice: match q.notice.as_deref() {
            Some("deactivated") => Some("The account was deactivated and signed out everywhere."),
            Some("two_factor_reset") => {
                Some("Two-step verification was turned off; the person was emailed.")
            }
            Some("closed") => Some(
                "The account was closed: signed out everywhere; its personal data will be erased after the grace period.",
            ),
            _ => None,
        },
        users: found.accounts.iter().map(latchkey_core::accounts::Account::summary).collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeactivateForm {
    email: String,
}

/// The site console's actions on an account: each is confirmed on its own page, which says
/// what it ends, before the POST that does it.
#[derive(Clone, Copy)]
enum UserAction {
    Deactivate,
    Close,
    ResetTwoFactor,
}

impl UserAction {
    fn path(self) -> &'static str {
        match self {
            Self::Deactivate => "/admin/users/deactivate",
            Self::Close => "/admin/users/close",
            Self::ResetTwoFactor => "/admin/users/reset-two-factor",
        }
    }

    fn heading(self, email: &str) -> String {
        match self {
            Self::Deactivate => format!("Deactivate {email}?"),
            Self::Close => format!("Close {email}?"),
            Self::ResetTwoFactor => format!("Reset the two-step verification of {email}?"),
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Deactivate => {
                "They are signed out at once, here and in every product (back-channel logout), and their API tokens stop working. Nothing is deleted: you can reactivate the account later."
            }
            Self::Close => {
                "They are signed out everywhere at once and cannot sign in again. Their personal data is erased after the grace period; until then the account can be reactivated."
            }
            Self::ResetTwoFactor => {
                "Their authenticator app, security keys and recovery codes are removed, so they sign in with the password alone (or set up two-step again if their policy requires it). They are emailed. Do this only after checking who is asking."
            }
        }
    }

    fn button(self) -> &'static str {
        match self {
            Self::Deactivate => "Deactivate the account",
            Self::Close => "Close the account",
            Self::ResetTwoFactor => "Reset two-step verification",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailQuery {
    email: String,
}

async fn confirm_user_action(
    state: &AppState,
    me: &ConsoleAdmin,
    csrf: String,
    raw: &str,
    action: UserAction,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(raw) else { return Ok(not_an_email()) };
    if state.core.accounts().find_account(&me.admin, &email).await?.is_none() {
        return Ok(message_page(
            StatusCode::NOT_FOUND,
            "Account not found",
            "No account has that email.",
        ));
    }
    Ok(render(&ConfirmPage {
        csrf,
        heading: action.heading(email.as_str()),
        message: action.message().to_owned(),
        action: action.path().to_owned(),
        button: action.button(),
        cancel: "/admin/users".to_owned(),
        fields: vec![("email", email.to_string())],
    }))
}

pub async fn user_deactivate_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<EmailQuery>,
) -> Result<Response, PageError> {
    confirm_user_action(&state, &me, csrf.0, &q.email, UserAction::Deactivate).await
}

pub async fn user_close_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<EmailQuery>,
) -> Result<Response, PageError> {
    confirm_user_action(&state, &me, csrf.0, &q.email, UserAction::Close).await
}

pub async fn user_reset_two_factor_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<EmailQuery>,
) -> Result<Response, PageError> {
    confirm_user_action(&state, &me, csrf.0, &q.email, UserAction::ResetTwoFactor).await
}

pub async fn user_close(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<DeactivateForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_an_email()) };
    Ok(match state.core.accounts().close_account(&me.admin, &email).await {
        Ok(_) => Redirect::to("/admin/users?notice=closed").into_response(),
        Err(SetStatusError::NotFound) => {
            message_page(StatusCode::NOT_FOUND, "Account not found", "No account has that email.")
        }
        Err(SetStatusError::Closed) => {
            message_page(StatusCode::CONFLICT, "Already closed", "That account is already closed.")
        }
        Err(SetStatusError::Unexpected(e)) => return Err(e.into()),
        Err(
            e @ (SetStatusError::Protected
            | SetStatusError::OwnAccount
            | SetStatusError::LastSiteAdmin
            | SetStatusError::Bot),
        ) => message_page(StatusCode::FORBIDDEN, "Not allowed", &e.to_string()),
    })
}

fn not_an_email() -> Response {
    message_page(StatusCode::BAD_REQUEST, "Not an email address", "Go back and try again.")
}

pub async fn user_reset_two_factor(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<DeactivateForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_an_email()) };
    Ok(match state.core.second_factor().reset_two_factor(&me.admin, &email).await? {
        Some(_) => Redirect::to("/admin/users?notice=two_factor_reset").into_response(),
        None => {
            message_page(StatusCode::NOT_FOUND, "Account not found", "No account has that email.")
        }
    })
}

pub async fn user_deactivate(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<DeactivateForm>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else { return Ok(not_an_email()) };
    Ok(match state.core.accounts().deactivate_account(&me.admin, &email).await {
        Ok(_) => Redirect::to("/admin/users?notice=deactivated").into_response(),
        Err(SetStatusError::NotFound) => {
            message_page(StatusCode::NOT_FOUND, "Account not found", "No account has that email.")
        }
        Err(SetStatusError::Closed) => message_page(
            StatusCode::CONFLICT,
            "Account closed",
            "A closed account cannot be changed.",
        ),
        Err(SetStatusError::Unexpected(e)) => return Err(e.into()),
        Err(
            e @ (SetStatusError::Protected
            | SetStatusError::OwnAccount
            | SetStatusError::LastSiteAdmin
            | SetStatusError::Bot),
        ) => message_page(StatusCode::FORBIDDEN, "Not allowed", &e.to_string()),
    })
}

/// What the registration form sent, kept to refill the form after an error.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProductForm {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    kind: String,
    third_party: Option<String>,
}

struct Created {
    name: String,
    client_id: String,
    secret: Option<String>,
    /// A new secret for a registered product rather than a new product.
    rotated: bool,
}

#[derive(Template)]
#[template(path = "admin_products.html")]
struct ProductsPage {
    section: &'static str,
    csrf: String,
    issuer: String,
    products: Vec<ClientSummary>,
    /// Per product, in the same order: its legacy users' migration, in words ("" if none).
    migration: Vec<String>,
    created: Option<Created>,
    form: ProductForm,
    form_error: Option<String>,
    notice: Option<&'static str>,
}

async fn products_page(
    state: &AppState,
    me: &ConsoleAdmin,
    csrf: String,
) -> Result<ProductsPage, PageError> {
    let clients = state.core.oidc().list_clients(&me.admin).await?;
    let mut migration = Vec::with_capacity(clients.len());
    for c in &clients {
        migration.push(migration_words(state, me, &c.id).await?);
    }
    Ok(ProductsPage {
        migration,
        section: "products",
        csrf,
        issuer: state.settings.public_url.clone(),
        products: clients.iter().map(latchkey_core::oidc_provider::Client::summary).collect(),
        created: None,
        form: ProductForm { kind: "web".into(), ..ProductForm::default() },
        form_error: None,
        notice: None,
    })
}

/// A product's legacy users at a glance, so an operator knows when to move it to `upgraded`
/// and when to purge: "upgrading: 1200 of 41230 upgraded (310 not verified), 3 unusable
/// hashes, last import 2026-12-03 17:20 UTC".
async fn migration_words(
    state: &AppState,
    me: &ConsoleAdmin,
    client_id: &str,
) -> Result<String, PageError> {
    let (rollout, figures) = match state.core.legacy().status(&me.admin, client_id).await {
        Ok(found) => found,
        Err(latchkey_core::legacy::LegacyError::UnknownProduct(_)) => return Ok(String::new()),
        Err(latchkey_core::legacy::LegacyError::Unexpected(e)) => {
            return Err(PageError::unexpected(&e));
        }
    };
    let Some(rollout) = rollout else { return Ok(String::new()) };
    let mut words = format!(
        "{}: {} of {} upgraded ({} not verified), {} waiting",
        rollout.as_str(),
        figures.upgraded,
        figures.records,
        figures.unverified,
        figures.waiting
    );
    if figures.unusable_hash > 0 {
        let _ = std::fmt::Write::write_fmt(
            &mut words,
            format_args!(", {} unusable hashes", figures.unusable_hash),
        );
    }
    if let Some(at) = figures.last_import_at {
        let _ = std::fmt::Write::write_fmt(
            &mut words,
            format_args!(", last import {}", format_time(at).0),
        );
    }
    Ok(words)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProductsQuery {
    notice: Option<String>,
}

pub async fn products(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ProductsQuery>,
) -> Result<Response, PageError> {
    let mut page = products_page(&state, &me, csrf.0).await?;
    if q.notice.as_deref() == Some("deleted") {
        page.notice = Some("The product is deleted; its sign-ins and tokens have ended.");
    }
    Ok(render(&page))
}

pub(crate) fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

use crate::pages::products::PRODUCT_CREATED;

pub async fn product_create(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    jar: CookieJar,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> Result<Response, PageError> {
    let (public, grant_types) = match form.kind.as_str() {
        "public" => (true, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
        "service" => (false, vec![GrantType::ClientCredentials]),
        _ => (false, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
    };
    let request = NewClientRequest {
        name: form.name.clone(),
        redirect_uris: lines(&form.redirect_uris),
        post_logout_redirect_uris: lines(&form.post_logout_redirect_uris),
        backchannel_logout_uri: Some(form.backchannel_logout_uri.trim().to_owned())
            .filter(|u| !u.is_empty()),
        grant_types,
        public,
        keys: None,
        scopes: vec![],
        id_token_alg: SigningAlg::RS256,
        first_party: form.third_party.is_none(),
        logo_uri: None,
    };
    let outcome = state.core.oidc().register_client(&me.admin, request).await;
    match outcome {
        // POST/redirect/GET: the secret goes to the next page once, sealed.
        Ok(registered) => Ok(crate::flash::redirect_with(
            &state,
            jar,
            PRODUCT_CREATED,
            serde_json::json!({
                "name": registered.client.name,
                "client_id": registered.client.id,
                "secret": registered.secret.as_ref().map(|s| s.expose().to_owned()),
            }),
            "/admin/products/created",
        )),
        Err(RegisterClientError::Invalid(m)) => {
            let mut page = products_page(&state, &me, csrf.0).await?;
            page.form = form;
            page.form_error = Some(m);
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(RegisterClientError::Unexpected(e)) => Err(e.into()),
    }
}

/// `/admin/products/created`: the new product's ID and secret, shown once.
pub async fn product_created(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    jar: CookieJar,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let (jar, value) = crate::flash::take(&state, jar, PRODUCT_CREATED);
    let Some(value) = value else { return Ok(Redirect::to("/admin/products").into_response()) };
    let text = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
    let mut page = products_page(&state, &me, csrf.0).await?;
    page.created = Some(Created {
        name: text("name"),
        client_id: text("client_id"),
        secret: value["secret"].as_str().map(str::to_owned),
        rotated: value["rotated"].as_bool().unwrap_or(false),
    });
    Ok((jar, crate::flash::no_store(render(&page))).into_response())
}

struct DeliveryRow {
    /// A product's name, or a mail's subject.
    what: String,
    /// A back-channel endpoint, or a mail's recipient.
    to: String,
    status: String,
    attempts: u32,
    last_error: Option<String>,
    created: String,
    created_iso: String,
}

#[derive(Template)]
#[template(path = "admin_deliveries.html")]
struct DeliveriesPage {
    section: &'static str,
    csrf: String,
    /// `mail` or `logout`.
    kind: &'static str,
    notice: Option<String>,
    counts: Vec<(String, u64)>,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeliveriesQuery {
    kind: Option<String>,
    retried: Option<u64>,
}

fn delivery_kind(raw: Option<&str>) -> Option<(&'static str, DeliveryKind)> {
    match raw {
        None | Some("logout") => Some(("logout", DeliveryKind::BackchannelLogout)),
        Some("mail") => Some(("mail", DeliveryKind::Mail)),
        Some(_) => None,
    }
}

fn unknown_queue() -> PageError {
    PageError::page(
        StatusCode::BAD_REQUEST,
        "Unknown queue",
        "Deliveries are of mail or of back-channel logout.",
    )
}

/// `/admin/deliveries`: the mail and back-channel logout queues — what is waiting, what was
/// delivered, the dead letters and their last error — and "retry now" after an outage.
pub async fn deliveries(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<DeliveriesQuery>,
) -> Result<Response, PageError> {
    let (kind, queue) = delivery_kind(q.kind.as_deref()).ok_or_else(unknown_queue)?;
    let (recent, counts) = state.core.accounts().deliveries(&me.admin, queue, 200).await?;
    Ok(render(&DeliveriesPage {
        section: "deliveries",
        csrf: csrf.0,
        kind,
        notice: q.retried.map(|n| {
            format!(
                "{n} waiting {} will be tried again within a minute.",
                if n == 1 { "delivery" } else { "deliveries" }
            )
        }),
        counts,
        deliveries: recent
            .into_iter()
            .map(|d| {
                let (created, created_iso) = format_time(d.created_at.unix());
                DeliveryRow {
                    what: d.summary,
                    to: d.recipient,
                    status: d.status,
                    attempts: d.attempts,
                    last_error: d.last_error,
                    created,
                    created_iso,
                }
            })
            .collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RetryForm {
    kind: String,
}

pub async fn deliveries_retry(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    CsrfForm(form): CsrfForm<RetryForm>,
) -> Result<Response, PageError> {
    let (kind, queue) = delivery_kind(Some(form.kind.as_str())).ok_or_else(unknown_queue)?;
    let n = state.core.accounts().retry_deliveries(&me.admin, queue).await?;
    Ok(Redirect::to(&format!("/admin/deliveries?kind={kind}&retried={n}")).into_response())
}

/// Every event on the site.
pub async fn audit(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Result<Response, PageError> {
    let view = AuditView {
        scope: AuditScope::Site(me.admin),
        owner: "Site administration".into(),
        base: "/admin/audit".into(),
        back_href: "/account".into(),
        back_label: "Your account".into(),
    };
    crate::pages::audit::page(&state, view, &q).await
}

pub async fn audit_export(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Result<Response, PageError> {
    crate::pages::audit::export(&state, AuditScope::Site(me.admin), &q).await
}

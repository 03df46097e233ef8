//! `/account`: the signed-in person's profile, password and sessions.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::accounts::DisplayName;
use latchkey_core::credentials::Password;
use latchkey_core::sessions::{Session, SessionId};
use serde::Deserialize;

use crate::error::{Failure, PageError, message_page, render};
use crate::extract::{
    CookieNames, CsrfForm, CsrfToken, PageQuery, SignedIn, session_cookie_removal,
};
use crate::pages::login::NoFields;
use crate::pages::{format_time, notice_text};
use crate::state::AppState;

struct SessionRow {
    id: String,
    device: String,
    products: String,
    ip: String,
    created: String,
    created_iso: String,
    last_seen: String,
    last_seen_iso: String,
    current: bool,
}

#[derive(Template, Default)]
#[template(path = "account.html")]
struct AccountPage {
    /// Which part of the account this page shows: profile, email, password or sessions.
    section: &'static str,
    csrf: String,
    notice: Option<&'static str>,
    name: String,
    name_value: String,
    email: String,
    verified: bool,
    sessions: Vec<SessionRow>,
    site_admin: bool,
    two_factor: bool,
    /// The organization that manages the account, by name.
    managed_by: Option<String>,
    /// Organizations this account administers: (id, name).
    orgs: Vec<(String, String)>,
    /// What the account's policy asks of it soon (two-step by a date, a new password):
    /// (text, the page to act on, the link's words).
    policy_notes: Vec<PolicyNote>,
    name_error: Option<String>,
    password_form_error: Option<String>,
    current_password_error: Option<String>,
    new_password_error: Option<String>,
}

/// A short, recognisable description of a browser from its user agent.
pub(crate) fn describe_device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| *name);
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("Android", "Android"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("Browser on {o}"),
        (None, None) if user_agent.is_empty() => "Unknown device".to_owned(),
        (None, None) => user_agent.chars().take(60).collect(),
    }
}

fn session_row(s: &Session, current: &SessionId, products: &[String]) -> SessionRow {
    let (created, created_iso) = format_time(s.created_at.unix());
    let (last_seen, last_seen_iso) = format_time(s.last_seen_at.unix());
    SessionRow {
        id: s.id.as_str().to_owned(),
        device: describe_device(&s.client.user_agent),
        products: products.join(", "),
        ip: s.client.ip.clone(),
        created,
        created_iso,
        last_seen,
        last_seen_iso,
        current: &s.id == current,
    }
}

type PolicyNote = (String, &'static str, &'static str);

/// Reminders of what the account's policy asks: two-step verification by the end of the grace
/// period (or now), a new password when the current one has expired.
async fn policy_notes(
    state: &AppState,
    account: &latchkey_core::accounts::Account,
    has_factor: bool,
) -> Result<Vec<PolicyNote>, PageError> {
    use latchkey_core::policies::TwoStep;
    let policy = state.core.policies().for_account(account).await?;
    let now = state.core.kernel().clock().now();
    let mut notes = Vec::new();
    match policy.two_step(account, has_factor, now) {
        TwoStep::Grace { until } => notes.push((
            format!(
                "Your sign-in policy requires two-step verification from {}. Set it up on your security page before then.",
                format_time(until.unix()).0
            ),
            "/account/security",
            "Go to your security page",
        )),
        TwoStep::EnrolNow => notes.push((
            "Your sign-in policy requires two-step verification. Set it up on your security page."
                .to_owned(),
            "/account/security",
            "Go to your security page",
        )),
        TwoStep::NotRequired => {}
    }
    if policy.password_renewal(account, now).is_some() {
        notes.push((
            "Your password has expired under your sign-in policy; products will ask you to sign in again until you choose a new one."
                .to_owned(),
            "/account/password",
            "Choose a new password",
        ));
    }
    Ok(notes)
}

async fn account_page(
    state: &AppState,
    me: &SignedIn,
    csrf: String,
) -> Result<AccountPage, PageError> {
    let sessions = state.core.sessions().list_sessions(&me.account().id).await?;
    let ids: Vec<_> = sessions.iter().map(|s| s.id.clone()).collect();
    let products = state.core.oidc().products_in_sessions(&ids).await?;
    let rows: Vec<_> = sessions
        .iter()
        .zip(&products)
        .map(|(s, products)| session_row(s, &me.session().id, products))
        .collect();
    let factors = state.core.second_factor().two_factor_status(&me.account().id).await?;
    Ok(AccountPage {
        section: "profile",
        csrf,
        site_admin: me.account().site_admin,
        managed_by: state.core.orgs().managing_org(me.account()).await?.map(|o| o.name),
        orgs: state
            .core
            .orgs()
            .administered_orgs(me)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
        two_factor: factors.totp,
        policy_notes: policy_notes(state, me.account(), factors.enabled()).await?,
        name: me.account().name.to_string(),
        name_value: me.account().name.to_string(),
        email: me.account().email.to_string(),
        verified: me.account().email_verified(),
        sessions: rows,
        ..AccountPage::default()
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn section_page(
    state: &AppState,
    me: &SignedIn,
    csrf: CsrfToken,
    q: &NoticeQuery,
    section: &'static str,
) -> Result<Response, PageError> {
    let mut page = account_page(state, me, csrf.0).await?;
    page.section = section;
    page.notice = notice_text(q.notice.as_deref());
    Ok(render(&page))
}

/// `/account`: the profile (name, email, organizations, closure) and the rest at a glance.
pub async fn account_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    section_page(&state, &me, csrf, &q, "profile").await
}

/// `/account/email`: change the address.
pub async fn email_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    section_page(&state, &me, csrf, &q, "email").await
}

/// `/account/password`: change the password.
pub async fn password_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    section_page(&state, &me, csrf, &q, "password").await
}

/// `/account/sessions`: where the person is signed in, and signing out there.
pub async fn sessions_show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    section_page(&state, &me, csrf, &q, "sessions").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NameForm {
    name: String,
}

pub async fn name_update(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NameForm>,
) -> Response {
    let name = match DisplayName::parse(&form.name) {
        Ok(n) => n,
        Err(e) => {
            return match account_page(&state, &me, csrf.0).await {
                Ok(mut page) => {
                    page.name_value = form.name.chars().take(100).collect();
                    page.name_error = Some(e.to_string());
                    (StatusCode::BAD_REQUEST, render(&page)).into_response()
                }
                Err(r) => r.into(),
            };
        }
    };
    match state.core.accounts().change_name(me.account(), &name).await {
        Ok(()) => Redirect::to("/account?notice=name_changed").into_response(),
        Err(e) => {
            let failure = Failure::from(e);
            crate::error::failure_page(&failure, "Could not save your name")
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn password_update(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let mut page = match account_page(&state, &me, csrf.0).await {
        Ok(p) => AccountPage { section: "password", ..p },
        Err(r) => return r.into(),
    };
    // The current password re-authenticates the first factor; with two-step verification on,
    // the sign-in (and so its second step) must also be recent.
    let age = me.session().created_at.secs_until(state.core.kernel().clock().now());
    if page.two_factor && age > latchkey_core::second_factor::STEP_UP_SECS {
        return Redirect::to("/login?reauth=1&next=%2Faccount%2Fpassword").into_response();
    }
    let current = Password::for_verification(&form.current_password);
    let new = Password::parse(&form.new_password);
    let (Ok(current), Ok(new)) = (&current, &new) else {
        page.current_password_error = current.err().map(|e| e.to_string());
        page.new_password_error = new.err().map(|e| e.to_string());
        return (StatusCode::BAD_REQUEST, render(&page)).into_response();
    };
    match state.core.accounts().change_password(&me, current, new).await {
        Ok(()) => Redirect::to("/account/password?notice=password_changed").into_response(),
        Err(e @ latchkey_core::flows::ChangePasswordError::Rule(_)) => {
            page.new_password_error = Some(e.to_string());
            (StatusCode::BAD_REQUEST, render(&page)).into_response()
        }
        Err(e) => {
            let failure = Failure::from(e);
            page.password_form_error = Some(failure.message.clone());
            failure.apply(render(&page))
        }
    }
}

pub async fn session_end(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let Some(id) = SessionId::parse(&id) else {
        return Ok(message_page(
            StatusCode::NOT_FOUND,
            "Session not found",
            "That session no longer exists.",
        ));
    };
    let ended = state.core.sessions().end_session(&me.account().id, &id).await?;
    Ok(if ended && id == me.session().id {
        let names = CookieNames::new(state.settings.secure_cookies());
        (jar.add(session_cookie_removal(names)), Redirect::to("/logout")).into_response()
    } else if ended {
        Redirect::to("/account/sessions?notice=session_ended").into_response()
    } else {
        message_page(
            StatusCode::NOT_FOUND,
            "Session not found",
            "That session was already signed out.",
        )
    })
}

/// "Sign out everywhere" asks first.
pub async fn sessions_end_all_confirm(_me: SignedIn, csrf: CsrfToken) -> Response {
    render(&crate::pages::api_tokens::ConfirmPage {
        csrf: csrf.0,
        heading: "Sign out everywhere?".to_owned(),
        message: format!(
            "Every session ends, this one too: on every device and browser, and in every product that signs in through {}. You sign in again afterwards.",
            crate::brand::name()
        ),
        action: "/account/sessions/end-all".to_owned(),
        button: "Sign out everywhere",
        cancel: "/account/sessions".to_owned(),
        fields: vec![],
    })
}

pub async fn sessions_end_all(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let done = state.core.sessions().end_all_sessions(&me.account().id).await?;
    tracing::info!(account = %me.account().id, sessions_ended = done.sessions, "signed out everywhere");
    let names = CookieNames::new(state.settings.secure_cookies());
    let target = match done.receipt {
        Some(receipt) => format!("/signed-out?receipt={receipt}"),
        None => "/login?notice=signed_out_everywhere".to_owned(),
    };
    Ok((jar.add(session_cookie_removal(names)), Redirect::to(&target)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClosureForm {
    reason: String,
}

/// "Request account closure": people cannot close their own account; the request reaches the
/// site admins, or the organization's admins for a managed account.
pub async fn closure_request(
    State(state): State<AppState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> Result<Response, PageError> {
    state.core.accounts().request_closure(me.account(), &form.reason).await?;
    Ok(Redirect::to("/account?notice=closure_requested").into_response())
}

/// Withdraws a third-party product's access (its refresh tokens die at once).
pub async fn product_revoke(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    Ok(if state.core.oidc().revoke_consent(me.account(), &client_id).await? {
        Redirect::to("/account/services?notice=access_revoked").into_response()
    } else {
        message_page(
            StatusCode::NOT_FOUND,
            "Product not found",
            "That product no longer has access to your account.",
        )
    })
}

struct ProductRow {
    name: String,
    status: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {
    products: Vec<ProductRow>,
    waiting: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReceiptQuery {
    receipt: String,
}

/// `/signed-out`: after "sign out everywhere", which products confirmed the back-channel
/// logout. The page refreshes itself while deliveries are still being retried.
pub async fn signed_out(
    State(state): State<AppState>,
    PageQuery(q): PageQuery<ReceiptQuery>,
) -> Result<Response, PageError> {
    let Some(deliveries) = state.core.oidc().sign_out_report(&q.receipt).await? else {
        return Ok(Redirect::to("/login?notice=signed_out_everywhere").into_response());
    };
    let products: Vec<ProductRow> = deliveries
        .into_iter()
        .map(|d| {
            let (status, detail) = match d.status.as_str() {
                "delivered" => ("Signed out", String::new()),
                "dead" => (
                    "Did not confirm",
                    format!(
                        "gave up after {} attempts: {}",
                        d.attempts,
                        d.last_error.unwrap_or_default()
                    ),
                ),
                _ if d.attempts == 0 => ("Telling the product…", String::new()),
                _ => (
                    "Not confirmed yet",
                    format!(
                        "retrying ({} attempts): {}",
                        d.attempts,
                        d.last_error.unwrap_or_default()
                    ),
                ),
            };
            ProductRow { name: d.summary, status, detail }
        })
        .collect();
    let waiting =
        products.iter().any(|p| p.status != "Signed out" && p.status != "Did not confirm");
    Ok(render(&SignedOutPage { products, waiting }))
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_plainly() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(describe_device(chrome), "Chrome on Linux");
        assert_eq!(describe_device(""), "Unknown device");
        assert_eq!(describe_device("curl/8.5"), "curl");
    }
}

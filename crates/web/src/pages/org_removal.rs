//! Taking things away from an organization, each after a page that says what it changes:
//! an administrator, a domain, and (site admins) the organization itself.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::accounts::Email;
use latchkey_core::orgs::OrgError;
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, OrgConsole, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::state::AppState;

/// A refusal the person can understand, on the error page with a fitting status.
fn refused(e: &OrgError) -> Response {
    let status = match e {
        OrgError::NotFound | OrgError::UnknownDomain(_) | OrgError::NotAnAdmin(_) => {
            StatusCode::NOT_FOUND
        }
        OrgError::OwnAdmin => StatusCode::FORBIDDEN,
        OrgError::LastAdmin => StatusCode::CONFLICT,
        OrgError::UnknownAccount(_)
        | OrgError::BadDomain(_)
        | OrgError::BadName
        | OrgError::Ambiguous(_) => StatusCode::BAD_REQUEST,
        OrgError::Unexpected(u) => return crate::error::unexpected_page(u),
    };
    message_page(status, "Not changed", &e.to_string())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailField {
    email: String,
}

pub async fn admin_remove_confirm(
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<EmailField>,
) -> Response {
    let id = &admin.org().id;
    render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Remove {} as an administrator of {}?", q.email, admin.org().name),
        message: "Their console access to the organization ends at their next request. Their own account stays as it is.".to_owned(),
        action: format!("/admin/org/{id}/admins/remove"),
        button: "Remove the administrator",
        cancel: format!("/admin/org/{id}#admins-h"),
        fields: vec![("email", q.email)],
    })
}

pub async fn admin_remove(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(form): CsrfForm<EmailField>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else {
        return Ok(message_page(StatusCode::BAD_REQUEST, "Not changed", "Enter an email address."));
    };
    match state.core.orgs().remove_org_admin(&admin, &email).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/org/{}?notice=admin_removed", admin.org().id))
            .into_response()),
        Err(e) => Ok(refused(&e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DomainField {
    domain: String,
}

pub async fn domain_remove_confirm(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<DomainField>,
) -> Result<Response, PageError> {
    let usage = match state.core.orgs().domain_usage(&admin, &q.domain).await {
        Ok(u) => u,
        Err(e) => return Ok(refused(&e)),
    };
    let id = &admin.org().id;
    let mut message = if usage.verified {
        format!(
            "{} {} on {} will no longer be managed by {}: its administrators can no longer act on them, and the site's default sign-in policy applies to them.",
            usage.managed_accounts,
            if usage.managed_accounts == 1 { "account" } else { "accounts" },
            q.domain,
            admin.org().name
        )
    } else {
        "The domain was never verified, so no account changes.".to_owned()
    };
    if !usage.saml_connections.is_empty() {
        let _ = write!(
            message,
            " Single sign-on through {} stops for this domain.",
            usage.saml_connections.join(", ")
        );
    }
    message.push_str(" To claim it again, add and verify it anew.");
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Remove the domain {}?", q.domain),
        message,
        action: format!("/admin/org/{id}/domains/remove"),
        button: "Remove the domain",
        cancel: format!("/admin/org/{id}#domains-h"),
        fields: vec![("domain", q.domain)],
    }))
}

pub async fn domain_remove(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    CsrfForm(form): CsrfForm<DomainField>,
) -> Result<Response, PageError> {
    match state.core.orgs().remove_domain(&admin, &form.domain).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/org/{}?notice=domain_removed", admin.org().id))
            .into_response()),
        Err(e) => Ok(refused(&e)),
    }
}

pub async fn delete_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let orgs = state.core.orgs();
    let org = match orgs.org_admin_as_site_admin(&me.admin, &id).await {
        Ok(a) => a.org().clone(),
        Err(e) => return Ok(refused(&e)),
    };
    let u = match orgs.org_usage(&me.admin, &id).await {
        Ok(u) => u,
        Err(e) => return Ok(refused(&e)),
    };
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Delete the organization {}?", org.name),
        message: format!(
            "This ends {} administrators' access, releases {} domains ({} accounts on them are no longer managed and fall under the site's default policy), deletes {} policies and {} SAML connections, and deactivates {} bots (their tokens stop at once). People's own accounts stay. This cannot be undone.",
            u.admins, u.domains, u.managed_accounts, u.policies, u.saml_connections, u.bots
        ),
        action: format!("/admin/org/{id}/delete"),
        button: "Delete the organization",
        cancel: format!("/admin/org/{id}"),
        fields: vec![],
    }))
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

pub async fn delete(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    match state.core.orgs().delete_organization(&me.admin, &id).await {
        Ok(_) => Ok(Redirect::to("/admin?notice=org_deleted").into_response()),
        Err(e) => Ok(refused(&e)),
    }
}

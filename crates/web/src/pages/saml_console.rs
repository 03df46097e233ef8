//! `/admin/org/<id>/saml`: the organization's SAML connections — what to give the IdP, its
//! certificates and their expiry, add from metadata, test, remove (after a confirmation).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::orgs::{DomainStatus, OrgAdmin};
use latchkey_core::return_to::ReturnTo;
use latchkey_core::saml_sp::{
    AttributeMapping, ConnectionRequest, IdpSource, Preset, SamlConnection, SamlError,
};
use serde::Deserialize;

use crate::error::{PageError, leads_to_products, render};
use crate::extract::{CsrfForm, CsrfToken, OrgConsole, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::format_time;
use crate::state::AppState;

struct ConnectionView {
    id: String,
    name: String,
    preset: &'static str,
    domains: String,
    idp_entity_id: String,
    sso_url: String,
    entity_id: String,
    acs_url: String,
    jit: bool,
    allow_idp_initiated: bool,
    sign_requests: bool,
    /// Our certificate's SHA-256 and expiry.
    sp_certificate: Option<(String, String)>,
    /// What the mapping reads, in words.
    mapping: String,
    /// (subject, expires, expiring soon)
    certificates: Vec<(String, String, bool)>,
}

/// The mapping in words, for the connection's facts.
fn mapping_words(m: &AttributeMapping) -> String {
    let email = m.email.as_deref().map_or_else(|| "the NameID".to_owned(), |a| format!("“{a}”"));
    let mut out = format!("email from {email}");
    for (label, attr) in [
        ("given name", &m.given_name),
        ("family name", &m.family_name),
        ("display name", &m.display_name),
        ("groups", &m.groups),
    ] {
        if let Some(a) = attr.as_deref().filter(|a| !a.is_empty()) {
            out.push_str(", ");
            out.push_str(label);
            out.push_str(" from “");
            out.push_str(a);
            out.push('”');
        }
    }
    out
}

#[derive(Template)]
#[template(path = "saml_console.html")]
struct SamlPage {
    csrf: String,
    org_id: String,
    org_name: String,
    notice: Option<&'static str>,
    form_error: Option<String>,
    connections: Vec<ConnectionView>,
    verified: Vec<String>,
    presets: Vec<(&'static str, &'static str, &'static str)>,
}

async fn page(state: &AppState, admin: &OrgAdmin, csrf: String) -> Result<SamlPage, PageError> {
    let saml = state.core.saml();
    let mut connections = Vec::new();
    for c in saml.list_connections(admin).await? {
        let (entity_id, acs_url) = saml.sp_endpoints(&c);
        let expiring: Vec<String> = saml.expiring(&c).into_iter().map(|(s, _)| s).collect();
        let certificates = c
            .certificates
            .iter()
            .map(|cert| {
                let info = cert.info();
                let soon = expiring.contains(&info.subject);
                (info.subject, format_time(info.not_after).0, soon)
            })
            .collect();
        connections.push(ConnectionView {
            id: c.id.clone(),
            name: c.name.clone(),
            preset: c.preset.label(),
            domains: c
                .domains
                .iter()
                .map(latchkey_core::orgs::Domain::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            idp_entity_id: c.idp_entity_id.clone(),
            sso_url: c.sso_url.clone(),
            entity_id,
            acs_url,
            jit: c.jit,
            allow_idp_initiated: c.allow_idp_initiated,
            sign_requests: c.sign_requests,
            sp_certificate: c.sp_key.as_ref().map(|k| {
                let info = k.certificate.info();
                (info.fingerprint, format_time(info.not_after).0)
            }),
            mapping: mapping_words(&c.mapping),
            certificates,
        });
    }
    let verified = state
        .core
        .orgs()
        .list_domains(admin)
        .await?
        .into_iter()
        .filter(|d| d.status == DomainStatus::Verified)
        .map(|d| d.domain.as_str().to_owned())
        .collect();
    Ok(SamlPage {
        csrf,
        org_id: admin.org().id.clone(),
        org_name: admin.org().name.clone(),
        notice: None,
        form_error: None,
        connections,
        verified,
        presets: Preset::ALL.iter().map(|p| (p.as_str(), p.label(), p.guidance())).collect(),
    })
}

/// The page's own CSP without `form-action`: "Test" continues at the organization's IdP.
fn show_page(page: &SamlPage) -> Response {
    leads_to_products(render(page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let mut p = page(&state, &admin, csrf.0).await?;
    p.notice = match q.notice.as_deref() {
        Some("added") => Some(
            "The connection is saved. Give your identity provider the values below, then test it.",
        ),
        Some("removed") => {
            Some("The connection is removed; its people sign in with their passwords again.")
        }
        Some("updated") => Some("The connection is saved."),
        _ => None,
    };
    Ok(show_page(&p))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddForm {
    name: String,
    preset: String,
    /// Comma- or space-separated.
    domains: String,
    metadata_xml: String,
    metadata_url: String,
    jit: Option<String>,
    allow_idp_initiated: Option<String>,
    sign_requests: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Response, PageError> {
    let source = match (form.metadata_xml.trim(), form.metadata_url.trim()) {
        (xml, "") if !xml.is_empty() => IdpSource::Metadata(xml.to_owned()),
        ("", url) if !url.is_empty() => IdpSource::MetadataUrl(url.to_owned()),
        _ => {
            return with_error(
                &state,
                &admin,
                csrf.0,
                "Paste the IdP's metadata XML or give its metadata URL (one of the two)."
                    .to_owned(),
            )
            .await;
        }
    };
    let request = ConnectionRequest {
        name: form.name,
        preset: Preset::parse(&form.preset).unwrap_or(Preset::Custom),
        source,
        domains: split_domains(&form.domains),
        jit: form.jit.is_some(),
        allow_idp_initiated: form.allow_idp_initiated.is_some(),
        allow_sha1: false,
        sign_requests: form.sign_requests.is_some(),
        landing_client: None,
        mapping: None,
    };
    let id = admin.org().id.clone();
    match state.core.saml().add_connection(&admin, request).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/org/{id}/saml?notice=added")).into_response()),
        Err(SamlError::Unexpected(e)) => Err(PageError::unexpected(&e)),
        Err(e) => with_error(&state, &admin, csrf.0, e.to_string()).await,
    }
}

async fn with_error(
    state: &AppState,
    admin: &OrgAdmin,
    csrf: String,
    message: String,
) -> Result<Response, PageError> {
    let mut p = page(state, admin, csrf).await?;
    p.form_error = Some(message);
    Ok((StatusCode::BAD_REQUEST, show_page(&p)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConnectionQuery {
    connection: String,
}

/// "Test": an SP-initiated login that reports instead of signing in.
pub async fn test(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    PageQuery(q): PageQuery<ConnectionQuery>,
    CsrfForm(_): CsrfForm<NoticeQuery>,
) -> Result<Response, PageError> {
    let saml = state.core.saml();
    let connection = saml.connection(&admin, &q.connection).await?;
    let back = ReturnTo::parse(&format!("/admin/org/{}/saml", admin.org().id))
        .unwrap_or_else(ReturnTo::account);
    let url = saml.begin_login(&connection, &back, true).await?;
    Ok(Redirect::to(&url).into_response())
}

/// Confirm, then remove.
pub async fn remove_confirm(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConnectionQuery>,
) -> Result<Response, PageError> {
    let connection = state.core.saml().connection(&admin, &q.connection).await?;
    let id = &admin.org().id;
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Remove {}?", connection.name),
        message: format!(
            "People on its domains will sign in with their {} passwords again (those who never had one use \"Forgot your password?\"). Sessions already started stay.",
            crate::brand::name()
        ),
        action: format!("/admin/org/{id}/saml/remove?connection={}", connection.id),
        button: "Remove the connection",
        cancel: format!("/admin/org/{id}/saml"),
        fields: vec![],
    }))
}

pub async fn remove(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    PageQuery(q): PageQuery<ConnectionQuery>,
    CsrfForm(_): CsrfForm<NoticeQuery>,
) -> Result<Response, PageError> {
    state.core.saml().remove_connection(&admin, &q.connection).await?;
    Ok(Redirect::to(&format!("/admin/org/{}/saml?notice=removed", admin.org().id)).into_response())
}

fn split_domains(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n', '\r', '\t']).filter(|d| !d.is_empty()).map(str::to_owned).collect()
}

#[allow(clippy::struct_excessive_bools)] // independent switches of one connection
#[derive(Template)]
#[template(path = "saml_edit.html")]
struct EditPage {
    csrf: String,
    org_id: String,
    org_name: String,
    id: String,
    form_error: Option<String>,
    name: String,
    preset: &'static str,
    domains: String,
    jit: bool,
    allow_idp_initiated: bool,
    sign_requests: bool,
    allow_sha1: bool,
    /// Client ID of the product IdP-initiated sign-ins land on ("" for the account page).
    landing_client: String,
    mapping: AttributeMapping,
    /// (index, subject, expires, SHA-256)
    certificates: Vec<(usize, String, String, String)>,
}

fn edit_page(admin: &OrgAdmin, csrf: String, c: &SamlConnection) -> EditPage {
    EditPage {
        csrf,
        org_id: admin.org().id.clone(),
        org_name: admin.org().name.clone(),
        id: c.id.clone(),
        form_error: None,
        name: c.name.clone(),
        preset: c.preset.label(),
        domains: c
            .domains
            .iter()
            .map(latchkey_core::orgs::Domain::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        jit: c.jit,
        allow_idp_initiated: c.allow_idp_initiated,
        sign_requests: c.sign_requests,
        allow_sha1: c.allow_sha1,
        landing_client: c.landing_client.clone().unwrap_or_default(),
        mapping: c.mapping.clone(),
        certificates: c
            .certificates
            .iter()
            .enumerate()
            .map(|(i, cert)| {
                let info = cert.info();
                (i, info.subject, format_time(info.not_after).0, info.fingerprint)
            })
            .collect(),
    }
}

/// `/admin/org/<id>/saml/edit?connection=…`: settings, attribute mapping, certificates (add
/// the IdP's next one before it switches, remove an old one), or new metadata.
pub async fn edit_show(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConnectionQuery>,
) -> Result<Response, PageError> {
    let connection = state.core.saml().connection(&admin, &q.connection).await?;
    Ok(render(&edit_page(&admin, csrf.0, &connection)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    name: String,
    domains: String,
    jit: Option<String>,
    allow_idp_initiated: Option<String>,
    sign_requests: Option<String>,
    allow_sha1: Option<String>,
    landing_client: String,
    email_attribute: String,
    given_name: String,
    family_name: String,
    display_name: String,
    groups: String,
    add_certificate: String,
    metadata_xml: String,
    /// `remove_certificate_<index>` checkboxes: certificates to stop trusting.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

impl EditForm {
    fn removed(&self) -> Vec<usize> {
        self.rest
            .keys()
            .filter_map(|k| k.strip_prefix("remove_certificate_"))
            .filter_map(|i| i.parse().ok())
            .collect()
    }
}

fn attribute(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.chars().take(1024).collect())
}

pub async fn edit(
    State(state): State<AppState>,
    OrgConsole(admin): OrgConsole,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<ConnectionQuery>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Result<Response, PageError> {
    let saml = state.core.saml();
    let existing = saml.connection(&admin, &q.connection).await?;
    let source = if form.metadata_xml.trim().is_empty() {
        let removed = form.removed();
        let mut certificates: Vec<String> = existing
            .certificates
            .iter()
            .enumerate()
            .filter(|(i, _)| !removed.contains(i))
            .map(|(_, c)| c.to_base64())
            .collect();
        if !form.add_certificate.trim().is_empty() {
            certificates.push(form.add_certificate.clone());
        }
        IdpSource::Manual {
            entity_id: existing.idp_entity_id.clone(),
            sso_url: existing.sso_url.clone(),
            certificates,
        }
    } else {
        IdpSource::Metadata(form.metadata_xml.clone())
    };
    let request = ConnectionRequest {
        name: form.name.clone(),
        preset: existing.preset,
        source,
        domains: split_domains(&form.domains),
        jit: form.jit.is_some(),
        allow_idp_initiated: form.allow_idp_initiated.is_some(),
        allow_sha1: form.allow_sha1.is_some(),
        sign_requests: form.sign_requests.is_some(),
        landing_client: Some(form.landing_client.clone()),
        mapping: Some(AttributeMapping {
            email: attribute(&form.email_attribute),
            given_name: attribute(&form.given_name),
            family_name: attribute(&form.family_name),
            display_name: attribute(&form.display_name),
            groups: attribute(&form.groups),
        }),
    };
    let id = admin.org().id.clone();
    match saml.update_connection(&admin, &existing.id, request.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/org/{id}/saml?notice=updated")).into_response()),
        Err(SamlError::Unexpected(e)) => Err(PageError::unexpected(&e)),
        Err(e) => {
            // The form as submitted, with the reason; nothing was changed.
            let mut page = edit_page(&admin, csrf.0, &existing);
            page.form_error = Some(e.to_string());
            page.name = form.name;
            page.domains = form.domains;
            page.jit = request.jit;
            page.allow_idp_initiated = request.allow_idp_initiated;
            page.sign_requests = request.sign_requests;
            page.allow_sha1 = request.allow_sha1;
            page.landing_client = form.landing_client;
            page.mapping = request.mapping.unwrap_or_default();
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
    }
}

//! `/admin/products/{id}`: one product — its settings (name, URIs, logo, first or third
//! party, a service's scopes), a new secret (shown once, on the page a redirect leads to),
//! disable/enable, and delete (after a page that says what it ends).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::oidc_provider::{
    AuthMethod, Client, ClientChanges, ClientUsage, GrantType, ManageClientError,
};
use serde::Deserialize;

use crate::error::{PageError, message_page, render};
use crate::extract::{ConsoleAdmin, CsrfForm, CsrfToken, PageQuery};
use crate::pages::api_tokens::ConfirmPage;
use crate::pages::format_time;
use crate::state::AppState;

/// The flash purpose of a product's one-time secret (registration or rotation).
pub(crate) const PRODUCT_CREATED: &str = "product_created";

/// The settings form as typed (lists one per line).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    logo_uri: String,
    third_party: Option<String>,
    scopes: String,
}

impl SettingsForm {
    fn of(c: &Client) -> Self {
        Self {
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            backchannel_logout_uri: c.backchannel_logout_uri.clone().unwrap_or_default(),
            logo_uri: c.logo_uri.clone().unwrap_or_default(),
            third_party: (!c.first_party).then(|| "1".to_owned()),
            scopes: c.scopes.join(" "),
        }
    }

    fn changes(&self, service: bool) -> ClientChanges {
        let optional = |v: &str| Some(Some(v.trim().to_owned()).filter(|v| !v.is_empty()));
        ClientChanges {
            name: Some(self.name.clone()),
            redirect_uris: Some(super::admin::lines(&self.redirect_uris)),
            post_logout_redirect_uris: Some(super::admin::lines(&self.post_logout_redirect_uris)),
            backchannel_logout_uri: optional(&self.backchannel_logout_uri),
            logo_uri: optional(&self.logo_uri),
            first_party: Some(self.third_party.is_none()),
            scopes: service.then(|| self.scopes.split_whitespace().map(str::to_owned).collect()),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_product.html")]
struct ProductPage {
    csrf: String,
    id: String,
    kind: &'static str,
    auth: &'static str,
    enabled: bool,
    service: bool,
    has_secret: bool,
    grants: String,
    created: String,
    usage: ClientUsage,
    form: SettingsForm,
    form_error: Option<String>,
    notice: Option<&'static str>,
    issuer: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn found(state: &AppState, me: &ConsoleAdmin, id: &str) -> Result<Client, PageError> {
    state
        .core
        .oidc()
        .client_for_admin(&me.admin, id)
        .await?
        .ok_or_else(|| ManageClientError::NotFound.into())
}

async fn page(
    state: &AppState,
    me: &ConsoleAdmin,
    csrf: String,
    client: &Client,
) -> Result<ProductPage, PageError> {
    let usage = state.core.oidc().client_usage(&me.admin, &client.id).await?;
    Ok(ProductPage {
        csrf,
        id: client.id.clone(),
        kind: client.kind_words(),
        auth: match client.auth_method() {
            AuthMethod::None => "none (public client, PKCE)",
            AuthMethod::Secret => "client secret",
            AuthMethod::PrivateKeyJwt => "signed assertion (private_key_jwt)",
        },
        enabled: client.disabled_at.is_none(),
        service: client.allows(GrantType::ClientCredentials),
        has_secret: client.auth_method() == AuthMethod::Secret,
        grants: client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
        created: format_time(client.created_at.unix()).0,
        usage,
        form: SettingsForm::of(client),
        form_error: None,
        notice: None,
        issuer: state.settings.public_url.clone(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, PageError> {
    let client = found(&state, &me, &id).await?;
    let mut view = page(&state, &me, csrf.0, &client).await?;
    view.notice = match q.notice.as_deref() {
        Some("saved") => Some("The product's settings are saved."),
        Some("disabled") => Some(
            "The product is disabled: nobody signs in to it and its tokens and secret are refused.",
        ),
        Some("enabled") => Some("The product is enabled again."),
        _ => None,
    };
    Ok(render(&view))
}

pub async fn update(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    let client = found(&state, &me, &id).await?;
    let changes = form.changes(client.allows(GrantType::ClientCredentials));
    match state.core.oidc().update_client(&me.admin, &id, changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/products/{id}?notice=saved")).into_response()),
        Err(ManageClientError::Invalid(m)) => {
            let mut view = page(&state, &me, csrf.0, &client).await?;
            view.form = form;
            view.form_error = Some(m);
            Ok((StatusCode::BAD_REQUEST, render(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// What deleting or disabling ends, in words.
fn usage_words(u: &ClientUsage) -> String {
    format!(
        "{} {} signed in to it, {} {} given to it, {} basic-auth {}, {} of its own users waiting in the upgrade",
        u.signed_in_people,
        if u.signed_in_people == 1 { "person is" } else { "people are" },
        u.consents,
        if u.consents == 1 { "consent" } else { "consents" },
        u.basic_auth_bindings,
        if u.basic_auth_bindings == 1 { "binding" } else { "bindings" },
        u.legacy_records,
    )
}

pub async fn secret_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let client = found(&state, &me, &id).await?;
    if client.auth_method() != AuthMethod::Secret {
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "No secret",
            "This product has no client secret: it is public or signs its own assertions.",
        ));
    }
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Issue a new secret for \u{201c}{}\u{201d}?", client.name),
        message: "The current secret stops working at once (within five seconds on every node): the product cannot sign people in or refresh tokens until it is configured with the new one, which is shown once on the next page.".to_owned(),
        action: format!("/admin/products/{id}/secret"),
        button: "Issue a new secret",
        cancel: format!("/admin/products/{id}"),
        fields: vec![],
    }))
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

pub async fn secret_rotate(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    jar: CookieJar,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let (client, secret) = state.core.oidc().rotate_client_secret(&me.admin, &id).await?;
    Ok(crate::flash::redirect_with(
        &state,
        jar,
        PRODUCT_CREATED,
        serde_json::json!({
            "name": client.name,
            "client_id": client.id,
            "secret": secret.expose(),
            "rotated": true,
        }),
        "/admin/products/created",
    ))
}

pub async fn disable_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let client = found(&state, &me, &id).await?;
    let usage = state.core.oidc().client_usage(&me.admin, &id).await?;
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Disable \u{201c}{}\u{201d}?", client.name),
        message: format!(
            "Nobody can sign in to it, its secret is refused and every token it holds is inactive until you enable it again (tokens that have not expired by then work again). Now {}.",
            usage_words(&usage)
        ),
        action: format!("/admin/products/{id}/disable"),
        button: "Disable the product",
        cancel: format!("/admin/products/{id}"),
        fields: vec![],
    }))
}

pub async fn disable(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    state.core.oidc().set_client_enabled(&me.admin, &id, false).await?;
    Ok(Redirect::to(&format!("/admin/products/{id}?notice=disabled")).into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    state.core.oidc().set_client_enabled(&me.admin, &id, true).await?;
    Ok(Redirect::to(&format!("/admin/products/{id}?notice=enabled")).into_response())
}

pub async fn delete_confirm(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let client = found(&state, &me, &id).await?;
    let usage = state.core.oidc().client_usage(&me.admin, &id).await?;
    Ok(render(&ConfirmPage {
        csrf: csrf.0,
        heading: format!("Delete \u{201c}{}\u{201d}?", client.name),
        message: format!(
            "This ends everything it holds: {}. Its tokens stop working at once, its client ID can never be used again, and this cannot be undone. To stop it for a while, disable it instead.",
            usage_words(&usage)
        ),
        action: format!("/admin/products/{id}/delete"),
        button: "Delete the product",
        cancel: format!("/admin/products/{id}"),
        fields: vec![],
    }))
}

pub async fn delete(
    State(state): State<AppState>,
    me: ConsoleAdmin,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    state.core.oidc().delete_client(&me.admin, &id).await?;
    Ok(Redirect::to("/admin/products?notice=deleted").into_response())
}

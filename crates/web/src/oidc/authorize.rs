//! `/oauth/authorize` (GET and POST, OIDC Core §3.1.2.1): sends the browser to log in, back to
//! the product with a code or an error, or shows an error page when the request cannot be
//! trusted to redirect anywhere.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::oidc_provider::{AuthorizeOutcome, ConsentDecision};
use latchkey_protocol::oidc::{Params, ResponseMode};
use serde::Deserialize;

use crate::error::{PageError, leads_to_products, message_page, render};
use crate::extract::{CsrfForm, CsrfToken, MaybeSignedIn, SignedIn};
use crate::state::AppState;

/// Our own marker on the authorize URL we send the person back to after a forced re-login:
/// sealed by core and bound to the request, so adding one by hand achieves nothing.
const AUTH_AFTER: &str = "lk_auth_after";

pub async fn authorize_get(
    State(state): State<AppState>,
    signed_in: MaybeSignedIn,
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    authorize(state, signed_in, csrf, query.unwrap_or_default(), ConsentDecision::NotAsked).await
}

pub async fn authorize_post(
    State(state): State<AppState>,
    signed_in: MaybeSignedIn,
    csrf: CsrfToken,
    body: Bytes,
) -> Result<Response, PageError> {
    let raw = String::from_utf8_lossy(&body).into_owned();
    authorize(state, signed_in, csrf, raw, ConsentDecision::NotAsked).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ConsentForm {
    /// The authorization request, as it arrived (form-encoded).
    request: String,
    decision: String,
}

/// `/oauth/consent`: the answer from the consent screen (CSRF-protected), then the
/// authorization request carries on with it.
pub async fn consent_submit(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<ConsentForm>,
) -> Result<Response, PageError> {
    let decision = match form.decision.as_str() {
        "allow" => ConsentDecision::Allowed,
        "deny" => ConsentDecision::Denied,
        _ => return Ok(invalid_request_page("the consent answer is missing")),
    };
    authorize(state, MaybeSignedIn(Some(me)), csrf, form.request, decision).await
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    csrf: String,
    client_name: String,
    logo: Option<String>,
    email: String,
    scopes: Vec<&'static str>,
    request: String,
    switch_account: String,
}

/// What each scope lets a product see, in words.
pub(crate) fn describe_scope(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Know who you are (a stable identifier for your account)"),
        "profile" => Some("See your name"),
        "email" => Some("See your email address"),
        "offline_access" => Some("Stay connected while you are away"),
        _ => None,
    }
}

/// To the login page, and back to this same request after it (without our marker from an
/// earlier loop; with the new one when a fresh sign-in was asked for). `reauth` shows the form
/// even to someone signed in.
fn to_login(
    raw: &str,
    reauth_marker: Option<String>,
    reauth: bool,
    notice: Option<&str>,
    login_hint: Option<String>,
) -> Response {
    Redirect::to(&login_url(raw, reauth_marker, reauth, notice, login_hint)).into_response()
}

/// `/login?next=/oauth/authorize?…` for this authorization request.
fn login_url(
    raw: &str,
    reauth_marker: Option<String>,
    reauth: bool,
    notice: Option<&str>,
    login_hint: Option<String>,
) -> String {
    let mut back: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .filter(|(k, _)| k != AUTH_AFTER)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(marker) = reauth_marker {
        back.push((AUTH_AFTER.into(), marker));
    }
    let mut login = vec![("next".to_owned(), format!("/oauth/authorize?{}", encode(&back)))];
    if reauth {
        login.push(("reauth".into(), "1".into()));
    }
    if let Some(notice) = notice {
        login.push(("notice".into(), notice.into()));
    }
    if let Some(hint) = login_hint {
        login.push(("login_hint".into(), hint));
    }
    format!("/login?{}", encode(&login))
}

async fn authorize(
    state: AppState,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    csrf: CsrfToken,
    raw: String,
    consent: ConsentDecision,
) -> Result<Response, PageError> {
    let mut params = match Params::from_urlencoded(raw.as_bytes()) {
        Ok(p) => p,
        Err(e) => return Ok(invalid_request_page(&e.error_description)),
    };
    let marker = params.take(AUTH_AFTER);
    let me = signed_in.as_ref().map(|s| (s.session(), s.account()));
    let outcome = state.core.oidc().authorize(params, me, marker.as_deref(), consent).await?;
    Ok(match outcome {
        AuthorizeOutcome::ErrorPage(e) => invalid_request_page(&e.error_description),
        AuthorizeOutcome::Consent { client_name, logo_uri, scopes } => {
            let Some(me) = signed_in else {
                return Ok(invalid_request_page("no one is signed in"));
            };
            leads_to_products(render(&ConsentPage {
                csrf: csrf.0,
                client_name,
                logo: logo_uri,
                email: me.account().email.to_string(),
                scopes: scopes.iter().filter_map(|s| describe_scope(s)).collect(),
                // "Not you?": the login form again (even though someone is signed in), then
                // this same request.
                switch_account: login_url(&raw, None, true, None, None),
                request: raw,
            }))
        }
        AuthorizeOutcome::VerifyEmailFirst { client_name } => message_page(
            StatusCode::FORBIDDEN,
            "Verify your email address first",
            &format!(
                "{client_name} needs a verified email address. Open the link we emailed you \
                 (or ask for a new one at /verify-email/resend), then come back to {client_name}."
            ),
        ),
        AuthorizeOutcome::SignInAgain { login_hint } => {
            to_login(&raw, None, true, Some("policy"), login_hint)
        }
        AuthorizeOutcome::Login { reauth_marker, login_hint } => {
            let reauth = reauth_marker.is_some();
            to_login(&raw, reauth_marker, reauth, None, login_hint)
        }
        AuthorizeOutcome::Respond { redirect_uri, response_mode, params } => match response_mode {
            ResponseMode::Query => match url::Url::parse(&redirect_uri) {
                Ok(mut url) => {
                    url.query_pairs_mut().extend_pairs(&params);
                    Redirect::to(url.as_str()).into_response()
                }
                Err(_) => invalid_request_page("the redirect URI is not valid"),
            },
            ResponseMode::FormPost => form_post(&redirect_uri, params),
        },
    })
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn invalid_request_page(description: &str) -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        "This sign-in link is not valid",
        &format!(
            "The product that sent you here made a request Latchkey cannot accept ({description}). \
             Go back to the product and try again, or tell its administrator."
        ),
    )
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    fields: Vec<(String, String)>,
}

/// OAuth 2.0 Form Post Response Mode: an HTML form that the small script submits (a button
/// for browsers without JavaScript). This page alone may post to the product's origin.
fn form_post(redirect_uri: &str, params: Vec<(String, String)>) -> Response {
    let origin = url::Url::parse(redirect_uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let mut response = render(&FormPostPage { action: redirect_uri, fields: params });
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; form-action {origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

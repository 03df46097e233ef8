//! The SAML service provider's endpoints: our metadata per connection, and the ACS where an
//! identity provider posts its Response (cross-site, so outside the CSRF layer; the
//! RelayState kept in the database binds it to the sign-in that asked).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use latchkey_core::saml_sp::{SamlLogin, SamlLoginError, TestReport};
use latchkey_core::second_factor::BeginSignIn;
use serde::Deserialize;

use crate::error::{message_page, render, unexpected_page};
use crate::extract::{Client, CookieNames, pending_cookie};
use crate::pages::login::{signed_in, step_path};
use crate::state::AppState;

/// `/saml/{connection}/metadata`: public, for the IdP's admin.
pub async fn metadata(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.core.saml().sp_metadata(&id).await {
        Ok(Some(xml)) => {
            ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response()
        }
        Ok(None) => {
            message_page(StatusCode::NOT_FOUND, "Not found", "There is no such SAML connection.")
        }
        Err(e) => unexpected_page(&e),
    }
}

/// `/launch/{client}`: where an IdP-initiated sign-in to a product lands — on to the
/// product's site (the origin of its web redirect URI; only registered products).
pub async fn launch(State(state): State<AppState>, Path(client): Path<String>) -> Response {
    match state.core.saml().landing_url(&client).await {
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => message_page(StatusCode::NOT_FOUND, "Not found", "There is no such product."),
        Err(e) => unexpected_page(&e),
    }
}

#[derive(Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// `/saml/{connection}/acs` (HTTP-POST binding).
pub async fn acs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Client(client): Client,
    jar: CookieJar,
    Form(form): Form<AcsForm>,
) -> Response {
    let outcome =
        state.core.saml().consume(&id, &form.saml_response, &form.relay_state, client, None).await;
    match outcome {
        Ok(SamlLogin::SignedIn(BeginSignIn::SignedIn(success), next)) => {
            state.metrics.login("success");
            signed_in(&state, jar, &success, &next)
        }
        Ok(SamlLogin::SignedIn(BeginSignIn::Pending(token, step), _)) => {
            state.metrics.login("pending");
            let names = CookieNames::new(state.settings.secure_cookies());
            let cookie = pending_cookie(names, token.expose().to_owned());
            (jar.add(cookie), Redirect::to(step_path(step))).into_response()
        }
        Ok(SamlLogin::Tested(report)) => test_page(&report),
        Err(SamlLoginError::UnknownConnection) => {
            message_page(StatusCode::NOT_FOUND, "Not found", "There is no such SAML connection.")
        }
        Err(e @ (SamlLoginError::Refused(_) | SamlLoginError::Deactivated)) => {
            state.metrics.login("saml_refused");
            let message = format!(
                "Your organization's sign-in could not be accepted: {e}. Try again from the login \
                 page; if it keeps failing, your administrator can see why in the audit log."
            );
            message_page(StatusCode::FORBIDDEN, "Sign-in refused", &message)
        }
        Err(SamlLoginError::Unexpected(e)) => unexpected_page(&e),
    }
}

#[derive(Template)]
#[template(path = "saml_test.html")]
struct TestPage<'a> {
    report: &'a TestReport,
}

/// "Test connection": what the IdP sent, verified, or exactly why it was refused.
fn test_page(report: &TestReport) -> Response {
    render(&TestPage { report })
}

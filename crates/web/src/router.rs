//! The route table and the middleware stack: request ids, tracing, panics caught, timeouts,
//! body limits, security headers, CSRF (token cookie plus Fetch-metadata checks on pages).

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

use tower_http::trace::TraceLayer;

use crate::error::not_found;
use crate::extract::csrf_cookie;
use crate::oidc::{authorize, basic_auth, discovery, end_session, token, userinfo};
use crate::pages::{
    account, admin, admin_account, api_tokens, console_tokens, email_change, home, keys,
    legacy_console, login, org, org_removal, password_reset, platform, policies, products,
    rollout_status, saml_console, security, services, sign_in_steps, signup, upgraded,
    verify_email,
};
use crate::state::AppState;
use crate::{health, metrics};

/// Forms are small; anything larger is refused before a handler sees it.
const BODY_LIMIT: usize = 64 * 1024;
/// The SAML ACS: a signed (and perhaps encrypted) response, base64 in a form.
const SAML_BODY_LIMIT: usize = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Imports stream files of any size (a million records take about a minute on SQLite).
const IMPORT_TIMEOUT: Duration = Duration::from_hours(2);

/// What every request goes through, as one layer: each `from_fn` layer clones and boxes all
/// the layers inside it on every request, and five of them cost more than the discovery
/// handler itself. In order:
/// - the deadline: every request ends within [`REQUEST_TIMEOUT`] (503), but a legacy import
///   (its route's own body limit is lifted too, and it is only for site admins);
/// - the installation's look, for every page and error page drawn below;
/// - the host check (DNS rebinding: 421 for a host name we do not serve);
/// - metrics, by route pattern;
/// - the security headers, on whatever comes back.
async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit =
        if req.uri().path().ends_with("/legacy/import") { IMPORT_TIMEOUT } else { REQUEST_TIMEOUT };
    let served = crate::brand::scoped(&state, async {
        match crate::host_check::refusal(&state, &req) {
            Some(refused) => refused,
            None => metrics::track(&state, req, next).await,
        }
    });
    let mut response = match tokio::time::timeout(limit, served).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    security_headers(state.settings.secure_cookies(), response.headers_mut());
    response
}

/// No inline script or style anywhere; forms post only to us; never framed. Pages whose forms
/// lead on to a product (see `crate::error::leads_to_products`) drop `form-action`.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; \
    script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The site and organization consoles (`/admin/…`), merged into the pages.
fn consoles() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin::overview))
        .route("/admin/users", get(admin::users))
        .route(
            "/admin/users/deactivate",
            get(admin::user_deactivate_confirm).post(admin::user_deactivate),
        )
        .route("/admin/users/close", get(admin::user_close_confirm).post(admin::user_close))
        .route("/admin/users/account", get(admin_account::show))
        .route("/admin/platform", get(platform::show))
        .route(
            "/admin/platform/tokens/revoke",
            get(platform::revoke_confirm).post(platform::revoke),
        )
        .route("/admin/platform/keys/rotate", get(platform::rotate_confirm).post(platform::rotate))
        .route("/admin/platform/branding", post(platform::save_branding))
        .route(
            "/admin/platform/branding/reset",
            get(platform::reset_branding_confirm).post(platform::reset_branding),
        )
        .route("/admin/users/sessions/end", post(admin_account::end_session))
        .route("/admin/users/reactivate", post(admin_account::reactivate))
        .route("/admin/users/send-reset", post(admin_account::send_reset))
        .route("/admin/users/invite", post(admin_account::invite))
        .route(
            "/admin/users/site-admin",
            get(admin_account::site_admin_confirm).post(admin_account::site_admin_set),
        )
        .route(
            "/admin/users/reset-two-factor",
            get(admin::user_reset_two_factor_confirm).post(admin::user_reset_two_factor),
        )
        .route("/admin/products", get(admin::products).post(admin::product_create))
        .route("/admin/products/created", get(admin::product_created))
        .route("/admin/products/{id}", get(products::show).post(products::update))
        .route(
            "/admin/products/{id}/secret",
            get(products::secret_confirm).post(products::secret_rotate),
        )
        .route(
            "/admin/products/{id}/disable",
            get(products::disable_confirm).post(products::disable),
        )
        .route("/admin/products/{id}/enable", post(products::enable))
        .route("/admin/products/{id}/delete", get(products::delete_confirm).post(products::delete))
        .route("/admin/products/{id}/legacy", get(legacy_console::show))
        .route(
            "/admin/products/{id}/legacy/import",
            post(legacy_console::import).layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/products/{id}/legacy/imports/{import}", get(legacy_console::result))
        .route(
            "/admin/products/{id}/legacy/purge",
            get(legacy_console::confirm_purge).post(legacy_console::purge),
        )
        .route("/admin/products/{id}/rollout", post(legacy_console::rollout))
        .route("/admin/deliveries", get(admin::deliveries))
        .route("/admin/deliveries/retry", post(admin::deliveries_retry))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/export", get(admin::audit_export))
        .merge(org_consoles())
}

/// Organizations' consoles (`/admin/orgs`, `/admin/org/{id}/…`).
fn org_consoles() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs", post(admin::org_create))
        .route("/admin/org/{id}", get(org::show))
        .route("/admin/org/{id}/domains", post(org::domain_add))
        .route("/admin/org/{id}/domains/verify", post(org::domain_verify))
        .route(
            "/admin/org/{id}/accounts/deactivate",
            get(org::account_deactivate_confirm).post(org::account_deactivate),
        )
        .route(
            "/admin/org/{id}/accounts/close",
            get(org::account_close_confirm).post(org::account_close),
        )
        .route(
            "/admin/org/{id}/accounts/action",
            get(org::account_action_confirm).post(org::account_action),
        )
        .route("/admin/org/{id}/admins", post(org::admin_add))
        .route(
            "/admin/org/{id}/admins/remove",
            get(org_removal::admin_remove_confirm).post(org_removal::admin_remove),
        )
        .route(
            "/admin/org/{id}/domains/remove",
            get(org_removal::domain_remove_confirm).post(org_removal::domain_remove),
        )
        .route("/admin/org/{id}/delete", get(org_removal::delete_confirm).post(org_removal::delete))
        .route("/admin/org/{id}/audit", get(org::audit))
        .route("/admin/org/{id}/policies", get(policies::org_show))
        .route("/admin/org/{id}/policies/edit", post(policies::org_edit))
        .route("/admin/org/{id}/policies/create", post(policies::org_create))
        .route("/admin/org/{id}/policies/assign", post(policies::org_assign))
        .route(
            "/admin/org/{id}/api-tokens",
            get(console_tokens::org_show).post(console_tokens::org_token_create),
        )
        .route(
            "/admin/org/{id}/api-tokens/revoke",
            get(console_tokens::org_confirm_revoke).post(console_tokens::org_revoke),
        )
        .route("/admin/org/{id}/bots", post(console_tokens::org_bot_create))
        .route("/admin/bots", get(console_tokens::site_show).post(console_tokens::site_bot_create))
        .route("/admin/api-tokens", post(console_tokens::site_token_create))
        .route(
            "/admin/api-tokens/revoke",
            get(console_tokens::site_confirm_revoke).post(console_tokens::site_revoke),
        )
        .route("/admin/policy", get(policies::site_show))
        .route("/admin/policy/edit", post(policies::site_edit))
        .route("/admin/org/{id}/audit/export", get(org::audit_export))
        .route("/admin/org/{id}/saml", get(saml_console::show).post(saml_console::add))
        .route("/admin/org/{id}/saml/test", post(saml_console::test))
        .route("/admin/org/{id}/saml/edit", get(saml_console::edit_show).post(saml_console::edit))
        .route(
            "/admin/org/{id}/saml/remove",
            get(saml_console::remove_confirm).post(saml_console::remove),
        )
}

/// Server-rendered pages: CSRF cookie on every response, Fetch-metadata checks in front.
fn pages(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/signup", get(signup::signup_show).post(signup::signup_submit))
        .route("/signup/check-email", get(signup::check_email))
        .route("/login", get(login::login_show).post(login::login_submit))
        .route("/logout", get(login::logout_show).post(login::logout_submit))
        .route("/verify-email", get(verify_email::verify_show).post(verify_email::verify_submit))
        .route(
            "/verify-email/resend",
            get(verify_email::resend_show).post(verify_email::resend_submit),
        )
        .route(
            "/forgot-password",
            get(password_reset::forgot_show).post(password_reset::forgot_submit),
        )
        .route(
            "/reset-password",
            get(password_reset::reset_show).post(password_reset::reset_submit),
        )
        .route("/account", get(account::account_show))
        .route("/account/name", post(account::name_update))
        .route("/account/password", get(account::password_show).post(account::password_update))
        .route("/account/sessions", get(account::sessions_show))
        .route("/account/sessions/{id}/end", post(account::session_end))
        .route(
            "/account/sessions/end-all",
            get(account::sessions_end_all_confirm).post(account::sessions_end_all),
        )
        .route("/account/closure-request", post(account::closure_request))
        .route("/account/email", get(account::email_show).post(email_change::request))
        .route(
            "/account/email/confirm",
            get(email_change::confirm_show).post(email_change::confirm_submit),
        )
        .route(
            "/account/email/revert",
            get(email_change::revert_show).post(email_change::revert_submit),
        )
        .route("/account/security", get(security::show))
        .route("/account/security/totp", post(security::totp_start))
        .route("/account/security/totp/confirm", post(security::totp_confirm))
        .route("/account/security/totp/disable", post(security::totp_disable))
        .route("/account/security/recovery-codes", post(security::recovery_codes))
        .route("/account/security/api-tokens", post(api_tokens::create))
        .route("/api-tokens/created", get(api_tokens::created_show))
        .route(
            "/account/security/api-tokens/{id}/revoke",
            get(api_tokens::confirm_revoke).post(api_tokens::revoke),
        )
        .route(
            "/login/second-factor",
            get(login::second_factor_show).post(login::second_factor_submit),
        )
        .route(
            "/login/new-password",
            get(sign_in_steps::new_password_show).post(sign_in_steps::new_password_submit),
        )
        .route(
            "/login/two-step-setup",
            get(sign_in_steps::two_step_setup_show).post(sign_in_steps::two_step_setup_submit),
        )
        .route("/password/strength", post(sign_in_steps::strength))
        .route("/login/two-step-setup/key/begin", post(keys::required_key_begin))
        .route("/login/two-step-setup/key/finish", post(keys::required_key_finish))
        .route("/login/second-factor/key/begin", post(keys::second_factor_begin))
        .route("/login/second-factor/key/finish", post(keys::second_factor_finish))
        .route("/login/passkey/begin", post(keys::passwordless_begin))
        .route("/login/passkey/finish", post(keys::passwordless_finish))
        .route("/account/security/keys/begin", post(keys::register_begin))
        .route("/account/security/keys/finish", post(keys::register_finish))
        .route("/account/security/keys/{id}/rename", post(keys::rename))
        .route("/account/security/keys/{id}/remove", post(keys::remove))
        .route("/signed-out", get(account::signed_out))
        .route("/welcome/upgraded", get(upgraded::show))
        .route("/status", get(rollout_status::show))
        .route("/account/services", get(services::show))
        .route(
            "/account/services/{client_id}/change",
            get(services::change_show).post(services::change_submit),
        )
        .route(
            "/account/services/confirm",
            get(services::confirm_show).post(services::confirm_submit),
        )
        .route("/oauth/logout/confirm", post(end_session::end_session_confirm))
        .route("/oauth/consent", post(authorize::consent_submit))
        .route("/account/products/{client_id}/revoke", post(account::product_revoke))
        .merge(consoles())
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), csrf_cookie))
        .layer(
            CsrfLayer::new().with_rejection_response(|_| crate::extract::csrf_rejection_response()),
        )
}

pub fn router(state: AppState) -> Router {
    let pages = pages(&state);

    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/brand.css", get(crate::brand::stylesheet))
        .route("/assets/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/assets/form_post.js", get(form_post_script))
        .route("/assets/webauthn.js", get(webauthn_script))
        .route("/assets/strength.js", get(strength_script))
        .route("/assets/copy.js", get(copy_script))
        .route("/assets/password.js", get(password_script))
        .route("/assets/upload.js", get(upload_script));

    // Called by products' servers and by browsers on products' pages: no cookies are read
    // here except by /oauth/authorize, which only ever answers to registered redirect URIs.
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let provider_api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::discovery(&state.settings.public_url)),
        )
        .route("/oauth/jwks", get(discovery::jwks))
        .route("/oauth/token", post(token::token))
        .route("/oauth/introspect", post(token::introspect))
        .route("/oauth/basic-auth/verify", post(basic_auth::verify))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .layer(cors);
    // Reached from products' pages (links and cross-site form posts), so outside the CSRF
    // layers; neither changes anything without a registered redirect URI or a confirmation.
    let provider_browser = Router::new()
        .route("/oauth/authorize", get(authorize::authorize_get).post(authorize::authorize_post))
        .route(
            "/oauth/logout",
            get(end_session::end_session_get).post(end_session::end_session_post),
        )
        .layer(from_fn_with_state(state.clone(), csrf_cookie));
    // The identity provider's cross-site POST: outside the CSRF layers (the RelayState in the
    // database binds it), with room for a signed response.
    let saml = Router::new()
        .route("/saml/{id}/metadata", get(crate::saml::metadata))
        .route(
            "/saml/{id}/acs",
            post(crate::saml::acs).layer(DefaultBodyLimit::max(SAML_BODY_LIMIT)),
        )
        .route("/launch/{client}", get(crate::saml::launch));

    // Bearer-token JSON API for operators' scripts: no cookies, so no CSRF surface.
    let admin_api = crate::api::routes();

    ops.merge(provider_api)
        .merge(admin_api)
        .merge(provider_browser)
        .merge(saml)
        .merge(pages)
        .layer(from_fn_with_state(state.clone(), edge))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(SequentialIds::new(&state)))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::new())
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

/// Request ids: a random per-process prefix and a counter. Unique without a random draw per
/// request (a UUID costs a `getrandom` call each time, measurable on the hot paths).
#[derive(Clone)]
struct SequentialIds {
    prefix: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SequentialIds {
    fn new(state: &AppState) -> Self {
        let token = state.core.kernel().new_opaque_token();
        let prefix: String = token.expose().chars().take(10).collect();
        Self { prefix: prefix.into(), next: std::sync::Arc::default() }
    }
}

impl MakeRequestId for SequentialIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix)).ok().map(RequestId::new)
    }
}

/// The headers every answer carries unless its handler chose its own; HSTS only when the
/// public URL is https.
fn security_headers(secure: bool, headers: &mut HeaderMap) {
    const ALWAYS: [(HeaderName, &str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    headers.reserve(ALWAYS.len() + 1);
    for (name, value) in ALWAYS {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if secure {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
}

async fn form_post_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/form_post.js"),
    )
}

async fn webauthn_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/webauthn.js"),
    )
}

async fn strength_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/strength.js"),
    )
}

async fn upload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/upload.js"),
    )
}

async fn password_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/password.js"),
    )
}

async fn copy_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/copy.js"),
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../assets/favicon.svg"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
}

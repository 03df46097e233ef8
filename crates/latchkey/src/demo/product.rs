//! One demo product: an ordinary relying party built on the `openidconnect` crate. It signs
//! people in with the code flow (PKCE, nonce, state), shows who is signed in, logs out through
//! Latchkey's end-session endpoint, and accepts back-channel logout tokens (verified against
//! Latchkey's published keys), so a sign-out anywhere reaches it. Nothing in Latchkey knows it
//! is a demo. Its REST endpoint (`GET /rest/api/whoami`) takes `Authorization: Basic` (an
//! email with an API token, or a bot's username with its token) and asks Latchkey whether the
//! pair is good, as any product's REST API would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jsonwebtoken::jwk::JwkSet;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde::Deserialize;
use tokio::sync::OnceCell;

/// What a demo product needs to know.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    /// "Tracker" or "Wiki".
    pub name: String,
    /// Latchkey's issuer URL.
    pub issuer: String,
    /// Where this product is reached, without a trailing slash.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The sibling product, linked from the page: (name, URL).
    pub sibling: Option<(String, String)>,
}

type DemoClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Sign-ins not completed within this time are forgotten.
const PENDING_TTL: Duration = Duration::from_mins(10);

struct Pending {
    verifier: String,
    nonce: String,
    started: Instant,
}

#[derive(Clone)]
struct LocalSession {
    name: String,
    email: String,
    sub: String,
    sid: Option<String>,
    id_token: String,
}

struct Provider {
    metadata: ProviderMetadataWithLogout,
    keys: Mutex<JwkSet>,
}

struct Product {
    spec: ProductSpec,
    http: reqwest::Client,
    provider: OnceCell<Provider>,
    pending: Mutex<HashMap<String, Pending>>,
    sessions: Mutex<HashMap<String, LocalSession>>,
}

/// The product's routes.
pub fn router(spec: ProductSpec) -> Result<Router, String> {
    let http = reqwest::Client::builder()
        // OpenID Connect requests must not follow redirects.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let product = Arc::new(Product {
        spec,
        http,
        provider: OnceCell::new(),
        pending: Mutex::new(HashMap::new()),
        sessions: Mutex::new(HashMap::new()),
    });
    Ok(Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/backchannel-logout", post(backchannel_logout))
        .route("/rest/api/whoami", get(rest_whoami))
        .with_state(product))
}

impl Product {
    fn cookie_name(&self) -> String {
        format!("demo_{}_session", self.spec.name.to_ascii_lowercase())
    }

    async fn provider(&self) -> Result<&Provider, String> {
        self.provider
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.spec.issuer.clone()).map_err(|e| e.to_string())?;
                let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| format!("discovery failed: {e}"))?;
                let keys = self.fetch_keys(&metadata).await?;
                Ok(Provider { metadata, keys: Mutex::new(keys) })
            })
            .await
    }

    async fn fetch_keys(&self, metadata: &ProviderMetadataWithLogout) -> Result<JwkSet, String> {
        self.http
            .get(metadata.jwks_uri().url().as_str())
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    fn client(&self, provider: &Provider) -> Result<DemoClient, String> {
        let redirect = RedirectUrl::new(format!("{}/callback", self.spec.base_url))
            .map_err(|e| e.to_string())?;
        Ok(CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(self.spec.client_id.clone()),
            Some(ClientSecret::new(self.spec.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    fn session(&self, headers: &HeaderMap) -> Option<(String, LocalSession)> {
        let wanted = self.cookie_name();
        let id = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| value.to_owned())?;
        let found = self.sessions.lock().ok()?.get(&id).cloned()?;
        Some((id, found))
    }

    fn error_page(&self, status: StatusCode, message: &str) -> Response {
        let body = format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/\">Back</a></p>",
            escape(&self.spec.name),
            escape(message)
        );
        (status, page(&self.spec.name, &body)).into_response()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} (Latchkey demo)</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;\
         padding:0 1rem;color:#172b4d}}button,.button{{font:inherit;padding:.5rem 1rem;\
         border-radius:4px;border:1px solid #0052cc;background:#0052cc;color:#fff;\
         text-decoration:none;cursor:pointer}}.muted{{color:#5e6c84}}</style></head>\
         <body>{body}</body></html>",
        title = escape(title)
    ))
}

async fn home(State(product): State<Arc<Product>>, headers: HeaderMap) -> Response {
    let name = escape(&product.spec.name);
    let sibling = product.spec.sibling.as_ref().map_or_else(String::new, |(n, url)| {
        format!(
            "<p>Also try <a href=\"{}\">{}</a>: one Latchkey login serves both.</p>",
            escape(url),
            escape(n)
        )
    });
    let body = match product.session(&headers) {
        Some((_, s)) => format!(
            "<h1>{name}</h1><p id=\"who\">Signed in as <strong>{}</strong> ({})</p>\
             <p class=\"muted\">Latchkey subject: <code>{}</code></p>\
             <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>\
             {sibling}<p><a href=\"{}/account\">Your Latchkey account</a></p>",
            escape(&s.name),
            escape(&s.email),
            escape(&s.sub),
            escape(&product.spec.issuer)
        ),
        None => format!(
            "<h1>{name}</h1><p id=\"who\">You are not signed in.</p>\
             <p><a class=\"button\" href=\"/login\">Sign in with Latchkey</a></p>{sibling}"
        ),
    };
    page(&product.spec.name, &body).into_response()
}

async fn login(State(product): State<Arc<Product>>) -> Response {
    let provider = match product.provider().await {
        Ok(p) => p,
        Err(e) => return product.error_page(StatusCode::BAD_GATEWAY, &e),
    };
    let client = match product.client(provider) {
        Ok(c) => c,
        Err(e) => return product.error_page(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    if let Ok(mut pending) = product.pending.lock() {
        pending.retain(|_, p| p.started.elapsed() < PENDING_TTL);
        pending.insert(
            state.secret().clone(),
            Pending {
                verifier: verifier.secret().clone(),
                nonce: nonce.secret().clone(),
                started: Instant::now(),
            },
        );
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(product): State<Arc<Product>>, Query(q): Query<CallbackQuery>) -> Response {
    if let Some(error) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return product
            .error_page(StatusCode::BAD_REQUEST, &format!("Sign-in failed: {error} {detail}"));
    }
    let pending = q
        .state
        .as_ref()
        .and_then(|s| product.pending.lock().ok()?.remove(s))
        .filter(|p| p.started.elapsed() < PENDING_TTL);
    let (Some(pending), Some(code)) = (pending, q.code) else {
        return product.error_page(StatusCode::BAD_REQUEST, "This sign-in is unknown or expired.");
    };
    match complete_sign_in(&product, &pending, code).await {
        Ok(session) => {
            let id = CsrfToken::new_random().secret().clone();
            if let Ok(mut sessions) = product.sessions.lock() {
                sessions.insert(id.clone(), session);
            }
            let cookie = format!("{}={id}; Path=/; HttpOnly; SameSite=Lax", product.cookie_name());
            let mut response = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => product.error_page(StatusCode::BAD_GATEWAY, &e),
    }
}

#[derive(Deserialize)]
struct SessionClaims {
    sid: Option<String>,
}

async fn complete_sign_in(
    product: &Product,
    pending: &Pending,
    code: String,
) -> Result<LocalSession, String> {
    let provider = product.provider().await?;
    let client = product.client(provider)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&product.http)
        .await
        .map_err(|e| format!("the code exchange failed: {e}"))?;
    let id_token = tokens.id_token().ok_or("Latchkey sent no ID token")?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
        .map_err(|e| format!("the ID token does not verify: {e}"))?;
    let raw = id_token.to_string();
    // The signature is verified above; `sid` is read for back-channel logout.
    let sid = jsonwebtoken::dangerous::insecure_decode_claims::<SessionClaims>(&raw)
        .ok()
        .and_then(|c| c.sid);
    Ok(LocalSession {
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map_or_else(|| "someone".to_owned(), |n| n.as_str().to_owned()),
        email: claims.email().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        sub: claims.subject().as_str().to_owned(),
        sid,
        id_token: raw,
    })
}

/// The username and password of `Authorization: Basic`, if well formed.
fn basic_pair(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let encoded = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, pass) =
        String::from_utf8(raw).ok()?.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))?;
    Some((user, pass))
}

/// A REST call checked by Latchkey: 200 with who called, 401 with Latchkey's reason.
async fn rest_whoami(State(product): State<Arc<Product>>, headers: HeaderMap) -> Response {
    let challenge = [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"demo\""))];
    let Some((username, password)) = basic_pair(&headers) else {
        let body = serde_json::json!({ "error": "send Authorization: Basic" });
        return (StatusCode::UNAUTHORIZED, challenge, axum::Json(body)).into_response();
    };
    let answer = product
        .http
        .post(format!("{}/oauth/basic-auth/verify", product.spec.issuer))
        .basic_auth(&product.spec.client_id, Some(&product.spec.client_secret))
        .form(&[("username", username.as_str()), ("password", password.as_str())])
        .send()
        .await;
    let answer: serde_json::Value = match answer {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        Ok(r) => {
            let body = serde_json::json!({ "error": format!("Latchkey answered {}", r.status()) });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
        Err(e) => {
            let body = serde_json::json!({ "error": format!("Latchkey unreachable: {e}") });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
    };
    if answer["active"] == true {
        let body = serde_json::json!({
            "product": product.spec.name,
            "sub": answer["sub"],
            "email": answer["email"],
            "credential": answer["credential"],
        });
        return axum::Json(body).into_response();
    }
    let body = serde_json::json!({ "error": answer["reason"] });
    (StatusCode::UNAUTHORIZED, challenge, axum::Json(body)).into_response()
}

async fn logout(State(product): State<Arc<Product>>, headers: HeaderMap) -> Response {
    let Some((id, session)) = product.session(&headers) else {
        return Redirect::to("/").into_response();
    };
    if let Ok(mut sessions) = product.sessions.lock() {
        sessions.remove(&id);
    }
    let clear = format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", product.cookie_name());
    // RP-initiated logout: Latchkey ends the shared session and tells the other products.
    let target = match product.provider().await {
        Ok(provider) => provider.metadata.additional_metadata().end_session_endpoint.clone().map(
            |endpoint: EndSessionUrl| {
                let mut request = LogoutRequest::from(endpoint)
                    .set_client_id(ClientId::new(product.spec.client_id.clone()));
                if let Ok(back) = PostLogoutRedirectUrl::new(format!("{}/", product.spec.base_url))
                {
                    request = request.set_post_logout_redirect_uri(back);
                }
                let mut url = request.http_get_url();
                url.query_pairs_mut().append_pair("id_token_hint", &session.id_token);
                url.to_string()
            },
        ),
        Err(_) => None,
    };
    let mut response = Redirect::to(target.as_deref().unwrap_or("/")).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct LogoutForm {
    logout_token: String,
}

#[derive(Deserialize)]
struct LogoutClaims {
    sub: Option<String>,
    sid: Option<String>,
    events: HashMap<String, serde_json::Value>,
    nonce: Option<serde_json::Value>,
}

/// Back-Channel Logout 1.0 §2.6: validate the logout token, then end the local sessions it
/// names. 200 tells Latchkey it was delivered.
async fn backchannel_logout(
    State(product): State<Arc<Product>>,
    Form(form): Form<LogoutForm>,
) -> Response {
    let refuse = |why: &str| {
        tracing::warn!(product = %product.spec.name, why, "logout token refused");
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "error": "invalid_request", "error_description": why })),
        )
            .into_response()
    };
    let claims = match verify_logout_token(&product, &form.logout_token).await {
        Ok(c) => c,
        Err(e) => return refuse(&e),
    };
    if !claims.events.contains_key(LOGOUT_EVENT) || claims.nonce.is_some() {
        return refuse("not a logout token");
    }
    if claims.sid.is_none() && claims.sub.is_none() {
        return refuse("the token names no session and no subject");
    }
    let ended = product.sessions.lock().map_or(0, |mut sessions| {
        let before = sessions.len();
        sessions.retain(|_, s| match &claims.sid {
            Some(sid) => s.sid.as_ref() != Some(sid),
            None => Some(&s.sub) != claims.sub.as_ref(),
        });
        before - sessions.len()
    });
    tracing::info!(product = %product.spec.name, ended, "back-channel logout");
    ([(header::CACHE_CONTROL, "no-store")], StatusCode::OK).into_response()
}

async fn verify_logout_token(product: &Product, token: &str) -> Result<LogoutClaims, String> {
    let provider = product.provider().await?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("logout+jwt") {
        return Err("the token is not typed logout+jwt".into());
    }
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[&product.spec.client_id]);
    validation.set_issuer(&[&product.spec.issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let kid = header.kid.ok_or("the token has no key id")?;
    for refresh in [false, true] {
        if refresh {
            let fresh = product.fetch_keys(&provider.metadata).await?;
            if let Ok(mut keys) = provider.keys.lock() {
                *keys = fresh;
            }
        }
        let key = provider.keys.lock().ok().and_then(|keys| keys.find(&kid).cloned());
        if let Some(jwk) = key {
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
            return jsonwebtoken::decode::<LogoutClaims>(token, &key, &validation)
                .map(|d| d.claims)
                .map_err(|e| format!("the token does not verify: {e}"));
        }
    }
    Err("the token's key is not published by Latchkey".into())
}

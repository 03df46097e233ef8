//! A cookie-keeping HTTP client that behaves like a browser without JavaScript: it reads the
//! CSRF token out of each page and posts forms with it. Redirects are not followed, so tests
//! see them.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::redirect::Policy;

#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    forwarded_for: Option<String>,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
}

/// A response, read in full.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        hidden_input(&self.body, "csrf_token").expect("page has a CSRF token")
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

/// The `value` of `<input … name="name" value="…">`, with HTML character references undone.
pub fn hidden_input(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    let raw = &body[start..start + end];
    let mut out = raw.to_owned();
    for (entity, ch) in [
        ("&#38;", "&"),
        ("&amp;", "&"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
    ] {
        out = out.replace(entity, ch);
    }
    Some(out)
}

impl Browser {
    pub fn new(base: &str, forwarded_for: Option<String>) -> Self {
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) latchkey-testkit Chrome/156.0")
            .build()
            .expect("http client");
        Self { base: base.trim_end_matches('/').to_owned(), http, forwarded_for, cookies }
    }

    /// A browser that opens a new connection for every request (behind a round-robin proxy,
    /// consecutive requests reach different nodes).
    pub fn one_connection_per_request(base: &str) -> Self {
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(Policy::none())
            .pool_max_idle_per_host(0)
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) latchkey-testkit Chrome/156.0")
            .build()
            .expect("http client");
        Self { base: base.trim_end_matches('/').to_owned(), http, forwarded_for: None, cookies }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    fn decorate(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.forwarded_for {
            Some(ip) => req.header("x-forwarded-for", ip),
            None => req,
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let resp = self.decorate(req).send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("body");
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(self.url(path))).await
    }

    /// Posts `fields` as a url-encoded form, exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(self.http.post(self.url(path)).form(fields)).await
    }

    /// Posts a `multipart/form-data` form: `fields` in order, then one file field
    /// (`name`, file name, content), as a browser sends an upload.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        const BOUNDARY: &str = "latchkey-testkit-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, file_name, content) = file;
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let req = self
            .http
            .post(self.url(path))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body);
        self.send(req).await
    }

    /// Loads `form_page`, then posts `fields` plus its CSRF token to `action`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        assert_eq!(page.status, 200, "GET {form_page}: {}", page.body);
        let token = page.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// Logs in and asserts success.
    pub async fn log_in(&self, email: &str, password: &str) {
        let page =
            self.submit("/login", "/login", &[("email", email), ("password", password)]).await;
        assert_eq!(page.status, 303, "login failed: {}", page.body);
    }

    /// The value of the cookie `name` this browser would send to the server.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore as _;
        let url = self.base.parse().ok()?;
        let header = self.cookies.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    pub fn header_value(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).expect("header value")
    }
}

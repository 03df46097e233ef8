//! Prometheus metrics held in an explicit registry (no global recorder), rendered by
//! `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    method: MethodLabel,
    route: RouteLabel,
    status: u16,
}

/// A request's method as a label: the standard ones without an allocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct MethodLabel(Method);

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.0.as_str())
    }
}

/// The route pattern that matched (`/oauth/authorize`, `/admin/accounts/{id}`), shared with
/// the router rather than copied per request; `unmatched` for the fallback.
#[derive(Clone, Debug)]
struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboxLabels {
    kind: &'static str,
    status: String,
}

pub struct Metrics {
    registry: Registry,
    outbox: Family<OutboxLabels, Gauge<i64, AtomicI64>>,
    http_requests: Family<HttpLabels, Counter<u64, AtomicU64>>,
    http_duration: Family<HttpLabels, Histogram>,
    pub logins: Family<OutcomeLabels, Counter<u64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("latchkey");
        let http_requests = Family::<HttpLabels, Counter<u64, AtomicU64>>::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_5, 2.0, 14))
        });
        let logins = Family::<OutcomeLabels, Counter<u64, AtomicU64>>::default();
        registry.register("http_requests", "HTTP requests answered", http_requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            http_duration.clone(),
        );
        registry.register("logins", "Password login attempts by outcome", logins.clone());
        let outbox = Family::<OutboxLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "outbox_items",
            "Queued deliveries (mail, back-channel logout) by status, database-wide; \
             dead ones failed for good",
            outbox.clone(),
        );
        Self { registry, outbox, http_requests, http_duration, logins }
    }

    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Sets the outbox gauges (read from the database at scrape time).
    pub fn set_outbox(&self, counts: &[(&'static str, String, u64)]) {
        for (kind, status, n) in counts {
            let labels = OutboxLabels { kind, status: status.clone() };
            self.outbox.get_or_create(&labels).set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Counts and times every request by its route pattern (never the raw path, which would
/// let clients create unbounded label values).
pub async fn track(state: &AppState, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = MethodLabel(req.method().clone());
    let route = RouteLabel(req.extensions().get::<MatchedPath>().cloned());
    let response = next.run(req).await;
    let labels = HttpLabels { method, route, status: response.status().as_u16() };
    state.metrics.http_requests.get_or_create(&labels).inc();
    state.metrics.http_duration.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

//! What a node tells operators about itself: Prometheus metrics over HTTP
//! (`GET /metrics` on `metrics_listen`, beside the `/healthz` and `/readyz`
//! probes, see [`serve`]), the same figures that the QUIC
//! `cluster.stats` request returns ([`Stats::node_stats`]), and the
//! tracing span every request runs in.
//!
//! One source for both: each request is recorded once, by
//! [`Stats::record_request`], which feeds the totals and
//! percentiles `cluster.stats` reports and the families below; connection,
//! subscription and lease-renewal figures live in `Stats`' atomics, and the
//! leader flag in `ClusterState`, and are read from there on every scrape.
//!
//! Series (all prefixed `dfood_`):
//! - `dfood_requests_total{type,result}` — counter; `result` is `ok` or the
//!   wire error code (`unsupported`, `forbidden`, ...). `type` is a known
//!   request type or `other`, so clients cannot grow the label set;
//! - `dfood_request_duration_seconds{type}` — histogram of answer latency;
//! - `dfood_connections`, `dfood_subscriptions` — gauges, open right now;
//! - `dfood_store_operation_seconds{op,result}` — histogram per store
//!   operation (`get`, `range`, `txn`, `lease_grant`, ...; see
//!   [`crate::store::instrumented`]); `result` is `ok`, `compare_failed`
//!   (a transaction whose compares did not hold) or the store error kind;
//! - `dfood_leader` — gauge, 1 while this node is the elected leader;
//! - `dfood_lease_renew_failures_total` — counter of failed lease renewals;
//! - `dfood_placements_total`, `dfood_placement_lost_races_total`,
//!   `dfood_placement_txns_total` — counters of placements committed,
//!   placement transactions whose compares failed, and store transactions
//!   sent for placements (one per batch, see `crate::queues`);
//! - `dfood_node_info{node,version}` — always 1, names the node.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use protocol::messages;
use protocol::messages::cluster::NodeStats;
use protocol::wire::{ErrorCode, Request as WireRequest, ServerFrame};
use tracing::{Span, debug, warn};

use crate::locks::LockAnyway;
use crate::store::instrumented::Observer;

/// The content type of the OpenMetrics text format `encode` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets, in seconds: 100 µs to 10 s.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    r#type: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabels {
    r#type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    op: &'static str,
    result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The `type` label for a request: the protocol's own name for a known
/// type, `other` for anything else (or anything the node did not support).
pub fn type_label(ty: &str, code: Option<ErrorCode>) -> &'static str {
    if code == Some(ErrorCode::Unsupported) {
        return "other";
    }
    protocol::requests::find(ty).map_or("other", |t| t.label())
}

/// The `result` label for an answer: `ok` or the wire error code.
pub fn result_label(code: Option<ErrorCode>) -> &'static str {
    code.map_or("ok", ErrorCode::as_str)
}

/// Figures read from the node on each scrape (see [`Metrics::encode`]).
#[derive(Debug, Default)]
struct Live {
    connections: AtomicU64,
    subscriptions: AtomicU64,
    leader: AtomicU64,
    lease_renew_failures: AtomicU64,
    placements: AtomicU64,
    placement_lost_races: AtomicU64,
    placement_txns: AtomicU64,
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauges = [
            (
                "connections",
                "Open client connections (QUIC)",
                &self.connections,
            ),
            (
                "subscriptions",
                "Open event subscriptions",
                &self.subscriptions,
            ),
            (
                "leader",
                "1 while this node is the elected leader, else 0",
                &self.leader,
            ),
        ];
        for (name, help, v) in gauges {
            let g = ConstGauge::new(i64::try_from(v.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        let counters = [
            (
                "lease_renew_failures",
                "Membership lease renewals that failed (store errors)",
                &self.lease_renew_failures,
            ),
            (
                "placements",
                "Placements this node committed",
                &self.placements,
            ),
            (
                "placement_lost_races",
                "Placement transactions whose compares failed (another placement took the ticket or the stock first)",
                &self.placement_lost_races,
            ),
            (
                "placement_txns",
                "Store transactions sent for placements (a batch of placements is one)",
                &self.placement_txns,
            ),
        ];
        for (name, help, v) in counters {
            let c = ConstCounter::new(v.load(Ordering::Relaxed));
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        Ok(())
    }
}

/// A node's Prometheus registry and the handles that feed it.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<TypeLabels>,
    store_seconds: HistogramFamily<StoreLabels>,
    live: Arc<Live>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new(node: &str) -> Metrics {
        let mut registry = Registry::with_prefix("dfood");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by type and result (ok or the error code)",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<TypeLabels> =
            Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "request_duration_seconds",
            "Time to answer a request (subscriptions: until the stream is open), by type",
            request_seconds.clone(),
        );
        let store_seconds: HistogramFamily<StoreLabels> =
            Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "store_operation_seconds",
            "Store operation latency, by operation and result",
            store_seconds.clone(),
        );
        registry.register(
            "node",
            "This node's name and version",
            Info::new([
                ("node", node.to_string()),
                ("version", env!("CARGO_PKG_VERSION").to_string()),
            ]),
        );
        let live = Arc::new(Live::default());
        registry.register_collector(Box::new(live.clone()));
        Metrics {
            registry,
            requests,
            request_seconds,
            store_seconds,
            live,
        }
    }

    /// Records one answered request (see `cluster::Stats::record_request`).
    pub fn observe_request(&self, ty: &'static str, result: &'static str, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { r#type: ty, result })
            .inc();
        self.request_seconds
            .get_or_create(&TypeLabels { r#type: ty })
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text, with the live figures taken from `s` and
    /// the leader flag.
    pub fn encode(&self, s: &Stats, leader: bool) -> String {
        let live = &self.live;
        let copy = |to: &AtomicU64, v: u64| to.store(v, Ordering::Relaxed);
        copy(&live.connections, s.connections.load(Ordering::Relaxed));
        copy(&live.subscriptions, s.subscriptions.load(Ordering::Relaxed));
        copy(&live.leader, u64::from(leader));
        copy(
            &live.lease_renew_failures,
            s.lease_renew_failures.load(Ordering::Relaxed),
        );
        let (placed, lost, txns) = s.placements.snapshot();
        copy(&live.placements, placed);
        copy(&live.placement_lost_races, lost);
        copy(&live.placement_txns, txns);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            warn!(error = %e, "cannot encode metrics");
        }
        out
    }
}

impl Observer for Metrics {
    fn observe(&self, op: &'static str, result: &'static str, elapsed: Duration) {
        self.store_seconds
            .get_or_create(&StoreLabels { op, result })
            .observe(elapsed.as_secs_f64());
    }
}

/// Figures a node keeps about itself, for `cluster.stats`, `cluster.top`
/// and Prometheus alike.
pub struct Stats {
    /// Placements, lost races and their store transactions (counted by
    /// the node's placement queues).
    pub placements: Arc<crate::queues::PlacementCounters>,
    pub connections: AtomicU64,
    pub subscriptions: AtomicU64,
    pub requests_total: AtomicU64,
    pub request_errors_total: AtomicU64,
    pub lease_renew_failures: AtomicU64,
    /// Cluster rounds completed (see [`NodeStats::cluster_rounds`]).
    pub cluster_rounds: AtomicU64,
    /// Latencies over the node's lifetime and over the current 10-second
    /// window, under one lock (one lock per answered request).
    latency_us: Mutex<Latencies>,
    /// The p99 of the last full window (see [`Stats::roll_window`]).
    recent_p99_us: AtomicU64,
    /// The Prometheus side of the same figures.
    pub metrics: Arc<Metrics>,
}

struct Latencies {
    lifetime: hdrhistogram::Histogram<u64>,
    window: hdrhistogram::Histogram<u64>,
}

fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 2).expect("histogram bounds")
}

/// The window of [`NodeStats::latency_p99_recent_us`].
pub const STATS_WINDOW: Duration = Duration::from_secs(10);

impl Default for Stats {
    fn default() -> Self {
        Self::new(Arc::new(Metrics::new("")))
    }
}

impl Stats {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Stats {
            metrics,
            connections: AtomicU64::new(0),
            subscriptions: AtomicU64::new(0),
            requests_total: AtomicU64::new(0),
            request_errors_total: AtomicU64::new(0),
            lease_renew_failures: AtomicU64::new(0),
            cluster_rounds: AtomicU64::new(0),
            latency_us: Mutex::new(Latencies {
                lifetime: latency_histogram(),
                window: latency_histogram(),
            }),
            recent_p99_us: AtomicU64::new(0),
            placements: Default::default(),
        }
    }

    /// Ends the current latency window: its p99 becomes the "recent" one
    /// and a new window starts. Called every [`STATS_WINDOW`].
    pub fn roll_window(&self) {
        let mut l = self.latency_us.lock_anyway();
        let h = &mut l.window;
        let p99 = if h.is_empty() {
            0
        } else {
            h.value_at_quantile(0.99)
        };
        self.recent_p99_us.store(p99, Ordering::Relaxed);
        h.reset();
    }

    /// Records one answered request, for `cluster.stats` and Prometheus
    /// alike; `code` is the error answered, if any.
    pub fn record_request(&self, ty: &str, code: Option<ErrorCode>, elapsed: Duration) {
        self.record(
            elapsed,
            matches!(code, Some(ErrorCode::Internal | ErrorCode::Unavailable)),
        );
        self.metrics
            .observe_request(type_label(ty, code), result_label(code), elapsed);
    }

    pub fn record(&self, elapsed: Duration, error: bool) {
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        if error {
            self.request_errors_total.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, 60_000_000);
        let mut l = self.latency_us.lock_anyway();
        let _ = l.lifetime.record(us);
        let _ = l.window.record(us);
    }

    /// This node's figures as `cluster.stats` reports them.
    pub fn node_stats(&self, node: &str, leader: bool, now_ms: u64) -> NodeStats {
        let (placed, lost, txns) = self.placements.snapshot();
        let (p50, p99) = {
            let l = self.latency_us.lock_anyway();
            (
                l.lifetime.value_at_quantile(0.5),
                l.lifetime.value_at_quantile(0.99),
            )
        };
        NodeStats {
            node: node.to_string(),
            connections: self.connections.load(Ordering::Relaxed),
            subscriptions: self.subscriptions.load(Ordering::Relaxed),
            requests_total: self.requests_total.load(Ordering::Relaxed),
            request_errors_total: self.request_errors_total.load(Ordering::Relaxed),
            latency_p50_us: p50,
            latency_p99_us: p99,
            leader,
            lease_renew_failures: self.lease_renew_failures.load(Ordering::Relaxed),
            latency_p99_recent_us: self.recent_p99_us.load(Ordering::Relaxed),
            at: now_ms,
            placements: placed,
            placement_lost_races: lost,
            placement_txns: txns,
            cpu_ms: process_cpu_ms(),
            cluster_rounds: self.cluster_rounds.load(Ordering::Relaxed),
            // The node's drain state is the cluster's to fill in.
            draining: false,
        }
    }

    /// The Prometheus text of these figures (see [`Metrics::encode`]).
    pub fn scrape(&self, leader: bool) -> String {
        self.metrics.encode(self, leader)
    }
}

/// This process's CPU time (user + system) in milliseconds, from
/// `/proc/self/stat`; 0 where there is none.
pub fn process_cpu_ms() -> u64 {
    protocol::bench::cpu_ms("self").unwrap_or(0)
}

/// At most this many characters of a client-chosen string go into logs.
const LOG_FIELD_MAX: usize = 64;

/// A client-given string as a log field: at most [`LOG_FIELD_MAX`]
/// characters, control characters escaped, and never a card number.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    let s = match s.char_indices().nth(LOG_FIELD_MAX) {
        Some((i, _)) => &s[..i],
        None => s,
    };
    if protocol::text::card_number_in(s, true) {
        return "(withheld: looks like a card number)".into();
    }
    protocol::text::escape(s, false)
}

/// The span a request runs in: node, request type and id, and the order
/// it is about when the body names one (`order`, filled in later for a
/// placement by [`finish_request_span`]).
pub fn request_span(node: &str, req: &WireRequest) -> Span {
    let span = tracing::info_span!(
        "request",
        node,
        r#type = clip(&req.ty).as_ref(),
        id = req.id.as_deref().map(clip).as_deref(),
        order = tracing::field::Empty,
    );
    if req.ty.starts_with("order.")
        && let Some(order) = req.body.get("order").and_then(|o| o.as_str())
    {
        span.record("order", clip(order).as_ref());
    }
    span
}

/// Notes the outcome of a request in its span (debug level).
pub fn finish_request_span(span: &Span, req: &WireRequest, frame: &ServerFrame, elapsed: Duration) {
    if let ServerFrame::Ok { body, .. } = frame
        && req.ty == messages::orders::types::PLACE
        && let Some(id) = body.get("id").and_then(|o| o.as_str())
    {
        span.record("order", clip(id).as_ref());
    }
    let result = match frame {
        ServerFrame::Error { error, .. } => error.code.as_str(),
        _ => "ok",
    };
    debug!(parent: span, result, elapsed_us = elapsed.as_micros() as u64, "request answered");
}

/// Binds the metrics endpoint (TCP) before the node starts serving, so a
/// taken port fails the start.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// How long a scraper may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What `GET /metrics` answers: the OpenMetrics text of the moment.
pub type Scrape = Arc<dyn Fn() -> String + Send + Sync>;

/// What `GET /readyz` asks: `Err(why)` when the node should get no new
/// clients.
pub type Ready = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// The HTTP endpoints of the metrics listener.
#[derive(Clone)]
pub struct Probes {
    pub scrape: Scrape,
    pub ready: Ready,
}

/// Serves, until the returned task is aborted (which also ends the
/// connections it serves):
/// - `GET /metrics`: the OpenMetrics text;
/// - `GET /healthz`: `200 ok` while the process serves (liveness);
/// - `GET /readyz`: `200 ready`, or `503 not ready: <why>` when the store
///   does not answer, the membership lease is not being renewed, or the
///   node drains or shuts down (readiness: send it no new clients).
pub fn serve(listener: tokio::net::TcpListener, probes: Probes) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, remote) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            debug!(error = %e, "metrics: accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let probes = probes.clone();
                    conns.spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            let probes = probes.clone();
                            async move { Ok::<_, std::convert::Infallible>(answer(&probes, &req).await) }
                        });
                        if let Err(e) = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), svc)
                            .await
                        {
                            debug!(%remote, error = %e, "metrics: connection ended");
                        }
                    });
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    })
}

async fn answer(probes: &Probes, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, ctype: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(ctype),
        );
        r
    };
    let text = "text/plain; charset=utf-8";
    let path = req.uri().path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return reply(
            StatusCode::NOT_FOUND,
            text,
            "not found: try /metrics, /healthz or /readyz\n".into(),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            text,
            format!("use GET {path}\n"),
        );
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    match path {
        "/healthz" => reply(StatusCode::OK, text, "ok\n".into()),
        "/readyz" => match (probes.ready)().await {
            Ok(()) => reply(StatusCode::OK, text, "ready\n".into()),
            Err(why) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                text,
                format!("not ready: {why}\n"),
            ),
        },
        _ => reply(StatusCode::OK, CONTENT_TYPE, (probes.scrape)()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(type_label("health", None), "health");
        assert_eq!(
            type_label("order.place", Some(ErrorCode::Forbidden)),
            "order.place"
        );
        assert_eq!(
            type_label("cluster.nope", Some(ErrorCode::Unauthenticated)),
            "other"
        );
        assert_eq!(type_label("health", Some(ErrorCode::Unsupported)), "other");
        assert_eq!(result_label(None), "ok");
        assert_eq!(result_label(Some(ErrorCode::BadRequest)), "bad_request");
    }

    #[test]
    fn the_recent_p99_is_the_last_full_window_only() {
        let s = Stats::default();
        for _ in 0..100 {
            s.record(Duration::from_millis(1), false);
        }
        assert_eq!(
            s.recent_p99_us.load(Ordering::Relaxed),
            0,
            "window not over"
        );
        s.roll_window();
        let p99 = s.recent_p99_us.load(Ordering::Relaxed);
        assert!((990..=1010).contains(&p99), "{p99}");
        // A window with no request reports 0; the lifetime keeps them all.
        s.roll_window();
        assert_eq!(s.recent_p99_us.load(Ordering::Relaxed), 0);
        assert_eq!(s.latency_us.lock().unwrap().lifetime.len(), 100);
        assert_eq!(s.requests_total.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn every_protocol_type_has_its_own_label() {
        for t in protocol::requests::ALL {
            assert_eq!(type_label(t.name, None), t.name);
        }
        assert_eq!(type_label("cluster.top", None), "cluster.top");
    }

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        use protocol::bench::cpu_ms_of_stat;
        let stat = "4242 (dfoodd (n 1)) S 1 4242 4242 0 -1 4194560 912 0 0 0 153 47 0 0 20 0 9 0";
        assert_eq!(cpu_ms_of_stat(stat), Some(2000));
        assert_eq!(cpu_ms_of_stat("garbage"), None);
        assert_eq!(cpu_ms_of_stat("1 (x) S 1"), None);
        // Some CPU used (bounded: at most 2 s of spinning).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while process_cpu_ms() == 0 && start.elapsed() < Duration::from_secs(2) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(
            process_cpu_ms() > 0,
            "no CPU time read from /proc/self/stat"
        );
    }

    #[test]
    fn clip_keeps_char_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), LOG_FIELD_MAX);
        assert_eq!(clip("short"), "short");
        assert_eq!(clip("a\u{1b}[2J"), "a\\x1b[2J");
        assert!(!clip("4111.1111.1111.1111").contains("1111"));
    }

    #[test]
    fn families_encode_with_prefix() {
        let m = Metrics::new("n1");
        m.observe_request("health", "ok", Duration::from_millis(2));
        m.observe("txn", "compare_failed", Duration::from_micros(300));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        for want in [
            "dfood_requests_total{type=\"health\",result=\"ok\"} 1",
            "dfood_request_duration_seconds_count{type=\"health\"} 1",
            "dfood_store_operation_seconds_count{op=\"txn\",result=\"compare_failed\"} 1",
            "dfood_connections 0",
            "dfood_leader 0",
            "dfood_lease_renew_failures_total 0",
            "dfood_node_info{node=\"n1\"",
        ] {
            assert!(out.contains(want), "{want:?} missing in:\n{out}");
        }
    }
}

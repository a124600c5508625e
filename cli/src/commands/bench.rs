//! `dfood bench`: load generators for operators sizing a cluster, and for
//! us, to know where the time goes.
//!
//! - `bench place` logs in as many customers and places orders at a seeded
//!   restaurant; `--raw-store` issues the same placement transaction
//!   (same reads, compares, puts and value sizes, same retry on a lost
//!   race) straight at the store through `daemon::store`, and `--compare`
//!   runs both back to back and prints their ratio.
//! - `bench read` browses the menu (`menu.get`).
//! - `bench track` opens N subscribers on `restaurant:<id>` while orders are
//!   placed, and measures commit-to-receipt latency (the order's
//!   `updated_at` against the time its event arrives).
//!
//! Load is either closed loop (`--concurrency` requests always in flight)
//! or open loop (`--rate` requests per second, at most `--concurrency` in
//! flight). Open-loop latency is measured from each request's intended
//! send time, not from when it could actually be sent, so a stalled server
//! is not hidden by the generator waiting for it (coordinated omission).
//! Latencies go to an HDR histogram (microsecond resolution, 3 significant
//! digits).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use daemon::catalog::{MenuDoc, StockDoc};
use daemon::store::{Compare, Store, StoreError, Txn, TxnOp};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use protocol::client::ClientError;
use protocol::messages::SubscribeRequest;
use protocol::messages::auth::{Account, SignupRequest, TokenRequest, TokenResponse};
use protocol::messages::catalog::{
    CreateRestaurant, Menu, MenuImport, MenuItem, Modifier, Restaurant, RestaurantRef,
    types as catalog_types,
};
use protocol::messages::orders::{LineRequest, Order, PlaceOrder, types as order_types};
use protocol::session::{self, Session, SessionOptions};
use protocol::wire::ErrorCode;
use serde::Serialize;

use crate::args::{Global, Output};
use crate::output::{CliError, emit};

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Place orders as many customers at a seeded restaurant, and report
    /// throughput, latency percentiles and errors.
    ///
    /// Setup (idempotent, so runs can repeat): a manager account (--manager)
    /// creates the restaurant(s) (--restaurant; --restaurants N makes
    /// <id>-1..<id>-N), imports a small menu, opens it; --customers
    /// accounts (<prefix>-1..) sign up and log in, all with --password.
    ///
    /// --raw-store issues the same placement transaction straight at the
    /// store instead (--etcd endpoints, else the embedded store file
    /// --store, else a temporary one), under keys /dfood-raw/... so the
    /// daemons never see them. --compare runs the store first, then the
    /// daemons, and prints both with their ratio.
    Place(PlaceArgs),
    /// Browse the menu (menu.get, no login) as fast as the load allows.
    Read(ReadArgs),
    /// N subscribers follow restaurant:<id> while orders are placed;
    /// reports commit-to-receipt latency of the order events.
    Track(TrackArgs),
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Requests in flight (closed loop); with --rate, the most allowed in
    /// flight.
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// Open loop: send this many requests per second whatever the answers
    /// take; latency counts from each request's intended send time.
    #[arg(long, value_name = "PER_SEC")]
    pub rate: Option<f64>,
    /// Run this long (default 10s unless --count is given).
    #[arg(long, short = 'd', value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(long, short = 'n')]
    pub count: Option<u64>,
    /// QUIC connections (sessions) to spread the load over; each moves to
    /// a random cluster member once it learns them [default: min(4, concurrency)].
    #[arg(long, value_name = "N")]
    pub connections: Option<u32>,
    /// Do not draw the progress bar (it is never drawn when stderr is not
    /// a terminal, nor with --output json).
    #[arg(long)]
    pub no_progress: bool,
    /// Sample the resident memory (VmRSS) of this local process (e.g. a
    /// dfoodd) during the run; repeat for several. The report lists the
    /// series and its growth (for soak runs).
    #[arg(long = "rss-pid", value_name = "PID")]
    pub rss_pids: Vec<u32>,
    /// Time between two RSS samples.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub rss_every: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    /// Restaurant id to place orders at (created and seeded if missing).
    #[arg(long, short = 'r', default_value = "bench")]
    pub restaurant: String,
    /// Spread orders over this many restaurants (<id>-1..<id>-N) instead of
    /// one: a restaurant's ticket counter is a hot key.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub restaurants: u32,
    /// Manager account that creates and seeds the restaurant(s).
    #[arg(long, default_value = "bench-manager", value_name = "NAME")]
    pub manager: String,
    /// Password of the manager and customer accounts (created with it).
    #[arg(
        long,
        env = "DFOOD_BENCH_PASSWORD",
        default_value = "bench-password",
        hide_env_values = true
    )]
    pub password: String,
    /// Use the restaurant as it is: no account, menu or open step.
    #[arg(long)]
    pub skip_setup: bool,
    /// Orders not accepted within this long expire (the leader voids
    /// their payment). The default keeps every order open during a run; a
    /// soak uses a short one, so the open set stays bounded and only the
    /// load is constant. Applies to restaurants this run creates.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub acceptance_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct PlaceArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub setup: SetupArgs,
    /// Customer accounts to place orders as.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub customers: u32,
    /// Customer usernames are <prefix>-1, <prefix>-2, ...
    #[arg(long, default_value = "bench-customer", value_name = "PREFIX")]
    pub customer_prefix: String,
    /// Payment method of every order.
    #[arg(
        long = "pay",
        default_value = "pm_card_visa",
        value_name = "PAYMENT_METHOD"
    )]
    pub pay: String,
    /// Place straight at the store instead of through dfoodd.
    #[arg(long, conflicts_with = "compare")]
    pub raw_store: bool,
    /// Run --raw-store and then through dfoodd, and print the ratio.
    #[arg(long)]
    pub compare: bool,
    /// etcd endpoints for --raw-store / --compare (comma-separated).
    #[arg(long, value_name = "URL[,URL...]", conflicts_with = "store")]
    pub etcd: Option<String>,
    /// Embedded store file for --raw-store / --compare [default: a new
    /// temporary file]. Not the file of a running dfoodd: it is locked.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub setup: SetupArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TrackArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub setup: SetupArgs,
    /// Subscribers following restaurant:<id> (as the manager).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub subscribers: u32,
    /// Customer accounts placing the orders.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub customers: u32,
    #[arg(long, default_value = "bench-customer", value_name = "PREFIX")]
    pub customer_prefix: String,
}

// ---------------------------------------------------------------------------
// Pure parts: schedule, recorder, report
// ---------------------------------------------------------------------------

/// Open-loop send times: request `i` is due `i / rate` seconds after the
/// start, whatever happened to the ones before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSchedule {
    interval_ns: f64,
}

impl RateSchedule {
    pub fn new(per_sec: f64) -> Result<RateSchedule, String> {
        if !(per_sec.is_finite() && per_sec > 0.0) {
            return Err(format!("--rate must be a positive number, not {per_sec}"));
        }
        Ok(RateSchedule {
            interval_ns: 1e9 / per_sec,
        })
    }

    /// When request `i` is due, from the start.
    pub fn due(&self, i: u64) -> Duration {
        Duration::from_nanos((i as f64 * self.interval_ns).round() as u64)
    }

    /// How many requests are due within `elapsed` of the start.
    pub fn due_within(&self, elapsed: Duration) -> u64 {
        (elapsed.as_nanos() as f64 / self.interval_ns).floor() as u64 + 1
    }
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: Option<u64>,
    pub duration: Option<Duration>,
}

impl Limit {
    pub fn from_args(load: &LoadArgs) -> Limit {
        Limit {
            count: load.count,
            duration: match (load.duration, load.count) {
                (None, None) => Some(Duration::from_secs(10)),
                (d, _) => d,
            },
        }
    }

    /// Whether request number `seq`, due `due` after the start, is still
    /// part of the run.
    pub fn admits(&self, seq: u64, due: Duration) -> bool {
        self.count.is_none_or(|c| seq < c) && self.duration.is_none_or(|d| due < d)
    }
}

/// Latencies and outcomes of one run.
pub struct Recorder {
    /// Microseconds.
    pub hist: Histogram<u64>,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl Recorder {
    pub fn record(&mut self, latency: Duration, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                self.hist
                    .saturating_record((latency.as_micros() as u64).max(1));
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Latency percentiles in milliseconds (successful requests only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
        }
    }
}

/// What one run measured; the `--output json` document of `bench place`,
/// `bench read` and `bench track`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `place`, `read` or `track`.
    pub bench: String,
    /// `dfoodd` (through the daemons) or `raw-store`.
    pub target: String,
    /// Endpoints, or the store (`etcd <urls>`, `embedded <file>`).
    pub against: String,
    pub concurrency: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    pub connections: u32,
    pub elapsed_secs: f64,
    /// Successful requests (for `track`: events received).
    pub ok: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Successful requests per second.
    pub throughput: f64,
    pub latency_ms: Latency,
    /// Placement transactions that lost a race and were retried (raw
    /// store only; dfoodd retries inside the daemon, unseen here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_races: Option<u64>,
    /// `track`: orders placed while the subscribers listened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders_placed: Option<u64>,
    /// Raw runs on the embedded store: its commits (each one fsync) and
    /// the write requests they carried during the run (group commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsyncs: Option<FsyncStats>,
    /// `--rss-pid`: each process's resident memory during the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rss: Vec<RssSeries>,
}

/// Group commit during a raw run on the embedded store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FsyncStats {
    /// Commits, each one fsync.
    pub commits: u64,
    /// Write requests those commits carried: placement transactions, and
    /// lost races that happened to share a commit (a batch of lost races
    /// only writes nothing and is not committed).
    pub requests: u64,
    /// requests / commits.
    pub requests_per_fsync: f64,
}

impl FsyncStats {
    pub fn between(
        before: daemon::store::embedded::CommitStats,
        after: daemon::store::embedded::CommitStats,
    ) -> FsyncStats {
        let commits = after.commits - before.commits;
        let requests = after.requests - before.requests;
        FsyncStats {
            commits,
            requests,
            requests_per_fsync: (ratio(requests as f64, commits as f64) * 100.0).round() / 100.0,
        }
    }
}

fn fsync_line(f: &FsyncStats) -> String {
    format!(
        "embedded store: {} write requests in {} commits (fsyncs), {:.2} per fsync",
        f.requests, f.commits, f.requests_per_fsync
    )
}

/// Resident memory of one process, sampled during a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RssSeries {
    pub pid: u32,
    /// (seconds since the start of the run, KiB), first sample at 0 s,
    /// last at the end of the run.
    pub samples: Vec<(f64, u64)>,
}

impl RssSeries {
    /// Last sample minus the first, in KiB (0 with fewer than 2 samples).
    pub fn growth_kib(&self) -> i64 {
        match (self.samples.first(), self.samples.last()) {
            (Some(a), Some(b)) => b.1 as i64 - a.1 as i64,
            _ => 0,
        }
    }
}

/// `VmRSS` of a process in KiB, from the text of `/proc/<pid>/status`.
pub fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn sample_rss(pid: u32) -> Option<u64> {
    vm_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn rss_line(r: &RssSeries) -> String {
    let mib = |k: u64| k as f64 / 1024.0;
    let series: Vec<String> = r
        .samples
        .iter()
        .map(|(t, k)| format!("{t:.0}s {:.1}", mib(*k)))
        .collect();
    format!(
        "RSS of pid {} (MiB): {}; growth {:+.1} MiB",
        r.pid,
        series.join(", "),
        r.growth_kib() as f64 / 1024.0
    )
}

impl Report {
    fn new(bench: &str, target: &str, against: String, load: &Plan, rec: &Recorder) -> Report {
        let elapsed = load.elapsed.as_secs_f64().max(1e-9);
        Report {
            bench: bench.into(),
            target: target.into(),
            against,
            concurrency: load.concurrency,
            rate: load.rate,
            connections: load.connections,
            elapsed_secs: (elapsed * 1000.0).round() / 1000.0,
            ok: rec.ok,
            errors: rec.errors_total(),
            errors_by_kind: rec.errors.clone(),
            throughput: (rec.ok as f64 / elapsed * 10.0).round() / 10.0,
            latency_ms: Latency::of(&rec.hist),
            lost_races: None,
            orders_placed: None,
            fsyncs: None,
            rss: load.rss.clone(),
        }
    }
}

/// `--compare`: both runs and how the daemons fare against the store.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub raw_store: Report,
    pub dfoodd: Report,
    pub ratio: Ratio,
}

/// dfoodd / raw store.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ratio {
    /// Throughput of dfoodd as a fraction of the store's (higher is better;
    /// the target at concurrency 64 is >= 0.70).
    pub throughput: f64,
    pub p50: f64,
    /// p99 of dfoodd over the store's (lower is better; target <= 1.5).
    pub p99: f64,
    /// Added per request at the median, milliseconds.
    pub p50_added_ms: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 100.0).round() / 100.0
    } else {
        0.0
    }
}

impl Comparison {
    pub fn new(raw_store: Report, dfoodd: Report) -> Comparison {
        let ratio = Ratio {
            throughput: ratio(dfoodd.throughput, raw_store.throughput),
            p50: ratio(dfoodd.latency_ms.p50, raw_store.latency_ms.p50),
            p99: ratio(dfoodd.latency_ms.p99, raw_store.latency_ms.p99),
            p50_added_ms: ((dfoodd.latency_ms.p50 - raw_store.latency_ms.p50) * 1000.0).round()
                / 1000.0,
        };
        Comparison {
            raw_store,
            dfoodd,
            ratio,
        }
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, s)| {
                    if i == 0 {
                        format!("{s:<w$}", w = widths[i])
                    } else {
                        format!("{s:>w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn errors_line(r: &Report) -> String {
    if r.errors_by_kind.is_empty() {
        "none".into()
    } else {
        r.errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn metric_rows(reports: &[&Report]) -> Vec<Vec<String>> {
    let f = |v: f64| format!("{v:.3}");
    let mut rows = vec![
        (
            "throughput /s",
            reports
                .iter()
                .map(|r| format!("{:.1}", r.throughput))
                .collect(),
        ),
        ("ok", reports.iter().map(|r| r.ok.to_string()).collect()),
        (
            "errors",
            reports.iter().map(|r| r.errors.to_string()).collect(),
        ),
        (
            "p50 ms",
            reports.iter().map(|r| f(r.latency_ms.p50)).collect(),
        ),
        (
            "p90 ms",
            reports.iter().map(|r| f(r.latency_ms.p90)).collect(),
        ),
        (
            "p99 ms",
            reports.iter().map(|r| f(r.latency_ms.p99)).collect(),
        ),
        (
            "p99.9 ms",
            reports.iter().map(|r| f(r.latency_ms.p999)).collect(),
        ),
        (
            "max ms",
            reports.iter().map(|r| f(r.latency_ms.max)).collect(),
        ),
        (
            "mean ms",
            reports.iter().map(|r| f(r.latency_ms.mean)).collect(),
        ),
    ];
    if reports.iter().any(|r| r.lost_races.is_some()) {
        rows.push((
            "lost races",
            reports
                .iter()
                .map(|r| r.lost_races.map_or("-".into(), |n| n.to_string()))
                .collect(),
        ));
    }
    rows.into_iter()
        .map(|(k, vs): (&str, Vec<String>)| {
            let mut row = vec![k.to_string()];
            row.extend(vs);
            row
        })
        .collect()
}

fn load_line(r: &Report) -> String {
    let rate = r
        .rate
        .map_or(String::new(), |x| format!(", open loop at {x}/s"));
    format!(
        "bench {} via {} ({}): concurrency {}{rate}, {} connections, {:.1}s",
        r.bench, r.target, r.against, r.concurrency, r.connections, r.elapsed_secs
    )
}

/// The human table of one run.
pub fn render_report(r: &Report) -> String {
    let mut out = load_line(r);
    out.push('\n');
    let mut rows = metric_rows(&[r]);
    if let Some(n) = r.orders_placed {
        rows.push(vec!["orders placed".into(), n.to_string()]);
    }
    out.push_str(&table(&rows));
    out.push_str(&format!("\nerrors by kind: {}", errors_line(r)));
    if let Some(f) = &r.fsyncs {
        out.push('\n');
        out.push_str(&fsync_line(f));
    }
    for series in &r.rss {
        out.push('\n');
        out.push_str(&rss_line(series));
    }
    out
}

/// The human table of `--compare`.
pub fn render_comparison(c: &Comparison) -> String {
    let mut rows = vec![vec![
        String::new(),
        "raw store".into(),
        "dfoodd".into(),
        "dfoodd/raw".into(),
    ]];
    for (i, mut row) in metric_rows(&[&c.raw_store, &c.dfoodd])
        .into_iter()
        .enumerate()
    {
        row.push(match i {
            0 => format!("{:.2}", c.ratio.throughput),
            3 => format!("{:.2}", c.ratio.p50),
            5 => format!("{:.2}", c.ratio.p99),
            _ => String::new(),
        });
        rows.push(row);
    }
    let mut out = format!(
        "{}\n{}\n{}\nerrors by kind: raw store: {}; dfoodd: {}\n\
         dfoodd reaches {:.0}% of the store's throughput (target >= 70% at c=64), \
         p99 {:.2}x the store's (target <= 1.5x), +{:.3} ms at the median",
        load_line(&c.raw_store),
        load_line(&c.dfoodd),
        table(&rows),
        errors_line(&c.raw_store),
        errors_line(&c.dfoodd),
        c.ratio.throughput * 100.0,
        c.ratio.p99,
        c.ratio.p50_added_ms,
    );
    if let Some(f) = &c.raw_store.fsyncs {
        out.push('\n');
        out.push_str(&fsync_line(f));
    }
    out
}

// ---------------------------------------------------------------------------
// The load driver
// ---------------------------------------------------------------------------

type OpFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// One request of the benchmark; its argument is the request's sequence
/// number (0, 1, ...), unique within the run.
type Op = Arc<dyn Fn(u64) -> OpFuture + Send + Sync>;

/// How a run went, for the report.
struct Plan {
    concurrency: u32,
    rate: Option<f64>,
    connections: u32,
    elapsed: Duration,
    rss: Vec<RssSeries>,
}

struct Shared {
    rec: Mutex<Recorder>,
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Shared {
    fn record(&self, latency: Duration, outcome: Result<(), String>) {
        if outcome.is_ok() {
            self.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.rec
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(latency, outcome);
    }
}

fn progress_bar(show: bool, limit: Limit, label: &str) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (len, unit) = match (limit.count, limit.duration) {
        (Some(n), _) => (n, "{pos}/{len}"),
        (None, Some(d)) => (d.as_millis() as u64, "{elapsed}"),
        (None, None) => (0, "{pos}"),
    };
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{label} [{{bar:30}}] {unit} {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// Runs `op` under the load `load` describes; returns what it recorded.
async fn drive(load: &LoadArgs, op: Op, label: &str, show: bool) -> (Plan, Recorder) {
    let limit = Limit::from_args(load);
    let concurrency = load.concurrency as usize;
    let shared = Arc::new(Shared {
        rec: Mutex::new(Recorder::default()),
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    let pb = progress_bar(show, limit, label);
    let done = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let sampler = {
        let (pids, every, done) = (load.rss_pids.clone(), load.rss_every, done.clone());
        tokio::spawn(async move {
            let mut series: Vec<RssSeries> = pids
                .iter()
                .map(|&pid| RssSeries {
                    pid,
                    samples: vec![],
                })
                .collect();
            if series.is_empty() {
                return series;
            }
            let mut next = Instant::now();
            loop {
                let finished = done.load(Ordering::Relaxed);
                if finished || Instant::now() >= next {
                    let t = start.elapsed().as_secs_f64();
                    for s in &mut series {
                        if let Some(k) = sample_rss(s.pid) {
                            s.samples.push((t, k));
                        }
                    }
                    next += every;
                }
                if finished {
                    return series;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let ticker = {
        let (pb, shared, done) = (pb.clone(), shared.clone(), done.clone());
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let ok = shared.ok.load(Ordering::Relaxed);
                let failed = shared.failed.load(Ordering::Relaxed);
                let now = Instant::now();
                let rate = (ok - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
                last = (now, ok);
                if limit.count.is_some() {
                    pb.set_position(ok + failed);
                } else {
                    pb.set_position(start.elapsed().as_millis() as u64);
                }
                pb.set_message(format!("{ok} ok, {failed} errors, {rate:.0}/s"));
            }
        })
    };
    match load.rate {
        None => {
            let issued = Arc::new(AtomicU64::new(0));
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..concurrency {
                let (op, shared, issued) = (op.clone(), shared.clone(), issued.clone());
                workers.spawn(async move {
                    loop {
                        let seq = issued.fetch_add(1, Ordering::Relaxed);
                        if !limit.admits(seq, start.elapsed()) {
                            break;
                        }
                        let t0 = Instant::now();
                        let outcome = op(seq).await;
                        shared.record(t0.elapsed(), outcome);
                    }
                });
            }
            while workers.join_next().await.is_some() {}
        }
        Some(rate) => {
            let schedule = RateSchedule::new(rate).unwrap_or(RateSchedule { interval_ns: 1e6 });
            let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
            let mut seq = 0u64;
            while limit.admits(seq, schedule.due(seq)) {
                let due = start + schedule.due(seq);
                tokio::time::sleep_until(due.into()).await;
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (op, shared) = (op.clone(), shared.clone());
                tokio::spawn(async move {
                    let outcome = op(seq).await;
                    // From the intended send time: waiting for a free slot
                    // is part of the latency a user would see.
                    shared.record(due.elapsed(), outcome);
                    drop(slot);
                });
                seq += 1;
            }
            let _all = slots.acquire_many(concurrency as u32).await;
        }
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = ticker.await;
    let rss = sampler.await.unwrap_or_default();
    pb.finish_and_clear();
    let rec = std::mem::take(&mut *shared.rec.lock().unwrap_or_else(PoisonError::into_inner));
    (
        Plan {
            concurrency: load.concurrency,
            rate: load.rate,
            connections: connections(load),
            elapsed,
            rss,
        },
        rec,
    )
}

fn connections(load: &LoadArgs) -> u32 {
    load.connections.unwrap_or(load.concurrency.min(4)).max(1)
}

// ---------------------------------------------------------------------------
// Setup through the protocol
// ---------------------------------------------------------------------------

fn client_error_kind(e: &ClientError) -> String {
    match e {
        ClientError::Server(b) => b.code.as_str().to_string(),
        ClientError::Timeout { .. } => "timeout".into(),
        ClientError::Transport { .. } => "transport".into(),
        ClientError::Connect { .. } => "connect".into(),
        ClientError::GoingAway { .. } => "going_away".into(),
        ClientError::Protocol { .. } => "protocol_error".into(),
        ClientError::Tls(_) | ClientError::Endpoint { .. } => "config".into(),
    }
}

/// `k` sessions over the configured endpoints, each moving once to a
/// random member, so that load spreads over the cluster.
async fn sessions(g: &Global, k: u32) -> Result<Vec<Session>, CliError> {
    let eff = super::effective(g)?;
    let ca_path = eff.ca.ok_or_else(|| {
        CliError::config(
            "no CA configured: pass --ca FILE, set DFOOD_CA, or `dfood config set ca FILE`",
        )
    })?;
    let ca_pem = std::fs::read(&ca_path)
        .map_err(|e| CliError::config(format!("cannot read CA file {}: {e}", ca_path.display())))?;
    let seeds = session::parse_endpoints(&eff.endpoint);
    let mut out = Vec::new();
    for _ in 0..k {
        let mut opts = SessionOptions::new(seeds.clone(), ca_pem.clone());
        opts.server_name = eff.server_name.clone();
        opts.timeout = g.timeout;
        opts.rebalance = true;
        let s = Session::connect(opts).await?;
        // Learn the members now, so the first requests already spread.
        let _ = s.refresh_members().await;
        out.push(s);
    }
    Ok(out)
}

/// The distinct nodes the sessions are connected to.
fn endpoints_of(ss: &[Session]) -> String {
    let set: std::collections::BTreeSet<String> =
        ss.iter().filter_map(Session::current_endpoint).collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// Signs `name` up (an existing account is fine) and logs in.
async fn account(s: &Session, name: &str, password: &str) -> Result<TokenResponse, CliError> {
    let signup = SignupRequest {
        username: name.into(),
        password: password.into(),
    };
    match s
        .call::<_, Account>(protocol::messages::auth::types::SIGNUP, None, &signup)
        .await
    {
        Ok(_) => {}
        Err(ClientError::Server(b)) if b.code == ErrorCode::Conflict => {}
        Err(e) => return Err(setup_error(&format!("signing up {name}"), e)),
    }
    s.call(
        protocol::messages::auth::types::TOKEN,
        None,
        &TokenRequest::password(name, password),
    )
    .await
    .map_err(|e| setup_error(&format!("logging in as {name}"), e))
}

fn setup_error(what: &str, e: ClientError) -> CliError {
    let mut c = CliError::from(e);
    c.message = format!("bench setup: {what}: {}", c.message);
    c
}

/// Customer tokens, signed up and logged in a few at a time (password
/// hashing is deliberately slow).
async fn customers(
    sessions: &[Session],
    prefix: &str,
    n: u32,
    password: &str,
) -> Result<Vec<String>, CliError> {
    let mut tokens = Vec::new();
    let names: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i}")).collect();
    for chunk in names.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for (i, name) in chunk.iter().enumerate() {
            let s = sessions[i % sessions.len()].clone();
            let (name, password) = (name.clone(), password.to_string());
            set.spawn(async move { account(&s, &name, &password).await });
        }
        while let Some(r) = set.join_next().await {
            let t =
                r.map_err(|e| CliError::new(crate::exit::FAILURE, "internal", e.to_string()))??;
            tokens.push(t.access_token);
        }
    }
    Ok(tokens)
}

fn restaurant_ids(setup: &SetupArgs) -> Vec<String> {
    if setup.restaurants <= 1 {
        vec![setup.restaurant.clone()]
    } else {
        (1..=setup.restaurants)
            .map(|i| format!("{}-{i}", setup.restaurant))
            .collect()
    }
}

/// The seeded menu: a dozen items; one counts stock (so placements take
/// stock, as the stock compare and put of a real order do), one has a
/// modifier.
pub fn seed_menu() -> Vec<MenuItem> {
    let mut items = vec![
        MenuItem {
            sku: "margherita".into(),
            name: "Margherita".into(),
            price: 950,
            station: "oven".into(),
            modifiers: vec![Modifier {
                code: "extra_cheese".into(),
                name: "Extra cheese".into(),
                price: 150,
            }],
            available: true,
            stock: None,
            allergens: "gluten; milk".into(),
        },
        MenuItem {
            sku: "tiramisu".into(),
            name: "Tiramisu".into(),
            price: 600,
            station: "cold".into(),
            modifiers: vec![],
            available: true,
            stock: Some(1_000_000_000),
            allergens: "egg; milk".into(),
        },
    ];
    for i in 1..=10 {
        items.push(MenuItem {
            sku: format!("dish-{i}"),
            name: format!("Dish number {i}"),
            price: 500 + 25 * i,
            station: if i % 2 == 0 { "grill" } else { "fry" }.into(),
            modifiers: vec![],
            available: true,
            stock: None,
            allergens: String::new(),
        });
    }
    items
}

/// The lines of every benchmark order: 2 x margherita + extra cheese, 1 x
/// tiramisu, with the prices the menu shows.
pub fn order_lines(menu: &[MenuItem]) -> Vec<LineRequest> {
    let price = |sku: &str, extra: i64| menu.iter().find(|i| i.sku == sku).map(|i| i.price + extra);
    vec![
        LineRequest {
            sku: "margherita".into(),
            qty: 2,
            modifiers: vec!["extra_cheese".into()],
            expected_unit_price: price("margherita", 150),
        },
        LineRequest {
            sku: "tiramisu".into(),
            qty: 1,
            modifiers: vec![],
            expected_unit_price: price("tiramisu", 0),
        },
    ]
}

/// Creates, seeds and opens the restaurants as the manager; returns the
/// manager's token and the lines to order.
async fn seed(s: &Session, setup: &SetupArgs) -> Result<(String, Vec<LineRequest>), CliError> {
    let ids = restaurant_ids(setup);
    if setup.skip_setup {
        let menu: Menu = s
            .call(
                catalog_types::MENU_GET,
                None,
                &RestaurantRef {
                    restaurant: ids[0].clone(),
                },
            )
            .await?;
        return Ok((String::new(), order_lines(&menu.items)));
    }
    let manager = account(s, &setup.manager, &setup.password).await?;
    let token = Some(manager.access_token.as_str());
    for id in &ids {
        let create = CreateRestaurant {
            id: id.clone(),
            name: format!("Bench {id}"),
            currency: "EUR".into(),
            // By default, orders left unaccepted do not expire during a run.
            acceptance_timeout_secs: Some(setup.acceptance_timeout.as_secs().max(1)),
        };
        match s
            .call::<_, Restaurant>(catalog_types::RESTAURANT_CREATE, token, &create)
            .await
        {
            Ok(_) => {}
            Err(ClientError::Server(b)) if b.code == ErrorCode::Conflict => {}
            Err(e) => return Err(setup_error(&format!("creating restaurant {id}"), e)),
        }
        let import = MenuImport {
            restaurant: id.clone(),
            items: seed_menu(),
            replace: true,
        };
        s.call::<_, Menu>(catalog_types::MENU_IMPORT, token, &import)
            .await
            .map_err(|e| setup_error(&format!("importing the menu of {id}"), e))?;
        s.call::<_, Restaurant>(
            catalog_types::RESTAURANT_OPEN,
            token,
            &RestaurantRef {
                restaurant: id.clone(),
            },
        )
        .await
        .map_err(|e| setup_error(&format!("opening {id}"), e))?;
    }
    let menu: Menu = s
        .call(
            catalog_types::MENU_GET,
            None,
            &RestaurantRef {
                restaurant: ids[0].clone(),
            },
        )
        .await?;
    Ok((manager.access_token, order_lines(&menu.items)))
}

/// A run id that keeps idempotency keys of separate runs apart.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

fn show_progress(g: &Global, load: &LoadArgs) -> bool {
    g.output == Output::Human && !load.no_progress
}

// ---------------------------------------------------------------------------
// bench place
// ---------------------------------------------------------------------------

/// Places orders through the daemons.
fn place_op(
    sessions: Vec<Session>,
    tokens: Vec<String>,
    restaurants: Vec<String>,
    lines: Vec<LineRequest>,
    pay: String,
) -> Op {
    let run = run_id();
    let ctx = Arc::new((sessions, tokens, restaurants, lines, pay, run));
    Arc::new(move |seq: u64| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let (sessions, tokens, restaurants, lines, pay, run) = &*ctx;
            let s = &sessions[seq as usize % sessions.len()];
            let token = &tokens[seq as usize % tokens.len()];
            let req = PlaceOrder {
                restaurant: restaurants[seq as usize % restaurants.len()].clone(),
                lines: lines.clone(),
                note: String::new(),
                payment_method: pay.clone(),
                idempotency_key: format!("bench-{run}-{seq}"),
            };
            s.call::<_, Order>(order_types::PLACE, Some(token), &req)
                .await
                .map(|_| ())
                .map_err(|e| client_error_kind(&e))
        }) as OpFuture
    })
}

async fn place_via_dfoodd(g: &Global, a: &PlaceArgs, show: bool) -> Result<Report, CliError> {
    let ss = sessions(g, connections(&a.load)).await?;
    seed(&ss[0], &a.setup).await?;
    let lines = order_lines(&seed_menu());
    let tokens = customers(&ss, &a.customer_prefix, a.customers, &a.setup.password).await?;
    let against = endpoints_of(&ss);
    let op = place_op(
        ss.clone(),
        tokens,
        restaurant_ids(&a.setup),
        lines,
        a.pay.clone(),
    );
    let (plan, rec) = drive(&a.load, op, "place via dfoodd", show).await;
    for s in ss {
        s.close().await;
    }
    Ok(Report::new("place", "dfoodd", against, &plan, &rec))
}

/// The store the raw mode talks to.
struct RawStore {
    store: Arc<dyn Store>,
    embedded: Option<Arc<daemon::store::embedded::EmbeddedStore>>,
    against: String,
    _dir: Option<tempfile::TempDir>,
}

async fn open_raw_store(a: &PlaceArgs) -> Result<RawStore, CliError> {
    let unavailable =
        |e: StoreError| CliError::new(crate::exit::UNAVAILABLE, "unavailable", e.to_string());
    if let Some(list) = &a.etcd {
        let endpoints = session::parse_endpoints(list);
        let store = daemon::store::etcd::EtcdStore::connect(&endpoints)
            .await
            .map_err(unavailable)?;
        return Ok(RawStore {
            store,
            embedded: None,
            against: format!("etcd {}", endpoints.join(",")),
            _dir: None,
        });
    }
    let (path, dir) = match &a.store {
        Some(p) => (p.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("dfood-bench-")
                .tempdir()
                .map_err(|e| CliError::config(format!("temporary directory: {e}")))?;
            (dir.path().join("store.redb"), Some(dir))
        }
    };
    let store = daemon::store::embedded::EmbeddedStore::open(&path).map_err(unavailable)?;
    Ok(RawStore {
        store: store.clone(),
        embedded: Some(store),
        against: format!("embedded {}", path.display()),
        _dir: dir,
    })
}

/// Raw keys live under `/dfood-raw/` instead of `/dfood/`: the same shape
/// (4 bytes longer), invisible to any daemon sharing the store.
fn raw(key: &str) -> String {
    match key.strip_prefix("/dfood/") {
        Some(rest) => format!("/dfood-raw/{rest}"),
        None => key.to_string(),
    }
}

fn store_error_kind(e: &StoreError) -> String {
    match e {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Compacted { .. } => "compacted",
        StoreError::LeaseNotFound(_) => "lease_not_found",
        StoreError::Invalid(_) => "invalid",
        StoreError::Internal(_) => "internal",
    }
    .into()
}

/// What the raw placement needs, shared by its tasks.
struct RawPlace {
    store: Arc<dyn Store>,
    restaurants: Vec<String>,
    /// (user id, username), shaped like the daemon's.
    customers: Vec<(String, String)>,
    lines: Vec<LineRequest>,
    pay: String,
    run: String,
    /// The daemon's default gateway, over the same store: its records go
    /// into the placement transaction as they do in the daemon.
    gateway: Arc<dyn daemon::payments::Gateway>,
    lost_races: AtomicU64,
    /// The daemon's per-restaurant turns (this process is one node).
    placing: daemon::queues::Queues,
}

/// Writes restaurant, menu and stock documents as the catalog would.
async fn seed_raw(store: &dyn Store, restaurants: &[String]) -> Result<(), CliError> {
    let fail = |e: String| {
        CliError::new(
            crate::exit::UNAVAILABLE,
            "unavailable",
            format!("bench setup: {e}"),
        )
    };
    let items = seed_menu();
    let menu = MenuDoc {
        items: items
            .iter()
            .cloned()
            .map(|mut i| {
                i.stock = None;
                i
            })
            .collect(),
    };
    let stock = StockDoc {
        units: items
            .iter()
            .filter_map(|i| Some((i.sku.clone(), i.stock?)))
            .collect(),
    };
    for id in restaurants {
        let r = Restaurant {
            id: id.clone(),
            name: format!("Bench {id}"),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 86_400,
            created_at: unix_ms(),
        };
        let ops = vec![
            TxnOp::put(raw(&daemon::catalog::restaurant_key(id)), json(&r)),
            TxnOp::put(raw(&daemon::catalog::menu_key(id)), json(&menu)),
            TxnOp::put(raw(&daemon::catalog::stock_key(id)), json(&stock)),
        ];
        store
            .txn(Txn::new().and_then(ops))
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}

/// A document as the daemon stores it (`daemon::api::to_doc`: JSON).
fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialisable")
}

/// The same transaction with every key moved under `/dfood-raw/`.
fn raw_txn(t: Txn) -> Txn {
    let op = |o: TxnOp| match o {
        TxnOp::Put { key, value, lease } => TxnOp::Put {
            key: raw(&key),
            value,
            lease,
        },
        TxnOp::Delete { key } => TxnOp::Delete { key: raw(&key) },
        TxnOp::Get { key } => TxnOp::Get { key: raw(&key) },
    };
    Txn {
        compares: t
            .compares
            .into_iter()
            .map(|c| Compare {
                key: raw(&c.key),
                ..c
            })
            .collect(),
        success: t.success.into_iter().map(op).collect(),
        failure: t.failure.into_iter().map(op).collect(),
    }
}

/// One placement, straight at the store: the per-restaurant turn, the
/// reads, the transaction and the retry on a lost race of
/// `daemon::orders::place::place` — the same `read_inputs` and `plan` —
/// without the parts that are not the store's
/// (auth, the answer). With the sandbox gateway the payment's records are
/// part of that transaction, so they are here too.
async fn raw_place(ctx: &RawPlace, seq: u64) -> Result<(), String> {
    use daemon::orders::place::{idem_key, plan, read_inputs};
    let store = ctx.store.as_ref();
    let r = &ctx.restaurants[seq as usize % ctx.restaurants.len()];
    let (user_id, username) = &ctx.customers[seq as usize % ctx.customers.len()];
    let req = PlaceOrder {
        restaurant: r.clone(),
        lines: ctx.lines.clone(),
        note: String::new(),
        payment_method: ctx.pay.clone(),
        idempotency_key: format!("bench-{}-{seq}", ctx.run),
    };
    // The daemon's key; `plan` compares and puts it, `raw_txn` moves it.
    let idem = idem_key(user_id, &req.idempotency_key);
    let code = |e: daemon::rpc::ApiError| e.code.as_str().to_string();
    let moved = |k: &str| raw(k);
    for attempt in 0..200u32 {
        // The daemon's per-restaurant turn (this process is one node).
        let turn = ctx.placing.enter(r).await;
        let (existing, inputs) = tokio::try_join!(
            async {
                store
                    .get(&raw(&idem))
                    .await
                    .map_err(|e| store_error_kind(&e))
            },
            async { read_inputs(store, r, &moved).await.map_err(code) }
        )?;
        if existing.is_some() {
            return Ok(());
        }
        let placement = plan(
            &inputs,
            &req,
            &idem,
            (user_id, username),
            ctx.gateway.as_ref(),
            unix_ms(),
        )
        .map_err(code)?;
        let resp = store
            .txn(raw_txn(placement.txn))
            .await
            .map_err(|e| store_error_kind(&e))?;
        drop(turn);
        if resp.succeeded {
            return Ok(());
        }
        ctx.lost_races.fetch_add(1, Ordering::Relaxed);
        // The daemon's pause after a lost race.
        let jitter = (unix_ms() ^ u64::from(attempt).wrapping_mul(2654435761)) % 5;
        tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(10)) + jitter)).await;
    }
    Err("too_many_lost_races".into())
}

async fn place_raw(a: &PlaceArgs, show: bool) -> Result<Report, CliError> {
    let rs = open_raw_store(a).await?;
    let restaurants = restaurant_ids(&a.setup);
    seed_raw(rs.store.as_ref(), &restaurants).await?;
    let run = run_id();
    let ctx = Arc::new(RawPlace {
        store: rs.store.clone(),
        restaurants,
        customers: (1..=a.customers)
            .map(|i| {
                (
                    format!("usr_{:024x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15),
                    format!("{}-{i}", a.customer_prefix),
                )
            })
            .collect(),
        lines: order_lines(&seed_menu()),
        pay: a.pay.clone(),
        run,
        gateway: Arc::new(daemon::payments::sandbox::SandboxGateway::new(
            rs.store.clone(),
        )),
        lost_races: AtomicU64::new(0),
        placing: Default::default(),
    });
    let op: Op = {
        let ctx = ctx.clone();
        Arc::new(move |seq| {
            let ctx = ctx.clone();
            Box::pin(async move { raw_place(&ctx, seq).await }) as OpFuture
        })
    };
    let before = rs.embedded.as_ref().map(|e| e.commit_stats());
    let (mut plan, rec) = drive(&a.load, op, "place via raw store", show).await;
    plan.connections = 1;
    let mut report = Report::new("place", "raw-store", rs.against.clone(), &plan, &rec);
    report.lost_races = Some(ctx.lost_races.load(Ordering::Relaxed));
    if let (Some(e), Some(before)) = (&rs.embedded, before) {
        report.fsyncs = Some(FsyncStats::between(before, e.commit_stats()));
    }
    if let Some(embedded) = &rs.embedded {
        // Finish queued writes before the temporary directory goes.
        embedded.close().await;
    }
    Ok(report)
}

pub async fn bench(g: &Global, cmd: BenchCmd) -> Result<(), CliError> {
    match cmd {
        BenchCmd::Place(a) => place(g, a).await,
        BenchCmd::Read(a) => read(g, a).await,
        BenchCmd::Track(a) => track(g, a).await,
    }
}

fn check_load(load: &LoadArgs) -> Result<(), CliError> {
    if let Some(r) = load.rate {
        RateSchedule::new(r).map_err(|e| CliError::new(crate::exit::USAGE, "bad_request", e))?;
    }
    if load.count == Some(0) {
        return Err(CliError::new(
            crate::exit::USAGE,
            "bad_request",
            "--count must be at least 1",
        ));
    }
    Ok(())
}

async fn place(g: &Global, a: PlaceArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    if a.compare {
        let raw = place_raw(&a, show).await?;
        let via = place_via_dfoodd(g, &a, show).await?;
        let c = Comparison::new(raw, via);
        emit(g.output, &c, render_comparison);
        return Ok(());
    }
    let report = if a.raw_store {
        place_raw(&a, show).await?
    } else {
        place_via_dfoodd(g, &a, show).await?
    };
    emit(g.output, &report, render_report);
    Ok(())
}

// ---------------------------------------------------------------------------
// bench read
// ---------------------------------------------------------------------------

async fn read(g: &Global, a: ReadArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    let ss = sessions(g, connections(&a.load)).await?;
    seed(&ss[0], &a.setup).await?;
    let against = endpoints_of(&ss);
    let ctx = Arc::new((ss.clone(), restaurant_ids(&a.setup)));
    let op: Op = Arc::new(move |seq| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let (sessions, restaurants) = &*ctx;
            let s = &sessions[seq as usize % sessions.len()];
            let r = RestaurantRef {
                restaurant: restaurants[seq as usize % restaurants.len()].clone(),
            };
            s.call::<_, Menu>(catalog_types::MENU_GET, None, &r)
                .await
                .map(|_| ())
                .map_err(|e| client_error_kind(&e))
        }) as OpFuture
    });
    let (plan, rec) = drive(&a.load, op, "menu.get", show).await;
    for s in ss {
        s.close().await;
    }
    let report = Report::new("read", "dfoodd", against, &plan, &rec);
    emit(g.output, &report, render_report);
    Ok(())
}

// ---------------------------------------------------------------------------
// bench track
// ---------------------------------------------------------------------------

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn track(g: &Global, a: TrackArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    let ss = sessions(g, connections(&a.load)).await?;
    let (manager, _) = seed(&ss[0], &a.setup).await?;
    if manager.is_empty() {
        return Err(CliError::new(
            crate::exit::USAGE,
            "bad_request",
            "bench track subscribes as the manager: it cannot --skip-setup",
        ));
    }
    let restaurant = restaurant_ids(&a.setup)[0].clone();
    let tokens = customers(&ss, &a.customer_prefix, a.customers, &a.setup.password).await?;
    // Subscribers: each records, per order event, now - the order's
    // updated_at (both Unix milliseconds on this machine's clock).
    let received = Arc::new(Mutex::new(Recorder::default()));
    let mut subs = tokio::task::JoinSet::new();
    let mut ready = Vec::new();
    for i in 0..a.subscribers {
        let s = ss[i as usize % ss.len()].clone();
        let (token, topic) = (manager.clone(), format!("restaurant:{restaurant}"));
        let received = received.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        ready.push(rx);
        subs.spawn(async move {
            let req = SubscribeRequest {
                topic,
                from_revision: None,
            };
            let mut sub = match s.subscribe(&req, Some(&token)).await {
                Ok(sub) => {
                    let _ = tx.send(Ok(()));
                    sub
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            // Runs until aborted after the load: reading a frame is not
            // cancel-safe, so no timeout around `next`.
            loop {
                let item = match sub.next().await {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => {
                        received
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .record(Duration::ZERO, Err(client_error_kind(&e)));
                        break;
                    }
                };
                let now = unix_ms();
                if let protocol::client::SubscriptionItem::Events { events, .. } = item {
                    let mut rec = received.lock().unwrap_or_else(PoisonError::into_inner);
                    for ev in events {
                        if !ev.kind.starts_with("order.") {
                            continue;
                        }
                        if let Some(at) = ev.data.get("updated_at").and_then(|v| v.as_u64()) {
                            rec.record(Duration::from_millis(now.saturating_sub(at)), Ok(()));
                        }
                    }
                }
            }
        });
    }
    for rx in ready {
        if let Ok(Err(e)) = rx.await {
            subs.abort_all();
            return Err(CliError::new(
                crate::exit::UNAVAILABLE,
                "unavailable",
                format!("bench setup: subscribing: {e}"),
            ));
        }
    }
    let op = place_op(
        ss.clone(),
        tokens,
        vec![restaurant.clone()],
        order_lines(&seed_menu()),
        "pm_card_visa".into(),
    );
    let (plan, placed) = drive(&a.load, op, "track", show).await;
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    subs.abort_all();
    while subs.join_next().await.is_some() {}
    let rec = std::mem::take(&mut *received.lock().unwrap_or_else(PoisonError::into_inner));
    let mut rec_all = rec;
    for (k, n) in placed.errors {
        *rec_all.errors.entry(format!("place:{k}")).or_default() += n;
    }
    let against = endpoints_of(&ss);
    let mut report = Report::new("track", "dfoodd", against, &plan, &rec_all);
    report.orders_placed = Some(placed.ok);
    for s in ss {
        s.close().await;
    }
    emit(g.output, &report, render_report);
    Ok(())
}

// ---------------------------------------------------------------------------
// Tests of the pure parts
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn schedule_spaces_requests_evenly() {
        let s = RateSchedule::new(1000.0).unwrap();
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(1), Duration::from_millis(1));
        assert_eq!(s.due(1500), Duration::from_millis(1500));
        assert_eq!(s.due_within(Duration::ZERO), 1);
        assert_eq!(s.due_within(Duration::from_micros(999)), 1);
        assert_eq!(s.due_within(Duration::from_millis(10)), 11);
        let third = RateSchedule::new(3.0).unwrap();
        assert_eq!(third.due(3), Duration::from_secs(1));
        assert_eq!(third.due(1), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn schedule_refuses_nonsense_rates() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(RateSchedule::new(r).is_err(), "{r}");
        }
    }

    #[test]
    fn limits_stop_at_count_or_duration() {
        let by_count = Limit {
            count: Some(3),
            duration: None,
        };
        assert!(by_count.admits(2, Duration::from_secs(99)));
        assert!(!by_count.admits(3, Duration::ZERO));
        let by_time = Limit {
            count: None,
            duration: Some(Duration::from_secs(1)),
        };
        assert!(by_time.admits(1_000_000, Duration::from_millis(999)));
        assert!(!by_time.admits(0, Duration::from_secs(1)));
    }

    #[test]
    fn ten_seconds_unless_a_count_is_given() {
        let mut load = parse(&["dfood", "bench", "place"]).load;
        assert_eq!(
            Limit::from_args(&load).duration,
            Some(Duration::from_secs(10))
        );
        load.count = Some(5);
        assert_eq!(
            Limit::from_args(&load),
            Limit {
                count: Some(5),
                duration: None
            }
        );
    }

    fn parse(args: &[&str]) -> PlaceArgs {
        let cli = crate::args::Cli::try_parse_from(args).expect("parses");
        match cli.command {
            crate::args::Command::Bench {
                cmd: BenchCmd::Place(a),
            } => a,
            other => panic!("not bench place: {other:?}"),
        }
    }

    #[test]
    fn args_parse() {
        let a = parse(&[
            "dfood",
            "bench",
            "place",
            "-c",
            "64",
            "--rate",
            "500",
            "-d",
            "3s",
            "--compare",
            "--etcd",
            "127.0.0.1:2379",
            "--restaurants",
            "4",
            "-o",
            "json",
        ]);
        assert_eq!(a.load.concurrency, 64);
        assert_eq!(a.load.rate, Some(500.0));
        assert_eq!(a.load.duration, Some(Duration::from_secs(3)));
        assert!(a.compare && !a.raw_store);
        assert_eq!(a.etcd.as_deref(), Some("127.0.0.1:2379"));
        assert_eq!(
            restaurant_ids(&a.setup),
            ["bench-1", "bench-2", "bench-3", "bench-4"]
        );
        assert_eq!(connections(&a.load), 4);
        let d = parse(&["dfood", "bench", "place"]);
        assert_eq!(d.load.concurrency, 16);
        assert_eq!(d.customers, 8);
        assert_eq!(restaurant_ids(&d.setup), ["bench"]);
        assert_eq!(d.pay, "pm_card_visa");
        let one = parse(&["dfood", "bench", "place", "-c", "1"]);
        assert_eq!(connections(&one.load), 1);
        for bad in [
            &["dfood", "bench", "place", "-c", "0"][..],
            &["dfood", "bench", "place", "--raw-store", "--compare"],
            &["dfood", "bench", "place", "--etcd", "x", "--store", "y"],
        ] {
            assert!(crate::args::Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    fn report_with(latencies_ms: &[u64], errors: &[(&str, u64)]) -> Report {
        let mut rec = Recorder::default();
        for l in latencies_ms {
            rec.record(Duration::from_millis(*l), Ok(()));
        }
        for (k, n) in errors {
            for _ in 0..*n {
                rec.record(Duration::ZERO, Err(k.to_string()));
            }
        }
        let plan = Plan {
            concurrency: 4,
            rate: None,
            connections: 2,
            elapsed: Duration::from_secs(2),
            rss: vec![],
        };
        Report::new("place", "dfoodd", "127.0.0.1:7400".into(), &plan, &rec)
    }

    #[test]
    fn rss_is_read_from_proc_status_and_reported_with_its_growth() {
        let status = "Name:\tdfoodd\nVmPeak:\t  900000 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n";
        assert_eq!(vm_rss_kib(status), Some(20480));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        assert_eq!(vm_rss_kib("VmRSS:\tlots kB\n"), None);
        // Our own process is there to read.
        assert!(sample_rss(std::process::id()).is_some_and(|k| k > 0));
        let series = RssSeries {
            pid: 42,
            samples: vec![(0.0, 20480), (30.0, 22528), (60.0, 21504)],
        };
        assert_eq!(series.growth_kib(), 1024);
        assert_eq!(RssSeries::default().growth_kib(), 0);
        let mut r = report_with(&[1, 2], &[]);
        r.rss = vec![series];
        let text = render_report(&r);
        assert!(
            text.contains("RSS of pid 42 (MiB): 0s 20.0, 30s 22.0, 60s 21.0; growth +1.0 MiB"),
            "{text}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["rss"][0]["samples"][1],
            serde_json::json!([30.0, 22528])
        );
    }

    #[test]
    fn fsyncs_per_commit_are_counted_between_two_readings() {
        use daemon::store::embedded::CommitStats;
        let f = FsyncStats::between(
            CommitStats {
                commits: 10,
                requests: 12,
            },
            CommitStats {
                commits: 110,
                requests: 1012,
            },
        );
        assert_eq!(
            (f.commits, f.requests, f.requests_per_fsync),
            (100, 1000, 10.0)
        );
        let mut r = report_with(&[1], &[]);
        r.fsyncs = Some(f);
        assert!(
            render_report(&r).contains(
                "embedded store: 1000 write requests in 100 commits (fsyncs), 10.00 per fsync"
            ),
            "{}",
            render_report(&r)
        );
    }

    #[test]
    fn raw_transactions_move_every_key() {
        let t = Txn::new()
            .when([Compare::absent("/dfood/idem/u/k")])
            .and_then([
                TxnOp::put("/dfood/orders/r/r-1", "x"),
                TxnOp::delete("/dfood/work/a"),
            ])
            .or_else([TxnOp::get("/dfood/tickets/r")]);
        let r = raw_txn(t);
        assert_eq!(r.compares[0].key, "/dfood-raw/idem/u/k");
        assert_eq!(
            r.success,
            [
                TxnOp::put("/dfood-raw/orders/r/r-1", "x"),
                TxnOp::delete("/dfood-raw/work/a")
            ]
        );
        assert_eq!(r.failure, [TxnOp::get("/dfood-raw/tickets/r")]);
    }

    #[test]
    fn recorder_percentiles_and_errors() {
        let lat: Vec<u64> = (1..=100).collect();
        let r = report_with(&lat, &[("conflict", 2), ("timeout", 1)]);
        assert_eq!(r.ok, 100);
        assert_eq!(r.errors, 3);
        assert_eq!(r.throughput, 50.0);
        assert!((r.latency_ms.p50 - 50.0).abs() < 0.1, "{:?}", r.latency_ms);
        assert!((r.latency_ms.p99 - 99.0).abs() < 0.1, "{:?}", r.latency_ms);
        assert!((r.latency_ms.max - 100.0).abs() < 0.1, "{:?}", r.latency_ms);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["errors_by_kind"]["conflict"], 2);
        for k in ["p50", "p90", "p99", "p999", "max", "mean"] {
            assert!(json["latency_ms"][k].is_number(), "{k}");
        }
        assert!(json.get("rate").is_none());
        assert!(json.get("lost_races").is_none());
    }

    #[test]
    fn empty_runs_report_zeros() {
        let r = report_with(&[], &[]);
        assert_eq!(r.latency_ms, Latency::default());
        assert_eq!(r.throughput, 0.0);
        assert!(render_report(&r).contains("errors by kind: none"));
    }

    #[test]
    fn human_report_is_a_table() {
        let r = report_with(&[1, 2, 3], &[("unavailable", 1)]);
        let text = render_report(&r);
        assert!(
            text.starts_with("bench place via dfoodd (127.0.0.1:7400): concurrency 4"),
            "{text}"
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("throughput /s"))
            .unwrap();
        assert!(line.ends_with(" 1.5"), "{text}");
        assert!(text.contains("p99.9 ms"), "{text}");
        assert!(text.contains("errors by kind: unavailable 1"), "{text}");
    }

    #[test]
    fn comparison_ratios() {
        let raw = report_with(&[10; 40], &[]);
        let via = report_with(&[20; 20], &[]);
        let c = Comparison::new(raw, via);
        assert_eq!(c.ratio.throughput, 0.5);
        assert!((c.ratio.p99 - 2.0).abs() < 0.01);
        assert!((c.ratio.p50_added_ms - 10.0).abs() < 0.05);
        let text = render_comparison(&c);
        assert!(text.contains("dfoodd/raw"), "{text}");
        assert!(text.contains("50% of the store's throughput"), "{text}");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["ratio"]["throughput"], 0.5);
        assert!(json["raw_store"]["throughput"].is_number());
        assert!(json["dfoodd"]["latency_ms"]["p99"].is_number());
    }

    #[test]
    fn raw_keys_stay_apart() {
        assert_eq!(raw("/dfood/tickets/bench"), "/dfood-raw/tickets/bench");
        assert_eq!(raw("/elsewhere"), "/elsewhere");
    }

    #[test]
    fn seeded_lines_price_like_the_daemon() {
        let lines = order_lines(&seed_menu());
        let req = PlaceOrder {
            restaurant: "bench".into(),
            lines: lines.clone(),
            note: String::new(),
            payment_method: "pm_card_visa".into(),
            idempotency_key: "bench-0000-1".into(),
        };
        daemon::orders::place::validate(&req).expect("valid");
        assert_eq!(lines[0].expected_unit_price, Some(1100));
        assert_eq!(lines[1].expected_unit_price, Some(600));
    }
}

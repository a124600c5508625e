//! The load driver and report shared by `dfood bench` and `dfoodd-bench`
//! (the raw-store runner on the daemon's side): closed- or open-loop load
//! with a progress bar, an HDR recorder, the report both print as JSON,
//! and the seeded menu and order every placement benchmark uses.
//!
//! Behind the `bench` feature: only the two benchmark programs need it.
//!
//! Load is either closed loop (`concurrency` requests always in flight)
//! or open loop (`rate` requests per second, at most `concurrency` in
//! flight). Open-loop latency is measured from each request's intended
//! send time, not from when it could actually be sent, so a stalled server
//! is not hidden by the generator waiting for it (coordinated omission).
//! Latencies go to an HDR histogram (microsecond resolution, 3 significant
//! digits).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::messages::catalog::{MenuItem, Modifier};
use crate::messages::orders::LineRequest;

/// `a / b` rounded to two decimals; 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// The load of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Requests in flight (closed loop); with `rate`, the most in flight.
    pub concurrency: u32,
    /// Open loop: requests per second whatever the answers take.
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    /// Connections the load is spread over (for the report).
    pub connections: u32,
    /// Processes whose resident memory is sampled during the run.
    pub rss_pids: Vec<u32>,
    pub rss_every: Duration,
}

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
    #[expect(
        clippy::cast_sign_loss,
        reason = "f64 to u64 saturates; interval and index are never negative"
    )]
    pub fn due(&self, i: u64) -> Duration {
        Duration::from_nanos((i as f64 * self.interval_ns).round() as u64)
    }

    /// How many requests are due within `elapsed` of the start.
    #[expect(
        clippy::cast_sign_loss,
        reason = "f64 to u64 saturates; a duration over a positive interval is never negative"
    )]
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
    pub fn of(load: &Load) -> Limit {
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `place`, `read` or `track`.
    pub bench: String,
    /// `dfoodd` (through the daemons) or `raw-store`.
    pub target: String,
    /// Endpoints, or the store (`etcd <urls>`, `embedded <file>`).
    pub against: String,
    pub concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_races: Option<u64>,
    /// `track`: orders placed while the subscribers listened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders_placed: Option<u64>,
    /// Raw runs on the embedded store: its commits (each one fsync) and
    /// the write requests they carried during the run (group commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsyncs: Option<FsyncStats>,
    /// `--rss-pid`: each process's resident memory during the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rss: Vec<RssSeries>,
    /// `--store-every`: the hot store's size and the archive's rows during
    /// the run (growth runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub store: Vec<StoreSample>,
    /// `place`: what the placements cost the whole cluster (through the
    /// daemons: every node's counters, read with `--operator`; raw: the
    /// runner's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementFigures>,
}

/// What placements cost, summed over every node that placed (or the raw
/// runner), between the start and the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PlacementFigures {
    /// Nodes counted (the raw runner: 1).
    pub nodes: u32,
    /// Placements committed.
    pub placements: u64,
    /// Placements committed per second by the whole cluster.
    pub orders_per_sec: f64,
    /// Placement transactions whose compares failed, per placement.
    pub lost_races_per_placement: f64,
    /// Store transactions sent for placements, per placement (a batch of
    /// placements is one transaction).
    pub txns_per_placement: f64,
    /// CPU time (user + system, from `/proc`) of the daemons, per
    /// placement, in ms; the raw runner's includes its load generator.
    pub cpu_ms_per_placement: f64,
}

impl PlacementFigures {
    /// From the (placements, lost races, transactions, CPU ms) counted
    /// over `nodes` during `secs`.
    pub fn of(nodes: u32, secs: f64, (placed, lost, txns, cpu_ms): (u64, u64, u64, u64)) -> Self {
        let per = |n: u64| {
            if placed == 0 {
                0.0
            } else {
                (n as f64 / placed as f64 * 1000.0).round() / 1000.0
            }
        };
        PlacementFigures {
            nodes,
            placements: placed,
            orders_per_sec: if secs > 0.0 {
                (placed as f64 / secs * 10.0).round() / 10.0
            } else {
                0.0
            },
            lost_races_per_placement: per(lost),
            txns_per_placement: per(txns),
            cpu_ms_per_placement: per(cpu_ms),
        }
    }
}

/// CPU time (user + system) of process `pid` (`self`: this one) in ms,
/// from `/proc`.
pub fn cpu_ms(pid: &str) -> Option<u64> {
    cpu_ms_of_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime of a `/proc/<pid>/stat` line, in ms (ticks of 10 ms,
/// Linux's `USER_HZ` of 100).
pub fn cpu_ms_of_stat(stat: &str) -> Option<u64> {
    // The command name may hold spaces and parentheses: fields start after
    // the last ')'; utime and stime are the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime.saturating_add(stime).saturating_mul(10))
}

/// Group commit during a raw run on the embedded store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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
    /// From two readings of (commits, requests), before and after.
    pub fn between(before: (u64, u64), after: (u64, u64)) -> FsyncStats {
        let commits = after.0.saturating_sub(before.0);
        let requests = after.1.saturating_sub(before.1);
        FsyncStats {
            commits,
            requests,
            requests_per_fsync: (ratio(requests as f64, commits as f64) * 100.0).round() / 100.0,
        }
    }
}

/// The hot store and the archive at one moment of a run (from
/// `cluster.status`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSample {
    /// Seconds since the start of the run.
    pub secs: f64,
    /// Size, bytes in use, live keys (etcd: the member asked; embedded:
    /// the file).
    #[serde(flatten)]
    pub usage: crate::messages::cluster::StoreUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_orders: Option<u64>,
}

/// Resident memory of one process, sampled during a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
            (Some(a), Some(b)) => {
                i64::try_from(i128::from(b.1) - i128::from(a.1)).unwrap_or(i64::MAX)
            }
            _ => 0,
        }
    }
}

/// `VmRSS` of a process in KiB, from the text of `/proc/<pid>/status`.
pub fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn sample_rss(pid: u32) -> Option<u64> {
    vm_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

impl Report {
    pub fn new(bench: &str, target: &str, against: String, load: &Plan, rec: &Recorder) -> Report {
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
            store: Vec::new(),
            placement: None,
        }
    }
}

pub type OpFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// One request of the benchmark; its argument is the request's sequence
/// number (0, 1, ...), unique within the run.
pub type Op = Arc<dyn Fn(u64) -> OpFuture + Send + Sync>;

/// How a run went, for the report.
pub struct Plan {
    pub concurrency: u32,
    pub rate: Option<f64>,
    pub connections: u32,
    pub elapsed: Duration,
    pub rss: Vec<RssSeries>,
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
pub async fn drive(load: &Load, op: Op, label: &str, show: bool) -> (Plan, Recorder) {
    let limit = Limit::of(load);
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
            connections: load.connections,
            elapsed,
            rss,
        },
        rec,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_run_without_count_or_duration_lasts_ten_seconds() {
        let mut load = Load {
            concurrency: 1,
            rate: None,
            duration: None,
            count: None,
            connections: 1,
            rss_pids: vec![],
            rss_every: Duration::from_secs(10),
        };
        assert_eq!(Limit::of(&load).duration, Some(Duration::from_secs(10)));
        load.count = Some(5);
        assert_eq!(
            Limit::of(&load),
            Limit {
                count: Some(5),
                duration: None
            }
        );
    }

    #[test]
    fn a_report_survives_json_both_ways() {
        let mut rec = Recorder::default();
        for ms in 1..=10 {
            rec.record(Duration::from_millis(ms), Ok(()));
        }
        rec.record(Duration::ZERO, Err("conflict".into()));
        let plan = Plan {
            concurrency: 4,
            rate: Some(100.0),
            connections: 1,
            elapsed: Duration::from_secs(1),
            rss: vec![],
        };
        let mut r = Report::new("place", "raw-store", "embedded /x".into(), &plan, &rec);
        r.lost_races = Some(3);
        r.fsyncs = Some(FsyncStats::between((1, 1), (5, 21)));
        let back: Report = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back.ok, 10);
        assert_eq!(back.errors_by_kind["conflict"], 1);
        assert_eq!(back.latency_ms, r.latency_ms);
        assert_eq!(back.lost_races, Some(3));
        assert_eq!(back.fsyncs.map(|f| f.requests_per_fsync), Some(5.0));
        assert_eq!(back.rate, Some(100.0));
    }

    #[test]
    fn the_seeded_order_prices_its_lines_from_the_menu() {
        let lines = order_lines(&seed_menu());
        assert_eq!(lines[0].expected_unit_price, Some(1100));
        assert_eq!(lines[1].expected_unit_price, Some(600));
    }
}

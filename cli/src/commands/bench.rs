//! `dfood bench`: load generators for operators sizing a cluster, and for
//! us, to know where the time goes.
//!
//! - `bench place` logs in as many customers and places orders at a seeded
//!   restaurant; `--raw-store` has `dfoodd-bench` (the daemon's own
//!   placement loop: same reads, compares, puts and value sizes, same retry
//!   on a lost race) run it straight at the store and reads its report, and
//!   `--compare` runs both back to back and prints their ratio. The CLI
//!   links no store: the load driver and report are `protocol::bench`.
//! - `bench read` browses the menu (`menu.get`).
//! - `bench track` opens N subscribers on `restaurant:<id>` while orders are
//!   placed, and measures commit-to-receipt latency (the order's
//!   `updated_at` against the time its event arrives).
//!
//! Load is closed loop (`--concurrency` in flight) or open loop (`--rate`
//! per second, latency from each request's intended send time); see
//! `protocol::bench`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, Subcommand};
use protocol::bench::{
    FsyncStats, Load, Op, OpFuture, RateSchedule, Recorder, Report, RssSeries, drive, order_lines,
    ratio, seed_menu,
};
use protocol::client::ClientError;
use protocol::messages::SubscribeRequest;
use protocol::messages::auth::{Account, SignupRequest, TokenRequest, TokenResponse};
use protocol::messages::catalog::{
    CreateRestaurant, Menu, MenuImport, Restaurant, RestaurantRef, types as catalog_types,
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
    /// daemons never see them; it runs dfoodd-bench (built and installed
    /// with dfoodd), found beside dfood or on PATH. --compare runs the
    /// store first, then the daemons, and prints both with their ratio.
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

fn fsync_line(f: &FsyncStats) -> String {
    format!(
        "embedded store: {} write requests in {} commits (fsyncs), {:.2} per fsync",
        f.requests, f.commits, f.requests_per_fsync
    )
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

fn connections(load: &LoadArgs) -> u32 {
    load.connections.unwrap_or(load.concurrency.min(4)).max(1)
}

/// The driver's view of the load flags.
fn load_of(l: &LoadArgs) -> Load {
    Load {
        concurrency: l.concurrency,
        rate: l.rate,
        duration: l.duration,
        count: l.count,
        connections: connections(l),
        rss_pids: l.rss_pids.clone(),
        rss_every: l.rss_every,
    }
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
    let (plan, rec) = drive(&load_of(&a.load), op, "place via dfoodd", show).await;
    for s in ss {
        s.close().await;
    }
    Ok(Report::new("place", "dfoodd", against, &plan, &rec))
}

/// `--raw-store`: the placement transaction straight at the store. The
/// CLI does not link the store: `dfoodd-bench place`, a binary of the
/// daemon's (installed beside `dfoodd`), runs the daemon's own placement
/// loop there with the same load and prints its report as JSON.
async fn place_raw(a: &PlaceArgs, show: bool) -> Result<Report, CliError> {
    let bin = dfoodd_bench()?;
    let l = &a.load;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("place")
        .args(["--concurrency", &l.concurrency.to_string()])
        .args(["--restaurant", &a.setup.restaurant])
        .args(["--restaurants", &a.setup.restaurants.to_string()])
        .args(["--customers", &a.customers.to_string()])
        .args(["--customer-prefix", &a.customer_prefix])
        .args(["--pay", &a.pay])
        .args(["--rss-every", &format!("{}ms", l.rss_every.as_millis())]);
    if let Some(r) = l.rate {
        cmd.args(["--rate", &r.to_string()]);
    }
    if let Some(d) = l.duration {
        cmd.args(["--duration", &format!("{}ms", d.as_millis())]);
    }
    if let Some(n) = l.count {
        cmd.args(["--count", &n.to_string()]);
    }
    for pid in &l.rss_pids {
        cmd.args(["--rss-pid", &pid.to_string()]);
    }
    if let Some(e) = &a.etcd {
        cmd.args(["--etcd", e]);
    }
    if let Some(f) = &a.store {
        cmd.arg("--store").arg(f);
    }
    if !show {
        cmd.arg("--no-progress");
    }
    // The progress bar and errors go to our stderr; the report to a pipe.
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    let out = cmd
        .output()
        .await
        .map_err(|e| CliError::config(format!("cannot run {}: {e}", bin.display())))?;
    if !out.status.success() {
        return Err(CliError::new(
            crate::exit::UNAVAILABLE,
            "unavailable",
            format!(
                "{} failed ({}); see its message above",
                bin.display(),
                out.status
            ),
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        CliError::new(
            crate::exit::PROTOCOL,
            "protocol_error",
            format!("{} printed no report: {e}", bin.display()),
        )
    })
}

/// `dfoodd-bench`: beside this `dfood` (both built or installed
/// together), else on `PATH`.
fn dfoodd_bench() -> Result<PathBuf, CliError> {
    const NAME: &str = "dfoodd-bench";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(NAME)));
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(NAME))
        .collect::<Vec<_>>();
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            CliError::config(format!(
                "--raw-store needs {NAME}, the daemon's raw-store runner, beside dfood or on PATH: build it with `cargo build -p daemon` (it is installed with dfoodd)"
            ))
        })
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
    let (plan, rec) = drive(&load_of(&a.load), op, "menu.get", show).await;
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
    let (plan, placed) = drive(&load_of(&a.load), op, "track", show).await;
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
    use protocol::bench::{Latency, Limit, Plan, sample_rss, vm_rss_kib};

    #[test]
    fn ten_seconds_unless_a_count_is_given() {
        let mut load = parse(&["dfood", "bench", "place"]).load;
        assert_eq!(
            Limit::of(&load_of(&load)).duration,
            Some(Duration::from_secs(10))
        );
        load.count = Some(5);
        assert_eq!(
            Limit::of(&load_of(&load)),
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
    fn fsyncs_per_commit_are_counted_between_two_readings() {
        let f = FsyncStats::between((10, 12), (110, 1012));
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
}

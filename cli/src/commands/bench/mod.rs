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

mod place;
mod read;
mod report;
mod setup;
mod track;

use place::*;
use read::*;
use report::*;
use setup::*;
use track::*;

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
    Place(Box<PlaceArgs>),
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
    /// With --compare: run the pair this many times, the store first in
    /// odd rounds and the daemons first in even ones, each for the whole
    /// --duration/--count, and report the median of the rounds' ratios
    /// (each round's are listed too). On a shared machine two runs in a
    /// row can differ by a third; alternating cancels the drift.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50), requires = "compare")]
    pub rounds: u32,
    /// etcd endpoints for --raw-store / --compare (comma-separated).
    #[arg(long, value_name = "URL[,URL...]", conflicts_with = "store")]
    pub etcd: Option<String>,
    /// Embedded store file for --raw-store / --compare [default: a new
    /// temporary file]. Not the file of a running dfoodd: it is locked.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Sample the hot store (size, bytes in use, keys) and the archive's
    /// rows this often during the run, from `cluster.status`, as the
    /// operator --operator (password --password): growth runs.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, requires = "operator", conflicts_with = "raw_store")]
    pub store_every: Option<Duration>,
    /// An operator account (password --password), for --store-every and
    /// for the cluster-wide figures of the placements: every node's
    /// placements, lost races, store transactions and CPU, from
    /// `cluster.top` before and after the run.
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
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

pub async fn bench(g: &Global, cmd: BenchCmd) -> Result<(), CliError> {
    match cmd {
        BenchCmd::Place(a) => place(g, *a).await,
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

#[cfg(test)]
mod tests;

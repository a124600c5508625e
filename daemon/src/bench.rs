//! The raw-store side of `dfood bench place --raw-store` (binary
//! `dfoodd-bench`): the daemon's own placement loop
//! ([`crate::orders::place::commit`]: turn, reads, plan, transaction,
//! retry) run straight at a store, under the same load driver and report
//! as `dfood bench` (`protocol::bench`), so the CLI compares like with
//! like without linking the store.
//!
//! Keys are moved under `/dfood-raw/` ([`crate::store::prefixed`]): a
//! daemon sharing the store never sees them. Restaurants are seeded as the
//! catalog writes them; customers are ids shaped like the daemon's, with
//! no account behind them (a raw placement skips authentication).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use protocol::bench::{FsyncStats, Load, Op, OpFuture, Report, drive, order_lines, seed_menu};
use protocol::messages::catalog::Restaurant;
use protocol::messages::orders::{LineRequest, PlaceOrder};

use crate::auth::identity::{AuthSettings, AuthState};
use crate::catalog::{MenuDoc, StockDoc};
use crate::clock::{Clock, SystemClock};
use crate::ctx::Deps;
use crate::orders::place::{Customer, commit, idem_key};
use crate::store::embedded::EmbeddedStore;
use crate::store::prefixed::Prefixed;
use crate::store::{Store, Txn};

/// Where the moved keys live.
pub const RAW_ROOT: &str = "/dfood-raw";

/// `dfoodd-bench place`: the flags `dfood bench place --raw-store` passes on.
#[derive(Debug, Clone, Args)]
pub struct PlaceArgs {
    /// etcd endpoints (comma-separated); else the embedded store --store.
    #[arg(long, value_name = "URL[,URL...]", conflicts_with = "store")]
    pub etcd: Option<String>,
    /// Embedded store file [default: a new temporary file]. Not the file of
    /// a running dfoodd: it is locked.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    #[arg(long, default_value = "bench")]
    pub restaurant: String,
    /// Spread orders over <restaurant>-1..<restaurant>-N.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub restaurants: u32,
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub customers: u32,
    #[arg(long, default_value = "bench-customer")]
    pub customer_prefix: String,
    #[arg(long, default_value = "pm_card_visa")]
    pub pay: String,
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    #[arg(long)]
    pub rate: Option<f64>,
    #[arg(long, short = 'd', value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    #[arg(long = "rss-pid")]
    pub rss_pids: Vec<u32>,
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub rss_every: Duration,
    #[arg(long)]
    pub no_progress: bool,
    /// Send each placement in a transaction of its own, as the daemon did
    /// before it batched them (to measure what batching changes).
    #[arg(long)]
    pub no_batch: bool,
}

impl PlaceArgs {
    fn restaurant_ids(&self) -> Vec<String> {
        if self.restaurants <= 1 {
            vec![self.restaurant.clone()]
        } else {
            (1..=self.restaurants)
                .map(|i| format!("{}-{i}", self.restaurant))
                .collect()
        }
    }
}

/// What the raw placements share.
struct Shared {
    deps: Deps,
    restaurants: Vec<String>,
    /// (user id, username), shaped like the daemon's.
    customers: Vec<(String, String)>,
    lines: Vec<LineRequest>,
    pay: String,
    run: String,
    lost_races: AtomicU64,
}

/// One placement: the daemon's [`commit`], minus authentication and the
/// answer to a client.
async fn place_one(s: &Shared, seq: u64) -> Result<(), String> {
    let pick = |n: usize| usize::try_from(seq % n as u64).unwrap_or(0);
    let r = &s.restaurants[pick(s.restaurants.len())];
    let (user_id, username) = &s.customers[pick(s.customers.len())];
    let req = PlaceOrder {
        restaurant: r.clone(),
        lines: s.lines.clone(),
        note: String::new(),
        payment_method: s.pay.clone(),
        idempotency_key: format!("bench-{}-{seq}", s.run),
        service: None,
    };
    let idem = idem_key(user_id, &req.idempotency_key);
    let ctx = s.deps.ctx(None, None);
    let who = |_fresh| {
        std::future::ready(Ok(Customer {
            id: user_id.clone(),
            username: username.clone(),
            guard: None,
        }))
    };
    let (_, lost) = commit(&ctx, &req, &idem, who)
        .await
        .map_err(|e| e.code.as_str().to_string())?;
    s.lost_races.fetch_add(u64::from(lost), Ordering::Relaxed);
    Ok(())
}

/// Writes restaurant, menu and stock documents as the catalog would.
async fn seed(store: &dyn Store, restaurants: &[String], now_ms: u64) -> Result<(), String> {
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
    let msg = |e: crate::rpc::ApiError| e.message;
    for id in restaurants {
        let r = Restaurant {
            id: id.clone(),
            name: format!("Bench {id}"),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 86_400,
            created_at: now_ms,
            max_line_total: None,
            max_order_total: None,
        };
        let ops = crate::catalog::shop_ops(&r, &menu, &stock).map_err(msg)?;
        store
            .txn(Txn::new().and_then(ops))
            .await
            .map_err(|e| format!("bench setup: {e}"))?;
    }
    Ok(())
}

/// Runs `dfoodd-bench place`; the report is what `dfood bench` prints.
pub async fn place(a: &PlaceArgs) -> Result<Report, String> {
    let mut embedded = None;
    let mut _tmp = None;
    let (store, against): (Arc<dyn Store>, String) = match &a.etcd {
        Some(list) => {
            let endpoints = protocol::session::parse_endpoints(list);
            let s = crate::store::etcd::EtcdStore::connect(&endpoints)
                .await
                .map_err(|e| e.to_string())?;
            (s, format!("etcd {}", endpoints.join(",")))
        }
        None => {
            let path = match &a.store {
                Some(p) => p.clone(),
                None => {
                    let dir = tempfile::Builder::new()
                        .prefix("dfood-bench-")
                        .tempdir()
                        .map_err(|e| format!("temporary directory: {e}"))?;
                    let p = dir.path().join("store.redb");
                    _tmp = Some(dir);
                    p
                }
            };
            let s = EmbeddedStore::open(&path).map_err(|e| e.to_string())?;
            embedded = Some(s.clone());
            (s, format!("embedded {}", path.display()))
        }
    };
    let raw = Prefixed::wrap(store, RAW_ROOT);
    let clock = SystemClock;
    let restaurants = a.restaurant_ids();
    seed(raw.as_ref(), &restaurants, clock.now_ms()).await?;
    let shared = Arc::new(Shared {
        deps: Deps {
            node: "dfoodd-bench".into(),
            store: raw.clone(),
            auth: AuthState::new(
                AuthSettings::default(),
                &std::env::temp_dir(),
                crate::secrets::Kek::generate(),
            ),
            // The daemon's default gateway, over the same (moved) store:
            // its records ride in the placement transaction as they do in
            // the daemon.
            gateway: Arc::new(crate::payments::sandbox::SandboxGateway::new(raw.clone())),
            clock: Arc::new(clock),
            // Batched like the daemon's (unless --no-batch).
            placing: if a.no_batch {
                crate::queues::Queues::default()
            } else {
                crate::queues::Queues::batching(raw.clone(), Default::default())
            },
            archive: None,
            retention: Default::default(),
            limits: Default::default(),
        },
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
        run: format!("{:x}", clock.now_ms()),
        lost_races: AtomicU64::new(0),
    });
    let op: Op = {
        let shared = shared.clone();
        Arc::new(move |seq| {
            let shared = shared.clone();
            Box::pin(async move { place_one(&shared, seq).await }) as OpFuture
        })
    };
    let load = Load {
        concurrency: a.concurrency,
        rate: a.rate,
        duration: a.duration,
        count: a.count,
        connections: 1,
        rss_pids: a.rss_pids.clone(),
        rss_every: a.rss_every,
    };
    let stats = |e: &EmbeddedStore| {
        let s = e.commit_stats();
        (s.commits, s.requests)
    };
    let before = embedded.as_deref().map(stats);
    let counted = || {
        let (placed, lost, txns) = shared.deps.placing.counters.snapshot();
        let cpu = protocol::bench::cpu_ms("self").unwrap_or(0);
        (placed, lost, txns, cpu)
    };
    let counted_before = counted();
    let (plan, rec) = drive(&load, op, "place via raw store", !a.no_progress).await;
    let mut report = Report::new("place", "raw-store", against, &plan, &rec);
    report.lost_races = Some(shared.lost_races.load(Ordering::Relaxed));
    let (b, e) = (counted_before, counted());
    report.placement = Some(protocol::bench::PlacementFigures::of(
        1,
        plan.elapsed.as_secs_f64(),
        (
            e.0.saturating_sub(b.0),
            e.1.saturating_sub(b.1),
            e.2.saturating_sub(b.2),
            e.3.saturating_sub(b.3),
        ),
    ));
    if let Some(e) = &embedded {
        if let Some(before) = before {
            report.fsyncs = Some(FsyncStats::between(before, stats(e)));
        }
        // Finish queued writes before the temporary directory goes.
        e.close().await;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_order_is_one_the_daemon_accepts() {
        let req = PlaceOrder {
            service: None,
            restaurant: "bench".into(),
            lines: order_lines(&seed_menu()),
            note: String::new(),
            payment_method: "pm_card_visa".into(),
            idempotency_key: "bench-0000-1".into(),
        };
        crate::orders::place::validate(&req).expect("valid");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raw_placements_run_the_daemon_s_loop_on_moved_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.redb");
        let args = PlaceArgs {
            etcd: None,
            store: Some(file.clone()),
            restaurant: "bench".into(),
            restaurants: 2,
            customers: 3,
            customer_prefix: "c".into(),
            pay: "pm_card_visa".into(),
            concurrency: 4,
            rate: None,
            duration: None,
            count: Some(30),
            rss_pids: vec![],
            rss_every: Duration::from_secs(10),
            no_progress: true,
            no_batch: false,
        };
        let r = place(&args).await.unwrap();
        assert_eq!((r.ok, r.errors), (30, 0), "{:?}", r.errors_by_kind);
        assert_eq!(r.target, "raw-store");
        assert!(r.fsyncs.is_some_and(|f| f.commits > 0));
        // Every order is under the raw root, none where a daemon looks.
        let s = EmbeddedStore::open(&file).unwrap();
        let raw_orders = s.range("/dfood-raw/orders/").await.unwrap().kvs;
        assert_eq!(raw_orders.len(), 30);
        assert!(s.range("/dfood/").await.unwrap().kvs.is_empty());
        let tickets: Vec<_> = s.range("/dfood-raw/tickets/").await.unwrap().kvs;
        let sum: u64 = tickets
            .iter()
            .map(|kv| String::from_utf8_lossy(&kv.value).parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, 30, "one ticket per placement over both restaurants");
    }
}

//! Nothing acknowledged is lost when the embedded store's process is killed
//! with SIGKILL in the middle of a burst of writes; a killed `dfoodd`
//! comes back on the same data; and `dfoodd` itself, killed with SIGKILL
//! in the middle of a burst of placements (embedded store, and etcd),
//! loses no acknowledged order and makes no key's order twice.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::store::Store;
use daemon::store::embedded::EmbeddedStore;
use protocol::session::{Session, SessionOptions};
use serde_json::{Value, json};
use tests::{Daemon, Proc, call};

fn acks(log: &str) -> BTreeMap<String, i64> {
    log.lines()
        .filter_map(|l| {
            let mut p = l.strip_prefix("ack ")?.split(' ');
            Some((p.next()?.to_string(), p.next()?.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    for round in 0..3 {
        let log = dir.path().join(format!("writer-{round}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_store-writer"));
        cmd.arg(&store_path);
        let mut writer = Proc::spawn("store-writer", cmd, &log);
        // Let a burst build up, then kill it mid-flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acks(&writer.log_text()).len() < 300 {
            assert!(
                Instant::now() < deadline,
                "writer made no progress: {}",
                writer.log_text()
            );
            assert!(writer.alive(), "writer died: {}", writer.log_text());
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = writer.pid();
        writer.kill9();
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the writer (pid {pid}) is still there after kill -9"
        );
        let acked = acks(&writer.log_text());
        let store = EmbeddedStore::open(&store_path).expect("reopen after kill -9");
        let max_rev = acked.values().copied().max().unwrap();
        assert!(
            store.revision().await.unwrap() >= max_rev,
            "revision went back"
        );
        for (key, rev) in &acked {
            let kv = store.get(key).await.unwrap().unwrap_or_else(|| {
                panic!("round {round}: acknowledged write {key} at revision {rev} lost")
            });
            assert_eq!(kv.mod_revision, *rev, "{key}");
        }
        drop(store);
    }
}

#[test]
fn dfoodd_killed_with_sigkill_restarts_on_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start("crashy", dir.path(), &[]);
    let before = d.dfood().run(["status", "-o", "json"]);
    assert_eq!(before.code, 0, "{before:?}");
    let rev_before = before.json()["store_revision"].as_u64().unwrap();
    let ca_before = std::fs::read(d.ca_path()).unwrap();
    d.proc.kill9();
    d.restart();
    let after = d.dfood().run(["status", "-o", "json"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(
        after.json()["store_revision"].as_u64().unwrap() > rev_before,
        "store kept its history and the node registered again"
    );
    assert_eq!(
        std::fs::read(d.ca_path()).unwrap(),
        ca_before,
        "same cluster CA after restart: clients keep working"
    );
}

// ---------------------------------------------------------------------
// kill -9 of `dfoodd` itself in the middle of a burst of placements made
// through the product's client (`protocol::session::Session`).

const PASSWORD: &str = "crash test password";
const SHOP: &str = "crashbar";
const STOCK: i64 = 100_000;

/// What the burst's workers saw, per idempotency key.
#[derive(Default)]
struct Burst {
    /// Key → the order id the placement answered with.
    acked: Mutex<BTreeMap<String, String>>,
    /// Keys whose placement got no answer or an error: the order may or
    /// may not exist.
    unknown: Mutex<Vec<(String, String)>>,
    /// Placements sent and not yet answered.
    in_flight: AtomicUsize,
    /// Acknowledged after the kill (the clients carried on).
    acked_after_kill: AtomicUsize,
    killed: AtomicBool,
}

async fn person(s: &Session, name: &str) -> String {
    tests::person(s, name, PASSWORD).await
}

fn session(seeds: &[&Daemon]) -> Session {
    let ca = std::fs::read(seeds[0].ca_path()).expect("CA");
    let mut o = SessionOptions::new(seeds.iter().map(|d| d.endpoint()), ca);
    // Stay on the first seed until it dies: the burst is where the kill is.
    o.rebalance = false;
    Session::new(o).expect("session")
}

/// The shop (a stocked item), its manager's token, and `n` customers.
async fn shop_and_customers(s: &Session, n: usize) -> (String, Vec<String>) {
    let m = person(s, "crash-manager").await;
    call(
        s,
        Some(&m),
        "restaurant.create",
        json!({"id": SHOP, "name": SHOP}),
    )
    .await;
    call(
        s,
        Some(&m),
        "menu.import",
        json!({"restaurant": SHOP, "items": [
            {"sku": "stew", "name": "Stew", "price": 800, "stock": STOCK},
            {"sku": "bread", "name": "Bread", "price": 200},
        ]}),
    )
    .await;
    call(s, Some(&m), "restaurant.open", json!({"restaurant": SHOP})).await;
    let mut customers = Vec::new();
    for i in 0..n {
        customers.push(person(s, &format!("crash-customer{i}")).await);
    }
    (m, customers)
}

fn place_body(key: &str, n: u64) -> Value {
    json!({"restaurant": SHOP, "lines": [{"sku": "stew", "qty": 1 + n % 3}, {"sku": "bread", "qty": 1}],
           "payment_method": "pm_card_visa", "idempotency_key": key})
}

/// One customer placing orders one after the other until told to stop
/// (after the kill: `after_kill` more attempts), each with a new key.
async fn burst_worker(s: Session, who: usize, token: String, burst: Arc<Burst>, after_kill: u64) {
    let mut left_after_kill = after_kill;
    for n in 0..5_000u64 {
        if burst.killed.load(Ordering::SeqCst) {
            if left_after_kill == 0 {
                return;
            }
            left_after_kill -= 1;
        }
        let key = format!("crash-{who}-{n:05}");
        burst.in_flight.fetch_add(1, Ordering::SeqCst);
        let killed_before = burst.killed.load(Ordering::SeqCst);
        let r = tokio::time::timeout(
            Duration::from_secs(30),
            s.call::<Value, Value>("order.place", Some(&token), &place_body(&key, n)),
        )
        .await;
        burst.in_flight.fetch_sub(1, Ordering::SeqCst);
        match r {
            Ok(Ok(o)) => {
                let id = o["id"].as_str().expect("an order id").to_string();
                assert_eq!(o["state"], "placed", "{o}");
                burst.acked.lock().unwrap().insert(key, id);
                if killed_before {
                    burst.acked_after_kill.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(Err(e)) => burst.unknown.lock().unwrap().push((key, e.to_string())),
            Err(_) => burst
                .unknown
                .lock()
                .unwrap()
                .push((key, "no answer within 30 s".into())),
        }
    }
}

/// Waits (bounded) for `min` acknowledged placements with placements in
/// flight, then kills `victim` with SIGKILL at once; returns how many
/// were in flight and acknowledged at that moment.
fn kill_mid_burst(victim: &mut Daemon, burst: &Burst, min: usize) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let acked = burst.acked.lock().unwrap().len();
        let in_flight = burst.in_flight.load(Ordering::SeqCst);
        if acked >= min && in_flight > 0 {
            let pid = victim.proc.pid();
            victim.proc.kill9();
            burst.killed.store(true, Ordering::SeqCst);
            assert!(
                !victim.proc.alive() && !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "{} (pid {pid}) still there after kill -9",
                victim.node
            );
            return (in_flight, acked);
        }
        assert!(
            Instant::now() < deadline,
            "the burst made no progress: {acked} acknowledged, {in_flight} in flight; log:\n{}",
            victim.proc.log_text()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every acknowledged order is there, with its key; every key (answered
/// or not) made at most one order: placing each again with its key gives
/// back the same order, and the shop holds exactly one order per key,
/// its stock accounted for to the unit.
async fn check_after_crash(s: &Session, manager: &str, customers: &[String], burst: &Burst) {
    let acked = burst.acked.lock().unwrap().clone();
    let unknown = burst.unknown.lock().unwrap().clone();
    let mut by_key: BTreeMap<String, String> = BTreeMap::new();
    for (key, id) in &acked {
        let who: usize = key.split('-').nth(1).unwrap().parse().unwrap();
        let o = s
            .call::<Value, Value>("order.get", Some(&customers[who]), &json!({"order": id}))
            .await
            .unwrap_or_else(|e| panic!("acknowledged order {id} (key {key}) is lost: {e}"));
        assert_eq!(o["state"], "placed", "{o}");
        by_key.insert(key.clone(), id.clone());
    }
    for (key, _) in acked
        .iter()
        .map(|(k, v)| (k, Some(v)))
        .chain(unknown.iter().map(|(k, _)| (k, None)))
    {
        let who: usize = key.split('-').nth(1).unwrap().parse().unwrap();
        let n: u64 = key.rsplit('-').next().unwrap().parse().unwrap();
        let o = call(s, Some(&customers[who]), "order.place", place_body(key, n)).await;
        let id = o["id"].as_str().unwrap().to_string();
        if let Some(prev) = by_key.insert(key.clone(), id.clone()) {
            assert_eq!(prev, id, "key {key} answered with two orders");
        }
    }
    // One order per key, none without a key.
    let ids: BTreeSet<&String> = by_key.values().collect();
    assert_eq!(
        ids.len(),
        by_key.len(),
        "two keys share an order: {by_key:?}"
    );
    let mut listed = BTreeSet::new();
    let mut cursor: Option<String> = None;
    for _page in 0..100 {
        let mut q = json!({"restaurant": SHOP, "limit": 500});
        if let Some(c) = &cursor {
            q["cursor"] = json!(c);
        }
        let l = call(s, Some(manager), "order.list", q).await;
        for o in l["orders"].as_array().unwrap() {
            listed.insert(o["id"].as_str().unwrap().to_string());
        }
        cursor = l["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "more than 100 pages of orders");
    let keyed: BTreeSet<String> = by_key.values().cloned().collect();
    assert_eq!(
        listed,
        keyed,
        "the shop's orders are exactly one per key ({} keys: {} acknowledged, {} unknown)",
        by_key.len(),
        acked.len(),
        unknown.len()
    );
    // Stock: decremented exactly by the orders that exist.
    let menu = call(s, None, "menu.get", json!({"restaurant": SHOP})).await;
    let left = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "stew")
        .and_then(|i| i["stock"].as_i64())
        .expect("stew has a stock count");
    let taken: i64 = by_key
        .keys()
        .map(|k| 1 + (k.rsplit('-').next().unwrap().parse::<i64>().unwrap() % 3))
        .sum();
    assert_eq!(left, STOCK - taken, "stock accounts for every order");
}

/// The embedded store: kill -9 of the one `dfoodd` while 6 customers
/// place orders, then a restart on the same data dir.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfoodd_killed_mid_placements_on_the_embedded_store_keeps_every_acknowledged_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = tokio::task::block_in_place(|| Daemon::start("crash-solo", dir.path(), &[]));
    let s = session(&[&d]);
    let (manager, customers) = shop_and_customers(&s, 6).await;
    let burst = Arc::new(Burst::default());
    let workers: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, t)| tokio::spawn(burst_worker(session(&[&d]), i, t.clone(), burst.clone(), 0)))
        .collect();
    let (in_flight, acked) = tokio::task::block_in_place(|| kill_mid_burst(&mut d, &burst, 60));
    for w in workers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("a worker stops within 60 s of the kill")
            .expect("worker");
    }
    let unknown = burst.unknown.lock().unwrap().len();
    eprintln!(
        "killed with {in_flight} placements in flight and {acked} acknowledged; {unknown} got no answer"
    );
    assert!(
        unknown >= 1,
        "the kill cut no placement short: {in_flight} were in flight, yet every one was answered"
    );
    tokio::task::block_in_place(|| d.restart());
    let s = session(&[&d]);
    check_after_crash(&s, &manager, &customers, &burst).await;
}

/// etcd: kill -9 of the node 6 customers are placing orders on; their
/// sessions carry on on the other node, and nothing acknowledged is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfoodd_killed_mid_placements_on_etcd_keeps_every_acknowledged_order() {
    let etcd = tokio::task::block_in_place(|| tests::Etcd::start(1));
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = tokio::task::block_in_place(|| tests::start_nodes(&etcd, dir.path(), 2));
    let s = session(&[&nodes[1]]);
    let (manager, customers) = shop_and_customers(&s, 6).await;
    let burst = Arc::new(Burst::default());
    // Seeded with node-1 and staying there (the session learns node-2
    // from it, for later): every placement in flight at the kill is on it.
    let mut sessions = Vec::new();
    for _ in &customers {
        let c = session(&[&nodes[0]]);
        let h: Value = call(&c, None, "health", json!({})).await;
        assert_eq!(h["node"], nodes[0].node.as_str(), "on the seed: {h}");
        sessions.push(c);
    }
    let workers: Vec<_> = sessions
        .into_iter()
        .zip(&customers)
        .enumerate()
        .map(|(i, (c, t))| tokio::spawn(burst_worker(c, i, t.clone(), burst.clone(), 5)))
        .collect();
    let (in_flight, acked) =
        tokio::task::block_in_place(|| kill_mid_burst(&mut nodes[0], &burst, 60));
    for w in workers {
        tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .expect("a worker stops within 120 s of the kill")
            .expect("worker");
    }
    let after = burst.acked_after_kill.load(Ordering::SeqCst);
    eprintln!(
        "killed {} with {in_flight} placements in flight and {acked} acknowledged; {after} acknowledged after the kill, {} unknown",
        nodes[0].node,
        burst.unknown.lock().unwrap().len()
    );
    assert!(
        after >= 6,
        "the customers did not carry on on the other node: {after} placements acknowledged after the kill"
    );
    check_after_crash(&s, &manager, &customers, &burst).await;
    // And once the killed node is back, it serves the same orders.
    tokio::task::block_in_place(|| nodes[0].restart());
    let back = session(&[&nodes[0]]);
    check_after_crash(&back, &manager, &customers, &burst).await;
}

//! The robustness harness, in the style of etcd's `tests/robustness`. A
//! scenario is:
//! - a **cluster**: 3 etcd members and 3 dfoodd, real processes on
//!   127.0.0.1 — or one dfoodd on its embedded store;
//! - **traffic through the product's own clients**: customers placing (with
//!   idempotency keys, double submits) and cancelling through
//!   [`protocol::session::Session`], a share of them through the real
//!   `dfood order place --idempotency-key K` binary; a kitchen on a
//!   `Session`; subscribers that follow a busy restaurant and a quiet one
//!   (idle for the whole scenario, across every fault) with
//!   `Session::subscribe_resuming` and with long-lived `dfood events` and
//!   `dfood order track` processes;
//! - **faults**, each proven to have happened (process gone, leader
//!   changed, drain state seen, datagrams dropped, process stopped) or the
//!   scenario fails: kill -9 of a daemon, of the leader daemon, of the etcd
//!   leader, SIGSTOP/SIGCONT, a lossy UDP proxy, a drain, a SIGTERM, a
//!   switchover, kill -9 of the one embedded node.
//!
//! Every operation is recorded with its invoke and return times, every
//! fault with its evidence, every subscriber with what it saw and what it
//! said about its connection; once faults stop and the system settles, the
//! store's final state is read and all of it is saved to
//! `target/robustness/<scenario>/history.json` (with every process's log).
//! [`check`] verifies the promises of PRODUCT.md from that file alone, so a
//! saved history can be checked again (`robustness-check FILE`).
//!
//! Every loop here is bounded in count and time and stops by itself, and
//! all traffic goes to 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::store::Store;
use protocol::client::{ClientError, SubscriptionItem};
use protocol::session::{Delivery, Notice, Session, SessionOptions};
use protocol::wire::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Daemon, Dfood, DfoodProc, Etcd, call};

/// The busy restaurant: every customer orders here.
pub const RESTAURANT: &str = "robusta";
/// The quiet restaurant: nothing happens there until the end, so its
/// subscribers stay idle across every fault.
pub const QUIET: &str = "quieta";
/// The restaurants' acceptance timeout: an order not accepted this long
/// after it was placed expires.
pub const ACCEPTANCE_TIMEOUT_SECS: u64 = 15;
/// The item whose stock is counted (and must never go negative).
pub const STOCKED: &str = "truffle";
pub const INITIAL_STOCK: i64 = 30;
const PASSWORD: &str = "robust password";

/// What goes wrong during a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// kill -9 of a daemon that is not the leader; restarted.
    KillDaemon,
    /// kill -9 of the leader daemon; restarted.
    KillLeaderDaemon,
    /// kill -9 of the etcd leader; restarted.
    KillEtcdLeader,
    /// SIGSTOP of a daemon that is not the leader; SIGCONT.
    PauseDaemon,
    /// A UDP proxy in front of a node, dropping a third of the datagrams
    /// and blacking out 1.5 s in 3, used by the Session customers.
    LossyProxy,
    /// `cluster.drain` of a daemon that is not the leader; undone.
    DrainDaemon,
    /// SIGTERM of a daemon that is not the leader; restarted.
    TermDaemon,
    /// `cluster.switchover` to any other node.
    Switchover,
    /// kill -9 of the node an idle `dfood events` stream is on; restarted.
    KillIdleStreamsNode,
    /// SIGTERM of the node an idle `dfood events` stream is on; restarted.
    TermIdleStreamsNode,
    /// kill -9 of the one node on the embedded store; restarted on its
    /// data dir.
    KillEmbedded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreKind {
    Etcd,
    Embedded,
}

/// One scenario: its store and its faults, one after the other.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub store: StoreKind,
    pub faults: Vec<Failure>,
    /// Time between the start of two faults. Above 20 s, the quiet
    /// restaurant's subscribers stay idle longer than any client timeout
    /// between two faults.
    pub spacing: Duration,
    /// Finished orders leave the hot store a second after they finish, for
    /// an archive in a real PostgreSQL (etcd scenarios): faults then meet
    /// the leader in the middle of archiving.
    pub retention: bool,
    /// When non-zero, the kitchen leaves alone every order whose ticket is
    /// a multiple of it: nobody accepts them, and they must expire after
    /// the restaurant's acceptance timeout (the leader's expiry duty),
    /// faults or not.
    pub leave_alone_every: u64,
}

impl Scenario {
    pub fn one(name: &'static str, f: Failure) -> Scenario {
        let store = if f == Failure::KillEmbedded {
            StoreKind::Embedded
        } else {
            StoreKind::Etcd
        };
        Scenario {
            name,
            store,
            faults: vec![f],
            spacing: Duration::ZERO,
            retention: false,
            leave_alone_every: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Traffic lasts at least this long (longer if the faults need it).
    pub traffic: Duration,
    /// Customers on a `Session`.
    pub customers: usize,
    /// Customers running `dfood order place`.
    pub cli_customers: usize,
    /// When the first fault strikes, after traffic starts.
    pub fail_after: Duration,
    /// How long each fault lasts before it is healed.
    pub fail_for: Duration,
    /// At most this many `dfood order track` processes on busy orders.
    pub trackers: usize,
}

impl Settings {
    /// The bounded run CI does on every change, or a longer soak when
    /// `DFOOD_SOAK_SECS` is set.
    pub fn from_env() -> Settings {
        let soak = std::env::var("DFOOD_SOAK_SECS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match soak {
            Some(secs) => Settings {
                traffic: Duration::from_secs(secs),
                customers: 8,
                cli_customers: 2,
                fail_after: Duration::from_secs(secs / 4),
                fail_for: Duration::from_secs((secs / 4).max(5)),
                trackers: 6,
            },
            None => Settings {
                traffic: Duration::from_secs(8),
                customers: 4,
                cli_customers: 1,
                fail_after: Duration::from_secs(2),
                fail_for: Duration::from_secs(3),
                trackers: 2,
            },
        }
    }
}

// ---------------------------------------------------------------------
// The history: what is saved, and checked.

/// One client operation, as the client saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Op {
    pub client: String,
    /// `place`, `cancel`, `accept`, `start`, `ready`, `complete`.
    pub op: String,
    /// The idempotency key (place) or the order id (others).
    pub key: String,
    /// Milliseconds since the scenario started.
    pub invoke_ms: u64,
    pub return_ms: u64,
    /// `ok:<order id or state>`, `err:<code>`, or `unknown` (no answer).
    pub outcome: String,
    /// The error message, if any.
    #[serde(default)]
    pub message: String,
}

/// One injected fault and the proof that it happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultRecord {
    pub kind: Failure,
    /// The node or etcd member it hit.
    pub target: String,
    /// The QUIC endpoint of the node it hit (empty for an etcd member or
    /// a cluster-wide fault).
    pub endpoint: String,
    pub injected_ms: u64,
    pub healed_ms: Option<u64>,
    /// Observations proving the fault and its healing happened.
    pub evidence: Vec<String>,
    /// Facts the checker compares (e.g. `leader_before`, `leader_after`).
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
}

/// One event a subscriber showed: `(revision, subject, version)`
/// identifies it (version 0 for events that are not an order's).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Seen {
    pub at_ms: u64,
    pub revision: u64,
    pub subject: String,
    pub version: u64,
    pub kind: String,
}

/// What a subscriber said about its connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NoticeRecord {
    pub at_ms: u64,
    /// `subscribed`, `resumed` or `lost`.
    pub notice: String,
    pub endpoint: Option<String>,
    #[serde(default)]
    pub error: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum SubscriberKind {
    /// `Session::subscribe_resuming` in the test process.
    Session,
    /// A `dfood events --restaurant R -o json` process.
    DfoodEvents,
    /// A `dfood order track ID -o json` process (ends by itself when the
    /// order is done).
    DfoodTrack,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubscriberRecord {
    pub name: String,
    pub kind: SubscriberKind,
    /// `restaurant:<r>` or `order:<id>`.
    pub topic: String,
    /// The first revision it must show (for a track: the revision of the
    /// order it printed first).
    pub from_revision: u64,
    pub seen: Vec<Seen>,
    pub notices: Vec<NoticeRecord>,
    /// How it ended, if it did before the test stopped it: an error, or
    /// `exit <code>: <stderr>`.
    pub ended: Option<String>,
    /// When it ended (milliseconds since the scenario started).
    #[serde(default)]
    pub ended_ms: Option<u64>,
}

/// An event in the store at the end.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredEvent {
    pub revision: u64,
    pub restaurant: String,
    pub subject: String,
    pub kind: String,
    pub version: u64,
}

/// The store's final state, as far as the promises go.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// Orders in the archive (retention scenarios); an order may be here
    /// and no longer in `orders`.
    #[serde(default)]
    pub archived: Vec<Value>,
    pub revision: u64,
    /// Every order document.
    pub orders: Vec<Value>,
    /// `(idempotency record key, order id)`.
    pub idem: Vec<(String, String)>,
    /// The busy restaurant's stock document.
    pub stock: Value,
    /// The sandbox gateway's payment records.
    pub payments: Vec<Value>,
    pub events: Vec<StoredEvent>,
}

/// Everything a scenario leaves behind; [`check`] needs nothing else.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Saved {
    pub scenario: String,
    pub store: StoreKind,
    /// The faults planned, in order: each must have its record.
    pub planned: Vec<Failure>,
    /// The store revision traffic started from.
    pub start_revision: u64,
    pub ops: Vec<Op>,
    pub faults: Vec<FaultRecord>,
    pub subscribers: Vec<SubscriberRecord>,
    pub final_state: Snapshot,
    /// Orders left for the archive as they finished (see
    /// [`Scenario::retention`]): some must have been archived.
    #[serde(default)]
    pub retention: bool,
    /// See [`Scenario::leave_alone_every`]: the orders the kitchen left
    /// alone must have expired (unless cancelled or declined first), not
    /// before the acceptance timeout, and some must have.
    #[serde(default)]
    pub leave_alone_every: u64,
}

impl Saved {
    /// Every order, from the hot store or else the archive; an order found
    /// in both must be the same there (the hot copy goes next sweep).
    pub fn all_orders(&self) -> (BTreeMap<String, &Value>, Vec<String>) {
        let id = |o: &Value| o["id"].as_str().unwrap_or_default().to_string();
        let mut all: BTreeMap<String, &Value> = BTreeMap::new();
        let mut problems = Vec::new();
        for o in &self.final_state.archived {
            all.insert(id(o), o);
        }
        for o in &self.final_state.orders {
            if let Some(a) = all.get(&id(o))
                && (a["version"] != o["version"] || a["state"] != o["state"])
            {
                problems.push(format!(
                    "order {} is in the hot store at version {} ({}) and in the archive at version {} ({})",
                    id(o),
                    o["version"],
                    o["state"],
                    a["version"],
                    a["state"]
                ));
            }
            all.insert(id(o), o);
        }
        (all, problems)
    }

    pub fn load(path: &Path) -> Result<Saved, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

// ---------------------------------------------------------------------
// The checker: pure, over a saved history.

/// A terminal state, by the protocol's own `OrderState::is_terminal` (not
/// a copy of its list); an unknown state is not.
fn terminal(state: &str) -> bool {
    serde_json::from_value::<protocol::messages::orders::OrderState>(Value::String(state.into()))
        .is_ok_and(|s| s.is_terminal())
}

/// Whether a `lost` notice's error is a `goaway` frame rather than a
/// connection closed with code 2: the close reasons are the ones of
/// protocol/README.md §8 ("...; reconnect to another node", "node
/// stopped"); a frame carries its own reason.
pub fn is_goaway_frame(error: &str) -> bool {
    error.contains("going away")
        && !error.contains("reconnect to another node")
        && !error.contains("node stopped")
}

/// Text from a transport or a library's debug output that must never
/// reach a user as an answer.
fn raw_transport_text(message: &str) -> bool {
    [
        "grpc",
        "h2 protocol",
        "tcp connect",
        "transport error",
        "http://",
        "ConnectionRefused",
        "tonic",
    ]
    .iter()
    .any(|t| message.contains(t))
}

/// Verifies the promises against a saved history; returns what broke.
pub fn check(h: &Saved) -> Vec<String> {
    let mut problems = Vec::new();
    check_faults(h, &mut problems);
    check_orders(h, &mut problems);
    check_expiry(h, &mut problems);
    check_answers(h, &mut problems);
    check_subscribers(h, &mut problems);
    check_goaway(h, &mut problems);
    check_store_watch(h, &mut problems);
    problems
}

/// Every planned fault was injected, proven, healed.
fn check_faults(h: &Saved, problems: &mut Vec<String>) {
    if h.faults.len() != h.planned.len() {
        problems.push(format!(
            "{} fault(s) planned ({:?}) but {} recorded",
            h.planned.len(),
            h.planned,
            h.faults.len()
        ));
    }
    for (i, (want, f)) in h.planned.iter().zip(&h.faults).enumerate() {
        if *want != f.kind {
            problems.push(format!(
                "fault {i}: planned {want:?}, recorded {:?}",
                f.kind
            ));
        }
        if f.evidence.is_empty() {
            problems.push(format!("fault {i} ({:?}): no evidence it happened", f.kind));
        }
        if f.healed_ms.is_none() {
            problems.push(format!("fault {i} ({:?}): never healed", f.kind));
        }
        // A leader change inside etcd must not depose our leader; both
        // ends must be known, or the comparison proves nothing.
        if f.kind == Failure::KillEtcdLeader {
            for k in ["leader_before", "leader_after"] {
                if !f.facts.contains_key(k) {
                    problems.push(format!(
                        "fault {i} ({:?}): no {k} recorded: whether our leader survived is unknown",
                        f.kind
                    ));
                }
            }
        }
        if f.kind == Failure::KillEtcdLeader
            && f.facts.get("leader_before") != f.facts.get("leader_after")
        {
            problems.push(format!(
                "an etcd leader change changed our leader: {:?} -> {:?}",
                f.facts.get("leader_before"),
                f.facts.get("leader_after")
            ));
        }
        if let Some(e) = f.facts.get("broken") {
            problems.push(format!("fault {i} ({:?}): {e}", f.kind));
        }
    }
}

/// The orders the kitchen left alone expired, each after its timeout
/// (its payment voided and its stock back: [`check_orders`] checks those
/// of every expired order).
fn check_expiry(h: &Saved, problems: &mut Vec<String>) {
    if h.leave_alone_every == 0 {
        return;
    }
    let (orders, _) = h.all_orders();
    let mut expired = 0;
    for (id, o) in &orders {
        if o["restaurant"] != RESTAURANT {
            continue;
        }
        let ticket = o["ticket"].as_u64().unwrap_or(1);
        let state = o["state"].as_str().unwrap_or_default();
        let left_alone = ticket.is_multiple_of(h.leave_alone_every);
        if state == "expired" {
            let lived = o["updated_at"]
                .as_u64()
                .unwrap_or(0)
                .saturating_sub(o["created_at"].as_u64().unwrap_or(0));
            if lived < ACCEPTANCE_TIMEOUT_SECS * 1000 {
                problems.push(format!(
                    "order {id} expired {lived} ms after it was placed, before its {ACCEPTANCE_TIMEOUT_SECS} s timeout"
                ));
            }
        }
        if !left_alone {
            continue;
        }
        match state {
            "expired" => expired += 1,
            "cancelled" | "payment_failed" => {}
            other => problems.push(format!(
                "order {id} (ticket {ticket}) was left alone by the kitchen but is {other}, not expired"
            )),
        }
    }
    if expired < 3 {
        problems.push(format!(
            "the kitchen left every {}th order alone, yet only {expired} expired: the expiry duty proved nothing",
            h.leave_alone_every
        ));
    }
}

fn check_orders(h: &Saved, problems: &mut Vec<String>) {
    let s = &h.final_state;
    let (orders, both) = h.all_orders();
    problems.extend(both);
    if h.retention && s.archived.is_empty() {
        problems.push(
            "orders were to leave for the archive as they finished, but none is archived".into(),
        );
    }
    let places: Vec<&Op> = h.ops.iter().filter(|o| o.op == "place").collect();
    let acked = places
        .iter()
        .filter(|o| o.outcome.starts_with("ok:"))
        .count();
    if acked < 5 {
        problems.push(format!(
            "too little traffic got through to prove anything: {acked} orders acknowledged"
        ));
    }
    // 1. No acknowledged order lost.
    for op in &places {
        if let Some(id) = op.outcome.strip_prefix("ok:")
            && !orders.contains_key(id)
        {
            problems.push(format!("acknowledged order {id} (key {}) is lost", op.key));
        }
    }
    // 2. No duplicate order: one idempotency record per order, one order
    //    per record, every order has one, one order per key.
    let mut by_order: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, order) in &s.idem {
        by_order.entry(order).or_default().push(key);
    }
    for (id, keys) in &by_order {
        if keys.len() > 1 {
            problems.push(format!(
                "order {id} made by {} idempotency keys: {keys:?}",
                keys.len()
            ));
        }
    }
    for id in orders.keys() {
        if !by_order.contains_key(id.as_str()) {
            problems.push(format!(
                "order {id} has no idempotency record (a duplicate placement?)"
            ));
        }
    }
    let mut key_to_order: HashMap<&str, &str> = HashMap::new();
    for op in &places {
        if let Some(id) = op.outcome.strip_prefix("ok:")
            && let Some(prev) = key_to_order.insert(&op.key, id)
            && prev != id
        {
            problems.push(format!(
                "key {} answered with two orders: {prev} and {id}",
                op.key
            ));
        }
    }
    // 3. Stock never negative, and exactly accounted for.
    let left = s.stock["units"][STOCKED].as_i64().unwrap_or(-999);
    let taken: i64 = orders
        .values()
        .filter(|o| o["restaurant"] == RESTAURANT)
        // Every order holds its stock but those that ended without
        // completing (their stock went back).
        .filter(|o| {
            let st = o["state"].as_str().unwrap_or_default();
            !terminal(st) || st == "completed"
        })
        .flat_map(|o| o["lines"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["sku"] == STOCKED)
        .map(|l| l["qty"].as_i64().unwrap_or(0))
        .sum();
    if left < 0 {
        problems.push(format!("stock of {STOCKED} is negative: {left}"));
    }
    if left != INITIAL_STOCK - taken {
        problems.push(format!(
            "stock of {STOCKED} is {left}, but orders hold {taken} of {INITIAL_STOCK}"
        ));
    }
    // 4. Every order ended in a terminal state, its money where it should be.
    let mut auths: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for v in &s.payments {
        let key = v["idempotency_key"].as_str().unwrap_or_default();
        let order = key.strip_suffix(":authorize").unwrap_or(key).to_string();
        auths.entry(order).or_default().push(&v["payment"]);
    }
    for (id, o) in &orders {
        let state = o["state"].as_str().unwrap_or_default();
        let pay = o["payment"]["state"].as_str().unwrap_or_default();
        if !terminal(state) {
            problems.push(format!(
                "order {id} did not reach a terminal state: {state} (payment {pay})"
            ));
        }
        let ps = auths.get(id).cloned().unwrap_or_default();
        if ps.len() > 1 {
            problems.push(format!("order {id} was authorised {} times", ps.len()));
        }
        for p in &ps {
            let captured = p["amount_captured"].as_i64().unwrap_or(0);
            if captured > p["amount"].as_i64().unwrap_or(0) {
                problems.push(format!(
                    "order {id}: captured {captured} of {}",
                    p["amount"]
                ));
            }
            if captured > 0 && state != "completed" {
                problems.push(format!(
                    "order {id} is {state} but its payment was captured"
                ));
            }
            if state == "completed" && captured == 0 {
                problems.push(format!("order {id} completed without its payment captured"));
            }
        }
        let expected_pay = match state {
            "completed" => Some("captured"),
            "rejected" | "cancelled" | "expired" => Some("voided"),
            "payment_failed" => Some("declined"),
            _ => None,
        };
        if let Some(e) = expected_pay
            && pay != e
        {
            problems.push(format!(
                "order {id} is {state} with payment {pay}, expected {e}"
            ));
        }
    }
}

/// No answer carries a transport's debug text, and no write is refused
/// as `store unavailable` while the store keeps its quorum (no scenario
/// takes it away: killing the etcd leader only stalls writes).
fn check_answers(h: &Saved, problems: &mut Vec<String>) {
    let mut raw = Vec::new();
    let mut refused = Vec::new();
    for op in &h.ops {
        if op.outcome.starts_with("err:") && raw_transport_text(&op.message) {
            raw.push(op);
        }
        if op.outcome == "err:unavailable" && op.message.starts_with("store unavailable") {
            refused.push(op);
        }
    }
    let show = |ops: &[&Op]| {
        ops.iter()
            .take(3)
            .map(|o| {
                format!(
                    "{} {} {} at {} ms: {}",
                    o.client, o.op, o.key, o.invoke_ms, o.message
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    if !raw.is_empty() {
        problems.push(format!(
            "{} answer(s) carried a transport's debug text, e.g. {}",
            raw.len(),
            show(&raw)
        ));
    }
    if !refused.is_empty() {
        problems.push(format!(
            "{} request(s) failed as `store unavailable` while the store kept its quorum (they should stall, then succeed), e.g. {}",
            refused.len(),
            show(&refused)
        ));
    }
}

/// The events a subscriber to `topic` must show, from `from` on.
fn expected_events(s: &Snapshot, topic: &str, from: u64) -> Vec<(u64, String, u64)> {
    let mut v: Vec<(u64, String, u64)> = s
        .events
        .iter()
        .filter(|e| e.revision >= from)
        .filter(|e| match topic.split_once(':') {
            Some(("restaurant", r)) => e.restaurant == r,
            Some(("order", id)) => e.subject == id && e.kind.starts_with("order."),
            _ => false,
        })
        .map(|e| (e.revision, e.subject.clone(), e.version))
        .collect();
    v.sort_by_key(|e| e.0); // stable: events of one revision keep their order
    v
}

/// Each subscriber showed every event of its topic exactly once, in order,
/// and none gave up.
fn check_subscribers(h: &Saved, problems: &mut Vec<String>) {
    // An archived order's events leave the store with it: what subscribers
    // saw of it is checked for duplicates and order only. So is that of an
    // order archived but still hot when the checker read it: the leader
    // may still be sweeping while the final state is read, one range after
    // another (the orders, then their events), so its events may be read
    // gone although the order was read hot.
    let gone: BTreeSet<&str> = h
        .final_state
        .archived
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    let (all_orders, _) = h.all_orders();
    for sub in &h.subscribers {
        let want: Vec<(u64, String, u64)> =
            expected_events(&h.final_state, &sub.topic, sub.from_revision)
                .into_iter()
                .filter(|e| !gone.contains(e.1.as_str()))
                .collect();
        let all_seen: Vec<(u64, String, u64)> = sub
            .seen
            .iter()
            .map(|e| (e.revision, e.subject.clone(), e.version))
            .collect();
        let got: Vec<(u64, String, u64)> = all_seen
            .iter()
            .filter(|e| !gone.contains(e.1.as_str()))
            .cloned()
            .collect();
        let seen_set: BTreeSet<_> = all_seen.iter().collect();
        if seen_set.len() != all_seen.len() || all_seen.windows(2).any(|w| w[1].0 < w[0].0) {
            problems.push(format!(
                "subscriber {} ({:?}, {}): {} event(s) shown twice, {} out of order",
                sub.name,
                sub.kind,
                sub.topic,
                all_seen.len() - seen_set.len(),
                all_seen.windows(2).filter(|w| w[1].0 < w[0].0).count()
            ));
        }
        if got != want {
            let got_set: BTreeSet<_> = got.iter().collect();
            let want_set: BTreeSet<_> = want.iter().collect();
            let missed: Vec<_> = want_set.difference(&got_set).take(5).collect();
            let extra: Vec<_> = got_set.difference(&want_set).take(5).collect();
            let twice = got.len() - got_set.len();
            let back = got.windows(2).filter(|w| w[1].0 < w[0].0).count();
            problems.push(format!(
                "subscriber {} ({:?}, {}): showed {} event(s), expected {}: missed {} e.g. {missed:?}; unexpected {extra:?}; {twice} twice; {back} out of order",
                sub.name,
                sub.kind,
                sub.topic,
                got.len(),
                want.len(),
                want_set.difference(&got_set).count(),
            ));
        }
        match (sub.kind, &sub.ended) {
            (_, None) => {}
            (SubscriberKind::DfoodTrack, Some(e)) if e.starts_with("exit 0") => {
                // Its Seen.kind is the order's state.
                if !sub.seen.last().is_some_and(|s| terminal(&s.kind)) {
                    problems.push(format!(
                        "subscriber {} exited 0 before its order was done",
                        sub.name
                    ));
                }
            }
            (_, Some(e)) => problems.push(format!(
                "subscriber {} ({:?}, {}) gave up: {e}",
                sub.name, sub.kind, sub.topic
            )),
        }
        if sub.kind == SubscriberKind::DfoodTrack && sub.seen.is_empty() {
            problems.push(format!(
                "subscriber {}: `dfood order track` never printed its order",
                sub.name
            ));
        }
        if sub.kind == SubscriberKind::DfoodTrack && sub.ended.is_none() {
            let id = sub.topic.trim_start_matches("order:");
            let done = all_orders
                .get(id)
                .is_some_and(|o| terminal(o["state"].as_str().unwrap_or_default()));
            if done {
                problems.push(format!(
                    "subscriber {}: `dfood order track` still ran after its order was done",
                    sub.name
                ));
            }
        }
    }
}

/// A node whose store watch breaks (an etcd leader change) resumes it
/// from its last revision: its subscribers never hear `store
/// unavailable` (issue 10). Each time one did is counted.
fn check_store_watch(h: &Saved, problems: &mut Vec<String>) {
    let hit: Vec<String> = h
        .subscribers
        .iter()
        .flat_map(|s| {
            s.notices
                .iter()
                .filter(|n| n.notice == "lost" && n.error.contains("store unavailable"))
                .map(move |n| format!("{} at {} ms: {}", s.name, n.at_ms, n.error))
        })
        .collect();
    if !hit.is_empty() {
        problems.push(format!(
            "{} subscription(s) ended by their node with `store unavailable` instead of the node resuming its store watch: {}",
            hit.len(),
            hit.join(" | ")
        ));
    }
}

/// Where a subscriber's stream was at `t` (its last subscribed/resumed
/// notice before, with no `lost` since).
fn endpoint_at(sub: &SubscriberRecord, t: u64) -> Option<&str> {
    let last = sub.notices.iter().rev().find(|n| n.at_ms < t)?;
    match last.notice.as_str() {
        "subscribed" | "resumed" => last.endpoint.as_deref(),
        _ => None,
    }
}

/// protocol/README.md §8: every open subscription on a node that drains or
/// shuts down receives a `goaway` frame before its connection closes.
fn check_goaway(h: &Saved, problems: &mut Vec<String>) {
    for f in &h.faults {
        if !matches!(
            f.kind,
            Failure::DrainDaemon | Failure::TermDaemon | Failure::TermIdleStreamsNode
        ) {
            continue;
        }
        let mut on = 0;
        let mut without = Vec::new();
        for sub in &h.subscribers {
            if endpoint_at(sub, f.injected_ms) != Some(f.endpoint.as_str()) {
                continue;
            }
            on += 1;
            let first_lost = sub
                .notices
                .iter()
                .find(|n| n.at_ms >= f.injected_ms && n.notice == "lost");
            match first_lost {
                Some(n) if is_goaway_frame(&n.error) => {}
                Some(n) => without.push(format!("{}: {}", sub.name, n.error)),
                // A `dfood order track` whose order finished meanwhile
                // left by itself.
                None if sub.ended_ms.is_some() => on -= 1,
                None => without.push(format!("{}: never told", sub.name)),
            }
        }
        if !without.is_empty() {
            problems.push(format!(
                "{:?} of {}: {} of {on} subscription(s) on it got no goaway frame: {}",
                f.kind,
                f.target,
                without.len(),
                without.join(" | ")
            ));
        }
    }
}

// ---------------------------------------------------------------------
// Recording.

/// The clock and the shared records of a running scenario.
pub struct Recorder {
    start: Instant,
    pub ops: Mutex<Vec<Op>>,
    pub faults: Mutex<Vec<FaultRecord>>,
    pub subscribers: Mutex<Vec<Arc<Mutex<SubscriberRecord>>>>,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            ops: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            subscribers: Mutex::new(Vec::new()),
        }
    }

    pub fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn op(&self, client: &str, op: &str, key: &str, invoke_ms: u64, outcome: (String, String)) {
        let return_ms = self.ms();
        self.ops.lock().unwrap().push(Op {
            client: client.into(),
            op: op.into(),
            key: key.into(),
            invoke_ms,
            return_ms,
            outcome: outcome.0,
            message: outcome.1,
        });
    }

    fn subscriber(
        &self,
        name: &str,
        kind: SubscriberKind,
        topic: &str,
        from: u64,
    ) -> Arc<Mutex<SubscriberRecord>> {
        let r = Arc::new(Mutex::new(SubscriberRecord {
            name: name.into(),
            kind,
            topic: topic.into(),
            from_revision: from,
            seen: Vec::new(),
            notices: Vec::new(),
            ended: None,
            ended_ms: None,
        }));
        self.subscribers.lock().unwrap().push(r.clone());
        r
    }
}

/// `(outcome, message)` of a call.
fn outcome_of<T>(r: &Result<T, ClientError>, ok: impl Fn(&T) -> String) -> (String, String) {
    match r {
        Ok(v) => (format!("ok:{}", ok(v)), String::new()),
        Err(ClientError::Server(b)) => (format!("err:{}", b.code), b.message.clone()),
        Err(e) => ("unknown".into(), e.to_string()),
    }
}

// ---------------------------------------------------------------------
// The system.

/// A lossy UDP proxy: forwards datagrams between clients and `upstream`,
/// dropping a share of them while `lossy` is on, and counting the drops.
pub struct UdpProxy {
    pub addr: SocketAddr,
    pub lossy: Arc<AtomicBool>,
    pub dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// Whether the lossy proxy is in one of its blackouts: 1.5 s of total
/// loss every 3 s, long enough for clients to time out after the server
/// may already have acted, so they retry elsewhere (with the same keys).
fn blackout() -> bool {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    ms % 3000 < 1500
}

impl UdpProxy {
    pub async fn start(upstream: SocketAddr) -> UdpProxy {
        let sock = Arc::new(
            tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind proxy"),
        );
        let addr = sock.local_addr().expect("addr");
        let lossy = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let (l, d) = (lossy.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            let mut uplinks: HashMap<SocketAddr, Arc<tokio::net::UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 65536];
            let mut n: u64 = 0;
            loop {
                let Ok((len, from)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                n += 1;
                let drop_it = l.load(Ordering::Relaxed) && (n.is_multiple_of(3) || blackout());
                let up = match uplinks.get(&from) {
                    Some(u) => u.clone(),
                    None => {
                        let u = Arc::new(
                            tokio::net::UdpSocket::bind("127.0.0.1:0")
                                .await
                                .expect("bind uplink"),
                        );
                        u.connect(upstream).await.expect("connect upstream");
                        let (down, back, lossy, dropped) =
                            (sock.clone(), u.clone(), l.clone(), d.clone());
                        tokio::spawn(async move {
                            let mut b = vec![0u8; 65536];
                            let mut m: u64 = 0;
                            while let Ok(len) = back.recv(&mut b).await {
                                m += 1;
                                if lossy.load(Ordering::Relaxed) {
                                    if m.is_multiple_of(3) || blackout() {
                                        dropped.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                }
                                let _ = down.send_to(&b[..len], from).await;
                            }
                        });
                        uplinks.insert(from, u.clone());
                        u
                    }
                };
                if drop_it {
                    d.fetch_add(1, Ordering::Relaxed);
                } else {
                    let _ = up.send(&buf[..len]).await;
                }
            }
        });
        UdpProxy {
            addr,
            lossy,
            dropped,
            task,
        }
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A person of the scenario: name and access token.
#[derive(Clone)]
pub struct Person {
    pub name: String,
    pub token: String,
}

/// The running system.
pub struct World {
    pub store: StoreKind,
    pub etcd: Option<Etcd>,
    pub nodes: Vec<Daemon>,
    pub dir: tempfile::TempDir,
    pub ca: Vec<u8>,
    pub ca_path: PathBuf,
    pub operator: Person,
    pub manager: Person,
    pub kitchen: Person,
    pub customers: Vec<Person>,
    /// The quiet restaurant's order that `dfood order track` follows,
    /// accepted and left alone until the end.
    pub quiet_order: String,
    /// The archive's PostgreSQL, in retention scenarios.
    pub archive: Option<crate::postgres::Postgres>,
}

impl World {
    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.iter().map(|d| d.endpoint()).collect()
    }

    /// A session over every node (`seeds`, if given, instead).
    pub fn session(&self, seeds: Option<Vec<String>>) -> Session {
        let rebalance = seeds.is_none();
        let mut o = SessionOptions::new(seeds.unwrap_or_else(|| self.endpoints()), self.ca.clone());
        o.rebalance = rebalance;
        Session::new(o).expect("session")
    }

    /// `dfood` as `who`, pointed at every node.
    pub fn dfood(&self, who: &Person) -> Dfood {
        Dfood::new()
            .env("DFOOD_ENDPOINT", &self.endpoints().join(","))
            .env("DFOOD_CA", &self.ca_path.display().to_string())
            .env("DFOOD_TOKEN", &who.token)
    }

    pub async fn start(store: StoreKind, customers: usize, retention: bool) -> World {
        let (etcd, nodes, dir, archive) = tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().expect("tempdir");
            match store {
                StoreKind::Etcd if retention => {
                    let pg = crate::postgres::Postgres::start();
                    let etcd = Etcd::start(3);
                    // Orders leave a second after they finish; keys and
                    // history stay (the checker and subscribers need them).
                    let config = format!(
                        "archive_url = \"{}\"\n[retention]\nfinished_after_secs = 1\nsweep_every_secs = 1\nidempotency_window_secs = 3600\nresume_window_secs = 3600\n",
                        pg.url
                    );
                    let nodes = (1..=3)
                        .map(|i| {
                            Daemon::start_with(
                                &format!("node-{i}"),
                                &dir.path().join(format!("n{i}")),
                                &etcd.endpoints(),
                                &config,
                            )
                        })
                        .collect();
                    (Some(etcd), nodes, dir, Some(pg))
                }
                StoreKind::Etcd => {
                    let etcd = Etcd::start(3);
                    let nodes = crate::start_nodes(&etcd, dir.path(), 3);
                    (Some(etcd), nodes, dir, None)
                }
                StoreKind::Embedded => {
                    let node = Daemon::start("solo", &dir.path().join("solo"), &[]);
                    (None, vec![node], dir, None)
                }
            }
        })
        .await
        .expect("start cluster");
        let ca_path = nodes[0].ca_path();
        let ca = std::fs::read(&ca_path).expect("CA");
        let mut w = World {
            store,
            etcd,
            nodes,
            dir,
            ca,
            ca_path,
            operator: Person {
                name: "ops".into(),
                token: String::new(),
            },
            manager: Person {
                name: "manager".into(),
                token: String::new(),
            },
            kitchen: Person {
                name: "cook".into(),
                token: String::new(),
            },
            customers: Vec::new(),
            quiet_order: String::new(),
            archive,
        };
        let s = w.session(None);
        let setup = w
            .nodes
            .iter()
            .map(|d| d.data_dir.join("setup-token"))
            .find(|p| p.exists())
            .expect("setup token");
        let setup = std::fs::read_to_string(setup).unwrap();
        call(
            &s,
            None,
            "admin.bootstrap",
            json!({"setup_token": setup.trim(), "username": "ops", "password": PASSWORD}),
        )
        .await;
        w.operator.token = token(&s, "ops").await;
        w.manager.token = person(&s, "manager").await;
        w.kitchen.token = person(&s, "cook").await;
        for i in 0..customers {
            let name = format!("customer{i}");
            let t = person(&s, &name).await;
            w.customers.push(Person { name, token: t });
        }
        let m = Some(w.manager.token.as_str());
        for (r, items) in [
            (
                RESTAURANT,
                json!([
                    {"sku": "pizza", "name": "Pizza", "price": 900},
                    {"sku": "soup", "name": "Soup", "price": 500},
                    {"sku": STOCKED, "name": "Truffle pasta", "price": 2500, "stock": INITIAL_STOCK},
                ]),
            ),
            (
                QUIET,
                json!([
                    {"sku": "tea", "name": "Tea", "price": 300},
                    {"sku": "cake", "name": "Cake", "price": 450},
                ]),
            ),
        ] {
            call(
                &s,
                m,
                "restaurant.create",
                json!({"id": r, "name": r, "acceptance_timeout_secs": ACCEPTANCE_TIMEOUT_SECS}),
            )
            .await;
            call(
                &s,
                m,
                "menu.import",
                json!({"restaurant": r, "items": items}),
            )
            .await;
            call(
                &s,
                m,
                "staff.add",
                json!({"restaurant": r, "username": "cook", "role": "kitchen"}),
            )
            .await;
            call(&s, m, "restaurant.open", json!({"restaurant": r})).await;
        }
        let c0 = w.customers[0].token.clone();
        let o = call(
            &s,
            Some(&c0),
            "order.place",
            json!({"restaurant": QUIET, "lines": [{"sku": "tea", "qty": 1}], "payment_method": "pm_card_visa", "idempotency_key": "quiet-order-0"}),
        )
        .await;
        w.quiet_order = o["id"].as_str().unwrap().to_string();
        call(
            &s,
            Some(&w.kitchen.token),
            "order.accept",
            json!({"order": w.quiet_order}),
        )
        .await;
        s.close().await;
        w
    }

    /// The store revision now, as a node sees it.
    pub async fn revision(&self) -> u64 {
        let s = self.session(None);
        let h = call(&s, None, "health", json!({})).await;
        h["store_revision"].as_u64().expect("store_revision")
    }

    /// The leader node and its fencing token, if there is one now.
    pub async fn leader(&self, ops: &Session) -> Option<(String, u64)> {
        let st: Value = ops
            .call("cluster.status", Some(&self.operator.token), &json!({}))
            .await
            .ok()?;
        let l = st["leader"].as_object()?;
        Some((
            l["node"].as_str()?.to_string(),
            l["fencing_token"].as_u64()?,
        ))
    }

    fn node_index(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|d| d.node == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Reads the store's final state. The embedded store is read from its
    /// file, after its node stopped.
    pub async fn snapshot(&mut self) -> Snapshot {
        match self.store {
            StoreKind::Etcd => {
                let endpoints = self.etcd.as_ref().expect("etcd").endpoints();
                let store = daemon::store::etcd::EtcdStore::connect(&endpoints)
                    .await
                    .expect("checker's etcd client");
                let mut s = read_snapshot(&*store).await;
                if let Some(pg) = &self.archive {
                    let a = daemon::archive::Archive::open(&pg.url)
                        .await
                        .expect("checker's archive connection");
                    s.archived = a
                        .all_orders()
                        .await
                        .expect("archived orders")
                        .into_iter()
                        .map(|o| serde_json::to_value(o).expect("order json"))
                        .collect();
                    a.close().await;
                }
                s
            }
            StoreKind::Embedded => {
                let code = tokio::task::block_in_place(|| {
                    self.nodes[0].proc.terminate(Duration::from_secs(20))
                });
                assert_eq!(code, Some(0), "the embedded node stops cleanly on SIGTERM");
                let path = self.nodes[0].data_dir.join("store.redb");
                let store =
                    daemon::store::embedded::EmbeddedStore::open(&path).expect("open store.redb");
                read_snapshot(&*store).await
            }
        }
    }

    /// Saves the history and every log; returns the folder.
    pub fn save(&self, saved: &Saved, problems: &[String]) -> PathBuf {
        let out = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("robustness")
            .join(&saved.scenario);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("history dir");
        std::fs::write(
            out.join("history.json"),
            serde_json::to_vec_pretty(saved).expect("history json"),
        )
        .expect("write history");
        let _ = std::fs::write(out.join("problems.txt"), problems.join("\n"));
        for d in &self.nodes {
            let _ = std::fs::write(out.join(format!("{}.log", d.node)), d.proc.log_text());
        }
        if let Some(etcd) = &self.etcd {
            for m in &etcd.members {
                let _ = std::fs::write(out.join(format!("{}.log", m.name)), m.proc.log_text());
            }
        }
        out
    }
}

async fn read_snapshot(store: &dyn Store) -> Snapshot {
    let revision = store.revision().await.expect("revision") as u64;
    let values = |kvs: Vec<daemon::store::KeyValue>| -> Vec<Value> {
        kvs.into_iter()
            .map(|kv| serde_json::from_slice(&kv.value).expect("a JSON document"))
            .collect()
    };
    let orders = values(store.range("/dfood/orders/").await.expect("orders").kvs);
    let idem = store
        .range("/dfood/idem/")
        .await
        .expect("idem")
        .kvs
        .into_iter()
        .map(|kv| (kv.key, String::from_utf8_lossy(&kv.value).into_owned()))
        .collect();
    let stock = store
        .get(&format!("/dfood/stock/{RESTAURANT}"))
        .await
        .expect("stock")
        .map(|kv| serde_json::from_slice(&kv.value).expect("stock json"))
        .unwrap_or(json!({}));
    let payments = values(
        store
            .range(daemon::payments::sandbox::PAYMENTS_PREFIX)
            .await
            .expect("payments")
            .kvs,
    );
    let events = store
        .range("/dfood/events/")
        .await
        .expect("events")
        .kvs
        .into_iter()
        .map(|kv| {
            let v: Value = serde_json::from_slice(&kv.value).expect("event json");
            let kind = v["kind"].as_str().unwrap_or_default().to_string();
            let restaurant = kv
                .key
                .trim_start_matches("/dfood/events/")
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
            StoredEvent {
                revision: kv.mod_revision as u64,
                restaurant,
                subject: v["subject"].as_str().unwrap_or_default().to_string(),
                version: event_version(&kind, &v["data"]),
                kind,
            }
        })
        .collect();
    Snapshot {
        archived: Vec::new(),
        revision,
        orders,
        idem,
        stock,
        payments,
        events,
    }
}

/// The version that identifies an event: an order's version, else 0.
fn event_version(kind: &str, data: &Value) -> u64 {
    if kind.starts_with("order.") {
        data["version"].as_u64().unwrap_or(0)
    } else {
        0
    }
}

/// A call during setup, which must succeed.
async fn token(s: &Session, name: &str) -> String {
    crate::token(s, name, PASSWORD).await
}

async fn person(s: &Session, name: &str) -> String {
    crate::person(s, name, PASSWORD).await
}

// ---------------------------------------------------------------------
// Traffic.

fn order_body(n: u64, seed: u64, key: &str) -> (Value, Vec<String>) {
    let mut lines = vec![json!({"sku": "pizza", "qty": 1})];
    let mut items = vec!["pizza:1".to_string()];
    if (n + seed).is_multiple_of(2) {
        let q = 1 + (n % 2);
        lines.push(json!({"sku": STOCKED, "qty": q}));
        items.push(format!("{STOCKED}:{q}"));
    }
    let method = if n.is_multiple_of(9) {
        "pm_card_declined"
    } else {
        "pm_card_visa"
    };
    let body = json!({"restaurant": RESTAURANT, "lines": lines, "payment_method": method, "idempotency_key": key});
    (body, items)
}

/// Places `body` through `s` (which retries what it may), and again with
/// the same idempotency key while the outcome is unknown, until it gets an
/// answer or `give_up`. Every attempt is recorded.
async fn place_until_answered(
    s: &Session,
    who: &str,
    token: &str,
    body: &Value,
    give_up: Instant,
    rec: &Recorder,
) -> String {
    let key = body["idempotency_key"].as_str().unwrap_or_default();
    loop {
        let t = rec.ms();
        let r: Result<Value, ClientError> = s.call("order.place", Some(token), body).await;
        let o = outcome_of(&r, |v| v["id"].as_str().unwrap_or_default().to_string());
        rec.op(who, "place", key, t, o.clone());
        let again = match &r {
            Ok(_) => false,
            Err(ClientError::Server(b)) => b.code == ErrorCode::Unavailable,
            Err(_) => true,
        };
        if !again || Instant::now() >= give_up {
            return o.0;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Orders placed and acknowledged, for `dfood order track`.
type Placed = Arc<Mutex<Vec<(String, String)>>>;

/// A customer on a `Session`: places orders (retrying with the same
/// idempotency key until it gets an answer), now and then double-submits
/// or cancels.
#[allow(clippy::too_many_arguments)]
async fn customer(
    s: Session,
    twin: Session,
    who: Person,
    until: Instant,
    rec: Arc<Recorder>,
    seed: u64,
    placed: Placed,
) {
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let key = format!("{}-{n:04}", who.name);
        let (body, _) = order_body(n, seed, &key);
        let give_up = Instant::now() + Duration::from_secs(25);
        // Now and then the customer double-submits (two tabs, an impatient
        // click): the same key, at the same time, over another connection.
        let twin_task = n.is_multiple_of(7).then(|| {
            let (body, token, name, rec, twin) = (
                body.clone(),
                who.token.clone(),
                format!("{}-twin", who.name),
                rec.clone(),
                twin.clone(),
            );
            tokio::spawn(async move {
                place_until_answered(&twin, &name, &token, &body, give_up, &rec).await
            })
        });
        let outcome = place_until_answered(&s, &who.name, &who.token, &body, give_up, &rec).await;
        if let Some(t) = twin_task {
            let _ = t.await;
        }
        if let Some(id) = outcome.strip_prefix("ok:") {
            if n.is_multiple_of(5) {
                let t = rec.ms();
                let r: Result<Value, ClientError> = s
                    .call("order.cancel", Some(&who.token), &json!({"order": id}))
                    .await;
                let o = outcome_of(&r, |v| v["state"].as_str().unwrap_or_default().to_string());
                rec.op(&who.name, "cancel", id, t, o);
            } else {
                placed
                    .lock()
                    .unwrap()
                    .push((id.to_string(), who.token.clone()));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A customer running `dfood order place --idempotency-key K` (a thread:
/// each placement is a process). An exit that leaves the outcome unknown
/// (7: unavailable) is retried with the same key.
fn cli_customer(mut cli: Dfood, name: String, until: Instant, rec: Arc<Recorder>, seed: u64) {
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let key = format!("{name}-{n:04}");
        let (body, items) = order_body(n, seed, &key);
        let mut args: Vec<String> = vec!["order".into(), "place".into(), RESTAURANT.into()];
        for i in items {
            args.extend(["--item".into(), i]);
        }
        args.extend([
            "--pay".into(),
            body["payment_method"].as_str().unwrap().into(),
            "--idempotency-key".into(),
            key.clone(),
            "-o".into(),
            "json".into(),
            "--timeout".into(),
            "3s".into(),
        ]);
        let give_up = Instant::now() + Duration::from_secs(25);
        loop {
            let t = rec.ms();
            let out = cli.run(&args);
            let (o, again) = if out.code == 0 {
                let id = out.json()["id"].as_str().unwrap_or_default().to_string();
                ((format!("ok:{id}"), String::new()), false)
            } else {
                let err: Value = serde_json::from_str(out.stderr.trim()).unwrap_or(Value::Null);
                let code = err["error"]["code"].as_str().unwrap_or("").to_string();
                let msg = err["error"]["message"]
                    .as_str()
                    .unwrap_or(out.stderr.trim())
                    .to_string();
                // Exit 7 is "unavailable": a server's `store unavailable`
                // (nothing done), or a lost connection (maybe placed, maybe
                // not). Either way, the same key again.
                if out.code == cli::exit::UNAVAILABLE as i32 {
                    if msg.starts_with("store unavailable") {
                        (("err:unavailable".into(), msg), true)
                    } else {
                        (("unknown".into(), msg), true)
                    }
                } else {
                    ((format!("err:{code}"), msg), false)
                }
            };
            rec.op(&name, "place", &key, t, o);
            if !again || Instant::now() >= give_up {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One of the kitchen's `of` cooks on a `Session`: moves every open ticket
/// whose number is `me` modulo `of` one step forward, over and over; once
/// `stop` is set, keeps going until none of them is open (bounded by
/// `deadline`). Every step is recorded. (Several cooks, because one
/// cannot keep up with the customers on a debug build.)
#[allow(clippy::too_many_arguments)]
async fn kitchen(
    s: Session,
    token: String,
    (me, of): (u64, u64),
    leave_alone_every: u64,
    stop: Arc<AtomicBool>,
    deadline: Instant,
    rec: Arc<Recorder>,
) {
    let open =
        json!({"restaurant": RESTAURANT, "states": ["placed", "accepted", "preparing", "ready"]});
    while Instant::now() < deadline {
        let list: Value = match s.call("order.list", Some(&token), &open).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let orders: Vec<Value> = list["orders"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o["ticket"].as_u64().unwrap_or(0) % of == me)
            .filter(|o| {
                leave_alone_every == 0
                    || !o["ticket"]
                        .as_u64()
                        .unwrap_or(1)
                        .is_multiple_of(leave_alone_every)
            })
            .collect();
        if orders.is_empty() && stop.load(Ordering::Relaxed) {
            return;
        }
        for o in orders {
            let (ty, step) = match o["state"].as_str() {
                Some("placed") => ("order.accept", "accept"),
                Some("accepted") => ("order.start", "start"),
                Some("preparing") => ("order.ready", "ready"),
                Some("ready") => ("order.complete", "complete"),
                _ => continue,
            };
            let id = o["id"].as_str().unwrap_or_default();
            let t = rec.ms();
            let r: Result<Value, ClientError> =
                s.call(ty, Some(&token), &json!({"order": id})).await;
            let out = outcome_of(&r, |v| v["state"].as_str().unwrap_or_default().to_string());
            rec.op(&format!("kitchen-{me}"), step, id, t, out);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A subscriber on `Session::subscribe_resuming`: records every event and
/// notice until aborted, or how it ended.
async fn session_subscriber(
    s: Session,
    token: String,
    r: Arc<Mutex<SubscriberRecord>>,
    rec: Arc<Recorder>,
) {
    let (topic, from) = {
        let g = r.lock().unwrap();
        (g.topic.clone(), g.from_revision)
    };
    let mut sub = s.subscribe_resuming(topic, Some(&token), Some(from));
    loop {
        let d = sub.next_with_notices().await;
        let at_ms = rec.ms();
        let mut g = r.lock().unwrap();
        match d {
            Ok(Delivery::Item(SubscriptionItem::Events { revision, events })) => {
                for ev in events {
                    g.seen.push(Seen {
                        at_ms,
                        revision,
                        version: event_version(&ev.kind, &ev.data),
                        subject: ev.subject,
                        kind: ev.kind,
                    });
                }
            }
            Ok(Delivery::Item(SubscriptionItem::Progress { .. })) => {}
            Ok(Delivery::Notice(n)) => g.notices.push(notice_record(at_ms, &n)),
            Err(e) => {
                g.ended = Some(format!("error: {e}"));
                g.ended_ms = Some(at_ms);
                return;
            }
        }
    }
}

fn notice_record(at_ms: u64, n: &Notice) -> NoticeRecord {
    match n {
        Notice::Subscribed {
            endpoint, resumed, ..
        } => NoticeRecord {
            at_ms,
            notice: if *resumed { "resumed" } else { "subscribed" }.into(),
            endpoint: Some(endpoint.clone()),
            error: String::new(),
        },
        Notice::Lost {
            endpoint, error, ..
        } => NoticeRecord {
            at_ms,
            notice: "lost".into(),
            endpoint: endpoint.clone(),
            error: error.clone(),
        },
    }
}

/// `dfood` stream processes and their records; a thread reads what they
/// print as it comes (every 100 ms), timestamping each line.
struct Streams {
    procs: Mutex<Vec<Watched>>,
}

/// A stream process, its record, and how many stdout and stderr lines
/// were read already.
struct Watched(DfoodProc, Arc<Mutex<SubscriberRecord>>, usize, usize);

impl Streams {
    fn add(&self, p: DfoodProc, r: Arc<Mutex<SubscriberRecord>>) {
        self.procs.lock().unwrap().push(Watched(p, r, 0, 0));
    }

    /// Reads new lines of every process into its record; notes exits.
    fn poll(&self, rec: &Recorder) {
        let at_ms = rec.ms();
        let mut procs = self.procs.lock().unwrap();
        for Watched(p, r, out_n, err_n) in procs.iter_mut() {
            let exit = p.proc.exit_code();
            let out = p.stdout_lines();
            let err = p.stderr_lines();
            let mut g = r.lock().unwrap();
            for line in &out[(*out_n).min(out.len())..] {
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    g.seen.push(Seen {
                        at_ms,
                        revision: 0,
                        subject: format!("not JSON: {line}"),
                        version: 0,
                        kind: String::new(),
                    });
                    continue;
                };
                let seen = match g.kind {
                    // One Order document per line.
                    SubscriberKind::DfoodTrack => Seen {
                        at_ms,
                        revision: v["revision"].as_u64().unwrap_or(0),
                        subject: v["id"].as_str().unwrap_or_default().to_string(),
                        version: v["version"].as_u64().unwrap_or(0),
                        kind: v["state"].as_str().unwrap_or_default().to_string(),
                    },
                    _ => {
                        let kind = v["kind"].as_str().unwrap_or_default().to_string();
                        Seen {
                            at_ms,
                            revision: v["revision"].as_u64().unwrap_or(0),
                            subject: v["subject"].as_str().unwrap_or_default().to_string(),
                            version: event_version(&kind, &v["data"]),
                            kind,
                        }
                    }
                };
                g.seen.push(seen);
            }
            *out_n = out.len();
            for line in &err[(*err_n).min(err.len())..] {
                let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                if let Some(n) = v["notice"].as_str() {
                    g.notices.push(NoticeRecord {
                        at_ms,
                        notice: n.to_string(),
                        endpoint: v["endpoint"].as_str().map(str::to_string),
                        error: v["error"].as_str().unwrap_or_default().to_string(),
                    });
                }
            }
            *err_n = err.len();
            if let Some(code) = exit
                && g.ended.is_none()
            {
                g.ended = Some(format!(
                    "exit {code}: {}",
                    err.last().map(String::as_str).unwrap_or_default()
                ));
                g.ended_ms = Some(at_ms);
            }
        }
    }
}

/// Waits (bounded) until `f` holds, checking every 100 ms.
async fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{what}: not within {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------
// Faults.

/// The etcd member that is the raft leader now, if one answers so.
pub async fn etcd_leader(etcd: &Etcd) -> Option<usize> {
    for (i, m) in etcd.members.iter().enumerate() {
        let Ok(Ok(mut c)) = tokio::time::timeout(
            Duration::from_secs(2),
            etcd_client::Client::connect([m.client_url.as_str()], None),
        )
        .await
        else {
            continue;
        };
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), c.status()).await
            && s.leader() != 0
            && s.leader() == s.header().map(|h| h.member_id()).unwrap_or(0)
        {
            return Some(i);
        }
    }
    None
}

/// Waits (bounded) until some member is the etcd leader; returns it.
pub async fn wait_etcd_leader(etcd: &Etcd, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        if let Some(i) = etcd_leader(etcd).await {
            return i;
        }
        assert!(
            Instant::now() < deadline,
            "no etcd leader within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether process `pid` is stopped (SIGSTOP), from /proc.
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|st| st == "T"))
        })
        .unwrap_or(false)
}

/// What the fault loop needs between injecting and healing.
struct Injected {
    record: FaultRecord,
    node: Option<usize>,
    etcd_member: Option<usize>,
    /// Writes sent while the fault lasts, awaited when it heals.
    probes: Vec<tokio::task::JoinHandle<()>>,
}

struct Faults<'a> {
    w: &'a mut World,
    ops: Session,
    rec: Arc<Recorder>,
    proxy: Option<&'a UdpProxy>,
    streams: Arc<Streams>,
    /// The quiet `dfood events` stream, whose node the idle faults hit.
    idle_stream: Arc<Mutex<SubscriberRecord>>,
}

impl Faults<'_> {
    /// A node that is not the leader (there must be a leader).
    async fn non_leader(&self, kind: Failure) -> Result<(usize, String), String> {
        let (leader, _) = self
            .w
            .leader(&self.ops)
            .await
            .ok_or_else(|| format!("{kind:?}: no leader to tell the other nodes from"))?;
        let i = self
            .w
            .nodes
            .iter()
            .position(|d| d.node != leader)
            .ok_or_else(|| format!("{kind:?}: no node besides the leader"))?;
        Ok((i, leader))
    }

    fn idle_stream_node(&self, kind: Failure) -> Result<usize, String> {
        self.streams.poll(&self.rec);
        let ep = {
            let g = self.idle_stream.lock().unwrap();
            endpoint_at(&g, u64::MAX).map(str::to_string)
        }
        .ok_or_else(|| format!("{kind:?}: the idle dfood events stream is on no node"))?;
        self.w
            .nodes
            .iter()
            .position(|d| d.endpoint() == ep)
            .ok_or_else(|| format!("{kind:?}: the idle stream is on {ep}, which is no node"))
    }

    fn record(&self, kind: Failure, node: Option<usize>, target: &str) -> FaultRecord {
        FaultRecord {
            kind,
            target: target.to_string(),
            endpoint: node.map(|i| self.w.nodes[i].endpoint()).unwrap_or_default(),
            injected_ms: self.rec.ms(),
            healed_ms: None,
            evidence: Vec::new(),
            facts: BTreeMap::new(),
        }
    }

    async fn wait_new_leader(&self, before: &(String, u64)) -> Result<(String, u64), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(now) = self.w.leader(&self.ops).await
                && now.1 > before.1
            {
                return Ok(now);
            }
            if Instant::now() > deadline {
                return Err(format!("no new leader within 30 s (was {before:?})"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Injects `kind`, proving it happened; an error means it could not be
    /// injected (the scenario fails).
    async fn inject(&mut self, kind: Failure) -> Result<Injected, String> {
        let t0 = Instant::now();
        let mut etcd_member = None;
        let mut probes = Vec::new();
        let (node, mut f) = match kind {
            Failure::KillDaemon
            | Failure::KillLeaderDaemon
            | Failure::KillIdleStreamsNode
            | Failure::KillEmbedded => {
                let before = self.w.leader(&self.ops).await;
                let i = match kind {
                    Failure::KillDaemon => self.non_leader(kind).await?.0,
                    Failure::KillLeaderDaemon => {
                        let (l, _) = before
                            .clone()
                            .ok_or("KillLeaderDaemon: no leader to kill")?;
                        self.w.node_index(&l)
                    }
                    Failure::KillIdleStreamsNode => self.idle_stream_node(kind)?,
                    _ => 0,
                };
                let mut f = self.record(kind, Some(i), &self.w.nodes[i].node.clone());
                let pid = self.w.nodes[i].proc.pid();
                self.w.nodes[i].proc.kill9();
                if self.w.nodes[i].proc.alive() || Path::new(&format!("/proc/{pid}")).exists() {
                    return Err(format!("{kind:?}: pid {pid} still there after kill -9"));
                }
                f.evidence
                    .push(format!("kill -9 of {} (pid {pid}): process gone", f.target));
                if let Some(b) = &before {
                    f.facts.insert("leader_before".into(), format!("{b:?}"));
                }
                if kind == Failure::KillLeaderDaemon {
                    let b = before.expect("checked above");
                    let now = self.wait_new_leader(&b).await?;
                    f.evidence.push(format!(
                        "leader {} (token {}) replaced by {} (token {}) after {:?}",
                        b.0,
                        b.1,
                        now.0,
                        now.1,
                        t0.elapsed()
                    ));
                }
                (Some(i), f)
            }
            Failure::TermDaemon | Failure::TermIdleStreamsNode => {
                let i = match kind {
                    Failure::TermDaemon => self.non_leader(kind).await?.0,
                    _ => self.idle_stream_node(kind)?,
                };
                let mut f = self.record(kind, Some(i), &self.w.nodes[i].node.clone());
                let pid = self.w.nodes[i].proc.pid();
                let code = tokio::task::block_in_place(|| {
                    self.w.nodes[i].proc.terminate(Duration::from_secs(15))
                });
                match code {
                    Some(c) => f.evidence.push(format!(
                        "SIGTERM to {} (pid {pid}): exited with {c} after {:?}",
                        f.target,
                        t0.elapsed()
                    )),
                    None => {
                        f.evidence.push(format!(
                            "SIGTERM to {} (pid {pid}): killed after 15 s",
                            f.target
                        ));
                        f.facts.insert(
                            "broken".into(),
                            "the node did not exit within 15 s of SIGTERM".into(),
                        );
                    }
                }
                (Some(i), f)
            }
            Failure::PauseDaemon => {
                let (i, _) = self.non_leader(kind).await?;
                let mut f = self.record(kind, Some(i), &self.w.nodes[i].node.clone());
                let pid = self.w.nodes[i].proc.pid();
                self.w.nodes[i].proc.signal(libc::SIGSTOP);
                wait_for("the paused node to stop", Duration::from_secs(5), || {
                    stopped(pid)
                })
                .await?;
                f.evidence
                    .push(format!("SIGSTOP to {} (pid {pid}): state T", f.target));
                (Some(i), f)
            }
            Failure::KillEtcdLeader => {
                if self.w.etcd.is_none() {
                    return Err("KillEtcdLeader: no etcd".into());
                }
                // Our leader before (asked again for up to 15 s).
                let mut before = None;
                let deadline = Instant::now() + Duration::from_secs(15);
                while before.is_none() && Instant::now() < deadline {
                    before = self.w.leader(&self.ops).await;
                    if before.is_none() {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                let m = etcd_leader(self.w.etcd.as_ref().expect("checked"))
                    .await
                    .ok_or("KillEtcdLeader: no etcd member says it is the leader")?;
                let etcd = self.w.etcd.as_mut().expect("checked");
                let name = etcd.members[m].name.clone();
                etcd.members[m].proc.kill9();
                if etcd.members[m].proc.alive() {
                    return Err(format!("etcd member {name} still runs after kill -9"));
                }
                let mut f = self.record(kind, None, &name);
                probes = self.election_probes();
                if let Some(b) = &before {
                    f.facts.insert("leader_before".into(), format!("{b:?}"));
                }
                f.evidence
                    .push(format!("kill -9 of etcd leader {name}: process gone"));
                let etcd = self.w.etcd.as_ref().expect("checked");
                let next = wait_etcd_leader(etcd, Duration::from_secs(30)).await;
                if next == m {
                    return Err("the dead etcd member still leads".into());
                }
                f.evidence.push(format!(
                    "etcd member {} leads after {:?}",
                    etcd.members[next].name,
                    t0.elapsed()
                ));
                etcd_member = Some(m);
                (None, f)
            }
            Failure::LossyProxy => {
                let p = self.proxy.ok_or("LossyProxy: no proxy")?;
                let mut f = self.record(kind, Some(0), &self.w.nodes[0].node.clone());
                f.facts.insert("proxy".into(), p.addr.to_string());
                p.lossy.store(true, Ordering::Relaxed);
                f.evidence.push(format!(
                    "proxy {} in front of {} turned lossy",
                    p.addr, f.target
                ));
                (Some(0), f)
            }
            Failure::DrainDaemon => {
                let (i, _) = self.non_leader(kind).await?;
                let node = self.w.nodes[i].node.clone();
                let mut f = self.record(kind, Some(i), &node);
                let op = &self.w.operator.token;
                // Asked through another node, which the drain leaves alone.
                let other = self.w.nodes[(i + 1) % self.w.nodes.len()].endpoint();
                let via = self.w.session(Some(vec![other]));
                let mut st: Value = via
                    .call("cluster.drain", Some(op), &json!({"node": node}))
                    .await
                    .map_err(|e| format!("cluster.drain {node}: {e}"))?;
                let deadline = Instant::now() + Duration::from_secs(30);
                while st["connections"].as_u64() != Some(0) && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    // Asking again is harmless: the node is draining already.
                    st = via
                        .call("cluster.drain", Some(op), &json!({"node": node}))
                        .await
                        .map_err(|e| format!("cluster.drain {node}: {e}"))?;
                }
                if st["draining"] != true || st["connections"].as_u64() != Some(0) {
                    return Err(format!("{node} not drained within 30 s: {st}"));
                }
                f.evidence.push(format!(
                    "{node} draining with 0 client connections after {:?}",
                    t0.elapsed()
                ));
                (Some(i), f)
            }
            Failure::Switchover => {
                let before = self
                    .w
                    .leader(&self.ops)
                    .await
                    .ok_or("Switchover: no leader to switch from")?;
                let mut f = self.record(kind, None, &before.0);
                self.ops
                    .call::<_, Value>(
                        "cluster.switchover",
                        Some(&self.w.operator.token),
                        &json!({}),
                    )
                    .await
                    .map_err(|e| format!("cluster.switchover: {e}"))?;
                let now = self.wait_new_leader(&before).await?;
                if now.0 == before.0 {
                    return Err(format!("switchover kept {} as leader", before.0));
                }
                f.evidence.push(format!(
                    "switchover: {} (token {}) -> {} (token {}) after {:?}",
                    before.0,
                    before.1,
                    now.0,
                    now.1,
                    t0.elapsed()
                ));
                (None, f)
            }
        };
        f.injected_ms = f.injected_ms.min(self.rec.ms());
        Ok(Injected {
            record: f,
            node,
            etcd_member,
            probes,
        })
    }

    /// Kitchen reads and writes (the open orders, then rush flags, not
    /// safe to repeat) on every node at once for the 3 s after the etcd
    /// leader died: each must stall for the election, then succeed (or
    /// meet a real conflict), never fail as `store unavailable`. Both are
    /// recorded like any operation (a read that fails during the election
    /// is as much a broken promise as a write).
    fn election_probes(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let open = json!({"restaurant": RESTAURANT, "states": ["placed", "accepted", "preparing"]});
        self.w
            .nodes
            .iter()
            .map(|d| {
                let s = self.w.session(Some(vec![d.endpoint()]));
                let (token, rec, open) =
                    (self.w.kitchen.token.clone(), self.rec.clone(), open.clone());
                let who = format!("election-probe-{}", d.node);
                tokio::spawn(async move {
                    let until = Instant::now() + Duration::from_secs(3);
                    let mut rush = true;
                    while Instant::now() < until {
                        let t = rec.ms();
                        let list: Result<Value, ClientError> =
                            s.call("order.list", Some(&token), &open).await;
                        let o = outcome_of(&list, |v| {
                            format!("{}", v["orders"].as_array().map_or(0, Vec::len))
                        });
                        rec.op(&who, "list-open", RESTAURANT, t, o);
                        let id = list
                            .ok()
                            .and_then(|l| l["orders"][0]["id"].as_str().map(str::to_string));
                        let Some(id) = id else {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        };
                        let t = rec.ms();
                        let r: Result<Value, ClientError> = s
                            .call(
                                "order.rush",
                                Some(&token),
                                &json!({"order": id, "rush": rush}),
                            )
                            .await;
                        let o = outcome_of(&r, |v| format!("rush={}", v["rush"]));
                        rec.op(&who, "rush", &id, t, o);
                        rush = !rush;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            })
            .collect()
    }

    async fn heal(&mut self, mut inj: Injected) -> FaultRecord {
        for p in inj.probes.drain(..) {
            let _ = p.await;
        }
        let f = &mut inj.record;
        match f.kind {
            Failure::KillDaemon
            | Failure::KillLeaderDaemon
            | Failure::KillIdleStreamsNode
            | Failure::KillEmbedded
            | Failure::TermDaemon
            | Failure::TermIdleStreamsNode => {
                let i = inj.node.expect("a node");
                tokio::task::block_in_place(|| self.w.nodes[i].restart());
                f.evidence
                    .push(format!("{} restarted and answers health", f.target));
            }
            Failure::PauseDaemon => {
                let i = inj.node.expect("a node");
                let pid = self.w.nodes[i].proc.pid();
                self.w.nodes[i].proc.signal(libc::SIGCONT);
                match wait_for("the paused node to resume", Duration::from_secs(5), || {
                    !stopped(pid)
                })
                .await
                {
                    Ok(()) => f.evidence.push(format!("SIGCONT to {}: running", f.target)),
                    Err(e) => {
                        f.facts.insert("broken".into(), e);
                    }
                }
            }
            Failure::KillEtcdLeader => {
                let m = inj.etcd_member.expect("an etcd member");
                tokio::task::block_in_place(|| {
                    self.w.etcd.as_mut().expect("etcd").restart_member(m)
                });
                f.evidence
                    .push(format!("{} restarted and healthy", f.target));
                // Our leader afterwards (asked again for up to 15 s: a
                // status call may meet the member's return).
                let deadline = Instant::now() + Duration::from_secs(15);
                loop {
                    if let Some(l) = self.w.leader(&self.ops).await {
                        f.facts.insert("leader_after".into(), format!("{l:?}"));
                        break;
                    }
                    if Instant::now() > deadline {
                        break; // the checker says so
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Failure::LossyProxy => {
                let p = self.proxy.expect("proxy");
                p.lossy.store(false, Ordering::Relaxed);
                let dropped = p.dropped.load(Ordering::Relaxed);
                if dropped == 0 {
                    f.facts.insert(
                        "broken".into(),
                        "the lossy proxy dropped nothing: no traffic went through it".into(),
                    );
                } else {
                    f.evidence.push(format!(
                        "the proxy dropped {dropped} datagrams, then healed"
                    ));
                }
            }
            Failure::DrainDaemon => {
                let node = f.target.clone();
                let r: Result<Value, ClientError> = self
                    .ops
                    .call(
                        "cluster.drain",
                        Some(&self.w.operator.token),
                        &json!({"node": node, "drain": false}),
                    )
                    .await;
                match r {
                    Ok(st) if st["draining"] == false => {
                        f.evidence.push(format!("{node} takes connections again"))
                    }
                    other => {
                        f.facts
                            .insert("broken".into(), format!("undrain {node}: {other:?}"));
                    }
                }
            }
            Failure::Switchover => f.evidence.push("nothing to heal".into()),
        }
        f.healed_ms = Some(self.rec.ms());
        inj.record
    }
}

// ---------------------------------------------------------------------
// A scenario.

/// Runs one scenario; saves its history, then panics with the list of
/// broken promises if the checker finds any (or if a fault could not be
/// injected).
pub async fn run(sc: &Scenario, settings: Settings) {
    let started = Instant::now();
    let mut w = World::start(
        sc.store,
        settings.customers + settings.cli_customers,
        sc.retention,
    )
    .await;
    let setup = started.elapsed();
    let rec = Arc::new(Recorder::new());
    let start_rev = w.revision().await + 1;
    let proxy = if sc.faults.contains(&Failure::LossyProxy) {
        Some(UdpProxy::start(w.nodes[0].addr).await)
    } else {
        None
    };
    let streams = Arc::new(Streams {
        procs: Mutex::new(Vec::new()),
    });
    let poller_stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (streams, rec, stop) = (streams.clone(), rec.clone(), poller_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                streams.poll(&rec);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    // Subscribers: on the busy restaurant, and idle ones on the quiet one.
    let mut sub_tasks = Vec::new();
    for r in [RESTAURANT, QUIET] {
        let topic = format!("restaurant:{r}");
        for k in 0..2 {
            let name = format!("session-{r}-{k}");
            let record = rec.subscriber(&name, SubscriberKind::Session, &topic, start_rev);
            sub_tasks.push(tokio::spawn(session_subscriber(
                w.session(None),
                w.kitchen.token.clone(),
                record,
                rec.clone(),
            )));
        }
        let name = format!("dfood-events-{r}");
        let record = rec.subscriber(&name, SubscriberKind::DfoodEvents, &topic, start_rev);
        let p = w.dfood(&w.kitchen).spawn_stream(
            &name,
            &[
                "events",
                "--restaurant",
                r,
                "--from",
                &start_rev.to_string(),
                "-o",
                "json",
            ],
        );
        streams.add(p, record);
    }
    let idle_stream = rec
        .subscribers
        .lock()
        .unwrap()
        .iter()
        .find(|s| s.lock().unwrap().name == format!("dfood-events-{QUIET}"))
        .cloned()
        .expect("the quiet events stream");
    spawn_tracker(
        &w,
        &streams,
        &rec,
        &w.quiet_order.clone(),
        &w.customers[0].clone(),
    )
    .await;
    // Everyone subscribed before traffic starts (bounded).
    let all_subscribed = wait_for(
        "every subscriber subscribed",
        Duration::from_secs(30),
        || {
            streams.poll(&rec);
            rec.subscribers
                .lock()
                .unwrap()
                .iter()
                .all(|s| !s.lock().unwrap().notices.is_empty())
        },
    )
    .await;

    // Traffic.
    let spacing_total = sc.spacing * (sc.faults.len().saturating_sub(1) as u32);
    let traffic = settings
        .traffic
        .max(settings.fail_after + spacing_total + settings.fail_for + Duration::from_secs(2));
    let until = Instant::now() + traffic;
    let hard_deadline = until + Duration::from_secs(60);
    let stop = Arc::new(AtomicBool::new(false));
    let placed: Placed = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (i, who) in w.customers.iter().take(settings.customers).enumerate() {
        // With a lossy proxy, the Session customers go through it (and
        // stay there: no rebalancing) until it fails them over.
        let seeds = proxy.as_ref().map(|p| vec![p.addr.to_string()]);
        tasks.push(tokio::spawn(customer(
            w.session(seeds.clone()),
            w.session(seeds),
            who.clone(),
            until,
            rec.clone(),
            i as u64,
            placed.clone(),
        )));
    }
    let mut cli_threads = Vec::new();
    for (i, who) in w.customers.iter().skip(settings.customers).enumerate() {
        let (cli, name, rec) = (w.dfood(who), format!("cli-{}", who.name), rec.clone());
        cli_threads.push(std::thread::spawn(move || {
            cli_customer(cli, name, until, rec, i as u64 + 1)
        }));
    }
    let kitchen_tasks: Vec<_> = (0..3)
        .map(|k| {
            tokio::spawn(kitchen(
                w.session(None),
                w.kitchen.token.clone(),
                (k, 3),
                sc.leave_alone_every,
                stop.clone(),
                hard_deadline,
                rec.clone(),
            ))
        })
        .collect();

    // Faults, one after the other; trackers start on busy orders meanwhile.
    let t0 = Instant::now();
    let mut inject_error = all_subscribed.err();
    {
        let ops = w.session(None);
        let mut faults = Faults {
            w: &mut w,
            ops,
            rec: rec.clone(),
            proxy: proxy.as_ref(),
            streams: streams.clone(),
            idle_stream,
        };
        let mut trackers = 0;
        for (k, kind) in sc.faults.iter().enumerate() {
            let at = t0 + settings.fail_after + sc.spacing * k as u32;
            while Instant::now() < at {
                if trackers < settings.trackers {
                    let next = placed.lock().unwrap().get(trackers).cloned();
                    if let Some((id, token)) = next {
                        let who = Person {
                            name: format!("tracker{trackers}"),
                            token,
                        };
                        spawn_tracker(&*faults.w, &streams, &rec, &id, &who).await;
                        trackers += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if inject_error.is_some() {
                break;
            }
            match faults.inject(*kind).await {
                Ok(inj) => {
                    tokio::time::sleep(settings.fail_for).await;
                    let f = faults.heal(inj).await;
                    eprintln!(
                        "[{}] {:?} on {}: {}",
                        sc.name,
                        f.kind,
                        f.target,
                        f.evidence.join("; ")
                    );
                    rec.faults.lock().unwrap().push(f);
                }
                Err(e) => {
                    inject_error = Some(e);
                    break;
                }
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let traffic_took = started.elapsed() - setup;
    for t in cli_threads {
        let _ = tokio::task::block_in_place(|| t.join());
    }
    stop.store(true, Ordering::Relaxed);
    for k in kitchen_tasks {
        let _ = k.await;
    }
    let kitchen_done = started.elapsed();
    // The orders left alone expire by themselves: wait (bounded) until no
    // order waits for acceptance any more.
    if sc.leave_alone_every != 0 {
        let s = w.session(None);
        let q = json!({"restaurant": RESTAURANT, "states": ["pending_payment", "placed"]});
        let deadline = Instant::now() + Duration::from_secs(ACCEPTANCE_TIMEOUT_SECS + 90);
        loop {
            let waiting = match s
                .call::<_, Value>("order.list", Some(&w.kitchen.token), &q)
                .await
            {
                Ok(l) => l["orders"].as_array().map_or(usize::MAX, Vec::len),
                Err(_) => usize::MAX,
            };
            if waiting == 0 {
                break;
            }
            if Instant::now() > deadline {
                eprintln!(
                    "[{}] {waiting} order(s) still wait for acceptance (the checker says which)",
                    sc.name
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // The finale: the quiet restaurant wakes up (its idle subscribers must
    // see it), and a menu change on each restaurant marks the end of its
    // events for every subscriber to reach.
    let s = w.session(None);
    let k = Some(w.kitchen.token.as_str());
    for ty in ["order.start", "order.ready", "order.complete"] {
        call(&s, k, ty, json!({"order": w.quiet_order})).await;
    }
    let o = call(
        &s,
        Some(&w.customers[0].token),
        "order.place",
        json!({"restaurant": QUIET, "lines": [{"sku": "cake", "qty": 1}], "payment_method": "pm_card_visa", "idempotency_key": "quiet-order-1"}),
    )
    .await;
    let q1 = o["id"].as_str().unwrap().to_string();
    for ty in [
        "order.accept",
        "order.start",
        "order.ready",
        "order.complete",
    ] {
        call(&s, k, ty, json!({"order": q1})).await;
    }
    for r in [RESTAURANT, QUIET] {
        call(
            &s,
            Some(&w.manager.token),
            "menu.86",
            json!({"restaurant": r, "sku": if r == QUIET { "tea" } else { "soup" }}),
        )
        .await;
    }
    let caught_up = wait_for(
        "every subscriber caught up",
        Duration::from_secs(30),
        || {
            streams.poll(&rec);
            rec.subscribers.lock().unwrap().iter().all(|s| {
                let g = s.lock().unwrap();
                g.ended.is_some()
                    || match g.kind {
                        SubscriberKind::DfoodTrack => false,
                        _ => g.seen.iter().any(|e| e.kind == "menu.changed"),
                    }
            })
        },
    )
    .await;
    if let Err(e) = caught_up {
        eprintln!("[{}] {e} (the checker says who missed what)", sc.name);
    }
    let caught_up_at = started.elapsed();
    streams.poll(&rec);
    for t in &sub_tasks {
        t.abort();
    }
    poller_stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    streams.poll(&rec);
    drop(proxy);

    let final_state = w.snapshot().await;
    let snapshot_at = started.elapsed();
    let saved = Saved {
        leave_alone_every: sc.leave_alone_every,
        retention: sc.retention,
        scenario: sc.name.to_string(),
        store: sc.store,
        planned: sc.faults.clone(),
        start_revision: start_rev,
        ops: rec.ops.lock().unwrap().clone(),
        faults: rec.faults.lock().unwrap().clone(),
        subscribers: rec
            .subscribers
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.lock().unwrap().clone())
            .collect(),
        final_state,
    };
    let mut problems = check(&saved);
    if let Some(e) = &inject_error {
        problems.insert(0, format!("a fault could not be injected: {e}"));
    }
    let out = w.save(&saved, &problems);
    let acked = saved
        .ops
        .iter()
        .filter(|o| o.op == "place" && o.outcome.starts_with("ok:"))
        .count();
    eprintln!(
        "[{}] setup {setup:.1?}, traffic {traffic_took:.1?}; kitchen done at {kitchen_done:.1?}, subscribers caught up at {caught_up_at:.1?}, store read at {snapshot_at:.1?}, in all {:.1?}",
        sc.name,
        started.elapsed()
    );
    eprintln!(
        "[{}] {} operations, {acked} orders acknowledged, {} subscribers, faults {:?}; history in {}",
        sc.name,
        saved.ops.len(),
        saved.subscribers.len(),
        saved
            .faults
            .iter()
            .map(|f| (f.kind, f.target.as_str()))
            .collect::<Vec<_>>(),
        out.display()
    );
    for s in streams.procs.lock().unwrap().iter_mut() {
        s.0.proc.kill9();
    }
    if !problems.is_empty() {
        panic!(
            "[{}] {} broken promise(s); history and logs in {}:\n  {}",
            sc.name,
            problems.len(),
            out.display(),
            problems.join("\n  ")
        );
    }
}

/// Starts `dfood order track ID -o json` as `who`, recorded as a
/// subscriber from the revision of the order it prints first.
async fn spawn_tracker(w: &World, streams: &Streams, rec: &Arc<Recorder>, id: &str, who: &Person) {
    let name = format!("dfood-track-{id}");
    // The first line is the order as it is; its revision is where the
    // events it must show start. Known only once it printed it, so the
    // record starts at 0 and is set from that line at check time.
    let record = rec.subscriber(&name, SubscriberKind::DfoodTrack, &format!("order:{id}"), 0);
    let p = w
        .dfood(who)
        .spawn_stream(&name, &["order", "track", id, "-o", "json"]);
    streams.add(p, record.clone());
    let r = record.clone();
    let streams_ok = wait_for(
        "the tracker printed the order",
        Duration::from_secs(30),
        || {
            streams.poll(rec);
            !r.lock().unwrap().seen.is_empty() || r.lock().unwrap().ended.is_some()
        },
    )
    .await;
    let mut g = record.lock().unwrap();
    match (streams_ok, g.seen.first()) {
        (Ok(()), Some(first)) => g.from_revision = first.revision,
        _ => g.from_revision = u64::MAX, // it printed nothing: the checker says so
    }
}

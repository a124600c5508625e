//! Robustness scenarios (see `tests/src/robustness.rs`): 3 etcd members +
//! 3 dfoodd (or one node on the embedded store), customers, a kitchen and
//! subscribers on the product's own clients (`Session`, `dfood`), faults
//! proven to happen; the checker then verifies every promise of
//! PRODUCT.md from the saved history. They run one at a time (each is a
//! whole cluster under load on a 2-core machine).
//! `DFOOD_SOAK_SECS=600 cargo test -p tests --test integration robustness`
//! runs a long soak instead of the bounded CI run; a saved history is
//! checked again with `cargo run -p tests --bin robustness-check -- FILE`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use tests::robustness::*;

/// Runtime-agnostic, so tests on their own runtimes can share it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scenario(sc: Scenario) {
    scenario_with(sc, Settings::from_env()).await;
}

async fn scenario_with(sc: Scenario, settings: Settings) {
    let _guard = ONE_AT_A_TIME.lock().await;
    run(&sc, settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_a_daemon() {
    scenario(Scenario::one("kill-daemon", Failure::KillDaemon)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_leader_daemon() {
    scenario(Scenario::one(
        "kill-leader-daemon",
        Failure::KillLeaderDaemon,
    ))
    .await;
}

/// Twice, 8 s apart: each etcd election is a chance for a write or a
/// store watch to meet it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_etcd_leader() {
    scenario(Scenario {
        name: "kill-etcd-leader",
        store: StoreKind::Etcd,
        faults: vec![Failure::KillEtcdLeader, Failure::KillEtcdLeader],
        spacing: Duration::from_secs(8),
        retention: false,
        leave_alone_every: 0,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_pause_a_daemon() {
    scenario(Scenario::one("pause-daemon", Failure::PauseDaemon)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_lossy_network_to_a_node() {
    scenario(Scenario::one("lossy-proxy", Failure::LossyProxy)).await;
}

/// A drain (undone), then a switchover, in one cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_drain_then_switchover() {
    scenario(Scenario {
        name: "drain-then-switchover",
        store: StoreKind::Etcd,
        faults: vec![Failure::DrainDaemon, Failure::Switchover],
        spacing: Duration::from_secs(5),
        retention: false,
        leave_alone_every: 0,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_sigterm_a_daemon() {
    scenario(Scenario::one("sigterm-daemon", Failure::TermDaemon)).await;
}

/// The quiet restaurant's subscribers (Session and `dfood`) stay idle for
/// more than 20 s between faults that hit their node: two kill -9s and a
/// SIGTERM. Half the customers: the traffic lasts a minute here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_idle_streams_across_kills() {
    let mut settings = Settings::from_env();
    settings.customers = settings.customers.div_ceil(2);
    scenario_with(
        Scenario {
            name: "idle-streams-across-kills",
            store: StoreKind::Etcd,
            faults: vec![
                Failure::KillIdleStreamsNode,
                Failure::KillIdleStreamsNode,
                Failure::TermIdleStreamsNode,
            ],
            spacing: Duration::from_secs(22),
            retention: false,
            leave_alone_every: 0,
        },
        settings,
    )
    .await;
}

/// Orders leave for the archive (PostgreSQL) a second after they finish,
/// and the leader that archives them is killed: no order is lost between
/// the hot store and the archive, none is in both at odds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_leader_while_it_archives() {
    scenario(Scenario {
        name: "kill-leader-while-archiving",
        store: StoreKind::Etcd,
        faults: vec![Failure::KillLeaderDaemon],
        spacing: Duration::ZERO,
        retention: true,
        leave_alone_every: 0,
    })
    .await;
}

/// The kitchen leaves every third order alone: nobody accepts them, and
/// the leader's expiry duty must expire each after the acceptance timeout
/// (stock back, hold voided), though the leader is killed just as the
/// first of them fall due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_orders_expire_while_the_leader_is_killed() {
    let mut settings = Settings::from_env();
    settings.fail_after = settings
        .fail_after
        .max(Duration::from_secs(ACCEPTANCE_TIMEOUT_SECS + 1));
    scenario_with(
        Scenario {
            name: "expire-while-leader-killed",
            store: StoreKind::Etcd,
            faults: vec![Failure::KillLeaderDaemon],
            spacing: Duration::ZERO,
            retention: false,
            leave_alone_every: 3,
        },
        settings,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_embedded_node() {
    scenario(Scenario::one("kill-embedded", Failure::KillEmbedded)).await;
}

// ---------------------------------------------------------------------
// The checker itself, on hand-made histories (no processes): it passes a
// good one and names each broken promise in a bad one.

fn order(id: &str, state: &str, pay: &str, truffles: i64) -> serde_json::Value {
    json!({"id": id, "restaurant": RESTAURANT, "state": state, "version": 3,
           "payment": {"state": pay},
           "lines": [{"sku": STOCKED, "qty": truffles}]})
}

fn event(revision: u64, subject: &str, version: u64) -> StoredEvent {
    StoredEvent {
        revision,
        restaurant: RESTAURANT.into(),
        subject: subject.into(),
        kind: "order.placed".into(),
        version,
    }
}

fn seen(revision: u64, subject: &str, version: u64) -> Seen {
    Seen {
        at_ms: revision,
        revision,
        subject: subject.into(),
        version,
        kind: "order.placed".into(),
    }
}

fn notice(at_ms: u64, notice: &str, endpoint: &str, error: &str) -> NoticeRecord {
    NoticeRecord {
        at_ms,
        notice: notice.into(),
        endpoint: Some(endpoint.into()),
        error: error.into(),
    }
}

fn good_history() -> Saved {
    let ids: Vec<String> = (1..=5).map(|i| format!("{RESTAURANT}-{i}")).collect();
    let ops = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Op {
            client: "c".into(),
            op: "place".into(),
            key: format!("k{i}"),
            invoke_ms: 10,
            return_ms: 20,
            outcome: format!("ok:{id}"),
            message: String::new(),
        })
        .collect();
    let events: Vec<StoredEvent> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| event(100 + i as u64, id, 1))
        .collect();
    let sub = SubscriberRecord {
        name: "s".into(),
        kind: SubscriberKind::Session,
        topic: format!("restaurant:{RESTAURANT}"),
        from_revision: 100,
        seen: events
            .iter()
            .map(|e| seen(e.revision, &e.subject, e.version))
            .collect(),
        ended_ms: None,
        notices: vec![
            notice(1, "subscribed", "n1:1", ""),
            notice(
                60,
                "lost",
                "n1:1",
                "n1:1 is going away: node is shutting down or draining",
            ),
            notice(61, "resumed", "n2:1", ""),
        ],
        ended: None,
    };
    Saved {
        scenario: "hand-made".into(),
        store: StoreKind::Etcd,
        planned: vec![Failure::TermDaemon],
        start_revision: 100,
        ops,
        faults: vec![FaultRecord {
            kind: Failure::TermDaemon,
            target: "node-1".into(),
            endpoint: "n1:1".into(),
            injected_ms: 50,
            healed_ms: Some(70),
            evidence: vec!["exited with 0".into()],
            facts: BTreeMap::new(),
        }],
        subscribers: vec![sub],
        retention: false,
        leave_alone_every: 0,
        final_state: Snapshot {
            archived: vec![],
            revision: 200,
            orders: ids
                .iter()
                .map(|id| order(id, "completed", "captured", 1))
                .collect(),
            idem: ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("/dfood/idem/u/k{i}"), id.clone()))
                .collect(),
            stock: json!({"units": {STOCKED: INITIAL_STOCK - 5}}),
            payments: ids
                .iter()
                .map(|id| json!({"idempotency_key": format!("{id}:authorize"), "payment": {"amount": 100, "amount_captured": 100}}))
                .collect(),
            events,
        },
    }
}

fn breaks(what: &str, h: Saved, says: &str) {
    let problems = check(&h);
    assert!(
        problems.iter().any(|p| p.contains(says)),
        "{what}: expected a problem saying {says:?}, got {problems:#?}"
    );
}

#[test]
fn robustness_checker_passes_a_good_history_and_names_each_broken_promise() {
    assert_eq!(check(&good_history()), Vec::<String>::new());

    let mut h = good_history();
    h.faults.clear();
    breaks("no fault injected", h, "1 fault(s) planned");

    // Retention: an order that left for the archive is not lost, and its
    // events, gone from the store with it, are not "missed".
    let mut h = good_history();
    h.retention = true;
    let gone = h.final_state.orders.remove(0);
    h.final_state.archived.push(gone);
    h.final_state.events.remove(0);
    assert_eq!(
        check(&h),
        Vec::<String>::new(),
        "an archived order is there"
    );
    let mut lost = h.clone();
    lost.final_state.archived.clear();
    breaks("an order in neither place", lost, "is lost");
    let mut both = h.clone();
    let mut stale = both.final_state.orders[0].clone();
    stale["version"] = json!(2);
    both.final_state.archived.push(stale);
    breaks(
        "in both places, at odds",
        both,
        "and in the archive at version",
    );
    let mut none = good_history();
    none.retention = true;
    breaks("nothing archived", none, "none is archived");

    // An etcd leader killed with our leader unknown on either side proves
    // nothing about it.
    let mut h = good_history();
    h.planned = vec![Failure::KillEtcdLeader];
    h.faults[0].kind = Failure::KillEtcdLeader;
    breaks(
        "our leader unknown around an etcd leader kill",
        h,
        "no leader_before recorded",
    );

    let mut h = good_history();
    h.faults[0].evidence.clear();
    breaks("a fault without evidence", h, "no evidence");

    let mut h = good_history();
    h.final_state.orders.remove(0);
    h.final_state.idem.remove(0);
    h.final_state.stock = json!({"units": {STOCKED: INITIAL_STOCK - 4}});
    breaks("an acknowledged order lost", h, "is lost");

    let mut h = good_history();
    h.final_state
        .idem
        .push(("/dfood/idem/u/other".into(), format!("{RESTAURANT}-1")));
    breaks("two keys, one order", h, "made by 2 idempotency keys");

    let mut h = good_history();
    h.final_state.stock = json!({"units": {STOCKED: -1}});
    breaks("oversold", h, "negative");

    let mut h = good_history();
    h.final_state.orders[0] = order(&format!("{RESTAURANT}-1"), "ready", "captured", 1);
    breaks("not terminal", h, "did not reach a terminal state");

    let mut h = good_history();
    h.final_state.payments[0]["payment"]["amount_captured"] = json!(0);
    breaks("completed, not captured", h, "without its payment captured");

    let mut h = good_history();
    h.subscribers[0].seen.remove(2);
    breaks("an event missed", h, "missed 1");

    let mut h = good_history();
    let again = h.subscribers[0].seen[1].clone();
    h.subscribers[0].seen.insert(2, again);
    breaks("an event twice", h, "1 twice");

    let mut h = good_history();
    h.subscribers[0].ended = Some("error: gave up".into());
    breaks("a subscriber gave up", h, "gave up");

    let mut h = good_history();
    h.subscribers[0].notices[1].error =
        "n1:1 is going away: node is shutting down; reconnect to another node".into();
    breaks("no goaway frame on SIGTERM", h, "got no goaway frame");

    let mut h = good_history();
    h.ops[0].outcome = "err:unavailable".into();
    h.ops[0].message = "store unavailable: h2 protocol error: error reading a body".into();
    breaks(
        "a write failed on an etcd election",
        h,
        "failed as `store unavailable`",
    );

    let mut h = good_history();
    h.subscribers[0].notices[1].error = "store unavailable: h2 protocol error (unavailable)".into();
    breaks(
        "a store watch ended a stream",
        h,
        "instead of the node resuming its store watch",
    );
    let mut h = good_history();
    h.ops[0].outcome = "err:unavailable".into();
    h.ops[0].message = "store unavailable: h2 protocol error: error reading a body".into();
    breaks("raw transport text", h, "debug text");

    // Expiry: orders the kitchen left alone must expire, not early, and
    // some must have.
    let mut h = good_history();
    h.leave_alone_every = 1;
    breaks(
        "left alone, yet completed",
        h.clone(),
        "left alone by the kitchen but is completed",
    );
    breaks("none expired", h.clone(), "only 0 expired");
    for o in &mut h.final_state.orders {
        o["state"] = json!("expired");
        o["payment"]["state"] = json!("voided");
        o["created_at"] = json!(1_000);
        o["updated_at"] = json!(1_000 + ACCEPTANCE_TIMEOUT_SECS * 1000 + 500);
    }
    for p in &mut h.final_state.payments {
        p["payment"]["amount_captured"] = json!(0);
    }
    h.final_state.stock = json!({"units": {STOCKED: INITIAL_STOCK}});
    assert_eq!(
        check(&h),
        Vec::<String>::new(),
        "every order left alone expired"
    );
    let mut early = h.clone();
    early.final_state.orders[0]["updated_at"] = json!(1_000 + 5_000);
    breaks("expired early", early, "before its 15 s timeout");
    let mut kept = h.clone();
    kept.final_state.stock = json!({"units": {STOCKED: INITIAL_STOCK - 5}});
    breaks("expired, stock not back", kept, "but orders hold 0");
    let mut held = h;
    held.final_state.orders[0]["payment"]["state"] = json!("authorized");
    breaks("expired, hold not voided", held, "expected voided");

    // A saved history reads back as it was written.
    let h = good_history();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.json");
    std::fs::write(&path, serde_json::to_vec(&h).unwrap()).unwrap();
    assert_eq!(Saved::load(&path).unwrap(), h);
}

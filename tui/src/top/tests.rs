//! Whole screens: a `TestBackend` driven by key events and readings,
//! snapshotted with insta (`snapshots/`). Time is fixed and addresses are
//! filtered, so the snapshots only change when the screen does.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::app::{self, Env, Exit, NetMsg};
use super::model::tests::{T0, connected, dashboard, ready};
use super::model::{Conn, Incoming, Key, Op, Top};
use super::view;

fn screen(top: &Top, now: u64) -> String {
    let mut term = Terminal::new(TestBackend::new(110, 32)).unwrap();
    term.draw(|f| view::render(top, now, f)).unwrap();
    term.backend().to_string()
}

macro_rules! snap {
    ($name:expr, $text:expr) => {{
        insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "[addr]")]}, {
            insta::assert_snapshot!($name, $text);
        });
    }};
}

/// A few readings, so the sparklines have something to draw.
fn busy() -> Top {
    let mut t = ready();
    for i in 1..=40u64 {
        let mut d = dashboard(100 + i * 30, T0 + i * 1000);
        d.orders.placed_last_minute = (i * 7) % 23;
        d.orders.by_state.insert("placed".into(), i % 9);
        d.orders.by_state.insert("preparing".into(), (i / 3) % 6);
        t.incoming(Incoming::Sample(d), T0 + i * 1000);
    }
    t
}

#[test]
fn dashboard_screen() {
    snap!("dashboard", screen(&busy(), T0 + 41_000));
}

#[test]
fn waiting_for_the_first_reading() {
    let mut t = Top::new();
    t.incoming(connected(), T0);
    snap!("waiting", screen(&t, T0));
}

#[test]
fn confirm_switchover() {
    let mut t = busy();
    t.key(Key::Down, T0);
    t.key(Key::Down, T0);
    t.key(Key::Char('s'), T0);
    snap!("confirm_switchover", screen(&t, T0 + 41_000));
}

#[test]
fn help_screen() {
    let mut t = busy();
    t.key(Key::Char('?'), T0);
    snap!("help", screen(&t, T0 + 41_000));
}

#[test]
fn disconnected_paused_and_refused() {
    let mut t = busy();
    let mut d = dashboard(2000, T0 + 41_000);
    d.status.paused = true;
    d.status.leader = None;
    t.incoming(Incoming::Sample(d), T0 + 41_000);
    t.incoming(
        Incoming::OpDone {
            op: Op::Switchover { to: None },
            result: Err("the cluster is paused: resume it first".into()),
        },
        T0 + 41_000,
    );
    t.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "connection lost".into(),
        }),
        T0 + 42_000,
    );
    snap!("disconnected", screen(&t, T0 + 45_000));
}

#[test]
fn embedded_single_node() {
    let mut t = Top::new();
    t.incoming(connected(), T0);
    let mut d = dashboard(10, T0);
    d.status.store = "embedded".into();
    d.status.store_members.clear();
    d.status.members.retain(|m| m.member.node == "n1");
    d.nodes.retain(|n| n.node == "n1");
    d.leader_changes.truncate(1);
    t.incoming(Incoming::Sample(d), T0);
    snap!("embedded", screen(&t, T0 + 1_000));
}

#[test]
fn a_killed_node_is_suspect_then_lost() {
    let mut t = busy();
    // n3 stops publishing; its lease runs down.
    for i in 41..=43u64 {
        let mut d = dashboard(100 + i * 30, T0 + i * 1000);
        let n3 = d.nodes.iter_mut().find(|s| s.node == "n3").unwrap();
        n3.at = T0 + 40_000;
        n3.requests_total = 100 + 40 * 30;
        for m in &mut d.status.members {
            if m.member.node == "n3" {
                m.lease_ttl_secs = 44 - i;
            }
        }
        t.incoming(Incoming::Sample(d), T0 + i * 1000);
    }
    snap!("suspect", screen(&t, T0 + 43_500));
    let mut d = dashboard(100 + 45 * 30, T0 + 45_000);
    d.status.members.retain(|m| m.member.node != "n3");
    d.nodes.retain(|s| s.node != "n3");
    t.incoming(Incoming::Sample(d), T0 + 45_000);
    snap!("lost", screen(&t, T0 + 46_000));
}

#[test]
fn roles_are_compact() {
    use super::view::compact_roles;
    let r = |v: &[&str]| compact_roles(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        r(&[
            "gateway", "auth", "catalog", "orders", "payments", "events", "duties"
        ]),
        "all"
    );
    assert_eq!(
        r(&["gateway", "auth", "catalog", "orders", "events", "duties"]),
        "all-payments"
    );
    assert_eq!(r(&["gateway", "orders", "payments"]), "gw,ord,pay");
    assert_eq!(r(&["api", "duties"]), "api,duty");
}

struct TestEnv(u64);

impl Env for TestEnv {
    fn now_ms(&mut self) -> u64 {
        self.0
    }
    fn bell(&mut self) {}
}

/// The real loop on a `TestBackend`: readings in, keys in, the confirmed
/// op out, `q` ends it.
#[tokio::test]
async fn the_loop_routes_readings_keys_and_ops() {
    let mut term = Terminal::new(TestBackend::new(110, 32)).unwrap();
    let mut top = Top::new();
    let (key_tx, mut keys) = mpsc::unbounded_channel();
    let (net_tx, mut net) = mpsc::unbounded_channel();
    let (op_tx, mut ops) = mpsc::unbounded_channel();
    let mut env = TestEnv(T0);
    net_tx.send(NetMsg::Update(connected())).unwrap();
    net_tx
        .send(NetMsg::Update(Incoming::Sample(dashboard(1, T0))))
        .unwrap();
    let driver = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        for k in [Key::Char('j'), Key::Char('d'), Key::Char('y')] {
            key_tx.send(k).unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Refused by "the server": the message reaches the screen.
        net_tx
            .send(NetMsg::Update(Incoming::OpDone {
                op: Op::Drain {
                    node: "n2".into(),
                    drain: true,
                },
                result: Err("n2 is the only node with the api role".into()),
            }))
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        key_tx.send(Key::Char('q')).unwrap();
    };
    let (exit, ()) = tokio::join!(
        app::run(&mut term, &mut top, &mut keys, &mut net, &op_tx, &mut env),
        driver
    );
    assert_eq!(exit.unwrap(), Exit::Quit);
    assert_eq!(
        ops.try_recv().unwrap(),
        Op::Drain {
            node: "n2".into(),
            drain: true
        }
    );
    assert!(ops.try_recv().is_err(), "one op, once");
    let text = term.backend().to_string();
    assert!(
        text.contains("drain n2 refused: n2 is the only node with the api role"),
        "{text}"
    );
}

#[tokio::test]
async fn the_loop_ends_on_a_fatal_network_message() {
    let mut term = Terminal::new(TestBackend::new(40, 10)).unwrap();
    let mut top = Top::new();
    let (_key_tx, mut keys) = mpsc::unbounded_channel();
    let (net_tx, mut net) = mpsc::unbounded_channel();
    let (op_tx, _ops) = mpsc::unbounded_channel();
    net_tx
        .send(NetMsg::Fatal("only operators may do this".into()))
        .unwrap();
    let exit = app::run(
        &mut term,
        &mut top,
        &mut keys,
        &mut net,
        &op_tx,
        &mut TestEnv(T0),
    )
    .await
    .unwrap();
    assert_eq!(exit, Exit::Lost("only operators may do this".into()));
}

#[test]
fn ops_become_requests() {
    use super::net::request_for;
    assert_eq!(
        request_for(&Op::Switchover {
            to: Some("n2".into())
        }),
        ("cluster.switchover", serde_json::json!({"to": "n2"}))
    );
    assert_eq!(
        request_for(&Op::Switchover { to: None }),
        ("cluster.switchover", serde_json::json!({}))
    );
    assert_eq!(request_for(&Op::Pause).0, "cluster.pause");
    assert_eq!(request_for(&Op::Resume).0, "cluster.resume");
    assert_eq!(
        request_for(&Op::Drain {
            node: "n3".into(),
            drain: false
        }),
        (
            "cluster.drain",
            serde_json::json!({"node": "n3", "drain": false})
        )
    );
}

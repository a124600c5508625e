use super::*;
use protocol::messages::Member;
use protocol::messages::cluster::{
    ClusterStatus, Leader, LeaderChange, MemberInfo, NodeStats, OrderCounts, StoreMember,
};

pub(crate) const T0: u64 = 1_700_000_000_000;

pub(crate) fn member(node: &str, leader: bool) -> MemberInfo {
    MemberInfo {
        member: Member {
            node: node.into(),
            addr: format!("127.0.0.1:{}", 17420 + node.len()),
            roles: vec!["api".into(), "duties".into()],
            version: "0.1.0".into(),
            started_at: (T0 - 3_725_000) / 1000,
            draining: false,
        },
        lease_ttl_secs: 5,
        leader,
    }
}

pub(crate) fn stats(node: &str, requests: u64, errors: u64, at: u64) -> NodeStats {
    NodeStats {
        node: node.into(),
        connections: 3,
        subscriptions: 1,
        requests_total: requests,
        request_errors_total: errors,
        latency_p50_us: 800,
        latency_p99_us: 4_200,
        leader: node == "n1",
        lease_renew_failures: 0,
        latency_p99_recent_us: 3_100,
        at,
        ..NodeStats::default()
    }
}

/// Three nodes on etcd, n1 leading; `requests` per node at `at`.
pub(crate) fn dashboard(requests: u64, at: u64) -> Dashboard {
    let mut by_state: std::collections::BTreeMap<String, u64> = OrderState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    by_state.insert("placed".into(), 4);
    by_state.insert("preparing".into(), 2);
    by_state.insert("completed".into(), 40);
    Dashboard {
        status: ClusterStatus {
            store: "etcd".into(),
            store_revision: 812,
            members: vec![member("n2", false), member("n1", true), member("n3", false)],
            leader: Some(Leader {
                node: "n1".into(),
                fencing_token: 57,
                since: T0 - 600_000,
            }),
            paused: false,
            pending_switchover: None,
            store_members: vec![
                StoreMember {
                    name: "etcd-1".into(),
                    endpoint: "http://127.0.0.1:23791".into(),
                    healthy: true,
                    error: None,
                    leader: true,
                },
                StoreMember {
                    name: "etcd-2".into(),
                    endpoint: "http://127.0.0.1:23792".into(),
                    healthy: false,
                    error: Some("connection refused".into()),
                    leader: false,
                },
            ],
            store_usage: Some(protocol::messages::cluster::StoreUsage {
                bytes: 17_400_000,
                in_use_bytes: Some(12_900_000),
                keys: Some(28_104),
                quota_bytes: Some(2 << 30),
                compacted_revision: Some(4_100),
                compacted_at: Some(T0 - 60_000),
            }),
            archived_orders: Some(4_000),
        },
        nodes: ["n1", "n2", "n3"]
            .iter()
            .map(|n| stats(n, requests, 0, at))
            .collect(),
        orders: OrderCounts {
            by_state,
            placed_last_minute: 6,
            total: 46,
            at,
        },
        leader_changes: vec![
            LeaderChange {
                node: "n2".into(),
                fencing_token: 12,
                at: T0 - 3_600_000,
                reason: Some("elected".into()),
            },
            LeaderChange {
                node: "n1".into(),
                fencing_token: 57,
                at: T0 - 600_000,
                reason: Some("switchover".into()),
            },
        ],
    }
}

pub(crate) fn connected() -> Incoming {
    Incoming::Conn(Conn::Connected {
        node: "n2".into(),
        addr: "127.0.0.1:17422".into(),
    })
}

/// Connected, with one reading.
pub(crate) fn ready() -> Top {
    let mut t = Top::new();
    t.incoming(connected(), T0);
    t.incoming(Incoming::Sample(dashboard(100, T0)), T0);
    t
}

#[test]
fn members_are_sorted_and_the_leader_known() {
    let t = ready();
    let names: Vec<_> = t.members().iter().map(|m| m.member.node.clone()).collect();
    assert_eq!(names, ["n1", "n2", "n3"]);
    assert_eq!(t.leader(), Some("n1"));
    assert_eq!(t.stats("n3").unwrap().connections, 3);
    assert!(t.stats("n9").is_none());
}

#[test]
fn counters_become_rates_between_two_readings() {
    let mut t = ready();
    assert!(t.rates.is_empty(), "one reading gives no rate");
    let mut d = dashboard(100, T0);
    d.nodes[0] = stats("n1", 150, 3, T0 + 2000);
    t.incoming(Incoming::Sample(d), T0 + 2000);
    let r = t.rates["n1"];
    assert_eq!(r.requests_per_sec, 25.0);
    assert_eq!(r.errors_per_sec, 1.5);
    // n2 and n3 have not published since: no rate yet.
    assert!(!t.rates.contains_key("n2"));
}

#[test]
fn a_node_not_published_again_keeps_its_rate() {
    let mut t = ready();
    let mut d = dashboard(100, T0);
    d.nodes[0] = stats("n1", 200, 0, T0 + 1000);
    t.incoming(Incoming::Sample(d.clone()), T0 + 1000);
    t.incoming(Incoming::Sample(d), T0 + 2000);
    assert_eq!(t.rates["n1"].requests_per_sec, 100.0);
}

#[test]
fn a_restarted_node_gives_no_negative_rate() {
    let mut t = ready();
    let mut d = dashboard(100, T0);
    d.nodes[0] = stats("n1", 200, 0, T0 + 1000);
    t.incoming(Incoming::Sample(d.clone()), T0 + 1000);
    assert!(t.rates.contains_key("n1"));
    d.nodes[0] = stats("n1", 5, 0, T0 + 2000);
    t.incoming(Incoming::Sample(d.clone()), T0 + 2000);
    assert!(!t.rates.contains_key("n1"), "counter went back: no rate");
    d.nodes[0] = stats("n1", 15, 0, T0 + 3000);
    t.incoming(Incoming::Sample(d), T0 + 3000);
    assert_eq!(t.rates["n1"].requests_per_sec, 10.0);
}

#[test]
fn a_node_that_left_is_forgotten() {
    let mut t = ready();
    let mut d = dashboard(100, T0);
    d.nodes[0] = stats("n1", 200, 0, T0 + 1000);
    t.incoming(Incoming::Sample(d.clone()), T0 + 1000);
    d.nodes.remove(0);
    d.status.members.retain(|m| m.member.node != "n1");
    t.incoming(Incoming::Sample(d), T0 + 2000);
    assert!(t.rates.is_empty());
    assert!(t.stats("n1").is_none());
}

#[test]
fn history_is_bounded_and_follows_the_readings() {
    let mut t = Top::new();
    for i in 0..(HISTORY as u64 + 30) {
        let mut d = dashboard(100, T0);
        d.orders.placed_last_minute = i;
        d.orders.by_state.insert("ready".into(), i * 2);
        t.incoming(Incoming::Sample(d), T0 + i * 1000);
    }
    assert_eq!(t.orders_per_minute.len(), HISTORY);
    assert_eq!(*t.orders_per_minute.back().unwrap(), HISTORY as u64 + 29);
    assert_eq!(*t.orders_per_minute.front().unwrap(), 30);
    let ready = OPEN_STATES
        .iter()
        .position(|s| *s == OrderState::Ready)
        .unwrap();
    assert_eq!(
        *t.state_history[ready].back().unwrap(),
        2 * (HISTORY as u64 + 29)
    );
    let placed = OPEN_STATES
        .iter()
        .position(|s| *s == OrderState::Placed)
        .unwrap();
    assert!(t.state_history[placed].iter().all(|n| *n == 4));
}

#[test]
fn lease_ttl_counts_down_from_the_reading() {
    let t = ready();
    let m = t.members()[0].clone();
    assert_eq!(t.lease_left(&m, T0), 5);
    assert_eq!(t.lease_left(&m, T0 + 2_500), 3);
    assert_eq!(t.lease_left(&m, T0 + 60_000), 0);
}

#[test]
fn switchover_to_the_selected_node_after_yes() {
    let mut t = ready();
    assert!(t.key(Key::Char('j'), T0).is_empty());
    assert!(t.key(Key::Char('s'), T0).is_empty(), "asks first");
    let op = Op::Switchover {
        to: Some("n2".into()),
    };
    assert_eq!(t.mode, Mode::Confirm(op.clone()));
    assert_eq!(t.key(Key::Char('y'), T0), vec![Effect::Send(op)]);
    assert_eq!(t.mode, Mode::Normal);
}

#[test]
fn switchover_from_the_leader_goes_to_the_best_candidate() {
    let mut t = ready();
    t.key(Key::Char('s'), T0);
    assert_eq!(t.mode, Mode::Confirm(Op::Switchover { to: None }));
    assert_eq!(
        Op::Switchover { to: None }.question(t.leader()),
        "Switch leadership from n1 to the best candidate?"
    );
}

#[test]
fn any_other_key_cancels() {
    let mut t = ready();
    t.key(Key::Char('d'), T0);
    assert!(matches!(t.mode, Mode::Confirm(Op::Drain { .. })));
    assert!(t.key(Key::Char('n'), T0).is_empty());
    assert_eq!(t.mode, Mode::Normal);
    assert!(t.notice.as_ref().unwrap().text.contains("cancelled"));
    t.key(Key::Char('p'), T0);
    assert!(t.key(Key::Enter, T0).is_empty());
}

#[test]
fn pause_or_resume_by_what_the_cluster_is() {
    let mut t = ready();
    t.key(Key::Char('p'), T0);
    assert_eq!(t.mode, Mode::Confirm(Op::Pause));
    t.key(Key::Esc, T0);
    let mut d = dashboard(100, T0);
    d.status.paused = true;
    t.incoming(Incoming::Sample(d), T0 + 1000);
    t.key(Key::Char('p'), T0);
    assert_eq!(t.mode, Mode::Confirm(Op::Resume));
}

#[test]
fn drain_or_undrain_the_selected_node() {
    let mut t = ready();
    let mut d = dashboard(100, T0);
    d.status.members[2].member.draining = true; // n3
    t.incoming(Incoming::Sample(d), T0 + 1000);
    t.key(Key::Down, T0);
    t.key(Key::Down, T0);
    t.key(Key::Down, T0); // stays on the last
    assert_eq!(t.selected, 2);
    t.key(Key::Char('d'), T0);
    let op = Op::Drain {
        node: "n3".into(),
        drain: false,
    };
    assert_eq!(t.mode, Mode::Confirm(op.clone()));
    assert_eq!(t.key(Key::Char('Y'), T0), vec![Effect::Send(op)]);
}

#[test]
fn nothing_is_sent_while_disconnected() {
    let mut t = ready();
    t.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "no answer".into(),
        }),
        T0,
    );
    t.key(Key::Char('p'), T0);
    assert!(t.key(Key::Char('y'), T0).is_empty());
    let n = t.notice.clone().unwrap();
    assert!(n.error && n.text.contains("disconnected"), "{n:?}");
}

#[test]
fn no_action_before_the_first_reading() {
    let mut t = Top::new();
    for k in ['s', 'p', 'd'] {
        assert!(t.key(Key::Char(k), T0).is_empty());
        assert_eq!(t.mode, Mode::Normal);
        assert!(t.notice.as_ref().unwrap().error);
    }
}

#[test]
fn the_selection_follows_a_shrinking_cluster() {
    let mut t = ready();
    t.key(Key::Down, T0);
    t.key(Key::Down, T0);
    let mut d = dashboard(100, T0);
    d.status.members.truncate(1);
    t.incoming(Incoming::Sample(d), T0 + 1000);
    assert_eq!(t.selected, 0);
    assert_eq!(t.selected_member().unwrap().member.node, "n2");
}

#[test]
fn answers_become_the_message_line() {
    let mut t = ready();
    t.incoming(
        Incoming::OpDone {
            op: Op::Pause,
            result: Ok(()),
        },
        T0,
    );
    assert_eq!(t.notice.clone().unwrap().text, "pause: done");
    t.incoming(
        Incoming::OpDone {
            op: Op::Switchover {
                to: Some("n3".into()),
            },
            result: Err("cannot switch over to n3: it is draining".into()),
        },
        T0,
    );
    let n = t.notice.clone().unwrap();
    assert!(n.error);
    assert_eq!(
        n.text,
        "switchover refused: cannot switch over to n3: it is draining"
    );
}

#[test]
fn quit_and_interrupt_from_anywhere() {
    let mut t = ready();
    assert_eq!(t.key(Key::Char('q'), T0), vec![Effect::Quit]);
    t.key(Key::Char('s'), T0);
    assert_eq!(t.key(Key::Interrupt, T0), vec![Effect::Quit]);
    let mut t = ready();
    t.key(Key::Char('?'), T0);
    assert_eq!(t.mode, Mode::Help);
    assert!(t.key(Key::Char('x'), T0).is_empty());
    assert_eq!(t.mode, Mode::Normal);
}

#[test]
fn a_member_whose_figures_stop_is_suspect_then_lost() {
    let mut t = ready();
    let n2 = |t: &Top| {
        t.members()
            .into_iter()
            .find(|m| m.member.node == "n2")
            .cloned()
            .unwrap()
    };
    assert_eq!(t.health(&n2(&t), T0 + 500), Health::Live);
    // n2 is killed: the others publish again, n2's figures stay as they
    // were, and its lease keeps being read (it has not expired yet).
    for i in 1..=3u64 {
        let mut d = dashboard(100 + i * 10, T0 + i * 1000);
        d.nodes.iter_mut().find(|s| s.node == "n2").unwrap().at = T0;
        d.nodes
            .iter_mut()
            .find(|s| s.node == "n2")
            .unwrap()
            .requests_total = 100;
        for m in &mut d.status.members {
            if m.member.node == "n2" {
                m.lease_ttl_secs = 5 - i;
            }
        }
        t.incoming(Incoming::Sample(d), T0 + i * 1000);
    }
    let m = n2(&t);
    assert_eq!(
        t.health(&m, T0 + 3000),
        Health::Suspect("lease 2s".into()),
        "lease running out"
    );
    let mut m5 = m.clone();
    m5.lease_ttl_secs = 5;
    assert_eq!(t.health(&m5, T0 + 3000), Health::Suspect("stale 3s".into()));
    // Its lease expires: it drops out, and is kept as lost, with when.
    let mut d = dashboard(200, T0 + 5000);
    d.status.members.retain(|m| m.member.node != "n2");
    d.nodes.retain(|s| s.node != "n2");
    t.incoming(Incoming::Sample(d), T0 + 5000);
    let lost: Vec<_> = t.lost_at(T0 + 6000).collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(
        (lost[0].info.member.node.as_str(), lost[0].at_ms),
        ("n2", T0 + 5000)
    );
    assert_eq!(
        t.lost_at(T0 + 5000 + LOST_KEPT_MS).count(),
        0,
        "for a while"
    );
    // Back again: no longer lost.
    t.incoming(Incoming::Sample(dashboard(300, T0 + 7000)), T0 + 7000);
    assert_eq!(t.lost_at(T0 + 7000).count(), 0);
    assert_eq!(t.health(&n2(&t), T0 + 7000), Health::Live);
    // Disconnected: nobody is blamed for the dashboard's own silence.
    t.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "lost".into(),
        }),
        T0 + 7000,
    );
    assert_eq!(t.health(&n2(&t), T0 + 60_000), Health::Live);
}

#[test]
fn a_member_without_figures_is_suspect() {
    let mut t = Top::new();
    t.incoming(connected(), T0);
    let mut d = dashboard(100, T0);
    d.nodes.retain(|s| s.node != "n3");
    t.incoming(Incoming::Sample(d), T0);
    let n3 = t
        .members()
        .into_iter()
        .find(|m| m.member.node == "n3")
        .cloned()
        .unwrap();
    assert_eq!(t.health(&n3, T0), Health::Suspect("no figures".into()));
}

#[test]
fn forced_failover_to_the_selected_node_asks_first() {
    let mut t = ready();
    t.key(Key::Char('j'), T0);
    assert!(t.key(Key::Char('f'), T0).is_empty(), "asks first");
    let op = Op::Failover { to: "n2".into() };
    assert_eq!(t.mode, Mode::Confirm(op.clone()));
    assert_eq!(
        op.question(None),
        "FORCE n2 to lead now (there is no leader)?"
    );
    assert_eq!(t.key(Key::Char('y'), T0), vec![Effect::Send(op.clone())]);
    assert_eq!(
        crate::top::net::request_for(&op),
        ("cluster.failover", serde_json::json!({"to": "n2"}))
    );
}

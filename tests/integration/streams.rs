//! Streams survive: an idle `dfood order track` and an idle `dfood events`
//! (real processes, `--output json`) on a cluster of 3 etcd members and 3
//! dfoodd live through three kill -9s of the node they are on (20 s apart,
//! nothing received in between for over 15 s), a kill of the etcd leader
//! and a drain of their node. After each fault the kitchen and a customer
//! make a few events through the CLI, and each stream must show every one
//! of them exactly once, in order, and still be running.
//!
//! Which node a stream is on is read from what it prints on stderr
//! (`{"notice": "subscribed"|"lost"|"resumed", "endpoint", ...}`), never
//! guessed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{Daemon, DfoodProc, Etcd, User};

const R: &str = "streamy";
const MENU: &str = "sku,name,price\npasta,Pasta,12.50\nsoup,Soup,6.00\n";

/// Idle time between faults: longer than any client timeout (the old
/// resume budget was 15 s), with nothing for the streams to receive.
const IDLE: Duration = Duration::from_secs(20);

/// Generous ceiling for a stream to notice a fault and resume (it takes
/// about a second on a quiet machine).
const RESUME_WITHIN: Duration = Duration::from_secs(30);

struct World {
    etcd: Etcd,
    nodes: Vec<Daemon>,
    _dir: tempfile::TempDir,
    op: User,
    cook: User,
    cleo: User,
    /// The order `dfood order track` follows.
    a: String,
    /// Orders placed since the events stream started: id → first version
    /// it must show.
    since_start: BTreeMap<String, u64>,
    /// Whether `a` is flagged as a rush now.
    rushed: bool,
    /// Broken promises of the daemon, reported together at the end (so
    /// that one run shows all of them).
    problems: Vec<String>,
}

/// Points a user's CLI at every node (as a cluster's users would be).
fn to_all(u: &mut User, list: &str) {
    u.cli = std::mem::take(&mut u.cli).env("DFOOD_ENDPOINT", list);
}

impl World {
    fn start() -> World {
        let etcd = Etcd::start(3);
        let dir = tempfile::tempdir().unwrap();
        let nodes = tests::start_nodes(&etcd, dir.path(), 3);
        let op_cli = tests::bootstrap_operator(&nodes);
        let mut op = User {
            name: "ops".into(),
            cli: op_cli,
        };
        let mut cook = User::new(&nodes[0], "cook");
        let mut cleo = User::new(&nodes[0], "cleo");
        let mut manager = User::new(&nodes[0], "manager");
        tests::open_shop(&mut manager, R, MENU, &["cook"]);
        let list = nodes
            .iter()
            .map(Daemon::endpoint)
            .collect::<Vec<_>>()
            .join(",");
        for u in [&mut op, &mut cook, &mut cleo] {
            to_all(u, &list);
        }
        let a = cleo.ok(&[
            "order",
            "place",
            R,
            "--item",
            "pasta",
            "--pay",
            "pm_card_visa",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Accepted, so that it never expires during the test.
        cook.ok(&["order", "accept", &a]);
        World {
            etcd,
            nodes,
            _dir: dir,
            op,
            cook,
            cleo,
            a,
            since_start: BTreeMap::new(),
            rushed: false,
            problems: Vec::new(),
        }
    }

    fn node_at(&self, endpoint: &str) -> usize {
        self.nodes
            .iter()
            .position(|d| d.endpoint() == endpoint)
            .unwrap_or_else(|| panic!("a stream is on {endpoint}, which is none of the nodes"))
    }

    fn version(&mut self, order: &str) -> u64 {
        self.cook.order(order)["version"].as_u64().unwrap()
    }

    /// A few events: a new order (placed, accepted: captured) and the
    /// tracked order flagged or unflagged as a rush.
    fn make_events(&mut self, round: usize) {
        let b = self.cleo.ok(&[
            "order",
            "place",
            R,
            "--item",
            "soup",
            "--pay",
            "pm_card_visa",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.since_start.insert(b.clone(), 1);
        self.cook.ok(&["order", "accept", &b]);
        let out = self.toggle_rush();
        assert_eq!(out.code, 0, "round {round}: {out:?}");
    }

    /// Flags the tracked order as a rush, or clears the flag: one event.
    fn toggle_rush(&mut self) -> tests::Outcome {
        let a = self.a.clone();
        let mut args = vec!["order", "rush", a.as_str(), "-o", "json"];
        if self.rushed {
            args.push("--off");
        }
        let out = self.cook.cli.run(&args);
        if out.code == 0 {
            self.rushed = !self.rushed;
        }
        out
    }
}

/// The nodes the streams are on now (each stream must be on one).
fn stream_nodes(w: &World, streams: &[&DfoodProc]) -> Vec<usize> {
    let mut at: Vec<usize> = streams
        .iter()
        .map(|s| {
            let ep = s
                .endpoint()
                .unwrap_or_else(|| panic!("not subscribed: {}", s.describe()));
            w.node_at(&ep)
        })
        .collect();
    at.sort();
    at.dedup();
    at
}

/// Waits until `s`, after its first `before` notices, lost its stream on
/// one of the nodes in `hit` and resumed on another node (where it is
/// now).
fn wait_resumed(s: &mut DfoodProc, before: usize, hit: &[String], what: &str) {
    let hit = hit.to_vec();
    s.wait_until(what, RESUME_WITHIN, move |p| {
        let n = p.notices();
        let new = &n[before.min(n.len())..];
        let Some(i) = new.iter().rposition(|x| x["notice"] == "lost") else {
            return false;
        };
        let lost_on = new[i]["endpoint"].as_str().unwrap_or_default().to_string();
        hit.contains(&lost_on)
            && new[i..].iter().any(|x| x["notice"] == "resumed")
            && p.endpoint().is_some_and(|e| e != lost_on)
    });
}

/// Every line of the track stream is the order, one version after the
/// other, from the state it had when tracking began: none missing, none
/// twice. Waits (bounded) until it shows version `want`.
fn check_track(track: &mut DfoodProc, want: u64, what: &str) {
    track.wait_until(what, RESUME_WITHIN, |p| {
        p.docs()
            .last()
            .is_some_and(|d| d["version"].as_u64() >= Some(want))
    });
    let versions: Vec<u64> = track
        .docs()
        .iter()
        .map(|d| d["version"].as_u64().expect("an order has a version"))
        .collect();
    let first = versions[0];
    let expected: Vec<u64> = (first..=want).collect();
    assert_eq!(
        versions,
        expected,
        "{what}: each version once, in order; {}",
        track.describe()
    );
    assert!(track.proc.alive(), "{what}: {}", track.describe());
}

/// The events stream shows each order's versions once, in order, from
/// `first` (per order) up to `want` (per order), with revisions never
/// going back. Waits (bounded) until it shows them all.
fn check_events(events: &mut DfoodProc, want: &BTreeMap<String, (u64, u64)>, what: &str) {
    let per_order = |p: &DfoodProc| -> BTreeMap<String, Vec<u64>> {
        let mut m: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for d in p.docs() {
            if d["kind"].as_str().is_some_and(|k| k.starts_with("order.")) {
                m.entry(d["subject"].as_str().unwrap().to_string())
                    .or_default()
                    .push(d["data"]["version"].as_u64().unwrap());
            }
        }
        m
    };
    events.wait_until(what, RESUME_WITHIN, |p| {
        let m = per_order(p);
        want.iter()
            .all(|(id, (_, last))| m.get(id).and_then(|v| v.last()) >= Some(last))
    });
    let docs = events.docs();
    let revisions: Vec<u64> = docs
        .iter()
        .map(|d| d["revision"].as_u64().unwrap())
        .collect();
    assert!(
        revisions.windows(2).all(|w| w[0] <= w[1]),
        "{what}: revisions go back; {}",
        events.describe()
    );
    let m = per_order(events);
    for (id, (first, last)) in want {
        assert_eq!(
            m.get(id).cloned().unwrap_or_default(),
            (*first..=*last).collect::<Vec<_>>(),
            "{what}: {id}'s versions, each once, in order; {}",
            events.describe()
        );
    }
    assert!(
        m.keys().all(|id| want.contains_key(id)),
        "{what}: events of unknown orders; {}",
        events.describe()
    );
    assert!(events.proc.alive(), "{what}: {}", events.describe());
}

/// What the streams must show now.
fn expected(w: &mut World, a_first: u64) -> (u64, BTreeMap<String, (u64, u64)>) {
    let a = w.a.clone();
    let a_now = w.version(&a);
    let mut want = BTreeMap::new();
    if a_now >= a_first {
        want.insert(a.clone(), (a_first, a_now));
    }
    for (id, first) in w.since_start.clone() {
        let v = w.version(&id);
        want.insert(id, (first, v));
    }
    (a_now, want)
}

fn verify(w: &mut World, track: &mut DfoodProc, events: &mut DfoodProc, a_first: u64, what: &str) {
    let (a_now, want) = expected(w, a_first);
    check_track(track, a_now, what);
    check_events(events, &want, what);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn idle_streams_survive_node_kills_an_etcd_leader_kill_and_a_drain() {
    let mut w = World::start();
    let a = w.a.clone();
    let mut track = w
        .cleo
        .cli
        .spawn_stream("track", &["order", "track", &a, "-o", "json"]);
    let mut events = w
        .cook
        .cli
        .spawn_stream("events", &["events", "--restaurant", R, "-o", "json"]);
    for s in [&mut track, &mut events] {
        s.wait_until("subscribed", RESUME_WITHIN, |p| p.endpoint().is_some());
    }
    // The events stream starts "from now": the tracked order's next
    // version is the first it must show.
    let a_first = w.version(&a) + 1;

    // Three kill -9s of the streams' nodes, 20 s apart. After the first,
    // nothing happens before the second: an idle stream must survive two
    // breaks far apart with nothing received in between.
    for round in 0..3 {
        let before = [track.notices().len(), events.notices().len()];
        let victims = stream_nodes(&w, &[&track, &events]);
        let mut left = Vec::new();
        for &v in &victims {
            eprintln!("round {round}: kill -9 {}", w.nodes[v].node);
            w.nodes[v].proc.kill9();
            assert!(!w.nodes[v].proc.alive(), "{} still runs", w.nodes[v].node);
            left.push(w.nodes[v].endpoint());
            // Back at once, so that two nodes are up for the next kill.
            w.nodes[v].restart();
        }
        wait_resumed(
            &mut track,
            before[0],
            &left,
            &format!("track resumed after kill {round}"),
        );
        wait_resumed(
            &mut events,
            before[1],
            &left,
            &format!("events resumed after kill {round}"),
        );
        if round > 0 {
            w.make_events(round);
            verify(
                &mut w,
                &mut track,
                &mut events,
                a_first,
                &format!("after kill {round}"),
            );
        }
        assert!(track.proc.alive() && events.proc.alive());
        std::thread::sleep(IDLE);
    }

    // The etcd leader: the daemons' store watches break and come back;
    // the streams must not notice, and a kitchen write at once only
    // stalls for the election.
    let rt = runtime();
    let before = [track.notices().len(), events.notices().len()];
    let victim = rt
        .block_on(tests::robustness::etcd_leader(&w.etcd))
        .expect("an etcd leader to kill");
    w.etcd.members[victim].proc.kill9();
    assert!(!w.etcd.members[victim].proc.alive());
    let out = w.toggle_rush();
    if out.code != 0 {
        w.problems.push(format!(
            "a kitchen write right after the etcd leader died failed instead of stalling for the election: exit {}: {}",
            out.code,
            out.stderr.trim()
        ));
    }
    let new_leader = rt.block_on(tests::robustness::wait_etcd_leader(
        &w.etcd,
        Duration::from_secs(30),
    ));
    assert_ne!(new_leader, victim, "the etcd leader changed");
    eprintln!(
        "etcd leader {} killed; {} leads now",
        w.etcd.members[victim].name, w.etcd.members[new_leader].name
    );
    w.etcd.restart_member(victim);
    w.make_events(3);
    verify(
        &mut w,
        &mut track,
        &mut events,
        a_first,
        "after the etcd leader kill",
    );
    // Idle again; a store watch that broke may tell late (after the
    // member came back), so the whole time until the next fault counts.
    std::thread::sleep(IDLE);
    for (s, b) in [(&track, before[0]), (&events, before[1])] {
        let n = s.notices();
        if n.len() != b {
            w.problems.push(format!(
                "{}'s stream broke after the etcd leader died (its node did not): {:?}",
                s.name,
                &n[b..]
            ));
        }
    }

    // A drain of their node: a goaway, then another node.
    let before = [track.notices().len(), events.notices().len()];
    let victims = stream_nodes(&w, &[&track, &events]);
    let mut left = Vec::new();
    for &v in &victims {
        let node = w.nodes[v].node.clone();
        let here = w.nodes[v].endpoint();
        let on_it = [&track, &events].map(|s| s.endpoint().as_deref() == Some(here.as_str()));
        // The operator talks to a node that is not drained in this step
        // (a node whose drain was just undone takes connections again only
        // after its next cluster round, up to 500 ms later).
        let elsewhere = (1..w.nodes.len())
            .map(|k| (v + k) % w.nodes.len())
            .find(|i| !victims.contains(i))
            .map_or_else(
                || w.nodes[(v + 1) % w.nodes.len()].endpoint(),
                |i| w.nodes[i].endpoint(),
            );
        let st = w.op.ok(&[
            "cluster",
            "drain",
            &node,
            "--wait",
            "30s",
            "--endpoint",
            &elsewhere,
        ]);
        assert_eq!(st["draining"], true, "{st}");
        assert_eq!(st["connections"], 0, "{st}");
        left.push(w.nodes[v].endpoint());
        // Only the streams that were on this node move now (the other
        // one may be on the next victim, or on a node never drained).
        if on_it[0] {
            wait_resumed(
                &mut track,
                before[0],
                &left,
                "track resumed after the drain",
            );
        }
        if on_it[1] {
            wait_resumed(
                &mut events,
                before[1],
                &left,
                "events resumed after the drain",
            );
        }
        let st = w.op.ok(&[
            "cluster",
            "drain",
            &node,
            "--undo",
            "--endpoint",
            &elsewhere,
        ]);
        assert_eq!(st["draining"], false, "{st}");
    }
    for (s, b) in [(&track, before[0]), (&events, before[1])] {
        let n = s.notices();
        let lost: Vec<&Value> = n[b..].iter().filter(|x| x["notice"] == "lost").collect();
        // protocol/README.md §8: a goaway frame, not only the
        // connection's close with code 2.
        if !lost.iter().all(|x| {
            x["error"]
                .as_str()
                .is_some_and(tests::robustness::is_goaway_frame)
        }) {
            w.problems.push(format!(
                "{}: a drain should end its stream with a goaway frame: {lost:?}",
                s.name
            ));
        }
    }
    w.make_events(4);
    verify(&mut w, &mut track, &mut events, a_first, "after the drain");

    // The tracked order finishes: the track stream ends by itself, with
    // every version shown once.
    for step in ["start", "ready", "complete"] {
        w.cook.ok(&["order", step, &a]);
    }
    let (a_now, want) = expected(&mut w, a_first);
    track.wait_until("track exits", RESUME_WITHIN, |p| {
        p.docs().last().is_some_and(|d| d["state"] == "completed")
    });
    let deadline = Instant::now() + RESUME_WITHIN;
    while track.proc.exit_code().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(track.proc.exit_code(), Some(0), "{}", track.describe());
    let versions: Vec<u64> = track
        .docs()
        .iter()
        .map(|d| d["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        versions,
        (versions[0]..=a_now).collect::<Vec<_>>(),
        "{}",
        track.describe()
    );
    check_events(&mut events, &want, "at the end");
    assert!(
        w.problems.is_empty(),
        "the streams survived, but {} promise(s) broke:\n  {}",
        w.problems.len(),
        w.problems.join("\n  ")
    );
    for s in [&track, &events] {
        eprintln!(
            "{} said on stderr:\n  {}",
            s.name,
            s.stderr_lines().join("\n  ")
        );
    }
    eprintln!(
        "track: {} lines, {} resumes; events: {} lines, {} resumes",
        track.docs().len(),
        track
            .notices()
            .iter()
            .filter(|n| n["notice"] == "resumed")
            .count(),
        events.docs().len(),
        events
            .notices()
            .iter()
            .filter(|n| n["notice"] == "resumed")
            .count(),
    );
}

//! Client failover and load spreading (`protocol::session`): sessions
//! learn the members from one seed, spread over the nodes, move to another
//! node when theirs is killed with `kill -9`, and resume subscriptions with
//! no gap and no duplicate. Real etcd, real dfoodd processes, real dfood.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use protocol::client::{Client, SubscriptionItem};
use protocol::messages::{HealthRequest, HealthResponse, SubscribeRequest, types};
use protocol::session::{Session, SessionOptions};
use tests::{Daemon, Dfood, Etcd};

fn start_nodes(etcd: &Etcd, dir: &std::path::Path, names: &[&str]) -> Vec<Daemon> {
    names
        .iter()
        .map(|n| Daemon::start(n, &dir.join(n), &etcd.endpoints()))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn options(seeds: &[&Daemon]) -> SessionOptions {
    let ca = std::fs::read(seeds[0].ca_path()).expect("CA");
    SessionOptions::new(seeds.iter().map(|d| d.endpoint()), ca)
}

async fn health(s: &Session) -> Result<HealthResponse, protocol::client::ClientError> {
    s.call(types::HEALTH, None, &HealthRequest {}).await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Kills per run, alternating idle and busy.
const KILLS: usize = 10;
/// The generous bound on one failover gap.
const GAP_BOUND: Duration = Duration::from_secs(10);

/// Asks until a node answers (bounded by [`GAP_BOUND`] from `since`):
/// the node and the time since `since`.
async fn next_answer(s: &Session, since: Instant) -> (String, Duration) {
    let mut errors = Vec::new();
    for _ in 0..1000 {
        match health(s).await {
            Ok(h) => return (h.node, since.elapsed()),
            Err(e) => errors.push(e.to_string()),
        }
        assert!(
            since.elapsed() < GAP_BOUND,
            "no node answers {GAP_BOUND:?} after the kill: {errors:?}"
        );
    }
    panic!("1000 failed requests after the kill: {errors:?}");
}

/// Four tasks send requests back to back through `s`; once each has had
/// an answer from `victim`'s node, `victim` is killed with requests in
/// flight. The gap runs from the kill to the first answer from another
/// node.
async fn gap_with_requests_in_flight(s: &Session, victim: &mut Daemon) -> (String, Duration) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (s, stop, in_flight, tx) = (s.clone(), stop.clone(), in_flight.clone(), tx.clone());
            tokio::spawn(async move {
                for _ in 0..100_000 {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    in_flight.fetch_add(1, Ordering::SeqCst);
                    let r = health(&s).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    if let Ok(h) = r {
                        let _ = tx.send((Instant::now(), h.node));
                    }
                }
            })
        })
        .collect();
    drop(tx);
    // Requests are going to the victim, and some are in flight, now.
    let mut answered_by_victim = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered_by_victim < 8 {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, node) = tokio::time::timeout(left, rx.recv())
            .await
            .expect("requests answered before the kill")
            .expect("request tasks alive");
        if node == victim.node {
            answered_by_victim += 1;
        }
    }
    let mut tries = 0;
    while in_flight.load(Ordering::SeqCst) == 0 && tries < 100_000 {
        tokio::task::yield_now().await;
        tries += 1;
    }
    assert!(in_flight.load(Ordering::SeqCst) > 0, "no request in flight");
    victim.proc.kill9();
    let killed = Instant::now();
    let found = loop {
        let left = (killed + GAP_BOUND).saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((at, node))) if at > killed && node != victim.node => {
                break (node, at - killed);
            }
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the request tasks ended"),
            Err(_) => panic!("no answer from another node {GAP_BOUND:?} after the kill"),
        }
    };
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("request tasks stop")
            .expect("request task");
    }
    found
}

#[test]
fn learns_members_spreads_and_fails_over_after_kill9() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = start_nodes(&etcd, dir.path(), &["fo-a", "fo-b", "fo-c"]);
    let rt = runtime();

    // Seeded with A only, the session learns B and C.
    let s = rt
        .block_on(Session::connect(options(&[&nodes[0]])))
        .unwrap();
    rt.block_on(s.refresh_members()).unwrap();
    let known: BTreeSet<String> = s.endpoints().into_iter().map(|e| e.addr).collect();
    for d in &nodes {
        assert!(known.contains(&d.endpoint()), "{} in {known:?}", d.node);
    }
    let named: BTreeSet<String> = s.endpoints().into_iter().filter_map(|e| e.node).collect();
    assert_eq!(named.len(), 3, "{named:?}");

    // Clients all given the same seed still spread over the nodes.
    let answered: BTreeSet<String> = rt.block_on(async {
        let mut seen = BTreeSet::new();
        for _ in 0..12 {
            let c = Session::connect(options(&[&nodes[0]])).await.unwrap();
            c.refresh_members().await.unwrap();
            for _ in 0..3 {
                seen.insert(health(&c).await.unwrap().node);
            }
            c.close().await;
        }
        seen
    });
    assert!(answered.len() > 1, "every request went to {answered:?}");

    // Failover timing, measured: the gap from kill -9 of the node the
    // session is on to the next answer from another node, over repeated
    // kills, with the session idle at the kill (the next request starts
    // right after it) and with requests in flight. p50/p99 are printed
    // (README, Benchmarks); the test asserts only a generous bound.
    let mut idle = Vec::new();
    let mut busy = Vec::new();
    for round in 0..KILLS {
        let before = rt.block_on(health(&s)).unwrap().node;
        let victim = nodes.iter().position(|d| d.node == before).unwrap();
        let (after, gap) = if round % 2 == 0 {
            nodes[victim].proc.kill9();
            let killed = Instant::now();
            let (after, gap) = rt.block_on(next_answer(&s, killed));
            idle.push(gap);
            (after, gap)
        } else {
            let (after, gap) = rt.block_on(gap_with_requests_in_flight(&s, &mut nodes[victim]));
            busy.push(gap);
            (after, gap)
        };
        assert_ne!(after, before, "round {round}");
        eprintln!("round {round}: killed {before}, {after} answered after {gap:?}");
        nodes[victim].restart();
    }
    for (what, gaps) in [("idle", &mut idle), ("requests in flight", &mut busy)] {
        gaps.sort();
        eprintln!(
            "failover gap, {what}, over {} kills: p50 {:?}, p99 {:?}, max {:?}",
            gaps.len(),
            percentile(gaps, 0.5),
            percentile(gaps, 0.99),
            gaps.last().unwrap()
        );
        // The promise is a second (measured: ~0.82 s, the 800 ms idle
        // timeout and a retry); the bounds are generous for a busy machine
        // and still catch a client that waits out a request timeout.
        for g in gaps.iter() {
            assert!(*g < GAP_BOUND, "{what}: gaps {gaps:?}");
        }
        assert!(
            percentile(gaps, 0.5) < Duration::from_secs(3),
            "{what}: median gap over 3 s: {gaps:?}"
        );
    }

    // A node stopping cleanly (SIGTERM: goaway, close code 2) loses no
    // request of a client that keeps asking meanwhile.
    let before = rt.block_on(health(&s)).unwrap().node;
    let victim = nodes.iter().position(|d| d.node == before).unwrap();
    let mut leaving = nodes.remove(victim);
    let stopper = std::thread::spawn(move || leaving.proc.terminate(Duration::from_secs(15)));
    let answered: Vec<String> = rt.block_on(async {
        let mut seen = Vec::new();
        for _ in 0..40 {
            seen.push(health(&s).await.expect("no request lost").node);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    });
    assert_eq!(stopper.join().unwrap(), Some(0));
    assert_ne!(answered.last(), Some(&before), "moved off: {answered:?}");
    rt.block_on(s.close());
    drop(etcd);
}

#[test]
fn the_cli_takes_a_list_and_skips_a_dead_node() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = start_nodes(&etcd, dir.path(), &["cli-a", "cli-b"]);
    let list = format!("{},{}", nodes[0].endpoint(), nodes[1].endpoint());
    let ca = nodes[0].ca_path();
    let cli = || {
        Dfood::new()
            .env("DFOOD_ENDPOINT", &list)
            .env("DFOOD_CA", ca.to_str().unwrap())
    };
    let out = cli().run(["config", "show", "-o", "json"]);
    assert_eq!(out.json()["endpoint"], list.as_str());
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let out = cli().run(["status", "-o", "json"]);
        assert_eq!(out.code, 0, "{out:?}");
        seen.insert(out.json()["node"].as_str().unwrap().to_string());
    }
    eprintln!("both alive, answered by {seen:?}");

    nodes[0].proc.kill9();
    // The random start lands on the dead node about half the time.
    for _ in 0..6 {
        let t = Instant::now();
        let out = cli().run(["status", "-o", "json"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.json()["node"], "cli-b");
        eprintln!("A dead: status in {:?}", t.elapsed());
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        let out = cli().run(["restaurant", "list", "-o", "json"]);
        assert_eq!(out.code, 0, "{out:?}");
    }
    // The same through --endpoint.
    let out = Dfood::new().env("DFOOD_CA", ca.to_str().unwrap()).run([
        "status",
        "-o",
        "json",
        "--endpoint",
        &list,
    ]);
    assert_eq!(out.code, 0, "{out:?}");

    // None left: unavailable, one line, no hang.
    nodes[1].proc.kill9();
    let t = Instant::now();
    let out = cli().run(["status", "--timeout", "1s"]);
    assert_eq!(out.code, cli::exit::UNAVAILABLE as i32, "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    drop(etcd);
}

/// One delivered event, as the checker compares them.
type Seen = (u64, String, String);

#[test]
fn a_resuming_subscription_sees_every_event_once_across_kill9() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = start_nodes(&etcd, dir.path(), &["rs-a", "rs-b", "rs-c"]);
    let rt = runtime();
    let mut opts = options(&nodes.iter().collect::<Vec<_>>());
    // Keep to the three seeds: the extra node below is not to be learned.
    opts.refresh_every = Duration::from_secs(3600);
    let s = rt.block_on(Session::connect(opts)).unwrap();
    let from = rt.block_on(health(&s)).unwrap().store_revision + 1;

    // A task follows `members` and reports each event with the endpoint
    // it came through.
    let (tx, rx) = mpsc::channel::<(Seen, String)>();
    let mut sub = s.subscribe_resuming("members", None, Some(from));
    let follower = rt.spawn(async move {
        loop {
            match sub.next().await {
                Ok(SubscriptionItem::Events { revision, events }) => {
                    let via = sub.endpoint().unwrap_or_default().to_string();
                    for e in events {
                        let _ = tx.send(((revision, e.kind, e.subject), via.clone()));
                    }
                }
                Ok(SubscriptionItem::Progress { .. }) => {}
                Err(e) => panic!("the subscription gave up: {e}"),
            }
        }
    });
    let mut got: Vec<Seen> = Vec::new();
    let wait_for = |kind: &str, subject: &str, got: &mut Vec<Seen>| -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (ev, via) = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {kind} {subject}; got {got:?}"));
            let hit = ev.1 == kind && ev.2 == subject;
            got.push(ev);
            if hit {
                return via;
            }
        }
    };

    // Something to see first, so the stream is open and on a known node.
    let extra = Daemon::start("rs-d", &dir.path().join("rs-d"), &etcd.endpoints());
    let mut via = wait_for("member.up", "rs-d", &mut got);
    for round in 0..3 {
        let victim = nodes
            .iter()
            .position(|d| d.endpoint() == via)
            .unwrap_or_else(|| panic!("stream on {via}, not a killable node"));
        let name = nodes[victim].node.clone();
        nodes[victim].proc.kill9();
        // The node comes back (and says so) while the stream moves.
        nodes[victim].restart();
        via = wait_for("member.up", &name, &mut got);
        eprintln!("round {round}: killed {name}; its return seen via {via}");
    }
    let mut extra = extra;
    assert_eq!(extra.proc.terminate(Duration::from_secs(15)), Some(0));
    wait_for("member.down", "rs-d", &mut got);
    follower.abort();

    // No duplicate: revisions only go up (one frame per revision, events
    // of one revision in order).
    for w in got.windows(2) {
        assert!(
            w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0] != w[1]),
            "out of order or twice: {w:?}"
        );
    }
    // No gap: a fresh replay from the same revision, on a node that was
    // never disturbed mid-stream, has exactly the same events.
    let last = got.last().unwrap().0;
    let replay: Vec<Seen> = rt.block_on(async {
        let c: Client = nodes[0].client().await;
        let mut r = c
            .subscribe(
                &SubscribeRequest {
                    topic: "members".into(),
                    from_revision: Some(from),
                },
                None,
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while out.last().is_none_or(|e: &Seen| e.0 < last) {
            match tokio::time::timeout(Duration::from_secs(10), r.next())
                .await
                .expect("replay stalls")
                .unwrap()
            {
                Some(SubscriptionItem::Events { revision, events }) => {
                    out.extend(events.into_iter().map(|e| (revision, e.kind, e.subject)));
                }
                Some(SubscriptionItem::Progress { .. }) => {}
                None => break,
            }
        }
        out.retain(|e| e.0 <= last);
        out
    });
    assert_eq!(got, replay, "resumed stream vs replay");
    let kinds: BTreeSet<&str> = got.iter().map(|e| e.1.as_str()).collect();
    assert!(
        kinds.contains("member.up") && kinds.contains("member.down"),
        "{kinds:?}"
    );
    eprintln!("{} events, each seen once, across 3 kills", got.len());
    rt.block_on(s.close());
    drop(etcd);
}

//! The event stream end to end: a staff subscriber on `restaurant:<id>`
//! that disconnects (or whose daemon is killed with SIGKILL) and resumes
//! from the last revision it saw must see every order event exactly once,
//! in order; and `dfood events` shows new orders live.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use protocol::client::{Client, Subscription, SubscriptionItem};
use protocol::messages::SubscribeRequest;
use serde_json::{Value, json};
use tests::Daemon;

const PASSWORD: &str = "long enough password";
const R: &str = "trattoria";

/// One order event as a subscriber saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    revision: u64,
    order: String,
    version: u64,
    state: String,
    payment: String,
}

/// A client and the tokens of the restaurant's people.
struct World {
    client: Client,
    manager: String,
    kitchen: String,
    customer: String,
}

async fn token(c: &Client, name: &str) -> String {
    let _ = c
        .call::<Value, Value>(
            "auth.signup",
            None,
            &json!({"username": name, "password": PASSWORD}),
        )
        .await;
    let t: Value = c
        .call(
            "auth.token",
            None,
            &json!({"grant_type": "password", "username": name, "password": PASSWORD}),
        )
        .await
        .unwrap_or_else(|e| panic!("login {name}: {e}"));
    t["access_token"].as_str().unwrap().to_string()
}

impl World {
    /// An open restaurant with a menu, its manager, a cook and a customer.
    async fn setup(d: &Daemon) -> World {
        let client = d.client().await;
        let w = World {
            manager: token(&client, "mia").await,
            kitchen: token(&client, "kai").await,
            customer: token(&client, "cleo").await,
            client,
        };
        let m = w.manager.clone();
        w.ok(
            &m,
            "restaurant.create",
            json!({"id": R, "name": "Trattoria"}),
        )
        .await;
        w.ok(
            &m,
            "menu.import",
            json!({"restaurant": R, "items": [
                {"sku": "soup", "name": "Soup", "price": 500},
                {"sku": "pie", "name": "Pie", "price": 700, "stock": 50},
            ]}),
        )
        .await;
        w.ok(
            &m,
            "staff.add",
            json!({"restaurant": R, "username": "kai", "role": "kitchen"}),
        )
        .await;
        w.ok(&m, "restaurant.open", json!({"restaurant": R})).await;
        w
    }

    async fn ok(&self, token: &str, ty: &str, body: Value) -> Value {
        self.client
            .call::<Value, Value>(ty, Some(token), &body)
            .await
            .unwrap_or_else(|e| panic!("{ty} {body}: {e}"))
    }

    async fn place(&self, sku: &str) -> String {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let key = format!(
            "events-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let o = self
            .ok(
                &self.customer,
                "order.place",
                json!({"restaurant": R, "lines": [{"sku": sku, "qty": 1}],
                    "payment_method": "pm_card_visa", "idempotency_key": key}),
            )
            .await;
        assert_eq!(o["state"], "placed", "{o}");
        o["id"].as_str().unwrap().to_string()
    }

    /// A kitchen step (`accept`, `start`, `ready`, `complete`, `reject`).
    async fn step(&self, step: &str, order: &str) -> Value {
        let body = if step == "reject" {
            json!({"order": order, "reason": "out of it"})
        } else {
            json!({"order": order})
        };
        self.ok(&self.kitchen, &format!("order.{step}"), body).await
    }

    async fn cancel(&self, order: &str) -> Value {
        self.ok(&self.customer, "order.cancel", json!({"order": order}))
            .await
    }

    /// Every order of the restaurant and its current version.
    async fn versions(&self) -> BTreeMap<String, u64> {
        let l = self
            .ok(&self.kitchen, "order.list", json!({"restaurant": R}))
            .await;
        l["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["id"].as_str().unwrap().to_string(),
                    o["version"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    async fn subscribe(&self, from: Option<u64>) -> Subscription<'_> {
        let s = self
            .client
            .subscribe(
                &SubscribeRequest {
                    topic: format!("restaurant:{R}"),
                    from_revision: from,
                },
                Some(&self.kitchen),
            )
            .await
            .unwrap_or_else(|e| panic!("subscribe: {e}"));
        if let Some(f) = from {
            assert_eq!(s.start_revision, f, "starts where asked");
        }
        s
    }
}

/// The order events of one frame; checks each carries the frame's revision.
fn order_events(revision: u64, events: &[protocol::messages::Event]) -> Vec<Seen> {
    events
        .iter()
        .filter(|e| e.kind.starts_with("order."))
        .map(|e| {
            let d = &e.data;
            assert_eq!(
                d["revision"].as_u64(),
                Some(revision),
                "event tagged with its revision: {e:?}"
            );
            assert_eq!(e.kind, format!("order.{}", d["state"].as_str().unwrap()));
            Seen {
                revision,
                order: d["id"].as_str().unwrap().to_string(),
                version: d["version"].as_u64().unwrap(),
                state: d["state"].as_str().unwrap().to_string(),
                payment: d["payment"]["state"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

/// Reads up to `frames` event frames (bounded by `within`), appending order
/// events to `seen`; returns the last revision read. Stops early when the
/// stream ends or fails (a dead daemon).
async fn read_frames(
    sub: &mut Subscription<'_>,
    frames: usize,
    within: Duration,
    seen: &mut Vec<Seen>,
    last: &mut u64,
) -> usize {
    let deadline = tokio::time::Instant::now() + within;
    let mut n = 0;
    while n < frames {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Ok(Some(SubscriptionItem::Events { revision, events }))) => {
                assert!(revision > *last, "revision {revision} after {last}");
                *last = revision;
                seen.extend(order_events(revision, &events));
                n += 1;
            }
            Ok(Ok(Some(SubscriptionItem::Progress { .. }))) => {}
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => break,
        }
    }
    n
}

/// Reads until every order in `expected` has been seen at its version,
/// then past a marker: a menu change made afterwards, whose event comes
/// after every order event of the stream. A duplicate (or an event of an
/// order that does not exist) had its chance to come before the marker,
/// so it lands in `seen`, where [`check_exactly_once`] finds it.
async fn read_until_complete(
    w: &World,
    sub: &mut Subscription<'_>,
    expected: &BTreeMap<String, u64>,
    seen: &mut Vec<Seen>,
    last: &mut u64,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !complete(seen, expected) {
        assert!(
            Instant::now() < deadline,
            "missing events: want {expected:?}, saw {seen:#?}"
        );
        read_frames(sub, 1, Duration::from_secs(1), seen, last).await;
    }
    w.ok(
        &w.manager,
        "menu.86",
        json!({"restaurant": R, "sku": "pie"}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Ok(Some(SubscriptionItem::Events { revision, events }))) => {
                assert!(revision > *last, "revision {revision} after {last}");
                *last = revision;
                seen.extend(order_events(revision, &events));
                if events.iter().any(|e| e.kind.starts_with("menu.")) {
                    return;
                }
            }
            Ok(Ok(Some(SubscriptionItem::Progress { .. }))) => {}
            Ok(Ok(None)) => panic!("the stream ended before the marker; saw {seen:#?}"),
            Ok(Err(e)) => panic!("the stream failed before the marker: {e}; saw {seen:#?}"),
            Err(_) => panic!("no marker within 30 s; saw {seen:#?}"),
        }
    }
}

fn complete(seen: &[Seen], expected: &BTreeMap<String, u64>) -> bool {
    expected
        .iter()
        .all(|(o, v)| seen.iter().any(|s| &s.order == o && s.version == *v))
}

/// Every version of every order exactly once, in order, and revisions
/// strictly increasing over the whole stream.
fn check_exactly_once(seen: &[Seen], expected: &BTreeMap<String, u64>) {
    assert!(
        seen.windows(2).all(|w| w[0].revision < w[1].revision),
        "revisions out of order or repeated: {seen:#?}"
    );
    for (order, n) in expected {
        let versions: Vec<u64> = seen
            .iter()
            .filter(|s| &s.order == order)
            .map(|s| s.version)
            .collect();
        assert_eq!(
            versions,
            (1..=*n).collect::<Vec<_>>(),
            "{order}: every version once, in order"
        );
    }
    assert!(
        seen.iter().all(|s| expected.contains_key(&s.order)),
        "events of unknown orders: {seen:#?}"
    );
}

fn lifecycle(seen: &[Seen], order: &str) -> Vec<(String, String)> {
    seen.iter()
        .filter(|s| s.order == order)
        .map(|s| (s.state.clone(), s.payment.clone()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_resumes_after_disconnect_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("events", dir.path(), &[]));
    let w = World::setup(&d).await;

    // A second connection for the subscriber, so dropping it leaves `w`.
    let c1 = d.client().await;
    let mut sub = c1
        .subscribe(
            &SubscribeRequest {
                topic: format!("restaurant:{R}"),
                from_revision: None,
            },
            Some(&w.kitchen),
        )
        .await
        .unwrap();
    let start = sub.start_revision;

    let o1 = w.place("soup").await;
    let o2 = w.place("pie").await;
    let o3 = w.place("soup").await;
    w.step("accept", &o1).await;
    w.step("start", &o1).await;
    // 3 orders x 1 event (the sandbox authorises inside the placement:
    // born `placed`) + accept (2) + start (1) = 6 frames are waiting; read
    // 4 of them, then vanish.
    let mut seen = Vec::new();
    let mut last = start - 1;
    let n = read_frames(&mut sub, 4, Duration::from_secs(30), &mut seen, &mut last).await;
    assert_eq!(n, 4, "{seen:#?}");
    assert_eq!(seen.len(), 4, "one order event per frame: {seen:#?}");
    let rev_at_drop = store_revision(&w.client).await;
    drop(sub);
    drop(c1);

    // Life goes on while it is away.
    let o4 = w.place("pie").await;
    w.step("reject", &o2).await;
    w.cancel(&o3).await;
    w.step("accept", &o4).await;
    w.step("ready", &o1).await;
    w.step("complete", &o1).await;
    let o5 = w.place("soup").await;

    // Back, from the revision after the last one it processed.
    let c2 = d.client().await;
    let mut sub = c2
        .subscribe(
            &SubscribeRequest {
                topic: format!("restaurant:{R}"),
                from_revision: Some(last + 1),
            },
            Some(&w.kitchen),
        )
        .await
        .unwrap();
    assert_eq!(sub.start_revision, last + 1);
    let expected = w.versions().await;
    assert_eq!(expected.len(), 5);
    read_until_complete(&w, &mut sub, &expected, &mut seen, &mut last).await;
    check_exactly_once(&seen, &expected);
    assert!(seen[0].revision >= start);
    assert_eq!(
        seen.iter().filter(|s| s.revision <= rev_at_drop).count(),
        6,
        "the 2 events sent but not processed before the drop came again"
    );

    assert_eq!(
        lifecycle(&seen, &o1),
        pairs(&[
            ("placed", "authorized"),
            ("accepted", "capturing"),
            ("accepted", "captured"),
            ("preparing", "captured"),
            ("ready", "captured"),
            ("completed", "captured"),
        ])
    );
    assert_eq!(
        lifecycle(&seen, &o2)[1..],
        pairs(&[("rejected", "voiding"), ("rejected", "voided")])
    );
    assert_eq!(
        lifecycle(&seen, &o3)[1..],
        pairs(&[("cancelled", "voiding"), ("cancelled", "voided")])
    );
    assert_eq!(lifecycle(&seen, &o4).len(), 3);
    assert_eq!(lifecycle(&seen, &o5).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_resumes_across_kill9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = tokio::task::block_in_place(|| Daemon::start("events", dir.path(), &[]));
    let mut w = World::setup(&d).await;

    let c1 = d.client().await;
    let mut sub = c1
        .subscribe(
            &SubscribeRequest {
                topic: format!("restaurant:{R}"),
                from_revision: None,
            },
            Some(&w.kitchen),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut last = sub.start_revision - 1;

    let o1 = w.place("soup").await;
    let o2 = w.place("pie").await;
    w.step("accept", &o1).await;
    read_until_prefix(&mut sub, &[(&o1, 3), (&o2, 1)], &mut seen, &mut last).await;

    // More changes, committed and durable, most of them not yet read when
    // the daemon dies.
    let o3 = w.place("pie").await;
    w.step("accept", &o2).await;
    w.step("start", &o1).await;
    read_frames(&mut sub, 1, Duration::from_secs(30), &mut seen, &mut last).await;
    let before_kill = w.versions().await;
    let rev_at_kill = store_revision(&w.client).await;
    assert!(
        rev_at_kill > last,
        "changes the subscriber has not processed"
    );
    // The subscriber goes down with the daemon: what it had not processed
    // (even if already sent) must come again.
    d.proc.kill9();
    drop(sub);
    drop(c1);
    let processed = seen.len();

    tokio::task::block_in_place(|| d.restart());
    w.client = d.client().await;
    let after_restart = w.versions().await;
    assert_eq!(after_restart, before_kill, "nothing lost, nothing added");
    assert!(store_revision(&w.client).await >= rev_at_kill);

    // Changes after the restart, then the subscriber comes back.
    let o4 = w.place("soup").await;
    w.step("accept", &o3).await;
    w.step("ready", &o1).await;
    w.cancel(&o4).await;

    let mut sub = w.subscribe(Some(last + 1)).await;
    let expected = w.versions().await;
    assert_eq!(expected.len(), 4);
    read_until_complete(&w, &mut sub, &expected, &mut seen, &mut last).await;
    check_exactly_once(&seen, &expected);
    assert!(
        seen[processed].revision <= rev_at_kill,
        "events from before the crash were replayed: {seen:#?}"
    );
    assert_eq!(
        lifecycle(&seen, &o1)
            .last()
            .map(|(s, p)| (s.as_str(), p.as_str())),
        Some(("ready", "captured"))
    );
    assert_eq!(expected[&o2], 3);
    assert_eq!(expected[&o3], 3);
    assert_eq!(expected[&o4], 3, "placed, cancelled, voided");
}

async fn store_revision(c: &Client) -> u64 {
    let h: Value = c.call("health", None, &json!({})).await.unwrap();
    h["store_revision"].as_u64().unwrap()
}

/// Reads until each `(order, version)` has been seen.
async fn read_until_prefix(
    sub: &mut Subscription<'_>,
    want: &[(&str, u64)],
    seen: &mut Vec<Seen>,
    last: &mut u64,
) {
    let expected: BTreeMap<String, u64> = want.iter().map(|(o, v)| (o.to_string(), *v)).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !complete(seen, &expected) {
        assert!(Instant::now() < deadline, "want {want:?}, saw {seen:#?}");
        read_frames(sub, 1, Duration::from_secs(1), seen, last).await;
    }
}

/// Lines a background `dfood` printed, as JSON.
struct Lines {
    rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    lines: Vec<Value>,
}

impl Lines {
    /// Reads lines until `pred` holds of all read so far, for at most
    /// `within`; returns them.
    async fn wait_for(
        &mut self,
        what: &str,
        within: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        while !pred(&self.lines) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(l)) => self.lines.push(
                    serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")),
                ),
                _ => panic!("{what}: not within {within:?}; saw {:#?}", self.lines),
            }
        }
        self.lines.clone()
    }
}

/// `dfood events --restaurant R -o json` prints each new order's events as
/// they happen, one JSON document per line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfood_events_streams_new_orders_live() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("events", dir.path(), &[]));
    let w = World::setup(&d).await;
    let from = store_revision(&w.client).await + 1;

    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(tests::workspace_bin("dfood"))
        .args(["events", "--restaurant", R, "-o", "json", "--from"])
        .arg(from.to_string())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("DFOOD_ENDPOINT", d.endpoint())
        .env("DFOOD_CA", d.ca_path())
        .env("DFOOD_TOKEN", &w.kitchen)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = Lines {
        rx,
        lines: Vec::new(),
    };
    let has = |order: String, kind: &'static str| {
        move |ls: &[Value]| {
            ls.iter()
                .any(|l| l["subject"] == order && l["kind"] == kind)
        }
    };

    // The first order proves the stream is up (replayed from `--from` if
    // the subscription came late).
    let a = w.place("soup").await;
    out.wait_for(
        "first order",
        Duration::from_secs(10),
        has(a.clone(), "order.placed"),
    )
    .await;

    // Now live: a new order, a kitchen step and a menu change arrive (the
    // promise is within a second; the ceiling is generous for a busy
    // 2-core machine, and the time taken is printed).
    let t0 = Instant::now();
    let b = w.place("pie").await;
    w.step("accept", &a).await;
    w.ok(
        &w.kitchen,
        "menu.86",
        json!({"restaurant": R, "sku": "soup"}),
    )
    .await;
    let all = out
        .wait_for("live events", Duration::from_secs(10), |ls: &[Value]| {
            has(b.clone(), "order.placed")(ls)
                && ls
                    .iter()
                    .any(|l| l["subject"] == a && l["data"]["payment"]["state"] == "captured")
                && ls.iter().any(|l| l["kind"] == "menu.changed")
        })
        .await;
    eprintln!("live events arrived within {:?}", t0.elapsed());
    let _ = child.kill();
    let _ = child.wait();

    // Shape and order: revision, kind, subject, data; revisions never go
    // back; each order's versions 1, 2, ... with no gap or repeat.
    let mut prev = 0;
    for l in &all {
        let r = l["revision"].as_u64().unwrap();
        assert!(r >= from && r >= prev, "{all:#?}");
        prev = r;
        assert!(l["kind"].is_string() && l["subject"].is_string(), "{l}");
    }
    for o in [&a, &b] {
        let versions: Vec<u64> = all
            .iter()
            .filter(|l| &l["subject"] == o)
            .map(|l| l["data"]["version"].as_u64().unwrap())
            .collect();
        assert_eq!(
            versions,
            (1..=versions.len() as u64).collect::<Vec<_>>(),
            "{o}"
        );
    }
    assert_eq!(
        all.iter()
            .filter(|l| l["subject"] == a)
            .map(|l| l["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["order.placed", "order.accepted", "order.accepted"]
    );
}

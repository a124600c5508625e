//! The cluster in containers (`etc/docker/compose.yaml`, images from
//! `.ci/images`, FROM scratch): three etcd members and three dfoodd on
//! private networks, driven by the `dfood` image on the clients' network.
//! It takes an order, then fails the real container network: kills a
//! dfoodd container, cuts a dfoodd off etcd, cuts an etcd member off the
//! other two, and heals everything; nothing acknowledged is lost.
//!
//! Where the daemon breaks a promise under a partition the test records it
//! and carries on with the scenario, then fails listing every broken
//! promise (so one run tells all of them).
//!
//! Needs Docker Engine with compose; fails with an install hint without.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tests::docker::{Compose, TEST_LABEL, run_bounded};
use tests::{Outcome, Proc};

const NODES: [&str; 3] = ["dfoodd-1", "dfoodd-2", "dfoodd-3"];
/// dfoodd's membership lease (daemon::cluster::LEASE_TTL).
const LEASE: Duration = daemon::cluster::LEASE_TTL;
const MENU: &str = "/menu.csv";

fn endpoint(node: &str) -> String {
    format!("{node}.front:7400")
}

fn all_endpoints() -> String {
    NODES.map(endpoint).join(",")
}

/// `dfood` in a container of its own on the clients' network, as `user`
/// (their config and saved login under the shared home volume).
struct Clients<'a> {
    c: &'a Compose,
    menu: PathBuf,
}

impl Clients<'_> {
    fn command(&self, user: &str, endpoints: &str, args: &[&str]) -> Command {
        let c = self.c;
        let mut cmd = Command::new("docker");
        cmd.args(["run", "--rm", "--label"])
            .arg(format!("{TEST_LABEL}={}", c.project))
            .args(["--network", &c.scoped("front")])
            .arg("-v")
            .arg(format!("{}:/home/dfood", c.scoped("dfood-home")))
            .arg("-v")
            .arg(format!("{}:{MENU}:ro", self.menu.display()));
        for n in NODES {
            cmd.arg("-v").arg(format!("{}:/nodes/{n}:ro", c.scoped(n)));
        }
        cmd.args(["-e", "DFOOD_CA=/nodes/dfoodd-1/tls/ca.pem"])
            .args(["-e", &format!("DFOOD_ENDPOINT={endpoints}")])
            .args([
                "-e",
                &format!("DFOOD_CONFIG=/home/dfood/{user}/config.toml"),
            ])
            .args([
                "-e",
                &format!("DFOOD_PASSWORD={user} likes pizza margherita"),
            ])
            .arg(c.image("dfood"))
            .args(args)
            .args(["-o", "json"]);
        cmd
    }

    fn run(&self, user: &str, endpoints: &str, args: &[&str]) -> Outcome {
        let out = run_bounded(
            &mut self.command(user, endpoints, args),
            Duration::from_secs(90),
        );
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, user: &str, args: &[&str]) -> serde_json::Value {
        let out = self.run(user, &all_endpoints(), args);
        assert_eq!(out.code, 0, "{user} {args:?}: {out:?}");
        out.json()
    }

    /// `cluster status` as the operator through `node` only.
    fn status_via(&self, node: &str) -> Option<serde_json::Value> {
        let out = self.run("ops", &endpoint(node), &["cluster", "status"]);
        (out.code == 0).then(|| out.json())
    }

    /// Waits (up to `within`) until `node` answers and reaches its store.
    fn wait_ready(&self, node: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let out = self.run("probe", &endpoint(node), &["status"]);
            if out.code == 0 && out.json().get("store_error").is_none() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{node} not ready within {within:?}: {out:?}\n{}",
                self.c.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Polls `cluster status` through `via` until `pred` holds; returns
    /// the status and when it first held, or None after `within`.
    fn wait_status(
        &self,
        via: &str,
        within: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<(serde_json::Value, Instant)> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(st) = self.status_via(via)
                && pred(&st)
            {
                return Some((st, Instant::now()));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        None
    }

    /// Places one margherita as cleo with a fresh idempotency key through
    /// `endpoints`, retrying the same key until `within` has passed:
    /// (order id, attempts, time to success), or the last failure.
    fn place(
        &self,
        endpoints: &str,
        key: &str,
        within: Duration,
    ) -> Result<(String, u32, Duration), Outcome> {
        let start = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let out = self.run(
                "cleo",
                endpoints,
                &[
                    "order",
                    "place",
                    "trattoria",
                    "--item",
                    "margherita",
                    "--pay",
                    "pm_card_visa",
                    "--idempotency-key",
                    key,
                    "--timeout",
                    "5s",
                ],
            );
            if out.code == 0 {
                let id = out.json()["id"].as_str().expect("order id").to_string();
                return Ok((id, attempts, start.elapsed()));
            }
            if start.elapsed() > within {
                return Err(out);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn leader(st: &serde_json::Value) -> Option<&str> {
    st["leader"]["node"].as_str()
}

fn members(st: &serde_json::Value) -> usize {
    st["members"].as_array().map_or(0, Vec::len)
}

/// `dfood_leader` as `node`'s own /metrics says (None if unreachable).
fn leader_gauge(metrics: &str) -> Option<u64> {
    let (code, body) = tests::http_get(metrics, "/metrics", Duration::from_secs(2)).ok()?;
    if code != 200 {
        return None;
    }
    body.lines()
        .find_map(|l| l.strip_prefix("dfood_leader "))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn compose_cluster_survives_kills_and_partitions() {
    let bin_dir = tests::workspace_bin("dfoodd")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let c = Compose::build_and_up(&bin_dir);
    let cli = Clients {
        c: &c,
        menu: tests::docker::root().join("etc/demo-menu.csv"),
    };
    for n in NODES {
        cli.wait_ready(n, Duration::from_secs(120));
    }
    let mut problems: Vec<String> = Vec::new();
    // order id -> idempotency key, for every placement acknowledged.
    let mut acked: BTreeMap<String, String> = BTreeMap::new();
    let mut keys = 0u32;
    let mut next_key = || {
        keys += 1;
        format!("containers-{keys}")
    };

    // The first operator, through the compose file's own `dfood` service
    // (the README's way); the setup token is on whichever node started
    // first.
    let bootstrapped = NODES.iter().any(|n| {
        let token = format!("/nodes/{n}/setup-token");
        let out = c.run(
            &[
                "run",
                "--rm",
                "-T",
                "-e",
                "DFOOD_CONFIG=/home/dfood/ops/config.toml",
                "-e",
                "DFOOD_PASSWORD=ops likes pizza margherita",
                "dfood",
                "admin",
                "bootstrap",
                "--token-file",
                &token,
                "--username",
                "ops",
                "-o",
                "json",
            ],
            Duration::from_secs(120),
        );
        out.status.success()
    });
    assert!(bootstrapped, "no node's setup token worked\n{}", c.logs());
    // From the host, as the README says: the CA copied out of dfoodd-1's
    // volume, the three published UDP ports as seeds.
    let host_dir = tempfile::tempdir().unwrap();
    let ca = host_dir.path().join("cluster-ca.pem");
    c.docker_ok(
        &[
            "cp",
            &format!("{}:/var/lib/dfoodd/tls/ca.pem", c.container("dfoodd-1")),
            &ca.display().to_string(),
        ],
        Duration::from_secs(60),
    );
    let seeds = NODES.map(|n| c.published(n, "7400/udp")).join(",");
    let out = tests::Dfood::new()
        .env("DFOOD_ENDPOINT", &seeds)
        .env("DFOOD_CA", &ca.display().to_string())
        .run(["status", "-o", "json"]);
    assert_eq!(out.code, 0, "dfood on the host, through {seeds}: {out:?}");
    assert!(
        NODES.contains(&out.json()["node"].as_str().unwrap_or_default()),
        "{out:?}"
    );

    for who in ["mario", "kim", "cleo"] {
        cli.ok(who, &["signup", "--username", who]);
    }
    cli.ok(
        "mario",
        &["restaurant", "create", "trattoria", "--name", "Trattoria"],
    );
    cli.ok("mario", &["menu", "import", "trattoria", MENU]);
    cli.ok(
        "mario",
        &[
            "staff",
            "add",
            "kim",
            "--restaurant",
            "trattoria",
            "--role",
            "kitchen",
        ],
    );
    cli.ok("mario", &["restaurant", "open", "trattoria"]);

    // One order, start to finish.
    let key = next_key();
    let (first, _, _) = cli
        .place(&all_endpoints(), &key, Duration::from_secs(30))
        .unwrap_or_else(|o| panic!("first order: {o:?}"));
    acked.insert(first.clone(), key);
    for step in ["accept", "start", "ready", "complete"] {
        cli.ok("kim", &["order", step, &first]);
    }
    let done = cli.ok("cleo", &["order", "status", &first]);
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["payment"]["state"], "captured", "{done}");

    // 1. kill -9 a dfoodd container: the other two take orders at once,
    // and its membership lapses with its lease.
    let victim = c.container("dfoodd-2");
    c.docker_ok(&["kill", "-s", "KILL", &victim], Duration::from_secs(60));
    for _ in 0..3 {
        let key = next_key();
        match cli.place(&all_endpoints(), &key, Duration::from_secs(10)) {
            Ok((id, attempts, took)) => {
                if attempts > 1 {
                    problems.push(format!(
                        "with dfoodd-2 killed a placement needed {attempts} attempts ({took:?})"
                    ));
                }
                acked.insert(id, key);
            }
            Err(o) => problems.push(format!("with dfoodd-2 killed, placing failed: {o:?}")),
        }
    }
    if cli
        .wait_status("dfoodd-1", LEASE + Duration::from_secs(10), |st| {
            members(st) == 2
        })
        .is_none()
    {
        problems.push(format!(
            "the killed dfoodd-2 still listed as a member {:?} after its lease",
            LEASE + Duration::from_secs(10)
        ));
    }
    c.docker_ok(&["start", &victim], Duration::from_secs(60));
    cli.wait_ready("dfoodd-2", Duration::from_secs(60));

    // 2. Cut dfoodd-3 off etcd (its clients can still reach it). Make it
    // the leader first, and give it a live subscriber.
    let st = cli.status_via("dfoodd-1").expect("cluster status");
    if leader(&st) != Some("dfoodd-3") {
        cli.ok("ops", &["cluster", "switchover", "--to", "dfoodd-3"]);
    }
    cli.wait_status("dfoodd-1", Duration::from_secs(30), |st| {
        leader(st) == Some("dfoodd-3") && members(st) == 3
    })
    .unwrap_or_else(|| panic!("dfoodd-3 did not become the leader\n{}", c.logs()));
    let metrics3 = c.published("dfoodd-3", "9400/tcp");
    assert_eq!(leader_gauge(&metrics3), Some(1), "dfoodd-3's own gauge");
    let dir = tempfile::tempdir().unwrap();
    let events_log = dir.path().join("events.log");
    let mut events = Proc::spawn(
        "events",
        cli.command(
            "kim",
            &endpoint("dfoodd-3"),
            // From the start: the order below shows however late the
            // stream begins.
            &["events", "--restaurant", "trattoria", "--from", "1"],
        ),
        &events_log,
    );
    // Its stream is live before the cut: an order placed elsewhere shows.
    let key = next_key();
    let (before, _, _) = cli
        .place(&endpoint("dfoodd-1"), &key, Duration::from_secs(30))
        .unwrap_or_else(|o| panic!("order before the cut: {o:?}"));
    acked.insert(before.clone(), key);
    wait_for_text(&events_log, &before, Duration::from_secs(30))
        .unwrap_or_else(|t| panic!("the subscriber never saw {before}: {t}"));

    let d3 = c.container("dfoodd-3");
    let cut = Instant::now();
    c.docker_ok(
        &["network", "disconnect", &c.scoped("store"), &d3],
        Duration::from_secs(60),
    );
    // (a) It gives up leadership within its lease, by its own account,
    // and the others elect a new leader once that lease has expired. Both
    // watched together, each from the moment of the cut.
    let (mut gave_up, mut replaced) = (None, None);
    while cut.elapsed() < LEASE + Duration::from_secs(20)
        && (gave_up.is_none() || replaced.is_none())
    {
        if gave_up.is_none() && leader_gauge(&metrics3) == Some(0) {
            gave_up = Some(cut.elapsed());
        }
        if replaced.is_none()
            && let Some(st) = cli.status_via("dfoodd-1")
            && let Some(l) = leader(&st).filter(|l| *l != "dfoodd-3")
        {
            replaced = Some((l.to_string(), cut.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    match gave_up {
        Some(t) if t <= LEASE + Duration::from_secs(1) => {
            eprintln!("dfoodd-3 cut off etcd: stopped calling itself leader after {t:?}")
        }
        Some(t) => problems.push(format!(
            "dfoodd-3, cut off etcd, still called itself leader (dfood_leader 1) for {t:?}, longer than its {LEASE:?} lease"
        )),
        None => problems.push(format!(
            "dfoodd-3, cut off etcd, still calls itself leader (dfood_leader 1) {:?} after the cut (lease {LEASE:?})",
            cut.elapsed()
        )),
    }
    match replaced {
        Some((l, t)) if t <= LEASE + Duration::from_secs(5) => {
            eprintln!("dfoodd-3 cut off etcd: {l} leads {t:?} after the cut")
        }
        Some((l, t)) => problems.push(format!(
            "dfoodd-3 cut off etcd: {l} became leader only {t:?} after the cut (lease {LEASE:?})"
        )),
        None => problems.push(format!(
            "no new leader {:?} after dfoodd-3 was cut off etcd",
            cut.elapsed()
        )),
    }
    // (b) It refuses writes with a clear error (its clients named only it).
    let key = next_key();
    let started = Instant::now();
    let out = cli.run(
        "cleo",
        &endpoint("dfoodd-3"),
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "margherita",
            "--pay",
            "pm_card_visa",
            "--idempotency-key",
            &key,
            "--timeout",
            "10s",
        ],
    );
    if out.code == 0 {
        let id = out.json()["id"].as_str().unwrap_or_default().to_string();
        problems.push(format!(
            "dfoodd-3, cut off etcd, acknowledged a placement ({id})"
        ));
        acked.insert(id, key);
    } else {
        let msg = out.stderr_json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        if out.code != 7 || !msg.contains("store") {
            problems.push(format!(
                "dfoodd-3, cut off etcd, refused a write without a clear \"store unavailable\" error (exit 7): {out:?}"
            ));
        }
        if started.elapsed() > Duration::from_secs(20) {
            problems.push(format!(
                "dfoodd-3 took {:?} to refuse a write",
                started.elapsed()
            ));
        }
    }
    // (c) Clients that know the other nodes move there: every placement
    // succeeds at its first try even when the session starts on dfoodd-3.
    let seeds = format!("{},{}", endpoint("dfoodd-3"), endpoint("dfoodd-1"));
    let mut during = Vec::new();
    for _ in 0..6 {
        let key = next_key();
        match cli.place(&seeds, &key, Duration::from_secs(15)) {
            Ok((id, attempts, took)) => {
                if attempts > 1 {
                    problems.push(format!(
                        "with dfoodd-3 cut off etcd a placement needed {attempts} attempts ({took:?})"
                    ));
                }
                during.push(id.clone());
                acked.insert(id, key);
            }
            Err(o) => problems.push(format!(
                "with dfoodd-3 cut off etcd, a client seeded with it and dfoodd-1 could not place: {o:?}"
            )),
        }
    }
    // (d) Its subscriber, which learned the members before the cut, moves
    // too: the orders placed meanwhile reach it.
    if let Some(last) = during.last()
        && let Err(t) = wait_for_text(&events_log, last, Duration::from_secs(20))
    {
        problems.push(format!(
            "the subscriber on dfoodd-3 never saw {last} (placed elsewhere while dfoodd-3 was cut off etcd); it printed:\n{t}"
        ));
    }
    // Heal.
    c.docker_ok(
        &["network", "connect", &c.scoped("store"), &d3],
        Duration::from_secs(60),
    );
    cli.wait_ready("dfoodd-3", Duration::from_secs(60));
    if cli
        .wait_status("dfoodd-3", Duration::from_secs(30), |st| members(st) == 3)
        .is_none()
    {
        problems.push("dfoodd-3 did not rejoin the membership after healing".into());
    }
    events.kill9();

    // 3. Cut the etcd raft leader off the other two members (dfoodd can
    // still reach it: a minority member, the nastier case).
    let st = cli.status_via("dfoodd-1").expect("cluster status");
    let raft_leader = st["store_members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["leader"] == true))
        .and_then(|m| m["name"].as_str())
        .unwrap_or_else(|| panic!("no etcd leader in {st}"))
        .to_string();
    let e = c.container(&raft_leader);
    let cut = Instant::now();
    c.docker_ok(
        &["network", "disconnect", &c.scoped("raft"), &e],
        Duration::from_secs(60),
    );
    // Orders keep coming; each must get through within a bounded window
    // (etcd's election plus the daemons' 2 s store timeout and a retry).
    let window = Duration::from_secs(15);
    let mut worst = Duration::ZERO;
    let mut settled_streak = 0;
    while cut.elapsed() < Duration::from_secs(20) || settled_streak < 3 {
        if cut.elapsed() > Duration::from_secs(90) {
            problems.push(format!(
                "with {raft_leader} cut off, placements never settled to first-try success"
            ));
            break;
        }
        let key = next_key();
        match cli.place(&all_endpoints(), &key, window) {
            Ok((id, attempts, took)) => {
                worst = worst.max(took);
                settled_streak = if attempts == 1 { settled_streak + 1 } else { 0 };
                acked.insert(id, key);
            }
            Err(o) => {
                settled_streak = 0;
                problems.push(format!(
                    "with {raft_leader} cut off from the other members, a placement failed for {window:?}: {o:?}"
                ));
            }
        }
    }
    eprintln!("{raft_leader} cut off: longest placement (retries included) {worst:?}");
    c.docker_ok(
        &[
            "network",
            "connect",
            "--alias",
            &format!("{raft_leader}.raft"),
            &c.scoped("raft"),
            &e,
        ],
        Duration::from_secs(60),
    );
    if cli
        .wait_status("dfoodd-1", Duration::from_secs(60), |st| {
            st["store_members"]
                .as_array()
                .is_some_and(|m| m.len() == 3 && m.iter().all(|m| m["healthy"] == true))
        })
        .is_none()
    {
        problems.push(format!(
            "{raft_leader} did not come back healthy after healing"
        ));
    }

    // 4. Everything healed: every node serves, and nothing acknowledged
    // is lost (each order is there, once).
    for n in NODES {
        cli.wait_ready(n, Duration::from_secs(60));
    }
    let listed: Vec<String> = cli.ok("cleo", &["order", "list"])["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_string))
        .collect();
    for id in acked.keys() {
        let o = cli.ok("cleo", &["order", "status", id]);
        assert_eq!(o["id"], id.as_str(), "{o}");
        assert!(
            listed.contains(id),
            "acknowledged {id} not in cleo's list {listed:?}"
        );
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        listed.len(),
        "an order listed twice: {listed:?}"
    );
    eprintln!(
        "{} acknowledged orders, all present after healing; cleo has {} orders",
        acked.len(),
        listed.len()
    );
    assert!(
        problems.is_empty(),
        "the cluster broke {} promise(s) under kills and partitions:\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

/// Waits until `needle` appears in the file; Err(its text) after `within`.
fn wait_for_text(path: &std::path::Path, needle: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

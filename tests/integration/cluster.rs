//! Operating a 3-node cluster through `dfood cluster ...`: status,
//! switchover, pause/failover/resume, drain, and every refusal saying why.
//! Real etcd, real dfoodd processes, killed and stopped for real.

use std::time::{Duration, Instant};

use protocol::session::{Session, SessionOptions};
use serde_json::{Value, json};
use tests::{Daemon, Dfood, Etcd};

/// How many cluster rounds `d` has completed, asked of `d` itself
/// (`cluster.stats` through the product's client, kept on that node).
async fn rounds_of(d: &Daemon) -> u64 {
    let ca = std::fs::read(d.ca_path()).expect("CA");
    let mut o = SessionOptions::new([d.endpoint()], ca);
    o.rebalance = false;
    let s = Session::new(o).expect("session");
    let token = tests::token(&s, "ops", "operator password").await;
    let st = tests::call(&s, Some(&token), "cluster.stats", json!({})).await;
    assert_eq!(st["node"], d.node.as_str(), "asked the node itself");
    st["cluster_rounds"].as_u64().expect("cluster_rounds")
}

/// Waits until every one of `nodes` has completed two more cluster rounds
/// than when called: the first may have been under way already, the
/// second began after this call, so each node has looked at the cluster
/// as the test left it and acted on it. Rounds come about twice a second;
/// the ceiling is generous for a loaded machine.
fn wait_for_rounds(nodes: &[&Daemon]) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut start = Vec::new();
        for d in nodes {
            start.push(rounds_of(d).await);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for (d, r0) in nodes.iter().zip(start) {
            loop {
                let r = rounds_of(d).await;
                if r >= r0 + 2 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} completed {} cluster rounds in 30 s (from {r0})",
                    d.node,
                    r - r0
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
}

struct Operator {
    cli: Dfood,
}

impl Operator {
    /// Bootstraps the first operator with the setup token one node wrote.
    fn bootstrap(nodes: &[Daemon]) -> Operator {
        Operator {
            cli: tests::bootstrap_operator(nodes),
        }
    }

    fn ok(&mut self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.cli.run(&a);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.json()
    }

    fn refused(&mut self, args: &[&str], code: u8, why: &str) {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.cli.run(&a);
        assert_eq!(out.code, code as i32, "{args:?}: {out:?}");
        let msg = out.stderr_json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains(why), "{args:?}: {msg:?} should say {why:?}");
    }

    fn status(&mut self) -> Value {
        self.ok(&["cluster", "status"])
    }

    fn leader(&mut self) -> Option<(String, u64)> {
        let st = self.status();
        st["leader"].as_object().map(|l| {
            (
                l["node"].as_str().unwrap().to_string(),
                l["fencing_token"].as_u64().unwrap(),
            )
        })
    }

    /// Waits (bounded) until `f(status)` holds.
    fn wait_for(&mut self, what: &str, within: Duration, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let st = self.status();
            if f(&st) {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {st}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Points this operator's CLI at another node.
    fn via(&mut self, d: &Daemon) {
        self.cli = std::mem::take(&mut self.cli).env("DFOOD_ENDPOINT", &d.endpoint());
    }
}

#[test]
fn status_switchover_and_refusals() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let mut op = Operator::bootstrap(&nodes);
    let st = op.wait_for("a leader", Duration::from_secs(15), |st| {
        st["leader"].is_object()
    });
    assert_eq!(st["members"].as_array().unwrap().len(), 3);
    assert_eq!(st["store"], "etcd");
    assert!(
        st["store_members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["healthy"] == true),
        "{st}"
    );
    assert!(
        st["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["lease_ttl_secs"].as_u64().unwrap() > 0)
    );
    let (leader, token) = op.leader().unwrap();

    // Refusals name the node and the reason.
    op.refused(
        &["cluster", "switchover", "--to", "node-9"],
        cli::exit::CONFLICT,
        "node-9 is not a member",
    );
    op.refused(
        &["cluster", "switchover", "--to", &leader],
        cli::exit::CONFLICT,
        &format!("{leader} is already the leader"),
    );
    op.refused(
        &["cluster", "failover", "--to", "node-2"],
        cli::exit::CONFLICT,
        "is healthy",
    );

    // A planned switchover to a named node, then to the best candidate.
    let target = if leader == "node-1" {
        "node-2"
    } else {
        "node-1"
    };
    let after = op.ok(&["cluster", "switchover", "--to", target]);
    assert_eq!(after["leader"]["node"], target);
    let new_token = after["leader"]["fencing_token"].as_u64().unwrap();
    assert!(
        new_token > token,
        "the fencing token changes with the leader"
    );
    // The dashboard's last leader change names the switchover and the
    // fencing token it gave.
    let dash: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let c = nodes[0].client().await;
        let t: Value = c
            .call(
                "auth.token",
                None,
                &serde_json::json!({"grant_type": "password", "username": "ops", "password": "operator password"}),
            )
            .await
            .unwrap();
        c.call(
            "cluster.top",
            t["access_token"].as_str(),
            &serde_json::json!({}),
        )
        .await
        .unwrap()
    });
    let last = dash["leader_changes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            &last["node"],
            &last["reason"],
            last["fencing_token"].as_u64()
        ),
        (&json_str(target), &json_str("switchover"), Some(new_token)),
        "{dash}"
    );
    let after = op.ok(&["cluster", "switchover"]);
    assert_ne!(after["leader"]["node"], target);

    // Only operators.
    let mut someone = nodes[0].dfood().env("DFOOD_PASSWORD", "someone's password");
    assert_eq!(someone.run(["signup", "--username", "someone"]).code, 0);
    let out = someone.run(["cluster", "status"]);
    assert_eq!(out.code, cli::exit::FORBIDDEN as i32, "{out:?}");

    // A draining candidate is refused.
    let (leader, _) = op.leader().unwrap();
    let other = nodes
        .iter()
        .map(|d| d.node.clone())
        .find(|n| *n != leader)
        .unwrap();
    op.ok(&["cluster", "drain", &other, "--wait", "20s"]);
    op.refused(
        &["cluster", "switchover", "--to", &other],
        cli::exit::CONFLICT,
        &format!("candidate {other} is draining"),
    );
    op.ok(&["cluster", "drain", &other, "--undo"]);
}

#[test]
fn pause_then_forced_failover_after_the_leader_dies() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let mut op = Operator::bootstrap(&nodes);
    op.wait_for("a leader", Duration::from_secs(15), |st| {
        st["leader"].is_object()
    });
    let paused = op.ok(&["cluster", "pause"]);
    assert_eq!(paused["paused"], true);
    op.refused(&["cluster", "switchover"], cli::exit::CONFLICT, "paused");

    // Kill the leader: while paused, nobody takes over by themselves.
    let (leader, token) = op.leader().unwrap();
    let idx = nodes.iter().position(|d| d.node == leader).unwrap();
    nodes[idx].proc.kill9();
    let survivor = nodes.iter().find(|d| d.node != leader).unwrap();
    op.via(survivor);
    op.wait_for(
        "the dead leader's lease to expire",
        Duration::from_secs(20),
        |st| st["leader"].is_null(),
    );
    // Every survivor has looked at the leaderless cluster since: none
    // took over by itself.
    let survivors: Vec<&Daemon> = nodes.iter().filter(|d| d.node != leader).collect();
    wait_for_rounds(&survivors);
    assert!(
        op.status()["leader"].is_null(),
        "paused: no automatic election"
    );

    // The operator forces it, naming the node.
    let to = nodes
        .iter()
        .map(|d| d.node.clone())
        .find(|n| *n != leader)
        .unwrap();
    op.refused(
        &["cluster", "failover", "--to", &leader],
        cli::exit::CONFLICT,
        &format!("{leader} is not a member"),
    );
    let st = op.ok(&["cluster", "failover", "--to", &to]);
    assert_eq!(st["leader"]["node"], to.as_str());
    assert!(st["leader"]["fencing_token"].as_u64().unwrap() > token);
    op.ok(&["cluster", "resume"]);
    assert_eq!(op.status()["paused"], false);
}

#[test]
fn unpaused_cluster_elects_a_new_leader_and_a_stopped_one_is_deposed() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let mut op = Operator::bootstrap(&nodes);
    op.wait_for("a leader", Duration::from_secs(15), |st| {
        st["leader"].is_object()
    });
    let (leader, token) = op.leader().unwrap();
    let old = nodes.iter().find(|d| d.node == leader).unwrap();
    // SIGSTOP the leader past its lease: the others elect a new one.
    unsafe {
        libc::kill(old.proc.pid() as i32, libc::SIGSTOP);
    }
    let survivor = nodes.iter().find(|d| d.node != leader).unwrap();
    op.via(survivor);
    let st = op.wait_for("a new leader", Duration::from_secs(20), |st| {
        st["leader"]["node"].as_str().is_some_and(|n| n != leader)
    });
    let new_token = st["leader"]["fencing_token"].as_u64().unwrap();
    assert!(new_token > token);
    unsafe {
        libc::kill(old.proc.pid() as i32, libc::SIGCONT);
    }
    // The old leader wakes up, finds itself deposed, and registers again.
    op.wait_for(
        "the old leader back as a follower",
        Duration::from_secs(20),
        |st| {
            st["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["node"] == leader.as_str() && m["leader"] == false)
        },
    );
    // Every node, the woken one included, has looked at the cluster since.
    wait_for_rounds(&nodes.iter().collect::<Vec<_>>());
    let st = op.status();
    assert_eq!(
        st["leader"]["fencing_token"].as_u64().unwrap(),
        new_token,
        "exactly one leader, unchanged"
    );
}

#[test]
fn drain_moves_clients_away_and_refuses_new_ones() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let mut op = Operator::bootstrap(&nodes);
    op.wait_for("a leader", Duration::from_secs(15), |st| {
        st["leader"].is_object()
    });
    let target = &nodes[2];
    op.via(&nodes[0]);
    // A client holding a subscription on the target.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(target.client());
    let mut sub = rt
        .block_on(client.subscribe(
            &protocol::messages::SubscribeRequest {
                topic: "members".into(),
                from_revision: None,
            },
            None,
        ))
        .unwrap();
    let st = op.ok(&["cluster", "drain", &target.node, "--wait", "20s"]);
    assert_eq!(st["draining"], true);
    assert_eq!(st["connections"], 0);
    // Events still in flight may arrive first (the drain itself is one);
    // then the subscriber is told to go.
    let end = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match sub.next().await {
                    Ok(Some(_)) => continue,
                    other => return other,
                }
            }
        })
        .await
    });
    match end {
        Ok(Err(protocol::client::ClientError::GoingAway { .. }))
        | Ok(Ok(None))
        | Ok(Err(protocol::client::ClientError::Transport { .. })) => {}
        other => panic!("the subscriber should have been told to go: {other:?}"),
    }
    // New connections are refused while drained; taken again after --undo.
    let out = Dfood::new()
        .env("DFOOD_ENDPOINT", &target.endpoint())
        .env("DFOOD_CA", target.ca_path().to_str().unwrap())
        .run(["status", "--timeout", "2s"]);
    assert_eq!(out.code, cli::exit::UNAVAILABLE as i32, "{out:?}");
    let members = op.ok(&["cluster", "members"]);
    assert!(
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["node"] == target.node.as_str() && m["draining"] == true)
    );
    // When `--undo` returns, the node takes connections (it waits for the
    // node to say so), at once, not after its next round.
    let st = op.ok(&["cluster", "drain", &target.node, "--undo"]);
    assert_eq!(st["draining"], false, "{st}");
    assert_eq!(st["node_draining"], false, "{st}");
    let out = target.dfood().run(["status"]);
    assert_eq!(out.code, 0, "the node takes connections again: {out:?}");
}

#[test]
fn embedded_store_is_a_one_node_cluster_and_says_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("solo", dir.path(), &[]);
    let mut op = Operator::bootstrap(std::slice::from_ref(&d));
    let st = op.wait_for("a leader", Duration::from_secs(10), |st| {
        st["leader"].is_object()
    });
    assert_eq!(st["leader"]["node"], "solo");
    assert_eq!(st["store"], "embedded");
    op.refused(
        &["cluster", "switchover"],
        cli::exit::CONFLICT,
        "one-node cluster",
    );
    op.refused(
        &["cluster", "failover", "--to", "solo"],
        cli::exit::CONFLICT,
        "one-node cluster",
    );
    op.refused(
        &["cluster", "drain", "solo"],
        cli::exit::CONFLICT,
        "one-node cluster",
    );
}

#[test]
fn a_node_without_a_role_forwards_to_one_that_has_it() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let full = Daemon::start("full", &dir.path().join("full"), &etcd.endpoints());
    let front = Daemon::start_with(
        "front",
        &dir.path().join("front"),
        &etcd.endpoints(),
        "roles = [\"gateway\"]\n",
    );
    let h = front.dfood().run(["status", "-o", "json"]);
    assert_eq!(h.json()["roles"], serde_json::json!(["gateway"]));
    // A whole customer session through the gateway-only node.
    let mut mia = front.dfood().env("DFOOD_PASSWORD", "a good password");
    for args in [
        vec!["signup", "--username", "mia"],
        vec!["restaurant", "create", "deli", "--name", "Deli"],
        vec!["restaurant", "open", "deli"],
        vec!["whoami"],
    ] {
        let out = mia.run(&args);
        assert_eq!(out.code, 0, "{args:?} via the gateway-only node: {out:?}");
    }
    let list = mia.run(["restaurant", "list", "-o", "json"]);
    assert!(
        list.json()["restaurants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "deli")
    );
    // Refusals still come back as refusals, with their codes.
    let dup = mia.run([
        "restaurant",
        "create",
        "deli",
        "--name",
        "Again",
        "-o",
        "json",
    ]);
    assert_eq!(dup.code, cli::exit::CONFLICT as i32, "{dup:?}");
    // With the full node gone, the gateway says which role is missing.
    drop(full);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = mia.run([
            "restaurant",
            "create",
            "cafe",
            "--name",
            "Cafe",
            "-o",
            "json",
        ]);
        // Until its lease expires the dead node still looks like a member
        // (those attempts time out); then the gateway names the role.
        if out.code == cli::exit::UNAVAILABLE as i32 && out.stderr.contains("catalog") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still answered without a catalog node: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// etcd loses quorum: writes fail fast with "store unavailable" (exit 7),
/// the daemons stay up and say what is wrong, and everything comes back by
/// itself when quorum returns.
#[test]
fn losing_etcd_quorum_fails_writes_fast_and_recovers() {
    let mut etcd = Etcd::start(3);
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<Daemon> = (1..=2)
        .map(|i| {
            Daemon::start(
                &format!("node-{i}"),
                &dir.path().join(format!("n{i}")),
                &etcd.endpoints(),
            )
        })
        .collect();
    let mut op = Operator::bootstrap(&nodes);
    op.wait_for("a leader", Duration::from_secs(15), |st| {
        st["leader"].is_object()
    });
    let mut mia = nodes[0].dfood().env("DFOOD_PASSWORD", "a good password");
    assert_eq!(mia.run(["signup", "--username", "mia"]).code, 0);
    assert_eq!(
        mia.run(["restaurant", "create", "before", "--name", "Before"])
            .code,
        0
    );

    etcd.members[1].proc.kill9();
    etcd.members[2].proc.kill9();
    let t = Instant::now();
    let out = mia.run([
        "restaurant",
        "create",
        "during",
        "--name",
        "During",
        "-o",
        "json",
    ]);
    assert_eq!(out.code, cli::exit::UNAVAILABLE as i32, "{out:?}");
    assert!(out.stderr.contains("store unavailable"), "{out:?}");
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "fails fast, not after a long hang: {:?}",
        t.elapsed()
    );
    // The daemons are up and say what is wrong.
    for d in &nodes {
        let h = d.dfood().run(["status", "-o", "json"]);
        assert_eq!(h.code, 0, "{} still answers: {h:?}", d.node);
        assert!(h.json()["store_error"].is_string(), "{}", h.stdout);
    }

    etcd.restart_member(1);
    etcd.restart_member(2);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = mia.run([
            "restaurant",
            "create",
            "after",
            "--name",
            "After",
            "-o",
            "json",
        ]);
        if out.code == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "writes never came back: {out:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let st = op.wait_for(
        "both nodes and a leader back",
        Duration::from_secs(30),
        |st| st["members"].as_array().unwrap().len() == 2 && st["leader"].is_object(),
    );
    assert!(
        st["store_members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["healthy"] == true),
        "{st}"
    );
    for d in &nodes {
        assert!(d.dfood().run(["status", "-o", "json"]).json()["store_error"].is_null());
    }
}

fn json_str(s: &str) -> Value {
    Value::String(s.to_string())
}

//! Restaurant ownership and batched placement (issue 16): each
//! restaurant's placements are served by the node that owns it
//! (`protocol::owner`), reached straight from `protocol::session` or
//! forwarded by any other node; and killing an owner with `kill -9` in the
//! middle of a burst of placements loses no acknowledged order and
//! duplicates none. Real etcd, real dfoodd processes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::client::ClientError;
use protocol::messages::cluster::NodeStats;
use protocol::session::{Session, SessionOptions};
use serde_json::{Value, json};
use tests::{Daemon, Etcd, call};

const MENU: &str = "sku,name,price,station\nsoup,Soup,5.00,cold\nbread,Bread,2.00,oven\n";
const NODES: [&str; 3] = ["own-a", "own-b", "own-c"];
const RESTAURANTS: [&str; 4] = ["own-r1", "own-r2", "own-r3", "own-r4"];
const PASSWORD: &str = "correct horse battery";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn session(nodes: &[Daemon]) -> Session {
    let ca = std::fs::read(nodes[0].ca_path()).expect("CA");
    Session::new(SessionOptions::new(nodes.iter().map(Daemon::endpoint), ca)).expect("session")
}

async fn customer(s: &Session, name: &str) -> String {
    tests::person(s, name, PASSWORD).await
}

fn placement(restaurant: &str, key: &str) -> Value {
    json!({
        "restaurant": restaurant,
        "lines": [{"sku": "soup", "qty": 1}],
        "payment_method": "pm_card_visa",
        "idempotency_key": key,
    })
}

/// Each node's placement figures (`cluster.stats` on each node, as the
/// operator).
fn stats(
    rt: &tokio::runtime::Runtime,
    nodes: &[&Daemon],
    ops: &str,
) -> BTreeMap<String, NodeStats> {
    rt.block_on(async {
        let mut out = BTreeMap::new();
        for d in nodes {
            let c = d.client().await;
            let s: NodeStats = c
                .call("cluster.stats", Some(ops), &json!({}))
                .await
                .unwrap_or_else(|e| panic!("cluster.stats on {}: {e}", d.node));
            out.insert(d.node.clone(), s);
        }
        out
    })
}

/// Places the order of `key` until it is acknowledged (the same key each
/// time, as a client must), for at most `within`. Returns the order id.
async fn place_until_acknowledged(
    s: &Session,
    token: &str,
    restaurant: &str,
    key: &str,
    within: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        let r: Result<Value, ClientError> = s
            .call("order.place", Some(token), &placement(restaurant, key))
            .await;
        match r {
            Ok(o) => return Ok(o["id"].as_str().unwrap_or_default().to_string()),
            Err(e) => {
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    Err(format!("{key} not acknowledged within {within:?}: {last}"))
}

#[test]
fn placements_go_to_the_owner_and_a_kill9_of_an_owner_mid_burst_loses_and_duplicates_nothing() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Daemon> = NODES
        .iter()
        .map(|n| Daemon::start(n, &dir.path().join(n), &etcd.endpoints()))
        .collect();
    let _operator = tests::bootstrap_operator(&nodes);
    for (i, r) in RESTAURANTS.iter().enumerate() {
        tests::shop(&nodes[i % 3], r, &format!("own-manager-{i}"), MENU);
    }
    let owner_of = |r: &str, live: &[&str]| -> String {
        protocol::owner::owner(r, live.iter().copied())
            .expect("an owner")
            .to_string()
    };

    let rt = runtime();
    let s = session(&nodes);
    let ops = rt.block_on(async {
        let t = call(
            &s,
            None,
            "auth.token",
            json!({"grant_type": "password", "username": "ops", "password": "operator password"}),
        )
        .await;
        t["access_token"].as_str().expect("token").to_string()
    });
    let tokens: Vec<String> = rt.block_on(async {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(customer(&s, &format!("own-customer-{i}")).await);
        }
        v
    });
    rt.block_on(s.refresh_members()).expect("members");
    eprintln!(
        "set up: 4 restaurants, 4 customers, members {:?}",
        s.endpoints()
    );

    // 1. Steady state: every placement is committed by its restaurant's
    // owner, whichever node the client reached, with no lost race.
    let all: Vec<&Daemon> = nodes.iter().collect();
    let before = stats(&rt, &all, &ops);
    let per_restaurant = 6;
    let mut expected: BTreeMap<String, u64> = NODES.iter().map(|n| (n.to_string(), 0)).collect();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, r) in RESTAURANTS.iter().enumerate() {
            for k in 0..per_restaurant {
                let (s, token) = (s.clone(), tokens[k % tokens.len()].clone());
                let key = format!("steady-{i}-{k}-0000");
                tasks.push(tokio::spawn(async move {
                    let r: Value = s
                        .call("order.place", Some(&token), &placement(r, &key))
                        .await
                        .unwrap_or_else(|e| panic!("{key}: {e}"));
                    r
                }));
            }
        }
        for t in tasks {
            t.await.expect("task");
        }
    });
    for r in RESTAURANTS {
        *expected.get_mut(&owner_of(r, &NODES)).unwrap() += per_restaurant as u64;
    }
    // Also straight to every node with a plain connection: the ones that
    // do not own the restaurant forward it to its owner.
    let r = RESTAURANTS[0];
    let owner = owner_of(r, &NODES);
    rt.block_on(async {
        for (i, d) in nodes.iter().enumerate() {
            let c = d.client().await;
            let key = format!("direct-{i}-00000");
            let _: Value = c
                .call("order.place", Some(&tokens[0]), &placement(r, &key))
                .await
                .unwrap_or_else(|e| panic!("{key} via {}: {e}", d.node));
        }
    });
    *expected.get_mut(&owner).unwrap() += 3;
    let after = stats(&rt, &all, &ops);
    for n in NODES {
        let placed = after[n].placements - before[n].placements;
        let lost = after[n].placement_lost_races - before[n].placement_lost_races;
        assert_eq!(
            placed,
            expected[n],
            "{n} placed {placed}, owns {:?}: every placement is its owner's",
            RESTAURANTS
                .iter()
                .filter(|r| owner_of(r, &NODES) == n)
                .collect::<Vec<_>>()
        );
        assert_eq!(lost, 0, "{n} lost {lost} races in steady state");
    }
    eprintln!("steady state: placements per node {expected:?}, no lost race");

    // 2. A burst over all restaurants, and the owner of the first one
    // killed with kill -9 in the middle of it. Every placement is retried
    // with its own key until acknowledged.
    let victim = NODES.iter().position(|n| *n == owner).unwrap();
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let burst = 160;
    let handles: Vec<_> = (0..burst)
        .map(|i| {
            let (s, token) = (s.clone(), tokens[i % tokens.len()].clone());
            let acked = acked.clone();
            let r = RESTAURANTS[i % RESTAURANTS.len()];
            rt.spawn(async move {
                // 16 placements in flight at a time.
                tokio::time::sleep(Duration::from_millis((i / 16) as u64 * 40)).await;
                let key = format!("burst-{i:04}-0000");
                let id = place_until_acknowledged(&s, &token, r, &key, Duration::from_secs(60))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                acked.lock().unwrap().push((key, id));
            })
        })
        .collect();
    let killed_at = {
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().len() < burst / 4 {
            assert!(Instant::now() < deadline, "the burst does not progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        nodes[victim].proc.kill9();
        acked.lock().unwrap().len()
    };
    eprintln!("killed {owner} (owner of {r}) after {killed_at} of {burst} acknowledged");
    rt.block_on(async {
        for h in handles {
            h.await.expect("a placement task failed");
        }
    });
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), burst);

    // Every acknowledged order exists exactly once: its key gives it back,
    // and each restaurant's tickets are 1..=n without a gap or a repeat.
    let live: Vec<&Daemon> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, d)| d)
        .collect();
    let survivors: Vec<&str> = NODES
        .iter()
        .copied()
        .filter(|n| *n != NODES[victim])
        .collect();
    rt.block_on(async {
        for (i, (key, id)) in acked.iter().enumerate() {
            let r = RESTAURANTS[key[6..10].parse::<usize>().unwrap() % RESTAURANTS.len()];
            let token = &tokens[key[6..10].parse::<usize>().unwrap() % tokens.len()];
            let again = place_until_acknowledged(&s, token, r, key, Duration::from_secs(20))
                .await
                .unwrap();
            assert_eq!(&again, id, "placement {i}: the key gave another order");
        }
        let mut ids = BTreeSet::new();
        for token in &tokens {
            let mut cursor: Option<String> = None;
            for _page in 0..100 {
                let mut body = json!({"limit": 100});
                if let Some(c) = &cursor {
                    body["cursor"] = json!(c);
                }
                let page = call(&s, Some(token), "order.list", body).await;
                for o in page["orders"].as_array().unwrap() {
                    let id = o["id"].as_str().unwrap().to_string();
                    assert!(ids.insert(id.clone()), "{id} listed twice");
                }
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
        }
        let steady = RESTAURANTS.len() * per_restaurant + 3;
        assert_eq!(
            ids.len(),
            steady + burst,
            "orders in the store: the acknowledged ones, no more, no fewer"
        );
        for a in &acked {
            assert!(ids.contains(&a.1), "acknowledged {} is missing", a.1);
        }
        for r in RESTAURANTS {
            let mut tickets: Vec<u64> = ids
                .iter()
                .filter_map(|id| id.strip_prefix(&format!("{r}-")))
                .map(|t| t.parse().unwrap())
                .collect();
            tickets.sort_unstable();
            let n = tickets.len() as u64;
            assert_eq!(tickets, (1..=n).collect::<Vec<_>>(), "tickets of {r}");
        }
    });
    // The owner's restaurant moved to a survivor once its lease expired.
    let new_owner = owner_of(r, &survivors);
    let before = stats(&rt, &live, &ops);
    rt.block_on(async {
        for k in 0..5 {
            let key = format!("moved-{k}-00000");
            place_until_acknowledged(&s, &tokens[0], r, &key, Duration::from_secs(20))
                .await
                .unwrap();
        }
    });
    let after = stats(&rt, &live, &ops);
    let placed = |n: &str| after[n].placements - before[n].placements;
    assert_eq!(placed(&new_owner), 5, "{r} is now {new_owner}'s");
    let total_lost: u64 = after.values().map(|s| s.placement_lost_races).sum();
    let total_placed: u64 = after.values().map(|s| s.placements).sum();
    eprintln!(
        "after the kill: {r} moved to {new_owner}; survivors placed {total_placed} with {total_lost} lost races"
    );
    drop(etcd);
}

//! In-process tests of whole nodes: `start` on port 0, real QUIC clients,
//! shutdown through `run_until`. Two nodes share one store in one process
//! (nothing node-specific is a static).

use std::sync::Arc;
use std::time::Duration;

use protocol::client::{Client, ClientError, ConnectOptions};
use protocol::messages::auth::{SignupRequest, TokenRequest, TokenResponse};
use protocol::messages::catalog::{CreateRestaurant, MenuImport, MenuItem, RestaurantRef};
use protocol::messages::cluster::{ClusterStatus, NodeList};
use protocol::messages::orders::{LineRequest, Order, PlaceOrder};
use protocol::wire::{ErrorCode, Request};
use serde_json::json;

use super::*;

struct Running {
    addr: SocketAddr,
    ca: Vec<u8>,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<Result<(), StartError>>,
}

impl Running {
    async fn start(node: &str, dir: &std::path::Path, store: Arc<dyn Store>) -> Running {
        let config = Config::for_test(node, &dir.join(node));
        let n = start_with_store(config, store).await.expect("node starts");
        let (addr, ca) = (n.local_addr(), std::fs::read(n.ca_path().unwrap()).unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(n.run_until(async {
            let _ = stopped.await;
        }));
        Running {
            addr,
            ca,
            stop,
            done,
        }
    }

    async fn client(&self) -> Client {
        Client::connect(&ConnectOptions::new(self.addr.to_string(), self.ca.clone()))
            .await
            .expect("connects")
    }

    async fn shut_down(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(15), self.done)
            .await
            .expect("shuts down in time")
            .expect("task")
            .expect("clean shutdown");
    }
}

fn shared_store(dir: &std::path::Path) -> Arc<dyn Store> {
    store::embedded::EmbeddedStore::open(&dir.join("shared.redb")).unwrap()
}

/// Waits (bounded) until `f` returns `Some`.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(c: &Client, name: &str) -> TokenResponse {
    let _: serde_json::Value = c
        .call(
            "auth.signup",
            None,
            &SignupRequest {
                username: name.into(),
                password: "correct horse".into(),
            },
        )
        .await
        .unwrap();
    c.call(
        "auth.token",
        None,
        &TokenRequest::password(name, "correct horse"),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_starts_on_port_0_serves_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let node = Running::start("solo", dir.path(), shared_store(dir.path())).await;
    assert_ne!(node.addr.port(), 0);
    let c = node.client().await;
    let h: protocol::messages::HealthResponse = c.call("health", None, &json!({})).await.unwrap();
    assert_eq!((h.node.as_str(), h.store.as_str()), ("solo", "embedded"));
    let addr = node.addr;
    let ca = node.ca.clone();
    node.shut_down().await;
    // Gone: a new connection is refused or times out.
    let mut opts = ConnectOptions::new(addr.to_string(), ca);
    opts.timeout = Duration::from_secs(1);
    assert!(Client::connect(&opts).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_type_of_the_protocol_table_is_served_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let node = Running::start("n1", dir.path(), shared_store(dir.path())).await;
    let c = node.client().await;
    for t in protocol::requests::ALL.iter().filter(|t| !t.streams) {
        let req = Request::new(t.name, json!({})).unwrap();
        match c.request(&req).await {
            Ok(_) => {}
            Err(ClientError::Server(e)) => {
                assert_ne!(e.code, ErrorCode::Unsupported, "{}: {}", t.name, e.message)
            }
            Err(e) => panic!("{}: {e}", t.name),
        }
    }
    for unknown in ["order.teleport", "", "health.", "cluster"] {
        let req = Request::new(unknown, json!({})).unwrap();
        match c.request(&req).await {
            Err(ClientError::Server(e)) => assert_eq!(e.code, ErrorCode::Unsupported, "{unknown}"),
            other => panic!("{unknown}: {other:?}"),
        }
    }
    node.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_in_one_process_share_a_store_and_hand_over_leadership() {
    let dir = tempfile::tempdir().unwrap();
    let store = shared_store(dir.path());
    let a = Running::start("a", dir.path(), store.clone()).await;
    let b = Running::start("b", dir.path(), store.clone()).await;
    let (ca, cb) = (a.client().await, b.client().await);
    let nodes: NodeList = eventually("both members registered", || async {
        let l: NodeList = ca.call("cluster.nodes", None, &json!({})).await.ok()?;
        (l.nodes.len() == 2).then_some(l)
    })
    .await;
    assert_eq!(
        nodes
            .nodes
            .iter()
            .map(|n| n.node.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );

    // One account, signed up on a, works on b (keys shared by the store).
    let cook = login(&ca, "mario").await;
    let t = Some(cook.access_token.as_str());
    let _: serde_json::Value = cb
        .call(
            "restaurant.create",
            t,
            &CreateRestaurant {
                id: "trattoria".into(),
                name: "Trattoria".into(),
                currency: "EUR".into(),
                acceptance_timeout_secs: None,
            },
        )
        .await
        .unwrap();
    let item = MenuItem {
        sku: "pizza".into(),
        name: "Pizza".into(),
        price: 900,
        station: "oven".into(),
        modifiers: vec![],
        available: true,
        stock: Some(2),
        allergens: String::new(),
    };
    let _: serde_json::Value = ca
        .call(
            "menu.import",
            t,
            &MenuImport {
                restaurant: "trattoria".into(),
                items: vec![item],
                replace: true,
            },
        )
        .await
        .unwrap();
    let _: serde_json::Value = ca
        .call(
            "restaurant.open",
            t,
            &RestaurantRef {
                restaurant: "trattoria".into(),
            },
        )
        .await
        .unwrap();

    // Placements at one restaurant on both nodes at once: each node has
    // its own placement queue, the store's compares decide, stock holds.
    let place = |c: &Client, key: &str| {
        let req = PlaceOrder {
            restaurant: "trattoria".into(),
            lines: vec![LineRequest {
                sku: "pizza".into(),
                qty: 1,
                modifiers: vec![],
                expected_unit_price: Some(900),
            }],
            note: String::new(),
            payment_method: "pm_card_visa".into(),
            idempotency_key: key.into(),
        };
        let c = c.clone();
        async move { c.call::<_, Order>("order.place", t, &req).await }
    };
    let (x, y, z) = tokio::join!(
        place(&ca, "key-a-000001"),
        place(&cb, "key-b-000001"),
        place(&cb, "key-b-000002")
    );
    let mut tickets: Vec<u64> = [&x, &y, &z]
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|o| o.ticket))
        .collect();
    tickets.sort_unstable();
    assert_eq!(tickets, [1, 2], "two of three fit the stock of 2");
    let sold_out = [x, y, z]
        .into_iter()
        .find_map(Result::err)
        .expect("one refused");
    match sold_out {
        ClientError::Server(e) => {
            assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
            assert!(e.message.contains("sold out"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }

    // Exactly one leader; when it stops, the other takes over.
    let op = login(&ca, "ops").await.access_token;
    let leader_of = |c: Client| {
        let op = op.clone();
        async move {
            let s: ClusterStatus = c
                .call("cluster.status", Some(op.as_str()), &json!({}))
                .await
                .ok()?;
            s.leader.map(|l| l.node)
        }
    };
    // Operators only: make `ops` one straight in the shared store.
    let users = store.range(auth::identity::USERS_PREFIX).await.unwrap();
    for kv in users.kvs {
        let mut u: auth::identity::UserRecord = serde_json::from_slice(&kv.value).unwrap();
        if u.username == "ops" {
            u.operator = true;
            store::put(store.as_ref(), &kv.key, serde_json::to_vec(&u).unwrap())
                .await
                .unwrap();
        }
    }
    let first = eventually("a leader", || leader_of(ca.clone())).await;
    let (leader, follower, fc) = if first == "a" { (a, b, cb) } else { (b, a, ca) };
    leader.shut_down().await;
    let second = eventually("the other node leads", || async {
        leader_of(fc.clone()).await.filter(|l| *l != first)
    })
    .await;
    assert_ne!(second, first);
    follower.shut_down().await;
}

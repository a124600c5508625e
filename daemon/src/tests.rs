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

/// Whole-node tests run one at a time: failpoints are process-wide, and a
/// node's background work would trip a failpoint another test set.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

/// Creates, stocks (`stock` pizzas at 9.00) and opens `trattoria`.
async fn open_shop(c: &Client, t: Option<&str>, stock: i64) {
    let _: serde_json::Value = c
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
        stock: Some(stock),
        allergens: String::new(),
    };
    let _: serde_json::Value = c
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
    let _: serde_json::Value = c
        .call(
            "restaurant.open",
            t,
            &RestaurantRef {
                restaurant: "trattoria".into(),
            },
        )
        .await
        .unwrap();
}

fn pizza_order(key: &str) -> PlaceOrder {
    PlaceOrder {
        service: None,
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
    let _one = ONE_AT_A_TIME.lock().await;
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
    let _one = ONE_AT_A_TIME.lock().await;
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
    let _one = ONE_AT_A_TIME.lock().await;
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
    open_shop(&cb, t, 2).await;

    // Placements at one restaurant on both nodes at once: each node has
    // its own placement queue, the store's compares decide, stock holds.
    let place = |c: &Client, key: &str| {
        let req = pizza_order(key);
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

/// One node on a fresh store with `trattoria` open (5 pizzas), and its
/// manager's client.
struct Shop {
    node: Running,
    store: Arc<dyn Store>,
    client: Client,
    token: String,
    _dir: tempfile::TempDir,
}

impl Shop {
    async fn open() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let store = shared_store(dir.path());
        let node = Running::start("n1", dir.path(), store.clone()).await;
        let client = node.client().await;
        let token = login(&client, "mario").await.access_token;
        open_shop(&client, Some(&token), 5).await;
        Shop {
            node,
            store,
            client,
            token,
            _dir: dir,
        }
    }
}

/// The stock of `trattoria`'s pizza, as the menu says.
async fn pizzas_left(c: &Client) -> Option<i64> {
    let m: protocol::messages::catalog::Menu = c
        .call(
            "menu.get",
            None,
            &RestaurantRef {
                restaurant: "trattoria".into(),
            },
        )
        .await
        .unwrap();
    m.items
        .iter()
        .find(|i| i.sku == "pizza")
        .and_then(|i| i.stock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_whose_commit_answer_is_lost_is_found_again_by_its_key() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = fail::FailScenario::setup();
    let shop = Shop::open().await;
    let (store, c, t) = (&shop.store, &shop.client, Some(shop.token.as_str()));

    // The placement transaction is applied, then its answer is lost (as
    // when a node dies, or etcd's answer never comes back).
    fail::cfg("store.txn.after", "return(/dfood/idem/)").unwrap();
    let lost = c
        .call::<_, Order>("order.place", t, &pizza_order("key-lost-0001"))
        .await;
    fail::remove("store.txn.after");
    match lost {
        Err(ClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::Unavailable, "{}", e.message);
            assert!(e.message.contains("failpoint"), "{}", e.message);
        }
        other => panic!("the lost answer should fail the request: {other:?}"),
    }
    // The client retries with the same key: the one order, not a second.
    let again: Order = c
        .call("order.place", t, &pizza_order("key-lost-0001"))
        .await
        .unwrap();
    assert_eq!((again.id.as_str(), again.ticket), ("trattoria-1", 1));
    let orders = store.range("/dfood/orders/trattoria/").await.unwrap().kvs;
    assert_eq!(orders.len(), 1, "one order for one key");
    assert_eq!(pizzas_left(c).await, Some(4), "stock taken once");
    // A new key is a new order.
    let next: Order = c
        .call("order.place", t, &pizza_order("key-next-0001"))
        .await
        .unwrap();
    assert_eq!(next.ticket, 2);
    scenario.teardown();
    shop.node.shut_down().await;
}

/// The node remembers the customer's account between placements (no read
/// per order), but every placement's transaction compares it: one changed
/// behind the node's back (here written straight into the store, so the
/// node learns it from nothing but that compare) refuses the next order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_account_changed_since_refuses_the_next_placement() {
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::open().await;
    let (store, c, t) = (&shop.store, &shop.client, Some(shop.token.as_str()));
    let first: Order = c
        .call("order.place", t, &pizza_order("key-acct-0001"))
        .await
        .unwrap();
    let key = format!("{}{}", auth::identity::USERS_PREFIX, first.customer_id);
    let kv = store.get(&key).await.unwrap().expect("the account");
    let mut account: serde_json::Value = serde_json::from_slice(&kv.value).unwrap();
    account["disabled"] = json!(true);
    store
        .txn(store::Txn::new().and_then([store::TxnOp::put(
            key.as_str(),
            serde_json::to_vec(&account).unwrap(),
        )]))
        .await
        .unwrap();
    match c
        .call::<_, Order>("order.place", t, &pizza_order("key-acct-0002"))
        .await
    {
        Err(ClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::Unauthenticated, "{}", e.message);
            assert!(e.message.contains("disabled"), "{}", e.message);
        }
        other => panic!("a disabled account placed an order: {other:?}"),
    }
    let orders = store.range("/dfood/orders/trattoria/").await.unwrap().kvs;
    assert_eq!(orders.len(), 1, "nothing written for the refused order");
    assert_eq!(pizzas_left(c).await, Some(4));
    shop.node.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_lost_between_gateway_and_record_is_finished_once_by_the_leader() {
    use protocol::messages::orders::{OrderRef, PaymentState};
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = fail::FailScenario::setup();
    let shop = Shop::open().await;
    let (store, c, t) = (&shop.store, &shop.client, Some(shop.token.as_str()));
    let o: Order = c
        .call("order.place", t, &pizza_order("key-capture-01"))
        .await
        .unwrap();
    assert_eq!(o.payment.state, PaymentState::Authorized);

    // Accepting captures the payment at the gateway; the node "dies"
    // before recording it. The kitchen's accept stands (the capture is an
    // intent written with it), the money step is left in flight.
    fail::cfg("pay.after_gateway", "1*return").unwrap();
    let accepted: Order = c
        .call(
            "order.accept",
            t,
            &OrderRef {
                expected_version: None,
                order: o.id.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(accepted.payment.state, PaymentState::Capturing);
    // The leader's duties finish it with the same idempotency key.
    let done = eventually("the capture recorded by the leader", || async {
        let got: Order = c
            .call(
                "order.get",
                t,
                &OrderRef {
                    expected_version: None,
                    order: o.id.clone(),
                },
            )
            .await
            .ok()?;
        (got.payment.state == PaymentState::Captured).then_some(got)
    })
    .await;
    assert_eq!(done.payment.captured, o.total);
    // One payment at the gateway, captured once.
    let gw = payments::sandbox::SandboxGateway::new(store.clone());
    let ps = gw.payments().await.unwrap();
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(
        (ps[0].status, ps[0].amount_captured),
        (payments::GatewayStatus::Succeeded, o.total)
    );
    // One `captured` event.
    let events = store
        .range(&format!("/dfood/events/trattoria/{}/", o.id))
        .await
        .unwrap()
        .kvs;
    let captured = events
        .iter()
        .filter(|kv| {
            let e: protocol::messages::Event = serde_json::from_slice(&kv.value).unwrap();
            e.data["payment"]["state"] == "captured"
        })
        .count();
    assert_eq!(captured, 1, "the capture recorded once");
    scenario.teardown();
    shop.node.shut_down().await;
}

/// Issue 15: a bump carries the version the cook saw and is refused once
/// the order moved; stations bump their own lines and the order is ready
/// with the last of them; the order type and state times are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stations_bump_their_lines_and_stale_bumps_are_refused() {
    use protocol::messages::orders::{OrderRef, OrderState, Service, StationReady};
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::open().await;
    let (c, t) = (&shop.client, Some(shop.token.as_str()));
    let item = |sku: &str, station: &str| MenuItem {
        sku: sku.into(),
        name: sku.into(),
        price: 900,
        station: station.into(),
        modifiers: vec![],
        available: true,
        stock: None,
        allergens: String::new(),
    };
    let _: serde_json::Value = c
        .call(
            "menu.import",
            t,
            &MenuImport {
                restaurant: "trattoria".into(),
                items: vec![item("pizza", "oven"), item("pasta", "pasta")],
                replace: true,
            },
        )
        .await
        .unwrap();
    let mut req = pizza_order("key-stations-1");
    req.lines.push(LineRequest {
        sku: "pasta".into(),
        qty: 2,
        modifiers: vec![],
        expected_unit_price: Some(900),
    });
    // A table name that would write to the kitchen's terminal, and one
    // too long, are refused before anything is written.
    for bad in ["4\u{1b}]0;x\u{7}", &"9".repeat(41)] {
        let mut r = req.clone();
        r.service = Some(Service::DineIn { table: bad.into() });
        let e = c.call::<_, Order>("order.place", t, &r).await.unwrap_err();
        assert!(
            matches!(&e, ClientError::Server(b) if b.code == ErrorCode::BadRequest),
            "{e:?}"
        );
    }
    req.service = Some(Service::DineIn {
        table: " 4 ".into(),
    });
    let o: Order = c.call("order.place", t, &req).await.unwrap();
    assert_eq!(o.service, Some(Service::DineIn { table: "4".into() }));
    let step = |ty: &'static str, v: u64| {
        let o = o.id.clone();
        async move {
            c.call::<_, Order>(
                ty,
                t,
                &OrderRef {
                    order: o,
                    expected_version: Some(v),
                },
            )
            .await
        }
    };
    let station = |name: &str, ready: bool, v: u64| {
        let req = StationReady {
            order: o.id.clone(),
            station: name.into(),
            ready,
            expected_version: Some(v),
        };
        async move { c.call::<_, Order>("order.station_ready", t, &req).await }
    };
    let accepted = step("order.accept", o.version).await.unwrap();
    assert_eq!(accepted.state, OrderState::Accepted);
    assert!(accepted.accepted_at.is_some());
    // A second board pressed on what it saw before the accept: refused,
    // nothing changed.
    let e = step("order.accept", o.version).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Server(b) if b.code == ErrorCode::Conflict && b.message.contains("changed on another screen")),
        "{e:?}"
    );
    let e = step("order.start", o.version).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Server(b) if b.code == ErrorCode::Conflict),
        "{e:?}"
    );
    let now: Order = c
        .call("order.get", t, &OrderRef::new(o.id.clone()))
        .await
        .unwrap();
    assert_eq!((now.state, now.version), (accepted.state, accepted.version));
    // The oven's bump: its line ready, the order preparing, not ready.
    let oven = station("oven", true, accepted.version).await.unwrap();
    assert_eq!(oven.state, OrderState::Preparing);
    let ready: Vec<_> = oven.lines.iter().map(|l| l.ready_at.is_some()).collect();
    assert_eq!(ready, [true, false]);
    assert_eq!(oven.ready_at, None);
    // No such station on this order; a stale station bump.
    let e = station("grill", true, oven.version).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Server(b) if b.code == ErrorCode::Conflict),
        "{e:?}"
    );
    let e = station("pasta", true, accepted.version).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Server(b) if b.code == ErrorCode::Conflict),
        "{e:?}"
    );
    // The pasta's bump: every line ready, so the order is.
    let pasta = station("pasta", true, oven.version).await.unwrap();
    assert_eq!(pasta.state, OrderState::Ready);
    assert!(pasta.ready_at.is_some());
    // Undone: preparing again, the oven's line still ready.
    let undone = station("pasta", false, pasta.version).await.unwrap();
    assert_eq!(undone.state, OrderState::Preparing);
    assert_eq!(undone.ready_at, None);
    let ready: Vec<_> = undone.lines.iter().map(|l| l.ready_at.is_some()).collect();
    assert_eq!(ready, [true, false]);
    let again = station("pasta", true, undone.version).await.unwrap();
    let done = step("order.complete", again.version).await.unwrap();
    assert_eq!(done.state, OrderState::Completed);
    assert!(done.completed_at.is_some());
    // A station bump of a completed order is refused.
    let e = station("oven", false, done.version).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Server(b) if b.code == ErrorCode::Conflict),
        "{e:?}"
    );
    shop.node.shut_down().await;
}

/// Issue 15, finding 7: an acceptance can be recalled. The order is new
/// again with a fresh deadline; accepting it again captures nothing more;
/// rejecting it refunds the captured money instead of voiding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recalled_acceptance_keeps_its_money_once_and_refunds_on_reject() {
    use protocol::messages::orders::{
        OrderRef, OrderState, PaymentState, RecallOrder, RejectOrder,
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::open().await;
    let (store, c, t) = (&shop.store, &shop.client, Some(shop.token.as_str()));
    let get = |id: String| async move {
        c.call::<_, Order>("order.get", t, &OrderRef::new(id))
            .await
            .unwrap()
    };
    let recall = |o: &Order| {
        let req = RecallOrder {
            order: o.id.clone(),
            state: OrderState::Accepted,
            expected_version: Some(o.version),
        };
        async move { c.call::<_, Order>("order.recall", t, &req).await }
    };
    for (key, reject) in [("key-recall-acc-1", false), ("key-recall-acc-2", true)] {
        let o: Order = c.call("order.place", t, &pizza_order(key)).await.unwrap();
        let accepted: Order = c
            .call("order.accept", t, &OrderRef::new(o.id.clone()))
            .await
            .unwrap();
        assert_eq!(accepted.payment.state, PaymentState::Captured);
        let back = recall(&accepted).await.unwrap();
        assert_eq!(back.state, OrderState::Placed);
        assert_eq!(back.accepted_at, None);
        assert_eq!(back.payment.state, PaymentState::Captured);
        // New again: the expiry duty has a deadline for it.
        let marker = store
            .get(&crate::orders::expiry_work_key(&o.id))
            .await
            .unwrap();
        assert!(marker.is_some(), "a recalled acceptance gets a deadline");
        if reject {
            let _: Order = c
                .call(
                    "order.reject",
                    t,
                    &RejectOrder {
                        order: o.id.clone(),
                        reason: "out of dough".into(),
                        expected_version: Some(back.version),
                    },
                )
                .await
                .unwrap();
            let done = eventually("the refund", || async {
                let o = get(o.id.clone()).await;
                (o.payment.state == PaymentState::Refunded).then_some(o)
            })
            .await;
            assert_eq!(done.state, OrderState::Rejected);
            assert_eq!(done.payment.refunded, done.payment.captured);
        } else {
            let again: Order = c
                .call("order.accept", t, &OrderRef::new(o.id.clone()))
                .await
                .unwrap();
            assert_eq!(again.state, OrderState::Accepted);
            assert_eq!(again.payment.captured, o.total, "captured once");
        }
    }
    // The gateway saw one capture per order, and one refund.
    let gw = payments::sandbox::SandboxGateway::new(store.clone());
    let ps = gw.payments().await.unwrap();
    assert_eq!(ps.len(), 2, "{ps:?}");
    for p in &ps {
        assert_eq!(p.amount_captured, 900, "{p:?}");
    }
    assert_eq!(
        ps.iter().filter(|p| p.amount_refunded == 900).count(),
        1,
        "{ps:?}"
    );
    shop.node.shut_down().await;
}

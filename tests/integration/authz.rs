//! The authorisation matrix: every request type of the protocol's one
//! table (`protocol::requests::ALL`, so a new type cannot be forgotten)
//! against every kind of caller. A denied call must be refused with the
//! documented code and change nothing (the store's revision is the same
//! after it); every allowed caller is tried, and must succeed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use daemon::store::Store;
use daemon::store::etcd::EtcdStore;

use protocol::client::{Client, ClientError};
use protocol::messages::SubscribeRequest;
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tests::{Daemon, Etcd};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    OtherCustomer,
    KitchenA,
    ManagerA,
    KitchenB,
    ManagerB,
    Operator,
    Service,
}
use Who::*;

const EVERYONE: [Who; 9] = [
    Anonymous,
    Owner,
    OtherCustomer,
    KitchenA,
    ManagerA,
    KitchenB,
    ManagerB,
    Operator,
    Service,
];

/// Everyone with a token.
const LOGGED_IN: [Who; 8] = [
    Owner,
    OtherCustomer,
    KitchenA,
    ManagerA,
    KitchenB,
    ManagerB,
    Operator,
    Service,
];

struct World {
    client: Client,
    /// The node's etcd, read directly: its revision moves with every
    /// write, and its keys tell which were written.
    store: Arc<EtcdStore>,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl World {
    fn token(&self, w: Who) -> Option<&str> {
        let name = match w {
            Anonymous => return None,
            Owner => "owner",
            OtherCustomer => "other",
            KitchenA => "kitchena",
            ManagerA => "managera",
            KitchenB => "kitchenb",
            ManagerB => "managerb",
            Operator => "operator",
            Service => "service",
        };
        Some(self.tokens[name].as_str())
    }

    async fn call(&self, w: Who, ty: &str, body: Value) -> Result<Value, ClientError> {
        self.client
            .call::<Value, Value>(ty, self.token(w), &body)
            .await
    }

    async fn ok(&self, w: Who, ty: &str, body: Value) -> Value {
        self.call(w, ty, body.clone())
            .await
            .unwrap_or_else(|e| panic!("{w:?} {ty} {body}: {e}"))
    }

    async fn place(&self) -> String {
        let o = self
            .ok(Owner, "order.place", json!({"restaurant": "resta", "lines": [{"sku": "soup", "qty": 1}], "payment_method": "pm_card_visa", "idempotency_key": format!("k{}", rand_suffix())}))
            .await;
        o["id"].as_str().unwrap().to_string()
    }
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn login(c: &Client, name: &str) -> String {
    let pw = "long enough password";
    let _ = c
        .call::<Value, Value>(
            "auth.signup",
            None,
            &json!({"username": name, "password": pw}),
        )
        .await;
    token(c, name, pw).await
}

async fn token(c: &Client, name: &str, pw: &str) -> String {
    let t: Value = c
        .call(
            "auth.token",
            None,
            &json!({"grant_type": "password", "username": name, "password": pw}),
        )
        .await
        .unwrap_or_else(|e| panic!("login {name}: {e}"));
    t["access_token"].as_str().unwrap().to_string()
}

async fn setup(d: &Daemon, store: Arc<EtcdStore>) -> World {
    let client = d.client().await;
    let mut tokens = std::collections::HashMap::new();
    for name in [
        "owner", "other", "kitchena", "managera", "kitchenb", "managerb",
    ] {
        tokens.insert(name, login(&client, name).await);
    }
    let setup_token = std::fs::read_to_string(d.data_dir.join("setup-token"))
        .expect("dfoodd wrote a setup token");
    let _: Value = client
        .call("admin.bootstrap", None, &json!({"setup_token": setup_token.trim(), "username": "operator", "password": "operator password"}))
        .await
        .unwrap();
    tokens.insert(
        "operator",
        token(&client, "operator", "operator password").await,
    );
    let sa: Value = client
        .call(
            "auth.service_account.create",
            Some(&tokens["operator"]),
            &json!({"name": "script"}),
        )
        .await
        .unwrap();
    let st: Value = client
        .call("auth.token", None, &json!({"grant_type": "client_credentials", "client_id": sa["client_id"], "client_secret": sa["client_secret"]}))
        .await
        .unwrap();
    tokens.insert("service", st["access_token"].as_str().unwrap().to_string());
    // Accounts the operator-only requests act on (not the callers').
    for name in ["sa-doomed", "sa-rotated"] {
        let _: Value = client
            .call(
                "auth.service_account.create",
                Some(&tokens["operator"]),
                &json!({"name": name}),
            )
            .await
            .unwrap();
    }
    login(&client, "bystander").await;
    let w = World {
        client,
        store,
        tokens,
    };
    for (mgr, kitchen, r) in [
        (ManagerA, "kitchena", "resta"),
        (ManagerB, "kitchenb", "restb"),
    ] {
        w.ok(mgr, "restaurant.create", json!({"id": r, "name": r}))
            .await;
        w.ok(
            mgr,
            "menu.import",
            json!({"restaurant": r, "items": [{"sku": "soup", "name": "Soup", "price": 500, "station": "grill"}]}),
        )
        .await;
        w.ok(
            mgr,
            "staff.add",
            json!({"restaurant": r, "username": kitchen, "role": "kitchen"}),
        )
        .await;
        w.ok(mgr, "restaurant.open", json!({"restaurant": r})).await;
    }
    w
}

/// How the body of one call is made.
#[derive(Clone)]
enum Body {
    /// The same for every call.
    Fixed(Value),
    /// One per caller (names that can be taken once).
    PerCaller(fn(Who) -> Value),
    /// A fresh order of the owner's at `resta`, moved by its kitchen
    /// through `steps` first; the body is `{"order": id}` plus `extra`.
    FreshOrder(&'static [&'static str], Value),
    /// A new session of the owner's: `{"refresh_token": ...}`.
    FreshSession,
    /// `subscribe`: each topic with the callers it is open to.
    Topics,
}

/// One row of the matrix.
#[derive(Clone)]
struct Case {
    ty: &'static str,
    allowed: Vec<Who>,
    body: Body,
    /// Codes a refused caller may also get besides the auth codes (e.g.
    /// `bad_request` for a service account changing its password).
    also: Vec<ErrorCode>,
    /// The allowed callers' calls only have to get past the authorisation
    /// gate, proven by an answer only a check after it gives (its message
    /// contains this): on one node, a switchover has no candidate, and
    /// draining it would end the test.
    gate_only: Option<&'static str>,
    /// Run after every other row (it ends the callers' sessions).
    last: bool,
}

fn case(ty: &'static str, allowed: &[Who], body: Body) -> Case {
    Case {
        ty,
        allowed: allowed.to_vec(),
        body,
        also: Vec::new(),
        gate_only: None,
        last: false,
    }
}

fn fixed(v: Value) -> Body {
    Body::Fixed(v)
}

fn slug(who: Who) -> String {
    format!("{who:?}").to_lowercase()
}

/// Every request type and who may send it. Each protocol type must have
/// exactly one row (checked against `protocol::requests::ALL`).
fn matrix(order: &str) -> Vec<Case> {
    let staff_a = [KitchenA, ManagerA];
    let people = [
        Owner,
        OtherCustomer,
        KitchenA,
        ManagerA,
        KitchenB,
        ManagerB,
        Operator,
    ];
    let resta = json!({"restaurant": "resta"});
    vec![
        // Open to everyone.
        case("health", &EVERYONE, fixed(json!({}))),
        case("subscribe", &EVERYONE, Body::Topics),
        case("restaurant.list", &EVERYONE, fixed(json!({}))),
        case("restaurant.show", &EVERYONE, fixed(resta.clone())),
        case("menu.get", &EVERYONE, fixed(resta.clone())),
        case("cluster.nodes", &EVERYONE, fixed(json!({}))),
        // Accounts: the credential is the authorisation.
        case(
            "auth.signup",
            &EVERYONE,
            Body::PerCaller(
                |w| json!({"username": format!("new-{}", slug(w)), "password": "long enough password"}),
            ),
        ),
        case(
            "auth.token",
            &EVERYONE,
            fixed(
                json!({"grant_type": "password", "username": "other", "password": "long enough password"}),
            ),
        ),
        case("auth.logout", &EVERYONE, Body::FreshSession),
        case("auth.whoami", &LOGGED_IN, fixed(json!({}))),
        Case {
            also: vec![ErrorCode::BadRequest],
            last: true,
            ..case(
                "auth.password",
                &people,
                Body::PerCaller(|w| {
                    let current = if w == Operator {
                        "operator password"
                    } else {
                        "long enough password"
                    };
                    json!({"current_password": current, "new_password": "a brand new password"})
                }),
            )
        },
        // The setup token was used up by setup (as Anonymous): nobody
        // may bootstrap again (`conflict`), least of all with a wrong
        // token.
        Case {
            also: vec![ErrorCode::Unauthenticated, ErrorCode::Conflict],
            ..case(
                "admin.bootstrap",
                &[],
                fixed(
                    json!({"setup_token": "not-the-setup-token", "username": "usurper", "password": "long enough password"}),
                ),
            )
        },
        // Operators only.
        case(
            "auth.service_account.create",
            &[Operator],
            Body::PerCaller(|w| json!({"name": format!("sa-{}", slug(w))})),
        ),
        case(
            "auth.service_account.delete",
            &[Operator],
            fixed(json!({"name": "sa-doomed"})),
        ),
        case(
            "auth.service_account.rotate",
            &[Operator],
            fixed(json!({"name": "sa-rotated"})),
        ),
        case(
            "auth.account.disable",
            &[Operator],
            fixed(json!({"username": "bystander"})),
        ),
        case(
            "auth.account.enable",
            &[Operator],
            fixed(json!({"username": "bystander"})),
        ),
        case("auth.rotate_key", &[Operator], fixed(json!({}))),
        case("cluster.members", &[Operator], fixed(json!({}))),
        case("cluster.status", &[Operator], fixed(json!({}))),
        case("cluster.stats", &[Operator], fixed(json!({}))),
        case("cluster.top", &[Operator], fixed(json!({}))),
        case("cluster.pause", &[Operator], fixed(json!({}))),
        case("cluster.resume", &[Operator], fixed(json!({}))),
        Case {
            gate_only: Some("no candidate"),
            ..case("cluster.switchover", &[Operator], fixed(json!({})))
        },
        Case {
            gate_only: Some("is healthy: use `dfood cluster switchover"),
            ..case(
                "cluster.failover",
                &[Operator],
                fixed(json!({"to": "no-such-node"})),
            )
        },
        Case {
            gate_only: Some("no-such-node is not a member"),
            ..case(
                "cluster.drain",
                &[Operator],
                fixed(json!({"node": "no-such-node"})),
            )
        },
        // Creating a restaurant: people, not scripts or strangers.
        case(
            "restaurant.create",
            &people,
            Body::PerCaller(|w| json!({"id": format!("new-{}", slug(w)), "name": "New"})),
        ),
        // Managing restaurant A: its managers only.
        case("restaurant.close", &[ManagerA], fixed(resta.clone())),
        case("restaurant.open", &[ManagerA], fixed(resta.clone())),
        case(
            "restaurant.set",
            &[ManagerA],
            fixed(json!({"restaurant": "resta", "max_order_total": 2_000_000})),
        ),
        case("staff.list", &[ManagerA], fixed(resta.clone())),
        case(
            "staff.add",
            &[ManagerA],
            fixed(json!({"restaurant": "resta", "username": "other", "role": "kitchen"})),
        ),
        case(
            "staff.remove",
            &[ManagerA],
            fixed(json!({"restaurant": "resta", "username": "other"})),
        ),
        case(
            "menu.import",
            &[ManagerA],
            fixed(json!({"restaurant": "resta", "items": [
                {"sku": "soup", "name": "Soup", "price": 500, "station": "grill"},
                {"sku": "bread", "name": "Bread", "price": 100}]})),
        ),
        case(
            "menu.set",
            &[ManagerA],
            fixed(json!({"restaurant": "resta", "sku": "soup", "price": 550})),
        ),
        // Availability: the kitchen too.
        case(
            "menu.86",
            &staff_a,
            fixed(json!({"restaurant": "resta", "sku": "bread"})),
        ),
        case(
            "menu.un86",
            &staff_a,
            fixed(json!({"restaurant": "resta", "sku": "bread"})),
        ),
        // Orders.
        case(
            "order.place",
            &LOGGED_IN,
            Body::PerCaller(
                |_| json!({"restaurant": "resta", "lines": [{"sku": "soup", "qty": 1}], "payment_method": "pm_card_visa", "idempotency_key": format!("k{}", rand_suffix())}),
            ),
        ),
        case(
            "order.get",
            &[Owner, KitchenA, ManagerA, Operator],
            fixed(json!({"order": order})),
        ),
        case(
            "order.list",
            &[KitchenA, ManagerA, Operator],
            fixed(resta.clone()),
        ),
        case("order.cancel", &[Owner], Body::FreshOrder(&[], json!({}))),
        case("order.accept", &staff_a, Body::FreshOrder(&[], json!({}))),
        case(
            "order.reject",
            &staff_a,
            Body::FreshOrder(&[], json!({"reason": "closing early"})),
        ),
        case(
            "order.start",
            &staff_a,
            Body::FreshOrder(&["order.accept"], json!({})),
        ),
        case(
            "order.ready",
            &staff_a,
            Body::FreshOrder(&["order.accept", "order.start"], json!({})),
        ),
        case(
            "order.complete",
            &staff_a,
            Body::FreshOrder(&["order.accept", "order.start", "order.ready"], json!({})),
        ),
        case(
            "order.refund",
            &[ManagerA],
            Body::FreshOrder(&["order.accept"], json!({})),
        ),
        case(
            "order.recall",
            &staff_a,
            Body::FreshOrder(
                &["order.accept", "order.start"],
                json!({"state": "preparing"}),
            ),
        ),
        case(
            "order.station_ready",
            &staff_a,
            Body::FreshOrder(&["order.accept"], json!({"station": "grill"})),
        ),
        case(
            "order.rush",
            &staff_a,
            Body::FreshOrder(&[], json!({"rush": true})),
        ),
        // History (one's own archived orders) and reports (managers).
        case("order.history", &LOGGED_IN, fixed(json!({}))),
        case("report.sales", &[ManagerA, Operator], fixed(resta.clone())),
        case("report.items", &[ManagerA, Operator], fixed(resta)),
    ]
}

async fn store_revision(w: &World) -> u64 {
    let r = w.store.revision().await.expect("etcd revision");
    u64::try_from(r).expect("a revision")
}

/// Every key written (put or deleted) in revisions `before+1..=after`,
/// read from etcd's history; but the node's own stats record, which a
/// timer rewrites with each renewal of its membership lease whatever the
/// requests.
async fn writes_between(w: &World, before: u64, after: u64) -> Vec<String> {
    use futures::StreamExt;
    if after <= before {
        return Vec::new();
    }
    let mut stream = w
        .store
        .watch("/", before as i64 + 1)
        .await
        .expect("watch etcd's history");
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let b = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("etcd replays its history")
            .expect("the watch stays open")
            .expect("a watch batch");
        for e in &b.events {
            if !e.kv.key.starts_with(daemon::cluster::STATS_PREFIX) {
                out.push(format!(
                    "{:?} {} at revision {}",
                    e.kind, e.kv.key, b.revision
                ));
            }
        }
        if b.revision >= after as i64 {
            return out;
        }
    }
    panic!("10000 watch batches and not at revision {after} yet");
}

/// Panics if anything but the node's stats was written since `before`.
async fn assert_unchanged(w: &World, before: u64, what: &str) {
    let after = store_revision(w).await;
    let written = writes_between(w, before, after).await;
    assert!(
        written.is_empty(),
        "{what} was refused, yet the store changed (revision {before} -> {after}): {written:?}"
    );
}

/// The body of one call of `c` as `who` (preparing what it needs).
async fn body_for(w: &World, c: &Case, who: Who) -> Value {
    match &c.body {
        Body::Fixed(v) => v.clone(),
        Body::PerCaller(f) => f(who),
        Body::FreshOrder(steps, extra) => {
            let o = w.place().await;
            for step in *steps {
                w.ok(KitchenA, step, json!({"order": o})).await;
            }
            let mut b = extra.clone();
            b["order"] = json!(o);
            b
        }
        Body::FreshSession => {
            let t = w
                .ok(
                    Anonymous,
                    "auth.token",
                    json!({"grant_type": "password", "username": "owner", "password": "long enough password"}),
                )
                .await;
            json!({"refresh_token": t["refresh_token"]})
        }
        Body::Topics => unreachable!("subscribe has topics, not a body"),
    }
}

/// Calls `c.ty` as every caller not allowed (each refused with an auth
/// code, the store's revision unchanged by it), then as every allowed
/// caller (each must succeed, or get past the gate for `gate_only`).
async fn check(w: &World, c: &Case) {
    let ty = c.ty;
    for who in EVERYONE.iter().copied().filter(|x| !c.allowed.contains(x)) {
        let b = body_for(w, c, who).await;
        let before = store_revision(w).await;
        let r = w.call(who, ty, b.clone()).await;
        match r {
            Err(ClientError::Server(e)) => {
                // `not_found` hides another restaurant's things from its
                // strangers; operator-only requests have nothing to hide,
                // and a `not_found` there could come from past the gate.
                let mut expected = if who == Anonymous {
                    vec![ErrorCode::Unauthenticated]
                } else if c.allowed == [Operator] {
                    vec![ErrorCode::Forbidden]
                } else {
                    vec![ErrorCode::Forbidden, ErrorCode::NotFound]
                };
                expected.extend(c.also.iter().copied());
                assert!(
                    expected.contains(&e.code),
                    "{ty} as {who:?}: refused with {:?} ({}), expected one of {expected:?}",
                    e.code,
                    e.message
                );
            }
            other => panic!("{ty} as {who:?} with {b} must be refused, got {other:?}"),
        }
        assert_unchanged(w, before, &format!("{ty} as {who:?}")).await;
    }
    for who in c.allowed.iter().copied() {
        let b = body_for(w, c, who).await;
        match w.call(who, ty, b.clone()).await {
            Ok(_) => {}
            Err(ClientError::Server(e))
                if c.gate_only.is_some_and(|says| e.message.contains(says))
                    && ![ErrorCode::Unauthenticated, ErrorCode::Forbidden].contains(&e.code) => {}
            Err(e) => panic!("{ty} as {who:?} with {b} must be allowed: {e}"),
        }
    }
}

/// `subscribe` to each topic as every caller: refused ones get an auth
/// code and change nothing.
async fn check_subscribe(w: &World, order: &str) {
    for (topic, allowed) in [
        (
            "restaurant:resta".to_string(),
            vec![KitchenA, ManagerA, Operator],
        ),
        (
            format!("order:{order}"),
            vec![Owner, KitchenA, ManagerA, Operator],
        ),
        ("members".to_string(), EVERYONE.to_vec()),
    ] {
        for who in EVERYONE {
            let before = store_revision(w).await;
            let r = w
                .client
                .subscribe(
                    &SubscribeRequest {
                        topic: topic.clone(),
                        from_revision: None,
                    },
                    w.token(who),
                )
                .await;
            match (allowed.contains(&who), r) {
                (true, Ok(_)) => {}
                (false, Err(ClientError::Server(e))) => {
                    assert!(
                        [
                            ErrorCode::Unauthenticated,
                            ErrorCode::Forbidden,
                            ErrorCode::NotFound
                        ]
                        .contains(&e.code),
                        "{topic} as {who:?}: {e}"
                    );
                    assert_unchanged(w, before, &format!("subscribe {topic} as {who:?}")).await;
                }
                (allowed, r) => panic!("{topic} as {who:?}: allowed={allowed}, got {:?}", r.err()),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_type_against_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = tokio::task::block_in_place(|| Etcd::start(1));
    // An archive, as on one machine, for `order.history` and reports.
    let archive = format!(
        "archive_url = \"sqlite://{}?mode=rwc\"\n",
        dir.path().join("archive.db").display()
    );
    let d = tokio::task::block_in_place(|| {
        Daemon::start_with("authz", &dir.path().join("n1"), &etcd.endpoints(), &archive)
    });
    let store = EtcdStore::connect(&etcd.endpoints())
        .await
        .expect("connect to etcd");
    let w = setup(&d, store).await;
    // The detector detects: an allowed change is seen as a write.
    let r0 = store_revision(&w).await;
    w.ok(
        KitchenA,
        "menu.86",
        json!({"restaurant": "resta", "sku": "soup"}),
    )
    .await;
    w.ok(
        KitchenA,
        "menu.un86",
        json!({"restaurant": "resta", "sku": "soup"}),
    )
    .await;
    let seen = writes_between(&w, r0, store_revision(&w).await).await;
    assert!(
        seen.iter().any(|k| k.contains("/resta")),
        "a menu change is not seen as a write: {seen:?}"
    );

    let order = w.place().await;
    let rows = matrix(&order);
    // One row per protocol type, and no row for a type that does not exist.
    let table: BTreeSet<&str> = protocol::requests::names().collect();
    let mut rowed = BTreeSet::new();
    for c in &rows {
        assert!(rowed.insert(c.ty), "{} has two rows", c.ty);
        assert!(
            table.contains(c.ty),
            "{} is in the matrix but not in protocol::requests",
            c.ty
        );
    }
    let missing: Vec<&&str> = table.difference(&rowed).collect();
    assert!(
        missing.is_empty(),
        "request types missing from the authorisation matrix: {missing:?}"
    );

    // In the matrix's order (close before open...), session enders last.
    let (last, first): (Vec<&Case>, Vec<&Case>) = rows.iter().partition(|c| c.last);
    for c in first.into_iter().chain(last) {
        match c.body {
            Body::Topics => check_subscribe(&w, &order).await,
            _ => check(&w, c).await,
        }
    }
}

//! The authorisation matrix: every request type against every kind of
//! caller. A denied call must be refused with the documented code (and
//! change nothing); an allowed call must succeed.

use protocol::client::{Client, ClientError};
use protocol::messages::SubscribeRequest;
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tests::Daemon;

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

async fn setup(d: &Daemon) -> World {
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
    let w = World { client, tokens };
    for (mgr, kitchen, r) in [
        (ManagerA, "kitchena", "resta"),
        (ManagerB, "kitchenb", "restb"),
    ] {
        w.ok(mgr, "restaurant.create", json!({"id": r, "name": r}))
            .await;
        w.ok(
            mgr,
            "menu.import",
            json!({"restaurant": r, "items": [{"sku": "soup", "name": "Soup", "price": 500}]}),
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

/// Calls `ty` as every caller not in `allowed` (expecting a refusal with
/// one of the auth codes), then as each in `allowed` (expecting success).
/// `body` builds a fresh body per call.
async fn check<F, Fut>(w: &World, ty: &str, allowed: &[Who], body: F)
where
    F: Fn(Who) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    check_n(w, ty, allowed, usize::MAX, body).await
}

/// As [`check`], but only the first `runs` allowed callers are run: for
/// changes that can happen once (accepting an order, say).
async fn check_n<F, Fut>(w: &World, ty: &str, allowed: &[Who], runs: usize, body: F)
where
    F: Fn(Who) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    for who in EVERYONE.iter().copied().filter(|x| !allowed.contains(x)) {
        let b = body(who).await;
        match w.call(who, ty, b.clone()).await {
            Err(ClientError::Server(e)) => {
                let expected = if who == Anonymous {
                    vec![ErrorCode::Unauthenticated]
                } else {
                    vec![ErrorCode::Forbidden, ErrorCode::NotFound]
                };
                assert!(
                    expected.contains(&e.code),
                    "{ty} as {who:?}: refused with {:?} ({}), expected one of {expected:?}",
                    e.code,
                    e.message
                );
            }
            other => panic!("{ty} as {who:?} with {b} must be refused, got {other:?}"),
        }
    }
    for who in allowed.iter().copied().take(runs) {
        let b = body(who).await;
        if let Err(e) = w.call(who, ty, b.clone()).await {
            panic!("{ty} as {who:?} with {b} must be allowed: {e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_type_against_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("authz", dir.path(), &[]));
    let w = setup(&d).await;
    let fixed = |v: Value| {
        move |_: Who| {
            let v = v.clone();
            async move { v }
        }
    };
    let staff_a = [KitchenA, ManagerA];

    // Browsing is open to everyone.
    for ty in ["health", "restaurant.list"] {
        check(&w, ty, &EVERYONE, fixed(json!({}))).await;
    }
    check(
        &w,
        "restaurant.show",
        &EVERYONE,
        fixed(json!({"restaurant": "resta"})),
    )
    .await;
    check(
        &w,
        "menu.get",
        &EVERYONE,
        fixed(json!({"restaurant": "resta"})),
    )
    .await;

    // Creating a restaurant: people, not scripts or strangers.
    check(
        &w,
        "restaurant.create",
        &[
            Owner,
            OtherCustomer,
            KitchenA,
            ManagerA,
            KitchenB,
            ManagerB,
            Operator,
        ],
        |who| async move {
            json!({"id": format!("new-{}", format!("{who:?}").to_lowercase()), "name": "New"})
        },
    )
    .await;

    // Managing restaurant A: its managers only.
    for (ty, body) in [
        ("restaurant.close", json!({"restaurant": "resta"})),
        ("restaurant.open", json!({"restaurant": "resta"})),
        (
            "restaurant.set",
            json!({"restaurant": "resta", "max_order_total": 2_000_000}),
        ),
        ("staff.list", json!({"restaurant": "resta"})),
        (
            "staff.add",
            json!({"restaurant": "resta", "username": "other", "role": "kitchen"}),
        ),
        (
            "staff.remove",
            json!({"restaurant": "resta", "username": "other"}),
        ),
        (
            "menu.import",
            json!({"restaurant": "resta", "items": [{"sku": "bread", "name": "Bread", "price": 100}]}),
        ),
        (
            "menu.set",
            json!({"restaurant": "resta", "sku": "soup", "price": 550}),
        ),
    ] {
        check(&w, ty, &[ManagerA], fixed(body)).await;
    }
    // Availability: the kitchen too.
    check(
        &w,
        "menu.86",
        &staff_a,
        fixed(json!({"restaurant": "resta", "sku": "bread"})),
    )
    .await;
    check(
        &w,
        "menu.un86",
        &staff_a,
        fixed(json!({"restaurant": "resta", "sku": "bread"})),
    )
    .await;

    // Orders.
    check(&w, "order.place", &[Owner, OtherCustomer, KitchenA, ManagerA, KitchenB, ManagerB, Operator, Service], |_| async {
        json!({"restaurant": "resta", "lines": [{"sku": "soup", "qty": 1}], "payment_method": "pm_card_visa", "idempotency_key": format!("k{}", rand_suffix())})
    })
    .await;
    let order = w.place().await;
    check(
        &w,
        "order.get",
        &[Owner, KitchenA, ManagerA, Operator],
        fixed(json!({"order": order})),
    )
    .await;
    check(
        &w,
        "order.list",
        &[KitchenA, ManagerA, Operator],
        fixed(json!({"restaurant": "resta"})),
    )
    .await;
    for ty in [
        "order.accept",
        "order.start",
        "order.ready",
        "order.complete",
    ] {
        // The order moves one step per allowed caller; prepare one per step.
        let o = w.place().await;
        for step in [
            "order.accept",
            "order.start",
            "order.ready",
            "order.complete",
        ] {
            if step == ty {
                break;
            }
            w.ok(KitchenA, step, json!({"order": o})).await;
        }
        check_n(&w, ty, &staff_a, 1, fixed(json!({"order": o}))).await;
    }
    let o = w.place().await;
    check_n(
        &w,
        "order.reject",
        &staff_a,
        1,
        fixed(json!({"order": o, "reason": "closing early"})),
    )
    .await;
    let o = w.place().await;
    check_n(&w, "order.cancel", &[Owner], 1, fixed(json!({"order": o}))).await;
    let o = w.place().await;
    w.ok(KitchenA, "order.accept", json!({"order": o})).await;
    check_n(
        &w,
        "order.refund",
        &[ManagerA],
        1,
        fixed(json!({"order": o})),
    )
    .await;

    // History (one's own archived orders) and reports (managers).
    check(&w, "order.history", &LOGGED_IN, fixed(json!({}))).await;
    for ty in ["report.sales", "report.items"] {
        check(
            &w,
            ty,
            &[ManagerA, Operator],
            fixed(json!({"restaurant": "resta"})),
        )
        .await;
    }

    // Subscriptions.
    for (topic, allowed) in [
        (
            "restaurant:resta".to_string(),
            vec![KitchenA, ManagerA, Operator],
        ),
        (
            format!("order:{order}"),
            vec![Owner, KitchenA, ManagerA, Operator],
        ),
    ] {
        for who in EVERYONE {
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
                (false, Err(ClientError::Server(e))) => assert!(
                    [
                        ErrorCode::Unauthenticated,
                        ErrorCode::Forbidden,
                        ErrorCode::NotFound
                    ]
                    .contains(&e.code),
                    "{topic} as {who:?}: {e}"
                ),
                (allowed, r) => panic!("{topic} as {who:?}: allowed={allowed}, got {:?}", r.err()),
            }
        }
    }

    // Accounts and operator-only requests.
    check(&w, "auth.whoami", &LOGGED_IN, fixed(json!({}))).await;
    check(
        &w,
        "auth.service_account.create",
        &[Operator],
        |who| async move { json!({"name": format!("sa-{}", format!("{who:?}").to_lowercase())}) },
    )
    .await;
    check(&w, "auth.rotate_key", &[Operator], fixed(json!({}))).await;

    // Cluster: the address list is public (clients fail over with it);
    // everything else is for operators. (The changing ones, switchover,
    // pause, drain..., are refused the same way: one gate, `cluster.*`.)
    check(&w, "cluster.nodes", &EVERYONE, fixed(json!({}))).await;
    for ty in [
        "cluster.members",
        "cluster.status",
        "cluster.stats",
        "cluster.top",
        "cluster.pause",
        "cluster.resume",
    ] {
        check(&w, ty, &[Operator], fixed(json!({}))).await;
    }
}

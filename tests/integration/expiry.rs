//! Expiry end to end: an order nobody accepts expires once the
//! restaurant's acceptance timeout has passed (never before), its stock
//! comes back and its payment hold is voided; an order the kitchen accepts
//! in time is left alone. The leader's expiry duty does it, on a real
//! `dfoodd` (the robustness scenario `expire-while-leader-killed` does it
//! under faults).

use std::time::{Duration, Instant};

use protocol::session::{Session, SessionOptions};
use serde_json::{Value, json};
use tests::{Daemon, call};

const PASSWORD: &str = "expiry test password";
const SHOP: &str = "slowpoke";
/// The shortest acceptance timeout a restaurant may have.
const TIMEOUT_SECS: u64 = 10;
const STOCK: i64 = 20;

async fn person(s: &Session, name: &str) -> String {
    tests::person(s, name, PASSWORD).await
}

async fn stock(s: &Session) -> i64 {
    let menu = call(s, None, "menu.get", json!({"restaurant": SHOP})).await;
    menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "pie")
        .and_then(|i| i["stock"].as_i64())
        .expect("pie has a stock count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_nobody_accepts_expire_return_their_stock_and_void_their_hold() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("expiry", dir.path(), &[]));
    let ca = std::fs::read(d.ca_path()).unwrap();
    let s = Session::new(SessionOptions::new([d.endpoint()], ca)).unwrap();
    let m = person(&s, "exp-manager").await;
    let k = person(&s, "exp-cook").await;
    let c = person(&s, "exp-customer").await;
    call(
        &s,
        Some(&m),
        "restaurant.create",
        json!({"id": SHOP, "name": SHOP, "acceptance_timeout_secs": TIMEOUT_SECS}),
    )
    .await;
    call(
        &s,
        Some(&m),
        "menu.import",
        json!({"restaurant": SHOP, "items": [
            {"sku": "pie", "name": "Pie", "price": 700, "stock": STOCK},
            {"sku": "tea", "name": "Tea", "price": 300},
        ]}),
    )
    .await;
    call(
        &s,
        Some(&m),
        "staff.add",
        json!({"restaurant": SHOP, "username": "exp-cook", "role": "kitchen"}),
    )
    .await;
    call(&s, Some(&m), "restaurant.open", json!({"restaurant": SHOP})).await;

    let place = |key: &'static str, pies: u64| {
        let s = &s;
        let c = &c;
        async move {
            let o = call(
                s,
                Some(c),
                "order.place",
                json!({"restaurant": SHOP, "lines": [{"sku": "pie", "qty": pies}, {"sku": "tea", "qty": 1}],
                       "payment_method": "pm_card_visa", "idempotency_key": key}),
            )
            .await;
            assert_eq!(o["state"], "placed", "{o}");
            assert_eq!(o["payment"]["state"], "authorized", "{o}");
            (o["id"].as_str().unwrap().to_string(), Instant::now())
        }
    };
    let (left1, placed1) = place("expiry-left-alone-1", 3).await;
    let (left2, _) = place("expiry-left-alone-2", 2).await;
    let (taken, _) = place("expiry-accepted", 4).await;
    assert_eq!(stock(&s).await, STOCK - 9);
    let a = call(&s, Some(&k), "order.accept", json!({"order": taken})).await;
    assert_eq!(a["state"], "accepted", "{a}");

    // Wait for the two left alone to expire (the leader's duty looks now
    // and then: a generous ceiling past the timeout).
    let deadline = Instant::now() + Duration::from_secs(TIMEOUT_SECS + 60);
    let mut seen_placed_at = None;
    let expired = loop {
        let mut states = Vec::new();
        for id in [&left1, &left2] {
            let o = call(&s, Some(&c), "order.get", json!({"order": id})).await;
            states.push(o);
        }
        // Expired first, then its hold voided (a step of its own right
        // after, which a read can fall between).
        if states
            .iter()
            .all(|o| o["state"] == "expired" && o["payment"]["state"] == "voided")
        {
            break states;
        }
        for o in &states {
            assert!(
                o["state"] == "placed" || o["state"] == "expired",
                "an order left alone is placed or expired, nothing else: {o}"
            );
        }
        if states[0]["state"] == "placed" {
            seen_placed_at = Some(placed1.elapsed());
        }
        assert!(
            Instant::now() < deadline,
            "not expired {}s after a {TIMEOUT_SECS}s acceptance timeout: {states:#?}",
            TIMEOUT_SECS + 60
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let took = placed1.elapsed();
    eprintln!(
        "expired within {took:?} of placement (acceptance timeout {TIMEOUT_SECS}s; last seen placed at {seen_placed_at:?})"
    );
    // Never before the timeout: the order's own clock says so.
    for o in &expired {
        let created = o["created_at"].as_u64().unwrap();
        let updated = o["updated_at"].as_u64().unwrap();
        assert!(
            updated >= created + TIMEOUT_SECS * 1000,
            "expired {} ms after it was placed, before its {TIMEOUT_SECS} s timeout: {o}",
            updated - created
        );
        assert_eq!(o["payment"]["state"], "voided", "hold voided: {o}");
        assert_eq!(o["payment"]["captured"], 0, "{o}");
        assert_eq!(o["reason"], "not accepted in time", "{o}");
    }
    // The stock of the expired orders is back; the accepted one keeps its.
    assert_eq!(
        stock(&s).await,
        STOCK - 4,
        "stock of the expired orders back"
    );
    let a = call(&s, Some(&k), "order.get", json!({"order": taken})).await;
    assert_eq!(
        a["state"], "accepted",
        "the accepted order does not expire: {a}"
    );
    // An expired order cannot be accepted any more.
    let late = s
        .call::<Value, Value>("order.accept", Some(&k), &json!({"order": left1}))
        .await;
    assert!(late.is_err(), "accepting an expired order: {late:?}");
    // The customer's own view agrees.
    let mine = call(&s, Some(&c), "order.list", json!({})).await;
    let states: Vec<(String, String)> = mine["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                o["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for id in [&left1, &left2] {
        assert!(
            states.contains(&(id.to_string(), "expired".to_string())),
            "{id} expired in the customer's list: {states:?}"
        );
    }
}

//! Ordering end to end through the real `dfood` binary, on the embedded
//! store and on a real etcd: accounts, restaurant and menu, placement with
//! a test card, the kitchen's steps, tracking, refunds, refusals.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use tests::{Daemon, Etcd, User};

const MENU_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
margherita,Margherita,9.50,oven,,gluten; milk,extra_cheese:Extra cheese:1.50|no_basil:No basil:0
tiramisu,Tiramisu,6.00,cold,5,egg; milk,
panna,Panna cotta,5.00,cold,3,milk,
";

fn stock_of(menu: &Value, sku: &str) -> Option<i64> {
    menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == sku)
        .unwrap()["stock"]
        .as_i64()
}

fn flow(d: &Daemon) {
    use cli::exit::*;
    let dir = tempfile::tempdir().unwrap();
    let mut mia = User::new(d, "mia"); // manager
    let mut kai = User::new(d, "kai"); // kitchen
    let mut cleo = User::new(d, "cleo"); // customer
    let mut dan = User::new(d, "dan"); // another customer

    // Restaurant, menu, staff.
    let r = mia.ok(&[
        "restaurant",
        "create",
        "trattoria",
        "--name",
        "Trattoria Roma",
        "--acceptance-timeout",
        "10m",
    ]);
    assert_eq!(r["open"], false);
    mia.fails(
        &["restaurant", "create", "trattoria", "--name", "Again"],
        CONFLICT,
    );
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(
        &bad_csv,
        "sku,name,price\nok,Fine,1.00\nbad,Bad,-2\n,Nameless,3\n",
    )
    .unwrap();
    let msg = mia.fails(
        &["menu", "import", "trattoria", bad_csv.to_str().unwrap()],
        USAGE,
    );
    assert!(
        msg.contains("line 3") && msg.contains("line 4") && !msg.contains("line 2"),
        "{msg}"
    );
    assert_eq!(
        cleo.ok(&["menu", "trattoria"])["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "bad CSV imported nothing"
    );
    let csv = dir.path().join("menu.csv");
    std::fs::write(&csv, MENU_CSV).unwrap();
    let menu = mia.ok(&["menu", "import", "trattoria", csv.to_str().unwrap()]);
    assert_eq!(menu["items"].as_array().unwrap().len(), 3);
    mia.ok(&[
        "staff",
        "add",
        "kai",
        "--restaurant",
        "trattoria",
        "--role",
        "kitchen",
    ]);
    let msg = mia.fails(
        &[
            "staff",
            "add",
            "mia",
            "--restaurant",
            "trattoria",
            "--role",
            "kitchen",
        ],
        CONFLICT,
    );
    assert!(msg.contains("last manager"), "{msg}");
    let msg = mia.fails(
        &[
            "menu",
            "set",
            "tiramisu",
            "--restaurant",
            "trattoria",
            "--stock=-1",
        ],
        USAGE,
    );
    assert!(msg.contains("out of range"), "{msg}");
    cleo.fails(
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "margherita",
            "--pay",
            "pm_card_visa",
        ],
        CONFLICT,
    ); // closed
    mia.ok(&["restaurant", "open", "trattoria"]);

    // Place, with modifiers and a test card.
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "margherita:2+extra_cheese",
        "--item",
        "tiramisu",
        "--note",
        "ring twice",
        "--pay",
        "pm_card_visa",
    ]);
    let id = o["id"].as_str().unwrap().to_string();
    assert_eq!(o["state"], "placed");
    assert_eq!(o["payment"]["state"], "authorized");
    assert_eq!(o["payment"]["last4"], "4242");
    assert_eq!(o["total"], 2 * (950 + 150) + 600);
    assert_eq!(o["ticket"], 1);
    assert_eq!(
        stock_of(&cleo.ok(&["menu", "trattoria"]), "tiramisu"),
        Some(4)
    );

    // Track it live in the background while the kitchen works.
    // It says on stderr once it is subscribed: from then on, no change
    // can slip past it.
    let mut tracker = cleo
        .cli
        .spawn_stream("order-track", &["order", "track", &id, "-o", "json"]);
    tracker.wait_until("order track subscribed", Duration::from_secs(30), |p| {
        p.notices().iter().any(|n| n["notice"] == "subscribed")
    });

    // Who may do what.
    dan.fails(&["order", "status", &id], NOT_FOUND);
    cleo.fails(&["order", "accept", &id], FORBIDDEN);
    kai.fails(
        &[
            "menu",
            "set",
            "margherita",
            "--restaurant",
            "trattoria",
            "--price",
            "1.00",
        ],
        FORBIDDEN,
    );
    dan.fails(&["order", "list", "--restaurant", "trattoria"], FORBIDDEN);

    // The kitchen's steps; the payment is captured on acceptance.
    let a = kai.ok(&["order", "accept", &id]);
    assert_eq!(a["state"], "accepted");
    assert_eq!(a["payment"]["state"], "captured");
    cleo.fails(&["order", "cancel", &id], CONFLICT);
    kai.ok(&["order", "start", &id]);
    kai.fails(&["order", "start", &id], CONFLICT);
    kai.ok(&["order", "ready", &id]);
    let done = kai.ok(&["order", "complete", &id]);
    assert_eq!(done["state"], "completed");

    // It ends by itself once the order is terminal.
    tracker.wait_until("order track ended", Duration::from_secs(30), |p| {
        p.docs().last().is_some_and(|o| o["state"] == "completed")
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(c) = tracker.proc.exit_code() {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "order track still runs after the order completed: {}",
            tracker.describe()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, 0, "{}", tracker.describe());
    let seen: Vec<Value> = tracker.docs();
    let steps: Vec<(String, String)> = seen
        .iter()
        .map(|o| {
            (
                o["state"].as_str().unwrap().to_string(),
                o["payment"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("placed", "authorized"),
        ("accepted", "capturing"),
        ("accepted", "captured"),
        ("preparing", "captured"),
        ("ready", "captured"),
        ("completed", "captured"),
    ];
    assert_eq!(
        steps,
        expected.map(|(a, b)| (a.to_string(), b.to_string())),
        "every change once, in order"
    );
    let versions: Vec<u64> = seen
        .iter()
        .map(|o| o["version"].as_u64().unwrap())
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap, no duplicate: {versions:?}"
    );

    let s = cleo.ok(&["order", "status", &id]);
    assert_eq!(
        (s["state"].as_str(), s["payment"]["state"].as_str()),
        (Some("completed"), Some("captured"))
    );
    let refunded = mia.ok(&["order", "refund", &id]);
    assert_eq!(refunded["payment"]["state"], "refunded");
    assert_eq!(refunded["payment"]["refunded"], o["total"]);
    mia.fails(&["order", "refund", &id], CONFLICT);

    // A declined card: the order exists as payment_failed (the error says
    // so and names it), stock back.
    let before = stock_of(&cleo.ok(&["menu", "trattoria"]), "tiramisu");
    let out = cleo.cli.run([
        "order",
        "place",
        "trattoria",
        "--item",
        "tiramisu",
        "--pay",
        "pm_card_declined",
        "-o",
        "json",
    ]);
    assert_eq!(out.code, i32::from(PAYMENT_DECLINED), "{out:?}");
    let err = &out.stderr_json()["error"];
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("declined") && msg.contains("payment_failed"),
        "{msg}"
    );
    let declined = err["order"].as_str().expect("the error names the order");
    assert!(msg.contains(declined), "{msg}");
    let failed = cleo.order(declined);
    assert_eq!(failed["state"], "payment_failed", "{failed}");
    assert_eq!(
        stock_of(&cleo.ok(&["menu", "trattoria"]), "tiramisu"),
        before
    );

    // Cancel before acceptance voids; reject voids; illegal steps refused.
    let c = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "panna",
        "--pay",
        "pm_card_mastercard",
    ]);
    let cid = c["id"].as_str().unwrap();
    assert_eq!(stock_of(&cleo.ok(&["menu", "trattoria"]), "panna"), Some(2));
    let cancelled = cleo.ok(&["order", "cancel", cid]);
    assert_eq!(
        (
            cancelled["state"].as_str(),
            cancelled["payment"]["state"].as_str()
        ),
        (Some("cancelled"), Some("voided"))
    );
    assert_eq!(
        stock_of(&cleo.ok(&["menu", "trattoria"]), "panna"),
        Some(3),
        "stock given back"
    );
    let msg = kai.fails(&["order", "complete", cid], CONFLICT);
    assert_eq!(msg, "cannot complete an order that is cancelled");
    let r = dan.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "margherita",
        "--pay",
        "pm_card_visa",
    ]);
    let rid = r["id"].as_str().unwrap();
    let rejected = kai.ok(&["order", "reject", rid, "--reason", "out of dough"]);
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["reason"], "out of dough");
    assert_eq!(rejected["payment"]["state"], "voided");

    // Bad input.
    cleo.fails(
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "margherita:-1",
            "--pay",
            "pm_card_visa",
        ],
        USAGE,
    );
    cleo.fails(
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "calzone",
            "--pay",
            "pm_card_visa",
        ],
        NOT_FOUND,
    );
    cleo.fails(
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "margherita+pineapple",
            "--pay",
            "pm_card_visa",
        ],
        USAGE,
    );
    kai.ok(&["menu", "86", "margherita", "--restaurant", "trattoria"]);
    let msg = cleo.fails(
        &[
            "order",
            "place",
            "trattoria",
            "--item",
            "margherita",
            "--pay",
            "pm_card_visa",
        ],
        CONFLICT,
    );
    assert!(msg.contains("sold out"), "{msg}");
    kai.ok(&["menu", "un86", "margherita", "--restaurant", "trattoria"]);

    // Lists: a customer sees their own; staff see the restaurant's.
    let mine: BTreeSet<String> = cleo.ok(&["order", "list"])["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert!(mine.contains(&id) && !mine.contains(rid));
    let all = kai.ok(&["order", "list", "--restaurant", "trattoria"]);
    assert!(all["orders"].as_array().unwrap().len() >= 4);

    // Same idempotency key, two processes at once: one order.
    let key = "retry-key-12345678";
    let args = [
        "order",
        "place",
        "trattoria",
        "--item",
        "panna",
        "--pay",
        "pm_card_visa",
        "--idempotency-key",
        key,
    ];
    let (p1, p2) = (cleo.spawn(d, &args), cleo.spawn(d, &args));
    let (o1, o2) = (
        p1.wait_with_output().unwrap(),
        p2.wait_with_output().unwrap(),
    );
    assert!(o1.status.success() && o2.status.success(), "{o1:?} {o2:?}");
    let j1: Value = serde_json::from_slice(&o1.stdout).unwrap();
    let j2: Value = serde_json::from_slice(&o2.stdout).unwrap();
    assert_eq!(j1["id"], j2["id"], "one order for one key");
    let again = cleo.ok(&args);
    assert_eq!(again["id"], j1["id"]);
    assert_eq!(
        stock_of(&cleo.ok(&["menu", "trattoria"]), "panna"),
        Some(2),
        "stock taken once"
    );
}

#[test]
fn ordering_end_to_end_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("shop", dir.path(), &[]);
    flow(&d);
}

#[test]
fn ordering_end_to_end_etcd() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("shop", dir.path(), &etcd.endpoints());
    flow(&d);
}

/// Many customers race for the last units: never oversold.
fn stock_race(d: &Daemon) {
    let mut mia = User::new(d, "mia");
    tests::open_shop(
        &mut mia,
        "bakery",
        "sku,name,price,stock\nloaf,Loaf,3.00,5\n",
        &[],
    );
    let buyers: Vec<User> = (0..12)
        .map(|i| User::new(d, &format!("buyer{i}")))
        .collect();
    let procs: Vec<_> = buyers
        .iter()
        .map(|u| {
            u.spawn(
                d,
                &[
                    "order",
                    "place",
                    "bakery",
                    "--item",
                    "loaf",
                    "--pay",
                    "pm_card_visa",
                ],
            )
        })
        .collect();
    let results: Vec<_> = procs
        .into_iter()
        .map(|p| p.wait_with_output().unwrap())
        .collect();
    let ok = results.iter().filter(|o| o.status.success()).count();
    let sold_out = results
        .iter()
        .filter(|o| o.status.code() == Some(cli::exit::CONFLICT as i32))
        .count();
    assert_eq!(ok, 5, "exactly the stock was sold: {results:?}");
    assert_eq!(sold_out, 7, "the rest were told it sold out");
    assert_eq!(stock_of(&mia.ok(&["menu", "bakery"]), "loaf"), Some(0));
}

#[test]
fn concurrent_placements_never_oversell_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("bakery", dir.path(), &[]);
    stock_race(&d);
}

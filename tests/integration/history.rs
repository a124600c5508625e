//! Months, not minutes: finished orders leave the hot store for the
//! archive after the retention window, and customers and managers read
//! them back (`dfood order list --history`, `dfood order status`,
//! `dfood report sales|items`), on the embedded store with its SQLite
//! archive and on etcd with PostgreSQL. Retention windows of a second or
//! two make it happen within the test.

use std::time::{Duration, Instant};

use cli::exit;
use serde_json::Value;
use tests::postgres::Postgres;
use tests::{Daemon, Etcd, User};

const MENU_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
pizza,Pizza,9.00,oven,,,
tiramisu,Tiramisu,6.00,cold,50,,
";

/// Short windows: orders leave a second after they finish, idempotency
/// keys after 3 s, history is compacted to 2 s ago every second.
const SHORT: &str = "[retention]
finished_after_secs = 1
idempotency_window_secs = 3
resume_window_secs = 2
sweep_every_secs = 1
compact_every_secs = 1
";

fn wait_for<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

fn place(u: &mut User, key: &str) -> String {
    u.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "pizza:2",
        "--item",
        "tiramisu",
        "--pay",
        "pm_card_visa",
        "--idempotency-key",
        key,
    ])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The whole story on a running cluster: `d` serves every request; `nodes`
/// are all of them (for the operator's bootstrap).
fn story(d: &Daemon, nodes: &[Daemon]) {
    let mut mia = User::new(d, "mia");
    let mut cleo = User::new(d, "cleo");
    let mut other = User::new(d, "otto");
    tests::open_shop(&mut mia, "trattoria", MENU_CSV, &[]);

    // Two completed orders, one rejected, one left open.
    let a = place(&mut cleo, "hist-key-a1");
    let b = place(&mut cleo, "hist-key-b1");
    let c = place(&mut cleo, "hist-key-c1");
    let open = place(&mut cleo, "hist-key-d1");
    let theirs = place(&mut other, "hist-key-o1");
    for id in [&a, &b, &theirs] {
        for step in ["accept", "start", "ready", "complete"] {
            mia.ok(&["order", step, id]);
        }
    }
    mia.ok(&["order", "reject", &c, "--reason", "out of dough"]);

    // They leave the hot store: the customer's list keeps only the open one.
    wait_for(
        "finished orders to leave the hot store",
        Duration::from_secs(30),
        || {
            let l = cleo.ok(&["order", "list"]);
            (ids(&l["orders"]) == [open.clone()]).then_some(())
        },
    );
    // ... and are in the archive, newest first, a page at a time.
    let p1 = cleo.ok(&["order", "list", "--history", "--limit", "2"]);
    assert_eq!(ids(&p1["orders"]), [c.clone(), b.clone()], "{p1}");
    let next = p1["next"].as_str().expect("a next page").to_string();
    let p2 = cleo.ok(&[
        "order",
        "list",
        "--history",
        "--limit",
        "2",
        "--cursor",
        &next,
    ]);
    assert_eq!(ids(&p2["orders"]), std::slice::from_ref(&a), "{p2}");
    assert!(p2.get("next").is_none(), "{p2}");
    // Nobody else's orders; a forged cursor is refused.
    assert_eq!(
        ids(&other.ok(&["order", "list", "--history"])["orders"]),
        [theirs]
    );
    let msg = cleo.fails(
        &["order", "list", "--history", "--cursor", "not-a-cursor"],
        exit::USAGE,
    );
    assert!(msg.contains("cursor"), "{msg}");

    // An archived order is still found, by its customer and its kitchen.
    let got = cleo.order(&a);
    assert_eq!(got["state"], "completed");
    assert_eq!(got["payment"]["state"], "captured");
    assert_eq!(mia.order(&c)["state"], "rejected");
    other.fails(&["order", "status", &a], exit::NOT_FOUND);

    // Reports, for the manager: today's sales and items.
    let sales = mia.ok(&["report", "sales", "--restaurant", "trattoria"]);
    let days = sales["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{sales}");
    let today = &days[0];
    assert_eq!(today["orders"], 4, "{sales}");
    assert_eq!(today["by_state"]["completed"], 3, "{sales}");
    assert_eq!(today["by_state"]["rejected"], 1, "{sales}");
    assert_eq!(today["revenue"], 3 * 2400, "{sales}");
    assert_eq!(today["accepted_to_ready"]["count"], 3, "{sales}");
    assert_eq!(today["placed_to_completed"]["count"], 3, "{sales}");
    let items = mia.ok(&["report", "items", "--restaurant", "trattoria"]);
    let items = items["items"].as_array().unwrap().clone();
    assert_eq!(
        items
            .iter()
            .map(|i| (i["sku"].as_str().unwrap(), i["units"].as_u64().unwrap()))
            .collect::<Vec<_>>(),
        [("pizza", 6), ("tiramisu", 3)]
    );
    // Customers get no reports; bad dates are usage errors.
    cleo.fails(
        &["report", "sales", "--restaurant", "trattoria"],
        exit::FORBIDDEN,
    );
    let msg = mia.fails(
        &[
            "report",
            "items",
            "--restaurant",
            "trattoria",
            "--from",
            "2026-02-30",
        ],
        exit::USAGE,
    );
    assert!(msg.contains("2026-02-30"), "{msg}");

    // An idempotency key answers with its order within its window (from
    // the archive by now), and makes a new order once the window is over.
    let first = place(&mut cleo, "hist-key-e1");
    mia.ok(&["order", "reject", &first, "--reason", "closing"]);
    assert_eq!(place(&mut cleo, "hist-key-e1"), first, "within the window");
    let renewed = wait_for(
        "the idempotency window to pass",
        Duration::from_secs(30),
        || {
            let again = place(&mut cleo, "hist-key-e1");
            (again != first).then_some(again)
        },
    );
    assert_ne!(renewed, first);
    assert_eq!(cleo.order(&first)["state"], "rejected", "the first is kept");

    // The store's history is compacted, and the status says so.
    let mut ops = tests::bootstrap_operator(nodes);
    let st = wait_for("a compaction", Duration::from_secs(30), || {
        let out = ops.run(["cluster", "status", "-o", "json"]);
        assert_eq!(out.code, 0, "{out:?}");
        let st = out.json();
        st["store_usage"]["compacted_revision"].as_u64().map(|_| st)
    });
    assert!(st["store_usage"]["bytes"].as_u64().unwrap() > 0, "{st}");
}

#[test]
fn history_and_reports_on_the_embedded_store_and_its_sqlite_archive() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start_with("n1", &dir.path().join("n1"), &[], SHORT);
    story(&d, std::slice::from_ref(&d));
    assert!(dir.path().join("n1/archive.db").exists());
}

#[test]
fn history_and_reports_on_etcd_with_a_postgresql_archive() {
    let pg = Postgres::start();
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let config = format!("archive_url = \"{}\"\n{SHORT}", pg.url);
    let d1 = Daemon::start_with("n1", &dir.path().join("n1"), &etcd.endpoints(), &config);
    let d2 = Daemon::start_with("n2", &dir.path().join("n2"), &etcd.endpoints(), &config);
    // Whichever node leads archives; the other reads the same database.
    let nodes = [d1, d2];
    story(&nodes[1], &nodes);
}

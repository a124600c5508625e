//! Every attack of issue 11, against a real daemon: each is refused with
//! the documented code, and nothing is written. "Nothing" is checked on
//! the store itself: the node is stopped before and after the attacks
//! and every key a request can write (all but the node's own membership,
//! leader and statistics records) is compared, value and mod revision;
//! the stock and the ticket counter are keys like the others.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use protocol::client::{Client, ClientError};
use protocol::frame::MAX_FRAME_LEN;
use protocol::io::read_frame;
use protocol::wire::{ErrorCode, ServerFrame, decode_server_frame};
use serde_json::{Value, json};
use tests::{Daemon, Proc, workspace_bin};

const R: &str = "trattoria";
const PW: &str = "long enough password";

/// Keys a node writes by itself (membership, leader, statistics, leader
/// events): they change with every start and stop.
const NODE_OWN: &[&str] = &[
    "/dfood/members/",
    "/dfood/cluster/",
    "/dfood/events/_cluster/",
];

type Snapshot = BTreeMap<String, (i64, Vec<u8>)>;

/// Stops `d` cleanly and reads every key requests can write, with its
/// mod revision and value; then starts `d` again unless `restart` is
/// false.
async fn snapshot(d: &mut Daemon, restart: bool) -> Snapshot {
    let code = tokio::task::block_in_place(|| d.proc.terminate(Duration::from_secs(20)));
    assert_eq!(code, Some(0), "dfoodd stops cleanly on SIGTERM");
    let path = d.data_dir.join("store.redb");
    let store = daemon::store::embedded::EmbeddedStore::open(&path).expect("open store.redb");
    let all = daemon::store::Store::range(&*store, "/dfood/")
        .await
        .expect("range");
    store.close().await;
    drop(store);
    if restart {
        tokio::task::block_in_place(|| d.restart());
    }
    all.kvs
        .into_iter()
        .filter(|kv| !NODE_OWN.iter().any(|p| kv.key.starts_with(p)))
        .map(|kv| (kv.key, (kv.mod_revision, kv.value)))
        .collect()
}

/// What changed between two snapshots, for the failure message.
fn diff(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in b {
        match a.get(k) {
            None => out.push(format!("written: {k}")),
            Some(old) if old != v => out.push(format!("changed: {k}")),
            _ => {}
        }
    }
    for k in a.keys() {
        if !b.contains_key(k) {
            out.push(format!("deleted: {k}"));
        }
    }
    out
}

async fn account(c: &Client, name: &str) -> String {
    let _: Value = c
        .call(
            "auth.signup",
            None,
            &json!({"username": name, "password": PW}),
        )
        .await
        .unwrap_or_else(|e| panic!("signup {name}: {e}"));
    let t: Value = c
        .call(
            "auth.token",
            None,
            &json!({"grant_type": "password", "username": name, "password": PW}),
        )
        .await
        .unwrap_or_else(|e| panic!("login {name}: {e}"));
    t["access_token"].as_str().unwrap().to_string()
}

async fn ok(c: &Client, token: &str, ty: &str, body: Value) -> Value {
    c.call::<Value, Value>(ty, Some(token), &body)
        .await
        .unwrap_or_else(|e| panic!("{ty}: {e}"))
}

/// Expects a refusal with `code`; returns its message.
async fn refused(
    c: &Client,
    token: Option<&str>,
    ty: &str,
    body: &Value,
    code: ErrorCode,
) -> String {
    match c.call::<Value, Value>(ty, token, body).await {
        Err(ClientError::Server(e)) if e.code == code => e.message,
        other => {
            let shown: String = body.to_string().chars().take(300).collect();
            panic!("{ty} {shown}: expected {code}, got {other:?}")
        }
    }
}

fn place(lines: Value, pay: &str, key: &str) -> Value {
    json!({"restaurant": R, "lines": lines, "payment_method": pay, "idempotency_key": key})
}

fn menu() -> Value {
    json!([
        {"sku": "salad", "name": "Salad", "price": 800, "station": "cold", "stock": 20,
         "modifiers": [{"code": "half", "name": "Half", "price": -300}]},
        {"sku": "pizza", "name": "Pizza", "price": 950, "station": "oven",
         "modifiers": [{"code": "x", "name": "Extra", "price": 150},
                       {"code": "extra_cheese", "name": "Extra cheese", "price": 150}]},
        {"sku": "caviar", "name": "Caviar", "price": 100000, "station": "cold"}
    ])
}

/// A raw QUIC connection that speaks dfood/1 but sends any bytes.
async fn raw(d: &Daemon) -> (quinn::Endpoint, quinn::Connection) {
    let opts = d.connect_options();
    let cfg = protocol::tls::client_config(&opts.ca_pem).unwrap();
    let mut ep = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    ep.set_default_client_config(cfg);
    let conn = ep.connect(d.addr, "dfoodd").unwrap().await.unwrap();
    (ep, conn)
}

/// Sends one payload as a frame and returns the error code answered.
async fn raw_code(conn: &quinn::Connection, payload: &[u8]) -> ErrorCode {
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&protocol::frame::encode(payload, MAX_FRAME_LEN).unwrap())
        .await
        .unwrap();
    send.finish().unwrap();
    let answer = tokio::time::timeout(
        Duration::from_secs(15),
        read_frame(&mut recv, MAX_FRAME_LEN),
    )
    .await
    .expect("an answer")
    .expect("a frame")
    .expect("not the end of the stream");
    match decode_server_frame(&answer).unwrap() {
        ServerFrame::Error { error, .. } => error.code,
        other => panic!(
            "{}: expected an error, got {other:?}",
            String::from_utf8_lossy(payload)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = tokio::task::block_in_place(|| {
        Daemon::start_with(
            "abuse",
            dir.path(),
            &[],
            "[limits]\nrestaurants_per_account = 2\nmenu_changes_per_minute = 3\n",
        )
    });
    let c = d.client().await;
    let mia = account(&c, "mia").await; // manager
    let kai = account(&c, "kai").await; // kitchen
    let cleo = account(&c, "cleo").await; // a customer
    let eve = account(&c, "eve").await; // the attacker
    ok(
        &c,
        &mia,
        "restaurant.create",
        json!({"id": R, "name": "Trattoria"}),
    )
    .await;
    ok(
        &c,
        &mia,
        "restaurant.create",
        json!({"id": "annex", "name": "Annex"}),
    )
    .await;
    // Menu changes 1 to 3 of this minute: the quota is used up.
    ok(
        &c,
        &mia,
        "menu.import",
        json!({"restaurant": R, "items": menu()}),
    )
    .await;
    ok(
        &c,
        &mia,
        "menu.set",
        json!({"restaurant": R, "sku": "pizza", "price": 960}),
    )
    .await;
    ok(
        &c,
        &mia,
        "menu.set",
        json!({"restaurant": R, "sku": "pizza", "price": 950}),
    )
    .await;
    ok(
        &c,
        &mia,
        "staff.add",
        json!({"restaurant": R, "username": "kai", "role": "kitchen"}),
    )
    .await;
    ok(&c, &mia, "restaurant.open", json!({"restaurant": R})).await;
    let first = ok(
        &c,
        &cleo,
        "order.place",
        place(
            json!([{"sku": "salad", "qty": 1}]),
            "pm_card_visa",
            "cleo-order-1",
        ),
    )
    .await;
    assert_eq!(first["state"], "placed");
    let order = first["id"].as_str().unwrap().to_string();
    drop(c);

    let before = snapshot(&mut d, true).await;
    assert!(before.contains_key("/dfood/stock/trattoria"), "{before:?}");
    let c = d.client().await;
    let bad = ErrorCode::BadRequest;

    // Quotas first (the minute of menu changes started before the
    // snapshot): menu changes per minute, restaurants per account.
    let m = refused(
        &c,
        Some(&mia),
        "menu.set",
        &json!({"restaurant": R, "sku": "pizza", "price": 970}),
        ErrorCode::Conflict,
    )
    .await;
    assert!(m.contains("try again in"), "{m}");
    let m = refused(
        &c,
        Some(&mia),
        "restaurant.create",
        &json!({"id": "third", "name": "Third"}),
        ErrorCode::Conflict,
    )
    .await;
    assert!(m.contains("restaurants"), "{m}");
    // 1. A customer sets their own price.
    let m = refused(
        &c,
        Some(&eve),
        "order.place",
        &place(
            json!([{"sku": "salad", "qty": 1, "modifiers": ["half", "half", "half", "half", "half", "half"]},
                   {"sku": "pizza", "qty": 2}]),
            "pm_card_visa",
            "eve-price-0001",
        ),
        bad,
    )
    .await;
    assert!(m.contains("more than once"), "{m}");
    for (code, n) in [("x", 200_000), ("extra_cheese", 60_000)] {
        // (60,000 `extra_cheese` was the order that blinded the board.)
        let body = place(
            json!([{"sku": "pizza", "qty": 1, "modifiers": vec![code; n]}]),
            "pm_card_visa",
            &format!("eve-repeat-{code}"),
        );
        assert!(
            body.to_string().len() < MAX_FRAME_LEN,
            "the attack fits in a frame"
        );
        let m = refused(&c, Some(&eve), "order.place", &body, bad).await;
        assert!(m.contains("more than once"), "{m}");
    }
    let m = refused(
        &c,
        Some(&eve),
        "order.place",
        &place(
            json!([{"sku": "caviar", "qty": 99}]),
            "pm_card_visa",
            "eve-line-0001",
        ),
        bad,
    )
    .await;
    assert!(m.contains("a line may cost"), "{m}");
    let m = refused(
        &c,
        Some(&eve),
        "order.place",
        &place(
            json!([{"sku": "caviar", "qty": 5}, {"sku": "caviar", "qty": 5}, {"sku": "caviar", "qty": 5}]),
            "pm_card_visa",
            "eve-total-0001",
        ),
        bad,
    )
    .await;
    assert!(m.contains("an order may cost"), "{m}");
    // The manager cannot make a price go below zero either.
    let m = refused(
        &c,
        Some(&mia),
        "menu.import",
        &json!({"restaurant": R, "items": [{"sku": "cheap", "name": "Cheap", "price": 100,
            "modifiers": [{"code": "minus", "name": "Minus", "price": -300}]}]}),
        bad,
    )
    .await;
    assert!(m.contains("below zero"), "{m}");
    let m = refused(
        &c,
        Some(&mia),
        "menu.set",
        &json!({"restaurant": R, "sku": "salad", "price": 200}),
        bad,
    )
    .await;
    assert!(m.contains("below zero"), "{m}");

    // 2. Card numbers: refused before anything is stored, never echoed.
    for pan in [
        "4242424242424242",
        "4111.1111.1111.1111",
        "4111 1111 1111 1111",
        "pm_5555555555554444",
    ] {
        let m = refused(
            &c,
            Some(&eve),
            "order.place",
            &place(json!([{"sku": "salad", "qty": 1}]), pan, "eve-card-0001"),
            bad,
        )
        .await;
        assert!(m.contains("never a card number"), "{m}");
        assert!(
            !m.contains("4242") && !m.contains("1111") && !m.contains("4444"),
            "{m}"
        );
    }
    let mut with_note = place(
        json!([{"sku": "salad", "qty": 1}]),
        "pm_card_visa",
        "eve-note-0001",
    );
    with_note["note"] = json!("my card: 4242 4242 4242 4242");
    let m = refused(&c, Some(&eve), "order.place", &with_note, bad).await;
    assert!(!m.contains("4242"), "{m}");

    // 3. Terminal escapes in names, notes and reasons.
    let osc = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J";
    for (who, ty, body) in [
        (
            &eve,
            "restaurant.create",
            json!({"id": "evil", "name": osc}),
        ),
        (
            &mia,
            "restaurant.set",
            json!({"restaurant": R, "name": "Nice\u{9b}2J"}),
        ),
        (
            &mia,
            "menu.import",
            json!({"restaurant": R, "items": [{"sku": "evil", "name": osc, "price": 100}]}),
        ),
        (
            &mia,
            "menu.import",
            json!({"restaurant": R, "items": [{"sku": "evil", "name": "Evil", "price": 100,
            "modifiers": [{"code": "m", "name": "C1 \u{9b}31m", "price": 0}]}]}),
        ),
        (
            &mia,
            "menu.set",
            json!({"restaurant": R, "sku": "pizza", "station": "oven\u{202e}"}),
        ),
        (
            &kai,
            "order.reject",
            json!({"order": order, "reason": "\u{1b}[31mgone"}),
        ),
    ] {
        let m = refused(&c, Some(who), ty, &body, bad).await;
        assert!(m.contains("control") && !m.contains("pwned"), "{ty}: {m}");
    }
    let mut belled = place(
        json!([{"sku": "salad", "qty": 1}]),
        "pm_card_visa",
        "eve-bell-0001",
    );
    belled["note"] = json!("ring\u{7}\u{1b}[2J twice");
    refused(&c, Some(&eve), "order.place", &belled, bad).await;

    // 4. Sizes: a menu too large for a frame's event (items within the
    // count, 10 long modifiers each) is refused; orders are bounded
    // (above: a modifier once per line, 50 lines of 99).
    let long = "n".repeat(100);
    let big: Vec<Value> = (0..300)
        .map(|i| {
            json!({"sku": format!("big-{i}"), "name": long, "price": 100, "allergens": "a".repeat(200),
                "modifiers": (0..10).map(|k| json!({"code": format!("modifier-number-{k:0>20}"), "name": long, "price": 0})).collect::<Vec<_>>()})
        })
        .collect();
    let body = json!({"restaurant": R, "items": big});
    assert!(body.to_string().len() < MAX_FRAME_LEN);
    let m = refused(&c, Some(&mia), "menu.import", &body, bad).await;
    assert!(m.contains("bytes"), "{m}");
    let lines: Vec<Value> = (0..51).map(|_| json!({"sku": "pizza", "qty": 1})).collect();
    refused(
        &c,
        Some(&eve),
        "order.place",
        &place(json!(lines), "pm_card_visa", "eve-lines-0001"),
        bad,
    )
    .await;

    // 5. An import that changes nothing writes nothing (and is not refused:
    // it counts for nothing). The store is compared below.
    let current = ok(&c, &mia, "menu.get", json!({"restaurant": R})).await;
    for _ in 0..5 {
        let again = ok(
            &c,
            &mia,
            "menu.import",
            json!({"restaurant": R, "items": current["items"], "replace": true}),
        )
        .await;
        assert_eq!(again, current);
    }

    // 6. Wire: only JSON objects are requests, only objects are bodies.
    let (_ep, conn) = raw(&d).await;
    for payload in [
        &br#"["health","id"]"#[..],
        br#""health""#,
        br#"{"type":7}"#,
        br#"{"type":"health","id":7}"#,
        br#"{"type":"restaurant.list","token":["x"]}"#,
    ] {
        assert_eq!(
            raw_code(&conn, payload).await,
            ErrorCode::ProtocolError,
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    assert_eq!(
        raw_code(&conn, br#"{"type":"restaurant.show","body":["trattoria"]}"#).await,
        bad
    );
    assert_eq!(raw_code(&conn, br#"{"type":"health","body":7}"#).await, bad);
    for (ty, body) in [
        ("menu.import", json!([R, menu()])),
        (
            "order.place",
            json!([R, [{"sku": "salad", "qty": 1}], "pm_card_visa", "eve-array-0001"]),
        ),
        ("restaurant.list", json!(["x"])),
    ] {
        let who = if ty == "menu.import" { &mia } else { &eve };
        refused(&c, Some(who), ty, &body, bad).await;
    }

    // Nothing above was written: no order, no event, no ticket, the stock
    // as it was, the menu and the quotas as they were.
    let menu_now = ok(&c, &eve, "menu.get", json!({"restaurant": R})).await;
    assert_eq!(menu_now["items"][0]["stock"], 19);
    let second = format!("{R}-2");
    refused(
        &c,
        Some(&mia),
        "order.get",
        &json!({"order": second}),
        ErrorCode::NotFound,
    )
    .await;
    drop(c);
    let after = snapshot(&mut d, false).await;
    let changed = diff(&before, &after);
    assert!(changed.is_empty(), "the attacks wrote: {changed:#?}");
    let log = d.proc.log_text();
    for pan in [
        "4242424242424242",
        "4111.1111",
        "4111 1111",
        "5555555555554444",
        "4242 4242",
    ] {
        assert!(!log.contains(pan), "the log holds {pan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_that_never_confirm_cannot_hoard_stock() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("hoard", dir.path(), &[]));
    let c = d.client().await;
    let mia = account(&c, "mia").await;
    let eve = account(&c, "eve").await;
    let cleo = account(&c, "cleo").await;
    ok(
        &c,
        &mia,
        "restaurant.create",
        json!({"id": R, "name": "Trattoria"}),
    )
    .await;
    ok(
        &c,
        &mia,
        "menu.import",
        json!({"restaurant": R, "items": [{"sku": "tiramisu", "name": "Tiramisu", "price": 600, "stock": 10}]}),
    )
    .await;
    ok(&c, &mia, "restaurant.open", json!({"restaurant": R})).await;
    let stock = |m: &Value| m["items"][0]["stock"].as_i64().unwrap();

    // pm_card_timeout needs no card and holds the stock until the
    // authorisation deadline: three such orders at once, not four.
    for i in 1..=3 {
        let o = ok(
            &c,
            &eve,
            "order.place",
            place(
                json!([{"sku": "tiramisu", "qty": 3}]),
                "pm_card_timeout",
                &format!("eve-hoard-{i:04}"),
            ),
        )
        .await;
        assert_eq!(o["state"], "pending_payment", "{o}");
    }
    assert_eq!(
        stock(&ok(&c, &eve, "menu.get", json!({"restaurant": R})).await),
        1
    );
    let m = refused(
        &c,
        Some(&eve),
        "order.place",
        &place(
            json!([{"sku": "tiramisu", "qty": 1}]),
            "pm_card_timeout",
            "eve-hoard-0004",
        ),
        ErrorCode::Conflict,
    )
    .await;
    assert!(m.contains("waiting for their payment"), "{m}");
    // Refused before anything was written: the stock is there, and the
    // ticket number was not used (the next order takes it).
    assert_eq!(
        stock(&ok(&c, &eve, "menu.get", json!({"restaurant": R})).await),
        1
    );
    let o = ok(
        &c,
        &cleo,
        "order.place",
        place(
            json!([{"sku": "tiramisu", "qty": 1}]),
            "pm_card_visa",
            "cleo-order-0001",
        ),
    )
    .await;
    assert_eq!(o["id"], format!("{R}-4"));

    // At the deadline the three fail, their stock comes back, and the
    // customer may try again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = stock(&ok(&c, &eve, "menu.get", json!({"restaurant": R})).await);
        if s == 9 {
            break;
        }
        assert!(Instant::now() < deadline, "the stock never came back: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for i in 1..=3 {
        let o = ok(&c, &eve, "order.get", json!({"order": format!("{R}-{i}")})).await;
        assert_eq!(o["state"], "payment_failed", "{o}");
    }
    let o = ok(
        &c,
        &eve,
        "order.place",
        place(
            json!([{"sku": "tiramisu", "qty": 1}]),
            "pm_card_timeout",
            "eve-hoard-0005",
        ),
    )
    .await;
    assert_eq!(o["state"], "pending_payment");
}

/// Data stored before the text rules (written here straight into the
/// store) is printed by `dfood` as visible, harmless text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfood_prints_escape_sequences_as_harmless_text() {
    use daemon::store::{Store, Txn, TxnOp};
    let dir = tempfile::tempdir().unwrap();
    let mut d = tokio::task::block_in_place(|| Daemon::start("escapes", dir.path(), &[]));
    let (mut mia, mut cleo) = tokio::task::block_in_place(|| {
        let mut mia = tests::User::new(&d, "mia");
        tests::open_shop(
            &mut mia,
            R,
            "sku,name,price,station,stock,allergens,modifiers\nsoup,Soup,5.00,cold,,,\n",
            &[],
        );
        let mut cleo = tests::User::new(&d, "cleo");
        cleo.ok(&[
            "order",
            "place",
            R,
            "--item",
            "soup",
            "--note",
            "ring",
            "--pay",
            "pm_card_visa",
        ]);
        (mia, cleo)
    });
    let name = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}";
    let note = "ring\u{7}\u{1b}[2J twice\u{85}";
    let code = tokio::task::block_in_place(|| d.proc.terminate(Duration::from_secs(20)));
    assert_eq!(code, Some(0));
    {
        let store =
            daemon::store::embedded::EmbeddedStore::open(&d.data_dir.join("store.redb")).unwrap();
        let mut ops = Vec::new();
        for (key, field, text) in [
            ("/dfood/restaurants/trattoria", "name", name),
            ("/dfood/orders/trattoria/trattoria-1", "note", note),
        ] {
            let kv = store.get(key).await.unwrap().expect(key);
            let mut v: Value = serde_json::from_slice(&kv.value).unwrap();
            v[field] = json!(text);
            ops.push(TxnOp::put(key, serde_json::to_vec(&v).unwrap()));
        }
        assert!(store.txn(Txn::new().and_then(ops)).await.unwrap().succeeded);
        store.close().await;
    }
    tokio::task::block_in_place(|| d.restart());
    let harmful = |s: &str| {
        s.chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
    };
    tokio::task::block_in_place(|| {
        let list = mia.cli.run(["restaurant", "list"]);
        assert_eq!(list.code, 0, "{list:?}");
        assert!(!harmful(&list.stdout), "{:?}", list.stdout);
        assert!(
            list.stdout
                .contains("Evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u{202e}"),
            "{}",
            list.stdout
        );
        let status = cleo.cli.run(["order", "status", "trattoria-1"]);
        assert_eq!(status.code, 0, "{status:?}");
        assert!(!harmful(&status.stdout), "{:?}", status.stdout);
        assert!(
            status.stdout.contains("ring\\x07\\x1b[2J twice\\x85"),
            "{}",
            status.stdout
        );
        // A card number given to `dfood` never leaves the machine.
        let out = cleo.cli.run([
            "order",
            "place",
            R,
            "--item",
            "soup",
            "--pay",
            "4111 1111 1111 1111",
        ]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("never a card number"), "{out:?}");
        assert!(!out.stderr.contains("1111"), "{out:?}");
        // JSON stays the same document, harmless on a terminal too.
        let json = mia.cli.run(["restaurant", "list", "-o", "json"]);
        assert!(
            !harmful(&json.stdout.replace('\n', "")),
            "{:?}",
            json.stdout
        );
        assert_eq!(json.json()["restaurants"][0]["name"], name);
        let json = cleo
            .cli
            .run(["order", "status", "trattoria-1", "-o", "json"]);
        assert_eq!(json.json()["note"], note);
        assert!(!harmful(&json.stdout), "{:?}", json.stdout);
    });
}

/// Which gateway takes the money is said at startup, in `health` and by
/// `dfood status`; production refuses a sandbox nobody chose.
#[test]
fn the_payment_gateway_is_announced_and_production_needs_a_real_choice() {
    let dir = tempfile::tempdir().unwrap();
    // production = true and no [payments]: refused at startup.
    let data = dir.path().join("prod");
    std::fs::create_dir_all(&data).unwrap();
    let config = data.join("prod.toml");
    std::fs::write(&config, "production = true\n").unwrap();
    let mut cmd = std::process::Command::new(workspace_bin("dfoodd"));
    cmd.arg("--node")
        .arg("prod")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", tests::free_port()))
        .arg("--data-dir")
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .env_remove("DFOODD_CONFIG");
    let mut p = Proc::spawn("prod", cmd, &data.join("prod.log"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(c) = p.exit_code() {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "dfoodd kept running: {}",
            p.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(code, 0);
    let log = p.log_text();
    assert!(
        log.contains("payments.gateway") && log.contains("production"),
        "{log}"
    );

    // Named explicitly, the sandbox is allowed, and said loudly.
    let d = Daemon::start_with(
        "named",
        &dir.path().join("named"),
        &[],
        "production = true\n[payments]\ngateway = \"sandbox\"\n",
    );
    assert!(
        d.proc.log_text().contains("SANDBOX gateway"),
        "{}",
        d.proc.log_text()
    );
    let mut cli = d.dfood();
    let out = cli.run(["status", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["payments"], "sandbox");
    let out = cli.run(["status"]);
    assert!(
        out.stdout.contains("sandbox (test payment methods only"),
        "{}",
        out.stdout
    );
}

/// Orders too many or too large for one answer (they once made
/// `order.list` fail with "answer is 2032113 bytes") come in pages, each
/// within a frame, every order once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_list_comes_in_pages_that_fit_in_a_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("pages", dir.path(), &[]));
    let c = d.client().await;
    let mia = account(&c, "mia").await;
    let cleo = account(&c, "cleo").await;
    ok(
        &c,
        &mia,
        "restaurant.create",
        json!({"id": R, "name": "Trattoria"}),
    )
    .await;
    let long = |head: String| format!("{head:é<100}");
    let items: Vec<Value> = (0..50)
        .map(|i| {
            json!({"sku": format!("item-{i:02}"), "name": long(format!("Dish {i} ")), "price": 1,
                "allergens": "a".repeat(200),
                "modifiers": (0..20).map(|m| json!({"code": format!("m{m:02}"), "name": long(format!("Modifier {m} ")), "price": 0})).collect::<Vec<_>>()})
        })
        .collect();
    ok(
        &c,
        &mia,
        "menu.import",
        json!({"restaurant": R, "items": items}),
    )
    .await;
    ok(&c, &mia, "restaurant.open", json!({"restaurant": R})).await;
    let mods: Vec<String> = (0..20).map(|m| format!("m{m:02}")).collect();
    let lines: Vec<Value> = (0..50)
        .map(|i| json!({"sku": format!("item-{i:02}"), "qty": 99, "modifiers": mods}))
        .collect();
    let mut placed = Vec::new();
    for k in 0..6 {
        let o = ok(
            &c,
            &cleo,
            "order.place",
            place(json!(lines), "pm_card_visa", &format!("cleo-large-{k:04}")),
        )
        .await;
        placed.push(o["id"].as_str().unwrap().to_string());
    }
    let one = serde_json::to_vec(&ok(&c, &cleo, "order.get", json!({"order": placed[0]})).await)
        .unwrap()
        .len();
    assert!(
        6 * one > MAX_FRAME_LEN,
        "all six together would not fit ({one} bytes each)"
    );
    for (who, body) in [(&mia, json!({"restaurant": R})), (&cleo, json!({}))] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut b = body.clone();
            if let Some(cur) = &cursor {
                b["cursor"] = json!(cur);
            }
            let page = ok(&c, who, "order.list", b).await;
            pages += 1;
            let orders = page["orders"].as_array().unwrap();
            assert!(!orders.is_empty());
            seen.extend(orders.iter().map(|o| o["id"].as_str().unwrap().to_string()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert!(pages > 1, "{pages} page(s)");
        assert_eq!(seen, placed, "every order once, in order");
    }
    // A page size, and a cursor this server never gave out.
    let two = ok(&c, &mia, "order.list", json!({"restaurant": R, "limit": 2})).await;
    assert_eq!(two["orders"].as_array().unwrap().len(), 2);
    assert!(two["next_cursor"].is_string());
    for body in [
        json!({"restaurant": R, "limit": 0}),
        json!({"restaurant": R, "limit": 501}),
        json!({"restaurant": R, "cursor": "not-a-cursor"}),
    ] {
        refused(&c, Some(&mia), "order.list", &body, ErrorCode::BadRequest).await;
    }
}

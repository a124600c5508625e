//! The order archive's conformance suite: the same checks against SQLite
//! (a file in a temp dir) and a real PostgreSQL started by the harness.

use daemon::archive::{Archive, Cursor, Timeline, parse_day};
use protocol::messages::orders::{Order, OrderLine, OrderState, Payment, PaymentState};
use tests::postgres::Postgres;

const DAY: u64 = 86_400_000;

fn order(n: u64, customer: &str, state: OrderState, created_at: u64) -> Order {
    let lines = vec![
        OrderLine {
            ready_at: None,
            sku: "pizza".into(),
            name: "Pizza".into(),
            qty: 2,
            unit_price: 900,
            modifiers: vec![],
            station: "oven".into(),
            allergens: String::new(),
        },
        OrderLine {
            ready_at: None,
            sku: "water".into(),
            name: "Water".into(),
            qty: 1,
            unit_price: 200,
            modifiers: vec![],
            station: "bar".into(),
            allergens: String::new(),
        },
    ];
    let total = 2000;
    let completed = state == OrderState::Completed;
    Order {
        completed_at: None,
        service: None,
        accepted_at: None,
        ready_at: None,
        id: format!("trattoria-{n}"),
        restaurant: "trattoria".into(),
        ticket: n,
        customer_id: customer.into(),
        customer: customer.into(),
        lines,
        note: String::new(),
        total,
        currency: "EUR".into(),
        state,
        reason: None,
        rush: false,
        payment: Payment {
            state: if completed {
                PaymentState::Captured
            } else {
                PaymentState::Voided
            },
            method: "pm_card_visa".into(),
            gateway: "sandbox".into(),
            gateway_ref: Some(format!("pi_{n}")),
            last4: Some("4242".into()),
            amount: total,
            captured: if completed { total } else { 0 },
            refunded: 0,
            error: None,
        },
        created_at,
        updated_at: created_at + 60_000,
        version: 5,
        revision: 0,
    }
}

async fn suite(a: &Archive) {
    let day1 = parse_day("2026-11-02").unwrap();
    let day2 = day1 + DAY;
    // Customer c1: five orders over two days; c2: one.
    let mut mine = Vec::new();
    for (n, created) in [
        (1, day1 + 1_000),
        (2, day1 + 2_000),
        (3, day1 + 3_000),
        (4, day2 + 1_000),
        (5, day2 + 2_000),
    ] {
        let state = if n == 3 {
            OrderState::Rejected
        } else {
            OrderState::Completed
        };
        let o = order(n, "c1", state, created);
        let t = Timeline {
            accepted_at: Some(created + 10_000),
            ready_at: (state == OrderState::Completed).then_some(created + 10_000 + n * 60_000),
            finished_at: created + 30 * 60_000,
        };
        a.upsert(&o, t, day2 + DAY).await.unwrap();
        mine.push(o);
    }
    let theirs = order(6, "c2", OrderState::Completed, day1 + 5_000);
    a.upsert(
        &theirs,
        Timeline {
            accepted_at: Some(day1 + 6_000),
            ready_at: Some(day1 + 66_000),
            finished_at: day1 + 600_000,
        },
        day2,
    )
    .await
    .unwrap();
    assert_eq!(a.count().await.unwrap(), 6);

    // Round trip, and an upsert again (a refund) keeps one row.
    assert_eq!(a.get("trattoria-1").await.unwrap().as_ref(), Some(&mine[0]));
    assert_eq!(a.get("trattoria-99").await.unwrap(), None);
    let mut refunded = mine[0].clone();
    refunded.payment.state = PaymentState::Refunded;
    refunded.payment.refunded = 500;
    a.upsert(
        &refunded,
        Timeline {
            accepted_at: Some(day1 + 11_000),
            ready_at: Some(day1 + 71_000),
            finished_at: day1 + 1_000 + 30 * 60_000,
        },
        day2 + DAY,
    )
    .await
    .unwrap();
    assert_eq!(a.count().await.unwrap(), 6);
    assert_eq!(a.get("trattoria-1").await.unwrap().unwrap(), refunded);

    // History: c1's, newest first, two per page, nothing lost or repeated.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..10 {
        let (page, next) = a.history("c1", cursor.as_ref(), 2).await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|o| o.id.clone()));
        // Cursors go over the wire as strings.
        cursor = next.map(|c| Cursor::decode(&c.encode()).unwrap());
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "trattoria-5",
            "trattoria-4",
            "trattoria-3",
            "trattoria-2",
            "trattoria-1"
        ]
    );
    let (c2, next) = a.history("c2", None, 20).await.unwrap();
    assert_eq!((c2.len(), next), (1, None));
    assert!(a.history("nobody", None, 20).await.unwrap().0.is_empty());

    // Sales by day of placement.
    let days = a.sales("trattoria", day1, day2 + DAY).await.unwrap();
    assert_eq!(days.len(), 2, "{days:?}");
    let d1 = &days[0];
    assert_eq!(d1.day, "2026-11-02");
    assert_eq!(d1.orders, 4);
    assert_eq!(d1.by_state["completed"], 3);
    assert_eq!(d1.by_state["rejected"], 1);
    assert_eq!(d1.revenue, 3 * 2000);
    assert_eq!(d1.refunds, 500);
    let r = d1.accepted_to_ready.unwrap();
    // trattoria-1 60 s, -2 120 s, -6 60 s (the rejected one was never ready).
    assert_eq!((r.count, r.avg_ms, r.p90_ms), (3, 80_000, 120_000));
    let c = d1.placed_to_completed.unwrap();
    assert_eq!(c.count, 3);
    let d2 = &days[1];
    assert_eq!(
        (d2.day.as_str(), d2.orders, d2.revenue),
        ("2026-11-03", 2, 4000)
    );
    // A window that ends before day 2 sees only day 1.
    assert_eq!(a.sales("trattoria", day1, day2).await.unwrap().len(), 1);
    assert!(
        a.sales("elsewhere", day1, day2 + DAY)
            .await
            .unwrap()
            .is_empty()
    );

    // Items over completed orders only (5 of the 6).
    let items = a.items("trattoria", day1, day2 + DAY).await.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(
        (items[0].sku.as_str(), items[0].units, items[0].revenue),
        ("pizza", 10, 9000)
    );
    assert_eq!(
        (items[1].sku.as_str(), items[1].units, items[1].revenue),
        ("water", 5, 1000)
    );
}

#[tokio::test]
async fn the_archive_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open_in(dir.path()).await.unwrap();
    assert_eq!(a.kind(), "sqlite");
    suite(&a).await;
    a.close().await;
    // Reopened (the schema is there already), the data is too.
    let a = Archive::open_in(dir.path()).await.unwrap();
    assert_eq!(a.count().await.unwrap(), 6);
}

#[tokio::test]
async fn the_archive_on_postgresql() {
    let pg = Postgres::start();
    let a = Archive::open(&pg.url).await.unwrap();
    assert_eq!(a.kind(), "postgres");
    suite(&a).await;
    a.close().await;
    let a = Archive::open(&pg.url).await.unwrap();
    assert_eq!(a.count().await.unwrap(), 6);
}

#[tokio::test]
async fn a_bad_archive_url_is_refused_clearly() {
    let e = Archive::open("mysql://x/y").await.unwrap_err().to_string();
    assert!(e.contains("sqlite: or postgres:"), "{e}");
    // Nobody listens there: unavailable, and the password is not shown.
    let port = tests::free_port();
    let e = Archive::open(&format!("postgres://dfood:s3cret@127.0.0.1:{port}/archive"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unavailable") && !e.contains("s3cret"), "{e}");
}

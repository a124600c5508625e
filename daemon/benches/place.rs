//! Hot pure code of placement: request validation and pricing against the
//! menu and stock (run inside every placement attempt, retries included).
//! `cargo bench -p daemon --bench place`.

use std::collections::BTreeMap;

use daemon::catalog::{MenuDoc, StockDoc};
use daemon::orders::place::{price_lines, validate};
use divan::{Bencher, black_box};
use protocol::messages::catalog::{MenuItem, Modifier, Restaurant};
use protocol::messages::orders::{LineRequest, PlaceOrder};

fn main() {
    divan::main();
}

fn restaurant() -> Restaurant {
    Restaurant {
        id: "trattoria".into(),
        name: "Trattoria Roma".into(),
        currency: "EUR".into(),
        open: true,
        acceptance_timeout_secs: 300,
        created_at: 1_700_000_000_000,
        max_line_total: None,
        max_order_total: None,
    }
}

/// A menu of `n` items; every third counts stock, every item has two
/// modifiers.
fn menu(n: usize) -> (MenuDoc, StockDoc) {
    let mut units = BTreeMap::new();
    let items = (0..n)
        .map(|i| {
            let sku = format!("dish-{i}");
            if i % 3 == 0 {
                units.insert(sku.clone(), 1_000_000);
            }
            MenuItem {
                sku,
                name: format!("Dish number {i}"),
                price: 500 + i64::try_from(i).expect("small"),
                station: "grill".into(),
                modifiers: vec![
                    Modifier {
                        code: "extra_cheese".into(),
                        name: "Extra cheese".into(),
                        price: 150,
                    },
                    Modifier {
                        code: "no_basil".into(),
                        name: "No basil".into(),
                        price: 0,
                    },
                ],
                available: true,
                stock: None,
                allergens: "gluten; milk".into(),
            }
        })
        .collect();
    (MenuDoc { items }, StockDoc { units })
}

/// `k` lines spread over a menu of `n` items (the last ones: the worst
/// case of the linear sku lookup).
fn lines(n: usize, k: usize) -> Vec<LineRequest> {
    (0..k)
        .map(|j| {
            let i = n - 1 - (j * 7) % n;
            LineRequest {
                sku: format!("dish-{i}"),
                qty: 1 + (j % 3) as u32,
                modifiers: vec!["extra_cheese".into()],
                expected_unit_price: Some(500 + i64::try_from(i).expect("small") + 150),
            }
        })
        .collect()
}

#[divan::bench(args = [1, 10, 50])]
fn validate_request(bencher: Bencher, k: usize) {
    let req = PlaceOrder {
        service: None,
        restaurant: "trattoria".into(),
        lines: lines(100, k),
        note: "no onions please, and ring twice".into(),
        payment_method: "pm_card_visa".into(),
        idempotency_key: "cli-0123456789abcdef0123456789abcdef-18f2a9c4d1e".into(),
    };
    bencher.bench(|| validate(black_box(&req)));
}

/// (menu items, order lines)
#[divan::bench(args = [(12, 3), (100, 10), (1000, 10), (5000, 50)])]
fn price(bencher: Bencher, (n, k): (usize, usize)) {
    let r = restaurant();
    let (m, s) = menu(n);
    let l = lines(n, k);
    bencher.bench(|| {
        price_lines(
            black_box(&r),
            black_box(&m),
            black_box(&s),
            black_box(&l),
            (i64::MAX, i64::MAX),
        )
        .expect("priced")
    });
}

/// The menu and stock documents parsed from JSON, as every placement
/// attempt reads them from the store before pricing.
#[divan::bench(args = [12, 100, 1000])]
fn parse_menu_and_price(bencher: Bencher, n: usize) {
    let r = restaurant();
    let (m, s) = menu(n);
    let (mj, sj) = (
        serde_json::to_vec(&m).expect("menu"),
        serde_json::to_vec(&s).expect("stock"),
    );
    let l = lines(n, 3);
    bencher.bench(|| {
        let m: MenuDoc = serde_json::from_slice(black_box(&mj)).expect("menu");
        let s: StockDoc = serde_json::from_slice(black_box(&sj)).expect("stock");
        price_lines(&r, &m, &s, &l, (i64::MAX, i64::MAX)).expect("priced")
    });
}

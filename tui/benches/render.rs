//! Frame render time of the kitchen board at 100, 1,000 and 5,000 open
//! tickets (a 200×60 terminal, expo view, cards in lanes), plus what a key
//! that refilters (the station filter) and a live order event cost at
//! those sizes.
//!
//! `cargo bench -p tui --bench render`

use protocol::messages::Event;
use protocol::messages::catalog::{Menu, MenuItem};
use protocol::messages::orders::{Order, OrderLine, OrderState, Payment, PaymentState};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use tui::board::model::{Conn, Incoming, Key};
use tui::board::view::BoardView;
use tui::board::{Board, Settings};

const T0: u64 = 1_700_000_000_000;
const SIZES: &[usize] = &[100, 1_000, 5_000];

fn main() {
    divan::main();
}

fn order(ticket: u64, version: u64) -> Order {
    let state = [
        OrderState::Placed,
        OrderState::Accepted,
        OrderState::Preparing,
        OrderState::Ready,
    ][(ticket % 4) as usize];
    let station = ["oven", "cold", "fry"][(ticket % 3) as usize];
    Order {
        accepted_at: None,
        ready_at: None,
        completed_at: None,
        service: None,
        id: format!("trattoria-{ticket}"),
        restaurant: "trattoria".into(),
        ticket,
        customer_id: format!("usr_{ticket}"),
        customer: format!("guest{ticket}"),
        lines: vec![
            OrderLine {
                ready_at: None,
                sku: "margherita".into(),
                name: "Margherita".into(),
                qty: 2,
                unit_price: 950,
                modifiers: vec!["Extra cheese".into()],
                station: "oven".into(),
                allergens: "gluten; milk".into(),
            },
            OrderLine {
                ready_at: None,
                sku: format!("item-{}", ticket % 50),
                name: format!("Item {}", ticket % 50),
                qty: 1,
                unit_price: 500,
                modifiers: vec![],
                station: station.into(),
                allergens: String::new(),
            },
        ],
        note: if ticket.is_multiple_of(5) {
            "no onions".into()
        } else {
            String::new()
        },
        total: 2400,
        currency: "EUR".into(),
        state,
        reason: None,
        rush: ticket.is_multiple_of(97),
        payment: Payment {
            state: PaymentState::Authorized,
            method: "pm_card_visa".into(),
            gateway: "sandbox".into(),
            gateway_ref: None,
            last4: None,
            amount: 2400,
            captured: 0,
            refunded: 0,
            error: None,
        },
        created_at: T0 + ticket * 100,
        updated_at: T0 + ticket * 100,
        version,
        revision: 0,
    }
}

fn board(n: usize) -> Board {
    let mut b = Board::new("trattoria", None, Settings::default());
    b.incoming(
        Incoming::Conn(Conn::Connected {
            node: "node-1".into(),
            addr: "127.0.0.1:7400".into(),
        }),
        T0,
    );
    let items = (0..50)
        .map(|i| MenuItem {
            sku: format!("item-{i}"),
            name: format!("Item {i}"),
            price: 500,
            station: "cold".into(),
            modifiers: vec![],
            available: true,
            stock: None,
            allergens: String::new(),
        })
        .collect();
    b.incoming(
        Incoming::Snapshot {
            orders: (1..=n as u64).map(|t| order(t, 2)).collect(),
            menu: Menu {
                restaurant: "trattoria".into(),
                currency: "EUR".into(),
                items,
            },
        },
        T0,
    );
    b.set_viewport(200, 60);
    // Somewhere in the middle of the first column, as on a busy shift
    // (↓ moves a row of cards).
    for _ in 0..n / 16 {
        b.key(Key::Down, T0);
    }
    b
}

/// One whole frame into a 200×60 buffer.
#[divan::bench(args = SIZES)]
fn render_frame(bencher: divan::Bencher, n: usize) {
    let b = board(n);
    let area = Rect::new(0, 0, 200, 60);
    let mut buf = Buffer::empty(area);
    bencher.bench_local(|| {
        buf.reset();
        (&BoardView::new(&b, T0 + 600_000)).render(area, &mut buf);
        divan::black_box(&buf);
    });
}

/// `s`: a station filter over every ticket (columns and all-day rebuilt).
#[divan::bench(args = SIZES)]
fn station_key(bencher: divan::Bencher, n: usize) {
    let mut b = board(n);
    bencher.bench_local(|| {
        divan::black_box(b.key(Key::Char('s'), T0));
    });
}

/// A live event: one order moves to the next column.
#[divan::bench(args = SIZES)]
fn order_event(bencher: divan::Bencher, n: usize) {
    let mut b = board(n);
    let mut version = 2;
    bencher.bench_local(|| {
        version += 1;
        let mut o = order(1, version);
        o.state = if version.is_multiple_of(2) {
            OrderState::Accepted
        } else {
            OrderState::Preparing
        };
        let ev = Event {
            kind: format!("order.{}", o.state),
            subject: o.id.clone(),
            data: serde_json::to_value(&o).unwrap(),
        };
        divan::black_box(b.incoming(Incoming::Events(vec![ev]), T0));
    });
}

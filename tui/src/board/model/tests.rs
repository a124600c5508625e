use super::*;
use protocol::messages::catalog::{Menu, MenuItem};
use protocol::messages::orders::{OrderLine, Payment, PaymentState};

pub(crate) const T0: u64 = 1_700_000_000_000;
const MIN: u64 = 60_000;

pub(crate) fn line(sku: &str, name: &str, qty: u32, station: &str) -> OrderLine {
    OrderLine {
        ready_at: None,
        sku: sku.into(),
        name: name.into(),
        qty,
        unit_price: 950,
        modifiers: vec![],
        station: station.into(),
        allergens: String::new(),
    }
}

pub(crate) fn order(ticket: u64, state: OrderState, version: u64, lines: Vec<OrderLine>) -> Order {
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
        lines,
        note: String::new(),
        total: 950,
        currency: "EUR".into(),
        state,
        reason: None,
        rush: false,
        payment: Payment {
            state: PaymentState::Authorized,
            method: "pm_card_visa".into(),
            gateway: "sandbox".into(),
            gateway_ref: None,
            last4: None,
            amount: 950,
            captured: 0,
            refunded: 0,
            error: None,
        },
        created_at: T0 + ticket * 1000,
        updated_at: T0 + ticket * 1000,
        version,
        revision: 0,
    }
}

pub(crate) fn simple(ticket: u64, state: OrderState, version: u64) -> Order {
    order(
        ticket,
        state,
        version,
        vec![line("margherita", "Margherita", 1, "oven")],
    )
}

pub(crate) fn item(sku: &str, name: &str, station: &str, available: bool) -> MenuItem {
    MenuItem {
        sku: sku.into(),
        name: name.into(),
        price: 950,
        station: station.into(),
        modifiers: vec![],
        available,
        stock: None,
        allergens: String::new(),
    }
}

pub(crate) fn menu() -> Menu {
    Menu {
        restaurant: "trattoria".into(),
        currency: "EUR".into(),
        items: vec![
            item("margherita", "Margherita", "oven", true),
            item("tiramisu", "Tiramisu", "cold", true),
            item("fries", "Fries", "fry", false),
        ],
    }
}

pub(crate) fn event(o: &Order) -> Event {
    Event {
        kind: format!("order.{}", o.state),
        subject: o.id.clone(),
        data: serde_json::to_value(o).unwrap(),
    }
}

pub(crate) fn connected() -> Incoming {
    Incoming::Conn(Conn::Connected {
        node: "node-1".into(),
        addr: "127.0.0.1:7400".into(),
    })
}

/// A connected board holding `orders`.
pub(crate) fn board_with(orders: Vec<Order>) -> Board {
    let mut b = Board::new("trattoria", None, Settings::default());
    b.incoming(connected(), T0);
    b.incoming(
        Incoming::Snapshot {
            orders,
            menu: menu(),
        },
        T0,
    );
    b
}

/// The transition a press sends for `order` seen at `v`.
pub(crate) fn tr(order: &str, step: Step, v: u64) -> Effect {
    Effect::Transition {
        order: order.into(),
        step,
        expected_version: v,
    }
}

/// The answer to that press.
pub(crate) fn answer(
    order: &str,
    step: Step,
    v: u64,
    result: Result<Order, StepError>,
) -> Incoming {
    Incoming::StepDone {
        order: order.into(),
        step,
        expected_version: v,
        result,
    }
}

pub(crate) fn refused(why: &str) -> Result<Order, StepError> {
    Err(StepError::Refused(why.into()))
}

fn ids(b: &Board, c: Column) -> Vec<u64> {
    b.column(c).map(|t| t.order.ticket).collect()
}

fn keys(b: &mut Board, ks: &[Key]) -> Vec<Effect> {
    ks.iter().flat_map(|k| b.key(*k, T0)).collect()
}

fn typed(b: &mut Board, s: &str) {
    for c in s.chars() {
        b.key(Key::Char(c), T0);
    }
}

#[test]
fn states_go_to_their_columns() {
    use OrderState::*;
    let b = board_with(vec![
        simple(1, Placed, 2),
        simple(2, Accepted, 3),
        simple(3, Preparing, 4),
        simple(4, Ready, 5),
        simple(5, PendingPayment, 1),
        simple(6, Completed, 6),
        simple(7, Rejected, 3),
    ]);
    assert_eq!(ids(&b, Column::New), [1]);
    assert_eq!(
        ids(&b, Column::Accepted),
        [2],
        "accepted apart from preparing"
    );
    assert_eq!(ids(&b, Column::Preparing), [3]);
    assert_eq!(ids(&b, Column::Ready), [4]);
    assert_eq!(b.ticket_count(), 4);
}

#[test]
fn events_apply_by_version_only_forwards() {
    let mut b = board_with(vec![]);
    let o1 = simple(1, OrderState::Placed, 2);
    b.incoming(Incoming::Events(vec![event(&o1)]), T0);
    let o2 = simple(1, OrderState::Accepted, 3);
    b.incoming(Incoming::Events(vec![event(&o2)]), T0);
    assert_eq!(ids(&b, Column::Accepted), [1]);
    // A replay of older or equal versions changes nothing.
    b.incoming(Incoming::Events(vec![event(&o1), event(&o2)]), T0);
    assert_eq!(ids(&b, Column::Accepted), [1]);
    assert!(ids(&b, Column::New).is_empty());
    // Done: off the board, and an old replay cannot bring it back.
    let done = simple(1, OrderState::Completed, 6);
    b.incoming(Incoming::Events(vec![event(&done)]), T0);
    assert_eq!(b.ticket_count(), 0);
    b.incoming(Incoming::Events(vec![event(&o2)]), T0);
    assert_eq!(b.ticket_count(), 0);
}

#[test]
fn a_new_order_rings_once_but_not_the_first_snapshot_or_replays() {
    let mut b = Board::new("trattoria", None, Settings::default());
    b.incoming(connected(), T0);
    let fx = b.incoming(
        Incoming::Snapshot {
            orders: vec![simple(1, OrderState::Placed, 2)],
            menu: menu(),
        },
        T0,
    );
    assert!(fx.is_empty());
    // pending_payment does not ring; placed does, once per revision.
    let p = simple(2, OrderState::PendingPayment, 1);
    assert!(b.incoming(Incoming::Events(vec![event(&p)]), T0).is_empty());
    let two = simple(3, OrderState::Placed, 2);
    let three = simple(4, OrderState::Placed, 2);
    assert_eq!(
        b.incoming(Incoming::Events(vec![event(&two), event(&three)]), T0),
        [Effect::Bell]
    );
    assert!(
        b.incoming(Incoming::Events(vec![event(&two)]), T0)
            .is_empty()
    );
    // A reload that finds a ticket never seen rings too.
    let fx = b.incoming(
        Incoming::Snapshot {
            orders: vec![
                simple(3, OrderState::Placed, 2),
                simple(9, OrderState::Placed, 2),
            ],
            menu: menu(),
        },
        T0,
    );
    assert_eq!(fx, [Effect::Bell]);
}

#[test]
fn a_snapshot_replaces_tickets_and_brings_the_rush_flag() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
    ]);
    let mut two = simple(2, OrderState::Accepted, 4);
    two.rush = true;
    b.incoming(
        Incoming::Snapshot {
            orders: vec![two],
            menu: menu(),
        },
        T0,
    );
    assert!(b.ticket("trattoria-1").is_none(), "finished while away");
    assert!(b.ticket("trattoria-2").unwrap().rush());
    assert_eq!(ids(&b, Column::Accepted), [2]);
}

#[test]
fn bump_sends_the_next_step_for_each_state() {
    use OrderState::*;
    for (state, step) in [
        (Placed, Step::Accept),
        (Accepted, Step::Start),
        (Preparing, Step::Ready),
        (Ready, Step::Complete),
    ] {
        let mut b = board_with(vec![simple(1, state, 2)]);
        let col = Column::of(state).unwrap().index();
        for _ in 0..col {
            b.key(Key::Char('l'), T0);
        }
        assert_eq!(
            b.key(Key::Enter, T0),
            [tr("trattoria-1", step.clone(), 2)],
            "{state}: the version the cook saw goes with the press"
        );
    }
    assert_eq!(Step::bump_from(Completed), None);
    assert_eq!(Step::Ready.request_type(), "order.ready");
}

#[test]
fn bumps_are_guarded_while_in_flight_and_while_disconnected() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    assert_eq!(b.key(Key::Char(' '), T0).len(), 1);
    assert!(b.key(Key::Enter, T0).is_empty(), "no double bump");
    assert!(b.message().unwrap().contains("waiting"));
    // The server refuses (another board was first): a message, no crash.
    b.incoming(
        answer(
            "trattoria-1",
            Step::Accept,
            2,
            refused("cannot accept an order that is accepted"),
        ),
        T0,
    );
    assert_eq!(
        b.message(),
        Some("#1: cannot accept an order that is accepted")
    );
    assert_eq!(b.ticket("trattoria-1").unwrap().pending, None);
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "lost".into(),
        }),
        T0,
    );
    assert!(b.key(Key::Enter, T0).is_empty());
    assert_eq!(
        b.message(),
        Some("disconnected: nothing sent, #1 not bumped")
    );
    // Not lost silently: the ticket says so until dismissed or retried.
    let p = b.ticket("trattoria-1").unwrap().pending.clone().unwrap();
    assert_eq!(
        (p.step, p.status),
        (
            Step::Accept,
            PendingStatus::Failed("not sent: disconnected".into())
        )
    );
    b.incoming(connected(), T0);
    assert_eq!(b.key(Key::Enter, T0), [tr("trattoria-1", Step::Accept, 2)]);
    assert!(b.ticket("trattoria-1").unwrap().in_flight());
}

#[test]
fn a_successful_bump_moves_the_ticket_and_can_be_named_for_recall() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
    ]);
    b.key(Key::Enter, T0);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Accept,
            2,
            Ok(simple(1, OrderState::Accepted, 3)),
        ),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [2]);
    assert_eq!(ids(&b, Column::Accepted), [1]);
    assert_eq!(
        b.selected().unwrap().order.ticket,
        2,
        "cursor stays in the column, on the neighbour"
    );
    assert_eq!(b.message(), Some("#1 accepted · cursor moved to #2"));
    let last = b.last_bump().unwrap();
    assert_eq!(
        (last.from, last.to),
        (OrderState::Placed, OrderState::Accepted)
    );
    // Its own event arriving afterwards is a duplicate.
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Accepted, 3))]),
        T0,
    );
    assert_eq!(ids(&b, Column::Accepted), [1]);
    // An acceptance can be recalled too (back to New; the daemon keeps
    // the captured payment), guarded by the state and version seen.
    let recall = Step::Recall {
        state: OrderState::Accepted,
    };
    assert_eq!(
        b.key(Key::Char('u'), T0 + 1000),
        [tr("trattoria-1", recall.clone(), 3)]
    );
    // Refused this time (its capture still in flight): the ticket stays.
    b.incoming(
        answer(
            "trattoria-1",
            recall,
            3,
            Err(StepError::Refused(
                "cannot recall #1 yet: its payment is being captured; try again in a moment".into(),
            )),
        ),
        T0 + 1000,
    );
    assert_eq!(ids(&b, Column::Accepted), [1]);
    // Start it: that one can be recalled, within the daemon's window,
    // with a guarded request naming the state the order must still be in;
    // once sent, there is nothing left to recall.
    keys(&mut b, &[Key::Right]);
    assert_eq!(b.key(Key::Enter, T0), [tr("trattoria-1", Step::Start, 3)]);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Start,
            3,
            Ok(simple(1, OrderState::Preparing, 4)),
        ),
        T0,
    );
    let fx = b.key(Key::Char('u'), T0 + RECALL_WINDOW_MS - 1);
    assert_eq!(
        fx,
        vec![tr(
            "trattoria-1",
            Step::Recall {
                state: OrderState::Preparing
            },
            4
        )]
    );
    assert_eq!(b.message(), Some("recalling #1 back to accepted"));
    b.key(Key::Char('u'), T0 + 2000);
    assert_eq!(b.message(), Some("nothing to recall"));
}

#[test]
fn recall_after_the_window_is_nothing() {
    // The daemon's window, not one of the board's own.
    assert_eq!(RECALL_WINDOW_MS, 120_000);
    let mut b = board_with(vec![simple(1, OrderState::Ready, 1)]);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Complete,
            1,
            Ok(simple(1, OrderState::Completed, 2)),
        ),
        T0,
    );
    assert_eq!(b.key(Key::Char('u'), T0 + 121_000), []);
    assert_eq!(
        b.message(),
        Some("nothing to recall: the last bump (#1) was more than 120 s ago")
    );
}

#[test]
fn recall_with_nothing_bumped() {
    let mut b = board_with(vec![]);
    b.key(Key::Char('u'), T0);
    assert_eq!(b.message(), Some("nothing to recall"));
}

#[test]
fn reject_asks_for_a_reason() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Accepted, 3),
    ]);
    b.key(Key::Char('x'), T0);
    assert!(matches!(b.mode(), Mode::Reject { ticket: 1, .. }));
    // Esc keeps the ticket.
    b.key(Key::Esc, T0);
    assert_eq!(*b.mode(), Mode::Board);
    b.key(Key::Char('x'), T0);
    assert!(b.key(Key::Enter, T0).is_empty(), "a reason is required");
    assert!(matches!(b.mode(), Mode::Reject { .. }));
    typed(&mut b, "out of doughx");
    b.key(Key::Backspace, T0);
    assert_eq!(
        b.key(Key::Enter, T0),
        [tr(
            "trattoria-1",
            Step::Reject {
                reason: "out of dough".into()
            },
            2
        )]
    );
    assert_eq!(*b.mode(), Mode::Board);
    // Only new tickets can be rejected.
    b.key(Key::Right, T0);
    b.key(Key::Char('x'), T0);
    assert_eq!(*b.mode(), Mode::Board);
    assert!(b.message().unwrap().contains("only new tickets"));
}

fn rushed(mut o: Order, rush: bool) -> Order {
    o.rush = rush;
    o
}

#[test]
fn rush_asks_the_server_and_shows_its_answer_first() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
        simple(3, OrderState::Placed, 2),
    ]);
    // `r` sends `order.rush`; nothing moves until the server says so.
    let fx = keys(&mut b, &[Key::Down, Key::Down, Key::Char('r')]);
    assert_eq!(fx, [tr("trattoria-3", Step::Rush { rush: true }, 2)]);
    assert!(!b.ticket("trattoria-3").unwrap().rush());
    assert!(b.ticket("trattoria-3").unwrap().in_flight());
    assert_eq!(ids(&b, Column::New), [1, 2, 3]);
    assert!(
        b.key(Key::Char('r'), T0).is_empty(),
        "one request at a time"
    );
    b.incoming(
        answer(
            "trattoria-3",
            Step::Rush { rush: true },
            2,
            Ok(rushed(simple(3, OrderState::Placed, 3), true)),
        ),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [3, 1, 2]);
    assert_eq!(b.message(), Some("#3 marked rush"));
    assert_eq!(
        b.selected().unwrap().order.ticket,
        3,
        "the cursor follows it"
    );
    assert!(b.last_bump().is_none(), "a rush is not a bump to recall");
    // Its own event comes after: already held, nothing changes.
    b.incoming(
        Incoming::Events(vec![event(&rushed(simple(3, OrderState::Placed, 3), true))]),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [3, 1, 2]);
    // `r` again unflags it.
    assert_eq!(
        b.key(Key::Char('r'), T0),
        [tr("trattoria-3", Step::Rush { rush: false }, 3)]
    );
    b.incoming(
        answer(
            "trattoria-3",
            Step::Rush { rush: false },
            3,
            Ok(simple(3, OrderState::Placed, 4)),
        ),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [1, 2, 3]);
    assert_eq!(b.message(), Some("#3 no longer rush"));
    // Another screen's rush arrives as an event.
    b.incoming(
        Incoming::Events(vec![event(&rushed(simple(2, OrderState::Placed, 3), true))]),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [2, 1, 3]);
}

#[test]
fn rush_is_guarded_like_a_bump() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "lost".into(),
        }),
        T0,
    );
    assert!(b.key(Key::Char('r'), T0).is_empty());
    assert_eq!(
        b.message(),
        Some("disconnected: nothing sent, #1 not marked rush")
    );
    b.incoming(connected(), T0);
    assert_eq!(b.key(Key::Char('r'), T0).len(), 1);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Rush { rush: true },
            2,
            refused("cannot rush an order that is completed"),
        ),
        T0,
    );
    assert_eq!(
        b.message(),
        Some("#1: cannot rush an order that is completed")
    );
    assert!(!b.ticket("trattoria-1").unwrap().rush());
    assert_eq!(b.ticket("trattoria-1").unwrap().pending, None);
}

#[test]
fn a_rush_answer_that_finds_the_order_moved_on_is_not_a_bump() {
    let mut b = board_with(vec![simple(1, OrderState::Preparing, 4)]);
    b.key(Key::Char('r'), T0);
    // Another board marked it ready meanwhile; the rush answer says so.
    b.incoming(
        answer(
            "trattoria-1",
            Step::Rush { rush: true },
            4,
            Ok(rushed(simple(1, OrderState::Ready, 6), true)),
        ),
        T0,
    );
    assert!(
        b.last_bump().is_none(),
        "u must not recall someone else's bump"
    );
    assert_eq!(b.key(Key::Char('u'), T0), []);
    assert_eq!(b.message(), Some("nothing to recall"));
}

#[test]
fn movement_is_clamped() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
    ]);
    keys(
        &mut b,
        &[Key::Up, Key::Char('k'), Key::Left, Key::Char('h')],
    );
    assert_eq!((b.focus(), b.row(Column::New)), (Column::New, 0));
    keys(&mut b, &[Key::Down, Key::Char('j'), Key::Down]);
    assert_eq!(b.row(Column::New), 1);
    keys(
        &mut b,
        &[Key::Right, Key::Char('l'), Key::Right, Key::Right],
    );
    assert_eq!(b.focus(), Column::Ready);
    assert!(b.selected().is_none());
    assert!(b.key(Key::Enter, T0).is_empty(), "nothing selected");
}

#[test]
fn the_cursor_stays_on_its_ticket_when_others_arrive() {
    let mut b = board_with(vec![
        simple(5, OrderState::Placed, 2),
        simple(6, OrderState::Placed, 2),
    ]);
    b.key(Key::Down, T0);
    assert_eq!(b.selected().unwrap().order.ticket, 6);
    // An older ticket sorts in above it.
    b.incoming(
        Incoming::Events(vec![event(&simple(2, OrderState::Placed, 2))]),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [2, 5, 6]);
    assert_eq!(b.selected().unwrap().order.ticket, 6);
    // The selected ticket leaves: the cursor goes to the neighbour.
    b.incoming(
        Incoming::Events(vec![event(&simple(6, OrderState::Cancelled, 3))]),
        T0,
    );
    assert_eq!(b.selected().unwrap().order.ticket, 5);
    assert_eq!(
        b.message(),
        Some("#6 left the board (cancelled) · cursor moved to #5")
    );
}

fn mixed() -> Vec<Order> {
    vec![
        order(
            1,
            OrderState::Placed,
            2,
            vec![
                line("margherita", "Margherita", 2, "oven"),
                line("tiramisu", "Tiramisu", 1, "cold"),
            ],
        ),
        order(
            2,
            OrderState::Accepted,
            3,
            vec![line("tiramisu", "Tiramisu", 3, "cold")],
        ),
        order(
            3,
            OrderState::Ready,
            5,
            vec![line("fries", "Fries", 4, "fry")],
        ),
    ]
}

#[test]
fn station_filter_cycles_and_filters() {
    let mut b = board_with(mixed());
    assert_eq!(b.stations(), ["cold", "fry", "oven"]);
    assert_eq!(b.station(), None);
    b.key(Key::Char('s'), T0);
    assert_eq!(b.station(), Some("cold"));
    assert_eq!(ids(&b, Column::New), [1]);
    assert_eq!(ids(&b, Column::Accepted), [2]);
    assert!(ids(&b, Column::Ready).is_empty());
    assert!(b.shows_line("cold") && !b.shows_line("oven"));
    keys(&mut b, &[Key::Char('s'), Key::Char('s')]);
    assert_eq!(b.station(), Some("oven"));
    assert_eq!(ids(&b, Column::Accepted), Vec::<u64>::new());
    b.key(Key::Char('s'), T0);
    assert_eq!(b.station(), None, "back to every station");
    // A station given on the command line is known before any menu.
    let b = Board::new("trattoria", Some("grill".into()), Settings::default());
    assert_eq!(b.stations(), ["grill"]);
}

#[test]
fn all_day_counts_open_items_not_ready_ones() {
    let mut b = board_with(mixed());
    let counts = |b: &Board| {
        b.all_day()
            .iter()
            .map(|a| (a.name.clone(), a.qty, a.out))
            .collect::<Vec<_>>()
    };
    // Fries are 86'd in the menu: listed, out, though none is open.
    assert_eq!(
        counts(&b),
        [
            ("Tiramisu".to_string(), 4, false),
            ("Margherita".to_string(), 2, false),
            ("Fries".to_string(), 0, true),
        ]
    );
    b.key(Key::Char('a'), T0);
    assert!(b.show_all_day);
    b.key(Key::Char('s'), T0); // cold
    assert_eq!(counts(&b), [("Tiramisu".to_string(), 4, false)]);
    b.key(Key::Char('a'), T0);
    assert!(!b.show_all_day);
}

#[test]
fn search_filters_as_you_type() {
    let mut b = board_with(mixed());
    b.key(Key::Char('/'), T0);
    assert_eq!(*b.mode(), Mode::Search);
    typed(&mut b, "tira");
    assert_eq!(ids(&b, Column::New), [1]);
    assert_eq!(ids(&b, Column::Ready), Vec::<u64>::new());
    // Keys are text while searching: 'q' does not quit.
    assert!(b.key(Key::Char('q'), T0).is_empty());
    b.key(Key::Backspace, T0);
    b.key(Key::Enter, T0);
    assert_eq!(*b.mode(), Mode::Board);
    assert_eq!(b.search(), "tira");
    // By ticket number and customer.
    b.key(Key::Char('/'), T0);
    typed(&mut b, "#3");
    assert_eq!(ids(&b, Column::Ready), [3]);
    b.key(Key::Esc, T0);
    assert_eq!(b.search(), "");
    assert_eq!(ids(&b, Column::Ready), [3]);
    b.key(Key::Char('/'), T0);
    typed(&mut b, "guest2");
    assert_eq!(ids(&b, Column::Accepted), [2]);
    b.key(Key::Enter, T0);
    b.key(Key::Esc, T0);
    assert_eq!(b.search(), "", "Esc on the board clears the search");
}

#[test]
fn the_86_panel_flips_availability() {
    let mut b = board_with(vec![]);
    b.key(Key::Char('8'), T0);
    assert_eq!(*b.mode(), Mode::Panel86 { cursor: 0 });
    assert_eq!(
        b.key(Key::Enter, T0),
        [Effect::Set86 {
            sku: "margherita".into(),
            available: false
        }]
    );
    keys(&mut b, &[Key::Down, Key::Char('j'), Key::Down]);
    assert_eq!(*b.mode(), Mode::Panel86 { cursor: 2 });
    assert_eq!(
        b.key(Key::Char(' '), T0),
        [Effect::Set86 {
            sku: "fries".into(),
            available: true
        }]
    );
    b.incoming(
        Incoming::Set86Done {
            sku: "fries".into(),
            result: Ok(item("fries", "Fries", "fry", true)),
        },
        T0,
    );
    assert!(b.menu().unwrap().items[2].available);
    assert_eq!(b.message(), Some("Fries is back (un-86'd)"));
    // Another screen 86'd the margherita.
    let mut m = menu();
    m.items[0].available = false;
    b.incoming(
        Incoming::Events(vec![Event {
            kind: "menu.changed".into(),
            subject: "trattoria".into(),
            data: serde_json::to_value(&m).unwrap(),
        }]),
        T0,
    );
    assert!(!b.menu().unwrap().items[0].available);
    b.incoming(
        Incoming::Set86Done {
            sku: "nope".into(),
            result: Err("no item".into()),
        },
        T0,
    );
    assert_eq!(b.message(), Some("nope: no item"));
    b.key(Key::Esc, T0);
    assert_eq!(*b.mode(), Mode::Board);
    // Refused while disconnected.
    b.incoming(Incoming::Conn(Conn::Connecting), T0);
    b.key(Key::Char('8'), T0);
    assert!(b.key(Key::Enter, T0).is_empty());
    assert!(b.message().unwrap().starts_with("disconnected"));
}

#[test]
fn ages_cross_the_thresholds() {
    let b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    let t = b.ticket("trattoria-1").unwrap();
    let born = t.order.created_at;
    assert_eq!(b.age(t, born), Age::Fresh);
    assert_eq!(b.age(t, born + 5 * MIN - 1), Age::Fresh);
    assert_eq!(b.age(t, born + 5 * MIN), Age::Warn);
    assert_eq!(b.age(t, born + 10 * MIN), Age::Late);
    assert_eq!(b.age(t, born - 1000), Age::Fresh, "clock skew");
    let mut quick = Board::new(
        "trattoria",
        None,
        Settings {
            warn_after_ms: MIN,
            late_after_ms: 2 * MIN,
            ..Default::default()
        },
    );
    quick.incoming(
        Incoming::Snapshot {
            orders: vec![simple(1, OrderState::Placed, 2)],
            menu: menu(),
        },
        T0,
    );
    let t = quick.ticket("trattoria-1").unwrap();
    assert_eq!(quick.age(t, born + 90_000), Age::Warn);
}

#[test]
fn help_and_quit() {
    let mut b = board_with(vec![]);
    assert_eq!(b.key(Key::Char('?'), T0), []);
    assert_eq!(*b.mode(), Mode::Help);
    b.key(Key::Char('x'), T0);
    assert_eq!(*b.mode(), Mode::Board, "any key closes help");
    // From help, q and Esc close it rather than quit.
    for k in [Key::Char('q'), Key::Esc] {
        b.key(Key::Char('?'), T0);
        assert_eq!(b.key(k, T0), []);
        assert_eq!(*b.mode(), Mode::Board);
    }
    assert_eq!(b.key(Key::Char('q'), T0), [Effect::Quit]);
    // Ctrl-C quits from anywhere, even a prompt.
    b.key(Key::Char('/'), T0);
    assert_eq!(b.key(Key::Interrupt, T0), [Effect::Quit]);
    b.key(Key::Esc, T0);
    assert_eq!(b.action_for(Key::Char('z')), None);
}

#[test]
fn bad_event_data_is_ignored() {
    let mut b = board_with(vec![]);
    let fx = b.incoming(
        Incoming::Events(vec![
            Event {
                kind: "order.placed".into(),
                subject: "x".into(),
                data: serde_json::json!({"nonsense": true}),
            },
            Event {
                kind: "restaurant.closed".into(),
                subject: "trattoria".into(),
                data: serde_json::Value::Null,
            },
        ]),
        T0,
    );
    assert!(fx.is_empty());
    assert_eq!(b.ticket_count(), 0);
}

#[test]
fn moving_to_another_node_is_said_once() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    assert_eq!(b.message(), None);
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "connection lost".into(),
        }),
        T0,
    );
    assert!(!b.connected());
    // Back on the same node: nothing to say.
    b.incoming(connected(), T0);
    assert_eq!(b.message(), None);
    let node3 = || {
        Incoming::Conn(Conn::Connected {
            node: "node-3".into(),
            addr: "127.0.0.1:7402".into(),
        })
    };
    b.incoming(node3(), T0);
    assert_eq!(
        b.message(),
        Some("reconnected: now via node-3 (was node-1)")
    );
    b.key(Key::Esc, T0);
    b.incoming(node3(), T0);
    assert_eq!(b.message(), None);
}

#[test]
fn a_snapshot_never_moves_a_ticket_backwards() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
    ]);
    b.incoming(
        Incoming::Events(vec![
            event(&simple(1, OrderState::Preparing, 5)),
            event(&simple(2, OrderState::Completed, 9)),
        ]),
        T0,
    );
    // A snapshot read before those changes (e.g. from a lagging replica).
    b.incoming(
        Incoming::Snapshot {
            orders: vec![
                simple(1, OrderState::Placed, 2),
                simple(2, OrderState::Ready, 7),
            ],
            menu: menu(),
        },
        T0,
    );
    assert_eq!(ids(&b, Column::New), Vec::<u64>::new());
    assert_eq!(ids(&b, Column::Preparing), [1]);
    assert_eq!(ids(&b, Column::Accepted), Vec::<u64>::new());
    assert_eq!(
        ids(&b, Column::Ready),
        Vec::<u64>::new(),
        "2 stays completed"
    );
}

// ---- safe bumps (issue 15) -----------------------------------------------

#[test]
fn another_screen_moving_the_selected_ticket_holds_enter_back() {
    let mut b = board_with(vec![
        simple(6, OrderState::Placed, 2),
        simple(7, OrderState::Placed, 2),
    ]);
    assert_eq!(b.selected().unwrap().order.ticket, 6);
    // Another board accepts #6: the cursor goes to #7, and says so.
    let t1 = T0 + 10_000;
    b.incoming(
        Incoming::Events(vec![event(&simple(6, OrderState::Accepted, 3))]),
        t1,
    );
    assert_eq!(b.selected().unwrap().order.ticket, 7);
    assert_eq!(
        b.message(),
        Some("#6 moved to Accepted · cursor moved to #7")
    );
    // A press meant for #6 does not bump #7...
    assert!(b.settling(t1 + 300));
    assert_eq!(b.key(Key::Enter, t1 + 300), []);
    assert_eq!(
        b.message(),
        Some("#7 not bumped: cursor just moved here (#6 moved to Accepted); press again")
    );
    assert!(b.ticket("trattoria-7").unwrap().pending.is_none());
    // ...a deliberate one, a moment later, does.
    let later = t1 + Settings::default().settle_ms;
    assert!(!b.settling(later));
    assert_eq!(
        b.key(Key::Enter, later),
        [tr("trattoria-7", Step::Accept, 2)]
    );
}

#[test]
fn two_quick_presses_never_make_two_steps() {
    let mut b = board_with(vec![
        simple(6, OrderState::Placed, 2),
        simple(7, OrderState::Placed, 2),
    ]);
    let fx = b.key(Key::Enter, T0);
    assert_eq!(fx, [tr("trattoria-6", Step::Accept, 2)]);
    // Second press while the first is on its way: refused.
    assert_eq!(b.key(Key::Enter, T0 + 100), []);
    // The answer comes; a third press 150 ms later would hit #7: refused.
    b.incoming(
        answer(
            "trattoria-6",
            Step::Accept,
            2,
            Ok(simple(6, OrderState::Accepted, 3)),
        ),
        T0 + 120,
    );
    assert_eq!(b.key(Key::Enter, T0 + 270), []);
    // And #6 is not under the cursor in its new column either (the
    // cursor stays in New), so nothing can start it by accident.
    assert_eq!(b.focus(), Column::New);
    assert!(b.ticket("trattoria-6").unwrap().pending.is_none());
    assert!(b.ticket("trattoria-7").unwrap().pending.is_none());
}

#[test]
fn a_first_ticket_in_an_empty_column_is_selected_at_once() {
    let mut b = board_with(vec![]);
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Placed, 2))]),
        T0,
    );
    assert_eq!(b.selected().unwrap().order.ticket, 1);
    assert!(!b.settling(T0));
    assert_eq!(b.key(Key::Enter, T0), [tr("trattoria-1", Step::Accept, 2)]);
}

#[test]
fn the_same_ticket_back_under_a_slid_cursor_is_bumped_at_once() {
    let mut b = board_with(vec![simple(1, OrderState::Ready, 5)]);
    b.key(Key::Right, T0);
    b.key(Key::Right, T0);
    b.key(Key::Right, T0);
    assert_eq!(b.selected().unwrap().order.ticket, 1);
    // Completed elsewhere: the column empties, the cursor "slid".
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Completed, 6))]),
        T0 + 100,
    );
    assert!(b.selected().is_none());
    // Recalled: the same ticket is back under the cursor, and Enter is
    // what the cook means, hold or not.
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Ready, 7))]),
        T0 + 200,
    );
    assert!(b.settling(T0 + 300));
    assert_eq!(b.selected().unwrap().order.ticket, 1);
    assert_eq!(
        b.key(Key::Enter, T0 + 300),
        [tr("trattoria-1", Step::Complete, 7)]
    );
}

#[test]
fn the_cursor_follows_its_ticket_when_a_rush_reorders_the_column() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
        simple(3, OrderState::Placed, 2),
    ]);
    b.key(Key::Down, T0);
    assert_eq!(b.selected().unwrap().order.ticket, 2);
    b.incoming(
        Incoming::Events(vec![event(&rushed(simple(3, OrderState::Placed, 3), true))]),
        T0,
    );
    assert_eq!(ids(&b, Column::New), [3, 1, 2]);
    assert_eq!(b.selected().unwrap().order.ticket, 2);
    assert_eq!(b.row(Column::New), 2);
    assert!(!b.settling(T0), "same ticket: Enter is fine");
}

#[test]
fn an_answer_lost_in_a_failover_stays_on_the_ticket_until_the_server_tells() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Enter, T0);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Accept,
            2,
            Err(StepError::Unconfirmed("connection lost".into())),
        ),
        T0,
    );
    let t = b.ticket("trattoria-1").unwrap();
    assert_eq!(
        t.pending.as_ref().unwrap().status,
        PendingStatus::Unconfirmed("connection lost".into())
    );
    // "reconnected" replaces the message, not the mark.
    b.incoming(
        Incoming::Conn(Conn::Connected {
            node: "node-2".into(),
            addr: "127.0.0.1:7401".into(),
        }),
        T0 + 900,
    );
    assert!(b.message().unwrap().starts_with("reconnected"));
    assert!(b.ticket("trattoria-1").unwrap().pending.is_some());
    assert_eq!(b.unsettled().len(), 1);
    // Another press cannot make a second step meanwhile.
    assert_eq!(b.key(Key::Enter, T0 + 1000), []);
    assert!(b.message().unwrap().contains("unconfirmed"));
    // The snapshot after the reconnect shows it accepted: confirmed.
    b.incoming(
        Incoming::Snapshot {
            orders: vec![simple(1, OrderState::Accepted, 3)],
            menu: menu(),
        },
        T0 + 1000,
    );
    assert_eq!(b.ticket("trattoria-1").unwrap().pending, None);
    assert_eq!(
        b.message(),
        Some("#1: accept confirmed (accepted) · New is empty")
    );
}

#[test]
fn a_lost_answer_and_an_unmoved_order_is_a_failed_bump_until_dismissed() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Enter, T0);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Accept,
            2,
            Err(StepError::Unconfirmed("no answer from node-1".into())),
        ),
        T0,
    );
    b.incoming(
        Incoming::Snapshot {
            orders: vec![simple(1, OrderState::Placed, 2)],
            menu: menu(),
        },
        T0 + 1000,
    );
    let p = b.ticket("trattoria-1").unwrap().pending.clone().unwrap();
    assert!(matches!(p.status, PendingStatus::Failed(_)), "{p:?}");
    assert_eq!(
        b.message(),
        Some("#1: accept did not happen; Enter to try again, d to dismiss")
    );
    // `q` asks first.
    assert_eq!(b.key(Key::Char('q'), T0), []);
    assert_eq!(*b.mode(), Mode::ConfirmQuit);
    assert_eq!(b.key(Key::Char('n'), T0), []);
    assert_eq!(*b.mode(), Mode::Board);
    // Dismissed: gone, and `q` quits at once again.
    b.key(Key::Char('d'), T0);
    assert_eq!(b.ticket("trattoria-1").unwrap().pending, None);
    assert_eq!(b.message(), Some("#1: accept mark dismissed"));
    assert_eq!(b.key(Key::Char('q'), T0), [Effect::Quit]);
}

#[test]
fn a_request_that_never_left_is_marked_failed() {
    let mut b = board_with(vec![simple(1, OrderState::Preparing, 4)]);
    keys(&mut b, &[Key::Right, Key::Right]);
    assert_eq!(b.key(Key::Enter, T0), [tr("trattoria-1", Step::Ready, 4)]);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Ready,
            4,
            Err(StepError::NotSent("disconnected".into())),
        ),
        T0,
    );
    assert_eq!(
        b.ticket("trattoria-1")
            .unwrap()
            .pending
            .as_ref()
            .unwrap()
            .status,
        PendingStatus::Failed("not sent: disconnected".into())
    );
    assert_eq!(
        b.message(),
        Some("#1: nothing sent (disconnected), not bumped")
    );
    // Enter tries again (the mark is replaced by the new press).
    assert_eq!(b.key(Key::Enter, T0), [tr("trattoria-1", Step::Ready, 4)]);
    // Another screen marks it ready meanwhile: that settles it.
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Ready, 5))]),
        T0,
    );
    assert_eq!(b.ticket("trattoria-1").unwrap().pending, None);
}

#[test]
fn an_old_answer_does_not_clear_a_newer_press() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Char('r'), T0);
    // Its event first: settled; the cook presses rush again (to undo).
    b.incoming(
        Incoming::Events(vec![event(&rushed(simple(1, OrderState::Placed, 3), true))]),
        T0,
    );
    assert_eq!(
        b.key(Key::Char('r'), T0),
        [tr("trattoria-1", Step::Rush { rush: false }, 3)]
    );
    // The first press's answer arrives late: the second stays in flight.
    b.incoming(
        answer(
            "trattoria-1",
            Step::Rush { rush: true },
            2,
            Ok(rushed(simple(1, OrderState::Placed, 3), true)),
        ),
        T0,
    );
    assert!(b.ticket("trattoria-1").unwrap().in_flight());
}

#[test]
fn an_unrelated_change_keeps_a_press_in_flight() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Enter, T0);
    // Another screen flags it a rush: still placed, the accept still on
    // its way.
    b.incoming(
        Incoming::Events(vec![event(&rushed(simple(1, OrderState::Placed, 3), true))]),
        T0,
    );
    assert!(b.ticket("trattoria-1").unwrap().in_flight());
}

#[test]
fn messages_expire_and_never_contradict_the_connection() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Char('x'), T0);
    b.key(Key::Enter, T0);
    assert!(b.message_at(T0 + 1000).is_some());
    assert_eq!(b.message_at(T0 + Settings::default().message_ms), None);
    b.incoming(
        Incoming::Conn(Conn::Connected {
            node: "node-2".into(),
            addr: "127.0.0.1:7401".into(),
        }),
        T0,
    );
    assert!(b.message_at(T0).unwrap().starts_with("reconnected"));
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "connection lost".into(),
        }),
        T0,
    );
    assert_eq!(b.message_at(T0), None);
}

#[test]
fn identical_lines_are_merged() {
    let mut extra = line("margherita", "Margherita", 1, "oven");
    extra.modifiers = vec!["Extra cheese".into()];
    let b = board_with(vec![order(
        1,
        OrderState::Placed,
        2,
        vec![
            line("margherita", "Margherita", 1, "oven"),
            extra.clone(),
            line("margherita", "Margherita", 2, "oven"),
            extra,
        ],
    )]);
    let t = b.ticket("trattoria-1").unwrap();
    let merged: Vec<(u32, usize)> = t.lines.iter().map(|l| (l.qty, l.modifiers.len())).collect();
    assert_eq!(merged, [(3, 0), (2, 1)]);
    assert!(t.lines.iter().all(|l| l.state.is_none()));
}

#[test]
fn the_cursor_moves_through_lanes_as_drawn() {
    let orders = (1..=7).map(|i| simple(i, OrderState::Placed, 2)).collect();
    let mut b = board_with(orders);
    // 200 wide, only New has tickets: it gets 4 lanes.
    b.set_viewport(200, 50);
    assert_eq!(b.layout(Rect::new(0, 0, 200, 50)).columns[0].lanes, 4);
    keys(&mut b, &[Key::Right, Key::Right, Key::Right]);
    assert_eq!(b.selected().unwrap().order.ticket, 4, "along the row");
    b.key(Key::Down, T0);
    // The second row has #5 to #7 only: its last card.
    assert_eq!(b.selected().unwrap().order.ticket, 7);
    b.key(Key::Up, T0);
    assert_eq!(b.selected().unwrap().order.ticket, 3);
    keys(&mut b, &[Key::Right, Key::Right]);
    assert_eq!(b.focus(), Column::Accepted, "past the row's end");
    b.key(Key::Left, T0);
    assert_eq!(b.focus(), Column::New);
    assert_eq!(
        b.selected().unwrap().order.ticket,
        4,
        "back to where it was"
    );
}

#[test]
fn completed_orders_can_be_recalled_from_their_screen() {
    let mut b = board_with(vec![simple(1, OrderState::Ready, 5)]);
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Completed, 6))]),
        T0,
    );
    assert_eq!(b.ticket_count(), 0);
    assert_eq!(b.completed().len(), 1);
    b.key(Key::Char('c'), T0);
    assert_eq!(*b.mode(), Mode::Completed { cursor: 0 });
    let fx = b.key(Key::Enter, T0 + 5000);
    assert_eq!(
        fx,
        [tr(
            "trattoria-1",
            Step::Recall {
                state: OrderState::Completed
            },
            6
        )]
    );
    assert_eq!(b.unsettled().len(), 1);
    b.incoming(
        answer(
            "trattoria-1",
            Step::Recall {
                state: OrderState::Completed,
            },
            6,
            Ok(simple(1, OrderState::Ready, 7)),
        ),
        T0 + 5100,
    );
    assert_eq!(ids(&b, Column::Ready), [1]);
    assert_eq!(b.completed().len(), 0);
    assert!(b.unsettled().is_empty());
    // Too late is said, not sent.
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Completed, 8))]),
        T0,
    );
    assert_eq!(b.key(Key::Char('u'), T0 + RECALL_WINDOW_MS + 1), []);
    assert_eq!(
        b.message(),
        Some("#1 was completed more than 120 s ago: too late to recall")
    );
    b.key(Key::Esc, T0);
    assert_eq!(*b.mode(), Mode::Board);
}

#[test]
fn the_detail_view_opens_on_the_selected_ticket() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    b.key(Key::Char('i'), T0);
    assert_eq!(
        *b.mode(),
        Mode::Detail {
            order: "trattoria-1".into(),
            scroll: 0
        }
    );
    keys(&mut b, &[Key::Down, Key::Down, Key::Up]);
    assert_eq!(
        *b.mode(),
        Mode::Detail {
            order: "trattoria-1".into(),
            scroll: 1
        }
    );
    // Any other key closes it; `q` does not quit from it.
    assert_eq!(b.key(Key::Char('q'), T0), []);
    assert_eq!(*b.mode(), Mode::Board);
}

#[test]
fn stock_counts_come_from_the_menu() {
    let mut m = menu();
    m.items[1].stock = Some(3);
    m.items[0].stock = Some(0);
    let mut b = board_with(mixed());
    b.incoming(
        Incoming::Events(vec![Event {
            kind: "menu.changed".into(),
            subject: "trattoria".into(),
            data: serde_json::to_value(&m).unwrap(),
        }]),
        T0,
    );
    let rows: Vec<(&str, u32, Option<i64>, bool)> = b
        .all_day()
        .iter()
        .map(|a| (a.name.as_str(), a.qty, a.stock, a.out))
        .collect();
    assert_eq!(
        rows,
        [
            ("Tiramisu", 4, Some(3), false),
            ("Margherita", 2, Some(0), true),
            ("Fries", 0, None, true),
        ]
    );
}

#[test]
fn a_refusal_is_not_wiped_by_the_winners_event() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(12, OrderState::Placed, 2),
    ]);
    b.key(Key::Enter, T0);
    // Another board won: its refusal first, then the winner's event.
    b.incoming(
        answer(
            "trattoria-1",
            Step::Accept,
            2,
            refused("cannot accept an order that is accepted"),
        ),
        T0 + 10,
    );
    b.incoming(
        Incoming::Events(vec![event(&simple(1, OrderState::Accepted, 3))]),
        T0 + 20,
    );
    assert_eq!(
        b.message(),
        Some("#1: cannot accept an order that is accepted · cursor moved to #12")
    );
    assert!(b.settling(T0 + 30));
}

/// A pizza and a pasta: two stations on one order.
fn two_stations(state: OrderState, version: u64) -> Order {
    order(
        1,
        state,
        version,
        vec![
            line("margherita", "Margherita", 1, "oven"),
            line("carbonara", "Carbonara", 1, "pasta"),
        ],
    )
}

#[test]
fn a_station_board_bumps_its_own_lines_and_the_expo_board_the_order() {
    // The oven's board: Enter on an accepted order is the oven's bump,
    // guarded by the version the cook saw.
    let mut oven = Board::new("trattoria", Some("oven".into()), Settings::default());
    oven.incoming(connected(), T0);
    oven.incoming(
        Incoming::Snapshot {
            orders: vec![two_stations(OrderState::Accepted, 3)],
            menu: menu(),
        },
        T0,
    );
    keys(&mut oven, &[Key::Right]);
    let oven_step = Step::Station {
        station: "oven".into(),
        ready: true,
    };
    assert_eq!(
        oven.key(Key::Enter, T0),
        [tr("trattoria-1", oven_step.clone(), 3)]
    );
    // The daemon's answer: the oven's line ready, the order preparing.
    let mut after = two_stations(OrderState::Preparing, 4);
    after.lines[0].ready_at = Some(T0 + 5 * MIN);
    oven.incoming(answer("trattoria-1", oven_step, 3, Ok(after.clone())), T0);
    assert!(oven.ticket("trattoria-1").unwrap().pending.is_none());
    assert_eq!(
        oven.ticket("trattoria-1").unwrap().lines[0].state,
        Some(OrderState::Ready)
    );
    // A second press on the oven's board sends nothing: its part is done.
    keys(&mut oven, &[Key::Right]);
    assert_eq!(oven.key(Key::Enter, T0 + 1000), []);
    assert_eq!(
        oven.message(),
        Some("#1: oven is done; waiting for the other stations")
    );
    assert_eq!(
        station_progress(&after),
        [("oven".into(), true), ("pasta".into(), false)]
    );
    // The expo board (no station): Enter on a preparing order is the
    // whole order's bump, and on a ready one its completion.
    let mut expo = board_with(vec![after]);
    keys(&mut expo, &[Key::Right, Key::Right]);
    assert_eq!(expo.focus(), Column::Preparing);
    assert_eq!(
        expo.key(Key::Enter, T0),
        [tr("trattoria-1", Step::Ready, 4)]
    );
}

#[test]
fn a_station_bump_that_could_not_leave_stays_failed_on_the_ticket() {
    let mut b = Board::new("trattoria", Some("pasta".into()), Settings::default());
    b.incoming(connected(), T0);
    b.incoming(
        Incoming::Snapshot {
            orders: vec![two_stations(OrderState::Preparing, 4)],
            menu: menu(),
        },
        T0,
    );
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "node died".into(),
        }),
        T0,
    );
    keys(&mut b, &[Key::Right, Key::Right]);
    assert_eq!(b.key(Key::Enter, T0), []);
    let p = b.ticket("trattoria-1").unwrap().pending.clone().unwrap();
    assert!(matches!(p.status, PendingStatus::Failed(_)), "{p:?}");
    assert!(matches!(p.step, Step::Station { .. }));
}

#[test]
fn ticket_times_per_station_over_the_last_hour() {
    let now = T0 + 120 * MIN;
    let mut orders = Vec::new();
    // Ten oven lines ready 1..=10 minutes after placement, within the hour.
    for i in 1..=10u64 {
        let mut o = order(i, OrderState::Completed, 6, vec![line("m", "M", 1, "oven")]);
        o.created_at = now - 30 * MIN;
        o.lines[0].ready_at = Some(o.created_at + i * MIN);
        orders.push(o);
    }
    // One pasta line ready two hours ago: outside the hour.
    let mut old = order(
        11,
        OrderState::Completed,
        6,
        vec![line("c", "C", 1, "pasta")],
    );
    old.created_at = T0 - 10 * MIN;
    old.lines[0].ready_at = Some(T0);
    orders.push(old);
    // A line not ready yet counts nowhere.
    orders.push(order(
        12,
        OrderState::Preparing,
        4,
        vec![line("c", "C", 1, "pasta")],
    ));
    let t = station_times(orders.iter(), now);
    assert_eq!(
        t,
        [StationTimes {
            station: "oven".into(),
            count: 10,
            avg_ms: 55 * MIN / 10,
            p90_ms: 9 * MIN,
        }]
    );
}

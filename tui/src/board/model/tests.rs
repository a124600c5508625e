use super::*;
use protocol::messages::catalog::{Menu, MenuItem};
use protocol::messages::orders::{OrderLine, Payment, PaymentState};

pub(crate) const T0: u64 = 1_700_000_000_000;
const MIN: u64 = 60_000;

pub(crate) fn line(sku: &str, name: &str, qty: u32, station: &str) -> OrderLine {
    OrderLine {
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
    assert_eq!(ids(&b, Column::Preparing), [2, 3]);
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
    assert_eq!(ids(&b, Column::Preparing), [1]);
    // A replay of older or equal versions changes nothing.
    b.incoming(Incoming::Events(vec![event(&o1), event(&o2)]), T0);
    assert_eq!(ids(&b, Column::Preparing), [1]);
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
    assert_eq!(ids(&b, Column::Preparing), [2]);
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
            [Effect::Transition {
                order: "trattoria-1".into(),
                step: step.clone()
            }],
            "{state}"
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
        Incoming::StepDone {
            order: "trattoria-1".into(),
            step: Step::Accept,
            result: Err("cannot accept an order that is accepted".into()),
        },
        T0,
    );
    assert_eq!(
        b.message(),
        Some("#1: cannot accept an order that is accepted")
    );
    assert!(!b.ticket("trattoria-1").unwrap().pending);
    b.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "lost".into(),
        }),
        T0,
    );
    assert!(b.key(Key::Enter, T0).is_empty());
    assert!(b.message().unwrap().starts_with("disconnected"));
    assert!(!b.ticket("trattoria-1").unwrap().pending);
}

#[test]
fn a_successful_bump_moves_the_ticket_and_can_be_named_for_recall() {
    let mut b = board_with(vec![
        simple(1, OrderState::Placed, 2),
        simple(2, OrderState::Placed, 2),
    ]);
    b.key(Key::Enter, T0);
    b.incoming(
        Incoming::StepDone {
            order: "trattoria-1".into(),
            step: Step::Accept,
            result: Ok(simple(1, OrderState::Accepted, 3)),
        },
        T0,
    );
    assert_eq!(ids(&b, Column::New), [2]);
    assert_eq!(ids(&b, Column::Preparing), [1]);
    assert_eq!(
        b.selected().unwrap().order.ticket,
        2,
        "cursor stays in the column"
    );
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
    assert_eq!(ids(&b, Column::Preparing), [1]);
    // Recall within the window: a guarded request naming the state the
    // order must still be in; once sent, there is nothing left to recall.
    let fx = b.key(Key::Char('u'), T0 + 1000);
    assert_eq!(
        fx,
        vec![Effect::Transition {
            order: simple(1, OrderState::Accepted, 3).id,
            step: Step::Recall {
                state: OrderState::Accepted
            }
        }]
    );
    assert!(
        b.message()
            .unwrap()
            .starts_with("recalling #1 back to placed"),
        "{:?}",
        b.message()
    );
    b.key(Key::Char('u'), T0 + 2000);
    assert_eq!(b.message(), Some("nothing to recall"));
}

#[test]
fn recall_after_the_window_is_nothing() {
    let mut b = board_with(vec![simple(1, OrderState::Placed, 1)]);
    b.incoming(
        Incoming::StepDone {
            order: simple(1, OrderState::Accepted, 2).id.clone(),
            step: Step::Accept,
            result: Ok(simple(1, OrderState::Accepted, 2)),
        },
        T0,
    );
    b.key(Key::Char('u'), T0 + 31_000);
    assert_eq!(b.message(), Some("nothing to recall"));
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
        [Effect::Transition {
            order: "trattoria-1".into(),
            step: Step::Reject {
                reason: "out of dough".into()
            }
        }]
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
    assert_eq!(
        fx,
        [Effect::Transition {
            order: "trattoria-3".into(),
            step: Step::Rush { rush: true },
        }]
    );
    assert!(!b.ticket("trattoria-3").unwrap().rush());
    assert!(b.ticket("trattoria-3").unwrap().pending);
    assert_eq!(ids(&b, Column::New), [1, 2, 3]);
    assert!(
        b.key(Key::Char('r'), T0).is_empty(),
        "one request at a time"
    );
    b.incoming(
        Incoming::StepDone {
            order: "trattoria-3".into(),
            step: Step::Rush { rush: true },
            result: Ok(rushed(simple(3, OrderState::Placed, 3), true)),
        },
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
        [Effect::Transition {
            order: "trattoria-3".into(),
            step: Step::Rush { rush: false },
        }]
    );
    b.incoming(
        Incoming::StepDone {
            order: "trattoria-3".into(),
            step: Step::Rush { rush: false },
            result: Ok(simple(3, OrderState::Placed, 4)),
        },
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
        Some("disconnected: nothing sent, #1 not marked rush; try again when connected")
    );
    b.incoming(connected(), T0);
    assert_eq!(b.key(Key::Char('r'), T0).len(), 1);
    b.incoming(
        Incoming::StepDone {
            order: "trattoria-1".into(),
            step: Step::Rush { rush: true },
            result: Err("cannot rush an order that is completed".into()),
        },
        T0,
    );
    assert_eq!(
        b.message(),
        Some("#1: cannot rush an order that is completed")
    );
    assert!(!b.ticket("trattoria-1").unwrap().rush());
    assert!(!b.ticket("trattoria-1").unwrap().pending);
}

#[test]
fn a_rush_answer_that_finds_the_order_moved_on_is_not_a_bump() {
    let mut b = board_with(vec![simple(1, OrderState::Preparing, 4)]);
    b.key(Key::Char('r'), T0);
    // Another board marked it ready meanwhile; the rush answer says so.
    b.incoming(
        Incoming::StepDone {
            order: "trattoria-1".into(),
            step: Step::Rush { rush: true },
            result: Ok(rushed(simple(1, OrderState::Ready, 6), true)),
        },
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
    keys(&mut b, &[Key::Right, Key::Char('l'), Key::Right]);
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
    // The selected ticket leaves: the cursor stays in range.
    b.incoming(
        Incoming::Events(vec![event(&simple(6, OrderState::Cancelled, 3))]),
        T0,
    );
    assert_eq!(b.selected().unwrap().order.ticket, 5);
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
    assert_eq!(ids(&b, Column::Preparing), [2]);
    assert!(ids(&b, Column::Ready).is_empty());
    assert!(b.shows_line("cold") && !b.shows_line("oven"));
    keys(&mut b, &[Key::Char('s'), Key::Char('s')]);
    assert_eq!(b.station(), Some("oven"));
    assert_eq!(ids(&b, Column::Preparing), Vec::<u64>::new());
    b.key(Key::Char('s'), T0);
    assert_eq!(b.station(), None, "back to every station");
    // A station given on the command line is known before any menu.
    let b = Board::new("trattoria", Some("grill".into()), Settings::default());
    assert_eq!(b.stations(), ["grill"]);
}

#[test]
fn all_day_counts_open_items_not_ready_ones() {
    let mut b = board_with(mixed());
    assert_eq!(
        b.all_day(),
        [("Tiramisu".to_string(), 4), ("Margherita".to_string(), 2)]
    );
    b.key(Key::Char('a'), T0);
    assert!(b.show_all_day);
    b.key(Key::Char('s'), T0); // cold
    assert_eq!(b.all_day(), [("Tiramisu".to_string(), 4)]);
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
    assert_eq!(ids(&b, Column::Preparing), [2]);
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
    assert_eq!(
        ids(&b, Column::Ready),
        Vec::<u64>::new(),
        "2 stays completed"
    );
}

//! Whole screens: a `TestBackend` driven by key events and server events,
//! snapshotted with insta (`snapshots/`). Time is fixed, and addresses
//! are filtered, so the snapshots only change when the screen does.

use protocol::messages::orders::OrderState;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::app::{self, Command, Env, Exit, NetMsg};
use super::model::tests::{T0, answer, connected, event, line, menu, order, refused, simple};
use super::model::{Board, Conn, Incoming, Key, Settings, Step};
use super::view;

struct Screen {
    board: Board,
    term: Terminal<TestBackend>,
    now: u64,
}

impl Screen {
    fn new(w: u16, h: u16) -> Screen {
        let mut board = Board::new("trattoria", None, Settings::default());
        board.set_viewport(w, h);
        board.incoming(connected(), T0);
        Screen {
            board,
            term: Terminal::new(TestBackend::new(w, h)).unwrap(),
            now: T0 + 3 * 60_000,
        }
    }

    fn server(&mut self, m: Incoming) -> &mut Self {
        self.board.incoming(m, self.now);
        self
    }

    fn keys(&mut self, ks: &[Key]) -> &mut Self {
        for k in ks {
            self.board.key(*k, self.now);
        }
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        for c in s.chars() {
            self.board.key(Key::Char(c), self.now);
        }
        self
    }

    fn draw(&mut self) -> String {
        let (b, now) = (&self.board, self.now);
        self.term.draw(|f| view::render(b, now, f)).unwrap();
        self.term.backend().to_string()
    }
}

macro_rules! snap {
    ($name:expr, $screen:expr) => {{
        let text = $screen.draw();
        insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "[addr]")]}, {
            insta::assert_snapshot!($name, text);
        });
    }};
}

fn shift() -> Vec<protocol::messages::orders::Order> {
    let mut pizza = line("margherita", "Margherita", 2, "oven");
    pizza.modifiers = vec!["Extra cheese".into()];
    pizza.allergens = "gluten; milk".into();
    let mut first = order(
        41,
        OrderState::Placed,
        2,
        vec![pizza, line("tiramisu", "Tiramisu", 1, "cold")],
    );
    first.note = "ring twice".into();
    first.created_at = T0 - 8 * 60_000; // yellow
    let mut late = simple(38, OrderState::Preparing, 4);
    late.created_at = T0 - 20 * 60_000; // red
    vec![
        first,
        simple(42, OrderState::Placed, 2),
        simple(40, OrderState::Accepted, 3),
        late,
        order(
            39,
            OrderState::Ready,
            5,
            vec![line("fries", "Fries", 3, "fry")],
        ),
    ]
}

fn with_shift() -> Screen {
    let mut s = Screen::new(100, 24);
    s.server(Incoming::Snapshot {
        orders: shift(),
        menu: menu(),
    });
    s
}

#[test]
fn expo_view() {
    snap!("expo", with_shift());
}

#[test]
fn connecting_before_the_first_snapshot() {
    let mut s = Screen::new(80, 12);
    s.server(Incoming::Conn(Conn::Connecting));
    snap!("connecting", s);
}

#[test]
fn live_order_and_bump() {
    let mut s = with_shift();
    // A new order arrives; the cook moves to it and bumps it.
    s.server(Incoming::Events(vec![event(&simple(
        43,
        OrderState::Placed,
        2,
    ))]));
    s.keys(&[Key::Down, Key::Down, Key::Enter]);
    s.server(answer(
        "trattoria-43",
        Step::Accept,
        2,
        Ok(simple(43, OrderState::Accepted, 3)),
    ));
    snap!("after_bump", s);
}

#[test]
fn refused_bump_is_a_message() {
    let mut s = with_shift();
    s.keys(&[Key::Enter]);
    s.server(answer(
        "trattoria-41",
        Step::Accept,
        2,
        refused("cannot accept an order that is accepted"),
    ));
    snap!("refused", s);
}

#[test]
fn disconnected_refuses_bumps() {
    let mut s = with_shift();
    s.server(Incoming::Conn(Conn::Reconnecting {
        reason: "connection lost".into(),
    }));
    s.keys(&[Key::Enter]);
    snap!("disconnected", s);
}

#[test]
fn station_and_all_day() {
    let mut s = with_shift();
    s.keys(&[
        Key::Char('s'),
        Key::Char('s'),
        Key::Char('s'),
        Key::Char('a'),
    ]);
    snap!("station_oven_all_day", s);
}

#[test]
fn panel_86() {
    let mut s = with_shift();
    s.keys(&[Key::Char('8'), Key::Down]);
    snap!("panel_86", s);
}

#[test]
fn help_overlay() {
    let mut s = with_shift();
    s.keys(&[Key::Char('?')]);
    snap!("help", s);
}

#[test]
fn reject_prompt() {
    let mut s = with_shift();
    s.keys(&[Key::Char('x')]);
    s.text("out of dough");
    snap!("reject_prompt", s);
}

#[test]
fn search() {
    let mut s = with_shift();
    s.keys(&[Key::Char('/')]);
    s.text("fries");
    snap!("search", s);
}

#[test]
fn recall_explains_itself() {
    let mut s = with_shift();
    s.keys(&[Key::Enter]);
    s.server(answer(
        "trattoria-41",
        Step::Accept,
        2,
        Ok({
            let mut o = shift().remove(0);
            o.state = OrderState::Accepted;
            o.version = 3;
            o
        }),
    ));
    s.keys(&[Key::Char('u')]);
    snap!("recall", s);
}

#[test]
fn rush_comes_back_from_the_server() {
    let mut s = with_shift();
    s.keys(&[Key::Right, Key::Down, Key::Char('r')]);
    let mut o = shift()
        .into_iter()
        .find(|o| o.ticket == 40)
        .expect("#40, second in Preparing");
    o.rush = true;
    o.version += 1;
    s.server(answer(
        &o.id.clone(),
        Step::Rush { rush: true },
        o.version - 1,
        Ok(o),
    ));
    snap!("rush", s);
}

struct TestEnv {
    now: u64,
    bells: u32,
}

impl Env for TestEnv {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn bell(&mut self) {
        self.bells += 1;
    }
}

/// The real loop on a `TestBackend`: server news and keys through the
/// channels, commands out, bell rung, `q` ends it.
#[tokio::test]
async fn the_loop_routes_keys_news_and_commands() {
    let mut term = Terminal::new(TestBackend::new(100, 24)).unwrap();
    let mut board = Board::new("trattoria", None, Settings::default());
    let (key_tx, mut keys) = mpsc::unbounded_channel();
    let (net_tx, mut net) = mpsc::unbounded_channel();
    let (cmd_tx, mut cmds) = mpsc::unbounded_channel();
    let mut env = TestEnv { now: T0, bells: 0 };
    net_tx.send(NetMsg::Update(connected())).unwrap();
    net_tx
        .send(NetMsg::Update(Incoming::Snapshot {
            orders: vec![],
            menu: menu(),
        }))
        .unwrap();
    net_tx
        .send(NetMsg::Update(Incoming::Events(vec![event(&simple(
            7,
            OrderState::Placed,
            2,
        ))])))
        .unwrap();
    let driver = async {
        // Let the loop take the news first (it redraws after each).
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        key_tx.send(Key::Enter).unwrap();
        key_tx.send(Key::Char('8')).unwrap();
        key_tx.send(Key::Enter).unwrap();
        key_tx.send(Key::Esc).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // The accept is unanswered: `q` asks, `y` quits.
        key_tx.send(Key::Char('q')).unwrap();
        key_tx.send(Key::Char('y')).unwrap();
    };
    let (exit, ()) = tokio::join!(
        app::run(
            &mut term, &mut board, &mut keys, &mut net, &cmd_tx, &mut env
        ),
        driver
    );
    assert_eq!(exit.unwrap(), Exit::Quit);
    assert_eq!(env.bells, 1);
    assert_eq!(
        cmds.try_recv().unwrap(),
        Command::Transition {
            order: "trattoria-7".into(),
            step: Step::Accept,
            expected_version: 2,
        }
    );
    assert_eq!(
        cmds.try_recv().unwrap(),
        Command::Set86 {
            sku: "margherita".into(),
            available: false
        }
    );
    let screen = term.backend().to_string();
    assert!(screen.contains("#7 guest7 …"), "{screen}");
}

#[tokio::test]
async fn the_loop_ends_on_a_fatal_network_message() {
    let mut term = Terminal::new(TestBackend::new(40, 10)).unwrap();
    let mut board = Board::new("trattoria", None, Settings::default());
    let (_key_tx, mut keys) = mpsc::unbounded_channel();
    let (net_tx, mut net) = mpsc::unbounded_channel();
    let (cmd_tx, _cmds) = mpsc::unbounded_channel();
    net_tx
        .send(NetMsg::Fatal("only staff of trattoria may do this".into()))
        .unwrap();
    let exit = app::run(
        &mut term,
        &mut board,
        &mut keys,
        &mut net,
        &cmd_tx,
        &mut TestEnv { now: T0, bells: 0 },
    )
    .await
    .unwrap();
    assert_eq!(
        exit,
        Exit::Lost("only staff of trattoria may do this".into())
    );
}

#[test]
fn crossterm_keys_translate() {
    use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
    let k = |code, m| app::key_from(&KeyEvent::new(code, m));
    assert_eq!(
        k(KeyCode::Char('j'), KeyModifiers::NONE),
        Some(Key::Char('j'))
    );
    assert_eq!(
        k(KeyCode::Char('c'), KeyModifiers::CONTROL),
        Some(Key::Interrupt)
    );
    assert_eq!(k(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
    assert_eq!(k(KeyCode::Enter, KeyModifiers::NONE), Some(Key::Enter));
    assert_eq!(k(KeyCode::F(1), KeyModifiers::NONE), None);
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert_eq!(app::key_from(&release), None);
}

#[test]
fn commands_become_requests() {
    use super::net::request_for;
    let (ty, body) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Reject {
                reason: "closing".into(),
            },
            expected_version: 2,
        },
    );
    assert_eq!(ty, "order.reject");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "reason": "closing", "expected_version": 2})
    );
    let (ty, body) = request_for(
        "trattoria",
        &Command::Set86 {
            sku: "fries".into(),
            available: true,
        },
    );
    assert_eq!(ty, "menu.un86");
    assert_eq!(
        body,
        serde_json::json!({"restaurant": "trattoria", "sku": "fries"})
    );
    // Every step carries the version the cook saw: the daemon's guard.
    let (ty, body) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Start,
            expected_version: 3,
        },
    );
    assert_eq!(ty, "order.start");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "expected_version": 3})
    );
    let (ty, body) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Station {
                station: "oven".into(),
                ready: true,
            },
            expected_version: 4,
        },
    );
    assert_eq!(ty, "order.station_ready");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "station": "oven", "ready": true, "expected_version": 4})
    );
    let (ty, body) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Rush { rush: false },
            expected_version: 3,
        },
    );
    assert_eq!(ty, "order.rush");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "rush": false})
    );
}

// ---- a dinner rush (issue 15) ---------------------------------------------

const PEANUT: &str = "Table 4: SEVERE peanut allergy - cook in a clean pan, no peanut oil, no satay sauce anywhere near it. EpiPen at table";

/// 96 open tickets as on a Friday night: every state, pizzas with their
/// menu allergens, repeated lines, notes (some about allergies, one
/// long), rushes, and ages from fresh to half an hour late.
fn rush_orders() -> Vec<protocol::messages::orders::Order> {
    (1..=96u64)
        .map(|i| {
            let state = match i % 8 {
                0..=2 => OrderState::Placed,
                3 => OrderState::Accepted,
                4 | 5 => OrderState::Preparing,
                _ => OrderState::Ready,
            };
            let mut pizza = line("margherita", "Margherita", 1 + (i % 3) as u32, "oven");
            pizza.modifiers = if i % 2 == 0 {
                vec!["Extra cheese".into()]
            } else {
                vec![]
            };
            pizza.allergens = "gluten; milk".into();
            let lines = match i % 5 {
                0 => vec![
                    pizza.clone(),
                    pizza,
                    line("tiramisu", "Tiramisu", 1, "cold"),
                ],
                1 => vec![line("carbonara", "Spaghetti carbonara", 2, "pasta")],
                2 => vec![pizza, line("fries", "Fries", 3, "fry")],
                3 => vec![
                    line("salad", "Insalata mista", 1, "cold"),
                    line("carbonara", "Spaghetti carbonara", 1, "pasta"),
                ],
                _ => vec![pizza],
            };
            let mut o = order(i, state, 2 + i % 3, lines);
            o.created_at = T0 - (100 - i) * 20_000;
            o.note = if i % 11 == 0 {
                PEANUT.into()
            } else if i % 7 == 0 {
                "no onions, extra napkins".into()
            } else {
                String::new()
            };
            o.rush = i % 23 == 0;
            o
        })
        .collect()
}

/// The rush, with three orders just arrived and one bump whose answer
/// was lost in a failover.
fn rush(w: u16, h: u16) -> Screen {
    let mut s = Screen::new(w, h);
    s.server(Incoming::Snapshot {
        orders: rush_orders(),
        menu: menu(),
    });
    s.now = T0 + 3 * 60_000 - 20_000;
    let fresh: Vec<_> = (97..=99u64)
        .map(|i| {
            let mut o = simple(i, OrderState::Placed, 2);
            o.created_at = s.now;
            event(&o)
        })
        .collect();
    s.server(Incoming::Events(fresh));
    s.now = T0 + 3 * 60_000;
    s.keys(&[Key::Enter]);
    s.server(answer(
        "trattoria-1",
        Step::Accept,
        3,
        Err(super::model::StepError::Unconfirmed(
            "connection to 127.0.0.1:7400 lost: reset".into(),
        )),
    ));
    s
}

#[test]
fn rush_at_80x24() {
    snap!("rush_80x24", rush(80, 24));
}

#[test]
fn rush_at_200x50() {
    snap!("rush_200x50", rush(200, 50));
}

#[test]
fn rush_at_320x90() {
    snap!("rush_320x90", rush(320, 90));
}

#[test]
fn rush_scrolled_down_at_200x50() {
    let mut s = rush(200, 50);
    s.keys(&[Key::Down; 8]);
    snap!("rush_scrolled_200x50", s);
}

#[test]
fn a_long_allergy_note_in_the_detail_view() {
    let mut s = rush(80, 24);
    // #11 (accepted) has the long note.
    s.text("/11");
    s.keys(&[Key::Enter, Key::Right, Key::Char('i')]);
    snap!("detail_80x24", s);
}

#[test]
fn too_small() {
    let mut s = rush(59, 20);
    snap!("too_small", s);
}

#[test]
fn another_screen_moves_the_selected_ticket() {
    let mut s = with_shift();
    // #41 is selected; another board accepts it; the press that follows
    // at once is refused, naming both tickets.
    let mut o = shift().remove(0);
    o.state = OrderState::Accepted;
    o.version = 3;
    s.server(Incoming::Events(vec![event(&o)]));
    s.now += 300;
    s.keys(&[Key::Enter]);
    snap!("slide_refused", s);
}

#[test]
fn a_bump_lost_in_a_failover_stays_on_its_ticket() {
    let mut s = with_shift();
    s.keys(&[Key::Enter]);
    s.server(answer(
        "trattoria-41",
        Step::Accept,
        2,
        Err(super::model::StepError::Unconfirmed(
            "connection to 127.0.0.1:7400 lost: reset".into(),
        )),
    ));
    s.server(Incoming::Conn(Conn::Connected {
        node: "node-2".into(),
        addr: "127.0.0.1:7401".into(),
    }));
    snap!("failover_unconfirmed", s);
    // `q` asks first.
    s.keys(&[Key::Char('q')]);
    snap!("confirm_quit", s);
}

#[test]
fn completed_screen() {
    let mut s = with_shift();
    for (t, v) in [(39, 6), (36, 9)] {
        let mut o = order(
            t,
            OrderState::Completed,
            v,
            vec![line("fries", "Fries", 3, "fry")],
        );
        o.customer = format!("guest{t}");
        s.server(Incoming::Events(vec![event(&o)]));
        s.now += 100_000;
    }
    s.keys(&[Key::Char('c'), Key::Down]);
    snap!("completed", s);
}

#[test]
fn stock_in_the_86_panel_and_all_day() {
    let mut s = with_shift();
    let mut m = menu();
    m.items[1].stock = Some(2);
    m.items[0].stock = Some(0);
    s.server(Incoming::Events(vec![protocol::messages::Event {
        kind: "menu.changed".into(),
        subject: "trattoria".into(),
        data: serde_json::to_value(&m).unwrap(),
    }]));
    s.keys(&[Key::Char('a')]);
    snap!("all_day_stock", s);
    s.keys(&[Key::Char('a'), Key::Char('8')]);
    snap!("panel_86_stock", s);
}

#[test]
fn failed_requests_are_told_apart() {
    use super::model::StepError;
    use super::net::step_error;
    use protocol::client::ClientError;
    use protocol::wire::{ErrorBody, ErrorCode};
    let refused = ClientError::Server(ErrorBody::new(
        ErrorCode::Conflict,
        "cannot accept an order that is accepted",
    ));
    assert_eq!(
        step_error(&refused),
        StepError::Refused("cannot accept an order that is accepted".into())
    );
    let never = ClientError::Connect {
        endpoint: "127.0.0.1:7400".into(),
        reason: "connection refused".into(),
    };
    assert!(matches!(step_error(&never), StepError::NotSent(_)));
    // The node died with the request on its way: it may have happened.
    let lost = ClientError::Transport {
        endpoint: "127.0.0.1:7400".into(),
        reason: "reset".into(),
    };
    assert!(matches!(step_error(&lost), StepError::Unconfirmed(_)));
    let timeout = ClientError::Timeout {
        endpoint: "127.0.0.1:7400".into(),
        timeout: std::time::Duration::from_secs(5),
    };
    assert!(matches!(step_error(&timeout), StepError::Unconfirmed(_)));
    let internal = ClientError::Server(ErrorBody::new(ErrorCode::Internal, "store timeout"));
    assert!(matches!(step_error(&internal), StepError::Unconfirmed(_)));
}

//! Whole screens: a `TestBackend` driven by key events and server events,
//! snapshotted with insta (`snapshots/`). Time is fixed, and addresses
//! are filtered, so the snapshots only change when the screen does.

use protocol::messages::orders::OrderState;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::app::{self, Command, Env, Exit, NetMsg};
use super::model::tests::{T0, connected, event, line, menu, order, simple};
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
    let mut s = Screen::new(80, 8);
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
    s.server(Incoming::StepDone {
        order: "trattoria-43".into(),
        step: Step::Accept,
        result: Ok(simple(43, OrderState::Accepted, 3)),
    });
    snap!("after_bump", s);
}

#[test]
fn refused_bump_is_a_message() {
    let mut s = with_shift();
    s.keys(&[Key::Enter]);
    s.server(Incoming::StepDone {
        order: "trattoria-41".into(),
        step: Step::Accept,
        result: Err("cannot accept an order that is accepted".into()),
    });
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
    s.server(Incoming::StepDone {
        order: "trattoria-41".into(),
        step: Step::Accept,
        result: Ok({
            let mut o = shift().remove(0);
            o.state = OrderState::Accepted;
            o.version = 3;
            o
        }),
    });
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
    s.server(Incoming::StepDone {
        order: o.id.clone(),
        step: Step::Rush { rush: true },
        result: Ok(o),
    });
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
        key_tx.send(Key::Char('q')).unwrap();
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
            step: Step::Accept
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
        },
    );
    assert_eq!(ty, "order.reject");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "reason": "closing"})
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
    let (ty, _) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Start,
        },
    );
    assert_eq!(ty, "order.start");
    let (ty, body) = request_for(
        "trattoria",
        &Command::Transition {
            order: "trattoria-1".into(),
            step: Step::Rush { rush: false },
        },
    );
    assert_eq!(ty, "order.rush");
    assert_eq!(
        body,
        serde_json::json!({"order": "trattoria-1", "rush": false})
    );
}

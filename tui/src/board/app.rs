//! The board's event loop: keys and server news in, frames and commands
//! out. Generic over the ratatui [`Backend`], so tests drive it on a
//! `TestBackend`; it performs no network I/O itself — the network task
//! ([`super::net`]) sends [`NetMsg`]s and receives [`Command`]s over
//! channels (gitui's asyncgit split).

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use super::model::{Board, Effect, Incoming, Key, Step};
use super::view;

/// What the UI asks the network task to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A kitchen step; `expected_version` is the order version the cook
    /// saw, carried to the answer ([`super::model::Incoming::StepDone`])
    /// and, once the daemon takes it, onto the wire as its guard.
    Transition {
        order: String,
        step: Step,
        expected_version: u64,
    },
    Set86 {
        sku: String,
        available: bool,
    },
}

/// What the network task tells the UI.
#[allow(clippy::large_enum_variant)] // see `Incoming`
#[derive(Debug, Clone, PartialEq)]
pub enum NetMsg {
    Update(Incoming),
    /// The board cannot go on (e.g. the session ended, or the restaurant
    /// is not yours); the loop ends and the message is shown after the
    /// terminal is restored.
    Fatal(String),
}

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// `q` or Ctrl-C.
    Quit,
    /// The connection was lost for good.
    Lost(String),
}

/// The outside world the loop needs besides channels: a clock (Unix
/// milliseconds) and a bell.
pub trait Env {
    fn now_ms(&mut self) -> u64;
    fn bell(&mut self);
}

/// The real clock, and BEL written to the terminal.
pub struct RealEnv;

impl Env for RealEnv {
    fn now_ms(&mut self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn bell(&mut self) {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(b"\x07");
        let _ = out.flush();
    }
}

/// Runs the board until quit or a fatal network message. Redraws after
/// every key and every server message, and once a second for the ages.
pub async fn run<B: Backend, E: Env>(
    terminal: &mut Terminal<B>,
    board: &mut Board,
    keys: &mut mpsc::UnboundedReceiver<Key>,
    net: &mut mpsc::UnboundedReceiver<NetMsg>,
    commands: &mpsc::UnboundedSender<Command>,
    env: &mut E,
) -> Result<Exit, B::Error> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let now = env.now_ms();
        let size = terminal.size()?;
        board.set_viewport(size.width, size.height);
        terminal.draw(|f| view::render(board, now, f))?;
        let effects = tokio::select! {
            k = keys.recv() => match k {
                Some(k) => board.key(k, env.now_ms()),
                None => return Ok(Exit::Quit),
            },
            m = net.recv() => match m {
                Some(NetMsg::Update(i)) => board.incoming(i, env.now_ms()),
                Some(NetMsg::Fatal(e)) => return Ok(Exit::Lost(e)),
                None => return Ok(Exit::Lost("the network task stopped".into())),
            },
            _ = tick.tick() => Vec::new(),
        };
        for e in effects {
            match e {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::Bell => env.bell(),
                Effect::Transition {
                    order,
                    step,
                    expected_version,
                } => {
                    let _ = commands.send(Command::Transition {
                        order,
                        step,
                        expected_version,
                    });
                }
                Effect::Set86 { sku, available } => {
                    let _ = commands.send(Command::Set86 { sku, available });
                }
            }
        }
    }
}

/// Translates a crossterm key event (`None`: not one the board uses).
pub fn key_from(ev: &crossterm::event::KeyEvent) -> Option<Key> {
    use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if ev.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(ev.code, KeyCode::Char('c') | KeyCode::Char('d'))
            .then_some(Key::Interrupt);
    }
    Some(match ev.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        _ => return None,
    })
}

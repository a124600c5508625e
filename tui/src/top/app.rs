//! The dashboard's event loop: keys and readings in, frames and operator
//! actions out. Generic over the ratatui [`Backend`], so tests drive it on
//! a `TestBackend`; the network task ([`super::net`]) sends
//! [`NetMsg`]s and receives [`Op`]s over channels.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use super::model::{Effect, Incoming, Key, Op, Top};
use super::view;

/// What the network task tells the UI.
#[allow(clippy::large_enum_variant)] // see `Incoming`
#[derive(Debug, Clone, PartialEq)]
pub enum NetMsg {
    Update(Incoming),
    /// The dashboard cannot go on (e.g. the login is not an operator's);
    /// the message is shown after the terminal is restored.
    Fatal(String),
}

pub use crate::board::app::{Env, Exit, RealEnv};

/// Runs the dashboard until quit or a fatal network message. Redraws after
/// every key and every reading, and once a second for the countdowns.
pub async fn run<B: Backend, E: Env>(
    terminal: &mut Terminal<B>,
    top: &mut Top,
    keys: &mut mpsc::UnboundedReceiver<Key>,
    net: &mut mpsc::UnboundedReceiver<NetMsg>,
    ops: &mpsc::UnboundedSender<Op>,
    env: &mut E,
) -> Result<Exit, B::Error> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let now = env.now_ms();
        terminal.draw(|f| view::render(top, now, f))?;
        let effects = tokio::select! {
            k = keys.recv() => match k {
                Some(k) => top.key(k, env.now_ms()),
                None => return Ok(Exit::Quit),
            },
            m = net.recv() => match m {
                Some(NetMsg::Update(i)) => {
                    top.incoming(i, env.now_ms());
                    Vec::new()
                }
                Some(NetMsg::Fatal(e)) => return Ok(Exit::Lost(e)),
                None => return Ok(Exit::Lost("the network task stopped".into())),
            },
            _ = tick.tick() => Vec::new(),
        };
        for e in effects {
            match e {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::Send(op) => {
                    let _ = ops.send(op);
                }
            }
        }
    }
}

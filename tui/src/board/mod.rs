//! The kitchen board (`dfood board --restaurant R [--station S]`).
//!
//! - [`model`]: tickets, columns, selection, filters, panels; keys →
//!   [`model::Action`] → [`model::Effect`]. Sans IO, takes `now`.
//! - [`layout`]: where columns and cards go for a terminal size, shared
//!   by the view (drawing) and the model (moving the cursor).
//! - [`view`]: draws a `&Board` (ratatui widgets).
//! - [`app`]: the event loop, generic over the ratatui backend; channels
//!   in (keys, [`app::NetMsg`]) and out ([`app::Command`]).
//! - [`net`]: the network task (`protocol::session`), the only part that
//!   talks to the cluster.
//!
//! [`run`] wires them to the real terminal.

pub mod app;
pub mod layout;
pub mod model;
pub mod net;
pub mod view;

#[cfg(test)]
mod tests;

use protocol::session::Session;
use tokio::sync::mpsc;

pub use app::Exit;
pub use model::{Board, Settings};

use crate::term::TerminalGuard;

/// Runs the board on the real terminal until `q`, Ctrl-C, SIGTERM/SIGHUP
/// or a fatal loss of the connection; the terminal is restored on every
/// one of these paths (and on panic).
pub async fn run<T: net::Tokens>(
    session: Session,
    board: Board,
    token: String,
    tokens: T,
) -> std::io::Result<Exit> {
    let mut board = board;
    let (net_tx, mut net_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let restaurant = board.restaurant.clone();

    let mut guard = TerminalGuard::enter()?;
    // In raw mode from here: keys come one by one.
    let (mut keys, _key_thread) = crate::term::key_reader(app::key_from);
    let mut env = app::RealEnv;
    let net = net::run(session, restaurant, token, tokens, net_tx, cmd_rx);
    let ui = app::run(
        &mut guard.terminal,
        &mut board,
        &mut keys,
        &mut net_rx,
        &cmd_tx,
        &mut env,
    );
    let exit = tokio::select! {
        r = ui => r?,
        _ = net => Exit::Lost("the network task stopped".into()),
        _ = crate::term::terminated() => Exit::Quit,
    };
    drop(guard);
    Ok(exit)
}

//! The kitchen board (`dfood board --restaurant R [--station S]`).
//!
//! - [`model`]: tickets, columns, selection, filters, panels; keys →
//!   [`model::Action`] → [`model::Effect`]. Sans IO, takes `now`.
//! - [`view`]: draws a `&Board` (ratatui widgets).
//! - [`app`]: the event loop, generic over the ratatui backend; channels
//!   in (keys, [`app::NetMsg`]) and out ([`app::Command`]).
//! - [`net`]: the network task (`protocol::session`), the only part that
//!   talks to the cluster.
//!
//! [`run`] wires them to the real terminal.

pub mod app;
pub mod model;
pub mod net;
pub mod view;

#[cfg(test)]
mod tests;

use std::time::Duration;

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
    let (key_tx, mut keys) = mpsc::unbounded_channel();
    let (net_tx, mut net_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let restaurant = board.restaurant.clone();

    let mut guard = TerminalGuard::enter()?;
    // Reading keys blocks, so it has a thread of its own; it ends when
    // the loop drops the receiver.
    std::thread::spawn(move || {
        while !key_tx.is_closed() {
            match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => break,
            }
            match crossterm::event::read() {
                Ok(crossterm::event::Event::Key(k)) => {
                    if let Some(k) = app::key_from(&k)
                        && key_tx.send(k).is_err()
                    {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
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
        _ = terminated() => Exit::Quit,
    };
    drop(guard);
    Ok(exit)
}

/// SIGTERM or SIGHUP (the terminal went away).
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(mut t), Ok(mut h)) => {
            tokio::select! {
                _ = t.recv() => {}
                _ = h.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

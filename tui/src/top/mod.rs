//! The operator dashboard (`dfood top`).
//!
//! - [`model`]: the last reading of the cluster, the sparkline history,
//!   selection and confirmation prompt; keys → [`model::Effect`]. Sans IO,
//!   takes `now`.
//! - [`view`]: draws a `&Top` (ratatui widgets).
//! - [`app`]: the event loop, generic over the ratatui backend; channels
//!   in (keys, [`app::NetMsg`]) and out ([`model::Op`]).
//! - [`net`]: the network task (`protocol::session`), reading
//!   `cluster.top` once a second and sending the confirmed actions.
//!
//! [`run`] wires them to the real terminal, like the board's.

pub mod app;
pub mod model;
pub mod net;
pub mod view;

#[cfg(test)]
mod tests;

use protocol::session::Session;
use tokio::sync::mpsc;

pub use app::Exit;
pub use model::Top;

use crate::term::TerminalGuard;

/// Runs the dashboard on the real terminal until `q`, Ctrl-C,
/// SIGTERM/SIGHUP or a fatal answer (not an operator); the terminal is
/// restored on every one of these paths (and on panic).
pub async fn run<T: net::Tokens>(
    session: Session,
    token: String,
    tokens: T,
) -> std::io::Result<Exit> {
    let mut top = Top::new();
    let (net_tx, mut net_rx) = mpsc::unbounded_channel();
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let mut guard = TerminalGuard::enter()?;
    let (mut keys, _key_thread) = crate::term::key_reader(crate::board::app::key_from);
    let mut env = app::RealEnv;
    let net = net::run(session, token, tokens, net_tx, op_rx);
    let ui = app::run(
        &mut guard.terminal,
        &mut top,
        &mut keys,
        &mut net_rx,
        &op_tx,
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

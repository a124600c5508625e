//! The real terminal: raw mode and the alternate screen on the way in,
//! and the way back out on every exit path — a normal return or an error
//! (the [`TerminalGuard`] is dropped), and a panic (ratatui's panic hook
//! restores before the message is printed). Ctrl-C arrives as a key in
//! raw mode and quits like `q`; SIGTERM and SIGHUP are handled by the
//! board's runner, which returns normally so the guard restores.

use std::io::{self, Stdout};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Owns the terminal while a UI runs; restores it when dropped.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen (and installs the panic
    /// hook that leaves them).
    pub fn enter() -> io::Result<TerminalGuard> {
        let mut terminal = match ratatui::try_init() {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        terminal.hide_cursor()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor; safe to
/// call more than once.
pub fn restore() {
    ratatui::restore();
    let _ = crossterm::execute!(io::stdout(), crossterm::cursor::Show);
}

/// Reads keys on a thread of its own (reading blocks) and sends those
/// `translate` keeps; the thread ends when the receiver is dropped.
pub fn key_reader<K: Send + 'static>(
    translate: fn(&crossterm::event::KeyEvent) -> Option<K>,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<K>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let thread = std::thread::spawn(move || {
        while !tx.is_closed() {
            match crossterm::event::poll(std::time::Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => break,
            }
            match crossterm::event::read() {
                Ok(crossterm::event::Event::Key(k)) => {
                    if let Some(k) = translate(&k)
                        && tx.send(k).is_err()
                    {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    (rx, thread)
}

/// Resolves on SIGTERM or SIGHUP (the terminal went away).
pub async fn terminated() {
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

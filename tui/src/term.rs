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

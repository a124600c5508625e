//! `dfood board`: the kitchen board, a full-screen terminal UI (the `tui`
//! crate). This file only checks that there is a terminal, logs in, and
//! hands over; it maps how the board ended to an exit code.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;

use crate::args::Global;
use crate::output::CliError;

#[derive(Debug, Args)]
pub struct BoardArgs {
    /// The restaurant whose kitchen this is (you must be its staff).
    #[arg(long, short, env = "DFOOD_RESTAURANT")]
    pub restaurant: String,
    /// Show only this station's items (grill, fry, cold...); `s` cycles
    /// stations on the board. Default: every station (expo view).
    #[arg(long)]
    pub station: Option<String>,
    /// A ticket older than this turns yellow.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub warn_after: Duration,
    /// A ticket older than this turns red.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub late_after: Duration,
}

/// Gets a fresh token the way every command does (refreshing the saved
/// session), for a board (or dashboard) that outlives its access token.
pub(crate) struct SavedLogin<'a> {
    pub(crate) g: &'a Global,
}

impl tui::board::net::Tokens for SavedLogin<'_> {
    async fn fresh(&mut self) -> Result<String, String> {
        match super::connect_authed(self.g).await {
            Ok((session, token)) => {
                session.close().await;
                Ok(token)
            }
            Err(e) => Err(e.message),
        }
    }
}

pub async fn board(g: &Global, a: BoardArgs) -> Result<(), CliError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            crate::exit::USAGE,
            "not_a_terminal",
            format!(
                "dfood board needs a terminal; for scripts, follow the same orders with `dfood events --restaurant {}`",
                a.restaurant
            ),
        ));
    }
    if a.late_after < a.warn_after {
        return Err(CliError::new(
            crate::exit::USAGE,
            "bad_request",
            "--late-after must not be shorter than --warn-after",
        ));
    }
    let (session, token) = super::connect_authed(g).await?;
    let settings = tui::board::Settings {
        warn_after_ms: a.warn_after.as_millis() as u64,
        late_after_ms: a.late_after.as_millis() as u64,
        ..Default::default()
    };
    let board = tui::board::Board::new(a.restaurant, a.station, settings);
    let exit = tui::board::run(session, board, token, SavedLogin { g })
        .await
        .map_err(|e| CliError::new(crate::exit::FAILURE, "terminal", e.to_string()))?;
    match exit {
        tui::board::Exit::Quit => Ok(()),
        tui::board::Exit::Lost(why) => Err(CliError::new(
            crate::exit::UNAVAILABLE,
            "unavailable",
            format!("the board stopped: {why}"),
        )),
    }
}

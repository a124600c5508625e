//! `dfood top`: the operator dashboard, a full-screen terminal UI (the
//! `tui` crate). This file only checks that there is a terminal, logs in,
//! and hands over; it maps how the dashboard ended to an exit code.

use std::io::IsTerminal;

use protocol::messages::cluster::{Dashboard, types};

use crate::args::Global;
use crate::output::CliError;

use super::board::SavedLogin;

pub async fn top(g: &Global) -> Result<(), CliError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            crate::exit::USAGE,
            "not_a_terminal",
            "dfood top needs a terminal; for scripts, read the same facts with `dfood cluster status --output json`",
        ));
    }
    let (session, token) = super::connect_authed(g).await?;
    // One reading before the screen changes: a login that is not an
    // operator's (or a cluster that does not answer) is told here, with
    // its usual exit code, not from inside the dashboard.
    let _: Dashboard = session
        .call(types::TOP, Some(&token), &serde_json::json!({}))
        .await?;
    let exit = tui::top::run(session, token, SavedLogin { g })
        .await
        .map_err(|e| CliError::new(crate::exit::FAILURE, "terminal", e.to_string()))?;
    match exit {
        tui::top::Exit::Quit => Ok(()),
        tui::top::Exit::Lost(why) => Err(CliError::new(
            crate::exit::UNAVAILABLE,
            "unavailable",
            format!("the dashboard stopped: {why}"),
        )),
    }
}

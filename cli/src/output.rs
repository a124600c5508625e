//! Printing results and errors: human text or JSON, to stdout; errors once,
//! on one line, to stderr. A closed stdout (`dfood ... | head`) is not an
//! error.

use std::io::Write;

use serde::Serialize;

use crate::args::Output;

/// A failure to report, with its exit code.
#[derive(Debug)]
pub struct CliError {
    pub exit: u8,
    /// Stable machine code for JSON output, e.g. `unavailable`.
    pub code: &'static str,
    pub message: String,
}

impl CliError {
    pub fn new(exit: u8, code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            exit,
            code,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(crate::exit::CONFIG, "config", message)
    }
}

impl From<protocol::client::ClientError> for CliError {
    fn from(e: protocol::client::ClientError) -> Self {
        let exit = crate::exit::for_client_error(&e);
        let code = match &e {
            protocol::client::ClientError::Server(b) => b.code.as_str(),
            protocol::client::ClientError::Tls(_)
            | protocol::client::ClientError::Endpoint { .. } => "config",
            protocol::client::ClientError::Protocol { .. } => "protocol_error",
            _ => "unavailable",
        };
        let message = match &e {
            protocol::client::ClientError::Server(b) => b.message.clone(),
            other => other.to_string(),
        };
        CliError::new(exit, code, message)
    }
}

/// Writes `text` to stdout; a broken pipe ends the program quietly.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints `value` as pretty JSON, or the human rendering.
pub fn emit<T: Serialize>(format: Output, value: &T, human: impl FnOnce(&T) -> String) {
    match format {
        Output::Json => print(&serde_json::to_string_pretty(value).expect("serialisable")),
        Output::Human => print(&human(value)),
    }
}

pub fn report_error(format: Output, e: &CliError) {
    match format {
        Output::Json => {
            let doc = serde_json::json!({"error": {"code": e.code, "message": e.message}});
            eprintln!("{doc}");
        }
        Output::Human => eprintln!("dfood: {}", e.message),
    }
}

/// `3m 12s`-style durations for people.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Two-column `key  value` lines, keys padded to the widest.
pub fn kv_table(rows: &[(&str, String)]) -> String {
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{k:<w$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(192), "3m 12s");
        assert_eq!(human_duration(7322), "2h 2m");
        assert_eq!(human_duration(90000), "1d 1h");
    }

    #[test]
    fn kv_table_aligns() {
        assert_eq!(
            kv_table(&[("a", "1".into()), ("bbb", "2".into())]),
            "a    1\nbbb  2"
        );
    }
}

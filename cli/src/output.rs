//! Printing results and errors: human text or JSON, to stdout; errors once,
//! on one line, to stderr. A closed stdout (`dfood ... | head`) is not an
//! error.
//!
//! Whatever the server sent is printed harmless, as `ls` and `git` do:
//! in human text every control, DEL, C1 or bidirectional-override
//! character becomes a visible escape (`\x1b`, `\u{202e}`; our own line
//! breaks stay), in JSON the ones JSON leaves raw become `\uXXXX` (the
//! same document). A name or note with an escape sequence in it cannot
//! rewrite the terminal of whoever lists it.

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
    /// The order the error is about (a declined placement's), for scripts.
    pub order: Option<String>,
}

impl CliError {
    pub fn new(exit: u8, code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            exit,
            code,
            message: message.into(),
            order: None,
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
        let mut out = CliError::new(exit, code, message);
        if let protocol::client::ClientError::Server(b) = &e {
            out.order = b.order.clone();
        }
        out
    }
}

fn write_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes human `text` to stdout, control characters escaped (its line
/// breaks kept); a broken pipe ends the program quietly.
pub fn print(text: &str) {
    write_line(&protocol::text::escape(text, true));
}

/// Writes a JSON document's `text` to stdout, harmless on a terminal.
pub fn print_json(text: &str) {
    write_line(&protocol::text::escape_json(text));
}

/// Prints `value` as pretty JSON, or the human rendering.
pub fn emit<T: Serialize>(format: Output, value: &T, human: impl FnOnce(&T) -> String) {
    match format {
        Output::Json => print_json(&serde_json::to_string_pretty(value).expect("serialisable")),
        Output::Human => print(&human(value)),
    }
}

pub fn report_error(format: Output, e: &CliError) {
    match format {
        Output::Json => {
            let mut doc = serde_json::json!({"error": {"code": e.code, "message": e.message}});
            if let Some(order) = &e.order {
                doc["error"]["order"] = serde_json::json!(order);
            }
            eprintln!("{}", protocol::text::escape_json(&doc.to_string()));
        }
        // One line, whatever the message holds.
        Output::Human => eprintln!("dfood: {}", protocol::text::escape(&e.message, false)),
    }
}

/// The output format a command line asked for, read without clap (for
/// reporting clap's own errors): the last `--output`/`-o` given wins, else
/// `DFOOD_OUTPUT`, else human. Arguments after `--` are not options.
pub fn requested_output(args: &[std::ffi::OsString], env: Option<&std::ffi::OsStr>) -> Output {
    let parse = |v: &str| match v {
        "json" => Some(Output::Json),
        "human" => Some(Output::Human),
        _ => None,
    };
    let mut found = None;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let value = if a == "--output" || a == "-o" {
            it.next().map(|v| v.into_owned())
        } else if let Some(v) = a.strip_prefix("--output=") {
            Some(v.to_string())
        } else if let Some(v) = a.strip_prefix("-o") {
            (!a.starts_with("--")).then(|| v.trim_start_matches('=').to_string())
        } else {
            None
        };
        if let Some(f) = value.as_deref().and_then(parse) {
            found = Some(f);
        }
    }
    found
        .or_else(|| env.and_then(|v| parse(&v.to_string_lossy())))
        .unwrap_or(Output::Human)
}

/// A clap parse error as a [`CliError`] (exit 2, code `usage`): clap's
/// message on one line, without its `error:` prefix and usage block.
pub fn usage_error(e: &clap::Error) -> CliError {
    let text = e.render().to_string();
    let head = text.split("\n\n").next().unwrap_or(&text);
    let head = head.trim().strip_prefix("error:").unwrap_or(head);
    let message = head.split_whitespace().collect::<Vec<_>>().join(" ");
    CliError::new(crate::exit::USAGE, "usage", message)
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
    fn output_format_is_found_before_parsing() {
        let args = |s: &str| -> Vec<std::ffi::OsString> {
            std::iter::once("dfood")
                .chain(s.split_whitespace())
                .map(Into::into)
                .collect()
        };
        let json = Some(std::ffi::OsStr::new("json"));
        assert_eq!(
            requested_output(&args("order place -o json"), None),
            Output::Json
        );
        assert_eq!(requested_output(&args("-ojson order"), None), Output::Json);
        assert_eq!(
            requested_output(&args("--output=json x"), None),
            Output::Json
        );
        assert_eq!(
            requested_output(&args("--output json x"), None),
            Output::Json
        );
        assert_eq!(requested_output(&args("order place"), None), Output::Human);
        assert_eq!(requested_output(&args("order place"), json), Output::Json);
        assert_eq!(requested_output(&args("x -o human"), json), Output::Human);
        assert_eq!(
            requested_output(&args("x -o json -o human"), None),
            Output::Human
        );
        assert_eq!(requested_output(&args("x -- -o json"), None), Output::Human);
        assert_eq!(
            requested_output(&args("x --other json"), None),
            Output::Human
        );
    }

    #[test]
    fn usage_errors_are_one_line_with_exit_2() {
        let e = crate::args::command()
            .try_get_matches_from(["dfood", "order", "place", "trattoria"])
            .unwrap_err();
        let u = usage_error(&e);
        assert_eq!((u.exit, u.code), (2, "usage"));
        assert!(u.message.contains("--item"), "{}", u.message);
        assert!(
            !u.message.contains('\n') && !u.message.starts_with("error"),
            "{}",
            u.message
        );
        assert!(!u.message.contains("Usage:"), "{}", u.message);
    }

    #[test]
    fn what_the_server_sends_is_printed_harmless() {
        let hostile = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}";
        let human = protocol::text::escape(hostile, true);
        assert!(
            !human.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{human}"
        );
        assert!(human.contains("\\x1b]0;pwned\\x07"), "visible: {human}");
        let json = serde_json::to_string_pretty(&serde_json::json!({"name": hostile})).unwrap();
        let safe = protocol::text::escape_json(&json);
        assert!(
            !safe
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], hostile, "the JSON still says the same");
    }

    #[test]
    fn kv_table_aligns() {
        assert_eq!(
            kv_table(&[("a", "1".into()), ("bbb", "2".into())]),
            "a    1\nbbb  2"
        );
    }
}

//! `dfood`, the DistribuFood command line, as a library: the clap
//! definitions ([`args`]), the exit code table ([`exit`]), client settings
//! ([`settings`]), the commands ([`commands`]) and shell completions
//! ([`completions`]). `main.rs` only calls
//! [`commands::main`].

pub mod args;
pub mod commands;
pub mod completions;
pub mod credentials;
pub mod exit;
pub mod output;
pub mod settings;

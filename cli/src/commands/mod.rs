//! The commands: each resolves settings, talks to the cluster through a
//! [`protocol::session::Session`] (which fails over between nodes and
//! retries what is safe to retry), and prints its result.

pub mod auth;
pub mod bench;
pub mod board;
pub mod catalog;
pub mod cluster;
pub mod orders;
pub mod report;
pub mod top;

use std::path::PathBuf;

use clap::Parser;
use protocol::messages::{HealthRequest, HealthResponse, types};
use protocol::session::{self, Session, SessionOptions};
use serde::Serialize;

use crate::args::{Cli, Command, ConfigAction, Global, Output};
use crate::output::{CliError, emit, human_duration, kv_table, print, print_json, report_error};
use crate::settings::{self, FileSettings};

/// Connects with an access token, refreshing the saved session when needed
/// (see [`auth::connect_authed`]).
pub use auth::connect_authed;

/// Runs `dfood` with the process's arguments; returns the exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version: not errors.
                let _ = e.print();
                return crate::exit::OK;
            }
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            let env = std::env::var_os("DFOOD_OUTPUT");
            match crate::output::requested_output(&args, env.as_deref()) {
                Output::Json => report_error(Output::Json, &crate::output::usage_error(&e)),
                Output::Human => {
                    let _ = e.print();
                }
            }
            return crate::exit::USAGE;
        }
    };
    let format = cli.global.output;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report_error(
                format,
                &CliError::new(crate::exit::FAILURE, "internal", e.to_string()),
            );
            return crate::exit::FAILURE;
        }
    };
    let rerun = may_rerun(&cli.command);
    let result = match runtime.block_on(run(cli)) {
        // The saved session's access token was refused though it has not
        // expired (its signing key was revoked, say): renew it once and
        // run the command again. It was refused before doing anything.
        Err(e) if e.exit == crate::exit::UNAUTHENTICATED && rerun => match Cli::try_parse() {
            Ok(again) if runtime.block_on(auth::force_refresh(&again.global)) => {
                runtime.block_on(run(again))
            }
            _ => Err(e),
        },
        other => other,
    };
    match result {
        Ok(()) => crate::exit::OK,
        Err(e) => {
            report_error(format, &e);
            e.exit
        }
    }
}

/// Commands that may run a second time after their saved login was renewed:
/// not those that log in or read secrets from stdin, nor the interactive
/// and streaming ones (which renew as they go).
fn may_rerun(c: &Command) -> bool {
    !matches!(
        c,
        Command::Status
            | Command::Config { .. }
            | Command::Signup(_)
            | Command::Login(_)
            | Command::Logout
            | Command::Passwd(_)
            | Command::Admin {
                cmd: auth::AdminCmd::Bootstrap { .. }
            }
            | Command::Bench { .. }
            | Command::Board(_)
            | Command::Top
            | Command::Events { .. }
            | Command::Completions { .. }
    )
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Status => status(&cli.global).await,
        Command::Config { action } => config(&cli.global, action),
        Command::Signup(a) => auth::signup(&cli.global, a).await,
        Command::Login(a) => auth::login(&cli.global, a).await,
        Command::Logout => auth::logout(&cli.global).await,
        Command::Whoami => auth::whoami(&cli.global).await,
        Command::Passwd(a) => auth::passwd(&cli.global, a).await,
        Command::ServiceAccount { cmd } => auth::service_account(&cli.global, cmd).await,
        Command::Admin { cmd } => auth::admin(&cli.global, cmd).await,
        Command::Restaurant { cmd } => catalog::restaurant(&cli.global, cmd).await,
        Command::Staff { cmd } => catalog::staff(&cli.global, cmd).await,
        Command::Menu(cmd) => catalog::menu(&cli.global, cmd).await,
        Command::Order { cmd } => orders::order(&cli.global, cmd).await,
        Command::Cluster { cmd } => cluster::cluster(&cli.global, cmd).await,
        Command::Report { cmd } => report::report(&cli.global, cmd).await,
        Command::Bench { cmd } => bench::bench(&cli.global, cmd).await,
        Command::Board(a) => board::board(&cli.global, a).await,
        Command::Top => top::top(&cli.global).await,
        Command::Completions { shell } => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out
                .write_all(&crate::completions::render(shell))
                .and_then(|_| out.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::new(
                    crate::exit::FAILURE,
                    "internal",
                    format!("cannot write the completion script: {e}"),
                )),
                _ => Ok(()),
            }
        }
        Command::Events { restaurant, from } => {
            orders::events(&cli.global, &restaurant, from).await
        }
    }
}

/// Settings after flags, environment and the config file.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub endpoint: String,
    pub ca: Option<PathBuf>,
    pub server_name: String,
    pub config_file: Option<PathBuf>,
}

fn config_path(g: &Global) -> Option<PathBuf> {
    g.config.clone().or_else(settings::default_path)
}

pub fn effective(g: &Global) -> Result<Effective, CliError> {
    let path = config_path(g);
    let file = match &path {
        Some(p) => FileSettings::load(p).map_err(|e| CliError::config(e.to_string()))?,
        None => FileSettings::default(),
    };
    Ok(Effective {
        endpoint: g
            .endpoint
            .clone()
            .or(file.endpoint)
            .unwrap_or_else(|| format!("127.0.0.1:{}", protocol::DEFAULT_PORT)),
        ca: g.ca.clone().or(file.ca),
        server_name: g
            .server_name
            .clone()
            .or(file.server_name)
            .unwrap_or_else(|| protocol::DEFAULT_SERVER_NAME.to_string()),
        config_file: path,
    })
}

/// Connects to one of the configured daemons (a comma-separated list of
/// seeds; the rest of the cluster is learned from them), verifying it
/// against the CA.
pub async fn connect(g: &Global) -> Result<Session, CliError> {
    let eff = effective(g)?;
    let ca_path = eff.ca.ok_or_else(|| {
        CliError::config(
            "no CA configured: pass --ca FILE (dfoodd writes it to <data-dir>/tls/ca.pem), set DFOOD_CA, or run `dfood config set ca FILE`",
        )
    })?;
    let ca_pem = std::fs::read(&ca_path)
        .map_err(|e| CliError::config(format!("cannot read CA file {}: {e}", ca_path.display())))?;
    let seeds = session::parse_endpoints(&eff.endpoint);
    if seeds.is_empty() {
        return Err(CliError::config(
            "no endpoint configured: pass --endpoint HOST:PORT[,HOST:PORT...]",
        ));
    }
    let mut opts = SessionOptions::new(seeds, ca_pem);
    opts.server_name = eff.server_name;
    opts.timeout = g.timeout;
    // Stay on the node the user named unless it fails.
    opts.rebalance = false;
    Ok(Session::connect(opts).await?)
}

#[derive(Serialize)]
struct StatusOut {
    endpoint: String,
    #[serde(flatten)]
    health: HealthResponse,
}

async fn status(g: &Global) -> Result<(), CliError> {
    let client = connect(g).await?;
    let health: HealthResponse = client.call(types::HEALTH, None, &HealthRequest {}).await?;
    let out = StatusOut {
        endpoint: client.remote().to_string(),
        health,
    };
    emit(g.output, &out, |o| {
        kv_table(&[
            ("node", o.health.node.clone()),
            ("endpoint", o.endpoint.clone()),
            ("version", o.health.version.clone()),
            ("protocol", o.health.protocol.clone()),
            (
                "store",
                match &o.health.store_error {
                    None => format!("{} (revision {})", o.health.store, o.health.store_revision),
                    Some(e) => format!("{} UNAVAILABLE: {e}", o.health.store),
                },
            ),
            ("uptime", human_duration(o.health.uptime_secs)),
            ("roles", o.health.roles.join(", ")),
            (
                "payments",
                match o.health.payments.as_deref() {
                    Some("sandbox") => {
                        "sandbox (test payment methods only; no money moves)".to_string()
                    }
                    Some(g) => g.to_string(),
                    None => "unknown (older daemon)".to_string(),
                },
            ),
        ])
    });
    client.close().await;
    Ok(())
}

fn config(g: &Global, action: ConfigAction) -> Result<(), CliError> {
    let path = config_path(g)
        .ok_or_else(|| CliError::config("no config directory; pass --config FILE"))?;
    match action {
        ConfigAction::Path => {
            emit(g.output, &serde_json::json!({"path": path}), |_| {
                path.display().to_string()
            });
        }
        ConfigAction::Show => {
            let eff = effective(g)?;
            emit(g.output, &eff, |e| {
                kv_table(&[
                    ("endpoint", e.endpoint.clone()),
                    (
                        "ca",
                        e.ca.as_ref()
                            .map_or("(not set)".into(), |p| p.display().to_string()),
                    ),
                    ("server_name", e.server_name.clone()),
                    ("config_file", path.display().to_string()),
                ])
            });
        }
        ConfigAction::Set { key, value } => {
            let mut f = FileSettings::load(&path).map_err(|e| CliError::config(e.to_string()))?;
            f.set(&key, &value)
                .map_err(|e| CliError::config(e.to_string()))?;
            f.save(&path).map_err(|e| CliError::config(e.to_string()))?;
            if g.output == Output::Json {
                print_json(&serde_json::to_string_pretty(&f).expect("serialisable"));
            } else {
                print(&format!("{key} set in {}", path.display()));
            }
        }
        ConfigAction::Unset { key } => {
            let mut f = FileSettings::load(&path).map_err(|e| CliError::config(e.to_string()))?;
            f.unset(&key).map_err(|e| CliError::config(e.to_string()))?;
            f.save(&path).map_err(|e| CliError::config(e.to_string()))?;
            if g.output == Output::Json {
                print_json(&serde_json::to_string_pretty(&f).expect("serialisable"));
            } else {
                print(&format!("{key} removed from {}", path.display()));
            }
        }
    }
    Ok(())
}

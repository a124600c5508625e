//! `dfood`'s command line, as data: one definition drives parsing, `--help`,
//! the man pages in `man/man1/` and the completion scripts in
//! `man/completions/` (both written by `cargo run -p tests --bin gen-man`;
//! `tests/integration/docs.rs` fails when they are stale).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// dfood: order food, run a kitchen and operate DistribuFood from the terminal.
///
/// Talks to a dfoodd over QUIC with TLS verified against the cluster CA.
/// Point it at a daemon with --endpoint (or DFOOD_ENDPOINT, or
/// `dfood config set endpoint HOST:PORT`; a comma-separated list of nodes
/// works too, and dfood fails over between them) and give it the CA the daemon
/// wrote to <data-dir>/tls/ca.pem with --ca (or DFOOD_CA, or
/// `dfood config set ca FILE`).
///
/// Every command takes --output json for scripts: success documents go to
/// stdout, errors to stderr as {"error":{"code":...,"message":...}}, usage
/// errors (bad flags or arguments) too, with code "usage" and exit 2.
#[derive(Debug, Parser)]
#[command(name = "dfood", version, max_term_width = 100, after_help = crate::exit::TABLE)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Tables and sentences for people.
    Human,
    /// One JSON document per command, stable shapes for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds
    /// (the rest of the cluster is learned from them; dfood moves to
    /// another node when its node fails) [default: 127.0.0.1:7400].
    #[arg(
        long,
        global = true,
        env = "DFOOD_ENDPOINT",
        value_name = "HOST:PORT[,HOST:PORT...]"
    )]
    pub endpoint: Option<String>,
    /// Cluster CA certificate (PEM) to verify the daemon against.
    #[arg(long, global = true, env = "DFOOD_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// TLS name to verify in the daemon's certificate [default: dfoodd].
    #[arg(long, global = true, env = "DFOOD_SERVER_NAME", value_name = "NAME")]
    pub server_name: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', global = true, env = "DFOOD_OUTPUT", value_enum, default_value_t = Output::Human)]
    pub output: Output,
    /// Config file [default: $XDG_CONFIG_HOME/dfood/config.toml].
    #[arg(long, global = true, env = "DFOOD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Give up on a request after this long (e.g. 500ms, 5s).
    #[arg(long, global = true, env = "DFOOD_TIMEOUT", value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Access token to use instead of the saved login (for scripts).
    #[arg(
        long,
        global = true,
        env = "DFOOD_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the daemon's health: node, version, store and its revision, uptime.
    Status,
    /// Show or change this client's settings (endpoint, CA, server name).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Create an account, and log in as it.
    Signup(crate::commands::auth::SignupArgs),
    /// Log in (password, or a service account's client credentials).
    Login(crate::commands::auth::LoginArgs),
    /// Log out: revoke the session on the daemon and delete the saved one.
    Logout,
    /// Show who you are logged in as.
    Whoami,
    /// Change your password. Every session of your account ends (on every
    /// node, at once); this one continues with a new login.
    Passwd(crate::commands::auth::PasswdArgs),
    /// Service accounts for scripts (operators only).
    ServiceAccount {
        #[command(subcommand)]
        cmd: crate::commands::auth::ServiceAccountCmd,
    },
    /// Cluster administration: the first operator, signing keys, disabling
    /// and enabling accounts (operators).
    Admin {
        #[command(subcommand)]
        cmd: crate::commands::auth::AdminCmd,
    },
    /// Restaurants: create, list, show, open, close.
    Restaurant {
        #[command(subcommand)]
        cmd: crate::commands::catalog::RestaurantCmd,
    },
    /// A restaurant's staff: add, remove, list (managers).
    Staff {
        #[command(subcommand)]
        cmd: crate::commands::catalog::StaffCmd,
    },
    /// Show a restaurant's menu (`dfood menu trattoria`), or change it.
    Menu(crate::commands::catalog::MenuCmd),
    /// Orders: place, status, list, cancel, track, and the kitchen's steps.
    Order {
        #[command(subcommand)]
        cmd: crate::commands::orders::OrderCmd,
    },
    /// A restaurant's sales per day and best-selling items, from the order
    /// archive (managers, operators).
    Report {
        #[command(subcommand)]
        cmd: crate::commands::report::ReportCmd,
    },
    /// Operate the cluster: status, switchover, failover, pause, drain (operators).
    Cluster {
        #[command(subcommand)]
        cmd: crate::commands::cluster::ClusterCmd,
    },
    /// Load generators: place orders, browse menus, follow events; and the
    /// same placement straight at the store, for comparison.
    Bench {
        #[command(subcommand)]
        cmd: crate::commands::bench::BenchCmd,
    },
    /// The kitchen board: live tickets to bump through the line (a terminal UI).
    ///
    /// Keys: arrows/hjkl move, Enter/space bump, x reject, u recall, r rush,
    /// s station filter, 8 the 86 panel, a all-day counts, / search, ? help,
    /// q quit. Needs a terminal: without one it exits with 2 (usage) and points
    /// to `dfood events`, which streams the same orders for scripts.
    Board(crate::commands::board::BoardArgs),
    /// The operator dashboard: members, leader, lease TTLs, per-node load,
    /// store health, order sparklines, leader changes (a terminal UI;
    /// operators).
    ///
    /// Keys: j/k select a member, s switchover, p pause/resume, d drain the
    /// selected node, ? help, q quit; every action asks for confirmation.
    /// Needs a terminal: without one it exits with 2 (usage) and points to
    /// `dfood cluster status`, which prints the same facts for scripts.
    Top,
    /// Print a shell completion script for dfood (bash, zsh or fish).
    ///
    /// bash: `dfood completions bash > ~/.local/share/bash-completion/completions/dfood`;
    /// zsh: `dfood completions zsh > ~/.zfunc/_dfood` (with ~/.zfunc in $fpath, before
    /// compinit); fish: `dfood completions fish > ~/.config/fish/completions/dfood.fish`.
    /// `.ci/install` does this for you; `man/completions/` has the same files.
    Completions {
        #[arg(value_enum)]
        shell: crate::completions::Shell,
    },
    /// Stream a restaurant's events live (staff), for scripts and screens.
    ///
    /// Runs until stopped. With --output json, stdout is JSON Lines: one
    /// {"revision", "kind", "subject", "data"} document per event, in store
    /// revision order (several events may share a revision). kind is e.g.
    /// order.placed, order.accepted, menu.changed; subject is the order id
    /// (or the restaurant); data is the Order (as `dfood order status
    /// --output json`) or the change.
    ///
    /// The stream survives the death, drain or restart of the node it is
    /// on: it resumes on another node from the last revision it printed,
    /// so nothing is missed and nothing printed twice. On stderr it says
    /// where it stands, one line each time: "subscribed on NODE (ADDR)
    /// from revision N", "lost NODE (ADDR): REASON; resuming at once",
    /// "resumed on NODE (ADDR) from revision N" (with --output json, one
    /// JSON document per line: {"notice": "subscribed"|"lost"|"resumed",
    /// "endpoint", "node", "from_revision" | "error", "retry_in_ms"}). It
    /// ends with an error only when the cluster refuses for good (access
    /// denied, unknown restaurant, --from compacted away).
    Events {
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
        /// Start from this store revision (replays what happened since).
        #[arg(long)]
        from: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective settings and where each comes from.
    Show,
    /// Set a setting in the config file: endpoint, ca or server_name.
    ///
    /// `dfood config set ca FILE` checks that FILE holds a PEM certificate
    /// and stores its absolute path.
    Set {
        /// endpoint, ca or server_name.
        key: String,
        value: String,
    },
    /// Remove a setting from the config file.
    Unset { key: String },
    /// Print the config file's path.
    Path,
}

pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

//! `dfoodd-bench`: the raw-store runner behind `dfood bench place
//! --raw-store` (see `daemon::bench`). Prints the run's report as JSON on
//! stdout; progress and errors on stderr. Not meant to be run by hand,
//! though it can be: `dfoodd-bench place -n 1000 -c 16`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, not glibc's malloc: about a third of the daemon's CPU under
/// load was malloc/free (README, "Quiet machine, with profiles").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "dfoodd-bench",
    version,
    about = "Raw-store runner of `dfood bench place --raw-store`"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The daemon's placement transaction straight at the store, under
    /// load; prints the report as JSON.
    Place(daemon::bench::PlaceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dfoodd-bench: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let Cmd::Place(args) = cli.cmd;
    match runtime.block_on(daemon::bench::place(&args)) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("dfoodd-bench: cannot encode the report: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("dfoodd-bench: {e}");
            // The CLI's "unavailable" exit code.
            ExitCode::from(7)
        }
    }
}

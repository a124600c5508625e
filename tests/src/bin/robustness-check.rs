//! Checks a saved robustness history again, with the checker alone (no
//! cluster): `cargo run -p tests --bin robustness-check -- FILE`, or with
//! `DFOOD_ROBUSTNESS_HISTORY=FILE`. FILE is a scenario's
//! `target/robustness/<scenario>/history.json`. Prints the broken promises
//! and exits 1 if there are any.

use tests::robustness::{Saved, check};

fn main() {
    let path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DFOOD_ROBUSTNESS_HISTORY").ok())
        .unwrap_or_else(|| {
            eprintln!(
                "usage: robustness-check target/robustness/<scenario>/history.json (or DFOOD_ROBUSTNESS_HISTORY=FILE)"
            );
            std::process::exit(2);
        });
    let saved = match Saved::load(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot load the history: {e}");
            std::process::exit(2);
        }
    };
    let problems = check(&saved);
    println!(
        "{}: {} operations, {} faults ({:?}), {} subscribers",
        saved.scenario,
        saved.ops.len(),
        saved.faults.len(),
        saved.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
        saved.subscribers.len()
    );
    if problems.is_empty() {
        println!("every promise holds");
    } else {
        println!("{} broken promise(s):", problems.len());
        for p in &problems {
            println!("  {p}");
        }
        std::process::exit(1);
    }
}

//! Writes the man pages in `man/` from the clap definitions of `dfood` and
//! `dfoodd` (one page per command and subcommand). Run from the workspace
//! root: `cargo run -p tests --bin gen-man`. A test fails when `man/` is
//! stale.

fn main() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("man");
    std::fs::create_dir_all(&out).expect("man dir");
    for (name, page) in tests::man::pages() {
        std::fs::write(out.join(&name), page).expect("write man page");
        println!("wrote man/{name}");
    }
}

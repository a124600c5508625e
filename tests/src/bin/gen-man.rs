//! Writes the man pages in `man/man1/` from the clap definitions of `dfood`
//! and `dfoodd` (one page per command and subcommand), and `dfood`'s shell
//! completion scripts in `man/completions/`; removes files there that are
//! no longer generated. Run from anywhere: `cargo run -p tests --bin
//! gen-man`. A test fails when `man/` is stale, so `MANPATH=$PWD/man man
//! dfood` always shows the current page.

use std::path::Path;

fn write_dir(dir: &Path, files: Vec<(String, Vec<u8>)>, label: &str) {
    std::fs::create_dir_all(dir).expect("create dir");
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !files.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(entry.path()).expect("remove stale file");
            println!("removed {label}/{name}");
        }
    }
    for (name, data) in files {
        std::fs::write(dir.join(&name), data).expect("write file");
        println!("wrote {label}/{name}");
    }
}

fn main() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("man");
    write_dir(&man.join("man1"), tests::man::pages(), "man/man1");
    write_dir(
        &man.join("completions"),
        tests::man::completions(),
        "man/completions",
    );
}

//! Documentation that must not drift from the code: man pages, clap
//! definitions, and the protocol reference.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn clap_definitions_are_valid() {
    cli::args::command().debug_assert();
    daemon::args::command().debug_assert();
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = root().join("man");
    let mut stale = Vec::new();
    for (name, page) in tests::man::pages() {
        match std::fs::read(dir.join(&name)) {
            Ok(on_disk) if on_disk == page => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "man pages out of date: {stale:?}; regenerate with `cargo run -p tests --bin gen-man` and commit man/"
    );
}

#[test]
fn exit_codes_are_in_help() {
    let help = cli::args::command().render_long_help().to_string();
    for code in [
        "unavailable",
        "not found",
        "conflict",
        "forbidden",
        "payment declined",
    ] {
        assert!(
            help.contains(code),
            "dfood --help lacks exit code for {code}"
        );
    }
}

#[test]
fn protocol_readme_covers_every_code_and_message() {
    let readme =
        std::fs::read_to_string(root().join("protocol/README.md")).expect("protocol/README.md");
    for code in protocol::wire::ErrorCode::ALL {
        assert!(
            readme.contains(&format!("`{}`", code.as_str())),
            "README lacks error code {code}"
        );
    }
    for ty in protocol::requests::names() {
        assert!(
            readme.contains(&format!("`{ty}`")),
            "README lacks message type {ty}"
        );
    }
    for needle in [
        "dfood/1",
        "big-endian",
        "1048576",
        "from_revision",
        "goaway",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
}

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

/// Files in `dir` that differ from `expected`, are missing, or are not
/// generated any more.
fn stale(dir: &Path, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, data) in expected {
        match std::fs::read(dir.join(name)) {
            Ok(on_disk) if on_disk == *data => {}
            Ok(_) => out.push(format!("{name} (differs)")),
            Err(_) => out.push(format!("{name} (missing)")),
        }
    }
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !expected.iter().any(|(n, _)| *n == name) {
            out.push(format!("{name} (no longer generated)"));
        }
    }
    out
}

#[test]
fn man_pages_are_up_to_date() {
    let stale_pages = stale(&root().join("man/man1"), &tests::man::pages());
    assert!(
        stale_pages.is_empty(),
        "man pages out of date: {stale_pages:?}; regenerate with `cargo run -p tests --bin gen-man` and commit man/"
    );
    let stale_scripts = stale(&root().join("man/completions"), &tests::man::completions());
    assert!(
        stale_scripts.is_empty(),
        "completion scripts out of date: {stale_scripts:?}; regenerate with `cargo run -p tests --bin gen-man` and commit man/"
    );
    // Nothing else lives in man/: the MANPATH layout is man/man1/.
    let mut top: Vec<String> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["completions", "man1"]);
}

/// `MANPATH=$PWD/man man dfood` finds the generated page, as the README
/// says; so does `man dfood-order-place`.
#[test]
fn manpath_finds_the_pages() {
    let man = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("man"))
                .find(|m| m.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`man` not found: install it with `apt-get install man-db` (the README's test command does)")
        });
    let manpath = root().join("man").canonicalize().unwrap();
    for page in ["dfood", "dfood-order-place", "dfoodd"] {
        let out = std::process::Command::new(&man)
            .args(["-w", page])
            .env("MANPATH", &manpath)
            .env_remove("MANOPT")
            .output()
            .unwrap();
        let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success()
                && found == manpath.join(format!("man1/{page}.1")).display().to_string(),
            "man -w {page} with MANPATH={}: {found:?} {}",
            manpath.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `dfood completions bash` prints a script that bash accepts and that
/// completes subcommands and flags; zsh and fish get theirs; anything else
/// is a usage error.
#[test]
fn completions_complete_commands_in_bash() {
    let mut cli = tests::Dfood::new();
    for (shell, marker) in [
        ("bash", "complete -F _dfood"),
        ("zsh", "#compdef dfood"),
        ("fish", "complete -c dfood"),
    ] {
        let out = cli.run(["completions", shell]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout.contains(marker),
            "{shell}: {}",
            &out.stdout[..200.min(out.stdout.len())]
        );
        assert!(out.stdout.contains("restaurant") && out.stdout.contains("--output"));
    }
    let out = cli.run(["completions", "tcsh"]);
    assert_eq!(out.code, 2, "{out:?}");

    // Load the script in a real bash and ask it what it would complete.
    let script = cli.run(["completions", "bash"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dfood.bash");
    std::fs::write(&path, script).unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        let probe = format!(
            "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_dfood dfood \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            path.display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &probe])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let top = complete(&["dfood", "or"]);
    assert!(top.contains(&"order".to_string()), "{top:?}");
    let order = complete(&["dfood", "order", "pl"]);
    assert_eq!(order, ["place"], "{order:?}");
    let flags = complete(&["dfood", "order", "place", "--it"]);
    assert!(flags.contains(&"--item".to_string()), "{flags:?}");
    let shells = complete(&["dfood", "completions", ""]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&s.to_string()), "{shells:?}");
    }
}

/// Usage errors honour `--output json` (and `DFOOD_OUTPUT=json`): one JSON
/// error document on stderr, the same shape as every other error, exit 2.
/// Without it they stay clap's text. `--help` is not an error.
#[test]
fn usage_errors_in_json_mode_are_json() {
    let mut cli = tests::Dfood::new();
    for args in [
        &["order", "place", "trattoria", "-o", "json"][..],
        &["--output=json", "order", "place", "trattoria"],
        &["-o", "json", "no-such-command"],
        &[
            "-o",
            "json",
            "order",
            "place",
            "trattoria",
            "--item",
            "x",
            "--bogus",
        ],
    ] {
        let out = cli.run(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(out.stdout, "", "{args:?}: nothing on stdout");
        let doc = out.stderr_json();
        assert_eq!(doc["error"]["code"], "usage", "{args:?}: {doc}");
        let msg = doc["error"]["message"].as_str().unwrap();
        assert!(!msg.is_empty() && !msg.contains('\n'), "{args:?}: {msg:?}");
        assert_eq!(doc.as_object().unwrap().len(), 1, "{doc}");
        assert_eq!(doc["error"].as_object().unwrap().len(), 2, "{doc}");
    }
    let out = cli.run(["order", "place", "trattoria", "-o", "json"]);
    assert!(
        out.stderr_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--item"),
        "{out:?}"
    );

    let mut env_json = tests::Dfood::new().env("DFOOD_OUTPUT", "json");
    let out = env_json.run(["order", "place", "trattoria"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr_json()["error"]["code"], "usage");

    let out = cli.run(["order", "place", "trattoria"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("error:") && out.stderr.contains("Usage:"),
        "{out:?}"
    );

    let out = cli.run(["--help", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Usage:"), "{out:?}");
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

//! The README's run command (`.ci/demo`) works: it starts a daemon on the
//! embedded store, seeds the demo restaurant and accounts, and (with
//! `--once`) takes one order from placement to completion.

use std::process::Command;

#[test]
fn readme_run_command_serves_a_whole_order() {
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = tests::workspace_bin("dfood")
        .parent()
        .unwrap()
        .to_path_buf();
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = Command::new("bash")
        .arg(root.join(".ci/demo"))
        .arg("--once")
        .env("DFOOD_DEMO_NO_BUILD", "1")
        .env("DFOOD_DEMO_BIN", &bin_dir)
        .env("DFOOD_DEMO_DIR", dir.path().join("demo"))
        .env(
            "DFOOD_DEMO_ADDR",
            format!("127.0.0.1:{}", tests::free_port()),
        )
        .env_remove("DFOOD_CONFIG")
        .env_remove("DFOOD_ENDPOINT")
        .env_remove("DFOOD_CA")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Pizza Margherita"), "menu shown: {stdout}");
    assert!(
        stdout.contains("trattoria-1 is now accepted (payment captured)"),
        "{stdout}"
    );
    let last = stdout.rsplit("order     trattoria-1").next().unwrap();
    assert!(
        last.contains("completed") && last.contains("captured, card ...4242"),
        "{stdout}"
    );
}

//! Deployment and first steps, checked as a user or CI would: the systemd
//! unit (`systemd-analyze verify` and `security`), the Kubernetes manifests
//! (`kubectl kustomize`, `kubernetes-validate --strict`), `.ci/install`,
//! and the README's "Using it" blocks run exactly as written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tests::docker::{root, run_bounded};
use tests::{Daemon, Etcd, Proc, free_port, http_get, workspace_bin};

/// A tool on PATH (or at `$env_var`), or a failure saying how to install it.
fn tool(name: &str, env_var: &str, hint: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}={} does not exist", p.display());
        return p;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found on PATH (or {env_var}): {hint}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------- systemd

/// The unit as shipped: `systemd-analyze verify` (run in a root holding
/// the unit, the built `dfoodd` at the unit's ExecStart path and the host's
/// standard units, since verify checks that the binary exists) says
/// nothing at all, and `systemd-analyze security` rates it 2.0 or better.
#[test]
fn systemd_unit_verifies_and_is_sandboxed() {
    let analyze = tool(
        "systemd-analyze",
        "SYSTEMD_ANALYZE",
        "install it with `apt-get install systemd` (the README's test command does)",
    );
    let unit_path = root().join("etc/systemd/dfoodd.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let value = |key: &str| -> Vec<String> {
        unit.lines()
            .filter_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_string)
            .collect()
    };
    let exec = value("ExecStart");
    assert_eq!(exec.len(), 1, "{exec:?}");
    let binary = exec[0].split_whitespace().next().unwrap().to_string();
    assert_eq!(binary, "/usr/local/bin/dfoodd");
    for (key, want) in [
        ("Restart", "on-failure"),
        ("DynamicUser", "yes"),
        ("StateDirectory", "dfoodd"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("Environment", "DFOODD_DATA_DIR=/var/lib/dfoodd"),
    ] {
        assert_eq!(value(key), [want], "{key}");
    }
    // Type=notify only if the daemon tells systemd it is ready.
    let notifies = grep_tree(&root().join("daemon/src"), "NOTIFY_SOCKET");
    let ty = value("Type");
    if notifies {
        assert_eq!(
            ty,
            ["notify"],
            "dfoodd notifies systemd now: use Type=notify"
        );
    } else {
        assert_eq!(
            ty,
            ["exec"],
            "dfoodd does not notify: Type=notify would hang"
        );
    }
    // The flags it starts with parse (DFOODD_DATA_DIR from the unit).
    let args = exec[0].split_whitespace().skip(1);
    let parsed =
        <daemon::args::Args as clap::Parser>::try_parse_from(std::iter::once("dfoodd").chain(args));
    assert!(parsed.is_ok(), "{:?}", parsed.err());

    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
    std::fs::copy(&unit_path, r.join("etc/systemd/system/dfoodd.service")).unwrap();
    let dfoodd = workspace_bin("dfoodd");
    let placed = r.join(binary.trim_start_matches('/'));
    if std::fs::hard_link(&dfoodd, &placed).is_err() {
        std::fs::copy(&dfoodd, &placed).unwrap();
    }
    let host_units = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.join("multi-user.target").exists())
        .expect("the host's systemd units (multi-user.target): apt-get install systemd");
    let cp = run_bounded(
        Command::new("cp")
            .arg("-a")
            .arg(host_units)
            .arg(r.join("usr/lib/systemd/system")),
        Duration::from_secs(60),
    );
    assert!(cp.status.success(), "{}", text(&cp.stderr));
    let verify = |root_dir: &Path| {
        run_bounded(
            Command::new(&analyze)
                .arg("verify")
                .arg(format!("--root={}", root_dir.display()))
                .arg(root_dir.join("etc/systemd/system/dfoodd.service"))
                // Documentation=man:dfoodd(1) is checked: our page.
                .env("MANPATH", root().join("man"))
                .env("SYSTEMD_LOG_COLOR", "0"),
            Duration::from_secs(60),
        )
    };
    let out = verify(r);
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "systemd-analyze verify: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The same check notices a missing binary (so it did look).
    std::fs::remove_file(&placed).unwrap();
    let out = verify(r);
    assert!(
        text(&out.stderr).contains("/usr/local/bin/dfoodd"),
        "verify did not check ExecStart: {}",
        text(&out.stderr)
    );

    let out = run_bounded(
        Command::new(&analyze)
            .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
            .arg(&unit_path),
        Duration::from_secs(60),
    );
    let report = text(&out.stdout);
    let overall = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("(none)")
        .to_string();
    eprintln!("{overall}");
    assert!(
        out.status.success(),
        "exposure above 2.0: {overall}\n{report}{}",
        text(&out.stderr)
    );
}

fn grep_tree(dir: &Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let p = e.unwrap().path();
        if p.is_dir() {
            grep_tree(&p, needle)
        } else {
            std::fs::read_to_string(&p).is_ok_and(|t| t.contains(needle))
        }
    })
}

// ------------------------------------------------------------- Kubernetes

/// Where `.ci/setup` installs kubernetes-validate when it is not on PATH.
fn kubernetes_validate() -> PathBuf {
    let venv = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/distribufood/venv/bin/kubernetes-validate"));
    if std::env::var_os("KUBERNETES_VALIDATE").is_none()
        && let Some(v) = venv.filter(|v| v.is_file())
    {
        let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join("kubernetes-validate").is_file());
        if !on_path {
            return v;
        }
    }
    tool(
        "kubernetes-validate",
        "KUBERNETES_VALIDATE",
        "`pip install kubernetes-validate` (PyPI; .ci/setup puts it in ~/.local/share/distribufood/venv)",
    )
}

/// The rendered documents, split (kustomize's `---` separators).
fn documents(yaml: &str) -> Vec<String> {
    yaml.split("\n---\n").map(str::to_string).collect()
}

fn find_doc<'a>(docs: &'a [String], kind: &str, name: &str) -> &'a str {
    docs.iter()
        .find(|d| {
            d.lines().any(|l| l == format!("kind: {kind}"))
                && d.lines().any(|l| l == format!("  name: {name}"))
        })
        .unwrap_or_else(|| panic!("no {kind} {name} in the rendering"))
}

/// Both kustomizations render with `kubectl kustomize` and pass
/// `kubernetes-validate --strict` (current Kubernetes, unknown fields
/// refused), with the objects and settings the README describes.
#[test]
fn kubernetes_manifests_render_and_validate_strictly() {
    let kubectl = tool(
        "kubectl",
        "KUBECTL",
        "install it with `apt-get install kubernetes-client` (the README's test command does)",
    );
    let validate = kubernetes_validate();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 2] = [
        (
            "base",
            &[
                "namespace/distribufood",
                "service/dfoodd-peers",
                "service/dfoodd",
                "service/etcd",
                "statefulset/dfoodd",
                "statefulset/etcd",
                "poddisruptionbudget/dfoodd",
                "poddisruptionbudget/etcd",
            ],
        ),
        (
            "overlays/single-node",
            &[
                "namespace/distribufood",
                "service/dfoodd-peers",
                "service/dfoodd",
                "statefulset/dfoodd",
                "poddisruptionbudget/dfoodd",
            ],
        ),
    ];
    for (which, expected) in cases {
        let out = run_bounded(
            Command::new(&kubectl)
                .arg("kustomize")
                .arg(root().join("etc/kubernetes").join(which)),
            Duration::from_secs(120),
        );
        assert!(
            out.status.success(),
            "kubectl kustomize {which}: {}",
            text(&out.stderr)
        );
        let yaml = text(&out.stdout);
        let file = dir.path().join(format!("{}.yaml", which.replace('/', "-")));
        std::fs::write(&file, &yaml).unwrap();
        let out = run_bounded(
            Command::new(&validate).arg("--strict").arg(&file),
            Duration::from_secs(300),
        );
        let report = text(&out.stdout) + &text(&out.stderr);
        assert!(
            out.status.success() && !report.contains("ERROR"),
            "kubernetes-validate --strict {which}:\n{report}\n{yaml}"
        );
        // Exactly the objects expected, each validated (a ConfigMap with
        // its hash suffix besides).
        let mut passed: Vec<String> = report
            .lines()
            .filter_map(|l| l.split("passed for resource ").nth(1))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect();
        let configmaps: Vec<String> = passed
            .iter()
            .filter(|r| r.starts_with("configmap/dfoodd-config-"))
            .cloned()
            .collect();
        assert_eq!(configmaps.len(), 1, "{which}: {passed:?}");
        passed.retain(|r| !r.starts_with("configmap/"));
        passed.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(passed, want, "{which}:\n{report}");

        let docs = documents(&yaml);
        let sts = find_doc(&docs, "StatefulSet", "dfoodd");
        let replicas = if which == "base" { 3 } else { 1 };
        assert!(sts.contains(&format!("replicas: {replicas}")), "{sts}");
        for needle in [
            "path: /healthz",
            "path: /readyz",
            "port: metrics",
            "containerPort: 9400",
            "protocol: UDP",
            "secretName: dfoodd-ca",
            "serviceName: dfoodd-peers",
            "requests:",
            "value: $(POD_NAME).dfoodd-peers.$(POD_NAMESPACE).svc:7400",
            &format!("name: {}", configmaps[0].trim_start_matches("configmap/")),
        ] {
            assert!(
                sts.contains(needle),
                "{which}: StatefulSet dfoodd lacks {needle:?}"
            );
        }
        let svc = find_doc(&docs, "Service", "dfoodd");
        assert!(
            svc.contains("protocol: UDP") && svc.contains("port: 7400"),
            "{svc}"
        );
        let cm = find_doc(
            &docs,
            "ConfigMap",
            configmaps[0].trim_start_matches("configmap/"),
        );
        let toml = std::fs::read_to_string(
            root()
                .join("etc/kubernetes")
                .join(which)
                .join("dfoodd.toml"),
        )
        .unwrap();
        for line in toml.lines().filter(|l| l.contains(" = ")) {
            assert!(
                cm.contains(line.trim()),
                "{which}: ConfigMap lacks {line:?}"
            );
        }
        if which == "base" {
            let etcd = find_doc(&docs, "StatefulSet", "etcd");
            assert!(
                etcd.contains("replicas: 3") && etcd.contains("serviceName: etcd"),
                "{etcd}"
            );
            let headless = find_doc(&docs, "Service", "etcd");
            assert!(headless.contains("clusterIP: None"), "{headless}");
        }
    }
}

/// The CA Secret the README has operators make with openssl is one dfoodd
/// takes (`[tls] ca_cert` + `ca_key`, as in the manifests' config): a node
/// signs its certificate with it and a client trusting that ca.pem gets in.
#[test]
fn kubernetes_ca_made_with_openssl_is_accepted() {
    let openssl = tool(
        "openssl",
        "OPENSSL",
        "install it with `apt-get install openssl` (the README's test command does)",
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("### On Kubernetes").expect("section")..];
    let block = fenced_blocks(section).into_iter().next().expect("a block");
    let command = block
        .replace("\\\n", " ")
        .lines()
        .find(|l| l.trim_start().starts_with("openssl "))
        .expect("the README's openssl command")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &command])
            .env("PATH", openssl.parent().unwrap())
            .current_dir(dir.path()),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{command}: {}", text(&out.stderr));
    let ca = dir.path().join("ca.pem");
    let config = format!(
        "[tls]\nca_cert = \"{}\"\nca_key = \"{}\"\n",
        ca.display(),
        dir.path().join("ca-key.pem").display()
    );
    let d = Daemon::start_with("k8s-ca", &dir.path().join("node"), &[], &config);
    let mut cli = tests::Dfood::new()
        .env("DFOOD_ENDPOINT", &d.endpoint())
        .env("DFOOD_CA", &ca.display().to_string());
    let out = cli.run(["status", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["node"], "k8s-ca");
    // The CA the node publishes for clients is the operator's.
    assert_eq!(
        std::fs::read(d.ca_path()).unwrap(),
        std::fs::read(&ca).unwrap()
    );
}

// ------------------------------------------------------- install, README

/// `.ci/install --root DIR --debug` puts both binaries in DIR/bin, the man
/// pages where `man` finds them through PATH, and the completion scripts
/// where each shell loads them.
#[test]
fn ci_install_puts_dfood_on_path_with_man_pages_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let mut cmd = Command::new("bash");
    cmd.arg(root().join(".ci/install"))
        .arg("--root")
        .arg(&prefix)
        .arg("--debug")
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        // rustup and cargo stay where they are.
        .env(
            "RUSTUP_HOME",
            std::env::var_os("RUSTUP_HOME").unwrap_or_else(|| real_home.join(".rustup").into()),
        )
        .env(
            "CARGO_HOME",
            std::env::var_os("CARGO_HOME").unwrap_or_else(|| real_home.join(".cargo").into()),
        );
    // The build the tests already use (target/debug of this workspace).
    let target = workspace_bin("dfood")
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    cmd.env("CARGO_TARGET_DIR", &target);
    let out = run_bounded(&mut cmd, Duration::from_secs(1200));
    assert!(
        out.status.success(),
        ".ci/install: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let bin = prefix.join("bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for b in ["dfood", "dfoodd", "dfoodd-bench"] {
        let out = run_bounded(
            Command::new(b).arg("--version").env("PATH", &path),
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "{b} --version: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with(b), "{}", text(&out.stdout));
    }
    let man = tool(
        "man",
        "MAN",
        "install it with `apt-get install man-db` (the README's test command does)",
    );
    let out = run_bounded(
        Command::new(&man)
            .args(["-w", "dfood-order-place"])
            .env("PATH", &path)
            .env_remove("MANPATH"),
        Duration::from_secs(30),
    );
    assert_eq!(
        text(&out.stdout).trim(),
        prefix
            .join("share/man/man1/dfood-order-place.1")
            .display()
            .to_string(),
        "{}",
        text(&out.stderr)
    );
    for (file, shell) in [
        ("share/bash-completion/completions/dfood", "bash"),
        ("share/zsh/site-functions/_dfood", "zsh"),
        ("share/fish/vendor_completions.d/dfood.fish", "fish"),
    ] {
        let on_disk = std::fs::read(prefix.join(file)).unwrap_or_default();
        let shipped = std::fs::read(root().join("man/completions").join(match shell {
            "bash" => "dfood.bash",
            "zsh" => "_dfood",
            _ => "dfood.fish",
        }))
        .unwrap();
        assert_eq!(on_disk, shipped, "{file}");
    }
}

/// The fenced ```sh blocks of a Markdown text, in order.
fn fenced_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => out.push(current.take().unwrap()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The README's "Using it" section, run as a newcomer would with `dfood`
/// and `dfoodd` on PATH: the daemon block in one shell, then the client
/// block, line by line as written, in a fresh directory holding the
/// repository's etc/demo-menu.csv. Only the environment differs: a free
/// port (DFOODD_LISTEN, DFOOD_ENDPOINT; both win over what the block
/// sets), a private HOME, and DFOOD_PASSWORD standing in for typing.
#[test]
fn readme_using_it_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("\n## Using it\n").expect("a Using it section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let blocks = fenced_blocks(section);
    assert_eq!(
        blocks.len(),
        2,
        "daemon block, then client block: {blocks:?}"
    );
    let (daemon_block, client_block) = (&blocks[0], &blocks[1]);
    assert!(daemon_block.contains("dfoodd "), "{daemon_block}");

    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("checkout");
    std::fs::create_dir_all(work.join("etc")).unwrap();
    std::fs::copy(
        root().join("etc/demo-menu.csv"),
        work.join("etc/demo-menu.csv"),
    )
    .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let bin = workspace_bin("dfoodd").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let env = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .env("DFOODD_LISTEN", &addr)
            .env("DFOOD_ENDPOINT", &addr)
            .env("DFOOD_PASSWORD", "correct horse battery")
            .current_dir(&work);
    };
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", daemon_block]);
    env(&mut cmd);
    let mut daemon = Proc::spawn("readme-dfoodd", cmd, &dir.path().join("dfoodd.log"));
    // Wait as a person would, for the daemon to say it serves.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !daemon.log_text().contains("dfoodd ready") {
        assert!(daemon.alive(), "dfoodd exited:\n{}", daemon.log_text());
        assert!(
            Instant::now() < deadline,
            "dfoodd not ready:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut cmd = Command::new("bash");
    cmd.args(["-xeuo", "pipefail", "-c", client_block]);
    env(&mut cmd);
    let out = run_bounded(&mut cmd, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "the README's Using it block failed:\n{}\n{}\ndfoodd:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        daemon.log_text()
    );
    // It did what it says: mario manages an open trattoria with kim in
    // its kitchen and tiramisu 86ed.
    let mut cmd = Command::new("dfood");
    cmd.args(["staff", "list", "--restaurant", "trattoria", "-o", "json"]);
    env(&mut cmd);
    let staff = run_bounded(&mut cmd, Duration::from_secs(60));
    assert!(staff.status.success(), "{}", text(&staff.stderr));
    assert!(
        text(&staff.stdout).contains("\"kim\""),
        "{}",
        text(&staff.stdout)
    );
    let mut cmd = Command::new("dfood");
    cmd.args(["menu", "trattoria", "-o", "json"]);
    env(&mut cmd);
    let menu = run_bounded(&mut cmd, Duration::from_secs(60));
    let menu: serde_json::Value = serde_json::from_slice(&menu.stdout)
        .unwrap_or_else(|e| panic!("menu: {e}: {}", text(&menu.stderr)));
    let tiramisu = menu["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["sku"] == "tiramisu"))
        .unwrap_or_else(|| panic!("{menu}"));
    assert_eq!(tiramisu["available"], false, "{tiramisu}");
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
}

// ----------------------------------------------------------------- probes

/// `GET /healthz` answers 200 while the process serves; `GET /readyz` 200
/// only while the node reaches its store, is a registered member and is
/// not draining. Needs the daemon side of issue 14.
#[test]
fn probes_healthz_and_readyz_follow_drain_and_store() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start_with(
        "probe-1",
        &dir.path().join("n1"),
        &etcd.endpoints(),
        &format!("metrics_listen = \"{metrics}\"\n"),
    );
    let other = Daemon::start("probe-2", &dir.path().join("n2"), &etcd.endpoints());
    let get = |path: &str| http_get(&metrics, path, Duration::from_secs(3));
    let wait = |path: &str, want: bool, within: Duration| {
        let deadline = Instant::now() + within;
        loop {
            let r = get(path);
            if r.as_ref().is_ok_and(|(c, _)| (*c == 200) == want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{path} still {r:?} after {within:?} (want {})",
                if want { "200" } else { "not 200" }
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(get("/healthz").map(|r| r.0), Ok(200));
    wait("/readyz", true, Duration::from_secs(10));

    // Draining: not ready (no new clients), still alive. The operator
    // works through the other node.
    let nodes = [other, d];
    let mut ops = tests::bootstrap_operator(&nodes);
    let out = ops.run(["cluster", "drain", "probe-1", "--wait", "20s", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    wait("/readyz", false, Duration::from_secs(5));
    assert_eq!(get("/healthz").map(|r| r.0), Ok(200));
    let out = ops.run(["cluster", "drain", "probe-1", "--undo", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    wait("/readyz", true, Duration::from_secs(10));

    // Store gone: not ready, alive; back when the store is.
    let mut etcd = etcd;
    etcd.members[0].proc.kill9();
    wait("/readyz", false, Duration::from_secs(15));
    assert_eq!(get("/healthz").map(|r| r.0), Ok(200));
    etcd.restart_member(0);
    wait("/readyz", true, Duration::from_secs(30));
}

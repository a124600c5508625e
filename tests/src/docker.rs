//! Containers for the tests: the images `.ci/images` builds (FROM scratch)
//! and the cluster `etc/docker/compose.yaml` describes, under a project
//! name of their own per test run, removed again (containers, networks,
//! volumes, image tags) when the [`Compose`] is dropped.
//!
//! Docker is required, like etcd: without it the test fails and says how
//! to install it. Every docker command runs with a time limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How to install what is missing.
const INSTALL_HINT: &str = "install Docker Engine and Compose and start the daemon (Debian: `apt-get install docker.io docker-compose && systemctl start docker`)";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .canonicalize()
        .expect("repository root")
}

/// `docker`, answering: panics with an install hint otherwise.
pub fn docker() -> PathBuf {
    let bin = find_on_path("docker")
        .unwrap_or_else(|| panic!("docker not found on PATH: {INSTALL_HINT}"));
    let out = run_bounded(
        Command::new(&bin).args(["info", "--format", "{{.ServerVersion}}"]),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "the Docker daemon does not answer (`docker info`: {}): {INSTALL_HINT}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    bin
}

/// The compose command: `docker compose` (v2) or `docker-compose` (v1.29).
pub fn compose_command() -> Vec<String> {
    let docker = docker();
    let v2 = run_bounded(
        Command::new(&docker).args(["compose", "version"]),
        Duration::from_secs(30),
    );
    if v2.status.success() {
        return vec![docker.display().to_string(), "compose".into()];
    }
    if let Some(v1) = find_on_path("docker-compose") {
        let out = run_bounded(Command::new(&v1).arg("version"), Duration::from_secs(30));
        if out.status.success() {
            return vec![v1.display().to_string()];
        }
    }
    panic!("neither `docker compose` nor `docker-compose` works: {INSTALL_HINT}");
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `cmd` (stdin closed) and returns its output; panics if it has not
/// finished within `within` (after killing it).
pub fn run_bounded(cmd: &mut Command, within: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + within;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The label every container a test starts by hand carries, so that it
/// is removed with the project.
pub const TEST_LABEL: &str = "org.distribufood.test";

/// `etc/docker/compose.yaml` brought up under a unique project name, with
/// images freshly built from this workspace's binaries under a unique tag.
pub struct Compose {
    pub project: String,
    pub tag: String,
    pub prefix: String,
    base: Vec<String>,
    env: Vec<(String, String)>,
    file: PathBuf,
}

impl Compose {
    /// Builds the images with `.ci/images` from the binaries in `bin_dir`
    /// and starts the cluster (`up -d`); ports are published on free
    /// 127.0.0.1 ports.
    pub fn build_and_up(bin_dir: &Path) -> Compose {
        let base = compose_command();
        let unique = format!(
            "{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() % 100_000_000)
                .unwrap_or(0)
        );
        let project = format!("dfoodtest{unique}");
        let tag = format!("test{unique}");
        let prefix = "distribufood".to_string();
        let mut env = vec![
            ("DFOOD_IMAGE_PREFIX".to_string(), prefix.clone()),
            ("DFOOD_IMAGE_TAG".to_string(), tag.clone()),
        ];
        for i in 1..=3 {
            env.push((format!("DFOOD_QUIC_{i}"), "127.0.0.1:".into()));
            env.push((format!("DFOOD_METRICS_{i}"), "127.0.0.1:".into()));
        }
        let c = Compose {
            project,
            tag,
            prefix,
            base,
            env,
            file: root().join("etc/docker/compose.yaml"),
        };
        let out = run_bounded(
            Command::new("bash")
                .arg(root().join(".ci/images"))
                .args(["--bin-dir", &bin_dir.display().to_string()])
                .args(["--tag", &c.tag, "--prefix", &c.prefix])
                .current_dir(root()),
            Duration::from_secs(600),
        );
        assert!(
            out.status.success(),
            ".ci/images failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        c.ok(&["up", "-d"], Duration::from_secs(180));
        c
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.base[0]);
        cmd.args(&self.base[1..])
            .arg("-f")
            .arg(&self.file)
            .args(["-p", &self.project])
            .args(args)
            .current_dir(root());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a compose subcommand.
    pub fn run(&self, args: &[&str], within: Duration) -> Output {
        run_bounded(&mut self.command(args), within)
    }

    /// Runs a compose subcommand that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str], within: Duration) -> String {
        let out = self.run(args, within);
        assert!(
            out.status.success(),
            "compose {args:?} failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// A `docker` command that must succeed; returns its stdout.
    pub fn docker_ok(&self, args: &[&str], within: Duration) -> String {
        let out = run_bounded(Command::new("docker").args(args), within);
        assert!(
            out.status.success(),
            "docker {args:?} failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// The container id of `service`.
    pub fn container(&self, service: &str) -> String {
        let id = self.ok(&["ps", "-q", service], Duration::from_secs(60));
        let id = id.trim().to_string();
        assert!(!id.is_empty(), "no container for {service}");
        id
    }

    /// The name docker gives the project's network or volume `name`.
    pub fn scoped(&self, name: &str) -> String {
        format!("{}_{name}", self.project)
    }

    pub fn image(&self, name: &str) -> String {
        format!("{}/{name}:{}", self.prefix, self.tag)
    }

    /// `127.0.0.1:PORT` where `service`'s `port` (`7400/udp`, `9400/tcp`)
    /// is published.
    pub fn published(&self, service: &str, port: &str) -> String {
        let (port, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        let out = self.ok(
            &["port", "--protocol", proto, service, port],
            Duration::from_secs(60),
        );
        let addr = out.trim().replace("0.0.0.0:", "127.0.0.1:");
        assert!(addr.starts_with("127.0.0.1:"), "{service} {port}: {out:?}");
        addr
    }

    /// The last lines of every service's log, for failure messages.
    pub fn logs(&self) -> String {
        let out = self.run(
            &["logs", "--no-color", "--tail", "60"],
            Duration::from_secs(60),
        );
        text(&out.stdout) + &text(&out.stderr)
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- container logs ({}) ----\n{}",
                self.project,
                self.logs()
            );
        }
        // Containers started by hand on the project's networks first, or
        // the networks cannot be removed.
        let ids = run_bounded(
            Command::new("docker").args([
                "ps",
                "-aq",
                "--filter",
                &format!("label={TEST_LABEL}={}", self.project),
            ]),
            Duration::from_secs(60),
        );
        let ids: Vec<String> = text(&ids.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let mut cmd = Command::new("docker");
            cmd.args(["rm", "-f", "-v"]).args(&ids);
            run_bounded(&mut cmd, Duration::from_secs(60));
        }
        let out = self.run(
            &["down", "-v", "--remove-orphans", "-t", "2"],
            Duration::from_secs(180),
        );
        if !out.status.success() {
            eprintln!(
                "compose down failed for {}: {}",
                self.project,
                text(&out.stderr)
            );
        }
        let mut rm = Command::new("docker");
        rm.args(["image", "rm", "-f"]);
        for name in ["dfoodd", "dfood", "etcd"] {
            rm.arg(self.image(name));
        }
        run_bounded(&mut rm, Duration::from_secs(120));
    }
}

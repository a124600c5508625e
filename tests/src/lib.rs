//! The test harness: real etcd processes, real `dfoodd` processes and real
//! `dfood` runs, on 127.0.0.1 with free ports and temporary data dirs.
//!
//! Every process is spawned from one long-lived spawner thread with
//! `PR_SET_PDEATHSIG = SIGKILL`, so nothing outlives the test binary even if
//! a test panics; [`Proc`] also kills its process when dropped.
//!
//! Missing tools fail loudly: a test never skips because etcd is absent.

pub mod docker;
pub mod gateway;
pub mod postgres;

pub mod robustness;
pub mod secure_etcd;
pub mod tmux;

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use protocol::client::{Client, ConnectOptions};
use protocol::messages::{HealthRequest, HealthResponse, types};

/// A port free on 127.0.0.1 for both TCP and UDP right now.
pub fn free_port() -> u16 {
    static USED: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        let port = tcp.local_addr().expect("addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut used = USED.lock().expect("lock");
        if used.contains(&port) {
            continue;
        }
        used.push(port);
        return port;
    }
}

type SpawnReq = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnReq>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnReq>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnReq>();
        std::thread::Builder::new()
            .name("proc-spawner".into())
            .spawn(move || {
                // This thread lives as long as the test process, so children
                // tied to it by PDEATHSIG die with the process, not earlier.
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                loop {
                    std::thread::park();
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    })
}

/// A child process that is killed when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open log {}: {e}", log.display()));
        let err = out.try_clone().expect("dup log");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        Proc::launch(name, cmd, log)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// kill -9, for real.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then wait up to `grace` for a clean exit; returns the exit
    /// code (None if it had to be killed).
    pub fn terminate(&mut self, grace: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Path of a binary built from this workspace (`dfoodd`, `dfood`).
///
/// `cargo test` rebuilds the libraries the tests link, not the binaries
/// they run, so the first call (re)builds them with the cargo that runs
/// the tests: a test never runs a stale `dfoodd`.
///
/// `DFOOD_TEST_BIN_DIR`, when set, names a directory of binaries to run
/// instead (nothing is built): for a target directory that other builds
/// share, copy or hard-link the binaries aside first.
pub fn workspace_bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("DFOOD_TEST_BIN_DIR") {
        let bin = PathBuf::from(dir).join(name);
        assert!(
            bin.exists(),
            "{} not found (DFOOD_TEST_BIN_DIR)",
            bin.display()
        );
        return bin;
    }
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/integration-<hash>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let built = BUILT.get_or_init(|| {
        let Some(cargo) = std::env::var_os("CARGO") else {
            return Ok(()); // not run by cargo: use what is there
        };
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--workspace", "--bins", "--quiet"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        if dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        match cmd.output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Err(e) = built {
        panic!("cannot build the workspace binaries: {e}");
    }
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} not found: build the binaries first with `cargo build --workspace --bins` (the README's test command does)",
        bin.display()
    );
    bin
}

/// The etcd binary: `$ETCD_BIN`, or `etcd` on PATH.
pub fn etcd_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ETCD_BIN") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "ETCD_BIN={} does not exist", p.display());
        return p;
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join("etcd");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "etcd not found on PATH and ETCD_BIN is not set: install it with `sudo apt-get install etcd-server` (Debian), or run the README's test command, which installs it"
    );
}

/// One etcd member.
pub struct EtcdMember {
    /// The command line that started it, to start it again.
    args: Vec<std::ffi::OsString>,
    pub name: String,
    pub client_url: String,
    pub peer_url: String,
    pub proc: Proc,
    pub data: PathBuf,
}

/// A real etcd cluster of one or more members on 127.0.0.1.
pub struct Etcd {
    pub members: Vec<EtcdMember>,
    _dir: tempfile::TempDir,
}

impl Etcd {
    pub fn start(n: usize) -> Etcd {
        let bin = etcd_bin();
        let dir = tempfile::tempdir().expect("tempdir");
        let specs: Vec<(String, u16, u16)> = (0..n)
            .map(|i| (format!("etcd{i}"), free_port(), free_port()))
            .collect();
        let initial = specs
            .iter()
            .map(|(name, _, peer)| format!("{name}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let members = specs
            .into_iter()
            .map(|(name, client, peer)| {
                let data = dir.path().join(&name);
                let client_url = format!("http://127.0.0.1:{client}");
                let peer_url = format!("http://127.0.0.1:{peer}");
                let mut cmd = Command::new(&bin);
                cmd.arg("--name")
                    .arg(&name)
                    .arg("--data-dir")
                    .arg(&data)
                    .arg("--listen-client-urls")
                    .arg(&client_url)
                    .arg("--advertise-client-urls")
                    .arg(&client_url)
                    .arg("--listen-peer-urls")
                    .arg(&peer_url)
                    .arg("--initial-advertise-peer-urls")
                    .arg(&peer_url)
                    .arg("--initial-cluster")
                    .arg(&initial)
                    .arg("--initial-cluster-state")
                    .arg("new")
                    .arg("--initial-cluster-token")
                    .arg("dfood-test");
                let log = dir.path().join(format!("{name}.log"));
                let args = cmd.get_args().map(|a| a.to_os_string()).collect();
                let proc = Proc::spawn(&name, cmd, &log);
                EtcdMember {
                    args,
                    name,
                    client_url,
                    peer_url,
                    proc,
                    data,
                }
            })
            .collect();
        let etcd = Etcd { members, _dir: dir };
        etcd.wait_healthy(Duration::from_secs(30));
        etcd
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Starts member `i` again (after a kill) on its data dir.
    pub fn restart_member(&mut self, i: usize) {
        let m = &mut self.members[i];
        m.proc.kill9();
        let mut cmd = Command::new(etcd_bin());
        cmd.args(&m.args);
        let log = m.proc.log.clone();
        m.proc = Proc::spawn(&m.name, cmd, &log);
        let url = format!("{}/health", m.client_url);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http_get_ok(&url) {
            assert!(
                Instant::now() < deadline,
                "etcd member {} not healthy after restart:\n{}",
                m.name,
                m.proc.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_healthy(&self, within: Duration) {
        let deadline = Instant::now() + within;
        for m in &self.members {
            let url = format!("{}/health", m.client_url);
            loop {
                if http_get_ok(&url) {
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "etcd member {} not healthy within {within:?}; its log:\n{}",
                        m.name,
                        m.proc.log_text()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A minimal HTTP GET on loopback, true on a 200 whose body says healthy.
fn http_get_ok(url: &str) -> bool {
    use std::io::Read;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    healthy_answer(&body)
}

/// An HTTP answer says healthy: status 200 (HTTP/1.0 or 1.1) *and* a body
/// of `"health":"true"` (etcd's `/health`). Without the parentheses a bare
/// HTTP/1.0 200 passed whatever its body said.
fn healthy_answer(raw: &str) -> bool {
    (raw.starts_with("HTTP/1.0 200") || raw.starts_with("HTTP/1.1 200"))
        && raw.contains("\"health\":\"true\"")
}

/// `GET path` over plain HTTP/1.0 to `host_port` (loopback or a test
/// network), bounded by `timeout`: the status code and the body.
pub fn http_get(host_port: &str, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    use std::io::Read;
    let addr: SocketAddr = host_port.parse().map_err(|e| format!("{host_port}: {e}"))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("connect {host_port}: {e}"))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host_port}\r\n\r\n")
        .map_err(|e| format!("send to {host_port}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read from {host_port}: {e}"))?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("{host_port}{path}: not an HTTP answer: {head:?}"))?;
    Ok((code, body.to_string()))
}

/// The key-encryption key file every etcd-backed node of this test process
/// is given (one per process, 0600; clusters need one KEK for all nodes).
pub fn test_kek() -> PathBuf {
    static KEK: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    KEK.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kek");
        use base64::Engine;
        let key: [u8; 32] = rand::random();
        let text = base64::engine::general_purpose::STANDARD.encode(key);
        std::fs::write(&path, format!("{text}\n")).expect("write kek");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        (dir, path)
    })
    .1
    .clone()
}

/// A `dfoodd` process.
pub struct Daemon {
    pub node: String,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub etcd: Vec<String>,
    pub proc: Proc,
    log: PathBuf,
    /// The config file given with `--config` (see [`Daemon::start_with`]).
    config: Option<PathBuf>,
}

impl Daemon {
    /// Starts `dfoodd` on a free port, on the embedded store in `data_dir`
    /// when `etcd` is empty, and waits until it answers `health`.
    pub fn start(node: &str, data_dir: &Path, etcd: &[String]) -> Daemon {
        Self::start_inner(node, data_dir, etcd, None)
    }

    /// As [`Daemon::start`], with `extra_config_toml` (e.g. a `[payments]`
    /// section) written to `<data_dir>/<node>.toml` and passed with
    /// `--config`; flags still set node, listen address, data dir and etcd.
    /// [`Daemon::restart`] reuses the same file.
    pub fn start_with(
        node: &str,
        data_dir: &Path,
        etcd: &[String],
        extra_config_toml: &str,
    ) -> Daemon {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let config = data_dir.join(format!("{node}.toml"));
        std::fs::write(&config, extra_config_toml).expect("write dfoodd config");
        Self::start_inner(node, data_dir, etcd, Some(config))
    }

    fn start_inner(
        node: &str,
        data_dir: &Path,
        etcd: &[String],
        config: Option<PathBuf>,
    ) -> Daemon {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = data_dir.join(format!("{node}.log"));
        let proc = Self::spawn(node, addr, data_dir, etcd, &log, config.as_deref());
        let mut d = Daemon {
            node: node.into(),
            addr,
            data_dir: data_dir.to_path_buf(),
            etcd: etcd.to_vec(),
            proc,
            log,
            config,
        };
        d.wait_ready(Duration::from_secs(30));
        d
    }

    fn spawn(
        node: &str,
        addr: SocketAddr,
        data_dir: &Path,
        etcd: &[String],
        log: &Path,
        config: Option<&Path>,
    ) -> Proc {
        let mut cmd = Command::new(workspace_bin("dfoodd"));
        cmd.arg("--node")
            .arg(node)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DFOODD_CONFIG")
            .env("DFOODD_LOG", "info,daemon=debug");
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        if !etcd.is_empty() {
            // Every node of a cluster is given the same key-encryption key.
            cmd.arg("--etcd")
                .arg(etcd.join(","))
                .arg("--kek-file")
                .arg(test_kek());
        }
        Proc::spawn(node, cmd, log)
    }

    /// Starts the same node again (same port, data dir, store and config
    /// file).
    pub fn restart(&mut self) {
        self.proc.kill9();
        self.proc = Self::spawn(
            &self.node,
            self.addr,
            &self.data_dir,
            &self.etcd,
            &self.log,
            self.config.as_deref(),
        );
        self.wait_ready(Duration::from_secs(30));
    }

    pub fn ca_path(&self) -> PathBuf {
        self.data_dir.join("tls").join("ca.pem")
    }

    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    pub fn connect_options(&self) -> ConnectOptions {
        let ca = std::fs::read(self.ca_path()).expect("CA file written by dfoodd");
        ConnectOptions::new(self.endpoint(), ca)
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.connect_options())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "connect to {}: {e}\nlog:\n{}",
                    self.node,
                    self.proc.log_text()
                )
            })
    }

    fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        loop {
            if !self.proc.alive() {
                panic!(
                    "dfoodd {} exited during start; log:\n{}",
                    self.node,
                    self.proc.log_text()
                );
            }
            if self.ca_path().exists() {
                let ok = rt.block_on(async {
                    let mut o = self.connect_options();
                    o.timeout = Duration::from_millis(500);
                    match Client::connect(&o).await {
                        Ok(c) => c
                            .call::<_, HealthResponse>(types::HEALTH, None, &HealthRequest {})
                            .await
                            .is_ok(),
                        Err(_) => false,
                    }
                });
                if ok {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "dfoodd {} not ready within {within:?}; log:\n{}",
                    self.node,
                    self.proc.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A `dfood` invocation aimed at this daemon.
    pub fn dfood(&self) -> Dfood {
        Dfood::new()
            .env("DFOOD_ENDPOINT", &self.endpoint())
            .env("DFOOD_CA", &self.ca_path().display().to_string())
    }
}

/// Runs the real `dfood` binary as a user would, with a private config dir.
pub struct Dfood {
    cmd: Command,
    _home: tempfile::TempDir,
}

/// What a `dfood` run returned.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
    pub fn stderr_json(&self) -> serde_json::Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {self:?}"))
    }
}

impl Default for Dfood {
    fn default() -> Self {
        Self::new()
    }
}

impl Dfood {
    pub fn new() -> Dfood {
        let home = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(workspace_bin("dfood"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .stdin(Stdio::null());
        Dfood { cmd, _home: home }
    }

    pub fn env(mut self, k: &str, v: &str) -> Dfood {
        self.cmd.env(k, v);
        self
    }

    pub fn home(&self) -> &Path {
        self._home.path()
    }

    pub fn run<I, S>(&mut self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(self.cmd.get_program());
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.env_clear();
        for (k, v) in self.cmd.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run dfood");
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A person with their own config dir, logged in to `d`.
pub struct User {
    pub name: String,
    pub cli: Dfood,
}

impl User {
    pub fn new(d: &Daemon, name: &str) -> User {
        let mut cli = d.dfood().env("DFOOD_PASSWORD", "correct horse battery");
        let out = cli.run(["signup", "--username", name, "-o", "json"]);
        assert_eq!(out.code, 0, "signup {name}: {out:?}");
        let out = cli.run(["login", "--username", name, "-o", "json"]);
        assert_eq!(out.code, 0, "login {name}: {out:?}");
        User {
            name: name.into(),
            cli,
        }
    }

    /// Runs with `-o json`, expecting success.
    pub fn ok(&mut self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.cli.run(&a);
        assert_eq!(out.code, 0, "{} {args:?}: {out:?}", self.name);
        out.json()
    }

    /// Runs expecting exit `code`; returns the JSON error message.
    pub fn fails(&mut self, args: &[&str], code: u8) -> String {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.cli.run(&a);
        assert_eq!(out.code, code as i32, "{} {args:?}: {out:?}", self.name);
        out.stderr_json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Starts `dfood ARGS -o json` in the background, as this user.
    pub fn spawn(&self, d: &Daemon, args: &[&str]) -> std::process::Child {
        Command::new(workspace_bin("dfood"))
            .args(args)
            .args(["-o", "json"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", self.cli.home())
            .env("XDG_CONFIG_HOME", self.cli.home().join("config"))
            .env("DFOOD_ENDPOINT", d.endpoint())
            .env("DFOOD_CA", d.ca_path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The order as `dfood order status` shows it.
    pub fn order(&mut self, id: &str) -> serde_json::Value {
        self.ok(&["order", "status", id])
    }

    /// This customer's orders, from `dfood order list`.
    pub fn orders(&mut self) -> Vec<serde_json::Value> {
        self.ok(&["order", "list"])["orders"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// `n` nodes `node-1`..`node-n` on `etcd`, data under `dir/n1`...
pub fn start_nodes(etcd: &Etcd, dir: &Path, n: usize) -> Vec<Daemon> {
    (1..=n)
        .map(|i| {
            Daemon::start(
                &format!("node-{i}"),
                &dir.join(format!("n{i}")),
                &etcd.endpoints(),
            )
        })
        .collect()
}

/// The first operator, bootstrapped with the one-time setup token one of
/// `nodes` wrote; a CLI logged in as `ops` against `nodes[0]`.
pub fn bootstrap_operator(nodes: &[Daemon]) -> Dfood {
    let token_file = nodes
        .iter()
        .map(|d| d.data_dir.join("setup-token"))
        .find(|p| p.exists())
        .expect("one node wrote the setup token");
    let mut cli = nodes[0].dfood().env("DFOOD_PASSWORD", "operator password");
    let out = cli.run([
        "admin",
        "bootstrap",
        "--token-file",
        token_file.to_str().expect("utf-8 path"),
        "--username",
        "ops",
        "-o",
        "json",
    ]);
    assert_eq!(out.code, 0, "bootstrap: {out:?}");
    cli
}

/// An open restaurant `restaurant` with the menu `csv`, created by its
/// new manager (returned, logged in to `d`).
pub fn shop(d: &Daemon, restaurant: &str, manager: &str, csv: &str) -> User {
    let mut m = User::new(d, manager);
    open_shop(&mut m, restaurant, csv, &[]);
    m
}

/// `manager` creates `restaurant`, imports the menu `csv`, takes on the
/// (signed-up) users `kitchen` as kitchen staff, and opens it.
pub fn open_shop(manager: &mut User, restaurant: &str, csv: &str, kitchen: &[&str]) {
    manager.ok(&["restaurant", "create", restaurant, "--name", restaurant]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("menu.csv");
    std::fs::write(&path, csv).expect("write menu");
    let menu = manager.ok(&[
        "menu",
        "import",
        restaurant,
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        menu["items"].as_array().map(Vec::len),
        Some(csv.lines().skip(1).filter(|l| !l.trim().is_empty()).count()),
        "every menu line imported: {menu}"
    );
    for k in kitchen {
        manager.ok(&[
            "staff",
            "add",
            k,
            "--restaurant",
            restaurant,
            "--role",
            "kitchen",
        ]);
    }
    manager.ok(&["restaurant", "open", restaurant]);
}

/// Sends one request through the product's client, expecting success
/// (a test that drives `protocol::session` rather than `dfood`).
pub async fn call(
    s: &protocol::session::Session,
    token: Option<&str>,
    ty: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    s.call::<serde_json::Value, serde_json::Value>(ty, token, &body)
        .await
        .unwrap_or_else(|e| panic!("{ty} {body}: {e}"))
}

/// An access token for `name` (password grant), through `s`.
pub async fn token(s: &protocol::session::Session, name: &str, password: &str) -> String {
    let t = call(
        s,
        None,
        "auth.token",
        serde_json::json!({"grant_type": "password", "username": name, "password": password}),
    )
    .await;
    t["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// Signs `name` up with `password` and returns their access token.
pub async fn person(s: &protocol::session::Session, name: &str, password: &str) -> String {
    call(
        s,
        None,
        "auth.signup",
        serde_json::json!({"username": name, "password": password}),
    )
    .await;
    token(s, name, password).await
}

/// Man pages and completion scripts rendered from the clap definitions
/// (written to `man/man1/` and `man/completions/` by `gen-man`).
pub mod man {
    /// `(file name, script)` for each shell `dfood completions` supports.
    pub fn completions() -> Vec<(String, Vec<u8>)> {
        cli::completions::Shell::ALL
            .iter()
            .map(|s| (s.file_name().to_string(), cli::completions::render(*s)))
            .collect()
    }

    /// `(file name, roff text)` for `dfood`, each of its subcommands, and
    /// `dfoodd`.
    pub fn pages() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        render(cli::args::command(), "", &mut out);
        render(daemon::args::command(), "", &mut out);
        out.sort();
        out
    }

    fn render(cmd: clap::Command, parent: &str, out: &mut Vec<(String, Vec<u8>)>) {
        let name = if parent.is_empty() {
            cmd.get_name().to_string()
        } else {
            format!("{parent}-{}", cmd.get_name())
        };
        let cmd = cmd.name(name.clone()).bin_name(name.replace('-', " "));
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut buf)
            .expect("render man page");
        out.push((format!("{name}.1"), buf));
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            render(sub.clone(), &name, out);
        }
    }
}

impl Proc {
    /// As [`Proc::spawn`], with stdout and stderr in files of their own
    /// (read as they grow: see [`DfoodProc`]).
    pub fn spawn_split(name: &str, mut cmd: Command, out: &Path, err: &Path) -> Proc {
        let open = |p: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", p.display()))
        };
        cmd.stdin(Stdio::null()).stdout(open(out)).stderr(open(err));
        Proc::launch(name, cmd, err)
    }

    /// Starts `cmd` (its stdio already set), killed with the test process
    /// (PR_SET_PDEATHSIG), through the spawner thread; `log` is where its
    /// stderr goes.
    fn launch(name: &str, mut cmd: Command, log: &Path) -> Proc {
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        spawner()
            .lock()
            .expect("spawner")
            .send((cmd, tx))
            .expect("spawner alive");
        let child = rx
            .recv()
            .expect("spawner reply")
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.into(),
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// The exit code once the process has ended (`Some(-1)` for a
    /// signal), `None` while it runs.
    pub fn exit_code(&mut self) -> Option<i32> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(Some(st)) => Some(st.code().unwrap_or(-1)),
            _ => None,
        }
    }

    /// Sends `sig` (SIGSTOP, SIGCONT, SIGTERM...) without waiting.
    pub fn signal(&self, sig: i32) {
        if let Some(c) = self.child.as_ref() {
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }
}

impl Dfood {
    /// Starts `dfood ARGS` in the background with this config dir and
    /// environment (a stream: `order track`, `events`), killed with the
    /// test; its output is read as it grows.
    pub fn spawn_stream(&self, name: &str, args: &[&str]) -> DfoodProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
        let mut cmd = Command::new(self.cmd.get_program());
        cmd.env_clear();
        for (k, v) in self.cmd.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.args(args);
        DfoodProc {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            proc: Proc::spawn_split(name, cmd, &out, &err),
            out,
            err,
            _dir: dir,
        }
    }
}

/// A long-lived `dfood` process (`order track`, `events`, `--output
/// json`): its stdout lines (JSON Lines) and its stderr notices
/// (`{"notice": "subscribed"|"lost"|"resumed", "endpoint", ...}`), read as
/// they come, tell what it printed and which node it is on.
pub struct DfoodProc {
    pub name: String,
    pub args: Vec<String>,
    pub proc: Proc,
    out: PathBuf,
    err: PathBuf,
    _dir: tempfile::TempDir,
}

impl DfoodProc {
    fn lines(p: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        // A line still being written has no newline yet: not counted.
        let complete = text.rfind('\n').map_or("", |i| &text[..i]);
        complete
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        Self::lines(&self.out)
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        Self::lines(&self.err)
    }

    /// Stdout as JSON documents (panics on a line that is not one).
    pub fn docs(&self) -> Vec<serde_json::Value> {
        self.stdout_lines()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("{}: stdout line is not JSON ({e}): {l:?}", self.name)
                })
            })
            .collect()
    }

    /// The stderr notices, in order (JSON lines with a `notice` field).
    pub fn notices(&self) -> Vec<serde_json::Value> {
        self.stderr_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("notice").is_some())
            .collect()
    }

    /// The endpoint the stream is on now, by its last notice: `None`
    /// before it subscribed and between a `lost` and the next `resumed`.
    pub fn endpoint(&self) -> Option<String> {
        let last = self.notices().pop()?;
        match last["notice"].as_str() {
            Some("subscribed" | "resumed") => last["endpoint"].as_str().map(str::to_string),
            _ => None,
        }
    }

    /// Everything it printed, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.name,
            self.args.join(" "),
            self.stdout_lines().join("\n"),
            self.stderr_lines().join("\n")
        )
    }

    /// Waits until `f` holds (checked every 50 ms), panicking with its
    /// output if it exits first or `within` passes.
    pub fn wait_until(&mut self, what: &str, within: Duration, f: impl Fn(&DfoodProc) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            if f(self) {
                return;
            }
            if let Some(code) = self.proc.exit_code() {
                // One last look: it may have printed it just before exiting.
                if f(self) {
                    return;
                }
                panic!(
                    "{what}: {} exited with {code}; {}",
                    self.name,
                    self.describe()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {within:?}; {}",
                self.describe()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod harness_tests {
    #[test]
    fn a_health_answer_needs_status_200_and_a_healthy_body() {
        let ok = "\r\n\r\n{\"health\":\"true\",\"reason\":\"\"}";
        let bad = "\r\n\r\n{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}";
        for v in ["HTTP/1.0 200 OK", "HTTP/1.1 200 OK"] {
            assert!(super::healthy_answer(&format!("{v}{ok}")), "{v}");
            assert!(!super::healthy_answer(&format!("{v}{bad}")), "{v}");
            assert!(!super::healthy_answer(&format!("{v}\r\n\r\n")), "{v}");
        }
        assert!(!super::healthy_answer(&format!(
            "HTTP/1.1 503 Service Unavailable{ok}"
        )));
        assert!(!super::healthy_answer(""));
    }
}

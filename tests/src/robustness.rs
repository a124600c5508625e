//! The robustness harness, in the style of etcd's `tests/robustness`. A
//! scenario is:
//! - a **cluster**: 3 etcd members and 3 dfoodd, real processes on
//!   127.0.0.1;
//! - **traffic**: customers placing and cancelling with idempotent retries
//!   (and double submits), a kitchen bumping tickets, a resuming subscriber;
//! - one **failure**: kill -9 of a daemon, of the leader daemon or of the
//!   etcd leader, SIGSTOP/SIGCONT of a daemon, or a lossy UDP proxy between
//!   clients and a node.
//!
//! Every client records what it asked and what came back; once failures
//! stop and the system settles, [`check`] verifies the promises of
//! PRODUCT.md against that history and the store's final state. On failure
//! the history and every node's log are saved for replay.
//!
//! Every loop here is bounded in count and time and stops by itself, and
//! all traffic goes to 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::store::Store;
use daemon::store::etcd::EtcdStore;
use protocol::client::{Client, ClientError, ConnectOptions, SubscriptionItem};
use protocol::messages::SubscribeRequest;
use protocol::wire::ErrorCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Daemon, Etcd};

pub const RESTAURANT: &str = "robusta";
/// The item whose stock is counted (and must never go negative).
pub const STOCKED: &str = "truffle";
pub const INITIAL_STOCK: i64 = 30;

/// What goes wrong during a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Failure {
    None,
    KillDaemon,
    KillLeaderDaemon,
    KillEtcdLeader,
    PauseDaemon,
    LossyProxy,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub traffic: Duration,
    pub customers: usize,
    /// When the failure strikes, after traffic starts.
    pub fail_after: Duration,
    /// How long the failure lasts before it is healed.
    pub fail_for: Duration,
}

impl Settings {
    /// The bounded run CI does on every change, or a longer soak when
    /// `DFOOD_SOAK_SECS` is set.
    pub fn from_env() -> Settings {
        let soak = std::env::var("DFOOD_SOAK_SECS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match soak {
            Some(secs) => Settings {
                traffic: Duration::from_secs(secs),
                customers: 8,
                fail_after: Duration::from_secs(secs / 4),
                fail_for: Duration::from_secs((secs / 4).max(5)),
            },
            None => Settings {
                traffic: Duration::from_secs(12),
                customers: 5,
                fail_after: Duration::from_secs(3),
                fail_for: Duration::from_secs(5),
            },
        }
    }
}

/// One client operation and its outcome, as the client saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Op {
    pub client: String,
    pub at_ms: u64,
    pub op: String,
    pub key: String,
    /// `ok:<order id>`, `err:<code>`, or `unknown` (gave up without an answer).
    pub outcome: String,
}

#[derive(Default)]
pub struct History {
    pub ops: Mutex<Vec<Op>>,
    /// (revision, order id, version) of every order event the subscriber saw.
    pub seen: Mutex<Vec<(u64, String, u64)>>,
    start: Mutex<Option<Instant>>,
}

impl History {
    fn record(&self, client: &str, op: &str, key: &str, outcome: String) {
        let start = *self.start.lock().unwrap().get_or_insert_with(Instant::now);
        self.ops.lock().unwrap().push(Op {
            client: client.into(),
            at_ms: start.elapsed().as_millis() as u64,
            op: op.into(),
            key: key.into(),
            outcome,
        });
    }
}

/// A client that fails over: tries its endpoints in turn, moving on when
/// the node it talks to dies, drains or stops answering.
pub struct Conn {
    pub endpoints: Vec<String>,
    pub ca: Vec<u8>,
    next: usize,
    client: Option<Client>,
}

impl Conn {
    pub fn new(endpoints: Vec<String>, ca: Vec<u8>, start: usize) -> Conn {
        Conn {
            endpoints,
            ca,
            next: start,
            client: None,
        }
    }

    async fn client(&mut self) -> Result<&Client, ClientError> {
        if self.client.is_none() {
            let mut last = None;
            for _ in 0..self.endpoints.len() {
                let ep = self.endpoints[self.next % self.endpoints.len()].clone();
                self.next += 1;
                let mut o = ConnectOptions::new(ep, self.ca.clone());
                o.timeout = Duration::from_secs(2);
                match Client::connect(&o).await {
                    Ok(c) => {
                        self.client = Some(c);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if self.client.is_none() {
                return Err(last.expect("tried at least one endpoint"));
            }
        }
        Ok(self.client.as_ref().expect("connected"))
    }

    /// One attempt; a transport failure drops the connection so the next
    /// attempt goes to another node.
    pub async fn call(
        &mut self,
        ty: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, ClientError> {
        let r = match self.client().await {
            Ok(c) => c.call::<Value, Value>(ty, token, body).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &r
            && !matches!(e, ClientError::Server(_))
        {
            self.client = None;
        }
        r
    }
}

fn is_retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Server(b) => b.code == ErrorCode::Unavailable,
        _ => true,
    }
}

/// Whether the lossy proxy is in one of its blackouts: 1.5 s of total
/// loss every 3 s, long enough for clients to time out after the server
/// may already have acted, so they retry elsewhere (with the same keys).
fn blackout() -> bool {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    ms % 3000 < 1500
}

/// A lossy UDP proxy: forwards datagrams between clients and `upstream`,
/// dropping a share of them while `lossy` is on.
pub struct UdpProxy {
    pub addr: SocketAddr,
    pub lossy: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl UdpProxy {
    pub async fn start(upstream: SocketAddr) -> UdpProxy {
        let sock = Arc::new(
            tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind proxy"),
        );
        let addr = sock.local_addr().expect("addr");
        let lossy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let l = lossy.clone();
        let task = tokio::spawn(async move {
            let mut uplinks: HashMap<SocketAddr, Arc<tokio::net::UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 65536];
            let mut n: u64 = 0;
            loop {
                let Ok((len, from)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                n += 1;
                let drop_it = l.load(std::sync::atomic::Ordering::Relaxed)
                    && (n.is_multiple_of(3) || blackout());
                let up = match uplinks.get(&from) {
                    Some(u) => u.clone(),
                    None => {
                        let u = Arc::new(
                            tokio::net::UdpSocket::bind("127.0.0.1:0")
                                .await
                                .expect("bind uplink"),
                        );
                        u.connect(upstream).await.expect("connect upstream");
                        let (down, back, lossy) = (sock.clone(), u.clone(), l.clone());
                        tokio::spawn(async move {
                            let mut b = vec![0u8; 65536];
                            let mut m: u64 = 0;
                            while let Ok(len) = back.recv(&mut b).await {
                                m += 1;
                                if lossy.load(std::sync::atomic::Ordering::Relaxed) {
                                    if m.is_multiple_of(3) || blackout() {
                                        continue;
                                    }
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                }
                                let _ = down.send_to(&b[..len], from).await;
                            }
                        });
                        uplinks.insert(from, u.clone());
                        u
                    }
                };
                if !drop_it {
                    let _ = up.send(&buf[..len]).await;
                }
            }
        });
        UdpProxy { addr, lossy, task }
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The running system.
pub struct World {
    pub etcd: Etcd,
    pub nodes: Vec<Daemon>,
    pub dir: tempfile::TempDir,
    pub ca: Vec<u8>,
    pub operator: String,
    pub manager: String,
    pub kitchen: String,
    pub customers: Vec<(String, String)>,
}

async fn token(c: &mut Conn, name: &str, pw: &str) -> String {
    let t = c
        .call(
            "auth.token",
            None,
            &json!({"grant_type": "password", "username": name, "password": pw}),
        )
        .await
        .unwrap_or_else(|e| panic!("login {name}: {e}"));
    t["access_token"].as_str().unwrap().to_string()
}

async fn person(c: &mut Conn, name: &str) -> String {
    let pw = "robust password";
    c.call(
        "auth.signup",
        None,
        &json!({"username": name, "password": pw}),
    )
    .await
    .unwrap_or_else(|e| panic!("signup {name}: {e}"));
    token(c, name, pw).await
}

impl World {
    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.iter().map(|d| d.endpoint()).collect()
    }

    pub async fn start(customers: usize) -> World {
        let (etcd, nodes, dir) = tokio::task::spawn_blocking(|| {
            let etcd = Etcd::start(3);
            let dir = tempfile::tempdir().expect("tempdir");
            let nodes: Vec<Daemon> = (1..=3)
                .map(|i| {
                    Daemon::start(
                        &format!("node-{i}"),
                        &dir.path().join(format!("n{i}")),
                        &etcd.endpoints(),
                    )
                })
                .collect();
            (etcd, nodes, dir)
        })
        .await
        .expect("start cluster");
        let ca = std::fs::read(nodes[0].ca_path()).expect("CA");
        let mut w = World {
            etcd,
            nodes,
            dir,
            ca,
            operator: String::new(),
            manager: String::new(),
            kitchen: String::new(),
            customers: Vec::new(),
        };
        let mut c = Conn::new(w.endpoints(), w.ca.clone(), 0);
        let setup = w
            .nodes
            .iter()
            .map(|d| d.data_dir.join("setup-token"))
            .find(|p| p.exists())
            .expect("setup token");
        let setup = std::fs::read_to_string(setup).unwrap();
        c.call(
            "admin.bootstrap",
            None,
            &json!({"setup_token": setup.trim(), "username": "ops", "password": "robust password"}),
        )
        .await
        .expect("bootstrap");
        w.operator = token(&mut c, "ops", "robust password").await;
        w.manager = person(&mut c, "manager").await;
        w.kitchen = person(&mut c, "cook").await;
        for i in 0..customers {
            let name = format!("customer{i}");
            let t = person(&mut c, &name).await;
            w.customers.push((name, t));
        }
        let m = Some(w.manager.as_str());
        c.call(
            "restaurant.create",
            m,
            &json!({"id": RESTAURANT, "name": "Robusta", "acceptance_timeout_secs": 15}),
        )
        .await
        .expect("create restaurant");
        c.call(
            "menu.import",
            m,
            &json!({"restaurant": RESTAURANT, "items": [
                {"sku": "pizza", "name": "Pizza", "price": 900},
                {"sku": "soup", "name": "Soup", "price": 500},
                {"sku": STOCKED, "name": "Truffle pasta", "price": 2500, "stock": INITIAL_STOCK},
            ]}),
        )
        .await
        .expect("menu");
        c.call(
            "staff.add",
            m,
            &json!({"restaurant": RESTAURANT, "username": "cook", "role": "kitchen"}),
        )
        .await
        .expect("staff");
        c.call("restaurant.open", m, &json!({"restaurant": RESTAURANT}))
            .await
            .expect("open");
        w
    }

    pub async fn leader(&self) -> Option<String> {
        self.leader_and_token().await.map(|(l, _)| l)
    }

    /// The leader and its fencing token.
    pub async fn leader_and_token(&self) -> Option<(String, u64)> {
        let mut c = Conn::new(self.endpoints(), self.ca.clone(), 0);
        let st = c
            .call("cluster.status", Some(&self.operator), &json!({}))
            .await
            .ok()?;
        let node = st["leader"]["node"].as_str()?.to_string();
        Some((node, st["leader"]["fencing_token"].as_u64()?))
    }

    /// Saves the history and every log for replay; returns the folder.
    pub fn save(&self, name: &str, history: &History, problems: &[String]) -> PathBuf {
        let out = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("robustness")
            .join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&out).expect("failure dir");
        let ops = history.ops.lock().unwrap();
        let _ = std::fs::write(
            out.join("history.json"),
            serde_json::to_vec_pretty(&*ops).unwrap(),
        );
        let seen = history.seen.lock().unwrap();
        let _ = std::fs::write(
            out.join("subscriber.json"),
            serde_json::to_vec_pretty(&*seen).unwrap(),
        );
        let _ = std::fs::write(out.join("problems.txt"), problems.join("\n"));
        for d in &self.nodes {
            let _ = std::fs::write(out.join(format!("{}.log", d.node)), d.proc.log_text());
        }
        for m in &self.etcd.members {
            let _ = std::fs::write(out.join(format!("{}.log", m.name)), m.proc.log_text());
        }
        out
    }
}

/// Places `body`, retrying with the same idempotency key on every failure
/// that leaves the outcome unknown, until it gets an answer or `give_up`.
async fn place_until_answered(c: &mut Conn, token: &str, body: &Value, give_up: Instant) -> String {
    loop {
        match c.call("order.place", Some(token), body).await {
            Ok(o) => return format!("ok:{}", o["id"].as_str().unwrap_or_default()),
            Err(e) if is_retryable(&e) && Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(ClientError::Server(b)) => return format!("err:{}", b.code),
            Err(_) => return "unknown".to_string(),
        }
    }
}

/// A customer: places orders (retrying with the same idempotency key
/// until it gets an answer), sometimes cancels one.
async fn customer(
    mut c: Conn,
    name: String,
    token: String,
    until: Instant,
    history: Arc<History>,
    seed: usize,
) {
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let key = format!("{name}-{n:04}");
        let mut lines = vec![json!({"sku": "pizza", "qty": 1})];
        if (n + seed as u64).is_multiple_of(2) {
            lines.push(json!({"sku": STOCKED, "qty": 1 + (n % 2)}));
        }
        let method = if n.is_multiple_of(9) {
            "pm_card_declined"
        } else {
            "pm_card_visa"
        };
        let body = json!({"restaurant": RESTAURANT, "lines": lines, "payment_method": method, "idempotency_key": key});
        let give_up = Instant::now() + Duration::from_secs(25);
        // Now and then the customer double-submits (two tabs, an impatient
        // click): the same key, at the same time, over another connection.
        let twin = if n.is_multiple_of(7) {
            let (body, token, endpoints, ca) = (
                body.clone(),
                token.clone(),
                c.endpoints.clone(),
                c.ca.clone(),
            );
            Some(tokio::spawn(async move {
                place_until_answered(
                    &mut Conn::new(endpoints, ca, seed + 1),
                    &token,
                    &body,
                    give_up,
                )
                .await
            }))
        } else {
            None
        };
        let outcome = place_until_answered(&mut c, &token, &body, give_up).await;
        if let Some(t) = twin
            && let Ok(o) = t.await
        {
            history.record(&name, "place", &key, o);
        }
        history.record(&name, "place", &key, outcome.clone());
        if n.is_multiple_of(5)
            && let Some(id) = outcome.strip_prefix("ok:")
        {
            let r = c
                .call("order.cancel", Some(&token), &json!({"order": id}))
                .await;
            let o = match r {
                Ok(v) => format!("ok:{}", v["state"].as_str().unwrap_or_default()),
                Err(ClientError::Server(b)) => format!("err:{}", b.code),
                Err(_) => "unknown".into(),
            };
            history.record(&name, "cancel", id, o);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The kitchen: moves every open ticket one step forward, over and over,
/// until `until`; then keeps going until nothing is open (bounded).
async fn kitchen(
    endpoints: Vec<String>,
    ca: Vec<u8>,
    token: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    deadline: Instant,
) {
    let mut c = Conn::new(endpoints, ca, 1);
    let open =
        json!({"restaurant": RESTAURANT, "states": ["placed", "accepted", "preparing", "ready"]});
    while Instant::now() < deadline {
        let list = match c.call("order.list", Some(&token), &open).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let orders = list["orders"].as_array().cloned().unwrap_or_default();
        if orders.is_empty() && stop.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        for o in orders {
            let next = match o["state"].as_str() {
                Some("placed") => "order.accept",
                Some("accepted") => "order.start",
                Some("preparing") => "order.ready",
                Some("ready") => "order.complete",
                _ => continue,
            };
            let _ = c.call(next, Some(&token), &json!({"order": o["id"]})).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The subscriber: follows the restaurant's events from `from`, resuming
/// from the last revision + 1 after every disconnect.
async fn subscriber(
    endpoints: Vec<String>,
    ca: Vec<u8>,
    token: String,
    from: u64,
    history: Arc<History>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    deadline: Instant,
) {
    let mut next = from;
    let mut idx = 2;
    while Instant::now() < deadline && !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let ep = endpoints[idx % endpoints.len()].clone();
        idx += 1;
        let mut o = ConnectOptions::new(ep, ca.clone());
        o.timeout = Duration::from_secs(2);
        let Ok(client) = Client::connect(&o).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let Ok(mut sub) = client
            .subscribe(
                &SubscribeRequest {
                    topic: format!("restaurant:{RESTAURANT}"),
                    from_revision: Some(next),
                },
                Some(&token),
            )
            .await
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        loop {
            let item = tokio::time::timeout(Duration::from_secs(2), sub.next()).await;
            match item {
                Ok(Ok(Some(SubscriptionItem::Events { revision, events }))) => {
                    next = revision + 1;
                    let mut seen = history.seen.lock().unwrap();
                    for ev in events {
                        if ev.kind.starts_with("order.") {
                            seen.push((
                                revision,
                                ev.subject.clone(),
                                ev.data["version"].as_u64().unwrap_or(0),
                            ));
                        }
                    }
                }
                Ok(Ok(Some(SubscriptionItem::Progress { .. }))) => {}
                Ok(Ok(None)) | Ok(Err(_)) => break,
                Err(_) => {
                    // Quiet: is it over, or is the node gone? Reconnect to find out.
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// Runs one scenario; panics with the list of broken promises (after
/// saving history and logs) if the checker finds any.
pub async fn run(name: &str, failure: Failure, settings: Settings) {
    let mut w = World::start(settings.customers).await;
    let history = Arc::new(History::default());
    let store = EtcdStore::connect(&w.etcd.endpoints())
        .await
        .expect("checker store");
    let start_rev = store.revision().await.expect("revision") as u64 + 1;
    let proxy = match failure {
        Failure::LossyProxy => Some(UdpProxy::start(w.nodes[0].addr).await),
        _ => None,
    };
    let until = Instant::now() + settings.traffic;
    let hard_deadline = until + Duration::from_secs(60);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (i, (name, token)) in w.customers.clone().into_iter().enumerate() {
        // The lossy proxy (if any) is every customer's first choice.
        let mut endpoints = w.endpoints();
        if let Some(p) = &proxy {
            endpoints.insert(0, p.addr.to_string());
        }
        let conn = Conn::new(endpoints, w.ca.clone(), i);
        tasks.push(tokio::spawn(customer(
            conn,
            name,
            token,
            until,
            history.clone(),
            i,
        )));
    }
    let kitchen_task = tokio::spawn(kitchen(
        w.endpoints(),
        w.ca.clone(),
        w.kitchen.clone(),
        stop.clone(),
        hard_deadline,
    ));
    let sub_task = tokio::spawn(subscriber(
        w.endpoints(),
        w.ca.clone(),
        w.kitchen.clone(),
        start_rev,
        history.clone(),
        stop.clone(),
        hard_deadline + Duration::from_secs(10),
    ));

    // The failure.
    tokio::time::sleep(settings.fail_after).await;
    let leader_before = w.leader_and_token().await;
    let leader = leader_before.clone().map(|(l, _)| l);
    let victim = match failure {
        Failure::KillLeaderDaemon => leader
            .clone()
            .and_then(|l| w.nodes.iter().position(|d| d.node == l)),
        Failure::KillDaemon | Failure::PauseDaemon => leader
            .as_ref()
            .map(|l| w.nodes.iter().position(|d| &d.node != l).unwrap_or(0)),
        _ => None,
    };
    let mut etcd_victim = None;
    match failure {
        Failure::KillDaemon | Failure::KillLeaderDaemon => {
            if let Some(i) = victim {
                w.nodes[i].proc.kill9();
            }
        }
        Failure::PauseDaemon => {
            if let Some(i) = victim {
                unsafe { libc::kill(w.nodes[i].proc.pid() as i32, libc::SIGSTOP) };
            }
        }
        Failure::KillEtcdLeader => {
            etcd_victim = etcd_leader(&w.etcd).await;
            if let Some(i) = etcd_victim {
                w.etcd.members[i].proc.kill9();
            }
        }
        Failure::LossyProxy => {
            if let Some(p) = &proxy {
                p.lossy.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Failure::None => {}
    }
    tokio::time::sleep(settings.fail_for).await;
    // Heal.
    match failure {
        Failure::KillDaemon | Failure::KillLeaderDaemon => {
            if let Some(i) = victim {
                tokio::task::block_in_place(|| w.nodes[i].restart());
            }
        }
        Failure::PauseDaemon => {
            if let Some(i) = victim {
                unsafe { libc::kill(w.nodes[i].proc.pid() as i32, libc::SIGCONT) };
            }
        }
        Failure::KillEtcdLeader => {
            if let Some(i) = etcd_victim {
                tokio::task::block_in_place(|| w.etcd.restart_member(i));
            }
        }
        Failure::LossyProxy => {
            if let Some(p) = &proxy {
                p.lossy.store(false, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Failure::None => {}
    }
    for t in tasks {
        let _ = t.await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = kitchen_task.await;
    // Let the subscriber catch up with everything committed, then stop it.
    let final_rev = store.revision().await.unwrap_or(0) as u64;
    let catch_up = Instant::now() + Duration::from_secs(15);
    while history
        .seen
        .lock()
        .unwrap()
        .last()
        .map(|s| s.0)
        .unwrap_or(0)
        < final_rev
        && Instant::now() < catch_up
    {
        if let Ok(events) = store.range(&format!("/dfood/events/{RESTAURANT}/")).await
            && events
                .kvs
                .iter()
                .map(|kv| kv.mod_revision as u64)
                .max()
                .unwrap_or(0)
                <= history
                    .seen
                    .lock()
                    .unwrap()
                    .last()
                    .map(|s| s.0)
                    .unwrap_or(0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sub_task.abort();

    let mut problems = check(&store, &history, start_rev).await;
    // A leader change inside etcd must not depose our leader.
    if failure == Failure::KillEtcdLeader {
        let after = w.leader_and_token().await;
        if after != leader_before {
            problems.push(format!(
                "an etcd leader change changed our leader: {leader_before:?} -> {after:?}"
            ));
        }
    }
    let ops = history.ops.lock().unwrap().len();
    let acked = history
        .ops
        .lock()
        .unwrap()
        .iter()
        .filter(|o| o.op == "place" && o.outcome.starts_with("ok:"))
        .count();
    eprintln!(
        "[{name}] {ops} operations, {acked} orders acknowledged, {} events seen; failure {failure:?} on {:?}",
        history.seen.lock().unwrap().len(),
        victim.map(|i| w.nodes[i].node.clone())
    );
    if !problems.is_empty() {
        let saved = w.save(name, &history, &problems);
        panic!(
            "[{name}] {} broken promise(s); history and logs in {}:\n  {}",
            problems.len(),
            saved.display(),
            problems.join("\n  ")
        );
    }
    assert!(
        acked >= 5,
        "[{name}] too little traffic got through to prove anything: {acked} orders"
    );
}

async fn etcd_leader(etcd: &Etcd) -> Option<usize> {
    for (i, m) in etcd.members.iter().enumerate() {
        let Ok(mut c) = etcd_client::Client::connect([m.client_url.as_str()], None).await else {
            continue;
        };
        if let Ok(s) = c.status().await
            && s.leader() == s.header().map(|h| h.member_id()).unwrap_or(0)
        {
            return Some(i);
        }
    }
    None
}

/// Verifies the promises against the history and the store's final state.
pub async fn check(store: &EtcdStore, history: &History, start_rev: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let orders: BTreeMap<String, Value> = store
        .range(&format!("/dfood/orders/{RESTAURANT}/"))
        .await
        .expect("orders")
        .kvs
        .into_iter()
        .map(|kv| {
            let v: Value = serde_json::from_slice(&kv.value).expect("order json");
            (v["id"].as_str().unwrap().to_string(), v)
        })
        .collect();
    let ops = history.ops.lock().unwrap().clone();

    // 1. No acknowledged order lost.
    for op in ops.iter().filter(|o| o.op == "place") {
        if let Some(id) = op.outcome.strip_prefix("ok:")
            && !orders.contains_key(id)
        {
            problems.push(format!("acknowledged order {id} (key {}) is lost", op.key));
        }
    }
    // 2. No duplicate order: one idempotency record per order, one order
    //    per record, and every order has one.
    let idem = store.range("/dfood/idem/").await.expect("idem").kvs;
    let mut by_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for kv in &idem {
        by_order
            .entry(String::from_utf8_lossy(&kv.value).into_owned())
            .or_default()
            .push(kv.key.clone());
    }
    for (id, keys) in &by_order {
        if keys.len() > 1 {
            problems.push(format!(
                "order {id} made by {} idempotency keys: {keys:?}",
                keys.len()
            ));
        }
    }
    for id in orders.keys() {
        if !by_order.contains_key(id) {
            problems.push(format!(
                "order {id} has no idempotency record (a duplicate placement?)"
            ));
        }
    }
    let mut key_to_order: HashMap<String, String> = HashMap::new();
    for op in ops.iter().filter(|o| o.op == "place") {
        if let Some(id) = op.outcome.strip_prefix("ok:")
            && let Some(prev) = key_to_order.insert(op.key.clone(), id.to_string())
            && prev != id
        {
            problems.push(format!(
                "key {} answered with two orders: {prev} and {id}",
                op.key
            ));
        }
    }
    // 3. Stock never negative, and exactly accounted for.
    let stock: Value = store
        .get(&format!("/dfood/stock/{RESTAURANT}"))
        .await
        .expect("stock")
        .map(|kv| serde_json::from_slice(&kv.value).expect("stock json"))
        .unwrap_or(json!({}));
    let left = stock["units"][STOCKED].as_i64().unwrap_or(-999);
    let taken: i64 = orders
        .values()
        .filter(|o| {
            !matches!(
                o["state"].as_str(),
                Some("rejected" | "cancelled" | "expired" | "payment_failed")
            )
        })
        .flat_map(|o| o["lines"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["sku"] == STOCKED)
        .map(|l| l["qty"].as_i64().unwrap_or(0))
        .sum();
    if left < 0 {
        problems.push(format!("stock of {STOCKED} is negative: {left}"));
    }
    if left != INITIAL_STOCK - taken {
        problems.push(format!(
            "stock of {STOCKED} is {left}, but orders hold {taken} of {INITIAL_STOCK}"
        ));
    }
    // 4. Every order ended in a terminal state, its money where it should be.
    let payments = store
        .range(daemon::payments::sandbox::PAYMENTS_PREFIX)
        .await
        .expect("payments")
        .kvs;
    let mut auths: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for kv in payments {
        let v: Value = serde_json::from_slice(&kv.value).expect("payment json");
        let key = v["idempotency_key"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let order = key.strip_suffix(":authorize").unwrap_or(&key).to_string();
        auths.entry(order).or_default().push(v["payment"].clone());
    }
    for (id, o) in &orders {
        let state = o["state"].as_str().unwrap_or_default();
        let pay = o["payment"]["state"].as_str().unwrap_or_default();
        if !matches!(
            state,
            "completed" | "rejected" | "cancelled" | "expired" | "payment_failed"
        ) {
            problems.push(format!(
                "order {id} did not reach a terminal state: {state} (payment {pay})"
            ));
        }
        let ps = auths.get(id).cloned().unwrap_or_default();
        if ps.len() > 1 {
            problems.push(format!("order {id} was authorised {} times", ps.len()));
        }
        for p in &ps {
            let captured = p["amount_captured"].as_i64().unwrap_or(0);
            if captured > p["amount"].as_i64().unwrap_or(0) {
                problems.push(format!(
                    "order {id}: captured {captured} of {}",
                    p["amount"]
                ));
            }
            if captured > 0 && state != "completed" {
                problems.push(format!(
                    "order {id} is {state} but its payment was captured"
                ));
            }
            if state == "completed" && captured == 0 {
                problems.push(format!("order {id} completed without its payment captured"));
            }
        }
        let expected_pay = match state {
            "completed" => Some("captured"),
            "rejected" | "cancelled" | "expired" => Some("voided"),
            "payment_failed" => Some("declined"),
            _ => None,
        };
        if let Some(e) = expected_pay
            && pay != e
        {
            problems.push(format!(
                "order {id} is {state} with payment {pay}, expected {e}"
            ));
        }
    }
    // 5. The subscriber saw every event exactly once, in order.
    let events: BTreeSet<(String, u64)> = store
        .range(&format!("/dfood/events/{RESTAURANT}/"))
        .await
        .expect("events")
        .kvs
        .into_iter()
        .filter(|kv| kv.mod_revision as u64 >= start_rev && !kv.key.contains("/_"))
        .map(|kv| {
            let v: Value = serde_json::from_slice(&kv.value).expect("event json");
            (
                v["subject"].as_str().unwrap_or_default().to_string(),
                v["data"]["version"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let seen = history.seen.lock().unwrap().clone();
    let mut seen_set = BTreeSet::new();
    let mut last_rev = 0;
    for (rev, id, version) in &seen {
        if *rev < last_rev {
            problems.push(format!("subscriber saw revision {rev} after {last_rev}"));
        }
        last_rev = *rev;
        if !seen_set.insert((id.clone(), *version)) {
            problems.push(format!("subscriber saw {id} version {version} twice"));
        }
    }
    let missed: Vec<_> = events.difference(&seen_set).take(5).collect();
    if !missed.is_empty() {
        problems.push(format!(
            "subscriber missed {} event(s), e.g. {missed:?}",
            events.difference(&seen_set).count()
        ));
    }
    problems
}

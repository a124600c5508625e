//! `dfoodd`, the DistribuFood daemon, as a library: `main.rs` parses flags
//! into a [`Config`] and calls [`run`]; tests call [`start`] to learn the
//! bound address, then [`Node::run_until`] with their own shutdown future.
//!
//! Shutdown is a protocol (see [`Node::run_until`]): stop accepting new
//! connections, tell connected clients to move (subscriptions get a `goaway`
//! frame, connections close with the "going away" code), give in-flight
//! requests a moment, revoke the membership lease, close the store.

//! Layers, bottom to top (each uses only those below it; ARCHITECTURE.md
//! has the map): `store`; `clock`, `rpc`, `memo`, `queues`; `metrics`, `fanout`,
//! `config`, `payments`, `tls`; `auth::identity` (with `keys`, `hash`,
//! `crypto`); `ctx`; the domains `auth`, `catalog`, `orders`, which see
//! only a `Ctx`; `cluster`; `api`; `node`; `server`; this file. `bench` is
//! the raw-store runner of `dfoodd-bench`, beside the stack.

pub mod api;
pub mod archive;
pub mod args;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod ctx;
pub mod fanout;
pub mod locks;
pub mod memo;
pub mod metrics;
pub mod node;
pub mod orders;
pub mod payments;
pub mod queues;
pub mod rpc;
pub mod secrets;
pub mod server;
pub mod store;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::watch;
use tracing::{info, warn};

pub use config::Config;
use store::{Store, StoreError};

#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] tls::TlsSetupError),
    #[error("payment gateway: {0}")]
    Payments(#[from] payments::SetupError),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    #[error("cannot use data dir {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("order archive: {0}")]
    Archive(#[from] archive::ArchiveError),
    #[error("{0}")]
    Secrets(#[from] secrets::SecretError),
    #[error("{0}")]
    Config(#[from] config::ConfigError),
}

/// How long a stopping node waits for its cluster work to end (resigning,
/// leaving the member list) before it stops it anyway.
const LEAVE_WAIT: Duration = Duration::from_secs(6);

/// A started node: bound, registered, serving.
pub struct Node {
    config: Config,
    endpoint: quinn::Endpoint,
    local_addr: SocketAddr,
    store: Arc<dyn Store>,
    ca_path: Option<PathBuf>,
    going_away: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
    stop_cluster: watch::Sender<bool>,
    cluster_task: tokio::task::JoinHandle<()>,
    /// The auth follower (signing keys, accounts, staff: see
    /// `auth::identity::follow`).
    follower: tokio::task::JoinHandle<()>,
    /// The Prometheus endpoint's bound address and task, when configured.
    metrics_addr: Option<SocketAddr>,
    metrics_task: Option<tokio::task::JoinHandle<()>>,
}

/// Opens the store the config names: etcd when endpoints are given, else the
/// embedded store in the data dir.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    if config.etcd_endpoints.is_empty() {
        let path = config.data_dir.join(STORE_FILE);
        private_store_file(&path)?;
        Ok(store::embedded::EmbeddedStore::open(&path)?)
    } else {
        let creds = config.etcd.load()?;
        Ok(store::etcd::EtcdStore::connect_with(&config.etcd_endpoints, &creds).await?)
    }
}

/// The embedded store's file in the data dir.
pub const STORE_FILE: &str = "store.redb";

/// The store file is created 0600 (before the store opens it); an existing
/// one readable by others is tightened.
fn private_store_file(path: &std::path::Path) -> Result<(), StartError> {
    use std::os::unix::fs::OpenOptionsExt;
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| StartError::DataDir {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
    }
    secrets::check_private_file(path)?;
    Ok(())
}

/// Binds, sets up TLS, registers the node and starts serving, on the
/// store the config names.
pub async fn start(config: Config) -> Result<Node, StartError> {
    create_data_dir(&config)?;
    let store = open_store(&config).await?;
    start_with_store(config, store).await
}

/// The data dir holds secrets (the setup token, the KEK on one machine, the
/// store file): private to the daemon's user (see [`secrets::private_dir`]).
fn create_data_dir(config: &Config) -> Result<(), StartError> {
    secrets::private_dir(&config.data_dir).map_err(|e| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        reason: match e {
            secrets::SecretError::Permissions { reason, .. } => reason,
            e => e.to_string(),
        },
    })?;
    Ok(())
}

/// As [`start`], on a store the caller opened: several nodes in one
/// process can share one (tests, embedding).
pub async fn start_with_store(config: Config, store: Arc<dyn Store>) -> Result<Node, StartError> {
    create_data_dir(&config)?;
    let kek = secrets::Kek::load(&config.kek)?;
    // One registry per node; the store reports every operation's latency.
    let metrics = Arc::new(metrics::Metrics::new(&config.node));
    let store = store::instrumented::InstrumentedStore::wrap(store, metrics.clone());
    // Bind first with a placeholder-free config: TLS needs the advertised
    // address, which needs the bound port when listening on port 0.
    let socket = std::net::UdpSocket::bind(config.listen).map_err(|e| StartError::Listen {
        addr: config.listen,
        reason: e.to_string(),
    })?;
    let local_addr = socket.local_addr().map_err(|e| StartError::Listen {
        addr: config.listen,
        reason: e.to_string(),
    })?;
    let advertised = config.advertised(local_addr);
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(metrics::bind(addr).await.map_err(|e| StartError::Listen {
            addr,
            reason: format!("metrics endpoint: {e}"),
        })?),
        None => None,
    };
    let node_tls = tls::setup(&config, store.as_ref(), &kek, &advertised).await?;
    let mut server_config = node_tls.server;
    let mut transport = quinn::TransportConfig::default();
    transport.max_idle_timeout(Some(Duration::from_secs(30).try_into().expect("idle")));
    transport.keep_alive_interval(Some(Duration::from_secs(5)));
    server_config.transport_config(Arc::new(transport));
    let endpoint = quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        Some(server_config),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(|e| StartError::Listen {
        addr: config.listen,
        reason: e.to_string(),
    })?;

    let member = protocol::messages::Member {
        node: config.node.clone(),
        addr: advertised.clone(),
        roles: config.roles.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        draining: false,
    };
    let cluster_state = Arc::new(cluster::ClusterState::with_metrics(
        member,
        node_tls.ca_pem.clone(),
        metrics,
    ));
    cluster::register(store.as_ref(), &cluster_state).await?;
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);

    // No operator yet: make sure a one-time setup token is pending.
    if let Err(e) = auth::prepare_bootstrap(
        store.as_ref(),
        &config.data_dir,
        &config.node,
        clock.now_secs(),
    )
    .await
    {
        warn!(error = %e, "cannot prepare the first operator's setup token");
    }
    let archive = match (&config.archive_url, store.kind()) {
        (Some(url), _) => Some(Arc::new(archive::Archive::open(url).await?)),
        (None, "etcd") => {
            warn!(
                "no archive_url: finished orders stay in etcd (set archive_url = \"postgres://…\" for a cluster)"
            );
            None
        }
        (None, _) => Some(Arc::new(archive::Archive::open_in(&config.data_dir).await?)),
    };
    if let Some(a) = &archive {
        info!(node = %config.node, archive = %a.shown(), "order archive ready");
    }
    let (going_away, going_away_rx) = watch::channel(false);
    let deps = Arc::new(ctx::Deps {
        node: config.node.clone(),
        store: store.clone(),
        auth: auth::identity::AuthState::new(config.auth.clone(), &config.data_dir, kek),
        gateway: payments::from_config(&config.payments, store.clone())?,
        clock,
        placing: queues::Queues::batching(store.clone(), cluster_state.stats.placements.clone()),
        archive,
        retention: config.retention.clone(),
        limits: config.limits.clone(),
    });
    let state = Arc::new(node::NodeState {
        deps: deps.clone(),
        cluster: cluster_state.clone(),
        fanout: Default::default(),
        started: Instant::now(),
        going_away: going_away_rx,
    });
    let (stop_cluster, stop_cluster_rx) = watch::channel(false);
    let follower = {
        let (d, stop) = (deps.clone(), stop_cluster_rx.clone());
        tokio::spawn(async move { auth::identity::follow(d.store.as_ref(), &d.auth, stop).await })
    };
    let cluster_task = tokio::spawn(cluster::run(deps, cluster_state.clone(), stop_cluster_rx));
    let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
    let metrics_task = metrics_listener
        .map(|l| metrics::serve(l, probes(&cluster_state, &store, &state.going_away)));
    if let Some(addr) = metrics_addr {
        info!(node = %config.node, "metrics at http://{addr}/metrics");
    }
    let accept = tokio::spawn(server::accept_loop(endpoint.clone(), state));
    server::announce(
        &config.node,
        &advertised,
        store.kind(),
        node_tls.ca_path.as_deref(),
    );
    server::announce_payments(&config.node, &config);
    Ok(Node {
        config,
        endpoint,
        local_addr,
        store,
        ca_path: node_tls.ca_path,
        going_away,
        accept,
        stop_cluster,
        cluster_task,
        follower,
        metrics_addr,
        metrics_task,
    })
}

/// The metrics listener's endpoints for this node (see [`metrics::serve`]).
fn probes(
    cs: &Arc<cluster::ClusterState>,
    store: &Arc<dyn Store>,
    going_away: &watch::Receiver<bool>,
) -> metrics::Probes {
    let scrape = {
        let cs = cs.clone();
        Arc::new(move || cs.stats.scrape(cs.is_leader())) as metrics::Scrape
    };
    let (cs, store, going_away) = (cs.clone(), store.clone(), going_away.clone());
    let ready: metrics::Ready = Arc::new(move || {
        let (cs, store, going_away) = (cs.clone(), store.clone(), going_away.clone());
        Box::pin(async move {
            if *going_away.borrow() {
                return Err("shutting down".into());
            }
            if *cs.draining.borrow() {
                return Err("draining".into());
            }
            if !cs.lease_fresh(cluster::LEASE_TTL) {
                return Err("the membership lease is not being renewed".into());
            }
            match tokio::time::timeout(Duration::from_secs(1), store.revision()).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("the store did not answer within 1 s".into()),
            }
        })
    });
    metrics::Probes { scrape, ready }
}

impl Node {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The CA certificate file clients should trust, when known.
    pub fn ca_path(&self) -> Option<&std::path::Path> {
        self.ca_path.as_deref()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Where `GET /metrics` is served, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Serves until `shutdown` resolves, then shuts down in order.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
        shutdown.await;
        info!(node = %self.config.node, "shutting down: refusing new connections, moving clients away");
        // 1. Stop accepting: new handshakes are refused from now on.
        self.endpoint.set_server_config(None);
        // 2. Tell every connection and subscription to move.
        self.going_away.send_replace(true);
        let _ = self.accept.await;
        // 3. Give connections a moment to finish and close (each closes
        //    itself with GOING_AWAY once its in-flight streams are done).
        if tokio::time::timeout(Duration::from_secs(4), self.endpoint.wait_idle())
            .await
            .is_err()
        {
            warn!("some clients did not close in time; closing them");
        }
        self.endpoint
            .close(protocol::wire::close::GOING_AWAY.into(), b"node stopped");
        // 4. Leave the cluster at once rather than when the lease expires.
        //    (Resigns leadership first, so another node takes over at once.)
        //    Bounded: with the store unreachable (etcd gone) resigning
        //    cannot finish, and the lease expires by itself.
        self.stop_cluster.send_replace(true);
        for (name, mut task) in [
            ("cluster", self.cluster_task),
            ("auth follower", self.follower),
        ] {
            if tokio::time::timeout(LEAVE_WAIT, &mut task).await.is_err() {
                warn!(
                    task = name,
                    "did not stop within {LEAVE_WAIT:?} (store unreachable?); stopping it"
                );
                task.abort();
            }
        }
        // 5. Stop the metrics endpoint last, so the end stays observable.
        if let Some(t) = self.metrics_task {
            t.abort();
            let _ = t.await;
        }
        info!(node = %self.config.node, "stopped");
        Ok(())
    }
}

/// Starts a node and serves until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    start(config).await?.run_until(shutdown).await
}

#[cfg(test)]
mod tests;

//! `dfoodd`'s command line. Flags (and their `DFOODD_*` environment
//! variables) override the config file, which overrides the defaults.

use std::path::PathBuf;

use clap::Parser;

use crate::config::{ConfigError, FileConfig};

/// dfoodd: the DistribuFood daemon.
///
/// Serves the DistribuFood QUIC protocol (ALPN dfood/1) to `dfood` clients.
/// With no etcd endpoints it runs on an embedded, durable store in its data
/// directory (the single-machine default); with endpoints it joins the
/// cluster that etcd coordinates.
///
/// On first start it creates the cluster CA and writes its certificate to
/// <data-dir>/tls/ca.pem: give that file to clients (`dfood --ca FILE`, or
/// `dfood config set ca FILE`).
///
/// Secrets: the data dir is kept private (0700, files 0600; a looser one is
/// tightened, or refused when it belongs to another user). The signing keys
/// and the CA key are stored sealed under the key-encryption key
/// (--kek-file): a copy of the store without it yields no usable key.
#[derive(Debug, Parser)]
#[command(name = "dfoodd", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad flags or config.\n\
Signals: SIGTERM or ctrl-c shut down gracefully (clients are told to move, the membership lease is revoked)."
)]
pub struct Args {
    /// TOML config file (see etc/dfoodd.toml).
    #[arg(long, short = 'c', env = "DFOODD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Node name, unique in the cluster [default: the host name].
    #[arg(long, env = "DFOODD_NODE", value_name = "NAME")]
    pub node: Option<String>,
    /// UDP address to listen on for QUIC [default: 127.0.0.1:7400].
    #[arg(long, env = "DFOODD_LISTEN", value_name = "IP:PORT")]
    pub listen: Option<String>,
    /// Address published to clients and other nodes [default: the bound address].
    #[arg(long, env = "DFOODD_ADVERTISE", value_name = "HOST:PORT")]
    pub advertise: Option<String>,
    /// Directory for the embedded store and TLS files [default: ./dfoodd-data].
    #[arg(long, env = "DFOODD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// etcd endpoints (HOST:PORT, http://HOST:PORT or https://HOST:PORT),
    /// comma separated; none means the embedded store.
    #[arg(
        long,
        env = "DFOODD_ETCD",
        value_name = "HOST:PORT,...",
        value_delimiter = ','
    )]
    pub etcd: Option<Vec<String>>,
    /// CA certificate (PEM) that signed etcd's server certificates
    /// (https:// endpoints).
    #[arg(long, env = "DFOODD_ETCD_CA", value_name = "FILE")]
    pub etcd_ca: Option<PathBuf>,
    /// Client certificate (PEM) for etcd's --client-cert-auth (with
    /// --etcd-key); with etcd auth enabled, its CN is the etcd user.
    #[arg(long, env = "DFOODD_ETCD_CERT", value_name = "FILE")]
    pub etcd_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, mode 0600).
    #[arg(long, env = "DFOODD_ETCD_KEY", value_name = "FILE")]
    pub etcd_key: Option<PathBuf>,
    /// etcd user (etcd RBAC), with --etcd-password-file.
    #[arg(long, env = "DFOODD_ETCD_USER", value_name = "NAME")]
    pub etcd_user: Option<String>,
    /// File holding the etcd user's password (mode 0600).
    #[arg(long, env = "DFOODD_ETCD_PASSWORD_FILE", value_name = "FILE")]
    pub etcd_password_file: Option<PathBuf>,
    /// Key-encryption key file (32 bytes, base64, mode 0600) sealing the
    /// signing keys and the CA key in the store. Every node of a cluster
    /// needs the same one (required with --etcd); a single machine creates
    /// <data-dir>/kek on first start.
    #[arg(long, env = "DFOODD_KEK_FILE", value_name = "FILE")]
    pub kek_file: Option<PathBuf>,
    /// Create --kek-file (32 random bytes, mode 0600) when it does not
    /// exist: for nodes sharing one file system, e.g. containers on one
    /// host with a shared volume.
    #[arg(long, env = "DFOODD_KEK_CREATE", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub kek_create: Option<bool>,
    /// Roles to run, comma separated [default: all].
    #[arg(
        long,
        env = "DFOODD_ROLES",
        value_name = "ROLE,...",
        value_delimiter = ','
    )]
    pub roles: Option<Vec<String>>,
    /// Log format: human or json [default: human].
    #[arg(long, env = "DFOODD_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// TCP address for Prometheus metrics (GET /metrics), e.g. 127.0.0.1:9400
    /// [default: none; an empty value turns it off].
    #[arg(long, env = "DFOODD_METRICS_LISTEN", value_name = "IP:PORT")]
    pub metrics_listen: Option<String>,
    /// The order archive: sqlite://FILE?mode=rwc or
    /// postgres://USER:PASSWORD@HOST/DB [default: archive.db in the data
    /// dir on the embedded store; none on etcd: finished orders then stay
    /// in the hot store].
    #[arg(long, env = "DFOODD_ARCHIVE_URL", value_name = "URL")]
    pub archive_url: Option<String>,
    /// Threads serving requests, 1 to 1024 [default: one per CPU]. On a
    /// machine the node shares with etcd or other nodes, fewer (e.g. 1 on
    /// 2 cores) save the cost of waking threads across cores: lower
    /// latency one request at a time (README, "Benchmarks").
    #[arg(long, env = "DFOODD_WORKER_THREADS", value_name = "N")]
    pub worker_threads: Option<u32>,
}

impl Args {
    /// The file config (if any) with flags applied on top.
    pub fn merged(&self) -> Result<FileConfig, ConfigError> {
        let mut f = match &self.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        macro_rules! over {
            ($field:ident, $val:expr) => {
                if let Some(v) = $val {
                    f.$field = Some(v);
                }
            };
        }
        over!(node, self.node.clone());
        over!(listen, self.listen.clone());
        over!(advertise, self.advertise.clone());
        over!(data_dir, self.data_dir.clone());
        over!(etcd_endpoints, self.etcd.clone());
        over!(roles, self.roles.clone());
        over!(log_format, self.log_format.clone());
        over!(metrics_listen, self.metrics_listen.clone());
        over!(archive_url, self.archive_url.clone());
        over!(worker_threads, self.worker_threads);
        over!(kek_file, self.kek_file.clone());
        over!(kek_create, self.kek_create);
        macro_rules! over_etcd {
            ($field:ident, $val:expr) => {
                if let Some(v) = $val {
                    f.etcd.$field = Some(v);
                }
            };
        }
        over_etcd!(ca_file, self.etcd_ca.clone());
        over_etcd!(cert_file, self.etcd_cert.clone());
        over_etcd!(key_file, self.etcd_key.clone());
        over_etcd!(username, self.etcd_user.clone());
        over_etcd!(password_file, self.etcd_password_file.clone());
        Ok(f)
    }
}

pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

//! `dfoodd` configuration: a TOML file (see `etc/dfoodd.toml`), overridden by
//! flags and `DFOODD_*` environment variables, then validated into a
//! [`Config`] that [`crate::run`] takes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

/// Every role a node can run. `all` in config means every one of these.
pub const ROLES: &[&str] = &[
    "gateway", "auth", "catalog", "orders", "payments", "events", "duties",
];

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("bad config {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("bad setting {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// TLS material given by the operator instead of the generated cluster CA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// CA certificate (PEM) that signs node certificates; published to clients.
    pub ca_cert: Option<PathBuf>,
    /// The CA's private key (PEM): with it, the node signs its own certificate.
    pub ca_key: Option<PathBuf>,
    /// This node's certificate chain (PEM), used as it is.
    pub cert: Option<PathBuf>,
    /// This node's private key (PEM).
    pub key: Option<PathBuf>,
}

/// The most threads `worker_threads` may ask for.
pub const MAX_WORKER_THREADS: u32 = 1024;

/// The file format. Every field is optional; unknown fields are refused so a
/// typo does not go unnoticed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub node: Option<String>,
    pub listen: Option<String>,
    pub advertise: Option<String>,
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub etcd_endpoints: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub log_format: Option<String>,
    /// TCP address of the Prometheus endpoint (`GET /metrics`); absent or
    /// empty: none.
    pub metrics_listen: Option<String>,
    /// Threads serving requests, 1 to [`MAX_WORKER_THREADS`]; absent: one
    /// per CPU.
    pub worker_threads: Option<u32>,
    #[serde(default)]
    pub tls: TlsFiles,
    #[serde(default)]
    pub payments: PaymentsFile,
    /// `[auth]`: token lifetimes.
    #[serde(default)]
    pub auth: crate::auth::identity::AuthSettings,
    /// Where finished orders go (`sqlite://FILE?mode=rwc` or
    /// `postgres://USER:PASSWORD@HOST/DB`); absent: `archive.db` in the
    /// data dir on the embedded store, none on etcd.
    pub archive_url: Option<String>,
    /// `[retention]`: how long things stay in the hot store.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// `[limits]`: quotas per account and default price bounds.
    #[serde(default)]
    pub limits: Limits,
    /// A production deployment: the node refuses to start on the sandbox
    /// gateway unless `[payments] gateway = "sandbox"` says so explicitly.
    pub production: Option<bool>,
    /// The key-encryption key file (32 bytes, base64; mode 0600) that seals
    /// the signing keys and the CA key in the store. Every node of a
    /// cluster needs the same one: required with `etcd_endpoints`. Default
    /// on a single machine: `<data_dir>/kek`, created on first start.
    pub kek_file: Option<PathBuf>,
    /// Create `kek_file` (32 random bytes, 0600) when it does not exist:
    /// for nodes that share one file system (containers on one host with a
    /// shared volume). Nodes on several machines are given a copy instead.
    pub kek_create: Option<bool>,
    /// `[etcd]`: how to reach a secured etcd (TLS, client certificate,
    /// username and password).
    #[serde(default)]
    pub etcd: EtcdFile,
}

/// The `[retention]` section: what leaves the hot store, and when (see
/// `orders::retention`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// A finished order leaves the hot store (for the archive) this long
    /// after its last change, or up to 1% of it later (the hot store's
    /// keys are read every hundredth of this and of the idempotency
    /// window, at most hourly) [default: 86400].
    pub finished_after_secs: u64,
    /// A placement's idempotency key answers with its order for this long
    /// (or up to 1% longer); a retry after it is a new order
    /// [default: 86400].
    pub idempotency_window_secs: u64,
    /// Subscribers can resume from revisions this recent; older history is
    /// compacted and older menu/restaurant/cluster events deleted
    /// [default: 3600].
    pub resume_window_secs: u64,
    /// Time between two retention sweeps of the leader [default: 10].
    pub sweep_every_secs: u64,
    /// Time between two compactions of the store's history [default: 300].
    pub compact_every_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            finished_after_secs: 86_400,
            idempotency_window_secs: 86_400,
            resume_window_secs: 3_600,
            sweep_every_secs: 10,
            compact_every_secs: 300,
        }
    }
}

/// `[limits]`: what one account may create and how fast, and the default
/// bounds on what an order may cost (a restaurant may set its own). Every
/// quota is checked before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Restaurants one account may create, ever.
    pub restaurants_per_account: u32,
    /// Items on one menu.
    pub menu_items: usize,
    /// Modifiers on one item (at most [`MAX_MODIFIERS`], so that every
    /// order fits in a frame).
    pub modifiers_per_item: usize,
    /// Menu changes (`menu.import`, `menu.set`, `menu.86`, `menu.un86`)
    /// one account may make per minute.
    pub menu_changes_per_minute: u32,
    /// Orders of one customer waiting for their payment at once.
    pub pending_payments_per_customer: u32,
    /// Default most a line (`unit_price × qty`) may cost, minor units.
    pub max_line_total: i64,
    /// Default most an order's total may be, minor units.
    pub max_order_total: i64,
}

/// The hard bound on `[limits] modifiers_per_item`.
pub const MAX_MODIFIERS: usize = 20;
/// The hard bound on `[limits] menu_items`.
pub const MAX_MENU_ITEMS: usize = 5_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            restaurants_per_account: 10,
            menu_items: 500,
            modifiers_per_item: MAX_MODIFIERS,
            menu_changes_per_minute: 60,
            pending_payments_per_customer: 3,
            max_line_total: 500_000,
            max_order_total: 1_000_000,
        }
    }
}

impl RetentionSettings {
    /// Checks the values; the error is the reason, for `ConfigError`.
    pub fn validate(self) -> Result<RetentionSettings, String> {
        const TEN_YEARS: u64 = 10 * 366 * 86_400;
        for (name, v, max) in [
            ("finished_after_secs", self.finished_after_secs, TEN_YEARS),
            (
                "idempotency_window_secs",
                self.idempotency_window_secs,
                TEN_YEARS,
            ),
            ("resume_window_secs", self.resume_window_secs, TEN_YEARS),
            ("sweep_every_secs", self.sweep_every_secs, 3_600),
            ("compact_every_secs", self.compact_every_secs, 86_400),
        ] {
            if !(1..=max).contains(&v) {
                return Err(format!("{name} = {v} must be between 1 and {max}"));
            }
        }
        Ok(self)
    }
}

impl Limits {
    pub fn validate(self) -> Result<Limits, ConfigError> {
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
        let cap = protocol::messages::catalog::limits::TOTAL_CAP;
        if !(1..=10_000).contains(&self.restaurants_per_account) {
            return Err(invalid(
                "limits.restaurants_per_account",
                format!(
                    "{} is not between 1 and 10000",
                    self.restaurants_per_account
                ),
            ));
        }
        if !(1..=MAX_MENU_ITEMS).contains(&self.menu_items) {
            return Err(invalid(
                "limits.menu_items",
                format!("{} is not between 1 and {MAX_MENU_ITEMS}", self.menu_items),
            ));
        }
        if self.modifiers_per_item > MAX_MODIFIERS {
            return Err(invalid(
                "limits.modifiers_per_item",
                format!(
                    "{} is more than {MAX_MODIFIERS} (every order must fit in a frame)",
                    self.modifiers_per_item
                ),
            ));
        }
        if !(1..=100_000).contains(&self.menu_changes_per_minute) {
            return Err(invalid(
                "limits.menu_changes_per_minute",
                format!(
                    "{} is not between 1 and 100000",
                    self.menu_changes_per_minute
                ),
            ));
        }
        if !(1..=10_000).contains(&self.pending_payments_per_customer) {
            return Err(invalid(
                "limits.pending_payments_per_customer",
                format!(
                    "{} is not between 1 and 10000",
                    self.pending_payments_per_customer
                ),
            ));
        }
        for (key, v) in [
            ("limits.max_line_total", self.max_line_total),
            ("limits.max_order_total", self.max_order_total),
        ] {
            if !(1..=cap).contains(&v) {
                return Err(invalid(key, format!("{v} is not between 1 and {cap}")));
            }
        }
        Ok(self)
    }
}

/// The `[etcd]` section as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtcdFile {
    /// CA certificate (PEM) that signed etcd's server certificates; needed
    /// for `https://` endpoints (only this CA is trusted).
    pub ca_file: Option<PathBuf>,
    /// This node's client certificate (PEM), for etcd's
    /// `--client-cert-auth`; with etcd auth enabled its CN is the user.
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// etcd user (etcd RBAC), with `password_file`.
    pub username: Option<String>,
    /// File holding the etcd user's password (first line).
    pub password_file: Option<PathBuf>,
}

/// The validated `[etcd]` section (files are read when connecting, by
/// [`EtcdSecurity::load`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcdSecurity {
    /// `https://` endpoints: the CA (PEM) to verify etcd against.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM), for mutual TLS.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// etcd username and the file holding its password.
    pub user: Option<(String, PathBuf)>,
}

/// What the etcd store connects with: the `[etcd]` files, read.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EtcdCredentials {
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate chain and key (PEM).
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
    /// Username and password.
    pub user: Option<(String, String)>,
}

impl std::fmt::Debug for EtcdCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdCredentials")
            .field("tls", &self.ca_pem.is_some())
            .field("client_cert", &self.identity.is_some())
            .field("user", &self.user.as_ref().map(|(u, _)| u))
            .finish()
    }
}

/// The largest file of TLS material or password read for etcd.
const MAX_SECRET_FILE: u64 = 1 << 20;

fn read_small(key: &'static str, p: &Path) -> Result<Vec<u8>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { key, reason };
    let meta = std::fs::metadata(p).map_err(|e| invalid(format!("{}: {e}", p.display())))?;
    if meta.len() > MAX_SECRET_FILE {
        return Err(invalid(format!(
            "{}: {} bytes is too large",
            p.display(),
            meta.len()
        )));
    }
    std::fs::read(p).map_err(|e| invalid(format!("{}: {e}", p.display())))
}

impl EtcdSecurity {
    /// Reads the files; the key file and the password file must be private
    /// (see `crate::secrets::check_private_file`).
    pub fn load(&self) -> Result<EtcdCredentials, ConfigError> {
        let ca_pem = match &self.ca_file {
            Some(p) => Some(read_small("etcd.ca_file", p)?),
            None => None,
        };
        let identity = match &self.identity {
            Some((c, k)) => {
                private("etcd.key_file", k)?;
                Some((
                    read_small("etcd.cert_file", c)?,
                    read_small("etcd.key_file", k)?,
                ))
            }
            None => None,
        };
        let user = match &self.user {
            Some((u, p)) => {
                private("etcd.password_file", p)?;
                let text = read_small("etcd.password_file", p)?;
                let pw = String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if pw.is_empty() {
                    return Err(ConfigError::Invalid {
                        key: "etcd.password_file",
                        reason: format!("{}: empty", p.display()),
                    });
                }
                Some((u.clone(), pw))
            }
            None => None,
        };
        Ok(EtcdCredentials {
            ca_pem,
            identity,
            user,
        })
    }
}

fn private(key: &'static str, p: &Path) -> Result<(), ConfigError> {
    crate::secrets::check_private_file(p)
        .map(|_| ())
        .map_err(|e| ConfigError::Invalid {
            key,
            reason: e.to_string(),
        })
}

impl EtcdFile {
    /// Checks the section against the endpoints.
    pub fn validate(self, endpoints: &[String]) -> Result<EtcdSecurity, ConfigError> {
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
        let tls = endpoints.iter().any(|e| e.starts_with("https://"));
        if tls && endpoints.iter().any(|e| !e.starts_with("https://")) {
            return Err(invalid(
                "etcd_endpoints",
                "mixes https:// with plain endpoints: use https:// for every one".into(),
            ));
        }
        if endpoints.is_empty() {
            if self != EtcdFile::default() {
                return Err(invalid(
                    "etcd",
                    "[etcd] settings need etcd_endpoints (without them the embedded store is used)"
                        .into(),
                ));
            }
            return Ok(EtcdSecurity::default());
        }
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(invalid(
                "etcd.cert_file",
                "cert_file and key_file must be given together".into(),
            ));
        }
        if !tls && (self.ca_file.is_some() || self.cert_file.is_some()) {
            return Err(invalid(
                "etcd.ca_file",
                "TLS settings need https:// endpoints (e.g. \"https://10.0.0.21:2379\")".into(),
            ));
        }
        if tls && self.ca_file.is_none() {
            return Err(invalid(
                "etcd.ca_file",
                "https:// endpoints need ca_file, the CA that signed etcd's certificates".into(),
            ));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err(invalid(
                "etcd.username",
                "username and password_file must be given together".into(),
            ));
        }
        let user = match (self.username, self.password_file) {
            (Some(u), Some(p)) => {
                let u = u.trim().to_string();
                if u.is_empty() || u.len() > 128 || u.chars().any(char::is_control) {
                    return Err(invalid(
                        "etcd.username",
                        "must be 1-128 printable characters".into(),
                    ));
                }
                if !tls && !endpoints.iter().all(|e| is_loopback_endpoint(e)) {
                    return Err(invalid(
                        "etcd.username",
                        "an etcd password over plain http:// would cross the network in clear: use https:// endpoints".into(),
                    ));
                }
                Some((u, p))
            }
            _ => None,
        };
        Ok(EtcdSecurity {
            ca_file: self.ca_file,
            identity: self.cert_file.zip(self.key_file),
            user,
        })
    }
}

fn is_loopback_endpoint(e: &str) -> bool {
    let bare = e.strip_prefix("http://").unwrap_or(e);
    let host = bare.rsplit_once(':').map_or(bare, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `[payments]` section as written in the file.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsFile {
    /// `sandbox` (default) or `http`.
    pub gateway: Option<String>,
    pub http_base_url: Option<String>,
    pub http_api_key: Option<String>,
    pub http_api_key_file: Option<PathBuf>,
    pub timeout_ms: Option<u64>,
    pub max_retries: Option<u32>,
    pub retry_backoff_ms: Option<u64>,
}

impl std::fmt::Debug for PaymentsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentsFile")
            .field("gateway", &self.gateway)
            .field("http_base_url", &self.http_base_url)
            .field(
                "http_api_key",
                &self.http_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("http_api_key_file", &self.http_api_key_file)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff_ms", &self.retry_backoff_ms)
            .finish()
    }
}

/// Which payment gateway the node talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayKind {
    /// Built in, deterministic test gateway (see `daemon::payments::sandbox`).
    Sandbox,
    /// A Stripe-style REST API (see `daemon::payments::http`).
    Http,
}

/// Where the `http` gateway's API key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiKey {
    Inline(String),
    /// Read (and trimmed) when the gateway is built.
    File(PathBuf),
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiKey::Inline(_) => f.write_str("Inline(<redacted>)"),
            ApiKey::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// The validated `[payments]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentsConfig {
    pub gateway: GatewayKind,
    /// `http` only: e.g. `https://api.stripe.com` (no trailing `/v1`).
    pub http_base_url: String,
    /// `http` only (always `Some` then).
    pub http_api_key: Option<ApiKey>,
    /// Bound on each HTTP request (connect + response).
    pub timeout: Duration,
    /// Retries after the first try (same idempotency key every time).
    pub max_retries: u32,
    /// First retry delay; doubles each retry, with jitter.
    pub retry_backoff: Duration,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            gateway: GatewayKind::Sandbox,
            http_base_url: String::new(),
            http_api_key: None,
            timeout: Duration::from_millis(10_000),
            max_retries: 2,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

impl PaymentsConfig {
    pub fn from_file(f: PaymentsFile) -> Result<PaymentsConfig, ConfigError> {
        let d = PaymentsConfig::default();
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
        let gateway = match f.gateway.as_deref().map(str::trim).unwrap_or("sandbox") {
            "sandbox" | "" => GatewayKind::Sandbox,
            "http" => GatewayKind::Http,
            other => {
                return Err(invalid(
                    "payments.gateway",
                    format!("{other:?} is neither \"sandbox\" nor \"http\""),
                ));
            }
        };
        let timeout_ms = f.timeout_ms.unwrap_or(d.timeout.as_millis() as u64);
        if !(1..=120_000).contains(&timeout_ms) {
            return Err(invalid(
                "payments.timeout_ms",
                format!("{timeout_ms} is not between 1 and 120000"),
            ));
        }
        let max_retries = f.max_retries.unwrap_or(d.max_retries);
        if max_retries > 10 {
            return Err(invalid(
                "payments.max_retries",
                format!("{max_retries} is more than 10"),
            ));
        }
        let backoff_ms = f
            .retry_backoff_ms
            .unwrap_or(d.retry_backoff.as_millis() as u64);
        if backoff_ms > 60_000 {
            return Err(invalid(
                "payments.retry_backoff_ms",
                format!("{backoff_ms} is more than 60000"),
            ));
        }
        let mut http_base_url = String::new();
        let mut http_api_key = None;
        if gateway == GatewayKind::Http {
            let url = f.http_base_url.as_deref().map(str::trim).unwrap_or("");
            if url.is_empty() {
                return Err(invalid(
                    "payments.http_base_url",
                    "is required with gateway = \"http\" (e.g. \"https://api.stripe.com\")".into(),
                ));
            }
            check_base_url(url).map_err(|r| invalid("payments.http_base_url", r))?;
            http_base_url = url.trim_end_matches('/').to_string();
            http_api_key = match (f.http_api_key, f.http_api_key_file) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "payments.http_api_key",
                        "give http_api_key or http_api_key_file, not both".into(),
                    ));
                }
                (Some(k), None) if k.trim().is_empty() => {
                    return Err(invalid("payments.http_api_key", "is empty".into()));
                }
                (Some(k), None) => Some(ApiKey::Inline(k.trim().to_string())),
                (None, Some(p)) => Some(ApiKey::File(p)),
                (None, None) => {
                    return Err(invalid(
                        "payments.http_api_key",
                        "gateway = \"http\" needs http_api_key or http_api_key_file".into(),
                    ));
                }
            };
        }
        Ok(PaymentsConfig {
            gateway,
            http_base_url,
            http_api_key,
            timeout: Duration::from_millis(timeout_ms),
            max_retries,
            retry_backoff: Duration::from_millis(backoff_ms),
        })
    }
}

/// `http(s)://host[:port][/path]`; plain `http://` only to loopback, so an
/// API key never crosses a network in clear.
fn check_base_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or("");
    if host.is_empty() || parsed.cannot_be_a_base() {
        return Err(format!("{url:?} has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must not have a query or fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "{url:?}: plain http:// is allowed only to loopback (tests); use https://"
                ))
            }
        }
        other => Err(format!(
            "{url:?}: scheme {other:?} is neither http nor https"
        )),
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            reason: e.to_string().trim().replace('\n', " "),
        })
    }
}

/// The validated configuration of one node.
#[derive(Debug, Clone)]
pub struct Config {
    pub node: String,
    pub listen: SocketAddr,
    /// The address published to clients and other nodes.
    pub advertise: String,
    pub data_dir: PathBuf,
    /// Empty: the embedded store in `data_dir`.
    pub etcd_endpoints: Vec<String>,
    pub roles: Vec<String>,
    pub log_format: LogFormat,
    /// Where `GET /metrics` is served (TCP); `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Threads of the runtime (`None`: one per CPU); `main` reads it.
    pub worker_threads: Option<usize>,
    pub tls: TlsFiles,
    pub payments: PaymentsConfig,
    pub auth: crate::auth::identity::AuthSettings,
    /// See [`FileConfig::archive_url`].
    pub archive_url: Option<String>,
    pub retention: RetentionSettings,
    pub limits: Limits,
    /// `production = true`: see [`FileConfig::production`].
    pub production: bool,
    /// Whether `[payments] gateway` was written rather than defaulted:
    /// production refuses a defaulted sandbox.
    pub gateway_named: bool,
    /// The key-encryption key (see `crate::secrets`).
    pub kek: crate::secrets::KekSource,
    /// TLS, client certificate and user for etcd (empty: plain).
    pub etcd: EtcdSecurity,
}

impl Config {
    /// A config for tests and embedding: given node name and data dir,
    /// listening on an ephemeral loopback port, embedded store, all roles.
    pub fn for_test(node: &str, data_dir: &Path) -> Config {
        Config {
            node: node.into(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            advertise: String::new(),
            data_dir: data_dir.to_path_buf(),
            etcd_endpoints: Vec::new(),
            roles: ROLES.iter().map(|r| r.to_string()).collect(),
            log_format: LogFormat::Human,
            metrics_listen: None,
            worker_threads: None,
            tls: TlsFiles::default(),
            payments: PaymentsConfig::default(),
            auth: crate::auth::identity::AuthSettings::default(),
            archive_url: None,
            retention: RetentionSettings::default(),
            limits: Limits::default(),
            production: false,
            gateway_named: false,
            // Nodes started side by side in one test dir share a KEK, as a
            // cluster's nodes must.
            kek: crate::secrets::KekSource {
                path: data_dir
                    .parent()
                    .unwrap_or(data_dir)
                    .join("test-cluster.kek"),
                create: true,
            },
            etcd: EtcdSecurity::default(),
        }
    }

    /// Validates a file config (already overridden by flags/env).
    pub fn from_file(f: FileConfig) -> Result<Config, ConfigError> {
        let node = f.node.unwrap_or_else(default_node_name);
        if node.is_empty()
            || node.len() > 63
            || !node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(ConfigError::Invalid {
                key: "node",
                reason: format!(
                    "{node:?} must be 1-63 characters of letters, digits, '-', '_' or '.'"
                ),
            });
        }
        let listen_s = f
            .listen
            .unwrap_or_else(|| format!("127.0.0.1:{}", protocol::DEFAULT_PORT));
        let listen: SocketAddr = listen_s.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            reason: format!("{listen_s:?} is not an IP:port address"),
        })?;
        let advertise = match f.advertise {
            Some(a) if !a.trim().is_empty() => a,
            _ => String::new(),
        };
        let data_dir = f.data_dir.unwrap_or_else(|| PathBuf::from("./dfoodd-data"));
        let etcd_endpoints: Vec<String> = f
            .etcd_endpoints
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        for e in &etcd_endpoints {
            let bare = e
                .strip_prefix("http://")
                .or_else(|| e.strip_prefix("https://"))
                .unwrap_or(e);
            if bare.contains("://") || bare.contains('/') {
                return Err(ConfigError::Invalid {
                    key: "etcd_endpoints",
                    reason: format!(
                        "{e:?} is not host:port, http://host:port or https://host:port"
                    ),
                });
            }
            if bare
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
            {
                return Err(ConfigError::Invalid {
                    key: "etcd_endpoints",
                    reason: format!("{e:?} is not host:port"),
                });
            }
        }
        let roles = expand_roles(f.roles.unwrap_or_else(|| vec!["all".into()]))?;
        let log_format = match f.log_format.as_deref().unwrap_or("human") {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    key: "log_format",
                    reason: format!("{other:?} is neither \"human\" nor \"json\""),
                });
            }
        };
        let metrics_listen = match f.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) => Some(m.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                key: "metrics_listen",
                reason: format!("{m:?} is not an IP:port address (e.g. \"127.0.0.1:9400\")"),
            })?),
        };
        let worker_threads = match f.worker_threads {
            None => None,
            Some(n) if (1..=MAX_WORKER_THREADS).contains(&n) => usize::try_from(n).ok(),
            Some(n) => {
                return Err(ConfigError::Invalid {
                    key: "worker_threads",
                    reason: format!("{n} is not 1 to {MAX_WORKER_THREADS}"),
                });
            }
        };
        let t = &f.tls;
        if t.cert.is_some() != t.key.is_some() {
            return Err(ConfigError::Invalid {
                key: "tls",
                reason: "cert and key must be given together".into(),
            });
        }
        if t.ca_key.is_some() && t.ca_cert.is_none() {
            return Err(ConfigError::Invalid {
                key: "tls",
                reason: "ca_key needs ca_cert".into(),
            });
        }
        if t.ca_cert.is_some() && t.ca_key.is_none() && t.cert.is_none() {
            return Err(ConfigError::Invalid {
                key: "tls",
                reason: "with ca_cert, give either ca_key (the node signs its own certificate) or cert and key".into(),
            });
        }
        let gateway_named = f
            .payments
            .gateway
            .as_deref()
            .is_some_and(|g| !g.trim().is_empty());
        let payments = PaymentsConfig::from_file(f.payments)?;
        let production = f.production.unwrap_or(false);
        if production && payments.gateway == GatewayKind::Sandbox && !gateway_named {
            return Err(ConfigError::Invalid {
                key: "payments.gateway",
                reason: "production = true, but no payment gateway is configured (the sandbox, which takes no money, would be used): set [payments] gateway = \"http\", or gateway = \"sandbox\" to run on test payments knowingly".into(),
            });
        }
        let limits = f.limits.validate()?;
        let etcd = f.etcd.validate(&etcd_endpoints)?;
        let kek = match (f.kek_file, etcd_endpoints.is_empty()) {
            (Some(path), _) => crate::secrets::KekSource {
                path,
                create: f.kek_create.unwrap_or(false),
            },
            (None, true) => crate::secrets::KekSource {
                path: data_dir.join("kek"),
                create: true,
            },
            (None, false) => {
                return Err(ConfigError::Invalid {
                    key: "kek_file",
                    reason: "is required with etcd_endpoints: every node of a cluster needs the same key-encryption key (create it once with `openssl rand -base64 32 > kek; chmod 600 kek` and give each node a copy)".into(),
                });
            }
        };
        Ok(Config {
            node,
            listen,
            advertise,
            data_dir,
            etcd_endpoints,
            roles,
            log_format,
            metrics_listen,
            worker_threads,
            tls: f.tls,
            payments,
            kek,
            etcd,
            auth: f.auth.validate().map_err(|reason| ConfigError::Invalid {
                key: "auth",
                reason,
            })?,
            archive_url: match f.archive_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(u)
                    if u.starts_with("sqlite:")
                        || u.starts_with("postgres:")
                        || u.starts_with("postgresql:") =>
                {
                    Some(u.to_string())
                }
                Some(u) => {
                    return Err(ConfigError::Invalid {
                        key: "archive_url",
                        reason: format!(
                            "{} must start with sqlite: or postgres:",
                            crate::archive::redact(u)
                        ),
                    });
                }
            },
            retention: f
                .retention
                .validate()
                .map_err(|reason| ConfigError::Invalid {
                    key: "retention",
                    reason,
                })?,
            limits,
            production,
            gateway_named,
        })
    }

    /// The address clients are told to use for this node.
    pub fn advertised(&self, bound: SocketAddr) -> String {
        if self.advertise.is_empty() {
            bound.to_string()
        } else {
            self.advertise.clone()
        }
    }
}

fn expand_roles(given: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for r in given {
        let r = r.trim().to_ascii_lowercase();
        if r == "all" {
            out.extend(ROLES.iter().map(|s| s.to_string()));
        } else if ROLES.contains(&r.as_str()) {
            out.push(r);
        } else {
            return Err(ConfigError::Invalid {
                key: "roles",
                reason: format!("unknown role {r:?}; known roles: all, {}", ROLES.join(", ")),
            });
        }
    }
    if out.is_empty() {
        return Err(ConfigError::Invalid {
            key: "roles",
            reason: "at least one role is needed".into(),
        });
    }
    out.sort_by_key(|r| ROLES.iter().position(|k| k == r));
    out.dedup();
    Ok(out)
}

fn default_node_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node-1".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_single_machine() {
        let c = Config::from_file(FileConfig {
            node: Some("n1".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(c.etcd_endpoints.is_empty());
        assert_eq!(c.roles.len(), ROLES.len());
        assert_eq!(c.listen.port(), protocol::DEFAULT_PORT);
        assert_eq!(c.metrics_listen, None, "no metrics endpoint unless asked");
        let m = |v: &str| {
            Config::from_file(FileConfig {
                node: Some("n1".into()),
                metrics_listen: Some(v.into()),
                ..Default::default()
            })
            .unwrap()
            .metrics_listen
        };
        assert_eq!(m("127.0.0.1:9400"), Some("127.0.0.1:9400".parse().unwrap()));
        assert_eq!(m(""), None, "empty disables it (e.g. from the environment)");
    }

    #[test]
    fn worker_threads_are_one_per_cpu_unless_set_within_bounds() {
        let parse = |t: &str| {
            FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml").and_then(Config::from_file)
        };
        assert_eq!(parse("").unwrap().worker_threads, None);
        assert_eq!(parse("worker_threads = 1").unwrap().worker_threads, Some(1));
        for bad in ["worker_threads = 0", "worker_threads = 1025"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("worker_threads") && e.contains("1 to 1024"),
                "{e}"
            );
        }
        assert!(parse("worker_threads = -1").is_err());
    }

    #[test]
    fn the_archive_and_retention_are_configured_and_checked() {
        let parse = |t: &str| {
            FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml").and_then(Config::from_file)
        };
        let c = parse("").unwrap();
        assert_eq!(
            (c.archive_url, c.retention),
            (None, RetentionSettings::default())
        );
        let c = parse(
            "archive_url = 'postgres://u:p@db/archive'\n[retention]\nfinished_after_secs = 60\nsweep_every_secs = 1",
        )
        .unwrap();
        assert_eq!(c.archive_url.as_deref(), Some("postgres://u:p@db/archive"));
        assert_eq!(c.retention.finished_after_secs, 60);
        let e = parse("archive_url = 'mysql://u:secret@db/x'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("archive_url") && !e.contains("secret"), "{e}");
        let e = parse("[retention]\nsweep_every_secs = 0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sweep_every_secs"), "{e}");
        let e = parse("[retention]\nkeep_forever = true")
            .unwrap_err()
            .to_string();
        assert!(e.contains("keep_forever"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = FileConfig::parse("nodee = 'x'", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nodee"), "{e}");
        let bad = |f: FileConfig| Config::from_file(f).unwrap_err().to_string();
        assert!(
            bad(FileConfig {
                roles: Some(vec!["chef".into()]),
                ..Default::default()
            })
            .contains("unknown role \"chef\"")
        );
        assert!(
            bad(FileConfig {
                listen: Some("nope".into()),
                ..Default::default()
            })
            .contains("listen")
        );
        assert!(
            bad(FileConfig {
                node: Some("a b".into()),
                ..Default::default()
            })
            .contains("node")
        );
        assert!(
            bad(FileConfig {
                etcd_endpoints: Some(vec!["localhost".into()]),
                ..Default::default()
            })
            .contains("host:port")
        );
        assert!(
            bad(FileConfig {
                log_format: Some("xml".into()),
                ..Default::default()
            })
            .contains("log_format")
        );
        assert!(
            bad(FileConfig {
                metrics_listen: Some("localhost".into()),
                ..Default::default()
            })
            .contains("metrics_listen")
        );
    }

    #[test]
    fn production_refuses_a_defaulted_sandbox() {
        let cfg = |t: &str| {
            FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml").and_then(Config::from_file)
        };
        let e = cfg("production = true").unwrap_err().to_string();
        assert!(
            e.contains("payments.gateway") && e.contains("sandbox"),
            "{e}"
        );
        let named = cfg("production = true\n[payments]\ngateway = 'sandbox'").unwrap();
        assert!(named.production);
        assert_eq!(named.payments.gateway, GatewayKind::Sandbox);
        let http = cfg(
            "production = true\n[payments]\ngateway = 'http'\nhttp_base_url = 'https://api.example.com'\nhttp_api_key = 'k'",
        )
        .unwrap();
        assert_eq!(http.payments.gateway, GatewayKind::Http);
        assert!(!cfg("").unwrap().production);
        assert!(!cfg("").unwrap().gateway_named);
        assert!(
            cfg("[payments]\ngateway = 'sandbox'")
                .unwrap()
                .gateway_named
        );
    }

    #[test]
    fn limits_section() {
        let cfg = |t: &str| {
            FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml").and_then(Config::from_file)
        };
        assert_eq!(cfg("").unwrap().limits, Limits::default());
        let l = cfg("[limits]\nmenu_items = 50\nmax_order_total = 20000")
            .unwrap()
            .limits;
        assert_eq!((l.menu_items, l.max_order_total), (50, 20_000));
        assert_eq!(l.modifiers_per_item, Limits::default().modifiers_per_item);
        for bad in [
            "modifiers_per_item = 21",
            "menu_items = 0",
            "max_line_total = 0",
            "max_order_total = 9999999999999",
            "pending_payments_per_customer = 0",
            "menu_itemz = 3",
        ] {
            let e = cfg(&format!("[limits]\n{bad}")).unwrap_err().to_string();
            assert!(e.contains(bad.split(' ').next().unwrap()), "{bad}: {e}");
        }
    }

    #[test]
    fn payments_section() {
        let parse = |t: &str| {
            Config::from_file(FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml")?)
                .map(|c| c.payments)
        };
        let d = parse("").unwrap();
        assert_eq!(d.gateway, GatewayKind::Sandbox);
        assert_eq!(d, PaymentsConfig::default());
        let h = parse(
            "[payments]\ngateway = 'http'\nhttp_base_url = 'https://api.example.com/'\nhttp_api_key = 'sk_test'\ntimeout_ms = 300\nmax_retries = 1",
        )
        .unwrap();
        assert_eq!(h.gateway, GatewayKind::Http);
        assert_eq!(h.http_base_url, "https://api.example.com");
        assert_eq!(h.http_api_key, Some(ApiKey::Inline("sk_test".into())));
        assert_eq!(h.timeout, Duration::from_millis(300));
        assert_eq!(h.max_retries, 1);
        assert!(!format!("{h:?}").contains("sk_test"), "the key is redacted");
        let bad = |t: &str| parse(t).unwrap_err().to_string();
        assert!(bad("[payments]\ngateway = 'paypal'").contains("payments.gateway"));
        assert!(bad("[payments]\ngateway = 'http'").contains("payments.http_base_url"));
        assert!(
            bad("[payments]\ngateway = 'http'\nhttp_base_url = 'https://x.example'")
                .contains("http_api_key")
        );
        assert!(
            bad("[payments]\ngateway = 'http'\nhttp_base_url = 'http://pay.example.com'\nhttp_api_key = 'k'")
                .contains("loopback")
        );
        assert!(
            bad("[payments]\ngateway = 'http'\nhttp_base_url = 'ftp://127.0.0.1'\nhttp_api_key = 'k'")
                .contains("scheme")
        );
        assert!(
            bad("[payments]\ngateway = 'http'\nhttp_base_url = 'http://127.0.0.1:1'\nhttp_api_key = 'k'\nhttp_api_key_file = '/k'")
                .contains("not both")
        );
        assert!(bad("[payments]\ntimeout_ms = 0").contains("payments.timeout_ms"));
        assert!(bad("[payments]\nmax_retries = 99").contains("payments.max_retries"));
        assert!(bad("[payments]\ngatway = 'http'").contains("gatway"));
        let local = parse(
            "[payments]\ngateway = 'http'\nhttp_base_url = 'http://127.0.0.1:9/'\nhttp_api_key_file = '/run/key'",
        )
        .unwrap();
        assert_eq!(local.http_api_key, Some(ApiKey::File("/run/key".into())));
    }

    #[test]
    fn the_kek_and_a_secured_etcd_are_configured_and_checked() {
        let parse =
            |t: &str| Config::from_file(FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml")?);
        // One machine: a KEK in the data dir, made on first start.
        let c = parse("data_dir = '/d'").unwrap();
        assert_eq!(c.kek.path, Path::new("/d/kek"));
        assert!(c.kek.create);
        // A cluster: required, and given (never made unless asked).
        let e = parse("etcd_endpoints = ['a:2379']")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kek_file") && e.contains("openssl rand"), "{e}");
        let c = parse("etcd_endpoints = ['a:2379']\nkek_file = '/k'").unwrap();
        assert_eq!(
            (c.kek.path.as_path(), c.kek.create),
            (Path::new("/k"), false)
        );
        let c = parse("etcd_endpoints = ['a:2379']\nkek_file = '/k'\nkek_create = true").unwrap();
        assert!(c.kek.create);

        let tls = "etcd_endpoints = ['https://a:2379', 'https://b:2379']\nkek_file = '/k'\n";
        let c = parse(&format!(
            "{tls}[etcd]\nca_file = '/ca'\ncert_file = '/c'\nkey_file = '/ck'\nusername = 'dfoodd'\npassword_file = '/p'"
        ))
        .unwrap();
        assert_eq!(c.etcd.ca_file.as_deref(), Some(Path::new("/ca")));
        assert_eq!(c.etcd.identity, Some(("/c".into(), "/ck".into())));
        assert_eq!(c.etcd.user, Some(("dfoodd".into(), "/p".into())));
        let bad = |t: &str| parse(t).unwrap_err().to_string();
        assert!(bad(tls).contains("need ca_file"));
        assert!(
            bad(&format!("{tls}[etcd]\nca_file = '/ca'\ncert_file = '/c'")).contains("together")
        );
        assert!(bad(&format!("{tls}[etcd]\nca_file = '/ca'\nusername = 'u'")).contains("together"));
        assert!(
            bad(&format!("{tls}[etcd]\nca_file = '/ca'\ncertfile = '/c'")).contains("certfile")
        );
        let mixed = "etcd_endpoints = ['https://a:2379', 'b:2379']\nkek_file = '/k'\n[etcd]\nca_file = '/ca'";
        assert!(bad(mixed).contains("mixes"));
        let plain = "etcd_endpoints = ['10.0.0.1:2379']\nkek_file = '/k'\n";
        assert!(bad(&format!("{plain}[etcd]\nca_file = '/ca'")).contains("https://"));
        // A password in clear over a network: refused; on loopback (tests): allowed.
        assert!(
            bad(&format!(
                "{plain}[etcd]\nusername = 'u'\npassword_file = '/p'"
            ))
            .contains("in clear")
        );
        parse("etcd_endpoints = ['http://127.0.0.1:2379']\nkek_file = '/k'\n[etcd]\nusername = 'u'\npassword_file = '/p'").unwrap();
        assert!(bad("[etcd]\nca_file = '/ca'").contains("need etcd_endpoints"));
        assert!(
            bad("etcd_endpoints = ['https://a:2379/x']\nkek_file = '/k'").contains("not host:port")
        );
        assert!(
            bad("etcd_endpoints = ['ftp://a:2379']\nkek_file = '/k'").contains("not host:port")
        );
        // Secrets do not show in debug output.
        let creds = EtcdCredentials {
            ca_pem: None,
            identity: Some((b"cert".to_vec(), b"KEY".to_vec())),
            user: Some(("u".into(), "hunter2".into())),
        };
        let d = format!("{creds:?}");
        assert!(!d.contains("hunter2") && !d.contains("KEY"), "{d}");
    }
}

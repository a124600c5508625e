//! `dfoodd` configuration: a TOML file (see `etc/dfoodd.toml`), overridden by
//! flags and `DFOODD_*` environment variables, then validated into a
//! [`Config`] that [`crate::run`] takes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    #[serde(default)]
    pub tls: TlsFiles,
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
    pub tls: TlsFiles,
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
            tls: TlsFiles::default(),
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
            let bare = e.strip_prefix("http://").unwrap_or(e);
            if e.starts_with("https://") {
                return Err(ConfigError::Invalid {
                    key: "etcd_endpoints",
                    reason: format!(
                        "{e}: TLS to etcd is not supported yet; use http:// on a trusted network"
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
        Ok(Config {
            node,
            listen,
            advertise,
            data_dir,
            etcd_endpoints,
            roles,
            log_format,
            tls: f.tls,
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
    }
}

//! Where `dfood` finds its daemon and the CA to verify it: flags, then
//! `DFOOD_*` environment variables, then the config file
//! (`$XDG_CONFIG_HOME/dfood/config.toml`, or `--config`), then defaults.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("bad config file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

/// The config file. Unknown keys are refused so typos are noticed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Path of the cluster CA certificate (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

/// Keys `dfood config set` accepts.
pub const KEYS: &[&str] = &["endpoint", "ca", "server_name"];

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("dfood").join("config.toml"))
}

impl FileSettings {
    /// Loads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<FileSettings, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileSettings::default());
            }
            Err(e) => {
                return Err(SettingsError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| SettingsError::Parse {
            path: path.display().to_string(),
            reason: e.to_string().trim().replace('\n', " "),
        })
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let err = |e: std::io::Error| SettingsError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let text = toml::to_string(self).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let tmp = path.with_extension("toml.tmp");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)
    }

    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        match key {
            "endpoint" => self.endpoint = Some(value.to_string()),
            "server_name" => self.server_name = Some(value.to_string()),
            "ca" => {
                let p = std::path::absolute(value)
                    .map_err(|e| SettingsError::Invalid(e.to_string()))?;
                let pem = std::fs::read(&p).map_err(|e| SettingsError::Read {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                protocol::tls::certs_from_pem(&pem, &format!("CA file {}", p.display()))
                    .map_err(|e| SettingsError::Invalid(e.to_string()))?;
                self.ca = Some(p);
            }
            other => {
                return Err(SettingsError::Invalid(format!(
                    "unknown setting {other:?}; settings are: {}",
                    KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub fn unset(&mut self, key: &str) -> Result<(), SettingsError> {
        match key {
            "endpoint" => self.endpoint = None,
            "server_name" => self.server_name = None,
            "ca" => self.ca = None,
            other => {
                return Err(SettingsError::Invalid(format!(
                    "unknown setting {other:?}; settings are: {}",
                    KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }
}

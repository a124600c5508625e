//! The logged-in session: `credentials.json` next to the config file
//! (`$XDG_CONFIG_HOME/dfood/credentials.json` by default), readable by its
//! owner only (0600). It holds the access token, its expiry and the refresh
//! token; never a password.
//!
//! Refreshing is serialised between `dfood` processes with an exclusive
//! lock on `credentials.lock`, because a refresh token works once: two
//! processes refreshing the same token at once would look like token theft
//! to the daemon, which then revokes the session.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub const FILE_NAME: &str = "credentials.json";
const LOCK_NAME: &str = "credentials.lock";

#[derive(Debug, Error)]
pub enum CredentialsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("damaged credentials file {path} ({reason}): run `dfood login`")]
    Parse { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// What `dfood login` saves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The daemon endpoint the tokens came from (informational).
    #[serde(default)]
    pub endpoint: String,
    pub user_id: String,
    pub username: String,
    #[serde(default)]
    pub operator: bool,
    #[serde(default)]
    pub service: bool,
    pub access_token: String,
    /// Unix seconds.
    pub access_expires_at: u64,
    /// Absent for service accounts (client_credentials has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<u64>,
}

impl Credentials {
    /// True when the access token is expired or expires within `margin_secs`.
    pub fn stale(&self, now: u64, margin_secs: u64) -> bool {
        self.access_expires_at <= now + margin_secs
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `credentials.json` in the same directory as the config file.
pub fn path_for(config_file: &Path) -> PathBuf {
    config_file
        .parent()
        .map(|d| d.join(FILE_NAME))
        .unwrap_or_else(|| PathBuf::from(FILE_NAME))
}

/// Loads the credentials; a missing file is `None`.
pub fn load(path: &Path) -> Result<Option<Credentials>, CredentialsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialsError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CredentialsError::Parse {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// Writes the credentials atomically with mode 0600 (the directory is
/// created 0700 if missing).
pub fn save(path: &Path, c: &Credentials) -> Result<(), CredentialsError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let err = |e: std::io::Error| CredentialsError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let text = serde_json::to_string_pretty(c).expect("serialisable");
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)
}

/// Deletes the file; true if there was one.
pub fn remove(path: &Path) -> Result<bool, CredentialsError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CredentialsError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// An exclusive lock between `dfood` processes sharing a credentials file;
/// released when dropped.
pub struct Lock {
    _file: File,
}

pub fn lock(credentials: &Path) -> Result<Lock, CredentialsError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = credentials.with_file_name(LOCK_NAME);
    let err = |e: std::io::Error| CredentialsError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credentials {
        Credentials {
            endpoint: "127.0.0.1:7400".into(),
            user_id: "usr_1".into(),
            username: "alice".into(),
            operator: false,
            service: false,
            access_token: "a.b.c".into(),
            access_expires_at: 1000,
            refresh_token: Some("r".into()),
            refresh_expires_at: Some(5000),
        }
    }

    #[test]
    fn round_trip_private_and_removable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(sample()));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let _l = lock(&path).unwrap();
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
    }

    #[test]
    fn staleness_has_a_margin() {
        let c = sample();
        assert!(!c.stale(900, 30));
        assert!(c.stale(971, 30));
        assert!(c.stale(2000, 30));
    }

    #[test]
    fn damaged_file_says_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("dfood login"));
    }

    #[test]
    fn lives_next_to_the_config_file() {
        assert_eq!(
            path_for(Path::new("/home/u/.config/dfood/config.toml")),
            Path::new("/home/u/.config/dfood/credentials.json")
        );
    }
}

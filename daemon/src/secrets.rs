//! Secrets at rest: the key-encryption key (KEK) and files private to the
//! daemon's user.
//!
//! Every node is given the same KEK, 32 random bytes in a file (base64, as
//! `openssl rand -base64 32` writes it; mode 0600). Records that hold a
//! secret (the JWT signing keys, the cluster CA's private key) keep it only
//! [`Kek::seal`]ed: XChaCha20-Poly1305 with a random 192-bit nonce, the
//! record's store key as associated data (a sealed value moved to another
//! key does not open). A copy of etcd's data or of the store file, without
//! the KEK, yields no usable key.
//!
//! A single machine creates its KEK on first start (`<data_dir>/kek`); a
//! cluster's nodes must be given one (`kek_file`): the config refuses etcd
//! endpoints without it.
//!
//! Files: the data dir is 0700 and every file holding a secret 0600
//! ([`private_dir`], [`write_private`], [`check_private_file`]).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

/// The prefix of a sealed value (the format's version).
const SEALED_PREFIX: &str = "kek1:";
/// The largest KEK file read (a base64 key and a newline are 45 bytes).
const MAX_KEK_FILE: u64 = 4096;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SecretError {
    #[error("key-encryption key file {path}: {reason}")]
    KekFile { path: String, reason: String },
    #[error(
        "cannot open {what}: it was sealed with another key-encryption key (every node needs the same kek_file) or it was altered"
    )]
    WrongKey { what: String },
    #[error("{what} is not a sealed value")]
    NotSealed { what: String },
    #[error("{path}: {reason}")]
    Permissions { path: String, reason: String },
}

/// Where a node's KEK comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekSource {
    pub path: PathBuf,
    /// Create it (32 random bytes, 0600) when absent: the single-machine
    /// default. A cluster's KEK is always given.
    pub create: bool,
}

/// The key-encryption key.
#[derive(Clone)]
pub struct Kek {
    cipher: XChaCha20Poly1305,
    raw: [u8; 32],
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    pub fn from_bytes(key: &[u8; 32]) -> Kek {
        Kek {
            cipher: XChaCha20Poly1305::new(key.into()),
            raw: *key,
        }
    }

    /// A new random KEK (tests).
    pub fn generate() -> Kek {
        Kek::from_bytes(&rand::random())
    }

    /// Reads the KEK file (creating it first when `src.create` and it is
    /// absent). The file must be private: one readable by group or others
    /// is tightened when this user owns it, refused otherwise.
    pub fn load(src: &KekSource) -> Result<Kek, SecretError> {
        let path = &src.path;
        let err = |reason: String| SecretError::KekFile {
            path: path.display().to_string(),
            reason,
        };
        if src.create && !path.exists() {
            let key: [u8; 32] = rand::random();
            create_private_once(path, format!("{}\n", STANDARD.encode(key)).as_bytes())
                .map_err(|e| err(format!("cannot create it: {e}")))?;
            tracing::info!(path = %path.display(), "created the key-encryption key (keep a copy: without it the signing keys and the CA key cannot be read)");
        }
        check_private_file(path).map_err(|e| err(e.to_string()))?;
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if meta.len() > MAX_KEK_FILE {
            return Err(err(format!(
                "{} bytes: not a key (expected 32 bytes, base64)",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// The file's text: 32 bytes in base64 (standard or URL-safe, padding
    /// optional), surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Kek, String> {
        let t = text.trim();
        let bytes = STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| {
                "not base64: create one with `openssl rand -base64 32 > FILE`".to_string()
            })?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "holds {} bytes, a key is 32: create one with `openssl rand -base64 32 > FILE`",
                b.len()
            )
        })?;
        Ok(Kek::from_bytes(&key))
    }

    /// Seals `plain` for the store key `aad`: `kek1:` + base64url(nonce ‖
    /// ciphertext ‖ tag).
    pub fn seal(&self, aad: &str, plain: &[u8]) -> String {
        let nonce_bytes: [u8; 24] = rand::random();
        let nonce = XNonce::from_slice(&nonce_bytes);
        let ct = self
            .cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            // Only fails for inputs beyond 256 GiB.
            .unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`Kek::seal`] sealed for `aad`; `what` names it in errors.
    pub fn open(&self, aad: &str, sealed: &str, what: &str) -> Result<Vec<u8>, SecretError> {
        let not_sealed = || SecretError::NotSealed { what: what.into() };
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .ok_or_else(not_sealed)?;
        if raw.len() < 24 + 16 {
            return Err(not_sealed());
        }
        let (nonce, ct) = raw.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SecretError::WrongKey { what: what.into() })
    }

    /// A key derived from the KEK for `purpose` (HMAC-SHA256 of the
    /// purpose under the KEK), so that the KEK itself only seals.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.raw);
        let tag = ring::hmac::sign(&key, format!("dfoodd derive {purpose}").as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

/// The MAC a forwarding node puts on the client address it passes along
/// (`Request::peer_mac`): only nodes holding the KEK can make it.
pub fn peer_mac(kek: &Kek, via: &str, peer: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &kek.derive("forwarded peer"));
    let tag = ring::hmac::sign(&key, format!("{via}\n{peer}").as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// Whether `mac` is [`peer_mac`] of `via` and `peer` (constant time).
pub fn peer_mac_holds(kek: &Kek, via: &str, peer: &str, mac: &str) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &kek.derive("forwarded peer"));
    match URL_SAFE_NO_PAD.decode(mac) {
        Ok(tag) => ring::hmac::verify(&key, format!("{via}\n{peer}").as_bytes(), &tag).is_ok(),
        Err(_) => false,
    }
}

/// Creates `dir` (and its parents) as 0700, or makes an existing one
/// private: group and other bits are removed when this user owns it; a
/// directory it cannot tighten is refused. Returns whether it tightened.
pub fn private_dir(dir: &Path) -> Result<bool, SecretError> {
    let err = |reason: String| SecretError::Permissions {
        path: dir.display().to_string(),
        reason,
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err(format!("cannot create it: {e}")))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| err(e.to_string()))?;
    if !meta.is_dir() {
        return Err(err("not a directory".into()));
    }
    tighten(dir, &meta, 0o700).map_err(err)
}

/// Makes `path` (a file holding a secret) 0600 when it is readable by
/// group or others and this user owns it. A file of another user (a
/// Kubernetes Secret is mounted owned by root, group-readable by the pod's
/// `fsGroup`) is accepted when no bit is set for others, refused when
/// every user may read it.
pub fn check_private_file(path: &Path) -> Result<bool, SecretError> {
    let err = |reason: String| SecretError::Permissions {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err("not a regular file".into()));
    }
    let current = meta.mode() & 0o777;
    if meta.uid() != effective_uid() && current & 0o007 == 0 {
        return Ok(false);
    }
    tighten(path, &meta, 0o600).map_err(err)
}

/// The one rule for both: anything beyond `mode` for group or others is
/// removed by the owner, refused for anyone else.
fn tighten(path: &Path, meta: &std::fs::Metadata, mode: u32) -> Result<bool, String> {
    let current = meta.mode() & 0o777;
    if current & 0o077 == 0 {
        return Ok(false);
    }
    let me = effective_uid();
    if meta.uid() != me && me != 0 {
        return Err(format!(
            "mode {current:o} lets other users read it, and it belongs to uid {}, not to this user (uid {me}): make it private (chmod {mode:o}) or use another path",
            meta.uid()
        ));
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        format!("mode {current:o} lets other users read it, and it cannot be made {mode:o}: {e}")
    })?;
    tracing::warn!(path = %path.display(), from = format!("{current:o}"), to = format!("{mode:o}"), "made private: it was readable by other users");
    Ok(true)
}

/// This process's effective uid, from the kernel's view of a file it owns
/// (no `unsafe` `geteuid`): the owner of `/proc/self`.
fn effective_uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// Writes `data` to `path` atomically (a temporary file renamed over it),
/// 0600 from the start.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_path(path);
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Creates `path` with `data`, 0600, unless it exists: concurrent first
/// starts sharing the path agree on one content (the file appears whole,
/// by a hard link, or not at all).
fn create_private_once(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = tmp_path(path);
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        crate::auth::crypto::random_hex(4)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_place() {
        let kek = Kek::generate();
        let s = kek.seal("/dfood/auth/keys/k1", b"secret bytes");
        assert!(s.starts_with("kek1:"), "{s}");
        assert!(!s.contains("secret"));
        assert_eq!(
            kek.open("/dfood/auth/keys/k1", &s, "k1").unwrap(),
            b"secret bytes"
        );
        // Sealing twice gives different values (random nonces).
        assert_ne!(s, kek.seal("/dfood/auth/keys/k1", b"secret bytes"));
        // Moved to another key: refused.
        assert!(matches!(
            kek.open("/dfood/auth/keys/k2", &s, "k2"),
            Err(SecretError::WrongKey { .. })
        ));
        // Another KEK: refused, with a message that says what to check.
        let e = Kek::generate()
            .open("/dfood/auth/keys/k1", &s, "signing key k1")
            .unwrap_err();
        assert!(e.to_string().contains("kek_file"), "{e}");
        // A flipped bit: refused.
        let mut raw = URL_SAFE_NO_PAD.decode(&s[5..]).unwrap();
        raw[30] ^= 1;
        let tampered = format!("kek1:{}", URL_SAFE_NO_PAD.encode(raw));
        assert!(kek.open("/dfood/auth/keys/k1", &tampered, "k1").is_err());
        // Not sealed at all.
        for bad in ["", "kek1:", "kek1:AAAA", "plain", "kek1:!!!"] {
            assert!(matches!(
                kek.open("/k", bad, "x"),
                Err(SecretError::NotSealed { .. })
            ));
        }
        let mac = peer_mac(&kek, "n1", "192.0.2.1");
        assert!(peer_mac_holds(&kek, "n1", "192.0.2.1", &mac));
        assert!(!peer_mac_holds(&kek, "n1", "192.0.2.2", &mac));
        assert!(!peer_mac_holds(&kek, "n2", "192.0.2.1", &mac));
        assert!(!peer_mac_holds(&Kek::generate(), "n1", "192.0.2.1", &mac));
        assert!(!peer_mac_holds(&kek, "n1", "192.0.2.1", "garbage!"));
        assert_eq!(kek.derive("a"), kek.derive("a"));
        assert_ne!(kek.derive("a"), kek.derive("b"));
        assert_ne!(kek.derive("a"), Kek::generate().derive("a"));
    }

    #[test]
    fn kek_files_are_parsed_strictly() {
        let key = [7u8; 32];
        for text in [
            STANDARD.encode(key),
            format!("  {}\n", STANDARD.encode(key)),
            URL_SAFE_NO_PAD.encode(key),
        ] {
            let k = Kek::parse(&text).unwrap();
            let s = k.seal("/a", b"x");
            assert_eq!(Kek::from_bytes(&key).open("/a", &s, "x").unwrap(), b"x");
        }
        assert!(Kek::parse("").unwrap_err().contains("32"));
        assert!(
            Kek::parse(&STANDARD.encode([1u8; 16]))
                .unwrap_err()
                .contains("16 bytes")
        );
        assert!(
            Kek::parse("not base64 at all!")
                .unwrap_err()
                .contains("openssl rand")
        );
    }

    #[test]
    fn files_and_dirs_are_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b/data");
        assert!(!private_dir(&data).unwrap(), "created private");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(private_dir(&data).unwrap(), "tightened");
        assert_eq!(mode(&data), 0o700);

        // The KEK: created once, 0600; a loose one is tightened.
        let src = KekSource {
            path: data.join("kek"),
            create: true,
        };
        let k1 = Kek::load(&src).unwrap();
        assert_eq!(mode(&src.path), 0o600);
        let sealed = k1.seal("/x", b"y");
        let k2 = Kek::load(&src).unwrap();
        assert_eq!(k2.open("/x", &sealed, "x").unwrap(), b"y", "the same key");
        std::fs::set_permissions(&src.path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Kek::load(&src).unwrap();
        assert_eq!(mode(&src.path), 0o600);
        // Another user's file, readable by its group only (a Kubernetes
        // Secret): accepted as it is; by everyone: refused.
        if effective_uid() == 0 {
            let theirs = data.join("theirs");
            std::fs::write(&theirs, STANDARD.encode([1u8; 32])).unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o440)).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), None).unwrap();
            // Root may read anything, and would tighten; the rule is
            // about the owner, checked as such.
            assert!(!check_private_file(&theirs).unwrap());
            assert_eq!(mode(&theirs), 0o440);
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o444)).unwrap();
            check_private_file(&theirs).unwrap();
            assert_eq!(mode(&theirs), 0o600, "root tightens what it may");
        }
        // A given KEK that does not exist is not invented.
        let missing = KekSource {
            path: data.join("nope"),
            create: false,
        };
        let e = Kek::load(&missing).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");

        write_private(&data.join("f"), b"z").unwrap();
        assert_eq!(mode(&data.join("f")), 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_kek() {
        let dir = tempfile::tempdir().unwrap();
        let src = KekSource {
            path: dir.path().join("kek"),
            create: true,
        };
        let keks: Vec<Kek> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Kek::load(&src).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let sealed = keks[0].seal("/k", b"v");
        for k in &keks {
            assert_eq!(k.open("/k", &sealed, "k").unwrap(), b"v");
        }
    }
}

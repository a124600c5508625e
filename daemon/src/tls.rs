//! TLS that works out of the box.
//!
//! Unless the operator gives certificates in config (`[tls]`), the cluster
//! has one CA, created by the first node that starts and kept in the store
//! (`/dfood/cluster/ca`, written with an "absent" compare so concurrent first
//! starts agree on one). Every node signs its own certificate with it at each
//! start, for the names clients verify (`dfoodd`, `localhost`, the node name,
//! loopback addresses, the advertised host). The CA certificate is written to
//! `<data_dir>/tls/ca.pem` for handing to clients (`dfood --ca`, or
//! `dfood config set ca`).
//!
//! The CA's private key lives in the store sealed under the node's
//! key-encryption key (`crate::secrets`): reading the store alone does not
//! let anyone mint node certificates. A CA record from before sealing (its
//! key in clear) is sealed in place at the next start, with a warning.
//! Operators who want the key out of the store altogether give `ca_cert` +
//! `ca_key` files, or `cert` + `key`, instead.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::Config;
use crate::secrets::{Kek, SecretError};
use crate::store::{Compare, Store, StoreError, Txn, TxnOp};

pub const CA_KEY: &str = "/dfood/cluster/ca";

#[derive(Debug, Error)]
pub enum TlsSetupError {
    #[error(transparent)]
    Files(#[from] protocol::tls::TlsError),
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read the cluster CA from the store: {0}")]
    Store(#[from] StoreError),
    #[error("the cluster CA in the store is damaged: {0}")]
    Damaged(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("the cluster CA key in the store: {0}")]
    Sealed(#[from] SecretError),
}

#[derive(Serialize, Deserialize)]
struct StoredCa {
    cert_pem: String,
    /// The private key (PEM), sealed under the KEK for [`CA_KEY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_sealed: Option<String>,
    /// A record from before sealing: the key in clear (sealed at start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_pem: Option<String>,
}

pub struct NodeTls {
    pub server: quinn::ServerConfig,
    /// Where the CA certificate clients need was written, if known.
    pub ca_path: Option<PathBuf>,
    /// The CA certificate (PEM) nodes use to reach each other; empty when
    /// the operator gave a certificate without its CA.
    pub ca_pem: Vec<u8>,
}

/// Builds this node's QUIC server TLS configuration (see the module doc).
pub async fn setup(
    config: &Config,
    store: &dyn Store,
    kek: &Kek,
    advertised: &str,
) -> Result<NodeTls, TlsSetupError> {
    let t = &config.tls;
    let tls_dir = config.data_dir.join("tls");
    let (chain_pem, key_pem, ca_pem) = if let (Some(cert), Some(key)) = (&t.cert, &t.key) {
        let ca = t
            .ca_cert
            .as_deref()
            .map(protocol::tls::read_file)
            .transpose()?;
        (
            protocol::tls::read_file(cert)?,
            protocol::tls::read_file(key)?,
            ca,
        )
    } else {
        let (ca_cert, ca_key) = match (&t.ca_cert, &t.ca_key) {
            (Some(c), Some(k)) => (
                String::from_utf8_lossy(&protocol::tls::read_file(c)?).into_owned(),
                String::from_utf8_lossy(&protocol::tls::read_file(k)?).into_owned(),
            ),
            _ => cluster_ca(store, kek).await?,
        };
        let (cert, key) = sign_node_cert(&ca_cert, &ca_key, &config.node, advertised)?;
        (
            cert.into_bytes(),
            key.into_bytes(),
            Some(ca_cert.into_bytes()),
        )
    };
    let chain = protocol::tls::certs_from_pem(&chain_pem, "node certificate")?;
    let key = protocol::tls::key_from_pem(&key_pem, "node key")?;
    let server = protocol::tls::server_config(chain, key)?;
    let ca_path = match &ca_pem {
        Some(pem) => Some(write_public(&tls_dir, "ca.pem", pem)?),
        None => None,
    };
    Ok(NodeTls {
        server,
        ca_path,
        ca_pem: ca_pem.unwrap_or_default(),
    })
}

fn write_public(dir: &Path, name: &str, data: &[u8]) -> Result<PathBuf, TlsSetupError> {
    let err = |e: std::io::Error| TlsSetupError::Write {
        path: dir.join(name).display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, data).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}

/// Reads the cluster CA from the store, creating it if this is the first node.
async fn cluster_ca(store: &dyn Store, kek: &Kek) -> Result<(String, String), TlsSetupError> {
    for _ in 0..5 {
        if let Some(kv) = store.get(CA_KEY).await? {
            let stored = parse_stored(&kv.value)?;
            if let Some(sealed) = &stored.key_sealed {
                let key = kek.open(CA_KEY, sealed, "the cluster CA key")?;
                let key = String::from_utf8(key)
                    .map_err(|_| TlsSetupError::Damaged("the CA key is not PEM".into()))?;
                return Ok((stored.cert_pem, key));
            }
            let Some(plain) = stored.key_pem else {
                return Err(TlsSetupError::Damaged("no key in the CA record".into()));
            };
            // From before sealing: seal it in place (guarded, so that a
            // concurrent start does it once).
            let doc = sealed_doc(kek, &stored.cert_pem, &plain)?;
            let done = store
                .txn(
                    Txn::new()
                        .when([Compare::mod_revision(CA_KEY, kv.mod_revision)])
                        .and_then([TxnOp::put(CA_KEY, doc)]),
                )
                .await?;
            if done.succeeded {
                tracing::warn!(
                    "the cluster CA key was stored in clear; it is sealed now, but anyone who copied the store before has it: consider a new CA"
                );
                return Ok((stored.cert_pem, plain));
            }
            continue;
        }
        let (cert, key) = generate_ca()?;
        let resp = store
            .txn(
                Txn::new()
                    .when([Compare::absent(CA_KEY)])
                    .and_then([TxnOp::put(CA_KEY, sealed_doc(kek, &cert, &key)?)]),
            )
            .await?;
        if resp.succeeded {
            return Ok((cert, key));
        }
        // Another node created it first: use theirs (next round).
    }
    Err(TlsSetupError::Damaged(
        "the CA record kept changing while reading it".into(),
    ))
}

fn sealed_doc(kek: &Kek, cert: &str, key: &str) -> Result<Vec<u8>, TlsSetupError> {
    serde_json::to_vec(&StoredCa {
        cert_pem: cert.to_string(),
        key_sealed: Some(kek.seal(CA_KEY, key.as_bytes())),
        key_pem: None,
    })
    .map_err(|e| TlsSetupError::Damaged(e.to_string()))
}

fn parse_stored(value: &[u8]) -> Result<StoredCa, TlsSetupError> {
    serde_json::from_slice(value).map_err(|e| TlsSetupError::Damaged(e.to_string()))
}

/// A new self-signed cluster CA: (certificate PEM, key PEM).
pub fn generate_ca() -> Result<(String, String), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "DistribuFood cluster CA");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Signs a certificate for this node: (certificate PEM, key PEM).
pub fn sign_node_cert(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    node: &str,
    advertised: &str,
) -> Result<(String, String), TlsSetupError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)?;
    let mut names = vec![
        protocol::DEFAULT_SERVER_NAME.to_string(),
        "localhost".to_string(),
        node.to_string(),
    ];
    let host = advertised
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
        .unwrap_or(advertised);
    if !host.is_empty() && host.parse::<std::net::IpAddr>().is_err() {
        names.push(host.to_string());
    }
    names.sort();
    names.dedup();
    let mut params = CertificateParams::new(names)?;
    for ip in ["127.0.0.1", "::1"]
        .iter()
        .copied()
        .chain(std::iter::once(host))
    {
        if let Ok(ip) = ip.parse::<std::net::IpAddr>() {
            let san = SanType::IpAddress(ip);
            if !params.subject_alt_names.contains(&san) {
                params.subject_alt_names.push(san);
            }
        }
    }
    params
        .distinguished_name
        .push(DnType::CommonName, format!("dfoodd {node}"));
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

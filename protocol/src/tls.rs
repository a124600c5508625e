//! rustls configuration shared by the client and the daemon: TLS 1.3 only
//! (QUIC requires it), the ring provider, and the `dfood/1` ALPN id.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses every certificate in a PEM document.
pub fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut &pem[..]).collect();
    let certs = certs.map_err(|e| TlsError::Invalid {
        what: what.into(),
        reason: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::Invalid {
            what: what.into(),
            reason: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}

/// Parses the first private key in a PEM document.
pub fn key_from_pem(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| TlsError::Invalid {
            what: what.into(),
            reason: e.to_string(),
        })?
        .ok_or_else(|| TlsError::Invalid {
            what: what.into(),
            reason: "no PEM private key found".into(),
        })
}

/// Reads a file for TLS use, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A client configuration that trusts exactly the CAs in `ca_pem`.
pub fn client_config(ca_pem: &[u8]) -> Result<quinn::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs_from_pem(ca_pem, "CA certificate")? {
        roots.add(cert).map_err(|e| TlsError::Invalid {
            what: "CA certificate".into(),
            reason: e.to_string(),
        })?;
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(invalid("TLS versions"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![crate::ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(invalid("QUIC client TLS"))?;
    Ok(quinn::ClientConfig::new(Arc::new(quic)))
}

/// A server configuration presenting `chain` with `key`, offering only the
/// `dfood/1` ALPN id: a client offering anything else fails the handshake.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<quinn::ServerConfig, TlsError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(invalid("TLS versions"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(invalid("node certificate"))?;
    tls.alpn_protocols = vec![crate::ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(invalid("QUIC server TLS"))?;
    Ok(quinn::ServerConfig::with_crypto(Arc::new(quic)))
}

fn invalid<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> TlsError {
    move |e| TlsError::Invalid {
        what: what.into(),
        reason: e.to_string(),
    }
}

//! A real etcd secured as a production cluster would be: TLS on the client
//! port with certificates made here (rcgen), and etcd authentication
//! enabled (RBAC: a `dfoodd` role with read-write on the prefix `/dfood`),
//! in one of two ways:
//!
//! - [`EtcdAuth::ClientCert`]: `--client-cert-auth`; a client proves who it
//!   is with a certificate signed by the test CA, whose CN is its etcd user
//!   (`dfoodd`, `root`, or `intruder`, a user with no role);
//! - [`EtcdAuth::Password`]: server TLS only; clients log in with a
//!   username and password.
//!
//! Plain HTTP on the client port is not served at all; `/health` is on a
//! separate plain metrics listener, for the harness only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use etcd_client as ec;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::{Proc, etcd_bin, free_port};

/// How clients authenticate to the secured etcd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtcdAuth {
    /// Mutual TLS: the client certificate's CN is the etcd user.
    ClientCert,
    /// Server TLS, and a username and password.
    Password,
}

/// The password of the `dfoodd` etcd user (Password mode).
pub const DFOODD_PASSWORD: &str = "dfoodd etcd password";
const ROOT_PASSWORD: &str = "root etcd password";

/// A one-member etcd with TLS and authentication.
pub struct SecureEtcd {
    pub auth: EtcdAuth,
    pub endpoint: String,
    pub proc: Proc,
    /// The CA that signed etcd's and the clients' certificates.
    pub ca: PathBuf,
    /// `dfoodd`'s client certificate and key (CN `dfoodd`).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A certificate of the same CA for CN `intruder` (no role).
    pub intruder_cert: PathBuf,
    pub intruder_key: PathBuf,
    /// The `dfoodd` user's password file (0600).
    pub password_file: PathBuf,
    dir: tempfile::TempDir,
}

struct Ca {
    cert_pem: String,
    key: KeyPair,
}

fn make_ca() -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "etcd test CA");
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("key");
    let cert = p.self_signed(&key).expect("self-signed CA");
    Ca {
        cert_pem: cert.pem(),
        key,
    }
}

/// A certificate signed by `ca` for `cn`: (cert PEM, key PEM).
fn issue(ca: &Ca, cn: &str, server: bool) -> (String, String) {
    let names = if server {
        vec!["localhost".to_string()]
    } else {
        Vec::new()
    };
    let mut p = CertificateParams::new(names).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    if server {
        p.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().expect("ip")));
    }
    p.extended_key_usages = if server {
        // etcd also uses its server certificate as a client (its own
        // gateway); both usages, as etcd's docs advise.
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ]
    } else {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    };
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().expect("key");
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, &ca.key).expect("issuer");
    let cert = p.signed_by(&key, &issuer).expect("signed");
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

impl SecureEtcd {
    pub fn start(auth: EtcdAuth) -> SecureEtcd {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let ca = make_ca();
        let ca_path = write(d, "ca.pem", &ca.cert_pem);
        let (server_cert, server_key) = issue(&ca, "etcd", true);
        let server_cert = write(d, "server.pem", &server_cert);
        let server_key = write(d, "server-key.pem", &server_key);
        let mut certs = Vec::new();
        for cn in ["dfoodd", "root", "intruder"] {
            let (c, k) = issue(&ca, cn, false);
            certs.push((
                write(d, &format!("{cn}.pem"), &c),
                write(d, &format!("{cn}-key.pem"), &k),
            ));
        }
        let password_file = write(d, "dfoodd-etcd-password", &format!("{DFOODD_PASSWORD}\n"));
        let (client, peer, metrics) = (free_port(), free_port(), free_port());
        let endpoint = format!("https://127.0.0.1:{client}");
        let mut cmd = Command::new(etcd_bin());
        cmd.arg("--name")
            .arg("secure0")
            .arg("--data-dir")
            .arg(d.join("data"))
            .arg("--listen-client-urls")
            .arg(&endpoint)
            .arg("--advertise-client-urls")
            .arg(&endpoint)
            .arg("--listen-peer-urls")
            .arg(format!("http://127.0.0.1:{peer}"))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://127.0.0.1:{peer}"))
            .arg("--initial-cluster")
            .arg(format!("secure0=http://127.0.0.1:{peer}"))
            .arg("--listen-metrics-urls")
            .arg(format!("http://127.0.0.1:{metrics}"))
            .arg("--cert-file")
            .arg(&server_cert)
            .arg("--key-file")
            .arg(&server_key);
        if auth == EtcdAuth::ClientCert {
            // (etcd 3.4 asks every client for a certificate once it has a
            // trusted CA, so the password mode gives it none.)
            cmd.arg("--client-cert-auth")
                .arg("--trusted-ca-file")
                .arg(&ca_path);
        }
        let proc = Proc::spawn("etcd-secure", cmd, &d.join("etcd.log"));
        let health = format!("http://127.0.0.1:{metrics}/health");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !crate::http_get_ok(&health) {
            assert!(
                Instant::now() < deadline,
                "secure etcd not healthy within 30 s; its log:\n{}",
                proc.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut certs = certs.into_iter();
        let (client_cert, client_key) = certs.next().expect("dfoodd cert");
        let root = certs.next().expect("root cert");
        let (intruder_cert, intruder_key) = certs.next().expect("intruder cert");
        let e = SecureEtcd {
            auth,
            endpoint,
            proc,
            ca: ca_path,
            client_cert,
            client_key,
            intruder_cert,
            intruder_key,
            password_file,
            dir,
        };
        e.enable_auth(&root);
        e
    }

    /// The TLS options of a client: the CA, and `identity` (cert, key)
    /// when given.
    pub fn tls(&self, identity: Option<(&Path, &Path)>) -> ec::TlsOptions {
        let ca = std::fs::read(&self.ca).expect("ca");
        let mut t = ec::TlsOptions::new().ca_certificate(ec::Certificate::from_pem(ca));
        if let Some((c, k)) = identity {
            t = t.identity(ec::Identity::from_pem(
                std::fs::read(c).expect("cert"),
                std::fs::read(k).expect("key"),
            ));
        }
        t
    }

    /// Connects as a client would (bounded in time).
    pub async fn connect(
        &self,
        identity: Option<(&Path, &Path)>,
        user: Option<(&str, &str)>,
    ) -> Result<ec::Client, ec::Error> {
        let mut o = ec::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(3))
            .with_tls(self.tls(identity));
        if let Some((u, p)) = user {
            o = o.with_user(u, p);
        }
        ec::Client::connect([self.endpoint.as_str()], Some(o)).await
    }

    /// Users and roles, then `auth enable` (as root).
    fn enable_auth(&self, root: &(PathBuf, PathBuf)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let id =
                (self.auth == EtcdAuth::ClientCert).then_some((root.0.as_path(), root.1.as_path()));
            let mut c = self.connect(id, None).await.expect("connect as root");
            c.user_add("root", ROOT_PASSWORD, None).await.expect("root");
            c.user_grant_role("root", "root").await.expect("root role");
            c.role_add("dfoodd").await.expect("role");
            c.role_grant_permission("dfoodd", ec::Permission::read_write("/dfood").with_prefix())
                .await
                .expect("grant /dfood");
            c.user_add("dfoodd", DFOODD_PASSWORD, None)
                .await
                .expect("user dfoodd");
            c.user_grant_role("dfoodd", "dfoodd")
                .await
                .expect("dfoodd role");
            c.user_add("intruder", "intruder etcd password", None)
                .await
                .expect("user intruder");
            c.auth_enable().await.expect("auth enable");
        });
    }

    /// The `[etcd]` section (and endpoints) of a dfoodd config for this
    /// etcd, with the given KEK file.
    pub fn dfoodd_config(&self, kek: &Path) -> String {
        let mut t = format!(
            "etcd_endpoints = [\"{}\"]\nkek_file = \"{}\"\n\n[etcd]\nca_file = \"{}\"\n",
            self.endpoint,
            kek.display(),
            self.ca.display()
        );
        match self.auth {
            EtcdAuth::ClientCert => t.push_str(&format!(
                "cert_file = \"{}\"\nkey_file = \"{}\"\n",
                self.client_cert.display(),
                self.client_key.display()
            )),
            EtcdAuth::Password => t.push_str(&format!(
                "username = \"dfoodd\"\npassword_file = \"{}\"\n",
                self.password_file.display()
            )),
        }
        t
    }

    /// A directory for files the test writes beside etcd's.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

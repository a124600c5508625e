//! Identity and secrets against real processes (issue 12): private files,
//! keys sealed at rest, revocation seen by every node within a second
//! (forged tokens after `rotate-key --revoke-old`, logout, password change,
//! disabled accounts), subscriptions that end when their caller no longer
//! may see them, throttled logins, and etcd over TLS with authentication.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cli::exit;
use daemon::auth::keys::{self, Claims, SigningKey};
use daemon::secrets::Kek;
use daemon::store::Store;
use protocol::client::{Client, ClientError};
use protocol::messages::auth::{LogoutRequest, TokenRequest, TokenResponse, WhoamiResponse, types};
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tests::secure_etcd::{EtcdAuth, SecureEtcd};
use tests::{Daemon, Etcd, User};

/// "Within a second", as the product promises for revocation.
const REVOKED_WITHIN: Duration = Duration::from_secs(1);

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn kek_at(path: &Path) -> Kek {
    Kek::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The answer code of a request, `None` for success.
async fn outcome<T: serde::de::DeserializeOwned>(
    c: &Client,
    ty: &str,
    token: Option<&str>,
    body: &Value,
) -> Option<(ErrorCode, String)> {
    match c.call::<_, T>(ty, token, body).await {
        Ok(_) => None,
        Err(ClientError::Server(e)) => Some((e.code, e.message)),
        Err(e) => panic!("{ty}: {e}"),
    }
}

async fn whoami(c: &Client, token: &str) -> Option<(ErrorCode, String)> {
    outcome::<WhoamiResponse>(c, types::WHOAMI, Some(token), &json!({})).await
}

/// Waits until `token` is refused by every client in `nodes`; panics if
/// that takes longer than [`REVOKED_WITHIN`] after `since`. Returns the
/// refusal messages.
async fn refused_everywhere(
    nodes: &[&Client],
    token: &str,
    since: Instant,
    what: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in nodes.iter().enumerate() {
        loop {
            match whoami(c, token).await {
                Some((ErrorCode::Unauthenticated, m)) => {
                    out.push(m);
                    break;
                }
                Some(other) => panic!("{what}: node {i}: {other:?}"),
                None => {
                    assert!(
                        since.elapsed() < REVOKED_WITHIN,
                        "{what}: node {i} still accepts the token {:?} after",
                        since.elapsed()
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
    out
}

/// A login through the protocol client: (access, refresh).
async fn login(c: &Client, name: &str, pw: &str) -> TokenResponse {
    c.call(types::TOKEN, None, &TokenRequest::password(name, pw))
        .await
        .unwrap_or_else(|e| panic!("login {name}: {e}"))
}

fn as_nobody(args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .args(args)
        .output()
        .expect("runuser")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn the_data_dir_is_private_and_the_store_holds_no_usable_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    // A data dir made with the umask's modes, as an operator might.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut d = Daemon::start("sec-files", &data, &[]);
    assert_eq!(mode(&data), 0o700, "tightened");
    assert!(
        d.proc.log_text().contains("made private"),
        "{}",
        d.proc.log_text()
    );
    for f in ["store.redb", "kek", "setup-token"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    let mut sam = User::new(&d, "sam");
    sam.ok(&["whoami"]);

    // Another local user reads nothing (the same runuser does read a
    // public file: the refusal is about the modes).
    if is_root() {
        let ok = as_nobody(&["cat", "/etc/passwd"]);
        assert!(ok.status.success(), "runuser works: {ok:?}");
        for args in [
            vec!["cat", data.join("store.redb").to_str().unwrap()],
            vec!["cat", data.join("kek").to_str().unwrap()],
            vec!["ls", data.to_str().unwrap()],
        ] {
            let out = as_nobody(&args);
            assert!(!out.status.success(), "nobody ran {args:?}: {out:?}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
                "{out:?}"
            );
        }
        // A data dir that is too open and belongs to someone else is
        // refused, not used.
        let foreign = dir.path().join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o777)).unwrap();
        let bin = tests::workspace_bin("dfoodd");
        let out = as_nobody(&[
            bin.to_str().unwrap(),
            "--node",
            "sec-nobody",
            "--listen",
            &format!("127.0.0.1:{}", tests::free_port()),
            "--data-dir",
            foreign.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("lets other users read it") && err.contains("belongs to uid 0"),
            "{err}"
        );
    }

    // Stop, and read the store file as someone who copied it would.
    d.proc.kill9();
    let kek = kek_at(&data.join("kek"));
    let raw = std::fs::read(data.join("store.redb")).unwrap();
    let (signing, ca_key) = runtime().block_on(async {
        let store = daemon::store::embedded::EmbeddedStore::open(&data.join("store.redb")).unwrap();
        let kid = store.get(keys::CURRENT_KID).await.unwrap().unwrap().value;
        let path = format!("{}{}", keys::KEYS_PREFIX, String::from_utf8(kid).unwrap());
        let rec = store.get(&path).await.unwrap().unwrap().value;
        let secret = keys::open_record(&kek, &path, &rec).unwrap();
        // Another KEK opens nothing.
        assert!(keys::open_record(&Kek::generate(), &path, &rec).is_err());
        let ca: Value =
            serde_json::from_slice(&store.get(daemon::tls::CA_KEY).await.unwrap().unwrap().value)
                .unwrap();
        assert!(ca.get("key_pem").is_none(), "{ca}");
        let sealed = ca["key_sealed"].as_str().unwrap();
        let key = kek.open(daemon::tls::CA_KEY, sealed, "ca").unwrap();
        (secret, String::from_utf8(key).unwrap())
    });
    assert_eq!(signing.len(), 32);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&signing);
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(&signing),
        "the raw signing key is in the store file"
    );
    assert!(
        !contains(b64.as_bytes()),
        "the signing key (base64) is in the store file"
    );
    let ca_body: String = ca_key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(ca_key.contains("PRIVATE KEY") && ca_body.len() > 40);
    for line in ca_key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !contains(line.as_bytes()),
            "a line of the CA key is in the store file"
        );
    }
    assert!(!contains(b"PRIVATE KEY"), "a PEM key is in the store file");

    // The same KEK: the node starts again and its users log in.
    d.restart();
    sam.ok(&["login", "--username", "sam"]);
    d.proc.kill9();
    // Another KEK: the node refuses to start, and says why.
    std::fs::write(
        data.join("kek"),
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode([9u8; 32])
        ),
    )
    .unwrap();
    let out = Command::new(tests::workspace_bin("dfoodd"))
        .env_remove("DFOODD_CONFIG")
        .args(["--node", "sec-files", "--listen"])
        .arg(format!("127.0.0.1:{}", tests::free_port()))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("another key-encryption key"), "{err}");
}

#[test]
fn a_cluster_needs_one_given_kek() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(tests::workspace_bin("dfoodd"))
        .env_remove("DFOODD_CONFIG")
        .args(["--node", "n1", "--etcd", "127.0.0.1:2379", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("kek_file") && err.contains("is required with etcd_endpoints"),
        "{err}"
    );
}

/// Forges an operator token with a key read out of etcd and opened with
/// the KEK (an attacker who has both): `lifetime` seconds long.
fn forge(secret: &[u8], kid: &str, user_id: &str, lifetime: u64) -> String {
    let now = now_secs();
    let claims = Claims {
        sub: user_id.into(),
        name: "ops".into(),
        op: true,
        svc: false,
        iat: now,
        exp: now + lifetime,
        jti: "forged".into(),
        sid: String::new(),
        tgen: 0,
    };
    keys::sign(&SigningKey::from_secret(kid, secret), &claims).unwrap()
}

#[test]
fn forged_tokens_die_on_every_node_within_a_second_of_rotate_key_revoke_old() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let nodes = tests::start_nodes(&etcd, dir.path(), 2);
    let mut op = tests::bootstrap_operator(&nodes);
    let op_id = op.run(["whoami", "-o", "json"]).json()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rt = runtime();
    rt.block_on(async {
        // What a copy of etcd's data holds.
        let mut e = etcd_client::Client::connect(etcd.endpoints(), None)
            .await
            .unwrap();
        let kid = e.get(keys::CURRENT_KID, None).await.unwrap().kvs()[0]
            .value()
            .to_vec();
        let kid = String::from_utf8(kid).unwrap();
        let path = format!("{}{kid}", keys::KEYS_PREFIX);
        let rec = e.get(path.as_str(), None).await.unwrap().kvs()[0]
            .value()
            .to_vec();
        let ca = e.get(daemon::tls::CA_KEY, None).await.unwrap().kvs()[0]
            .value()
            .to_vec();
        assert!(!String::from_utf8_lossy(&ca).contains("PRIVATE KEY"));
        // With the KEK as well, the key opens: forge with it.
        let secret = keys::open_record(&kek_at(&tests::test_kek()), &path, &rec).unwrap();
        let text = String::from_utf8_lossy(&rec).to_string();
        use base64::Engine;
        assert!(!text.contains(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&secret)));

        let (a, b) = (nodes[0].client().await, nodes[1].client().await);
        let fair = forge(&secret, &kid, &op_id, 900);
        let century = forge(&secret, &kid, &op_id, 100 * 365 * 86_400);
        for c in [&a, &b] {
            // The forgery works while the key stands (so what follows is
            // about revocation)...
            assert_eq!(
                outcome::<Value>(c, "cluster.status", Some(&fair), &json!({})).await,
                None
            );
            // ...but a token living longer than the TTL never does.
            let (code, m) = outcome::<Value>(c, "cluster.status", Some(&century), &json!({}))
                .await
                .unwrap();
            assert_eq!(code, ErrorCode::Unauthenticated);
            assert!(m.contains("lifetime exceeds"), "{m}");
        }
        let out = op.run(["admin", "rotate-key", "--revoke-old", "-o", "json"]);
        let since = Instant::now();
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.json()["revoked"], json!([kid]));
        let msgs = refused_everywhere(&[&a, &b], &fair, since, "forged after revoke").await;
        assert!(
            msgs.iter().all(|m| m.contains("unknown or revoked key")),
            "{msgs:?}"
        );
        // The key is gone from etcd; the operator logs in again.
        assert!(e.get(path.as_str(), None).await.unwrap().kvs().is_empty());
    });
    // The operator's saved access token was signed with a revoked key:
    // dfood renews it with the session's refresh token and goes on.
    let out = op.run(["cluster", "status", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn logout_password_change_and_disable_end_tokens_on_every_node_within_a_second() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let nodes = tests::start_nodes(&etcd, dir.path(), 2);
    let mut op = tests::bootstrap_operator(&nodes);
    let pw = "correct horse battery";
    let mut ula = User::new(&nodes[0], "ula");
    let rt = runtime();
    rt.block_on(async {
        let (a, b) = (nodes[0].client().await, nodes[1].client().await);

        // Logout on a: the session's access token is refused on a and b.
        let t = login(&a, "ula", pw).await;
        let other = login(&b, "ula", pw).await;
        assert_eq!(whoami(&b, &t.access_token).await, None);
        let _: Value = a
            .call(
                types::LOGOUT,
                None,
                &LogoutRequest {
                    refresh_token: t.refresh_token.clone().unwrap(),
                },
            )
            .await
            .unwrap();
        let since = Instant::now();
        let msgs = refused_everywhere(&[&a, &b], &t.access_token, since, "after logout").await;
        assert!(msgs.iter().all(|m| m.contains("logged out")), "{msgs:?}");
        assert_eq!(
            whoami(&a, &other.access_token).await,
            None,
            "other sessions live on"
        );

        // A password change through the CLI (on a) ends every session.
        let out = ula.cli.run(["passwd", "-o", "json"]).code;
        assert_eq!(
            out,
            exit::USAGE as i32,
            "no new password given: a usage error"
        );
        let mut cli = nodes[0]
            .dfood()
            .env("DFOOD_PASSWORD", pw)
            .env("DFOOD_NEW_PASSWORD", "tortoise umbrella kettle");
        assert_eq!(
            cli.run(["login", "--username", "ula", "-o", "json"]).code,
            0
        );
        let out = cli.run(["passwd", "-o", "json"]);
        let since = Instant::now();
        assert_eq!(out.code, 0, "{out:?}");
        let msgs = refused_everywhere(&[&a, &b], &other.access_token, since, "after passwd").await;
        assert!(
            msgs.iter().all(|m| m.contains("session has ended")),
            "{msgs:?}"
        );
        assert_eq!(
            cli.run(["whoami", "-o", "json"]).code,
            0,
            "passwd's own new session"
        );
        let (code, _) = outcome::<TokenResponse>(
            &b,
            types::TOKEN,
            None,
            &serde_json::to_value(TokenRequest::refresh(other.refresh_token.clone().unwrap()))
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(code, ErrorCode::Unauthenticated, "its refresh token too");
        let weak = nodes[0]
            .dfood()
            .env("DFOOD_PASSWORD", "tortoise umbrella kettle")
            .env("DFOOD_NEW_PASSWORD", "password123");
        let mut weak = weak;
        assert_eq!(
            weak.run(["login", "--username", "ula", "-o", "json"]).code,
            0
        );
        let out = weak.run(["passwd", "-o", "json"]);
        assert_eq!(out.code, exit::USAGE as i32, "{out:?}");
        assert!(out.stderr.contains("too easy to guess"), "{out:?}");

        // An operator disables the account: refused everywhere at once,
        // and no new login; enabled again, a login works.
        let t = login(&b, "ula", "tortoise umbrella kettle").await;
        let out = op.run(["admin", "disable", "ula", "-o", "json"]);
        let since = Instant::now();
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.json()["disabled"], true);
        let msgs = refused_everywhere(&[&a, &b], &t.access_token, since, "after disable").await;
        assert!(msgs.iter().all(|m| m.contains("disabled")), "{msgs:?}");
        let (code, m) = outcome::<TokenResponse>(
            &a,
            types::TOKEN,
            None,
            &serde_json::to_value(TokenRequest::password("ula", "tortoise umbrella kettle"))
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(code, ErrorCode::Unauthenticated);
        assert!(m.contains("disabled"), "{m}");
        assert_eq!(op.run(["admin", "enable", "ula", "-o", "json"]).code, 0);
        login(&a, "ula", "tortoise umbrella kettle").await;
    });

    // Service accounts: a new secret ends the old one's tokens; deleted,
    // nothing of it works.
    let sa = op
        .run(["service-account", "create", "printer", "-o", "json"])
        .json();
    let id = sa["client_id"].as_str().unwrap().to_string();
    let mut script = nodes[1]
        .dfood()
        .env("DFOOD_CLIENT_SECRET", sa["client_secret"].as_str().unwrap());
    assert_eq!(
        script.run(["login", "--client-id", &id, "-o", "json"]).code,
        0
    );
    let out = op.run(["service-account", "rotate-secret", "printer", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let fresh = out.json()["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        script.run(["whoami", "-o", "json"]).code,
        exit::UNAUTHENTICATED as i32
    );
    assert_eq!(
        script.run(["login", "--client-id", &id, "-o", "json"]).code,
        exit::UNAUTHENTICATED as i32
    );
    let mut script = nodes[1].dfood().env("DFOOD_CLIENT_SECRET", &fresh);
    assert_eq!(
        script.run(["login", "--client-id", &id, "-o", "json"]).code,
        0
    );
    let out = op.run(["service-account", "delete", "printer", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        script.run(["whoami", "-o", "json"]).code,
        exit::UNAUTHENTICATED as i32
    );
    assert_eq!(
        op.run(["service-account", "delete", "printer", "-o", "json"])
            .code,
        exit::NOT_FOUND as i32
    );
}

const MENU: &str = "sku,name,price,station\nbread,Bread,2.00,oven\n";

#[test]
fn a_subscription_ends_when_staff_is_removed_or_the_session_logs_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("sec-subs", dir.path(), &[]);
    let mut kim = User::new(&d, "kim");
    let mut boss = User::new(&d, "boss");
    tests::open_shop(&mut boss, "trattoria", MENU, &["kim"]);

    // Removed from the staff: the stream ends with `forbidden`, once.
    let mut events = kim.cli.spawn_stream(
        "events",
        &["events", "--restaurant", "trattoria", "-o", "json"],
    );
    events.wait_until("subscribed", Duration::from_secs(20), |p| {
        p.endpoint().is_some()
    });
    boss.ok(&["staff", "remove", "kim", "--restaurant", "trattoria"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(c) = events.proc.exit_code() {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "still streaming: {}",
            events.describe()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, exit::FORBIDDEN as i32, "{}", events.describe());
    let err = events.stderr_lines().join("\n");
    assert!(err.contains("subscription ended"), "{err}");
    let subscribed = events
        .notices()
        .iter()
        .filter(|n| n["notice"] != "lost")
        .count();
    assert_eq!(subscribed, 1, "no resubscription: {}", events.describe());

    // Staff again, then logged out: the stream ends (the saved login is
    // gone, so it cannot renew), it does not resubscribe forever.
    boss.ok(&[
        "staff",
        "add",
        "kim",
        "--restaurant",
        "trattoria",
        "--role",
        "kitchen",
    ]);
    let mut events = kim.cli.spawn_stream(
        "events",
        &["events", "--restaurant", "trattoria", "-o", "json"],
    );
    events.wait_until("subscribed", Duration::from_secs(20), |p| {
        p.endpoint().is_some()
    });
    kim.ok(&["logout"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(c) = events.proc.exit_code() {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "still streaming: {}",
            events.describe()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, exit::UNAUTHENTICATED as i32, "{}", events.describe());
}

#[test]
fn logins_are_throttled_and_bursts_are_turned_away_with_a_retry_hint() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("sec-throttle", dir.path(), &[]);
    let _vic = User::new(&d, "vic");
    let mut guesser = d.dfood().env("DFOOD_PASSWORD", "not the password");
    for i in 0..5 {
        let out = guesser.run(["login", "--username", "vic", "-o", "json"]);
        assert_eq!(out.code, exit::UNAUTHENTICATED as i32, "guess {i}: {out:?}");
    }
    // Now even the right password waits its turn; the answer says how long.
    let mut owner = d.dfood().env("DFOOD_PASSWORD", "correct horse battery");
    let out = owner.run(["login", "--username", "vic", "-o", "json"]);
    assert_eq!(out.code, exit::UNAVAILABLE as i32, "{out:?}");
    assert!(
        out.stderr
            .contains("too many failed logins for this account"),
        "{out:?}"
    );
    // The same for a name that does not exist: nothing tells them apart.
    for i in 0..5 {
        let out = guesser.run(["login", "--username", "nobody-at-all", "-o", "json"]);
        assert_eq!(out.code, exit::UNAUTHENTICATED as i32, "guess {i}: {out:?}");
    }
    let out = guesser.run(["login", "--username", "nobody-at-all", "-o", "json"]);
    assert_eq!(out.code, exit::UNAVAILABLE as i32, "{out:?}");
    assert!(
        out.stderr
            .contains("too many failed logins for this account"),
        "{out:?}"
    );
    // After the wait, the owner gets in (waiting for the condition, not a
    // fixed sleep: the delay is a second or two).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = owner.run(["login", "--username", "vic", "-o", "json"]);
        if out.code == 0 {
            break;
        }
        assert_eq!(out.code, exit::UNAVAILABLE as i32, "{out:?}");
        assert!(Instant::now() < deadline, "{out:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A burst of concurrent logins: the node answers at once, some with
    // `unavailable` and a retry hint (the queue to the hashing threads is
    // bounded), instead of queueing them all.
    let rt = runtime();
    rt.block_on(async {
        let c = std::sync::Arc::new(d.client().await);
        let mut jobs = Vec::new();
        for i in 0..60 {
            let c = c.clone();
            jobs.push(tokio::spawn(async move {
                c.call::<_, TokenResponse>(
                    types::TOKEN,
                    None,
                    &TokenRequest::password(format!("burst{i}"), "whatever it is"),
                )
                .await
            }));
        }
        let mut busy = 0;
        for j in jobs {
            match j.await.unwrap() {
                Err(ClientError::Server(e)) if e.code == ErrorCode::Unavailable => {
                    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
                    busy += 1;
                }
                Err(ClientError::Server(e)) => assert_eq!(e.code, ErrorCode::Unauthenticated),
                other => panic!("{other:?}"),
            }
        }
        assert!(busy > 0, "a burst of 60 was all queued");
        // The address has failed more than 20 times: its next attempt waits.
        let (code, m) = outcome::<TokenResponse>(
            &c,
            types::TOKEN,
            None,
            &serde_json::to_value(TokenRequest::password("someone", "whatever it is")).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(code, ErrorCode::Unavailable, "{m}");
        assert!(m.contains("from this address"), "{m}");
    });
}

#[test]
fn unknown_and_known_usernames_cost_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("sec-timing", dir.path(), &[]);
    let names: Vec<String> = (0..4).map(|i| format!("known{i}")).collect();
    for n in &names {
        User::new(&d, n);
    }
    runtime().block_on(async {
        let c = d.client().await;
        let attempt = |name: String| {
            let c = &c;
            async move {
                let t = Instant::now();
                let r = c
                    .call::<_, TokenResponse>(
                        types::TOKEN,
                        None,
                        &TokenRequest::password(name, "wrong password here"),
                    )
                    .await;
                match r {
                    Err(ClientError::Server(e)) => {
                        assert_eq!(e.message, "wrong username or password")
                    }
                    other => panic!("{other:?}"),
                }
                t.elapsed()
            }
        };
        // Warm-up (the dummy hash is made on the first unknown name).
        attempt("warm-up".into()).await;
        // Side by side, alternating; two failures per known name and
        // sixteen in all stay below every throttle.
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for round in 0..7 {
            known.push(attempt(names[round % 4].clone()).await);
            unknown.push(attempt(format!("ghost{round}")).await);
        }
        known.sort();
        unknown.sort();
        let (k, u) = (known[3].as_secs_f64(), unknown[3].as_secs_f64());
        let ratio = k / u;
        eprintln!("median known {k:.4}s, unknown {u:.4}s, ratio {ratio:.2}");
        assert!(
            (1.0 / 3.0..=3.0).contains(&ratio),
            "known {known:?} vs unknown {unknown:?}"
        );
    });
}

/// A dfoodd on the secured etcd (node `name`, data under `dir`).
fn secure_node(etcd: &SecureEtcd, dir: &Path, name: &str) -> Daemon {
    Daemon::start_with(
        name,
        &dir.join(name),
        &[],
        &etcd.dfoodd_config(&tests::test_kek()),
    )
}

#[test]
fn etcd_over_mutual_tls_with_rbac() {
    let etcd = SecureEtcd::start(EtcdAuth::ClientCert);
    let dir = tempfile::tempdir().unwrap();
    let nodes = vec![
        secure_node(&etcd, dir.path(), "mtls-a"),
        secure_node(&etcd, dir.path(), "mtls-b"),
    ];
    let mut ops = tests::bootstrap_operator(&nodes);
    let out = ops.run(["cluster", "status", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let a = &nodes[0];
    let mut u = User::new(a, "tess");
    u.ok(&["whoami"]);
    let status = u.cli.run(["status", "-o", "json"]);
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(status.json()["store"], "etcd");

    runtime().block_on(async {
        // With dfoodd's certificate, the data is there.
        let id = Some((etcd.client_cert.as_path(), etcd.client_key.as_path()));
        let mut c = etcd.connect(id, None).await.unwrap();
        let r = c
            .get(
                "/dfood/",
                Some(
                    etcd_client::GetOptions::new()
                        .with_prefix()
                        .with_count_only(),
                ),
            )
            .await
            .unwrap();
        assert!(r.count() > 0);
        // Without a client certificate: no connection, no data.
        let plain = etcd.connect(None, None).await;
        let read = match plain {
            Err(e) => Err(e),
            Ok(mut c) => c
                .get(
                    "/dfood/",
                    Some(etcd_client::GetOptions::new().with_prefix()),
                )
                .await
                .map(|_| ()),
        };
        assert!(read.is_err(), "read etcd without a client certificate");
        // A certificate of the same CA for a user with no role: refused.
        let intruder = Some((etcd.intruder_cert.as_path(), etcd.intruder_key.as_path()));
        let mut c = etcd.connect(intruder, None).await.unwrap();
        let e = c
            .get(
                "/dfood/",
                Some(etcd_client::GetOptions::new().with_prefix()),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("permission denied"), "{e}");
    });
    // Plain HTTP to the client port gets nothing either.
    let plain = etcd.endpoint.replace("https://", "");
    assert!(
        tests::http_get(&plain, "/v3/kv/range", Duration::from_secs(2))
            .map(|(code, _)| code != 200)
            .unwrap_or(true)
    );
}

#[test]
fn etcd_with_tls_and_password_authentication() {
    let etcd = SecureEtcd::start(EtcdAuth::Password);
    let dir = tempfile::tempdir().unwrap();
    let a = secure_node(&etcd, dir.path(), "pw-a");
    let mut u = User::new(&a, "tom");
    u.ok(&["whoami"]);
    runtime().block_on(async {
        // Anonymous (TLS, no user): refused.
        let mut c = etcd.connect(None, None).await.unwrap();
        let e = c
            .get(
                "/dfood/",
                Some(etcd_client::GetOptions::new().with_prefix()),
            )
            .await
            .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("user name is empty") || m.contains("permission denied"),
            "{m}"
        );
        // The right user reads.
        let mut c = etcd
            .connect(None, Some(("dfoodd", tests::secure_etcd::DFOODD_PASSWORD)))
            .await
            .unwrap();
        c.get(
            "/dfood/",
            Some(etcd_client::GetOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    });
    // A wrong password: the node does not start, and says why.
    let bad = etcd.dir().join("bad-password");
    std::fs::write(&bad, "not it\n").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = etcd
        .dfoodd_config(&tests::test_kek())
        .replace(etcd.password_file.to_str().unwrap(), bad.to_str().unwrap());
    let cfg_path = etcd.dir().join("bad.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let out = Command::new(tests::workspace_bin("dfoodd"))
        .env_remove("DFOODD_CONFIG")
        .args(["--node", "pw-bad", "--listen"])
        .arg(format!("127.0.0.1:{}", tests::free_port()))
        .arg("--data-dir")
        .arg(dir.path().join("bad"))
        .arg("--config")
        .arg(&cfg_path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("etcd refused the credentials"), "{err}");
}

#[test]
fn a_subscription_ends_when_its_token_expires_or_its_session_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(
        "sec-expiry",
        &dir.path().join("n"),
        &[],
        "[auth]\naccess_ttl_secs = 5\nrefresh_ttl_secs = 3600\n",
    );
    let mut boss = User::new(&d, "boss");
    tests::open_shop(&mut boss, "trattoria", MENU, &[]);
    runtime().block_on(async {
        let c = d.client().await;
        let sub = protocol::messages::SubscribeRequest {
            topic: "restaurant:trattoria".into(),
            from_revision: None,
        };
        // Expiry: the stream ends with `unauthenticated` when the token
        // runs out (5 s here), not before, and says so.
        let t = login(&c, "boss", "correct horse battery").await;
        let started = Instant::now();
        let mut s = c.subscribe(&sub, Some(&t.access_token)).await.unwrap();
        let end = tokio::time::timeout(Duration::from_secs(20), s.next())
            .await
            .expect("the stream ends");
        match end {
            Err(ClientError::Server(e)) => {
                assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
                assert!(e.message.contains("token expired"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_secs(1), "ended early");

        // Logout: the stream ends at once (it does not wait for expiry).
        let t = login(&c, "boss", "correct horse battery").await;
        let mut s = c.subscribe(&sub, Some(&t.access_token)).await.unwrap();
        let _: Value = c
            .call(
                types::LOGOUT,
                None,
                &LogoutRequest {
                    refresh_token: t.refresh_token.clone().unwrap(),
                },
            )
            .await
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(2), s.next()).await {
            Ok(Err(ClientError::Server(e))) => {
                assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
                assert!(e.message.contains("subscription ended"), "{e:?}");
                assert!(e.message.contains("logged out"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
    });
}

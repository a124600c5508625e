//! Observability: a real `dfoodd` with `metrics_listen` serves Prometheus
//! metrics on `GET /metrics`, and `cluster.stats` over QUIC reports the same
//! figures.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use protocol::client::ClientError;
use protocol::messages::SubscribeRequest;
use protocol::messages::cluster::NodeStats;
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tests::{Daemon, free_port, workspace_bin};

/// A plain HTTP/1.0 request; returns (status line, headers, body).
fn http(addr: SocketAddr, method: &str, path: &str) -> (String, String, String) {
    let mut s =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read the answer");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (
        status.to_string(),
        headers.to_ascii_lowercase(),
        body.to_string(),
    )
}

fn scrape(addr: SocketAddr) -> String {
    let (status, headers, body) = http(addr, "GET", "/metrics");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    assert!(
        headers.contains("content-type: application/openmetrics-text"),
        "{headers}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    body
}

/// Every sample of `name` whose labels include all of `labels`.
fn samples(text: &str, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest),
                None => (series, ""),
            };
            if n != name {
                return None;
            }
            labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
                .then(|| value.parse().ok())?
        })
        .collect()
}

/// The one sample of `name` with `labels`, failing with the whole text.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let v = samples(text, name, labels);
    assert_eq!(v.len(), 1, "{name}{labels:?}: {v:?} in\n{text}");
    v[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_and_cluster_stats_agree() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let d = tokio::task::block_in_place(|| {
        Daemon::start_with(
            "metrics-1",
            dir.path(),
            &[],
            &format!("metrics_listen = \"{addr}\"\n"),
        )
    });
    let c = d.client().await;
    for _ in 0..3 {
        let _: Value = c.call("health", None, &json!({})).await.unwrap();
    }
    // A failing request of a type nobody knows: counted as `other`.
    match c
        .call::<_, Value>("no.such.type", Some("x"), &json!({}))
        .await
    {
        Err(ClientError::Server(e)) => assert_eq!(e.code, ErrorCode::Unsupported),
        other => panic!("expected unsupported, got {other:?}"),
    }
    // A known type, refused: counted under its own name.
    match c.call::<_, Value>("cluster.stats", None, &json!({})).await {
        Err(ClientError::Server(e)) => assert_eq!(e.code, ErrorCode::Unauthenticated),
        other => panic!("expected unauthenticated, got {other:?}"),
    }
    let sub = c
        .subscribe(
            &SubscribeRequest {
                topic: "members".into(),
                from_revision: None,
            },
            None,
        )
        .await
        .unwrap();

    // A single embedded node elects itself within a few ticks, and renews
    // its lease every second.
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let t = tokio::task::block_in_place(|| scrape(addr));
        let renewed = samples(
            &t,
            "dfood_store_operation_seconds_count",
            &[("op", "lease_keep_alive"), ("result", "ok")],
        );
        if value(&t, "dfood_leader", &[]) == 1.0 && renewed.first().is_some_and(|n| *n > 0.0) {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no leader or lease renewal within 15 s:\n{t}\nlog:\n{}",
            d.proc.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let requests = |labels: &[(&str, &str)]| value(&text, "dfood_requests_total", labels);
    assert!(requests(&[("type", "health"), ("result", "ok")]) >= 3.0);
    assert_eq!(
        requests(&[("type", "other"), ("result", "unsupported")]),
        1.0
    );
    assert_eq!(
        requests(&[("type", "cluster.stats"), ("result", "unauthenticated")]),
        1.0
    );
    assert_eq!(requests(&[("type", "subscribe"), ("result", "ok")]), 1.0);
    assert!(
        samples(&text, "dfood_requests_total", &[("type", "no.such.type")]).is_empty(),
        "client-chosen types never become labels"
    );
    // Latency histogram per type.
    let health_count = value(
        &text,
        "dfood_request_duration_seconds_count",
        &[("type", "health")],
    );
    assert!(health_count >= 3.0);
    assert_eq!(
        value(
            &text,
            "dfood_request_duration_seconds_bucket",
            &[("type", "health"), ("le", "+Inf")]
        ),
        health_count
    );
    assert!(
        value(
            &text,
            "dfood_request_duration_seconds_sum",
            &[("type", "health")]
        ) > 0.0
    );
    // Open connections and subscriptions.
    assert!(value(&text, "dfood_connections", &[]) >= 1.0);
    assert_eq!(value(&text, "dfood_subscriptions", &[]), 1.0);
    // Store latency, per operation and result.
    for op in ["txn", "get", "lease_grant", "lease_keep_alive", "revision"] {
        assert!(
            value(
                &text,
                "dfood_store_operation_seconds_count",
                &[("op", op), ("result", "ok")]
            ) > 0.0,
            "{op}"
        );
    }
    assert!(
        !samples(
            &text,
            "dfood_store_operation_seconds_bucket",
            &[("op", "txn"), ("result", "ok"), ("le", "0.001")]
        )
        .is_empty()
    );
    assert_eq!(value(&text, "dfood_leader", &[]), 1.0);
    assert_eq!(value(&text, "dfood_lease_renew_failures_total", &[]), 0.0);
    assert_eq!(
        value(
            &text,
            "dfood_node_info",
            &[
                ("node", "metrics-1"),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        1.0
    );

    // `cluster.stats` over QUIC reads the same figures. Nothing else talks
    // to the node, so its request count is exactly the scrape's total.
    let setup = std::fs::read_to_string(d.data_dir.join("setup-token")).unwrap();
    let _: Value = c
        .call(
            "admin.bootstrap",
            None,
            &json!({"setup_token": setup.trim(), "username": "ops", "password": "operator password"}),
        )
        .await
        .unwrap();
    let t: Value = c
        .call(
            "auth.token",
            None,
            &json!({"grant_type": "password", "username": "ops", "password": "operator password"}),
        )
        .await
        .unwrap();
    let token = t["access_token"].as_str().unwrap().to_string();
    let before = tokio::task::block_in_place(|| scrape(addr));
    let total = |t: &str| samples(t, "dfood_requests_total", &[]).iter().sum::<f64>();
    let stats: NodeStats = c
        .call("cluster.stats", Some(&token), &json!({}))
        .await
        .unwrap();
    let after = tokio::task::block_in_place(|| scrape(addr));
    assert_eq!(stats.node, "metrics-1");
    assert!(stats.requests_total > 0);
    assert_eq!(stats.requests_total as f64, total(&before), "{stats:?}");
    assert_eq!(total(&after), total(&before) + 1.0, "the stats call itself");
    assert_eq!(
        value(
            &after,
            "dfood_requests_total",
            &[("type", "cluster.stats"), ("result", "ok")]
        ),
        1.0
    );
    assert_eq!(
        stats.request_errors_total, 0,
        "no internal/unavailable errors"
    );
    assert!(stats.leader);
    assert_eq!(stats.subscriptions, 1);
    assert!(stats.connections >= 1);
    assert!(stats.latency_p99_us >= stats.latency_p50_us && stats.latency_p50_us > 0);
    assert_eq!(stats.lease_renew_failures, 0);

    // The subscription closes: the gauge follows.
    drop(sub);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let t = tokio::task::block_in_place(|| scrape(addr));
        if value(&t, "dfood_subscriptions", &[]) == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "subscription still counted:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Other paths and methods are refused plainly.
    let (status, _, _) = tokio::task::block_in_place(|| http(addr, "GET", "/"));
    assert!(status.contains(" 404 "), "{status}");
    let (status, headers, _) = tokio::task::block_in_place(|| http(addr, "POST", "/metrics"));
    assert!(status.contains(" 405 "), "{status}");
    assert!(headers.contains("allow: get, head"), "{headers}");

    // Request logs carry the node, type and id of each request.
    let mut req = protocol::wire::Request::new("health", json!({})).unwrap();
    req.id = Some("req-metrics-42".into());
    c.request(&req).await.unwrap();
    let log = d.proc.log_text();
    assert!(
        log.lines().any(|l| l.contains("req-metrics-42")
            && l.contains("metrics-1")
            && l.contains("health")),
        "no request line with node, type and id in:\n{log}"
    );

    c.close().await;
    let mut d = d;
    assert_eq!(
        tokio::task::block_in_place(|| d.proc.terminate(Duration::from_secs(15))),
        Some(0),
        "dfoodd stops cleanly with the metrics endpoint running"
    );
}

#[test]
fn a_taken_metrics_port_fails_the_start_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = std::process::Command::new(workspace_bin("dfoodd"))
        .env_remove("DFOODD_CONFIG")
        .args(["--node", "m2", "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--data-dir")
        .arg(dir.path())
        .env("DFOODD_METRICS_LISTEN", addr.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&addr.to_string()) && stderr.contains("metrics endpoint"),
        "{stderr}"
    );

    let out = std::process::Command::new(workspace_bin("dfoodd"))
        .env_remove("DFOODD_CONFIG")
        .args(["--node", "m3", "--metrics-listen", "localhost"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("metrics_listen"), "{stderr}");
}

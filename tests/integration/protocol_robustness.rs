//! Hostile and broken clients get clean errors on their own stream or
//! connection; the daemon keeps serving everyone else.

use std::sync::Arc;
use std::time::Duration;

use protocol::client::Client;
use protocol::frame::MAX_FRAME_LEN;
use protocol::io::read_frame;
use protocol::messages::{HealthRequest, HealthResponse, types};
use protocol::wire::{ErrorCode, ServerFrame, decode_server_frame};
use tests::Daemon;

/// A raw QUIC connection that speaks dfood/1 but lets us send any bytes.
async fn raw_connection(d: &Daemon) -> (quinn::Endpoint, quinn::Connection) {
    let opts = d.connect_options();
    let cfg = protocol::tls::client_config(&opts.ca_pem).unwrap();
    let mut ep = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    ep.set_default_client_config(cfg);
    let conn = ep.connect(d.addr, "dfoodd").unwrap().await.unwrap();
    (ep, conn)
}

/// Sends `bytes` on a new stream (finishing it if asked) and returns the
/// server's first frame.
async fn exchange(conn: &quinn::Connection, bytes: &[u8], finish: bool) -> ServerFrame {
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(bytes).await.unwrap();
    if finish {
        send.finish().unwrap();
    }
    let payload = tokio::time::timeout(
        Duration::from_secs(15),
        read_frame(&mut recv, MAX_FRAME_LEN),
    )
    .await
    .expect("server answered")
    .expect("a frame")
    .expect("not end of stream");
    decode_server_frame(&payload).unwrap()
}

fn framed(payload: &[u8]) -> Vec<u8> {
    protocol::frame::encode(payload, MAX_FRAME_LEN).unwrap()
}

fn code_of(f: &ServerFrame) -> ErrorCode {
    match f {
        ServerFrame::Error { error, .. } => error.code,
        other => panic!("expected an error frame, got {other:?}"),
    }
}

async fn healthy(c: &Client) {
    let h: HealthResponse = c
        .call(types::HEALTH, None, &HealthRequest {})
        .await
        .expect("still serving");
    assert_eq!(h.protocol, "dfood/1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clean_errors_and_others_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("robust", dir.path(), &[]));
    let bystander = d.client().await;
    healthy(&bystander).await;
    let (_ep, conn) = raw_connection(&d).await;

    // Garbage inside a well-formed frame.
    let f = exchange(&conn, &framed(b"\x00\xffthis is not json{{"), true).await;
    assert_eq!(code_of(&f), ErrorCode::ProtocolError);
    healthy(&bystander).await;

    // Valid JSON, but not a request (no type).
    let f = exchange(&conn, &framed(br#"{"body":{}}"#), true).await;
    assert_eq!(code_of(&f), ErrorCode::ProtocolError);

    // An oversized length prefix: refused from the 4 header bytes alone.
    let f = exchange(&conn, &[0x7f, 0xff, 0xff, 0xff, b'{'], false).await;
    assert_eq!(code_of(&f), ErrorCode::TooLarge);
    if let ServerFrame::Error { error, .. } = &f {
        assert!(
            error.message.contains("exceeds the limit"),
            "{}",
            error.message
        );
    }
    // Just over the limit, too.
    let over = ((MAX_FRAME_LEN + 1) as u32).to_be_bytes();
    assert_eq!(
        code_of(&exchange(&conn, &over, false).await),
        ErrorCode::TooLarge
    );
    healthy(&bystander).await;

    // A zero-length frame, and a frame cut short by the end of the stream.
    assert_eq!(
        code_of(&exchange(&conn, &[0, 0, 0, 0], true).await),
        ErrorCode::ProtocolError
    );
    let mut cut = 100u32.to_be_bytes().to_vec();
    cut.extend_from_slice(b"{\"type\":");
    assert_eq!(
        code_of(&exchange(&conn, &cut, true).await),
        ErrorCode::ProtocolError
    );

    // An unknown message type.
    let f = exchange(&conn, &framed(br#"{"type":"teleport","body":{}}"#), true).await;
    assert_eq!(code_of(&f), ErrorCode::Unsupported);
    if let ServerFrame::Error { error, .. } = &f {
        assert!(error.message.contains("teleport"), "{}", error.message);
    }

    // Unknown fields are tolerated (rolling upgrades).
    let f = exchange(
        &conn,
        &framed(br#"{"type":"health","body":{"new_flag":true},"trace":"x"}"#),
        true,
    )
    .await;
    assert!(matches!(f, ServerFrame::Ok { .. }), "{f:?}");

    // A bad body for a known type.
    let f = exchange(
        &conn,
        &framed(br#"{"type":"subscribe","body":{"topic":42}}"#),
        true,
    )
    .await;
    assert_eq!(code_of(&f), ErrorCode::BadRequest);
    let f = exchange(
        &conn,
        &framed(br#"{"type":"subscribe","body":{"topic":"weather"}}"#),
        true,
    )
    .await;
    assert_eq!(code_of(&f), ErrorCode::BadRequest);

    // The abused connection itself still works, and so does everyone else.
    let f = exchange(&conn, &framed(br#"{"type":"health"}"#), true).await;
    assert!(matches!(f, ServerFrame::Ok { .. }), "{f:?}");
    healthy(&bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_alpn_fails_the_handshake_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("alpn", dir.path(), &[]));
    let bystander = d.client().await;
    let opts = d.connect_options();
    let mut roots = rustls::RootCertStore::empty();
    for c in protocol::tls::certs_from_pem(&opts.ca_pem, "ca").unwrap() {
        roots.add(c).unwrap();
    }
    for alpn in [b"h3".to_vec(), b"dfood/2".to_vec()] {
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        tls.alpn_protocols = vec![alpn.clone()];
        let qc = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
        let mut ep = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        ep.set_default_client_config(quinn::ClientConfig::new(Arc::new(qc)));
        let res = tokio::time::timeout(
            Duration::from_secs(10),
            ep.connect(d.addr, "dfoodd").unwrap(),
        )
        .await
        .expect("handshake ends promptly");
        let err = res.expect_err("a wrong ALPN must not connect").to_string();
        assert!(
            err.contains("no_application_protocol") || err.contains("120"),
            "{}: {err}",
            String::from_utf8_lossy(&alpn)
        );
        healthy(&bystander).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_hostile_connections_do_not_starve_a_good_client() {
    let dir = tempfile::tempdir().unwrap();
    let d = tokio::task::block_in_place(|| Daemon::start("flood", dir.path(), &[]));
    let good = d.client().await;
    let mut conns = Vec::new();
    for _ in 0..8 {
        conns.push(raw_connection(&d).await);
    }
    // Bounded: 8 connections x 20 bad streams each, in parallel with a good
    // client's requests.
    let attack = futures::future::join_all(conns.iter().map(|(_, c)| async move {
        for i in 0..20u32 {
            let junk = if i % 2 == 0 {
                framed(b"]]]")
            } else {
                vec![0xff; 4]
            };
            let f = exchange(c, &junk, i % 2 == 0).await;
            assert!(matches!(f, ServerFrame::Error { .. }));
        }
    }));
    let serve = async {
        for _ in 0..50 {
            healthy(&good).await;
        }
    };
    tokio::join!(attack, serve);
    // A stream that sends nothing at all is dropped after the read timeout
    // without hurting anyone (not waited for here: it takes 10 s).
    let (_s, _r) = conns[0].1.open_bi().await.unwrap();
    healthy(&good).await;
}

//! Payment gateways: the sandbox (durable in the embedded store) and the
//! HTTP gateway against `tests::gateway::GatewayServer` with injected faults.
//! No daemon process is needed; everything stays on 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use daemon::config::{ApiKey, GatewayKind, PaymentsConfig};
use daemon::payments::http::{HttpConfig, HttpGateway};
use daemon::payments::sandbox::SandboxGateway;
use daemon::payments::{AuthorizeRequest, Gateway, GatewayError, GatewayStatus};
use daemon::store::Store;
use daemon::store::embedded::EmbeddedStore;
use tests::gateway::{Fault, GatewayServer};

/// Client timeout in tests: stalls are longer than this.
const TIMEOUT: Duration = Duration::from_millis(500);
const STALL: Duration = Duration::from_millis(1200);

fn req(method: &str, key: &str, amount: i64) -> AuthorizeRequest {
    AuthorizeRequest {
        amount,
        currency: "eur".into(),
        payment_method: method.into(),
        idempotency_key: key.into(),
        description: format!("test {key}"),
    }
}

fn http(server: &GatewayServer) -> HttpGateway {
    HttpGateway::new(HttpConfig {
        base_url: server.url(),
        api_key: server.api_key().into(),
        timeout: TIMEOUT,
        max_retries: 2,
        retry_backoff: Duration::from_millis(20),
    })
    .expect("http gateway")
}

fn declined_code(e: &GatewayError) -> &str {
    match e {
        GatewayError::Declined { code, .. } => code,
        other => panic!("expected a decline, got {other:?}"),
    }
}

// ---------------------------------------------------------------- sandbox

#[tokio::test]
async fn sandbox_test_methods() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    let g = daemon::payments::from_config(&PaymentsConfig::default(), store).unwrap();
    assert_eq!(g.name(), "sandbox");

    let visa = g
        .authorize(&req("pm_card_visa", "m-visa", 1000))
        .await
        .unwrap();
    assert_eq!(
        (visa.status, visa.last4.as_deref(), visa.amount),
        (GatewayStatus::RequiresCapture, Some("4242"), 1000)
    );
    let mc = g
        .authorize(&req("pm_card_mastercard", "m-mc", 1000))
        .await
        .unwrap();
    assert_eq!(mc.last4.as_deref(), Some("4444"));
    assert_ne!(mc.id, visa.id);

    let e = g
        .authorize(&req("pm_card_declined", "m-dec", 1000))
        .await
        .unwrap_err();
    assert_eq!(declined_code(&e), "card_declined");
    // A decline is remembered under its key.
    assert_eq!(
        g.authorize(&req("pm_card_declined", "m-dec", 1000))
            .await
            .unwrap_err(),
        e
    );
    assert_eq!(g.find_by_idempotency_key("m-dec").await.unwrap(), None);
    let e = g
        .authorize(&req("pm_card_insufficient_funds", "m-nsf", 1000))
        .await
        .unwrap_err();
    assert_eq!(declined_code(&e), "insufficient_funds");

    // Timeout before anything happened: nothing to find, and retries time out too.
    for _ in 0..2 {
        let e = g
            .authorize(&req("pm_card_timeout", "m-to", 1000))
            .await
            .unwrap_err();
        assert!(matches!(e, GatewayError::InDoubt(_)), "{e}");
    }
    assert_eq!(g.find_by_idempotency_key("m-to").await.unwrap(), None);

    // Timeout after the hold: the payment exists; find it, or retry with the key.
    let e = g
        .authorize(&req("pm_card_timeout_after_auth", "m-toa", 1000))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::InDoubt(_)), "{e}");
    let found = g.find_by_idempotency_key("m-toa").await.unwrap().unwrap();
    assert_eq!(found.status, GatewayStatus::RequiresCapture);
    let again = g
        .authorize(&req("pm_card_timeout_after_auth", "m-toa", 1000))
        .await
        .unwrap();
    assert_eq!(again.id, found.id);

    let e = g
        .authorize(&req("pm_card_amex_gold", "m-unk", 1000))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, GatewayError::Rejected(m) if m.contains("unknown payment method")),
        "{e}"
    );
    let e = g
        .authorize(&req("4242 4242 4242 4242", "m-pan", 1000))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, GatewayError::Rejected(_)) && !e.to_string().contains("4242"),
        "{e}"
    );
}

#[tokio::test]
async fn sandbox_capture_void_refund_rules() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    let g = SandboxGateway::new(store);

    let p = g.authorize(&req("pm_card_visa", "a1", 2000)).await.unwrap();
    assert_eq!(
        g.authorize(&req("pm_card_visa", "a1", 2000)).await.unwrap(),
        p
    );
    // Same key, other amount: refused, never a second hold.
    assert!(matches!(
        g.authorize(&req("pm_card_visa", "a1", 2500)).await,
        Err(GatewayError::Rejected(_))
    ));
    let c = g.capture(&p.id, "c1").await.unwrap();
    assert_eq!(
        (c.status, c.amount_captured),
        (GatewayStatus::Succeeded, 2000)
    );
    assert_eq!(g.capture(&p.id, "c1").await.unwrap(), c, "same key: replay");
    assert!(
        matches!(g.capture(&p.id, "c2").await, Err(GatewayError::Rejected(m)) if m.contains("already captured")),
        "another key: refused, never a second capture"
    );
    assert!(matches!(
        g.void(&p.id, "v1").await,
        Err(GatewayError::Rejected(_))
    ));
    assert_eq!(
        g.refund(&p.id, 500, "r1").await.unwrap().amount_refunded,
        500
    );
    assert_eq!(
        g.refund(&p.id, 500, "r1").await.unwrap().amount_refunded,
        500,
        "same key: one refund"
    );
    assert!(matches!(
        g.refund(&p.id, 1501, "r2").await,
        Err(GatewayError::Rejected(_))
    ));
    assert_eq!(
        g.refund(&p.id, 1500, "r3").await.unwrap().amount_refunded,
        2000
    );
    assert!(matches!(
        g.refund(&p.id, 1, "r4").await,
        Err(GatewayError::Rejected(_))
    ));

    let q = g.authorize(&req("pm_card_visa", "a2", 700)).await.unwrap();
    assert!(matches!(
        g.refund(&q.id, 100, "r5").await,
        Err(GatewayError::Rejected(_))
    ));
    let v = g.void(&q.id, "v2").await.unwrap();
    assert_eq!(v.status, GatewayStatus::Canceled);
    assert_eq!(g.void(&q.id, "v2").await.unwrap(), v);
    assert!(
        matches!(g.capture(&q.id, "c3").await, Err(GatewayError::Rejected(m)) if m.contains("canceled"))
    );
    assert!(matches!(
        g.capture("pi_nope", "c4").await,
        Err(GatewayError::Rejected(_))
    ));
    // A key belongs to one request.
    assert!(matches!(
        g.capture(&q.id, "c1").await,
        Err(GatewayError::Rejected(_))
    ));
    assert_eq!(g.payments().await.unwrap().len(), 2);
}

#[tokio::test]
async fn sandbox_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (id, captured) = {
        let store = EmbeddedStore::open(&path).unwrap();
        let g = SandboxGateway::new(store.clone());
        let p = g
            .authorize(&req("pm_card_visa", "durable", 1500))
            .await
            .unwrap();
        let c = g.capture(&p.id, "durable-cap").await.unwrap();
        g.authorize(&req("pm_card_timeout_after_auth", "durable-2", 300))
            .await
            .unwrap_err();
        store.close().await;
        (p.id, c)
    };
    let store = EmbeddedStore::open(&path).unwrap();
    let g = SandboxGateway::new(store);
    assert_eq!(
        g.find_by_idempotency_key("durable").await.unwrap(),
        Some(captured.clone())
    );
    assert_eq!(
        g.authorize(&req("pm_card_visa", "durable", 1500))
            .await
            .unwrap()
            .id,
        id,
        "a retried authorisation after a restart finds the same payment"
    );
    assert_eq!(g.capture(&id, "durable-cap").await.unwrap(), captured);
    assert!(
        g.find_by_idempotency_key("durable-2")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(g.payments().await.unwrap().len(), 2);
}

#[tokio::test]
async fn sandbox_one_payment_per_key_across_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let g = SandboxGateway::new(store.clone());
        tasks.push(tokio::spawn(async move {
            let p = g
                .authorize(&req("pm_card_visa", "race", 900))
                .await
                .unwrap();
            // Everyone then captures and refunds with shared keys too.
            let c = g.capture(&p.id, "race-cap").await.unwrap();
            let r = g.refund(&p.id, 100, &format!("race-ref-{}", i % 2)).await;
            (p.id, c, r.unwrap().amount_refunded)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (id, c, refunded) = t.await.unwrap();
        assert_eq!(c.amount_captured, 900);
        assert!(refunded == 100 || refunded == 200, "{refunded}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let g = SandboxGateway::new(store);
    let all = g.payments().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].amount_refunded, 200, "two refund keys, two refunds");
}

// ------------------------------------------------------------------- http

#[tokio::test]
async fn http_happy_path() {
    let server = GatewayServer::start().await;
    let g = http(&server);
    assert_eq!(g.name(), "http");

    let p = g
        .authorize(&req("pm_card_visa", "h-a1", 1250))
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.amount, p.last4.as_deref(), p.currency.as_str()),
        (GatewayStatus::RequiresCapture, 1250, Some("4242"), "eur")
    );
    let c = g.capture(&p.id, "h-c1").await.unwrap();
    assert_eq!(
        (c.status, c.amount_captured),
        (GatewayStatus::Succeeded, 1250)
    );
    let r = g.refund(&p.id, 250, "h-r1").await.unwrap();
    assert_eq!((r.id.as_str(), r.amount_refunded), (p.id.as_str(), 250));
    let r = g.refund(&p.id, 1000, "h-r2").await.unwrap();
    assert_eq!(r.amount_refunded, 1250);

    let q = g
        .authorize(&req("pm_card_mastercard", "h-a2", 990))
        .await
        .unwrap();
    assert_eq!(q.last4.as_deref(), Some("4444"));
    let v = g.void(&q.id, "h-v1").await.unwrap();
    assert_eq!(v.status, GatewayStatus::Canceled);
    assert_eq!(
        g.find_by_idempotency_key("h-a1")
            .await
            .unwrap()
            .unwrap()
            .amount_refunded,
        1250,
        "find returns the current state"
    );
    assert_eq!(g.find_by_idempotency_key("h-none").await.unwrap(), None);

    let reqs = server.requests();
    let create = &reqs[0];
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    assert_eq!(create.idempotency_key.as_deref(), Some("h-a1"));
    for part in [
        "amount=1250",
        "currency=eur",
        "payment_method=pm_card_visa",
        "capture_method=manual",
        "confirm=true",
    ] {
        assert!(create.body.contains(part), "{part} in {}", create.body);
    }
    assert!(
        reqs.iter()
            .filter(|r| r.method == "POST")
            .all(|r| r.idempotency_key.is_some()),
        "every POST carries an Idempotency-Key"
    );
    assert_eq!(server.intents().len(), 2);
    assert_eq!(server.refunds().len(), 2);
}

#[tokio::test]
async fn http_errors_are_mapped() {
    let server = GatewayServer::start().await;
    let g = http(&server);
    let e = g
        .authorize(&req("pm_card_declined", "e-1", 100))
        .await
        .unwrap_err();
    assert_eq!(declined_code(&e), "card_declined");
    let e = g
        .authorize(&req("pm_card_insufficient_funds", "e-2", 100))
        .await
        .unwrap_err();
    assert_eq!(declined_code(&e), "insufficient_funds");
    assert!(matches!(
        g.authorize(&req("pm_card_unknown", "e-3", 100)).await,
        Err(GatewayError::Rejected(_))
    ));

    let p = g.authorize(&req("pm_card_visa", "e-4", 100)).await.unwrap();
    g.void(&p.id, "e-5").await.unwrap();
    let e = g.capture(&p.id, "e-6").await.unwrap_err();
    assert!(
        matches!(&e, GatewayError::Rejected(m) if m.contains("payment_intent_unexpected_state")),
        "{e}"
    );
    let p = g.authorize(&req("pm_card_visa", "e-7", 100)).await.unwrap();
    g.capture(&p.id, "e-8").await.unwrap();
    assert!(matches!(
        g.capture(&p.id, "e-9").await,
        Err(GatewayError::Rejected(_))
    ));
    assert!(matches!(
        g.refund(&p.id, 101, "e-10").await,
        Err(GatewayError::Rejected(_))
    ));
    // The same key for another request.
    assert!(matches!(
        g.authorize(&req("pm_card_visa", "e-7", 200)).await,
        Err(GatewayError::Rejected(m)) if m.contains("idempotency")
    ));
    assert!(matches!(
        g.capture("pi_missing", "e-11").await,
        Err(GatewayError::Rejected(_))
    ));

    // A wrong API key is our mistake: final.
    let bad = HttpGateway::new(HttpConfig {
        api_key: "sk_wrong".into(),
        ..g.config().clone()
    })
    .unwrap();
    assert!(matches!(
        bad.authorize(&req("pm_card_visa", "e-12", 100)).await,
        Err(GatewayError::Rejected(m)) if m.contains("401")
    ));

    // Rate limited on every try: nothing happened.
    server.inject(Fault::Status(3, 429));
    let e = g
        .authorize(&req("pm_card_visa", "e-13", 100))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::Unavailable(_)), "{e}");
    // 503 on every try: the outcome is unknown.
    server.inject(Fault::Status(3, 503));
    let e = g.capture(&p.id, "e-14").await.unwrap_err();
    assert!(matches!(e, GatewayError::InDoubt(_)), "{e}");
    assert!(
        server
            .intents()
            .iter()
            .all(|i| i.metadata.get("idempotency_key").map(String::as_str) != Some("e-13"))
    );
}

#[tokio::test]
async fn http_retries_500s_with_the_same_key() {
    let server = GatewayServer::start().await;
    let g = http(&server);
    server.inject(Fault::Fail500(2));
    let p = g.authorize(&req("pm_card_visa", "r-1", 500)).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "two failures, then success");
    assert!(
        reqs.iter()
            .all(|r| r.idempotency_key.as_deref() == Some("r-1")),
        "every try reuses the key: {reqs:?}"
    );
    assert_eq!(server.intents().len(), 1);
    assert_eq!(server.intents()[0].id, p.id);

    // Too many failures: in doubt; nothing was created, find says so.
    server.inject(Fault::Fail500(3));
    let e = g
        .authorize(&req("pm_card_visa", "r-2", 500))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::InDoubt(_)), "{e}");
    assert_eq!(g.find_by_idempotency_key("r-2").await.unwrap(), None);
    assert_eq!(server.intents().len(), 1);
}

#[tokio::test]
async fn http_stall_beyond_timeout_is_in_doubt_and_found() {
    let server = GatewayServer::start().await;
    let g = http(&server);
    // Every try is processed but answered too late: so late (20 s) that
    // a client waiting for one answer cannot pass for one bounded by its
    // timeouts (3 x 500 ms and backoff: ~1.5 s), even with a bound that
    // is generous for a busy machine.
    server.inject(Fault::Stall(3, Duration::from_secs(20)));
    let t = Instant::now();
    let e = g
        .authorize(&req("pm_card_visa", "s-1", 4200))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::InDoubt(_)), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "bounded by the client's timeouts, not the stalls: {:?}",
        t.elapsed()
    );
    let created = server.intents();
    assert_eq!(created.len(), 1, "three tries, one authorisation");
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 3);
    assert!(
        posts
            .iter()
            .all(|r| r.idempotency_key.as_deref() == Some("s-1"))
    );

    // Resolution: look it up, never charge again.
    let found = g.find_by_idempotency_key("s-1").await.unwrap().unwrap();
    assert_eq!(found.id, created[0].id);
    assert_eq!(found.status, GatewayStatus::RequiresCapture);
    // Or retry with the same key: the stored answer, still one intent.
    assert_eq!(
        g.authorize(&req("pm_card_visa", "s-1", 4200))
            .await
            .unwrap()
            .id,
        found.id
    );
    assert_eq!(server.intents().len(), 1);

    // One stall only: the retry gets the stored answer.
    server.inject(Fault::Stall(1, STALL));
    let p = g.capture(&found.id, "s-2").await.unwrap();
    assert_eq!(p.status, GatewayStatus::Succeeded);
    assert!(server.replays() >= 2);
}

#[tokio::test]
async fn http_connection_refused_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let g = HttpGateway::from_config(&PaymentsConfig {
        gateway: GatewayKind::Http,
        http_base_url: format!("http://127.0.0.1:{port}"),
        http_api_key: Some(ApiKey::Inline("sk_test".into())),
        timeout: TIMEOUT,
        max_retries: 2,
        retry_backoff: Duration::from_millis(20),
    })
    .unwrap();
    let e = g
        .authorize(&req("pm_card_visa", "u-1", 100))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::Unavailable(_)), "{e}");
}

#[tokio::test]
async fn http_duplicates_and_lost_answers_are_deduplicated() {
    let server = GatewayServer::start().await;
    let g = http(&server);

    // Delivered twice: the second run is a replay.
    server.inject(Fault::AnswerTwice(1));
    let p = g.authorize(&req("pm_card_visa", "d-1", 800)).await.unwrap();
    assert_eq!(server.intents().len(), 1);
    assert_eq!(server.replays(), 1);

    // Processed, then the answer is lost (500, dropped connection): the
    // retry is answered from the idempotency store.
    server.inject(Fault::FailAfterProcessing(1));
    let q = g.authorize(&req("pm_card_visa", "d-2", 800)).await.unwrap();
    server.inject(Fault::DropAfterProcessing(1));
    let r = g.authorize(&req("pm_card_visa", "d-3", 800)).await.unwrap();
    server.inject(Fault::DropBeforeProcessing(1));
    let s = g.authorize(&req("pm_card_visa", "d-4", 800)).await.unwrap();
    let ids: Vec<String> = server.intents().into_iter().map(|i| i.id).collect();
    assert_eq!(ids, [p.id.clone(), q.id, r.id, s.id]);
    assert_eq!(server.replays(), 3);
    for key in ["d-2", "d-3", "d-4"] {
        let tries = server
            .requests()
            .iter()
            .filter(|r| r.idempotency_key.as_deref() == Some(key))
            .count();
        assert_eq!(tries, 2, "{key}: one lost answer, one retry");
    }

    // Concurrent duplicates (several nodes retrying at once): one intent.
    let g = Arc::new(g);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            g.authorize(&req("pm_card_visa", "d-5", 800))
                .await
                .unwrap()
                .id
        }));
    }
    let mut same = Vec::new();
    for t in tasks {
        same.push(t.await.unwrap());
    }
    same.dedup();
    assert_eq!(same.len(), 1);
    assert_eq!(server.intents().len(), 5);

    // Captured once even when the capture's answer is lost.
    server.inject(Fault::DropAfterProcessing(1));
    let c = g.capture(&p.id, "d-cap").await.unwrap();
    assert_eq!(c.amount_captured, 800);
    server.inject(Fault::FailAfterProcessing(1));
    let rf = g.refund(&p.id, 300, "d-ref").await.unwrap();
    assert_eq!(rf.amount_refunded, 300, "one refund, not two");
    assert_eq!(server.refunds().len(), 1);
}

#[tokio::test]
async fn http_gateway_from_config_reads_the_key_file() {
    let server = GatewayServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, format!("{}\n", server.api_key())).unwrap();
    let store: Arc<dyn Store> = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    let cfg = PaymentsConfig {
        gateway: GatewayKind::Http,
        http_base_url: server.url(),
        http_api_key: Some(ApiKey::File(key_file)),
        timeout: TIMEOUT,
        max_retries: 1,
        retry_backoff: Duration::from_millis(20),
    };
    let g = daemon::payments::from_config(&cfg, store).unwrap();
    assert_eq!(g.name(), "http");
    g.authorize(&req("pm_card_visa", "f-1", 100)).await.unwrap();
    assert_eq!(server.intents().len(), 1);
}

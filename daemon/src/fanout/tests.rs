use super::*;
use crate::store::testing::{Call, Hooked, Hooks};

const P: &str = "/t/";

fn convert(_prefix: &str, b: &WatchBatch) -> Vec<Event> {
    b.events
        .iter()
        .map(|e| Event {
            kind: "put".into(),
            subject: e.kv.key.clone(),
            data: serde_json::Value::Null,
        })
        .collect()
}

struct World {
    store: Arc<dyn Store>,
    fanout: Arc<Fanout>,
    _dir: tempfile::TempDir,
}

fn world(capacity: usize, idle: Duration) -> World {
    let (dir, store) = crate::store::testing::temp_store();
    World {
        store,
        fanout: Arc::new(Fanout::new(capacity, idle)),
        _dir: dir,
    }
}

impl World {
    async fn put(&self, key: &str) -> Revision {
        crate::store::put(self.store.as_ref(), key, "v")
            .await
            .unwrap()
    }

    async fn join(&self, start: Revision) -> Source {
        self.fanout
            .join(&self.store, P, start, convert)
            .await
            .unwrap()
    }
}

/// The next `n` batches' revisions (each batch's frame decoded back).
async fn take(src: &mut Source, from: Revision, n: usize) -> Vec<(Revision, String)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let b = tokio::time::timeout(Duration::from_secs(5), src.next(from))
            .await
            .expect("a batch in time")
            .expect("source open")
            .expect("no error");
        let payload = &b.frame[protocol::frame::HEADER_LEN..];
        let f: ServerFrame = serde_json::from_slice(payload).unwrap();
        let ServerFrame::Event { revision, events } = f else {
            panic!("not an event frame: {f:?}")
        };
        assert_eq!(revision, crate::store::wire_revision(b.revision));
        out.push((b.revision, events[0].subject.clone()));
    }
    out
}

#[tokio::test]
async fn subscribers_share_one_watch_and_each_sees_every_batch_once_from_its_start() {
    let w = world(CAPACITY, IDLE_CHECK);
    let start = w.store.revision().await.unwrap() + 1;
    let mut a = w.join(start).await;
    assert!(matches!(a, Source::Hub { .. }));
    let r1 = w.put("/t/1").await;
    let r2 = w.put("/t/2").await;
    w.put("/elsewhere").await;
    let r3 = w.put("/t/3").await;
    assert_eq!(
        take(&mut a, start, 3).await,
        vec![
            (r1, "/t/1".into()),
            (r2, "/t/2".into()),
            (r3, "/t/3".into())
        ]
    );
    // A late joiner from r2: the hub replays r2 and r3, then goes live.
    let mut b = w.join(r2).await;
    assert!(matches!(b, Source::Hub { .. }), "served by the hub");
    let r4 = w.put("/t/4").await;
    assert_eq!(
        take(&mut b, r2, 3).await,
        vec![
            (r2, "/t/2".into()),
            (r3, "/t/3".into()),
            (r4, "/t/4".into())
        ]
    );
    assert_eq!(take(&mut a, start, 1).await, vec![(r4, "/t/4".into())]);
    assert_eq!(w.fanout.hubs().await, 1);
}

#[tokio::test]
async fn a_start_older_than_the_hub_gets_a_watch_of_its_own() {
    let w = world(CAPACITY, IDLE_CHECK);
    let r0 = w.put("/t/0").await;
    let mut a = w.join(r0 + 1).await;
    let r1 = w.put("/t/1").await;
    assert_eq!(take(&mut a, r0 + 1, 1).await, vec![(r1, "/t/1".into())]);
    let mut old = w.join(r0).await;
    assert!(matches!(old, Source::Private { .. }));
    assert_eq!(
        take(&mut old, r0, 2).await,
        vec![(r0, "/t/0".into()), (r1, "/t/1".into())]
    );
}

#[tokio::test]
async fn a_start_older_than_the_ring_gets_a_watch_of_its_own() {
    let w = world(2, IDLE_CHECK);
    let start = w.store.revision().await.unwrap() + 1;
    let mut a = w.join(start).await;
    let mut revs = Vec::new();
    for i in 0..4 {
        revs.push(w.put(&format!("/t/{i}")).await);
        take(&mut a, start, 1).await; // keeps up (the ring holds 2)
    }
    // The ring holds the last two: from revs[2] the hub serves...
    assert!(matches!(w.join(revs[2]).await, Source::Hub { .. }));
    // ...from revs[1] it cannot.
    let mut late = w.join(revs[1]).await;
    assert!(matches!(late, Source::Private { .. }));
    let got: Vec<Revision> = take(&mut late, revs[1], 3)
        .await
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(got, revs[1..].to_vec());
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_to_resume() {
    let w = world(4, IDLE_CHECK);
    let start = w.store.revision().await.unwrap() + 1;
    let mut slow = w.join(start).await;
    let mut fast = w.join(start).await;
    for i in 0..10 {
        w.put(&format!("/t/{i}")).await;
        take(&mut fast, start, 1).await;
    }
    match slow.next(start).await {
        Some(Err((code, m))) => {
            assert_eq!(code, ErrorCode::Unavailable);
            assert!(m.contains("fell"), "{m}");
        }
        other => panic!("expected a lag error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hub_nobody_listens_to_stops_and_a_new_one_starts() {
    let w = world(CAPACITY, Duration::from_millis(50));
    let start = w.store.revision().await.unwrap() + 1;
    let a = w.join(start).await;
    assert_eq!(w.fanout.hubs().await, 1);
    drop(a);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while w.fanout.hubs().await != 0 {
        assert!(tokio::time::Instant::now() < deadline, "idle hub kept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = w.put("/t/x").await;
    let mut b = w.join(start).await;
    assert!(matches!(b, Source::Hub { .. }));
    assert_eq!(take(&mut b, start, 1).await, vec![(r, "/t/x".into())]);
}

/// A store whose first `breaks` watches break (an `unavailable` error, as
/// an etcd leader change does) after delivering one batch.
struct Breaking {
    breaks: std::sync::atomic::AtomicUsize,
    watches: std::sync::atomic::AtomicUsize,
    /// After the first watch, every new one fails (a node cut off).
    cut_off: bool,
}

#[async_trait::async_trait]
impl Hooks for Breaking {
    async fn before(&self, call: Call) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if call == Call::Watch && self.watches.fetch_add(1, SeqCst) > 0 && self.cut_off {
            return Err(StoreError::Unavailable("cannot connect to etcd".into()));
        }
        Ok(())
    }

    fn watched(&self, inner: WatchStream) -> WatchStream {
        use std::sync::atomic::Ordering::SeqCst;
        let remaining = self.breaks.load(SeqCst);
        if remaining == 0 {
            return inner;
        }
        self.breaks.store(remaining - 1, SeqCst);
        let broken = futures::stream::once(async {
            Err(StoreError::Unavailable("etcd has no leader".into()))
        });
        Box::pin(inner.take(1).chain(broken))
    }
}

#[tokio::test]
async fn a_broken_store_watch_resumes_after_its_last_revision_unseen_by_subscribers() {
    use std::sync::atomic::Ordering::SeqCst;
    let (_dir, inner) = crate::store::testing::temp_store();
    let breaking = Arc::new(Hooked {
        inner: inner.clone(),
        hooks: Breaking {
            breaks: 3.into(),
            watches: 0.into(),
            cut_off: false,
        },
    });
    let store: Arc<dyn Store> = breaking.clone();
    let fanout = Arc::new(Fanout::new(CAPACITY, IDLE_CHECK));
    let start = store.revision().await.unwrap() + 1;
    // One subscriber through the hub, one with a watch of its own.
    let mut hub = fanout.join(&store, P, start, convert).await.unwrap();
    let mut own = Source::Private {
        prefix: P.into(),
        follow: Box::new(Follow::start(&store, P, start).await.unwrap()),
        convert,
    };
    let mut revs = Vec::new();
    for i in 0..5 {
        revs.push(
            crate::store::put(inner.as_ref(), &format!("/t/{i}"), "v")
                .await
                .unwrap(),
        );
    }
    let want: Vec<(Revision, String)> = revs
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, format!("/t/{i}")))
        .collect();
    assert_eq!(
        take(&mut hub, start, 5).await,
        want,
        "hub: each once, in order"
    );
    assert_eq!(
        take(&mut own, start, 5).await,
        want,
        "private: each once, in order"
    );
    assert!(
        breaking.hooks.watches.load(SeqCst) >= 5,
        "the watches broke and were made again"
    );
}

#[tokio::test]
async fn a_compacted_resume_point_ends_the_subscription_with_compacted() {
    let w = world(CAPACITY, IDLE_CHECK);
    let r1 = w.put("/t/1").await;
    w.put("/t/2").await;
    let r3 = w.put("/t/3").await;
    w.store.compact(r3).await.unwrap();
    match w.fanout.join(&w.store, P, r1, convert).await {
        Err(StoreError::Compacted { .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a start before the compaction point must be refused"),
    }
}

#[tokio::test]
async fn a_node_cut_off_its_store_tells_its_subscribers_to_move() {
    let (_dir, inner) = crate::store::testing::temp_store();
    let store: Arc<dyn Store> = Arc::new(Hooked {
        inner: inner.clone(),
        hooks: Breaking {
            breaks: 1.into(),
            watches: 0.into(),
            cut_off: true,
        },
    });
    let start = store.revision().await.unwrap() + 1;
    let follow = Follow::start(&store, P, start)
        .await
        .unwrap()
        .giving_up_after(Duration::from_millis(300));
    let mut own = Source::Private {
        prefix: P.into(),
        follow: Box::new(follow),
        convert,
    };
    let r = crate::store::put(inner.as_ref(), "/t/0", "v")
        .await
        .unwrap();
    assert_eq!(
        take(&mut own, start, 1).await,
        vec![(r, "/t/0".to_string())]
    );
    let end = tokio::time::timeout(Duration::from_secs(10), own.next(start))
        .await
        .expect("gives up in time")
        .expect("an item");
    match end {
        Err((code, message)) => {
            assert_eq!(code, ErrorCode::Unavailable);
            assert!(message.contains("another node"), "{message}");
        }
        Ok(b) => panic!("unexpected batch at {}", b.revision),
    }
}

/// A convert whose events carry `n` bytes of data each (`/t/big...`
/// keys get 1.1 MiB: more than a frame).
fn sized(_prefix: &str, b: &WatchBatch) -> Vec<Event> {
    b.events
        .iter()
        .map(|e| {
            let n = if e.kv.key.starts_with("/t/big") {
                MAX_FRAME_LEN + 100_000
            } else {
                10_000
            };
            Event {
                kind: "put".into(),
                subject: e.kv.key.clone(),
                data: serde_json::Value::String("x".repeat(n)),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_ring_is_bounded_in_bytes_and_a_subscriber_behind_it_is_told() {
    let (_dir, store) = crate::store::testing::temp_store();
    // Room for 1024 batches, but only ~3 of these 10 kB ones in bytes.
    let fanout = Arc::new(Fanout::new(CAPACITY, IDLE_CHECK).with_ring_bytes(35_000));
    let start = store.revision().await.unwrap() + 1;
    let mut slow = fanout.join(&store, P, start, sized).await.unwrap();
    let mut fast = fanout.join(&store, P, start, sized).await.unwrap();
    for i in 0..8 {
        crate::store::put(store.as_ref(), &format!("/t/{i}"), "v")
            .await
            .unwrap();
        let b = tokio::time::timeout(Duration::from_secs(5), fast.next(start))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(!b.ends);
    }
    {
        let hubs = fanout.hubs.lock().await;
        let ring = hubs[P].ring.lock().unwrap();
        assert!(ring.bytes <= 35_000, "{} bytes kept", ring.bytes);
        assert_eq!(
            ring.bytes,
            ring.recent.iter().map(|b| b.frame.len()).sum::<usize>()
        );
        assert!(ring.recent.len() < 8);
    }
    match slow.next(start).await {
        Some(Err((code, m))) => {
            assert_eq!(code, ErrorCode::Unavailable);
            assert!(m.contains("fell"), "{m}");
        }
        other => panic!("expected a lag error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_event_too_large_for_a_frame_is_never_skipped_silently() {
    let (_dir, store) = crate::store::testing::temp_store();
    let fanout = Arc::new(Fanout::default());
    let start = store.revision().await.unwrap() + 1;
    let mut a = fanout.join(&store, P, start, sized).await.unwrap();
    crate::store::put(store.as_ref(), "/t/small", "v")
        .await
        .unwrap();
    let big = crate::store::put(store.as_ref(), "/t/big", "v")
        .await
        .unwrap();
    crate::store::put(store.as_ref(), "/t/after", "v")
        .await
        .unwrap();
    let first = a.next(start).await.unwrap().unwrap();
    assert!(!first.ends);
    let second = a.next(start).await.unwrap().unwrap();
    assert!(second.ends, "the oversized revision ends the subscription");
    assert_eq!(second.revision, big);
    let f: ServerFrame =
        serde_json::from_slice(&second.frame[protocol::frame::HEADER_LEN..]).unwrap();
    match f {
        ServerFrame::Error { error, .. } => {
            assert_eq!(error.code, ErrorCode::TooLarge);
            assert!(
                error.message.contains(&format!("revision {big}")),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
    // A late joiner from before it is told too (from the ring)...
    let mut late = fanout.join(&store, P, start, sized).await.unwrap();
    assert!(matches!(late, Source::Hub { .. }));
    assert!(!late.next(start).await.unwrap().unwrap().ends);
    assert!(late.next(start).await.unwrap().unwrap().ends);
    // ...and so is the first subscriber of a new hub, from the store.
    let fresh = Arc::new(Fanout::default());
    let mut private = fresh.join(&store, P, big, sized).await.unwrap();
    let b = private.next(big).await.unwrap().unwrap();
    assert!(b.ends && b.revision == big);
}

use super::*;
use crate::store::embedded::EmbeddedStore;

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
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = EmbeddedStore::open(&dir.path().join("s.redb")).unwrap();
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
        assert_eq!(revision as i64, b.revision);
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

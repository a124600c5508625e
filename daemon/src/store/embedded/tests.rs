use super::*;
use crate::store::{Compare, CompareOp, CompareTarget};
use futures::StreamExt;
use tempfile::TempDir;

fn open_tmp() -> (TempDir, Arc<EmbeddedStore>) {
    let dir = TempDir::new().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("data").join("store.redb")).unwrap();
    (dir, store)
}

async fn put(s: &EmbeddedStore, key: &str, value: &str) -> Revision {
    crate::store::put(s, key, value).await.unwrap()
}

#[tokio::test]
async fn commit_stats_count_fsyncs_and_the_writes_they_carried() {
    let (_dir, s) = open_tmp();
    assert_eq!(s.commit_stats(), CommitStats::default());
    // One writer at a time: one commit each.
    for i in 0..3 {
        put(&s, &format!("/k/{i}"), "v").await;
    }
    assert_eq!(
        s.commit_stats(),
        CommitStats {
            commits: 3,
            requests: 3
        }
    );
    // A transaction whose compare fails writes nothing: no commit.
    let r = s
        .txn(
            Txn::new()
                .when([Compare::absent("/k/0")])
                .and_then([TxnOp::put("/k/0", "w")]),
        )
        .await
        .unwrap();
    assert!(!r.succeeded);
    assert_eq!(s.commit_stats().commits, 3);
    // Many writers at once: every write counted, never more commits
    // than writes (fewer when they were grouped).
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let s = s.clone();
        tasks.spawn(async move { put(&s, &format!("/c/{i}"), "v").await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let after = s.commit_stats();
    assert_eq!(after.requests, 3 + 64, "{after:?}");
    assert!(
        after.commits > 3 && after.commits <= after.requests,
        "{after:?}"
    );
}

async fn next_batch(w: &mut WatchStream) -> WatchBatch {
    tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .expect("watch timed out")
        .expect("watch ended")
        .expect("watch failed")
}

async fn assert_quiet(w: &mut WatchStream) {
    let r = tokio::time::timeout(Duration::from_millis(100), w.next()).await;
    assert!(r.is_err(), "unexpected watch item: {r:?}");
}

fn summary(b: &WatchBatch) -> (Revision, Vec<(EventKind, String, String)>) {
    (
        b.revision,
        b.events
            .iter()
            .map(|e| {
                (
                    e.kind,
                    e.kv.key.clone(),
                    String::from_utf8(e.kv.value.clone()).unwrap(),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn txn_compares_and_revision_rules() {
    let (_dir, s) = open_tmp();
    assert_eq!(s.kind(), "embedded");
    assert_eq!(s.revision().await.unwrap(), 1);

    // Create-if-absent succeeds once, at the next revision.
    let create = Txn::new()
        .when([Compare::absent("a")])
        .and_then([TxnOp::put("a", "1"), TxnOp::get("a")])
        .or_else([TxnOp::get("a")]);
    let r = s.txn(create.clone()).await.unwrap();
    assert!(r.succeeded);
    assert_eq!(r.revision, 2);
    let a = r.gets[0].clone().unwrap();
    assert_eq!(
        (
            a.value.as_slice(),
            a.create_revision,
            a.mod_revision,
            a.version,
            a.lease
        ),
        (&b"1"[..], 2, 2, 1, 0)
    );

    // Second time the compare fails: failure branch, no new revision.
    let r = s.txn(create).await.unwrap();
    assert!(!r.succeeded);
    assert_eq!(r.revision, 2);
    assert_eq!(r.gets, vec![Some(a.clone())]);

    // Nothing changes: empty txn, gets only, delete of a missing key.
    for txn in [
        Txn::new(),
        Txn::new().and_then([TxnOp::get("a"), TxnOp::get("nope")]),
        Txn::new().and_then([TxnOp::delete("nope")]),
    ] {
        let r = s.txn(txn).await.unwrap();
        assert!(r.succeeded);
        assert_eq!(r.revision, 2);
    }
    assert_eq!(s.revision().await.unwrap(), 2);

    // Optimistic lock on mod_revision.
    let cas = |rev| {
        Txn::new()
            .when([Compare::mod_revision("a", rev)])
            .and_then([TxnOp::put("a", "2")])
    };
    assert!(!s.txn(cas(1)).await.unwrap().succeeded);
    let r = s.txn(cas(2)).await.unwrap();
    assert!(r.succeeded);
    assert_eq!(r.revision, 3);

    // Value compares; a missing key never equals a value.
    assert!(
        s.txn(Txn::new().when([Compare::value("a", "2")]))
            .await
            .unwrap()
            .succeeded
    );
    assert!(
        !s.txn(Txn::new().when([Compare::value("a", "1")]))
            .await
            .unwrap()
            .succeeded
    );
    assert!(
        !s.txn(Txn::new().when([Compare::value("nope", "")]))
            .await
            .unwrap()
            .succeeded
    );
    let missing = |op, target| Compare::new("nope", op, target);
    assert!(
        s.txn(Txn::new().when([
            missing(CompareOp::Equal, CompareTarget::Version(0)),
            missing(CompareOp::Equal, CompareTarget::ModRevision(0)),
            missing(CompareOp::Less, CompareTarget::CreateRevision(1)),
            Compare::new("a", CompareOp::Greater, CompareTarget::Version(1)),
            Compare::new(
                "a",
                CompareOp::NotEqual,
                CompareTarget::Value(b"x".to_vec())
            ),
        ]))
        .await
        .unwrap()
        .succeeded
    );

    // Several changes share one revision; gets see earlier ops.
    let r = s
        .txn(Txn::new().and_then([
            TxnOp::put("b", "1"),
            TxnOp::put("c", "1"),
            TxnOp::delete("a"),
            TxnOp::get("a"),
            TxnOp::get("b"),
        ]))
        .await
        .unwrap();
    assert_eq!(r.revision, 4);
    assert_eq!(r.gets[0], None);
    assert_eq!(r.gets[1].as_ref().unwrap().mod_revision, 4);
    assert_eq!(s.get("c").await.unwrap().unwrap().mod_revision, 4);
    assert_eq!(s.get("a").await.unwrap(), None);

    // Duplicate keys in the executed branch: rejected, nothing applied.
    let err = s
        .txn(Txn::new().and_then([TxnOp::put("d", "1"), TxnOp::delete("d")]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("duplicate key")),
        "{err:?}"
    );
    assert_eq!(s.get("d").await.unwrap(), None);
    assert_eq!(s.revision().await.unwrap(), 4);
    // ... but only in the branch that runs.
    let r = s
        .txn(
            Txn::new()
                .when([Compare::value("nope", "x")])
                .and_then([TxnOp::put("d", "1"), TxnOp::put("d", "2")])
                .or_else([TxnOp::put("d", "3")]),
        )
        .await
        .unwrap();
    assert!(!r.succeeded);
    assert_eq!(r.revision, 5);

    // Range: sorted, prefix only, with the read revision.
    put(&s, "b/2", "x").await;
    put(&s, "b/1", "x").await;
    put(&s, "bz", "x").await;
    let r = s.range("b/").await.unwrap();
    assert_eq!(r.revision, 8);
    assert_eq!(
        r.kvs.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(),
        ["b/1", "b/2"]
    );
    assert_eq!(s.range("").await.unwrap().kvs.len(), 6);
}

#[tokio::test]
async fn versions_and_create_revision() {
    let (_dir, s) = open_tmp();
    assert_eq!(put(&s, "k", "1").await, 2);
    put(&s, "other", "x").await;
    assert_eq!(put(&s, "k", "2").await, 4);
    assert_eq!(put(&s, "k", "3").await, 5);
    let kv = s.get("k").await.unwrap().unwrap();
    assert_eq!(
        (
            kv.value.as_slice(),
            kv.create_revision,
            kv.mod_revision,
            kv.version
        ),
        (&b"3"[..], 2, 5, 3)
    );

    let r = s
        .txn(Txn::new().and_then([TxnOp::delete("k")]))
        .await
        .unwrap();
    assert_eq!(r.revision, 6);
    assert_eq!(s.get("k").await.unwrap(), None);

    assert_eq!(put(&s, "k", "again").await, 7);
    let kv = s.get("k").await.unwrap().unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (7, 7, 1));
}

#[tokio::test]
async fn leases_grant_keep_alive_revoke() {
    let (_dir, s) = open_tmp();
    let id = s.lease_grant(Duration::from_secs(10)).await.unwrap();
    assert!(id > 0);
    let other = s.lease_grant(Duration::from_millis(1)).await.unwrap();
    assert!(other > id);
    assert_eq!(
        s.lease_time_to_live(other).await.unwrap(),
        Duration::from_secs(1)
    );
    let ttl = s.lease_time_to_live(id).await.unwrap();
    assert!(
        ttl <= Duration::from_secs(10) && ttl >= Duration::from_secs(9),
        "{ttl:?}"
    );
    assert_eq!(
        s.lease_keep_alive(id).await.unwrap(),
        Duration::from_secs(10)
    );

    // Unknown lease: the whole txn fails.
    let rev = s.revision().await.unwrap();
    let err = s
        .txn(Txn::new().and_then([
            TxnOp::put("free", "x"),
            TxnOp::put_with_lease("k", "x", 424242),
        ]))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::LeaseNotFound(424242));
    assert_eq!(s.get("free").await.unwrap(), None);
    assert_eq!(s.revision().await.unwrap(), rev);

    let rev = s
        .txn(Txn::new().and_then([
            TxnOp::put_with_lease("l/a", "1", id),
            TxnOp::put_with_lease("l/b", "1", id),
            TxnOp::put_with_lease("l/moved", "1", id),
            TxnOp::put("l/free", "1"),
        ]))
        .await
        .unwrap()
        .revision;
    assert_eq!(s.get("l/a").await.unwrap().unwrap().lease, id);
    // Re-attaching a key to another lease detaches it from the first.
    let lease3 = s.lease_grant(Duration::from_secs(30)).await.unwrap();
    let moved_rev = s
        .txn(Txn::new().and_then([TxnOp::put_with_lease("l/moved", "2", lease3)]))
        .await
        .unwrap()
        .revision;
    assert_eq!(moved_rev, rev + 1);

    let mut w = s.watch("l/", 0).await.unwrap();
    s.lease_revoke(id).await.unwrap();
    let b = next_batch(&mut w).await;
    assert_eq!(b.revision, moved_rev + 1);
    assert_eq!(
        summary(&b).1,
        [
            (EventKind::Delete, "l/a".into(), String::new()),
            (EventKind::Delete, "l/b".into(), String::new()),
        ]
    );
    assert!(b.events.iter().all(|e| e.kv.mod_revision == b.revision));
    assert_eq!(s.revision().await.unwrap(), moved_rev + 1);
    assert_eq!(s.get("l/a").await.unwrap(), None);
    assert!(s.get("l/moved").await.unwrap().is_some());
    assert!(s.get("l/free").await.unwrap().is_some());

    assert_eq!(
        s.lease_revoke(id).await.unwrap_err(),
        StoreError::LeaseNotFound(id)
    );
    assert_eq!(
        s.lease_keep_alive(id).await.unwrap_err(),
        StoreError::LeaseNotFound(id)
    );
    assert_eq!(
        s.lease_time_to_live(id).await.unwrap_err(),
        StoreError::LeaseNotFound(id)
    );
    assert_eq!(
        s.lease_keep_alive(-5).await.unwrap_err(),
        StoreError::LeaseNotFound(-5)
    );

    // Revoking a lease without keys changes no key: same revision.
    let empty = s.lease_grant(Duration::from_secs(5)).await.unwrap();
    s.lease_revoke(empty).await.unwrap();
    assert_eq!(s.revision().await.unwrap(), moved_rev + 1);
    assert_quiet(&mut w).await;
}

#[tokio::test]
async fn lease_expires() {
    let (_dir, s) = open_tmp();
    let id = s.lease_grant(Duration::from_secs(1)).await.unwrap();
    s.txn(Txn::new().and_then([TxnOp::put_with_lease("e/k", "v", id)]))
        .await
        .unwrap();
    let mut w = s.watch("e/", 0).await.unwrap();
    let start = std::time::Instant::now();
    let b = next_batch(&mut w).await;
    assert_eq!(b.events[0].kind, EventKind::Delete);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(s.get("e/k").await.unwrap(), None);
    assert_eq!(
        s.lease_time_to_live(id).await.unwrap_err(),
        StoreError::LeaseNotFound(id)
    );
    assert_eq!(
        s.lease_keep_alive(id).await.unwrap_err(),
        StoreError::LeaseNotFound(id)
    );
    let err = s
        .txn(Txn::new().and_then([TxnOp::put_with_lease("e/k", "v", id)]))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::LeaseNotFound(id));
}

#[tokio::test]
async fn watch_history_then_live() {
    let (_dir, s) = open_tmp();
    put(&s, "w/a", "1").await; // 2
    put(&s, "x/other", "1").await; // 3
    s.txn(Txn::new().and_then([
        TxnOp::put("w/b", "1"),
        TxnOp::put("w/a", "2"),
        TxnOp::put("x/y", "1"),
    ]))
    .await
    .unwrap(); // 4
    s.txn(Txn::new().and_then([TxnOp::delete("w/a")]))
        .await
        .unwrap(); // 5

    let mut w = s.watch("w/", 3).await.unwrap();
    let mut from_start = s.watch("w/", 1).await.unwrap();
    let mut live = s.watch("w/", 0).await.unwrap();

    let b = next_batch(&mut w).await;
    assert_eq!(
        summary(&b),
        (
            4,
            vec![
                (EventKind::Put, "w/b".into(), "1".into()),
                (EventKind::Put, "w/a".into(), "2".into()),
            ]
        )
    );
    let a = &b.events[1].kv;
    assert_eq!((a.create_revision, a.mod_revision, a.version), (2, 4, 2));
    let b = next_batch(&mut w).await;
    assert_eq!(
        summary(&b),
        (5, vec![(EventKind::Delete, "w/a".into(), String::new())])
    );
    assert_eq!(b.events[0].kv.mod_revision, 5);
    assert_eq!(next_batch(&mut from_start).await.revision, 2);
    assert_eq!(next_batch(&mut from_start).await.revision, 4);
    assert_eq!(next_batch(&mut from_start).await.revision, 5);
    assert_quiet(&mut live).await;
    assert_quiet(&mut w).await;

    put(&s, "x/z", "1").await; // 6, not watched
    put(&s, "w/c", "1").await; // 7
    for stream in [&mut w, &mut from_start, &mut live] {
        let b = next_batch(stream).await;
        assert_eq!(
            summary(&b),
            (7, vec![(EventKind::Put, "w/c".into(), "1".into())])
        );
    }

    // A slow watcher catches up from the log, in order.
    let mut slow = s.watch("w/", 0).await.unwrap();
    for i in 0..20 {
        put(&s, &format!("w/n{i:02}"), "v").await;
    }
    for i in 0..20 {
        let b = next_batch(&mut slow).await;
        assert_eq!(b.revision, 8 + i);
        assert_eq!(b.events[0].kv.key, format!("w/n{i:02}"));
    }

    // A watch from the future waits for it.
    let mut future = s.watch("w/", 30).await.unwrap();
    put(&s, "w/28", "v").await; // 28
    put(&s, "w/29", "v").await; // 29
    put(&s, "w/30", "v").await; // 30
    assert_eq!(next_batch(&mut future).await.revision, 30);
    drop(future);

    assert!(matches!(
        s.watch("w/", -1).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn compaction() {
    let (_dir, s) = open_tmp();
    for i in 0..5 {
        put(&s, "c/k", &i.to_string()).await; // 2..=6
    }
    let mut lagging = s.watch("c/", 2).await.unwrap();
    assert!(matches!(s.compact(7).await, Err(StoreError::Invalid(_))));
    s.compact(4).await.unwrap();
    s.compact(3).await.unwrap(); // older: no-op
    assert_eq!(s.revision().await.unwrap(), 6);

    let err = s.watch("c/", 3).await.err().unwrap();
    assert_eq!(
        err,
        StoreError::Compacted {
            requested: 3,
            compact_revision: 4
        }
    );
    let mut w = s.watch("c/", 4).await.unwrap();
    assert_eq!(
        summary(&next_batch(&mut w).await),
        (4, vec![(EventKind::Put, "c/k".into(), "2".into())])
    );
    assert_eq!(next_batch(&mut w).await.revision, 5);
    assert!(s.watch("c/", 0).await.is_ok());

    // A watcher created before the compaction but not yet past it fails.
    let item = tokio::time::timeout(Duration::from_secs(5), lagging.next())
        .await
        .unwrap();
    assert_eq!(
        item,
        Some(Err(StoreError::Compacted {
            requested: 2,
            compact_revision: 4
        }))
    );
    assert_eq!(lagging.next().await, None);

    // Compacting at the current revision is allowed.
    s.compact(6).await.unwrap();
    assert!(s.watch("c/", 5).await.is_err());
    assert!(s.watch("c/", 6).await.is_ok());
    assert_eq!(s.get("c/k").await.unwrap().unwrap().value, b"4");
}

#[tokio::test]
async fn reopen_keeps_everything() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("store.redb");
    let (lease, rev) = {
        let s = EmbeddedStore::open(&path).unwrap();
        put(&s, "r/a", "1").await;
        put(&s, "r/b", "1").await;
        put(&s, "r/a", "2").await;
        let lease = s.lease_grant(Duration::from_secs(20)).await.unwrap();
        let rev = s
            .txn(Txn::new().and_then([TxnOp::put_with_lease("r/leased", "1", lease)]))
            .await
            .unwrap()
            .revision;
        s.compact(3).await.unwrap();
        (lease, rev)
    };
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.revision().await.unwrap(), rev);
    let a = s.get("r/a").await.unwrap().unwrap();
    assert_eq!(
        (a.value.as_slice(), a.create_revision, a.version),
        (&b"2"[..], 2, 2)
    );
    assert_eq!(s.get("r/leased").await.unwrap().unwrap().lease, lease);
    let ttl = s.lease_time_to_live(lease).await.unwrap();
    assert!(ttl >= Duration::from_secs(19), "{ttl:?}");
    assert!(s.lease_grant(Duration::from_secs(1)).await.unwrap() > lease);
    assert!(matches!(
        s.watch("r/", 2).await,
        Err(StoreError::Compacted { .. })
    ));
    let mut w = s.watch("r/", 3).await.unwrap();
    assert_eq!(next_batch(&mut w).await.revision, 3);
    assert_eq!(put(&s, "r/c", "1").await, rev + 1);

    // Revoking after the restart still finds the lease's keys.
    s.lease_revoke(lease).await.unwrap();
    assert_eq!(s.get("r/leased").await.unwrap(), None);

    // The file cannot be opened twice.
    assert!(matches!(
        EmbeddedStore::open(&path),
        Err(StoreError::Internal(_))
    ));
    s.close().await;
    drop(s);
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.revision().await.unwrap(), rev + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cas_increments_are_serialisable() {
    let (_dir, s) = open_tmp();
    const TASKS: usize = 50;
    const EACH: usize = 4;
    let start = s.revision().await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            while done < EACH {
                let cur = s.get("counter").await.unwrap();
                let (n, rev) = cur.map_or((0, 0), |kv| {
                    (
                        String::from_utf8(kv.value)
                            .unwrap()
                            .parse::<usize>()
                            .unwrap(),
                        kv.mod_revision,
                    )
                });
                let r = s
                    .txn(
                        Txn::new()
                            .when([Compare::new(
                                "counter",
                                CompareOp::Equal,
                                CompareTarget::ModRevision(rev),
                            )])
                            .and_then([TxnOp::put("counter", (n + 1).to_string())]),
                    )
                    .await
                    .unwrap();
                if r.succeeded {
                    done += 1;
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let kv = s.get("counter").await.unwrap().unwrap();
    assert_eq!(kv.value, (TASKS * EACH).to_string().into_bytes());
    let n = i64::try_from(TASKS * EACH).unwrap();
    assert_eq!(kv.version, n);
    assert_eq!(s.revision().await.unwrap(), start + n);
}

#[tokio::test]
async fn corrupt_record_is_internal_error() {
    let (_dir, s) = open_tmp();
    put(&s, "ok", "1").await;
    {
        let wtx = s.db.begin_write().unwrap();
        {
            let mut kv = wtx.open_table(KV).unwrap();
            kv.insert("bad", &[9u8, 1, 2][..]).unwrap();
            kv.insert("short", &[FORMAT_TAG, 1, 2][..]).unwrap();
        }
        wtx.commit().unwrap();
    }
    assert!(matches!(s.get("bad").await, Err(StoreError::Internal(_))));
    assert!(matches!(s.get("short").await, Err(StoreError::Internal(_))));
    assert!(matches!(s.range("").await, Err(StoreError::Internal(_))));
    assert!(matches!(
        s.txn(Txn::new().and_then([TxnOp::put("bad", "x")])).await,
        Err(StoreError::Internal(_))
    ));
    // The store keeps working for everything else.
    assert_eq!(put(&s, "ok", "2").await, 3);
    assert!(decode_events(&[FORMAT_TAG, 5, 0, 0, 0]).is_err());
    assert!(decode_lease(&[]).is_err());
}

#[tokio::test]
async fn close_ends_writes_and_watches() {
    let (_dir, s) = open_tmp();
    let mut w = s.watch("", 0).await.unwrap();
    put(&s, "k", "v").await;
    s.close().await;
    s.close().await;
    assert_eq!(next_batch(&mut w).await.revision, 2);
    let end = tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap();
    assert!(
        matches!(end, Some(Err(StoreError::Unavailable(_)))),
        "{end:?}"
    );
    assert_eq!(w.next().await, None);
    assert!(matches!(
        s.txn(Txn::new().and_then([TxnOp::put("k", "w")])).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        s.lease_grant(Duration::from_secs(1)).await,
        Err(StoreError::Unavailable(_))
    ));
    assert_eq!(s.get("k").await.unwrap().unwrap().value, b"v");
}

#[tokio::test]
async fn a_restart_gives_the_space_of_deleted_and_compacted_data_back() {
    let (dir, s) = open_tmp();
    let path = dir.path().join("data").join("store.redb");
    let big = "x".repeat(4096);
    for i in 0..1000 {
        put(&s, &format!("/k/{i:04}"), &big).await;
    }
    let full = std::fs::metadata(&path).unwrap().len();
    for chunk in (0..1000).collect::<Vec<_>>().chunks(100) {
        let ops: Vec<TxnOp> = chunk
            .iter()
            .map(|i| TxnOp::delete(format!("/k/{i:04}")))
            .collect();
        s.txn(Txn::new().and_then(ops)).await.unwrap();
    }
    let rev = s.revision().await.unwrap();
    s.compact(rev).await.unwrap();
    // While it runs, redb reuses the freed pages; closed and opened again,
    // the file is cut down to what is used.
    put(&s, "/other", "v").await;
    s.close().await;
    drop(s);
    let s = EmbeddedStore::open(&path).unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(
        after * 2 < full,
        "{full} bytes before, {after} after deleting, compacting and reopening"
    );
    // Still the same store.
    assert_eq!(s.revision().await.unwrap(), rev + 1);
    assert!(s.range("/k/").await.unwrap().kvs.is_empty());
}

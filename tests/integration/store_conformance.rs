//! One conformance suite, run against the embedded store and a real etcd:
//! the daemon may rely on exactly what passes here, whichever store it has.
//!
//! Each store gets one test that runs every case in order on a fresh store,
//! so revision arithmetic is exact (nothing else writes to it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use daemon::store::embedded::EmbeddedStore;
use daemon::store::etcd::EtcdStore;
use daemon::store::{
    Compare, CompareOp, CompareTarget, EventKind, Store, StoreError, Txn, TxnOp, WatchBatch,
};
use futures::StreamExt;
use tests::Etcd;

type Case = for<'a> fn(&'a dyn Store) -> futures::future::BoxFuture<'a, ()>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), |s| Box::pin($name(s)))),*]
    };
}

const CASES: &[(&str, Case)] = cases![
    put_get_range,
    large_ranges_come_whole,
    concurrent_gets_each_get_their_own,
    txn_compares,
    revision_rules,
    versions,
    duplicate_keys_are_refused,
    leases,
    lease_expiry_deletes_keys,
    watch_history_then_live,
    watch_resume_has_no_gap_or_duplicate,
    compaction,
    concurrent_cas_is_serialisable,
];

async fn run_all(store: Arc<dyn Store>) {
    for (name, case) in CASES {
        let t = Instant::now();
        case(store.as_ref()).await;
        eprintln!("[{}] {name} ok in {:?}", store.kind(), t.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    run_all(store).await;
}

/// A fresh one-member etcd, and the daemon's store on it.
async fn one_member_etcd() -> (Etcd, Arc<EtcdStore>) {
    let etcd = tokio::task::spawn_blocking(|| Etcd::start(1))
        .await
        .unwrap();
    let store = EtcdStore::connect(&etcd.endpoints()).await.unwrap();
    (etcd, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_etcd() {
    let (etcd, store) = one_member_etcd().await;
    run_all(store).await;
    drop(etcd);
}

/// etcd out of reach (its one member stopped: connections hang, as in a
/// partition): the first request tries for one stall, the next ones for
/// [`FAIL_FAST`] each, so a client request that needs several store calls
/// still hears "unavailable" before its timeout; once etcd answers again,
/// requests succeed and ride a full stall again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_out_of_reach_fails_fast_after_one_stall() {
    use daemon::store::etcd::{FAIL_FAST, STALL};
    let (etcd, store) = one_member_etcd().await;
    put(store.as_ref(), &k("reach/a"), "1").await;
    etcd.members[0].proc.signal(libc::SIGSTOP);

    let t = Instant::now();
    let e = store.get(&k("reach/a")).await.unwrap_err();
    let first = t.elapsed();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(
        first >= STALL - Duration::from_millis(200),
        "the first request gave up after {first:?}, before the {STALL:?} stall"
    );
    // The next ones: a get, a range, a transaction (whose outcome is
    // unknown, so it is looked for too: within the same short budget).
    for (what, call) in [("get", 0), ("range", 1), ("txn", 2)] {
        let t = Instant::now();
        let e = match call {
            0 => store.get(&k("reach/a")).await.map(|_| ()),
            1 => store.range(&k("reach/")).await.map(|_| ()),
            _ => store
                .txn(Txn::new().and_then([TxnOp::put(k("reach/b"), "2")]))
                .await
                .map(|_| ()),
        }
        .unwrap_err();
        let took = t.elapsed();
        assert!(matches!(e, StoreError::Unavailable(_)), "{what}: {e:?}");
        // FAIL_FAST, with room for a slow machine: far below one stall.
        assert!(
            took < FAIL_FAST * 3,
            "{what} with etcd out of reach took {took:?} (fail fast: {FAIL_FAST:?}, stall {STALL:?})"
        );
    }

    etcd.members[0].proc.signal(libc::SIGCONT);
    // etcd answers again: the first request that reaches it ends the
    // fast failures.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.get(&k("reach/a")).await {
            Ok(kv) => {
                assert_eq!(kv.expect("reach/a is there").value, b"1");
                break;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "etcd answers again, the store still fails: {e}"
            ),
        }
    }
    // Stopped again: the next request rides a full stall once more.
    etcd.members[0].proc.signal(libc::SIGSTOP);
    let t = Instant::now();
    store.get(&k("reach/a")).await.unwrap_err();
    let again = t.elapsed();
    etcd.members[0].proc.signal(libc::SIGCONT);
    assert!(
        again >= STALL - Duration::from_millis(200),
        "after a success, a request tried for only {again:?}, not the {STALL:?} stall"
    );
    drop(etcd);
}

fn k(s: &str) -> String {
    format!("/conf/{s}")
}

async fn put(store: &dyn Store, key: &str, v: &str) -> i64 {
    let r = store
        .txn(Txn::new().and_then([TxnOp::put(key, v)]))
        .await
        .unwrap();
    assert!(r.succeeded);
    r.revision
}

async fn put_get_range(s: &dyn Store) {
    let r0 = s.revision().await.unwrap();
    let r1 = put(s, &k("range/b"), "2").await;
    let r2 = put(s, &k("range/a"), "1").await;
    let _ = put(s, &k("rangeX"), "outside").await;
    assert_eq!(r1, r0 + 1);
    assert_eq!(r2, r1 + 1);
    let kv = s.get(&k("range/a")).await.unwrap().unwrap();
    assert_eq!(kv.value, b"1");
    assert_eq!(kv.create_revision, r2);
    assert_eq!(kv.mod_revision, r2);
    assert!(s.get(&k("range/zzz")).await.unwrap().is_none());
    let range = s.range(&k("range/")).await.unwrap();
    let keys: Vec<_> = range.kvs.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(
        keys,
        vec![k("range/a"), k("range/b")],
        "sorted, prefix only"
    );
    assert_eq!(range.revision, r2 + 1);
    assert_eq!(s.revision().await.unwrap(), r2 + 1);
    // Keys only: the same keys and revisions, no values.
    let keys_only = s.range_keys(&k("range/")).await.unwrap();
    assert_eq!(keys_only.revision, range.revision);
    assert_eq!(keys_only.kvs.len(), range.kvs.len());
    for (bare, full) in keys_only.kvs.iter().zip(&range.kvs) {
        assert_eq!(bare.key, full.key);
        assert!(bare.value.is_empty(), "{}: a value came back", bare.key);
        assert_eq!(
            (bare.create_revision, bare.mod_revision, bare.version),
            (full.create_revision, full.mod_revision, full.version),
            "{}",
            bare.key
        );
    }
}

/// A prefix holding more than one etcd answer can carry (the client takes
/// at most 4 MiB; every order in a busy hot store is more): read whole,
/// in key order, as one snapshot — many small values, and large values of
/// which even a few overflow one answer.
async fn large_ranges_come_whole(s: &dyn Store) {
    let big = vec![b'x'; 256 * 1024];
    for i in 0..40 {
        let key = k(&format!("big/{i:03}"));
        let mut v = big.clone();
        v[0] = i as u8;
        let r = s.txn(Txn::new().and_then([TxnOp::put(&key, v)])).await;
        assert!(r.unwrap().succeeded);
    }
    let small = "y".repeat(1500);
    for chunk in 0..30 {
        let ops: Vec<TxnOp> = (0..100)
            .map(|i| TxnOp::put(k(&format!("many/{:05}", chunk * 100 + i)), small.as_str()))
            .collect();
        assert!(s.txn(Txn::new().and_then(ops)).await.unwrap().succeeded);
    }
    let now = s.revision().await.unwrap();
    let r = s.range(&k("big/")).await.expect("10 MiB under one prefix");
    assert_eq!(r.kvs.len(), 40);
    for (i, kv) in r.kvs.iter().enumerate() {
        assert_eq!(kv.key, k(&format!("big/{i:03}")), "key order");
        assert_eq!(kv.value.len(), big.len());
        assert_eq!(kv.value[0], i as u8, "{}", kv.key);
    }
    assert_eq!(r.revision, now, "one snapshot, at the store's revision");
    let r = s.range(&k("many/")).await.expect("3,000 keys, 4.5 MB");
    let keys: Vec<String> = r.kvs.iter().map(|kv| kv.key.clone()).collect();
    let want: Vec<String> = (0..3000).map(|i| k(&format!("many/{i:05}"))).collect();
    assert_eq!(keys, want, "every key once, in order");
    assert_eq!(r.revision, now);
    // Keys only, over more keys than one etcd page holds.
    let bare = s.range_keys(&k("many/")).await.unwrap();
    let bare_keys: Vec<String> = bare.kvs.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(bare_keys, want, "keys only: every key once, in order");
    assert!(bare.kvs.iter().all(|kv| kv.value.is_empty()));
    assert_eq!(bare.revision, now);
}

/// Gets asked for at once (the etcd store sends them together): each gets
/// its own key's answer — present or missing, asked once or several
/// times, small or large enough that together they overflow one answer.
async fn concurrent_gets_each_get_their_own(s: &dyn Store) {
    for i in 0..300 {
        let r = s
            .txn(Txn::new().and_then([TxnOp::put(k(&format!("cg/{i}")), format!("v{i}"))]))
            .await;
        assert!(r.unwrap().succeeded);
    }
    for i in 0..8 {
        let v = vec![b'0' + i as u8; 1024 * 1024];
        let r = s
            .txn(Txn::new().and_then([TxnOp::put(k(&format!("cg-big/{i}")), v)]))
            .await;
        assert!(r.unwrap().succeeded);
    }
    // 300 present, 50 missing, every tenth asked three times.
    let asks: Vec<u32> = (0..350)
        .flat_map(|i| if i % 10 == 0 { vec![i; 3] } else { vec![i] })
        .collect();
    let keys: Vec<String> = asks.iter().map(|i| k(&format!("cg/{i}"))).collect();
    let answers = futures::future::join_all(keys.iter().map(|key| s.get(key))).await;
    for (i, a) in asks.iter().zip(answers) {
        let a = a.unwrap();
        if *i < 300 {
            assert_eq!(
                a.expect("present").value,
                format!("v{i}").as_bytes(),
                "cg/{i}"
            );
        } else {
            assert!(a.is_none(), "cg/{i} was never written");
        }
    }
    // 8 MiB asked at once: more than one etcd answer carries.
    let keys: Vec<String> = (0..8).map(|i| k(&format!("cg-big/{i}"))).collect();
    let big = futures::future::join_all(keys.iter().map(|key| s.get(key))).await;
    for (i, a) in big.into_iter().enumerate() {
        let v = a.unwrap().expect("present").value;
        assert_eq!(v.len(), 1024 * 1024);
        assert_eq!(v[0], b'0' + i as u8);
    }
}

async fn txn_compares(s: &dyn Store) {
    let key = k("cmp/x");
    // Absent: create-if-absent succeeds once.
    let first = s
        .txn(
            Txn::new()
                .when([Compare::absent(&key)])
                .and_then([TxnOp::put(&key, "v1")]),
        )
        .await
        .unwrap();
    assert!(first.succeeded);
    let second = s
        .txn(
            Txn::new()
                .when([Compare::absent(&key)])
                .and_then([TxnOp::put(&key, "v2")])
                .or_else([TxnOp::get(&key)]),
        )
        .await
        .unwrap();
    assert!(!second.succeeded);
    assert_eq!(second.gets.len(), 1);
    assert_eq!(second.gets[0].as_ref().unwrap().value, b"v1");
    let rev = first.revision;
    let check = |c: Compare, expect: bool| async move {
        let r = s.txn(Txn::new().when([c.clone()])).await.unwrap();
        assert_eq!(r.succeeded, expect, "{c:?}");
    };
    check(Compare::value(&key, "v1"), true).await;
    check(Compare::value(&key, "nope"), false).await;
    check(Compare::value(k("cmp/missing"), ""), false).await;
    check(Compare::mod_revision(&key, rev), true).await;
    check(Compare::mod_revision(&key, rev + 1), false).await;
    check(
        Compare::new(&key, CompareOp::Equal, CompareTarget::Version(1)),
        true,
    )
    .await;
    check(
        Compare::new(&key, CompareOp::Greater, CompareTarget::Version(0)),
        true,
    )
    .await;
    check(
        Compare::new(&key, CompareOp::Less, CompareTarget::Version(1)),
        false,
    )
    .await;
    check(
        Compare::new(
            &key,
            CompareOp::NotEqual,
            CompareTarget::CreateRevision(rev),
        ),
        false,
    )
    .await;
    check(
        Compare::new(
            &key,
            CompareOp::Greater,
            CompareTarget::ModRevision(rev - 1),
        ),
        true,
    )
    .await;
    check(
        Compare::new(
            k("cmp/missing"),
            CompareOp::Equal,
            CompareTarget::Version(0),
        ),
        true,
    )
    .await;
    check(Compare::absent(k("cmp/missing")), true).await;
    // All compares must hold.
    let both = s
        .txn(
            Txn::new()
                .when([Compare::value(&key, "v1"), Compare::absent(&key)])
                .and_then([TxnOp::put(&key, "bad")]),
        )
        .await
        .unwrap();
    assert!(!both.succeeded);
    assert_eq!(s.get(&key).await.unwrap().unwrap().value, b"v1");
    // Gets inside a successful branch.
    let r = s
        .txn(
            Txn::new()
                .when([Compare::value(&key, "v1")])
                .and_then([TxnOp::get(&key), TxnOp::get(k("cmp/missing"))]),
        )
        .await
        .unwrap();
    assert!(r.succeeded);
    assert_eq!(r.gets.len(), 2);
    assert!(r.gets[0].is_some() && r.gets[1].is_none());
}

async fn revision_rules(s: &dyn Store) {
    let before = s.revision().await.unwrap();
    // A read-only transaction, a failed compare without else-ops and a
    // delete of a missing key change nothing: no new revision.
    let r = s
        .txn(Txn::new().and_then([TxnOp::get(k("rev/none"))]))
        .await
        .unwrap();
    assert_eq!(r.revision, before);
    let r = s
        .txn(
            Txn::new()
                .when([Compare::value(k("rev/none"), "x")])
                .and_then([TxnOp::put(k("rev/a"), "1")]),
        )
        .await
        .unwrap();
    assert!(!r.succeeded);
    assert_eq!(r.revision, before);
    let r = s
        .txn(Txn::new().and_then([TxnOp::delete(k("rev/none"))]))
        .await
        .unwrap();
    assert_eq!(r.revision, before);
    assert_eq!(s.revision().await.unwrap(), before);
    // Several changes in one transaction share one new revision.
    let r = s
        .txn(Txn::new().and_then([TxnOp::put(k("rev/a"), "1"), TxnOp::put(k("rev/b"), "2")]))
        .await
        .unwrap();
    assert_eq!(r.revision, before + 1);
    let a = s.get(&k("rev/a")).await.unwrap().unwrap();
    let b = s.get(&k("rev/b")).await.unwrap().unwrap();
    assert_eq!((a.mod_revision, b.mod_revision), (before + 1, before + 1));
    // Deleting an existing key is a change.
    let r = s
        .txn(Txn::new().and_then([TxnOp::delete(k("rev/a"))]))
        .await
        .unwrap();
    assert_eq!(r.revision, before + 2);
}

async fn versions(s: &dyn Store) {
    let key = k("ver/x");
    let r1 = put(s, &key, "1").await;
    let r2 = put(s, &key, "2").await;
    let kv = s.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (kv.version, kv.create_revision, kv.mod_revision),
        (2, r1, r2)
    );
    s.txn(Txn::new().and_then([TxnOp::delete(&key)]))
        .await
        .unwrap();
    assert!(s.get(&key).await.unwrap().is_none());
    let r3 = put(s, &key, "3").await;
    let kv = s.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (kv.version, kv.create_revision, kv.mod_revision),
        (1, r3, r3)
    );
}

async fn duplicate_keys_are_refused(s: &dyn Store) {
    let before = s.revision().await.unwrap();
    let e = s
        .txn(Txn::new().and_then([TxnOp::put(k("dup/x"), "1"), TxnOp::put(k("dup/x"), "2")]))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert!(
        s.get(&k("dup/x")).await.unwrap().is_none(),
        "nothing applied"
    );
    assert_eq!(s.revision().await.unwrap(), before);
}

async fn leases(s: &dyn Store) {
    let lease = s.lease_grant(Duration::from_secs(30)).await.unwrap();
    assert!(lease > 0);
    let ttl = s.lease_time_to_live(lease).await.unwrap();
    assert!(
        ttl <= Duration::from_secs(30) && ttl >= Duration::from_secs(28),
        "{ttl:?}"
    );
    assert_eq!(
        s.lease_keep_alive(lease).await.unwrap(),
        Duration::from_secs(30)
    );
    s.txn(Txn::new().and_then([
        TxnOp::put_with_lease(k("lease/a"), "1", lease),
        TxnOp::put_with_lease(k("lease/b"), "2", lease),
        TxnOp::put(k("lease/c"), "3"),
    ]))
    .await
    .unwrap();
    assert_eq!(s.get(&k("lease/a")).await.unwrap().unwrap().lease, lease);
    assert_eq!(s.get(&k("lease/c")).await.unwrap().unwrap().lease, 0);
    // A put attached to a missing lease fails the whole transaction.
    let before = s.revision().await.unwrap();
    let e = s
        .txn(Txn::new().and_then([
            TxnOp::put(k("lease/d"), "4"),
            TxnOp::put_with_lease(k("lease/e"), "5", 987654321),
        ]))
        .await
        .unwrap_err();
    assert_eq!(e, StoreError::LeaseNotFound(987654321));
    assert!(s.get(&k("lease/d")).await.unwrap().is_none());
    assert_eq!(s.revision().await.unwrap(), before);
    // Revoking deletes the lease's keys, at one revision.
    let mut w = s.watch(&k("lease/"), before + 1).await.unwrap();
    s.lease_revoke(lease).await.unwrap();
    assert!(s.get(&k("lease/a")).await.unwrap().is_none());
    assert!(s.get(&k("lease/b")).await.unwrap().is_none());
    assert!(s.get(&k("lease/c")).await.unwrap().is_some());
    let batch = next_batch(&mut w).await;
    assert_eq!(batch.revision, before + 1);
    assert_eq!(batch.events.len(), 2);
    assert!(batch.events.iter().all(|e| e.kind == EventKind::Delete));
    assert_eq!(
        s.lease_revoke(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
    assert_eq!(
        s.lease_keep_alive(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
    assert_eq!(
        s.lease_time_to_live(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
}

async fn lease_expiry_deletes_keys(s: &dyn Store) {
    // etcd's minimum TTL is about 2 s with default timings.
    let lease = s.lease_grant(Duration::from_secs(2)).await.unwrap();
    let r = s
        .txn(Txn::new().and_then([TxnOp::put_with_lease(k("expiry/x"), "1", lease)]))
        .await
        .unwrap();
    let mut w = s.watch(&k("expiry/"), r.revision + 1).await.unwrap();
    let t = Instant::now();
    let batch = tokio::time::timeout(Duration::from_secs(10), next_batch(&mut w))
        .await
        .expect("lease expired within 10 s");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "expired too early: {:?}",
        t.elapsed()
    );
    assert_eq!(batch.events[0].kind, EventKind::Delete);
    assert_eq!(batch.events[0].kv.key, k("expiry/x"));
    assert!(s.get(&k("expiry/x")).await.unwrap().is_none());
    assert!(matches!(
        s.lease_keep_alive(lease).await,
        Err(StoreError::LeaseNotFound(_))
    ));
}

async fn next_batch(w: &mut daemon::store::WatchStream) -> WatchBatch {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("watch delivered within 10 s")
        .expect("watch stream open")
        .expect("watch batch")
}

async fn watch_history_then_live(s: &dyn Store) {
    let start = s.revision().await.unwrap() + 1;
    put(s, &k("watch/a"), "1").await;
    s.txn(Txn::new().and_then([
        TxnOp::put(k("watch/b"), "2"),
        TxnOp::put(k("other/z"), "x"),
        TxnOp::put(k("watch/c"), "3"),
    ]))
    .await
    .unwrap();
    put(s, &k("other/y"), "outside").await;
    s.txn(Txn::new().and_then([TxnOp::delete(k("watch/a"))]))
        .await
        .unwrap();
    let mut w = s.watch(&k("watch/"), start).await.unwrap();
    let b1 = next_batch(&mut w).await;
    assert_eq!(b1.revision, start);
    assert_eq!(b1.events.len(), 1);
    assert_eq!(b1.events[0].kv.value, b"1");
    let b2 = next_batch(&mut w).await;
    assert_eq!(b2.revision, start + 1);
    let keys: Vec<_> = b2.events.iter().map(|e| e.kv.key.clone()).collect();
    assert_eq!(
        keys,
        vec![k("watch/b"), k("watch/c")],
        "one batch per revision, prefix only"
    );
    let b3 = next_batch(&mut w).await;
    assert_eq!(
        b3.revision,
        start + 3,
        "revision start+2 touched no watched key"
    );
    assert_eq!(b3.events[0].kind, EventKind::Delete);
    assert_eq!(b3.events[0].kv.key, k("watch/a"));
    assert_eq!(b3.events[0].kv.mod_revision, start + 3);
    // Live.
    let live = put(s, &k("watch/d"), "4").await;
    let b4 = next_batch(&mut w).await;
    assert_eq!(b4.revision, live);
    // From 0: only what happens after now.
    let mut w0 = s.watch(&k("watch/"), 0).await.unwrap();
    let later = put(s, &k("watch/e"), "5").await;
    assert_eq!(next_batch(&mut w0).await.revision, later);
}

async fn watch_resume_has_no_gap_or_duplicate(s: &dyn Store) {
    let start = s.revision().await.unwrap() + 1;
    for i in 0..10 {
        put(s, &k(&format!("resume/{i}")), "v").await;
    }
    let mut seen = Vec::new();
    let mut w = s.watch(&k("resume/"), start).await.unwrap();
    for _ in 0..4 {
        seen.push(next_batch(&mut w).await.revision);
    }
    drop(w); // "disconnect"
    for i in 10..15 {
        put(s, &k(&format!("resume/{i}")), "v").await;
    }
    let mut w = s
        .watch(&k("resume/"), seen.last().unwrap() + 1)
        .await
        .unwrap();
    for _ in 0..11 {
        seen.push(next_batch(&mut w).await.revision);
    }
    let expected: Vec<i64> = (start..start + 15).collect();
    assert_eq!(seen, expected);
}

async fn compaction(s: &dyn Store) {
    let old = put(s, &k("compact/a"), "1").await;
    let newer = put(s, &k("compact/a"), "2").await;
    put(s, &k("compact/a"), "3").await;
    s.compact(newer).await.unwrap();
    match s.watch(&k("compact/"), old).await {
        Err(StoreError::Compacted {
            compact_revision, ..
        }) => assert!(compact_revision >= newer, "{compact_revision}"),
        Err(e) => panic!("expected Compacted, got {e:?}"),
        Ok(mut w) => match w.next().await {
            Some(Err(StoreError::Compacted { .. })) => {}
            other => panic!("expected Compacted, got {other:?}"),
        },
    }
    // From the compaction point on, history is still there.
    let mut w = s.watch(&k("compact/"), newer).await.unwrap();
    assert_eq!(next_batch(&mut w).await.revision, newer);
    assert_eq!(s.get(&k("compact/a")).await.unwrap().unwrap().value, b"3");
}

async fn concurrent_cas_is_serialisable(s: &dyn Store) {
    let key = k("cas/counter");
    put(s, &key, "0").await;
    let tasks = 16;
    let per = 8;
    futures::future::join_all((0..tasks).map(|_| {
        let key = key.clone();
        async move {
            let mut done = 0;
            while done < per {
                let kv = s.get(&key).await.unwrap().unwrap();
                let n: u64 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                let r = s
                    .txn(
                        Txn::new()
                            .when([Compare::mod_revision(&key, kv.mod_revision)])
                            .and_then([TxnOp::put(&key, (n + 1).to_string())]),
                    )
                    .await
                    .unwrap();
                if r.succeeded {
                    done += 1;
                }
            }
        }
    }))
    .await;
    let kv = s.get(&key).await.unwrap().unwrap();
    assert_eq!(kv.value, (tasks * per).to_string().as_bytes());
    assert_eq!(kv.version, (tasks * per + 1) as i64);
}

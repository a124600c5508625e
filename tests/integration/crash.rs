//! Nothing acknowledged is lost when the embedded store's process is killed
//! with SIGKILL in the middle of a burst of writes; and a killed `dfoodd`
//! comes back on the same data.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use daemon::store::Store;
use daemon::store::embedded::EmbeddedStore;
use tests::{Daemon, Proc};

fn acks(log: &str) -> BTreeMap<String, i64> {
    log.lines()
        .filter_map(|l| {
            let mut p = l.strip_prefix("ack ")?.split(' ');
            Some((p.next()?.to_string(), p.next()?.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    let mut total = 0;
    for round in 0..3 {
        let log = dir.path().join(format!("writer-{round}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_store-writer"));
        cmd.arg(&store_path);
        let mut writer = Proc::spawn("store-writer", cmd, &log);
        // Let a burst build up, then kill it mid-flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acks(&writer.log_text()).len() < 300 {
            assert!(
                Instant::now() < deadline,
                "writer made no progress: {}",
                writer.log_text()
            );
            assert!(writer.alive(), "writer died: {}", writer.log_text());
            std::thread::sleep(Duration::from_millis(10));
        }
        writer.kill9();
        let acked = acks(&writer.log_text());
        assert!(!acked.is_empty());
        total += acked.len();
        let store = EmbeddedStore::open(&store_path).expect("reopen after kill -9");
        let max_rev = acked.values().copied().max().unwrap();
        assert!(
            store.revision().await.unwrap() >= max_rev,
            "revision went back"
        );
        for (key, rev) in &acked {
            let kv = store.get(key).await.unwrap().unwrap_or_else(|| {
                panic!("round {round}: acknowledged write {key} at revision {rev} lost")
            });
            assert_eq!(kv.mod_revision, *rev, "{key}");
        }
        drop(store);
    }
    assert!(total >= 300);
}

#[test]
fn dfoodd_killed_with_sigkill_restarts_on_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start("crashy", dir.path(), &[]);
    let before = d.dfood().run(["status", "-o", "json"]);
    assert_eq!(before.code, 0, "{before:?}");
    let rev_before = before.json()["store_revision"].as_u64().unwrap();
    let ca_before = std::fs::read(d.ca_path()).unwrap();
    d.proc.kill9();
    d.restart();
    let after = d.dfood().run(["status", "-o", "json"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(
        after.json()["store_revision"].as_u64().unwrap() > rev_before,
        "store kept its history and the node registered again"
    );
    assert_eq!(
        std::fs::read(d.ca_path()).unwrap(),
        ca_before,
        "same cluster CA after restart: clients keep working"
    );
}

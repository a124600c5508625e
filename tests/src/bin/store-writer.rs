//! Test helper for the kill -9 durability test: opens the embedded store at
//! argv[1] and writes keys `/crash/<task>/<n>` from 8 concurrent tasks
//! forever, printing `ack <key> <revision>` after each write the store has
//! acknowledged. The test kills it with SIGKILL mid-burst, reopens the store
//! and checks that every acknowledged key is there.

use std::io::Write;

use daemon::store::embedded::EmbeddedStore;
use daemon::store::{Store, Txn, TxnOp};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: store-writer STORE_FILE");
    let store = EmbeddedStore::open(std::path::Path::new(&path)).expect("open store");
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0u64.. {
                    let key = format!("/crash/{t}/{n}");
                    let r = store
                        .txn(Txn::new().and_then([TxnOp::put(&key, format!("v{n}"))]))
                        .await
                        .expect("write");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {key} {}", r.revision).expect("stdout");
                    out.flush().expect("flush");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
}

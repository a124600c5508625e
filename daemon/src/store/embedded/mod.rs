//! The embedded store: a single redb file on local disk with the same
//! semantics as etcd (see the module documentation of [`crate::store`]).
//!
//! # Design
//!
//! - **One writer thread, group commit.** Every write (transactions, lease
//!   grant/keep-alive/revoke, compaction, lease expiry) goes over a channel to
//!   a dedicated `std::thread`. It takes everything queued, applies the
//!   requests in arrival order inside one redb write transaction (each request
//!   sees the effects of the earlier ones; each transaction that changes a key
//!   takes its own revision), commits once with `Durability::Immediate` (one
//!   fsync for the whole group), publishes the new revision, and only then
//!   answers the callers. An answered write is therefore on disk: `kill -9`
//!   cannot lose it. A batch that changes nothing is not committed at all.
//! - **Reads** (`get`, `range`, `lease_time_to_live`, watch catch-up) use redb
//!   read transactions (MVCC snapshots) on the blocking thread pool; they
//!   never wait for the writer.
//! - **Leases** are persisted with their TTL and an expiry time in wall-clock
//!   unix milliseconds, plus an expiry index and a lease -> key index. The
//!   writer thread is also the reaper: whenever it runs a batch, and at least
//!   every 200 ms when idle, it revokes the leases whose expiry has passed
//!   (each revocation deleting the lease's keys at one new revision). On
//!   open every lease gets a fresh `now + ttl`, as etcd does on a leader
//!   change, so a restart does not expire everything at once.
//! - **Space.** Deleted keys and compacted history free pages that redb
//!   reuses while the store runs; [`EmbeddedStore::open`] compacts the file
//!   (redb needs it to itself for that), so a restart gives the space back.
//! - **Watches** follow a `tokio::sync::watch` channel carrying the committed
//!   revision and read the change log table for `(last seen, committed]`, so a
//!   slow watcher never lags out of a broadcast buffer: it only falls behind
//!   and catches up from the log (or fails with [`StoreError::Compacted`] if
//!   the log was compacted past its position).
//!
//! # Tables
//!
//! | table          | key                 | value                                         |
//! |----------------|---------------------|-----------------------------------------------|
//! | `kv`           | key (`&str`)        | create rev, mod rev, version, lease, value   |
//! | `log`          | revision (`i64`)    | the events of that revision, in order         |
//! | `meta`         | name (`&str`)       | `revision`, `compact_revision`, `next_lease`  |
//! | `leases`       | lease id (`i64`)    | ttl seconds, expiry unix ms                   |
//! | `lease_keys`   | (lease id, key)     | `()`                                          |
//! | `lease_expiry` | (expiry ms, id)     | `()`                                          |
//!
//! Records use a small little-endian binary encoding with a leading format
//! tag; a record that does not decode is reported as
//! [`StoreError::Internal`], never a panic.
//!
//! # Runtime
//!
//! [`EmbeddedStore::open`] is synchronous (it opens the file and commits
//! once) and does not need a runtime; the async methods must run inside a
//! tokio runtime (reads use `spawn_blocking`). Dropping the last
//! `Arc<EmbeddedStore>` stops the writer thread after the batch it is working
//! on and closes the file; [`EmbeddedStore::close`] does the same without
//! blocking the async caller. A write whose caller gave up waiting (its
//! future was dropped) may still be applied.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, WriteTransaction,
};
use tokio::sync::{oneshot, watch};

use super::{
    EventKind, KeyValue, LeaseId, RangeResponse, Revision, Store, StoreError, Txn, TxnOp,
    TxnResponse, WatchBatch, WatchEvent, WatchStream,
};
use crate::locks::LockAnyway;

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const LOG: TableDefinition<i64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, i64> = TableDefinition::new("meta");
const LEASES: TableDefinition<i64, &[u8]> = TableDefinition::new("leases");
const LEASE_KEYS: TableDefinition<(i64, &str), ()> = TableDefinition::new("lease_keys");
const LEASE_EXPIRY: TableDefinition<(i64, i64), ()> = TableDefinition::new("lease_expiry");

const META_REVISION: &str = "revision";
const META_COMPACT: &str = "compact_revision";
const META_NEXT_LEASE: &str = "next_lease";

/// The revision of a fresh store (as a fresh etcd cluster reports).
const FIRST_REVISION: Revision = 1;
const FIRST_LEASE: LeaseId = 1;
/// etcd's limit (`MaxLeaseTTL`).
const MAX_LEASE_TTL_SECS: u64 = 9_000_000_000;
/// Upper bound on the keys and values a single transaction may write, so an
/// oversized request fails alone instead of failing the redb commit it shares
/// with other requests.
const MAX_TXN_BYTES: usize = 32 << 20;
/// How often the idle writer checks for expired leases.
const REAP_INTERVAL: Duration = Duration::from_millis(200);
/// Most requests applied in one redb transaction.
const MAX_BATCH: usize = 1024;
/// Most log entries a watcher reads per snapshot.
const WATCH_READ_LIMIT: usize = 1024;
/// redb page cache (its default is 1 GiB).
const CACHE_BYTES: usize = 64 << 20;

const FORMAT_TAG: u8 = 1;
const EVENT_PUT: u8 = 0;
const EVENT_DELETE: u8 = 1;

fn internal<E: fmt::Display>(context: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::Internal(format!("embedded store: {context}: {e}"))
}

fn closed() -> StoreError {
    StoreError::Unavailable("embedded store is closed".into())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

mod codec;
mod tables;
mod writer;

use codec::*;
use tables::*;
use writer::*;

/// The single-machine store: a redb file with etcd's semantics.
pub struct EmbeddedStore {
    path: PathBuf,
    db: Arc<Database>,
    /// `None` once closed.
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The last committed revision.
    revision: watch::Receiver<Revision>,
    stats: Arc<Counters>,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .field("revision", &*self.revision.borrow())
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Every key under `prefix` at one revision; without their values
    /// when `keys_only`.
    async fn scan(&self, prefix: &str, keys_only: bool) -> Result<RangeResponse, StoreError> {
        let prefix = prefix.to_owned();
        self.read(move |rtx| {
            let meta = rtx.open_table(META).map_err(internal("opening meta"))?;
            let revision = meta_get(&meta, META_REVISION, FIRST_REVISION)?;
            let table = rtx.open_table(KV).map_err(internal("opening kv"))?;
            let mut kvs = Vec::new();
            for entry in table
                .range(prefix.as_str()..)
                .map_err(internal("reading a range"))?
            {
                let (key, value) = entry.map_err(internal("reading a range"))?;
                let key = key.value();
                if !key.starts_with(prefix.as_str()) {
                    break;
                }
                kvs.push(if keys_only {
                    decode_kv_head(key, value.value())?
                } else {
                    decode_kv(key, value.value())?
                });
            }
            Ok(RangeResponse { kvs, revision })
        })
        .await
    }

    /// Opens (creating it and its parent directories if needed) the redb file
    /// at `path`, e.g. `data_dir/store.redb`, and starts the writer thread.
    ///
    /// Synchronous: it commits once (fsync). No runtime is needed to open,
    /// but the store's async methods must be called within a tokio runtime.
    /// Fails if the file is open elsewhere (in this or another process).
    pub fn open(path: &Path) -> Result<Arc<EmbeddedStore>, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Internal(format!("embedded store: creating {}: {e}", dir.display()))
            })?;
        }
        let mut db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
                StoreError::Internal(format!("embedded store: opening {}: {e}", path.display()))
            })?;
        // Pages freed by compacted history and deleted keys are reused as
        // the store runs; here, before anyone reads, the file gives the
        // space back (redb's compaction needs the database to itself).
        db.compact().map_err(|e| {
            StoreError::Internal(format!(
                "embedded store: compacting {}: {e}",
                path.display()
            ))
        })?;
        let revision = initialise(&db, now_ms())?;
        let db = Arc::new(db);
        let (revision_tx, revision_rx) = watch::channel(revision);
        let (requests_tx, requests_rx) = mpsc::channel();
        let stats = Arc::new(Counters::default());
        let writer = Writer {
            db: db.clone(),
            requests: requests_rx,
            revision: revision_tx,
            stats: stats.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run())
            .map_err(internal("starting the writer thread"))?;
        Ok(Arc::new(EmbeddedStore {
            path: path.to_owned(),
            db,
            requests: Mutex::new(Some(requests_tx)),
            writer: Mutex::new(Some(handle)),
            revision: revision_rx,
            stats,
        }))
    }

    /// Commits (fsyncs) so far and the write requests they carried: group
    /// commit at work shows as more requests than commits.
    pub fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.stats.commits.load(Ordering::Relaxed),
            requests: self.stats.requests.load(Ordering::Relaxed),
        }
    }

    /// The redb file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting writes, waits for the writer thread to finish the
    /// requests already queued, and ends every watch (with
    /// [`StoreError::Unavailable`]). Later writes fail with `Unavailable`;
    /// reads keep working until the store is dropped. Idempotent.
    pub async fn close(&self) {
        drop(self.requests.lock_anyway().take());
        let handle = self.writer.lock_anyway().take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    async fn call(&self, op: Op) -> Result<Reply, StoreError> {
        let (reply, answer) = oneshot::channel();
        {
            let requests = self.requests.lock_anyway();
            let requests = requests.as_ref().ok_or_else(closed)?;
            requests.send(Request { op, reply }).map_err(|_| closed())?;
        }
        answer.await.map_err(|_| closed())?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&begin_read(&db)?))
            .await
            .map_err(internal("read task"))?
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        drop(
            self.requests
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(handle) = self
            .writer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            // The writer only has to finish its current batch.
            let _ = handle.join();
        }
    }
}

fn unexpected() -> StoreError {
    StoreError::Internal("embedded store: unexpected reply from the writer".into())
}

#[async_trait]
impl Store for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        Ok(*self.revision.borrow())
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let key = key.to_owned();
        self.read(move |rtx| {
            let kv = rtx.open_table(KV).map_err(internal("opening kv"))?;
            load_kv(&kv, &key)
        })
        .await
    }

    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.scan(prefix, false).await
    }

    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.scan(prefix, true).await
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        match self.call(Op::Txn(txn)).await? {
            Reply::Txn(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        let secs = (ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0)).max(1);
        if secs > MAX_LEASE_TTL_SECS {
            return Err(StoreError::Invalid(format!(
                "lease TTL {secs}s is more than the maximum of {MAX_LEASE_TTL_SECS}s"
            )));
        }
        match self
            .call(Op::Grant(i64::try_from(secs).unwrap_or(i64::MAX)))
            .await?
        {
            Reply::Lease(id) => Ok(id),
            _ => Err(unexpected()),
        }
    }

    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError> {
        match self.call(Op::KeepAlive(id)).await? {
            Reply::Ttl(secs) => Ok(Duration::from_secs(u64::try_from(secs).unwrap_or(0))),
            _ => Err(unexpected()),
        }
    }

    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError> {
        let lease = self
            .read(move |rtx| {
                let leases = rtx.open_table(LEASES).map_err(internal("opening leases"))?;
                load_lease(&leases, id)
            })
            .await?;
        let remaining_ms = lease.map_or(0, |l| l.expiry_ms.saturating_sub(now_ms()));
        if remaining_ms <= 0 {
            return Err(StoreError::LeaseNotFound(id));
        }
        // Whole seconds, rounded up: a live lease never reports 0.
        Ok(Duration::from_secs(
            u64::try_from(remaining_ms).unwrap_or(0).div_ceil(1000),
        ))
    }

    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError> {
        match self.call(Op::Revoke(id)).await? {
            Reply::Done => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn usage(&self) -> Option<protocol::messages::cluster::StoreUsage> {
        let bytes = std::fs::metadata(&self.path).ok()?.len();
        let keys = self
            .read(|rtx| {
                let table = rtx.open_table(KV).map_err(internal("opening kv"))?;
                table.len().map_err(internal("counting keys"))
            })
            .await
            .ok();
        Some(protocol::messages::cluster::StoreUsage {
            bytes,
            keys,
            ..Default::default()
        })
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        match self.call(Op::Compact(revision)).await? {
            Reply::Done => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn watch(
        &self,
        prefix: &str,
        start_revision: Revision,
    ) -> Result<WatchStream, StoreError> {
        if start_revision < 0 {
            return Err(StoreError::Invalid(format!(
                "negative watch start revision {start_revision}"
            )));
        }
        let (current, compact) = self
            .read(|rtx| {
                let meta = rtx.open_table(META).map_err(internal("opening meta"))?;
                Ok((
                    meta_get(&meta, META_REVISION, FIRST_REVISION)?,
                    meta_get(&meta, META_COMPACT, 0)?,
                ))
            })
            .await?;
        let start = if start_revision == 0 {
            current + 1
        } else {
            start_revision
        };
        if start < compact {
            return Err(StoreError::Compacted {
                requested: start,
                compact_revision: compact,
            });
        }
        let watcher = Watcher {
            db: Arc::downgrade(&self.db),
            committed: self.revision.clone(),
            prefix: Arc::from(prefix),
            next: start,
            pending: VecDeque::new(),
            done: false,
        };
        Ok(Box::pin(futures::stream::unfold(
            watcher,
            |mut w| async move {
                let item = w.next_item().await?;
                Some((item, w))
            },
        )))
    }
}

/// The state of one watch stream. It holds no task: dropping the stream
/// drops it.
struct Watcher {
    db: Weak<Database>,
    committed: watch::Receiver<Revision>,
    prefix: Arc<str>,
    /// The next revision to deliver.
    next: Revision,
    pending: VecDeque<WatchBatch>,
    done: bool,
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<WatchBatch, StoreError>> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Some(Ok(batch));
            }
            if self.done {
                return None;
            }
            let committed = *self.committed.borrow_and_update();
            if committed >= self.next {
                if let Err(e) = self.fetch().await {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            if self.committed.changed().await.is_err() {
                self.done = true;
                return Some(Err(closed()));
            }
        }
    }

    async fn fetch(&mut self) -> Result<(), StoreError> {
        let db = self.db.upgrade().ok_or_else(closed)?;
        let prefix = self.prefix.clone();
        let from = self.next;
        let (batches, next) = tokio::task::spawn_blocking(move || read_log(&db, &prefix, from))
            .await
            .map_err(internal("watch read task"))??;
        self.pending.extend(batches);
        self.next = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

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
    Database, ReadTransaction, ReadableDatabase, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};
use tokio::sync::{oneshot, watch};

use super::{
    EventKind, KeyValue, LeaseId, RangeResponse, Revision, Store, StoreError, Txn, TxnOp,
    TxnResponse, WatchBatch, WatchEvent, WatchStream,
};

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

// ---------------------------------------------------------------------------
// Record encoding
// ---------------------------------------------------------------------------

struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Result<Self, StoreError> {
        let mut r = Reader { buf, what };
        let tag = r.u8()?;
        if tag != FORMAT_TAG {
            return Err(StoreError::Internal(format!(
                "embedded store: corrupt {what}: unknown format tag {tag}"
            )));
        }
        Ok(r)
    }

    fn corrupt(&self) -> StoreError {
        StoreError::Internal(format!(
            "embedded store: corrupt {}: truncated record",
            self.what
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.buf.len() < n {
            return Err(self.corrupt());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, StoreError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    fn finish(&self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Internal(format!(
                "embedded store: corrupt {}: {} trailing bytes",
                self.what,
                self.buf.len()
            )))
        }
    }
}

fn put_i64s(out: &mut Vec<u8>, nums: [i64; 4]) {
    for n in nums {
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Lengths are bounded by MAX_TXN_BYTES, far below u32::MAX.
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// `kv` value: tag, create, mod, version, lease, then the value bytes.
fn encode_kv(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(33 + kv.value.len());
    out.push(FORMAT_TAG);
    put_i64s(
        &mut out,
        [kv.create_revision, kv.mod_revision, kv.version, kv.lease],
    );
    out.extend_from_slice(&kv.value);
    out
}

fn decode_kv(key: &str, bytes: &[u8]) -> Result<KeyValue, StoreError> {
    let mut r = Reader::new(bytes, "key record")?;
    let create_revision = r.i64()?;
    let mod_revision = r.i64()?;
    let version = r.i64()?;
    let lease = r.i64()?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: r.rest().to_vec(),
        create_revision,
        mod_revision,
        version,
        lease,
    })
}

/// `log` value: tag, count, then per event: kind, key, value, create, mod,
/// version, lease.
fn encode_events(events: &[WatchEvent]) -> Vec<u8> {
    let size: usize = events
        .iter()
        .map(|e| 41 + e.kv.key.len() + e.kv.value.len())
        .sum();
    let mut out = Vec::with_capacity(5 + size);
    out.push(FORMAT_TAG);
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        out.push(match e.kind {
            EventKind::Put => EVENT_PUT,
            EventKind::Delete => EVENT_DELETE,
        });
        put_bytes(&mut out, e.kv.key.as_bytes());
        put_bytes(&mut out, &e.kv.value);
        put_i64s(
            &mut out,
            [
                e.kv.create_revision,
                e.kv.mod_revision,
                e.kv.version,
                e.kv.lease,
            ],
        );
    }
    out
}

fn decode_events(bytes: &[u8]) -> Result<Vec<WatchEvent>, StoreError> {
    let mut r = Reader::new(bytes, "log entry")?;
    let count = r.u32()? as usize;
    let mut events = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let kind = match r.u8()? {
            EVENT_PUT => EventKind::Put,
            EVENT_DELETE => EventKind::Delete,
            other => {
                return Err(StoreError::Internal(format!(
                    "embedded store: corrupt log entry: unknown event kind {other}"
                )));
            }
        };
        let key = std::str::from_utf8(r.bytes()?)
            .map_err(internal("corrupt log entry: key is not UTF-8"))?
            .to_owned();
        let value = r.bytes()?.to_vec();
        let kv = KeyValue {
            key,
            value,
            create_revision: r.i64()?,
            mod_revision: r.i64()?,
            version: r.i64()?,
            lease: r.i64()?,
        };
        events.push(WatchEvent { kind, kv });
    }
    r.finish()?;
    Ok(events)
}

#[derive(Debug, Clone, Copy)]
struct LeaseRecord {
    ttl_secs: i64,
    expiry_ms: i64,
}

fn encode_lease(l: LeaseRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    out.push(FORMAT_TAG);
    out.extend_from_slice(&l.ttl_secs.to_le_bytes());
    out.extend_from_slice(&l.expiry_ms.to_le_bytes());
    out
}

fn decode_lease(bytes: &[u8]) -> Result<LeaseRecord, StoreError> {
    let mut r = Reader::new(bytes, "lease record")?;
    let l = LeaseRecord {
        ttl_secs: r.i64()?,
        expiry_ms: r.i64()?,
    };
    r.finish()?;
    Ok(l)
}

/// The delete event for `key` at `revision`.
fn tombstone(key: String, revision: Revision) -> WatchEvent {
    WatchEvent {
        kind: EventKind::Delete,
        kv: KeyValue {
            key,
            value: Vec::new(),
            create_revision: 0,
            mod_revision: revision,
            version: 0,
            lease: 0,
        },
    }
}

// ---------------------------------------------------------------------------
// Table helpers shared by readers and the writer
// ---------------------------------------------------------------------------

fn load_kv(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<KeyValue>, StoreError> {
    match table.get(key).map_err(internal("reading a key"))? {
        None => Ok(None),
        Some(guard) => decode_kv(key, guard.value()).map(Some),
    }
}

fn load_lease(
    table: &impl ReadableTable<i64, &'static [u8]>,
    id: LeaseId,
) -> Result<Option<LeaseRecord>, StoreError> {
    match table.get(id).map_err(internal("reading a lease"))? {
        None => Ok(None),
        Some(guard) => decode_lease(guard.value()).map(Some),
    }
}

fn meta_get(
    table: &impl ReadableTable<&'static str, i64>,
    name: &str,
    default: i64,
) -> Result<i64, StoreError> {
    Ok(table
        .get(name)
        .map_err(internal("reading metadata"))?
        .map_or(default, |g| g.value()))
}

fn begin_read(db: &Database) -> Result<ReadTransaction, StoreError> {
    db.begin_read()
        .map_err(internal("beginning a read transaction"))
}

/// The events under `prefix` of revisions `from..`, grouped by revision, and
/// the revision to continue from.
fn read_log(
    db: &Database,
    prefix: &str,
    from: Revision,
) -> Result<(Vec<WatchBatch>, Revision), StoreError> {
    let rtx = begin_read(db)?;
    let meta = rtx.open_table(META).map_err(internal("opening meta"))?;
    let current = meta_get(&meta, META_REVISION, FIRST_REVISION)?;
    let compact = meta_get(&meta, META_COMPACT, 0)?;
    if from < compact {
        return Err(StoreError::Compacted {
            requested: from,
            compact_revision: compact,
        });
    }
    if from > current {
        return Ok((Vec::new(), from));
    }
    let log = rtx.open_table(LOG).map_err(internal("opening log"))?;
    let mut batches = Vec::new();
    let mut next = current + 1;
    let mut read = 0;
    for entry in log.range(from..=current).map_err(internal("reading log"))? {
        let (rev, events) = entry.map_err(internal("reading log"))?;
        let rev = rev.value();
        let events: Vec<WatchEvent> = decode_events(events.value())?
            .into_iter()
            .filter(|e| e.kv.key.starts_with(prefix))
            .collect();
        if !events.is_empty() {
            batches.push(WatchBatch {
                revision: rev,
                events,
            });
        }
        read += 1;
        if read >= WATCH_READ_LIMIT {
            next = rev + 1;
            break;
        }
    }
    Ok((batches, next))
}

// ---------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------

enum Op {
    Txn(Txn),
    Grant(i64),
    KeepAlive(LeaseId),
    Revoke(LeaseId),
    Compact(Revision),
}

enum Reply {
    Txn(TxnResponse),
    Lease(LeaseId),
    Ttl(i64),
    Done,
}

/// Each op's result, in order, and the new revision if it changed.
/// Each op's result, the new revision if it changed, and whether the batch
/// was committed (fsync'd).
type BatchOutcome = (Vec<Result<Reply, StoreError>>, Option<Revision>, bool);

struct Request {
    op: Op,
    reply: oneshot::Sender<Result<Reply, StoreError>>,
}

struct Tables<'t> {
    kv: Table<'t, &'static str, &'static [u8]>,
    log: Table<'t, i64, &'static [u8]>,
    meta: Table<'t, &'static str, i64>,
    leases: Table<'t, i64, &'static [u8]>,
    lease_keys: Table<'t, (i64, &'static str), ()>,
    lease_expiry: Table<'t, (i64, i64), ()>,
}

impl<'t> Tables<'t> {
    /// Opens (creating if needed) every table.
    fn open(wtx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            kv: wtx.open_table(KV).map_err(internal("opening kv"))?,
            log: wtx.open_table(LOG).map_err(internal("opening log"))?,
            meta: wtx.open_table(META).map_err(internal("opening meta"))?,
            leases: wtx.open_table(LEASES).map_err(internal("opening leases"))?,
            lease_keys: wtx
                .open_table(LEASE_KEYS)
                .map_err(internal("opening lease_keys"))?,
            lease_expiry: wtx
                .open_table(LEASE_EXPIRY)
                .map_err(internal("opening lease_expiry"))?,
        })
    }
}

/// The state of one group commit: the open tables and the counters.
struct Batch<'t> {
    t: Tables<'t>,
    now: i64,
    rev: Revision,
    compact: Revision,
    next_lease: LeaseId,
    /// Whether anything was written (the batch needs a commit).
    dirty: bool,
}

impl<'t> Batch<'t> {
    fn begin(wtx: &'t WriteTransaction, now: i64) -> Result<Self, StoreError> {
        let t = Tables::open(wtx)?;
        let rev = meta_get(&t.meta, META_REVISION, FIRST_REVISION)?;
        let compact = meta_get(&t.meta, META_COMPACT, 0)?;
        let next_lease = meta_get(&t.meta, META_NEXT_LEASE, FIRST_LEASE)?;
        Ok(Batch {
            t,
            now,
            rev,
            compact,
            next_lease,
            dirty: false,
        })
    }

    /// Writes the counters back (when anything changed).
    fn finish(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            for (name, value) in [
                (META_REVISION, self.rev),
                (META_COMPACT, self.compact),
                (META_NEXT_LEASE, self.next_lease),
            ] {
                self.t
                    .meta
                    .insert(name, value)
                    .map_err(internal("writing metadata"))?;
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: Op) -> Result<Reply, StoreError> {
        match op {
            Op::Txn(txn) => self.txn(txn).map(Reply::Txn),
            Op::Grant(ttl) => self.grant(ttl).map(Reply::Lease),
            Op::KeepAlive(id) => self.keep_alive(id).map(Reply::Ttl),
            Op::Revoke(id) => match self.revoke(id)? {
                true => Ok(Reply::Done),
                false => Err(StoreError::LeaseNotFound(id)),
            },
            Op::Compact(rev) => self.compact(rev).map(|()| Reply::Done),
        }
    }

    fn load(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        load_kv(&self.t.kv, key)
    }

    /// Appends `events` to the log at the next revision (if there are any).
    fn log_events(&mut self, events: &[WatchEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let rev = self.rev + 1;
        self.t
            .log
            .insert(rev, encode_events(events).as_slice())
            .map_err(internal("writing log"))?;
        self.rev = rev;
        self.dirty = true;
        Ok(())
    }

    fn lease_alive(&self, id: LeaseId) -> Result<bool, StoreError> {
        Ok(load_lease(&self.t.leases, id)?.is_some_and(|l| l.expiry_ms > self.now))
    }

    fn txn(&mut self, txn: Txn) -> Result<TxnResponse, StoreError> {
        let mut succeeded = true;
        for c in &txn.compares {
            if !c.holds(self.load(&c.key)?.as_ref()) {
                succeeded = false;
                break;
            }
        }
        let ops = if succeeded { txn.success } else { txn.failure };

        // Validate everything before changing anything.
        let mut seen = HashSet::new();
        let mut bytes = 0usize;
        for op in &ops {
            let key = match op {
                TxnOp::Put { key, value, .. } => {
                    bytes = bytes.saturating_add(key.len() + value.len());
                    key
                }
                TxnOp::Delete { key } => key,
                TxnOp::Get { .. } => continue,
            };
            if key.is_empty() {
                return Err(StoreError::Invalid("empty key in transaction".into()));
            }
            if !seen.insert(key.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "duplicate key {key:?} in transaction"
                )));
            }
        }
        if bytes > MAX_TXN_BYTES {
            return Err(StoreError::Invalid(format!(
                "transaction writes {bytes} bytes, more than the limit of {MAX_TXN_BYTES}"
            )));
        }
        for op in &ops {
            if let TxnOp::Put { lease, .. } = op
                && *lease != 0
                && !self.lease_alive(*lease)?
            {
                return Err(StoreError::LeaseNotFound(*lease));
            }
        }

        let rev = self.rev + 1;
        let mut events = Vec::new();
        let mut gets = Vec::new();
        for op in ops {
            match op {
                TxnOp::Get { key } => gets.push(self.load(&key)?),
                TxnOp::Put { key, value, lease } => {
                    let old = self.load(&key)?;
                    if let Some(old) = &old
                        && old.lease != 0
                        && old.lease != lease
                    {
                        self.t
                            .lease_keys
                            .remove((old.lease, key.as_str()))
                            .map_err(internal("updating lease keys"))?;
                    }
                    if lease != 0 {
                        self.t
                            .lease_keys
                            .insert((lease, key.as_str()), ())
                            .map_err(internal("updating lease keys"))?;
                    }
                    let kv = KeyValue {
                        create_revision: old.as_ref().map_or(rev, |o| o.create_revision),
                        version: old.as_ref().map_or(1, |o| o.version + 1),
                        mod_revision: rev,
                        key,
                        value,
                        lease,
                    };
                    self.t
                        .kv
                        .insert(kv.key.as_str(), encode_kv(&kv).as_slice())
                        .map_err(internal("writing a key"))?;
                    events.push(WatchEvent {
                        kind: EventKind::Put,
                        kv,
                    });
                }
                TxnOp::Delete { key } => {
                    if let Some(old) = self.load(&key)? {
                        if old.lease != 0 {
                            self.t
                                .lease_keys
                                .remove((old.lease, key.as_str()))
                                .map_err(internal("updating lease keys"))?;
                        }
                        self.t
                            .kv
                            .remove(key.as_str())
                            .map_err(internal("deleting a key"))?;
                        events.push(tombstone(key, rev));
                    }
                }
            }
        }
        self.log_events(&events)?;
        Ok(TxnResponse {
            succeeded,
            revision: self.rev,
            gets,
        })
    }

    fn grant(&mut self, ttl_secs: i64) -> Result<LeaseId, StoreError> {
        let id = self.next_lease;
        let lease = LeaseRecord {
            ttl_secs,
            expiry_ms: self.now.saturating_add(ttl_secs.saturating_mul(1000)),
        };
        self.t
            .leases
            .insert(id, encode_lease(lease).as_slice())
            .map_err(internal("writing a lease"))?;
        self.t
            .lease_expiry
            .insert((lease.expiry_ms, id), ())
            .map_err(internal("writing a lease"))?;
        self.next_lease = id + 1;
        self.dirty = true;
        Ok(id)
    }

    fn keep_alive(&mut self, id: LeaseId) -> Result<i64, StoreError> {
        let Some(old) = load_lease(&self.t.leases, id)? else {
            return Err(StoreError::LeaseNotFound(id));
        };
        if old.expiry_ms <= self.now {
            self.revoke(id)?;
            return Err(StoreError::LeaseNotFound(id));
        }
        let lease = LeaseRecord {
            ttl_secs: old.ttl_secs,
            expiry_ms: self.now.saturating_add(old.ttl_secs.saturating_mul(1000)),
        };
        self.t
            .lease_expiry
            .remove((old.expiry_ms, id))
            .map_err(internal("writing a lease"))?;
        self.t
            .lease_expiry
            .insert((lease.expiry_ms, id), ())
            .map_err(internal("writing a lease"))?;
        self.t
            .leases
            .insert(id, encode_lease(lease).as_slice())
            .map_err(internal("writing a lease"))?;
        self.dirty = true;
        Ok(lease.ttl_secs)
    }

    /// Removes the lease and deletes its keys at one new revision. False if
    /// there is no such lease.
    fn revoke(&mut self, id: LeaseId) -> Result<bool, StoreError> {
        let lease = match self
            .t
            .leases
            .remove(id)
            .map_err(internal("removing a lease"))?
        {
            None => return Ok(false),
            Some(guard) => decode_lease(guard.value())?,
        };
        self.dirty = true;
        self.t
            .lease_expiry
            .remove((lease.expiry_ms, id))
            .map_err(internal("removing a lease"))?;
        let end = id.saturating_add(1);
        let mut keys = Vec::new();
        for entry in self
            .t
            .lease_keys
            .range((id, "")..(end, ""))
            .map_err(internal("reading lease keys"))?
        {
            let (k, _) = entry.map_err(internal("reading lease keys"))?;
            keys.push(k.value().1.to_owned());
        }
        self.t
            .lease_keys
            .retain_in((id, "")..(end, ""), |_, ()| false)
            .map_err(internal("removing lease keys"))?;
        let rev = self.rev + 1;
        let mut events = Vec::new();
        for key in keys {
            // The index is kept exact; the check only guards against drift.
            if self.load(&key)?.is_some_and(|kv| kv.lease == id) {
                self.t
                    .kv
                    .remove(key.as_str())
                    .map_err(internal("deleting a key"))?;
                events.push(tombstone(key, rev));
            }
        }
        self.log_events(&events)?;
        Ok(true)
    }

    /// Revokes every lease whose expiry has passed.
    fn reap(&mut self) -> Result<(), StoreError> {
        let mut expired = Vec::new();
        for entry in self
            .t
            .lease_expiry
            .range(..=(self.now, i64::MAX))
            .map_err(internal("reading lease expiry"))?
        {
            let (k, _) = entry.map_err(internal("reading lease expiry"))?;
            expired.push(k.value().1);
        }
        for id in expired {
            if !self.revoke(id)? {
                // An index entry without its lease: drop it.
                self.t
                    .lease_expiry
                    .retain_in(..=(self.now, i64::MAX), |(_, lease), ()| lease != id)
                    .map_err(internal("removing lease expiry"))?;
                self.dirty = true;
            }
        }
        Ok(())
    }

    fn compact(&mut self, rev: Revision) -> Result<(), StoreError> {
        if rev > self.rev {
            return Err(StoreError::Invalid(format!(
                "cannot compact at revision {rev}: the current revision is {}",
                self.rev
            )));
        }
        if rev <= self.compact {
            return Ok(());
        }
        self.t
            .log
            .retain_in(..rev, |_, _| false)
            .map_err(internal("compacting log"))?;
        self.compact = rev;
        self.dirty = true;
        Ok(())
    }
}

struct Writer {
    db: Arc<Database>,
    requests: mpsc::Receiver<Request>,
    revision: watch::Sender<Revision>,
    stats: Arc<Counters>,
}

/// What group commit achieved so far; see [`EmbeddedStore::commit_stats`].
#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    requests: AtomicU64,
}

/// Commits (each one fsync) and the write requests they carried, since the
/// store was opened. `requests / commits` is how many writers shared an
/// fsync on average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub commits: u64,
    pub requests: u64,
}

impl Writer {
    fn run(self) {
        loop {
            let mut batch = Vec::new();
            match self.requests.recv_timeout(REAP_INTERVAL) {
                Ok(first) => {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match self.requests.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.lease_expired() {
                        continue;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.run_batch(batch);
        }
        tracing::debug!("embedded store writer stopped");
    }

    /// Whether some lease's expiry has passed (true on a read error, so the
    /// batch that follows reports it).
    fn lease_expired(&self) -> bool {
        let check = || -> Result<bool, StoreError> {
            let rtx = begin_read(&self.db)?;
            let table = rtx
                .open_table(LEASE_EXPIRY)
                .map_err(internal("opening lease_expiry"))?;
            let first = table.first().map_err(internal("reading lease expiry"))?;
            Ok(first.is_some_and(|(k, _)| k.value().0 <= now_ms()))
        };
        check().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "embedded store: checking lease expiry");
            true
        })
    }

    fn run_batch(&self, batch: Vec<Request>) {
        let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|r| (r.op, r.reply)).unzip();
        let n = ops.len() as u64;
        match self.apply(ops) {
            Ok((results, revision, committed)) => {
                if committed {
                    self.stats.commits.fetch_add(1, Ordering::Relaxed);
                    self.stats.requests.fetch_add(n, Ordering::Relaxed);
                }
                if let Some(revision) = revision {
                    self.revision.send_replace(revision);
                }
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                if replies.is_empty() {
                    tracing::warn!(error = %e, "embedded store: expiring leases failed");
                }
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// Applies `ops` in one write transaction and commits it. Returns each
    /// op's result and the new revision if it changed. An internal error of
    /// any op aborts the whole transaction.
    fn apply(&self, ops: Vec<Op>) -> Result<BatchOutcome, StoreError> {
        let wtx = self
            .db
            .begin_write()
            .map_err(internal("beginning a write transaction"))?;
        let (results, dirty, start, end) = {
            let mut batch = Batch::begin(&wtx, now_ms())?;
            let start = batch.rev;
            batch.reap()?;
            let mut results = Vec::with_capacity(ops.len());
            for op in ops {
                let result = batch.apply(op);
                if let Err(StoreError::Internal(e)) = &result {
                    // Dropping the transaction aborts it.
                    return Err(StoreError::Internal(e.clone()));
                }
                results.push(result);
            }
            batch.finish()?;
            (results, batch.dirty, start, batch.rev)
        };
        if dirty {
            wtx.commit().map_err(internal("committing"))?;
        } else {
            wtx.abort()
                .map_err(internal("aborting a read-only batch"))?;
        }
        Ok((results, (end != start).then_some(end), dirty))
    }
}

/// Creates the tables and metadata if needed and gives every lease a fresh
/// `now + ttl`. Returns the current revision.
fn initialise(db: &Database, now: i64) -> Result<Revision, StoreError> {
    let wtx = db
        .begin_write()
        .map_err(internal("beginning a write transaction"))?;
    let revision = {
        let mut t = Tables::open(&wtx)?;
        let revision = meta_get(&t.meta, META_REVISION, FIRST_REVISION)?;
        if t.meta
            .get(META_REVISION)
            .map_err(internal("reading metadata"))?
            .is_none()
        {
            for (name, value) in [
                (META_REVISION, FIRST_REVISION),
                (META_COMPACT, 0),
                (META_NEXT_LEASE, FIRST_LEASE),
            ] {
                t.meta
                    .insert(name, value)
                    .map_err(internal("writing metadata"))?;
            }
        }
        let mut leases = Vec::new();
        for entry in t.leases.iter().map_err(internal("reading leases"))? {
            let (id, rec) = entry.map_err(internal("reading leases"))?;
            leases.push((id.value(), decode_lease(rec.value())?));
        }
        t.lease_expiry
            .retain(|_, ()| false)
            .map_err(internal("resetting lease expiry"))?;
        for (id, old) in leases {
            let lease = LeaseRecord {
                ttl_secs: old.ttl_secs,
                expiry_ms: now.saturating_add(old.ttl_secs.saturating_mul(1000)),
            };
            t.leases
                .insert(id, encode_lease(lease).as_slice())
                .map_err(internal("writing a lease"))?;
            t.lease_expiry
                .insert((lease.expiry_ms, id), ())
                .map_err(internal("writing a lease"))?;
        }
        revision
    };
    wtx.commit().map_err(internal("committing"))?;
    Ok(revision)
}

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

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
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
                StoreError::Internal(format!("embedded store: opening {}: {e}", path.display()))
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
        drop(
            self.requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    async fn call(&self, op: Op) -> Result<Reply, StoreError> {
        let (reply, answer) = oneshot::channel();
        {
            let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
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
                kvs.push(decode_kv(key, value.value())?);
            }
            Ok(RangeResponse { kvs, revision })
        })
        .await
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
mod tests {
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
}

//! The store layer: the only code in the project that talks to etcd.
//!
//! [`Store`] is the small set of etcd-shaped operations the daemon relies on:
//! point reads, prefix ranges, multi-key transactions guarded by compares,
//! leases, compaction and watches of a prefix from a revision. Two
//! implementations give them the same semantics:
//!
//! - [`etcd::EtcdStore`] for clusters (etcd-client, one client per endpoint);
//! - [`embedded::EmbeddedStore`], the single-machine default: a redb file on
//!   local disk with its own revision counter, change log, leases and
//!   watches, fsync'd on every commit (commits are grouped so concurrent
//!   writers share fsyncs).
//!
//! Semantics (both stores, checked by the conformance suite in `tests/`):
//! - The store has one revision counter. A transaction that changes at least
//!   one key (a put, or a delete of an existing key) takes the next revision;
//!   all of its changes carry it. A transaction that changes nothing leaves
//!   the revision as it is and reports the current one.
//! - A missing key compares as version 0, create/mod revision 0, and never
//!   equals any value.
//! - Putting a key attached to a lease that does not exist fails the whole
//!   transaction with [`StoreError::LeaseNotFound`].
//! - When a lease expires or is revoked, its keys are deleted at one new
//!   revision, and watchers see the deletes.
//! - A watch from revision `r` delivers, in revision order and grouped by
//!   revision, every change under the prefix with revision `>= r`, then
//!   follows live. `r = 0` means "after the current revision". If `r` is
//!   older than the compaction point the watch fails with
//!   [`StoreError::Compacted`].

pub mod embedded;
pub mod etcd;
pub mod instrumented;
pub mod prefixed;
#[cfg(test)]
pub mod testing;

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use thiserror::Error;

pub type Revision = i64;

/// A store revision as the wire carries it (never negative; 0 if it were).
pub fn wire_revision(r: Revision) -> u64 {
    u64::try_from(r).unwrap_or(0)
}
pub type LeaseId = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    pub create_revision: Revision,
    pub mod_revision: Revision,
    /// Number of puts since the key was (re)created; 1 after the first.
    pub version: i64,
    /// Lease the key is attached to, 0 for none.
    pub lease: LeaseId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Greater,
    Less,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareTarget {
    Value(Vec<u8>),
    Version(i64),
    ModRevision(Revision),
    CreateRevision(Revision),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    pub key: String,
    pub op: CompareOp,
    pub target: CompareTarget,
}

impl Compare {
    pub fn new(key: impl Into<String>, op: CompareOp, target: CompareTarget) -> Self {
        Compare {
            key: key.into(),
            op,
            target,
        }
    }

    /// The key does not exist.
    pub fn absent(key: impl Into<String>) -> Self {
        Self::new(key, CompareOp::Equal, CompareTarget::CreateRevision(0))
    }

    /// The key exists and was last modified at `rev` (optimistic lock).
    pub fn mod_revision(key: impl Into<String>, rev: Revision) -> Self {
        Self::new(key, CompareOp::Equal, CompareTarget::ModRevision(rev))
    }

    pub fn value(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self::new(key, CompareOp::Equal, CompareTarget::Value(value.into()))
    }

    /// Evaluates the compare against the key's current state (`None` when
    /// missing). Shared by the embedded store and tests so the rules live in
    /// one place.
    pub fn holds(&self, kv: Option<&KeyValue>) -> bool {
        use std::cmp::Ordering;
        let ord: Ordering = match (&self.target, kv) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(v), Some(kv)) => kv.value.as_slice().cmp(v.as_slice()),
            (CompareTarget::Version(v), kv) => kv.map_or(0, |k| k.version).cmp(v),
            (CompareTarget::ModRevision(r), kv) => kv.map_or(0, |k| k.mod_revision).cmp(r),
            (CompareTarget::CreateRevision(r), kv) => kv.map_or(0, |k| k.create_revision).cmp(r),
        };
        match self.op {
            CompareOp::Equal => ord == Ordering::Equal,
            CompareOp::NotEqual => ord != Ordering::Equal,
            CompareOp::Greater => ord == Ordering::Greater,
            CompareOp::Less => ord == Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnOp {
    Put {
        key: String,
        value: Vec<u8>,
        lease: LeaseId,
    },
    Delete {
        key: String,
    },
    Get {
        key: String,
    },
}

impl TxnOp {
    pub fn put(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        TxnOp::Put {
            key: key.into(),
            value: value.into(),
            lease: 0,
        }
    }

    pub fn put_with_lease(
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
        lease: LeaseId,
    ) -> Self {
        TxnOp::Put {
            key: key.into(),
            value: value.into(),
            lease,
        }
    }

    pub fn delete(key: impl Into<String>) -> Self {
        TxnOp::Delete { key: key.into() }
    }

    pub fn get(key: impl Into<String>) -> Self {
        TxnOp::Get { key: key.into() }
    }
}

/// If every compare holds, apply `success`, else `failure`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    pub compares: Vec<Compare>,
    pub success: Vec<TxnOp>,
    pub failure: Vec<TxnOp>,
}

impl Txn {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn when(mut self, c: impl IntoIterator<Item = Compare>) -> Self {
        self.compares.extend(c);
        self
    }
    pub fn and_then(mut self, ops: impl IntoIterator<Item = TxnOp>) -> Self {
        self.success.extend(ops);
        self
    }
    pub fn or_else(mut self, ops: impl IntoIterator<Item = TxnOp>) -> Self {
        self.failure.extend(ops);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnResponse {
    pub succeeded: bool,
    /// The store revision after the transaction (its own if it wrote).
    pub revision: Revision,
    /// One entry per `Get` op of the branch that ran, in order.
    pub gets: Vec<Option<KeyValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResponse {
    /// Sorted by key.
    pub kvs: Vec<KeyValue>,
    /// The revision the range was read at.
    pub revision: Revision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub kind: EventKind,
    /// For deletes: the key, an empty value and `mod_revision` = the
    /// revision of the delete.
    pub kv: KeyValue,
}

/// Every change of one revision that matched the watch, in the order the
/// transaction made them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchBatch {
    pub revision: Revision,
    pub events: Vec<WatchEvent>,
}

pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchBatch, StoreError>> + Send>>;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The store cannot be reached or did not answer in time. Writes may or
    /// may not have been applied; retry only what is idempotent.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("revision {requested} has been compacted; the oldest available is {compact_revision}")]
    Compacted {
        requested: Revision,
        compact_revision: Revision,
    },
    #[error("lease {0} not found or expired")]
    LeaseNotFound(LeaseId),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("store failure: {0}")]
    Internal(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `embedded` or `etcd`.
    fn kind(&self) -> &'static str;

    /// The current revision.
    async fn revision(&self) -> Result<Revision, StoreError>;

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;

    /// Every key starting with `prefix`, sorted, with the read revision.
    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError>;

    /// As [`Store::range`], but every `value` comes back empty: for scans
    /// that decide by key and revisions alone (the leader's sweeps), which
    /// need not read, send or copy the documents.
    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        let mut r = self.range(prefix).await?;
        for kv in &mut r.kvs {
            kv.value = Vec::new();
        }
        Ok(r)
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError>;

    /// Grants a lease living `ttl` (whole seconds, at least 1).
    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError>;

    /// Renews the lease; returns its TTL.
    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError>;

    /// Seconds left before the lease expires.
    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError>;

    /// Revokes the lease, deleting its keys.
    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError>;

    /// The store's own members and their health (etcd), for operators.
    /// The embedded store has none.
    async fn store_members(&self) -> Vec<protocol::messages::cluster::StoreMember> {
        Vec::new()
    }

    /// The store's size on disk (bytes, bytes in use, quota), for
    /// operators; `None` when it cannot say.
    async fn usage(&self) -> Option<protocol::messages::cluster::StoreUsage> {
        None
    }

    /// Forgets history before `revision`.
    async fn compact(&self, revision: Revision) -> Result<(), StoreError>;

    async fn watch(
        &self,
        prefix: &str,
        start_revision: Revision,
    ) -> Result<WatchStream, StoreError>;
}

/// Convenience: a put-only transaction (no compares).
pub async fn put(
    store: &dyn Store,
    key: &str,
    value: impl Into<Vec<u8>>,
) -> Result<Revision, StoreError> {
    Ok(store
        .txn(Txn::new().and_then([TxnOp::put(key, value)]))
        .await?
        .revision)
}

/// Deletes `keys`, `batch` per transaction, each delete guarded by the
/// revision it was read at and every transaction by `fence`: a key that
/// changed meanwhile (or a fence that no longer holds) leaves its batch
/// in place. Returns how many keys went.
pub async fn delete_guarded(
    store: &dyn Store,
    keys: &[&KeyValue],
    fence: &[Compare],
    batch: usize,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for chunk in keys.chunks(batch.max(1)) {
        let txn = Txn::new()
            .when(fence.iter().cloned())
            .when(
                chunk
                    .iter()
                    .map(|kv| Compare::mod_revision(&kv.key, kv.mod_revision)),
            )
            .and_then(chunk.iter().map(|kv| TxnOp::delete(&kv.key)));
        if store.txn(txn).await?.succeeded {
            n += chunk.len();
        }
    }
    Ok(n)
}

/// Whether every compare of `fence` holds now (e.g. the leader key is still
/// at the fencing token its holder was elected with). A read, so only a
/// hint between two writes: the writes themselves carry the compares.
pub async fn fence_holds(store: &dyn Store, fence: &[Compare]) -> bool {
    for c in fence {
        match store.get(&c.key).await {
            Ok(kv) if c.holds(kv.as_ref()) => {}
            _ => return false,
        }
    }
    true
}

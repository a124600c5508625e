//! Per-key queues and batched commits for placements.
//!
//! [`Queues::enter`] waits until no one else holding this `Queues` holds
//! the key. The orders domain uses one per node for placements, keyed by
//! restaurant: placements at one restaurant all compare (and bump) its
//! ticket counter, so of several in flight at once only one can commit;
//! the rest read, plan and send a transaction for nothing, then retry.
//! Queued per restaurant on the node, they take turns instead. Nodes still
//! race each other (less so since each restaurant has an owner node, see
//! `api`), and the transaction's compares still decide: the queue only
//! saves wasted work, it guards nothing.
//!
//! [`Queues::commit`] groups the placement transactions that wait at the
//! same moment on a node (at different restaurants, as the turns make
//! them) into one store transaction: the compares of all, the writes of
//! all, and for the failure branch a read of every compared key. When it
//! commits, each placement committed; when it does not, the reads say
//! which placements' own compares failed: those get their lost race (and
//! retry after reading again), the others go again at once without them.
//! So one lost race never fails the others, and each caller gets its own
//! answer. A batch stays within etcd's limits ([`MAX_TXN_OPS`] compares
//! and as many writes, [`MAX_BATCH_BYTES`]) and never holds two
//! placements that touch the same key (etcd refuses a transaction that
//! writes a key twice, and one placement's write must not hide behind
//! another's compare). While one batch is in the store, the next one
//! gathers; one batch at a time per node, unless more wait than one batch
//! can carry.
//!
//! [`Queues::remembered`] keeps what the node's last placement at each
//! restaurant read and wrote (`orders::place` puts and takes it): the next
//! placement there plans on it without reading, and its transaction's
//! compares check that nothing moved since.
//!
//! A value owned by the node (not a static), so two nodes in one process
//! keep separate queues.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::locks::LockAnyway;
use crate::memo::Memo;
use crate::store::{Compare, KeyValue, Store, StoreError, Txn, TxnOp, TxnResponse};

/// The most compares, and the most operations per branch, in one batch:
/// etcd's default `--max-txn-ops`.
pub const MAX_TXN_OPS: usize = 128;
/// The most bytes of keys and values in one batch (etcd takes requests
/// of up to 1.5 MiB by default); a placement larger than this goes alone.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// A placement whose compares held but whose batch failed goes again in
/// the next batch, at most this many times before it goes alone.
const MAX_REBATCH: u32 = 3;
/// At most this many batches in the store at once per node (more than one
/// only when more placements wait than one batch carries).
const MAX_IN_FLIGHT: usize = 4;

/// Placement figures of a node, for its metrics and `cluster.stats`.
#[derive(Debug, Default)]
pub struct PlacementCounters {
    /// Placements committed (orders written).
    pub placements: AtomicU64,
    /// Placement transactions whose own compares failed: another placement
    /// (on this node or another) took the ticket or changed the stock.
    pub lost_races: AtomicU64,
    /// Store transactions sent for placements (a batch is one).
    pub txns: AtomicU64,
}

impl PlacementCounters {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.placements.load(Ordering::Relaxed),
            self.lost_races.load(Ordering::Relaxed),
            self.txns.load(Ordering::Relaxed),
        )
    }
}

/// The most restaurants whose placement inputs a node remembers.
pub const REMEMBERED_RESTAURANTS: usize = 4096;
/// The most bytes of placement inputs (restaurant, menu and stock
/// documents as stored) a node remembers.
pub const REMEMBERED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug)]
pub struct Queues {
    keys: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Batched commits, when made with [`Queues::batching`].
    batcher: Option<Arc<Batcher>>,
    pub counters: Arc<PlacementCounters>,
    /// Per key (restaurant), what its last placement on this node read and
    /// wrote; the type is the orders domain's.
    pub remembered: Memo<Arc<dyn Any + Send + Sync>>,
}

impl Default for Queues {
    fn default() -> Queues {
        Queues {
            keys: Default::default(),
            batcher: None,
            counters: Default::default(),
            remembered: Memo::new(REMEMBERED_RESTAURANTS, REMEMBERED_BYTES),
        }
    }
}

/// A turn at one key; the next in line goes when it is dropped.
#[derive(Debug)]
pub struct Turn<'a> {
    queues: &'a Queues,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Queues {
    /// Queues whose [`Queues::commit`] batches transactions into `store`,
    /// counting into `counters`.
    pub fn batching(store: Arc<dyn Store>, counters: Arc<PlacementCounters>) -> Queues {
        Queues {
            batcher: Some(Arc::new(Batcher {
                store,
                counters: counters.clone(),
                state: Default::default(),
            })),
            counters,
            ..Queues::default()
        }
    }

    /// Commits a placement's transaction: batched with others waiting at
    /// the same moment when these queues batch (into their store, the
    /// node's), else straight into `store`. The answer is this
    /// transaction's own: `succeeded` is whether its compares held.
    pub async fn commit(&self, store: &dyn Store, txn: Txn) -> Result<TxnResponse, StoreError> {
        let Some(b) = &self.batcher else {
            self.counters.txns.fetch_add(1, Ordering::Relaxed);
            return store.txn(txn).await;
        };
        let (tx, rx) = oneshot::channel();
        b.submit(Waiting::new(txn, tx));
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the placement batch was abandoned".into(),
            ))
        })
    }

    pub async fn enter(&self, key: &str) -> Turn<'_> {
        let lock = self
            .keys
            .lock_anyway()
            .entry(key.to_string())
            .or_default()
            .clone();
        Turn {
            queues: self,
            key: key.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Keys with someone holding or waiting for them.
    pub fn len(&self) -> usize {
        self.keys.lock_anyway().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

type Answer = oneshot::Sender<Result<TxnResponse, StoreError>>;

/// A transaction waiting for a batch.
struct Waiting {
    txn: Txn,
    tx: Answer,
    /// Keys it compares, and keys it writes.
    compared: HashSet<String>,
    written: HashSet<String>,
    bytes: usize,
    /// Times its compares held but its batch failed.
    rebatched: u32,
    /// It goes in a batch of its own (it reads, has a failure branch, or
    /// was re-batched too often).
    alone: bool,
}

impl Waiting {
    fn new(txn: Txn, tx: Answer) -> Waiting {
        let compared = txn.compares.iter().map(|c| c.key.clone()).collect();
        let mut written = HashSet::new();
        let mut bytes = 0;
        let mut reads = false;
        for op in &txn.success {
            match op {
                TxnOp::Put { key, value, .. } => {
                    bytes += key.len() + value.len();
                    written.insert(key.clone());
                }
                TxnOp::Delete { key } => {
                    bytes += key.len();
                    written.insert(key.clone());
                }
                TxnOp::Get { .. } => reads = true,
            }
        }
        let alone = reads
            || !txn.failure.is_empty()
            || txn.compares.len() > MAX_TXN_OPS
            || txn.success.len() > MAX_TXN_OPS
            || bytes > MAX_BATCH_BYTES;
        Waiting {
            txn,
            tx,
            compared,
            written,
            bytes,
            rebatched: 0,
            alone,
        }
    }

    /// Whether `self` and `other` touch a common key that one of them
    /// writes.
    fn conflicts(&self, other: &Waiting) -> bool {
        self.written
            .iter()
            .any(|k| other.written.contains(k) || other.compared.contains(k))
            || self.compared.iter().any(|k| other.written.contains(k))
    }
}

#[derive(Default)]
struct BatchState {
    pending: VecDeque<Waiting>,
    /// Batches in the store now.
    in_flight: usize,
}

struct Batcher {
    store: Arc<dyn Store>,
    counters: Arc<PlacementCounters>,
    state: Mutex<BatchState>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

impl Batcher {
    fn state(&self) -> std::sync::MutexGuard<'_, BatchState> {
        self.state.lock_anyway()
    }

    fn submit(self: &Arc<Self>, w: Waiting) {
        let start = {
            let mut st = self.state();
            st.pending.push_back(w);
            let more_than_a_batch = st.pending.len() > 1
                && (st
                    .pending
                    .iter()
                    .map(|w| w.txn.success.len())
                    .sum::<usize>()
                    > MAX_TXN_OPS
                    || st
                        .pending
                        .iter()
                        .map(|w| w.txn.compares.len())
                        .sum::<usize>()
                        > MAX_TXN_OPS);
            let go = st.in_flight == 0 || (more_than_a_batch && st.in_flight < MAX_IN_FLIGHT);
            if go {
                st.in_flight += 1;
            }
            go
        };
        if start {
            let me = self.clone();
            // A task of its own: a caller that goes away (its client hung
            // up) must not take the others' batch with it.
            tokio::spawn(async move { me.flush().await });
        }
    }

    /// Sends batches until none waits. Each round answers or re-queues
    /// every transaction it took, and re-queues only those whose compares
    /// held while others' did not (at most [`MAX_REBATCH`] times each), so
    /// the loop ends once the queue is empty.
    async fn flush(&self) {
        loop {
            let batch = {
                let mut st = self.state();
                let batch = take_batch(&mut st.pending);
                if batch.is_empty() {
                    st.in_flight = st.in_flight.saturating_sub(1);
                    return;
                }
                batch
            };
            let again = self.send(batch).await;
            if !again.is_empty() {
                let mut st = self.state();
                for w in again.into_iter().rev() {
                    st.pending.push_front(w);
                }
            }
        }
    }

    /// Sends one batch and answers its transactions; returns those to go
    /// again (their compares held, the batch failed on others').
    async fn send(&self, mut batch: Vec<Waiting>) -> Vec<Waiting> {
        self.counters.txns.fetch_add(1, Ordering::Relaxed);
        if batch.len() == 1 {
            let w = batch.pop().expect("one");
            let _ = w.tx.send(self.store.txn(w.txn).await);
            return Vec::new();
        }
        let mut compared: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        let mut txn = Txn::new();
        for w in &batch {
            for c in &w.txn.compares {
                if seen.insert(c.key.as_str()) {
                    compared.push(c.key.as_str());
                }
            }
            txn.compares.extend(w.txn.compares.iter().cloned());
            txn.success.extend(w.txn.success.iter().cloned());
        }
        txn.failure = compared.iter().map(|k| TxnOp::get(*k)).collect();
        let keys: Vec<String> = compared.iter().map(|k| k.to_string()).collect();
        match self.store.txn(txn).await {
            Err(e) => {
                for w in batch {
                    let _ = w.tx.send(Err(e.clone()));
                }
                Vec::new()
            }
            Ok(r) if r.succeeded => {
                for w in batch {
                    let _ = w.tx.send(Ok(TxnResponse {
                        succeeded: true,
                        revision: r.revision,
                        gets: Vec::new(),
                    }));
                }
                Vec::new()
            }
            Ok(r) => {
                let now: HashMap<&str, Option<&KeyValue>> = keys
                    .iter()
                    .map(String::as_str)
                    .zip(r.gets.iter().map(Option::as_ref))
                    .collect();
                let holds = |c: &Compare| now.get(c.key.as_str()).is_some_and(|kv| c.holds(*kv));
                let (held, lost): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .partition(|w| w.txn.compares.iter().all(holds));
                let progress = !lost.is_empty();
                for w in lost {
                    let _ = w.tx.send(Ok(TxnResponse {
                        succeeded: false,
                        revision: r.revision,
                        gets: Vec::new(),
                    }));
                }
                held.into_iter()
                    .map(|mut w| {
                        w.rebatched += 1;
                        // No compare to blame (the reads disagree with the
                        // store's verdict): each goes alone.
                        w.alone = w.alone || !progress || w.rebatched >= MAX_REBATCH;
                        w
                    })
                    .collect()
            }
        }
    }
}

/// Takes the next batch off the front of `pending`: in order, each
/// transaction that fits ([`MAX_TXN_OPS`], [`MAX_BATCH_BYTES`]) and
/// touches no key another in the batch writes; one that must go alone
/// goes alone. What does not fit waits for the next batch, in order.
fn take_batch(pending: &mut VecDeque<Waiting>) -> Vec<Waiting> {
    let Some(first) = pending.pop_front() else {
        return Vec::new();
    };
    if first.alone {
        return vec![first];
    }
    let (mut compares, mut ops, mut bytes) = (
        first.txn.compares.len(),
        first.txn.success.len(),
        first.bytes,
    );
    let mut batch = vec![first];
    let mut i = 0;
    while i < pending.len() {
        let w = &pending[i];
        let fits = !w.alone
            && compares + w.txn.compares.len() <= MAX_TXN_OPS
            && ops + w.txn.success.len() <= MAX_TXN_OPS
            && bytes + w.bytes <= MAX_BATCH_BYTES
            && !batch.iter().any(|b| b.conflicts(w));
        if fits {
            compares += w.txn.compares.len();
            ops += w.txn.success.len();
            bytes += w.bytes;
            if let Some(w) = pending.remove(i) {
                batch.push(w);
            }
        } else {
            i += 1;
        }
        if compares >= MAX_TXN_OPS || ops >= MAX_TXN_OPS {
            break;
        }
    }
    batch
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut keys = self.queues.keys.lock_anyway();
        // Only the map's own reference left: nobody holds or waits.
        if keys
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            keys.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn holders_of_one_key_take_turns() {
        let q = Queues::default();
        let a = q.enter("trattoria").await;
        // Another holder of the same key waits its turn...
        assert!(q.enter("trattoria").now_or_never().is_none());
        // ... one at another key does not.
        let b = q.enter("sushi").now_or_never().expect("no wait");
        assert_eq!(q.len(), 2);
        let mut waiting = Box::pin(q.enter("trattoria"));
        assert!((&mut waiting).now_or_never().is_none());
        drop(a);
        let c = waiting
            .now_or_never()
            .expect("its turn once the first is done");
        drop((b, c));
        assert!(q.is_empty(), "no key kept once nobody holds or waits");
    }

    fn batching() -> (Queues, Arc<dyn Store>, tempfile::TempDir) {
        let (dir, store) = crate::store::testing::temp_store();
        let q = Queues::batching(store.clone(), Default::default());
        (q, store, dir)
    }

    /// Creates `key` with `value`, if absent.
    fn create(key: &str, value: &str) -> Txn {
        Txn::new()
            .when([Compare::absent(key)])
            .and_then([TxnOp::put(key, value)])
    }

    #[tokio::test]
    async fn transactions_waiting_together_commit_in_one_batch_each_with_its_answer() {
        let (q, store, _dir) = batching();
        // Key 3 is taken: its creation loses, the others must not.
        store.txn(create("/k/3", "before")).await.unwrap();
        let answers = futures::future::join_all(
            (0..10).map(|i| q.commit(store.as_ref(), create(&format!("/k/{i}"), "new"))),
        )
        .await;
        for (i, a) in answers.iter().enumerate() {
            let a = a.as_ref().unwrap();
            assert_eq!(a.succeeded, i != 3, "{i}");
        }
        // One batch that failed on key 3, then the nine others again.
        assert_eq!(q.counters.txns.load(Ordering::Relaxed), 2);
        for i in 0..10 {
            let kv = store.get(&format!("/k/{i}")).await.unwrap().unwrap();
            let want = if i == 3 { "before" } else { "new" };
            assert_eq!(kv.value, want.as_bytes(), "{i}");
        }
        // The nine committed together: one revision.
        let revs: HashSet<_> = answers
            .iter()
            .filter_map(|a| a.as_ref().ok().filter(|a| a.succeeded).map(|a| a.revision))
            .collect();
        assert_eq!(revs.len(), 1);
    }

    #[tokio::test]
    async fn transactions_on_the_same_key_never_share_a_batch() {
        let (q, store, _dir) = batching();
        let answers = futures::future::join_all([
            q.commit(store.as_ref(), create("/k/same", "a")),
            q.commit(store.as_ref(), create("/k/other", "x")),
            q.commit(store.as_ref(), create("/k/same", "b")),
        ])
        .await;
        let ok: Vec<bool> = answers
            .iter()
            .map(|a| a.as_ref().unwrap().succeeded)
            .collect();
        assert_eq!(ok, [true, true, false]);
        let kv = store.get("/k/same").await.unwrap().unwrap();
        assert_eq!(kv.value, b"a");
        assert_eq!(q.counters.txns.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_batch_stays_within_the_operation_limit() {
        let (q, store, _dir) = batching();
        let answers = futures::future::join_all(
            (0..300).map(|i| q.commit(store.as_ref(), create(&format!("/n/{i}"), "v"))),
        )
        .await;
        assert!(answers.iter().all(|a| a.as_ref().unwrap().succeeded));
        let txns = q.counters.txns.load(Ordering::Relaxed);
        assert!((3..=10).contains(&txns), "{txns} transactions for 300");
        assert_eq!(store.range("/n/").await.unwrap().kvs.len(), 300);
    }

    #[tokio::test]
    async fn a_transaction_that_reads_goes_alone_with_its_own_answer() {
        let (q, store, _dir) = batching();
        store.txn(create("/r/a", "1")).await.unwrap();
        let reads = Txn::new()
            .when([Compare::absent("/r/a")])
            .or_else([TxnOp::get("/r/a")]);
        let (a, b) = futures::join!(
            q.commit(store.as_ref(), reads),
            q.commit(store.as_ref(), create("/r/b", "2"))
        );
        let a = a.unwrap();
        assert!(!a.succeeded);
        assert_eq!(a.gets.len(), 1);
        assert!(b.unwrap().succeeded);
    }

    #[tokio::test]
    async fn two_queues_are_independent() {
        let (q1, q2) = (Queues::default(), Queues::default());
        let _a = q1.enter("trattoria").await;
        assert!(q2.enter("trattoria").now_or_never().is_some());
    }
}

//! Retention: the hot store keeps what is live, for a bounded time. The
//! leader runs [`sweep`] every `sweep_every_secs`, every write fenced by its
//! token and guarded by the mod revision it read, so a sweep cut short (a
//! crash, a deposed leader) is simply done again by the next one:
//!
//! 1. A finished order (terminal state, no payment step in flight) whose
//!    last change is older than `finished_after_secs` is written to the
//!    archive (an idempotent upsert), and only then deleted from the hot
//!    store with its events and customer index entry. Without an archive
//!    (a cluster with no `archive_url`) orders stay.
//! 2. An idempotency record older than `idempotency_window_secs` whose
//!    order left the hot store is deleted: a retry after that is a new
//!    order.
//! 3. Menu and restaurant events older than `resume_window_secs` are
//!    deleted (order events went with their orders).
//! 4. Every `compact_every_secs`, the store's history is compacted to the
//!    revision of `resume_window_secs` ago: a subscriber asking for older
//!    revisions gets `compacted` and re-reads its snapshot.
//!
//! Times of revisions come from [`Marks`]: (time, revision) pairs the
//! leader records as it sweeps, kept in the store so a new leader knows
//! them. A key created at or before the revision marked at time *t* is at
//! least as old as *t*; one last written after it is younger.
//!
//! A sweep reads keys, not documents: the hot store holds a day of orders
//! and more, and reading all of them every few seconds would cost the
//! store more than the orders themselves. Only an order last written
//! before the mark of `finished_after_secs` ago can be due, so only those
//! are read; an idempotency record's document (its order's id) is read
//! only once the record is past its window; event keys carry their time.
//! And the keys of orders and records are read at a [`Pace`]: every
//! hundredth of their windows (a day: every 14 minutes), not every sweep.

use std::collections::HashSet;

use futures::StreamExt;

use protocol::messages::orders::{Order, OrderState, PaymentState};
use serde::{Deserialize, Serialize};

use super::{ORDERS_PREFIX, customer_index_key, order_id_in};
use crate::archive::Timeline;
use crate::catalog::{RESTAURANTS, events_prefix};
use crate::config::RetentionSettings;
use crate::ctx::Ctx;
use crate::locks::LockAnyway;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, KeyValue, Revision, Txn, TxnOp};

/// The leader's (time, revision) marks.
pub const MARKS_KEY: &str = "/dfood/retention/marks";
/// The last compaction ([`Compaction`]).
pub const COMPACTED_KEY: &str = "/dfood/retention/compacted";
/// Keys deleted per transaction (etcd allows 128 operations).
const BATCH: usize = 64;
/// Orders archived per archive transaction.
const ARCHIVE_BATCH: usize = 64;
/// Orders archived per sweep at most (the next sweep goes on), so a
/// backlog never makes one sweep last minutes.
const MAX_ARCHIVED_PER_SWEEP: usize = 2_000;
/// The most marks kept.
const MAX_MARKS: usize = 2_000;
/// Documents read at once by a sweep.
const READ_BATCH: usize = 256;

/// Times of revisions, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    /// (unix ms, revision).
    pub marks: Vec<(u64, Revision)>,
}

impl Marks {
    /// The newest revision marked at or before `t`.
    pub fn revision_at(&self, t: u64) -> Option<Revision> {
        self.marks
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, r)| *r)
    }

    /// The revision of the oldest mark at or after `t`: a key whose mod
    /// revision is above it was last written after `t`.
    pub fn revision_since(&self, t: u64) -> Option<Revision> {
        self.marks.iter().find(|(at, _)| *at >= t).map(|(_, r)| *r)
    }

    /// Adds (`now`, `rev`) if the last mark is at least `spacing` ms old,
    /// and forgets marks older than `keep` ms but the newest of those (the
    /// oldest point still needed).
    pub fn record(&mut self, now: u64, rev: Revision, spacing: u64, keep: u64) {
        if self
            .marks
            .last()
            .is_none_or(|(at, _)| now.saturating_sub(*at) >= spacing)
        {
            self.marks.push((now, rev));
        }
        let cutoff = now.saturating_sub(keep);
        let old = self.marks.iter().filter(|(at, _)| *at < cutoff).count();
        if old > 1 {
            self.marks.drain(..old - 1);
        }
        if self.marks.len() > MAX_MARKS {
            let extra = self.marks.len() - MAX_MARKS;
            self.marks.drain(..extra);
        }
    }
}

/// When the leader's sweeps last read the keys of every order and
/// idempotency record, and whether that read left a backlog.
#[derive(Debug, Default)]
pub struct Pace {
    /// Unix ms.
    last: Option<u64>,
    /// More orders were due than one sweep archives.
    behind: bool,
}

impl Pace {
    /// Reading every order's key costs the store in proportion to the hot
    /// store (a day of orders and more), while an order waits
    /// `finished_after_secs` to leave (and a record
    /// `idempotency_window_secs`) anyway: the keys are read every
    /// hundredth of the shorter of the two, at most hourly, so nothing
    /// leaves more than 1% of its time late.
    pub fn scan_every_ms(s: &RetentionSettings) -> u64 {
        (secs_ms(s.finished_after_secs.min(s.idempotency_window_secs)) / 100).min(3_600_000)
    }

    /// Whether a sweep at `now` reads the keys: the first one, then every
    /// [`Pace::scan_every_ms`], at once while a backlog is left, and after
    /// the clock went back.
    pub fn scan_due(&self, now: u64, s: &RetentionSettings) -> bool {
        self.behind
            || self
                .last
                .is_none_or(|t| now < t || now - t >= Self::scan_every_ms(s))
    }
}

/// The last compaction of the store's history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    pub revision: Revision,
    /// Unix ms.
    pub at: u64,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub archived: usize,
    pub idempotency_expired: usize,
    pub events_deleted: usize,
    pub compacted_to: Option<Revision>,
}

fn secs_ms(s: u64) -> u64 {
    s.saturating_mul(1000)
}

/// A payment step still in flight (the worker's, not ours, to finish).
fn money_moving(o: &Order) -> bool {
    matches!(
        o.payment.state,
        PaymentState::Authorizing
            | PaymentState::Capturing
            | PaymentState::Voiding
            | PaymentState::Refunding
    )
}

/// When `o` went through its states, from its events (each holds the order
/// after a change).
pub fn timeline(o: &Order, events: &[KeyValue]) -> Timeline {
    let mut t = Timeline {
        accepted_at: None,
        ready_at: None,
        finished_at: o.updated_at,
    };
    for kv in events {
        let Ok(e) = serde_json::from_slice::<protocol::messages::Event>(&kv.value) else {
            continue;
        };
        let Ok(seen) = serde_json::from_value::<Order>(e.data) else {
            continue;
        };
        match seen.state {
            OrderState::Accepted if t.accepted_at.is_none() => {
                t.accepted_at = Some(seen.updated_at)
            }
            OrderState::Ready if t.ready_at.is_none() => t.ready_at = Some(seen.updated_at),
            s if s == o.state => t.finished_at = t.finished_at.min(seen.updated_at),
            _ => {}
        }
    }
    t
}

/// Deletes `keys` in fenced batches, each key only if still at the mod
/// revision read.
async fn delete_all(ctx: &Ctx<'_>, keys: &[&KeyValue], fence: &[Compare]) -> ApiResult<usize> {
    Ok(crate::store::delete_guarded(ctx.store, keys, fence, BATCH).await?)
}

/// Archives `batch` (one archive transaction), then deletes each order from
/// the hot store with its events and index entry, guarded by the revision
/// read: an order that changed meanwhile (a recall) stays, and the next
/// sweep looks again. Returns the ids that left the hot store.
async fn archive_batch(
    ctx: &Ctx<'_>,
    archive: &crate::archive::Archive,
    batch: &[(Order, KeyValue)],
    fence: &[Compare],
    now: u64,
) -> ApiResult<HashSet<String>> {
    let store = ctx.store;
    let events = futures::future::try_join_all(batch.iter().map(|(o, _)| async move {
        let prefix = format!("{}{}/", events_prefix(&o.restaurant), o.id);
        Ok::<_, ApiError>(store.range(&prefix).await?.kvs)
    }))
    .await?;
    let rows: Vec<(Order, Timeline)> = batch
        .iter()
        .zip(&events)
        .map(|((o, _), ev)| (o.clone(), timeline(o, ev)))
        .collect();
    archive.upsert_many(&rows, now).await?;
    let gone = std::sync::Mutex::new(HashSet::new());
    // Orders one at a time would wait for the store's commit each; several
    // at once share them (the embedded store's group commit, etcd's
    // pipelining).
    type Step<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<()>> + Send + 'a>>;
    let each: Vec<Step<'_>> = batch.iter().zip(&events).map(|((o, kv), events)| {
        let gone = &gone;
        Box::pin(async move {
            // Events beyond one transaction's room first (they no longer
            // change), then the order with its index entry and the rest of
            // its events, in one guarded transaction.
            let room = BATCH.saturating_sub(3);
            let (rest, older) = if events.len() > room {
                let (older, rest) = events.split_at(events.len() - room);
                (rest, older)
            } else {
                (&events[..], &[][..])
            };
            delete_all(ctx, &older.iter().collect::<Vec<_>>(), fence).await?;
            let index = customer_index_key(&o.customer_id, &o.id);
            let mut ops = vec![TxnOp::delete(&kv.key), TxnOp::delete(&index)];
            let mut compares = vec![Compare::mod_revision(&kv.key, kv.mod_revision)];
            for e in rest {
                ops.push(TxnOp::delete(&e.key));
                compares.push(Compare::mod_revision(&e.key, e.mod_revision));
            }
            let txn = Txn::new()
                .when(fence.iter().cloned())
                .when(compares)
                .and_then(ops);
            if store.txn(txn).await?.succeeded {
                gone.lock_anyway()
                    .insert(o.id.clone());
                // The payment's records go too, where this node's store
                // holds them (the sandbox): nothing asks for them any more.
                if let Err(e) = ctx
                    .gateway
                    .forget(&o.id, o.payment.gateway_ref.as_deref())
                    .await
                {
                    tracing::warn!(order = %o.id, error = %e, "cannot drop the gateway's records of an archived order");
                }
            }
            Ok::<_, ApiError>(())
        }) as Step<'_>
    }).collect();
    futures::stream::iter(each)
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<ApiResult<Vec<()>>>()?;
    let gone = gone
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(gone)
}

/// One round of retention (see the module doc). Only the leader runs it,
/// with its `fence`.
pub async fn sweep(
    ctx: &Ctx<'_>,
    s: &RetentionSettings,
    fence: &[Compare],
    pace: &mut Pace,
) -> ApiResult<Swept> {
    let store = ctx.store;
    let now = ctx.now_ms();
    let mut out = Swept::default();

    // Mark this moment, so later sweeps know how old revisions are.
    let rev = store.revision().await?;
    let shortest = s.idempotency_window_secs.min(s.resume_window_secs);
    let longest = s
        .idempotency_window_secs
        .max(s.resume_window_secs)
        .max(s.finished_after_secs);
    // Close enough to tell the shortest window, and few enough that the
    // kept ones reach back over the longest.
    let spacing = (secs_ms(shortest) / 8)
        .clamp(500, 60_000)
        .max(secs_ms(longest) / (MAX_MARKS as u64 - 100));
    let keep = secs_ms(longest) + 2 * spacing;
    let stored = store.get(MARKS_KEY).await?;
    let mut marks: Marks = match &stored {
        Some(kv) => from_doc(MARKS_KEY, &kv.value)?,
        None => Marks::default(),
    };
    let before = marks.clone();
    marks.record(now, rev, spacing, keep);
    if marks != before {
        let guard = match &stored {
            Some(kv) => Compare::mod_revision(MARKS_KEY, kv.mod_revision),
            None => Compare::absent(MARKS_KEY),
        };
        let txn = Txn::new()
            .when(fence.iter().cloned())
            .when([guard])
            .and_then([TxnOp::put(MARKS_KEY, to_doc(&marks)?)]);
        if !store.txn(txn).await?.succeeded {
            return Err(ApiError::conflict(
                "retention marks changed meanwhile (no longer the leader?)",
            ));
        }
    }

    // 1. Finished orders, to the archive and out of the hot store, a
    //    batch at a time (one archive transaction per batch). Every order
    //    here is hot until archived; only those last written before the
    //    oldest mark since `finished_after_secs` ago can be due (see the
    //    module doc), and only their documents are read. Without an
    //    archive nothing leaves, and nothing is read; with one, the keys
    //    are read at the [`Pace`] of the windows, not every sweep.
    if let Some(archive) = ctx.archive
        && pace.scan_due(now, s)
    {
        let orders = store.range_keys(ORDERS_PREFIX).await?.kvs;
        let mut hot: HashSet<String> = orders.iter().map(|kv| order_id_in(&kv.key)).collect();
        let since = now.saturating_sub(secs_ms(s.finished_after_secs));
        let written_before = marks.revision_since(since).unwrap_or(rev);
        let candidates: Vec<&str> = orders
            .iter()
            .filter(|kv| kv.mod_revision <= written_before)
            .map(|kv| kv.key.as_str())
            .collect();
        // Holds that may still turn up, read once (not one read per order).
        let orphan_prefix = super::pay::orphan_key("");
        let orphans: HashSet<String> = store
            .range_keys(&orphan_prefix)
            .await?
            .kvs
            .into_iter()
            .map(|kv| kv.key[orphan_prefix.len()..].to_string())
            .collect();
        let mut due: Vec<(Order, KeyValue)> = Vec::new();
        let mut behind = false;
        for keys in candidates.chunks(READ_BATCH) {
            for kv in read_all(ctx, keys).await? {
                let o: Order = from_doc(&kv.key, &kv.value)?;
                let finished = o.state.is_terminal()
                    && !money_moving(&o)
                    && o.updated_at.saturating_add(secs_ms(s.finished_after_secs)) <= now
                    // A hold that may still turn up is the worker's to void
                    // first.
                    && !orphans.contains(&o.id);
                if finished {
                    due.push((o, kv));
                }
            }
            if due.len() >= MAX_ARCHIVED_PER_SWEEP {
                due.truncate(MAX_ARCHIVED_PER_SWEEP);
                behind = true;
                break;
            }
        }
        for batch in due.chunks(ARCHIVE_BATCH) {
            let gone = archive_batch(ctx, archive, batch, fence, now).await?;
            out.archived += gone.len();
            hot.retain(|id| !gone.contains(id));
        }

        // 2. Idempotency records past their window, of orders gone from
        //    here (only the archive takes orders away).
        if let Some(cutoff) =
            marks.revision_at(now.saturating_sub(secs_ms(s.idempotency_window_secs)))
        {
            let idem = store.range_keys("/dfood/idem/").await?.kvs;
            let old: Vec<&str> = idem
                .iter()
                .filter(|kv| kv.create_revision <= cutoff)
                .map(|kv| kv.key.as_str())
                .collect();
            for keys in old.chunks(READ_BATCH) {
                let read = read_all(ctx, keys).await?;
                let expired: Vec<&KeyValue> = read
                    .iter()
                    .filter(|kv| {
                        kv.create_revision <= cutoff
                            && !hot.contains(&*String::from_utf8_lossy(&kv.value))
                    })
                    .collect();
                out.idempotency_expired += delete_all(ctx, &expired, fence).await?;
            }
        }
        *pace = Pace {
            last: Some(now),
            behind,
        };
    }

    // 3. Menu and restaurant events past the resume window (their keys
    //    start with the time they were written).
    let window_start = now.saturating_sub(secs_ms(s.resume_window_secs));
    for r in store.range_keys(RESTAURANTS).await?.kvs {
        let id = &r.key[RESTAURANTS.len()..];
        for kind in ["_menu/", "_restaurant/"] {
            let prefix = format!("{}{kind}", events_prefix(id));
            let kvs = store.range_keys(&prefix).await?.kvs;
            let old: Vec<&KeyValue> = kvs
                .iter()
                .filter(|kv| written_at(&kv.key[prefix.len()..]).is_some_and(|t| t < window_start))
                .collect();
            out.events_deleted += delete_all(ctx, &old, fence).await?;
        }
    }

    // 4. History, compacted to the start of the resume window.
    let last: Compaction = match store.get(COMPACTED_KEY).await? {
        Some(kv) => from_doc(COMPACTED_KEY, &kv.value)?,
        None => Compaction::default(),
    };
    if now.saturating_sub(last.at) >= secs_ms(s.compact_every_secs)
        && let Some(to) = marks.revision_at(window_start)
        && to > last.revision
    {
        // Recorded first (fenced): a deposed leader compacts nothing.
        let done = Compaction {
            revision: to,
            at: now,
        };
        let txn = Txn::new()
            .when(fence.iter().cloned())
            .and_then([TxnOp::put(COMPACTED_KEY, to_doc(&done)?)]);
        if store.txn(txn).await?.succeeded {
            store.compact(to).await?;
            out.compacted_to = Some(to);
        }
    }
    Ok(out)
}

/// The keys' documents, read at once (the etcd store sends gets that wait
/// together in one round trip); keys deleted meanwhile are left out.
async fn read_all(ctx: &Ctx<'_>, keys: &[&str]) -> ApiResult<Vec<KeyValue>> {
    let read = futures::future::try_join_all(keys.iter().map(|k| ctx.store.get(k))).await?;
    Ok(read.into_iter().flatten().collect())
}

/// The time at the start of an event key's suffix (`clock::unique_suffix`).
pub fn written_at(suffix: &str) -> Option<u64> {
    suffix.get(..13)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_tell_how_old_a_revision_is() {
        let mut m = Marks::default();
        assert_eq!(m.revision_at(10_000), None);
        m.record(1_000, 10, 500, 60_000);
        m.record(1_200, 11, 500, 60_000); // too soon: not marked
        m.record(2_000, 20, 500, 60_000);
        m.record(3_000, 30, 500, 60_000);
        assert_eq!(m.marks, vec![(1_000, 10), (2_000, 20), (3_000, 30)]);
        assert_eq!(m.revision_at(999), None);
        assert_eq!(m.revision_at(2_500), Some(20));
        assert_eq!(m.revision_at(9_999), Some(30));
        // Old marks go, but the newest one before the cutoff stays.
        m.record(100_000, 40, 500, 60_000);
        assert_eq!(m.marks, vec![(3_000, 30), (100_000, 40)]);
        assert_eq!(m.revision_at(50_000), Some(30));
    }

    #[test]
    fn marks_tell_since_when_a_key_is_unchanged() {
        let mut m = Marks::default();
        assert_eq!(m.revision_since(0), None);
        m.record(1_000, 10, 500, 60_000);
        m.record(2_000, 20, 500, 60_000);
        assert_eq!(m.revision_since(0), Some(10));
        assert_eq!(m.revision_since(1_000), Some(10));
        assert_eq!(m.revision_since(1_001), Some(20));
        assert_eq!(m.revision_since(2_001), None);
    }

    /// A finished order's document, last changed at `at`.
    fn finished(id: &str, at: u64) -> Vec<u8> {
        let doc = serde_json::json!({
            "id": id, "restaurant": "t", "ticket": 1, "customer_id": "usr_1",
            "customer": "cleo", "lines": [], "total": 900, "currency": "EUR",
            "state": "completed",
            "payment": {"state": "captured", "method": "pm_card_visa",
                        "gateway": "sandbox", "amount": 900, "captured": 900},
            "created_at": at, "updated_at": at, "version": 5,
        });
        let o: Order = serde_json::from_value(doc).expect("an order");
        to_doc(&o).unwrap()
    }

    /// The hot store holds a day of orders and more: a sweep reads the
    /// documents of those last written before the mark of
    /// `finished_after_secs` ago, never the younger ones, and archives
    /// each one once it is due.
    #[tokio::test]
    async fn a_sweep_reads_only_the_orders_that_may_be_due() {
        use crate::store::testing::{Call, Hooked, Recorded};
        use std::sync::Arc;
        const T0: u64 = 1_796_083_200_000;
        let (dir, inner) = crate::store::testing::temp_store();
        let hooked = Arc::new(Hooked {
            inner: inner.clone(),
            hooks: Recorded::default(),
        });
        let store: Arc<dyn crate::store::Store> = hooked.clone();
        let clock = Arc::new(crate::clock::ManualClock::at(T0));
        let archive = crate::archive::Archive::open_in(dir.path()).await.unwrap();
        let settings = RetentionSettings {
            finished_after_secs: 60,
            idempotency_window_secs: 60,
            resume_window_secs: 60,
            sweep_every_secs: 1,
            compact_every_secs: 3_600,
        };
        let deps = crate::ctx::Deps {
            archive: Some(Arc::new(archive)),
            retention: settings.clone(),
            ..crate::ctx::Deps::for_tests(store.clone(), dir.path(), clock.clone())
        };
        let ctx = deps.ctx(None, None);
        let put = |id: String, at: u64| {
            let inner = inner.clone();
            async move {
                let key = format!("{ORDERS_PREFIX}t/{id}");
                let txn = Txn::new().and_then([TxnOp::put(key, finished(&id, at))]);
                assert!(inner.txn(txn).await.unwrap().succeeded);
            }
        };

        let mut pace = Pace::default();
        sweep(&ctx, &settings, &[], &mut pace).await.unwrap();
        put("t-1".into(), T0 + 1_000).await;
        clock.set(T0 + 30_000);
        sweep(&ctx, &settings, &[], &mut pace).await.unwrap();
        for i in 2..=51 {
            put(format!("t-{i}"), T0 + 31_000).await;
        }
        clock.set(T0 + 62_000);
        hooked.hooks.forget();
        let swept = sweep(&ctx, &settings, &[], &mut pace).await.unwrap();
        assert_eq!(swept.archived, 1, "t-1 is due, the others are not");
        let calls = hooked.hooks.calls();
        let gets = hooked.hooks.count(&[Call::Get]);
        let ranges = hooked.hooks.count(&[Call::Range]);
        // The marks, the last compaction and t-1; t-1's events.
        assert!(gets <= 3, "{gets} documents read: {calls:?}");
        assert_eq!(ranges, 1, "{calls:?}");
        let left = inner.range(ORDERS_PREFIX).await.unwrap().kvs;
        assert_eq!(left.len(), 50);
        assert!(left.iter().all(|kv| !kv.key.ends_with("/t-1")));
        assert_eq!(deps.archive.as_ref().unwrap().count().await.unwrap(), 1);

        // A minute after they finished, the 50 are due and go too.
        clock.set(T0 + 92_000);
        let swept = sweep(&ctx, &settings, &[], &mut pace).await.unwrap();
        assert_eq!(swept.archived, 50);
        assert!(inner.range(ORDERS_PREFIX).await.unwrap().kvs.is_empty());
        assert_eq!(deps.archive.as_ref().unwrap().count().await.unwrap(), 51);
    }

    #[test]
    fn the_hot_store_keys_are_read_at_a_hundredth_of_the_windows() {
        let day = RetentionSettings::default();
        assert_eq!(Pace::scan_every_ms(&day), 864_000, "a day: every 14.4 min");
        let minute = RetentionSettings {
            finished_after_secs: 60,
            idempotency_window_secs: 120,
            ..Default::default()
        };
        assert_eq!(Pace::scan_every_ms(&minute), 600);
        let years = RetentionSettings {
            finished_after_secs: 10 * 365 * 86_400,
            idempotency_window_secs: 10 * 365 * 86_400,
            ..Default::default()
        };
        assert_eq!(Pace::scan_every_ms(&years), 3_600_000, "at most hourly");

        let mut p = Pace::default();
        assert!(p.scan_due(1_000_000, &day), "a new leader reads at once");
        p.last = Some(1_000_000);
        assert!(!p.scan_due(1_010_000, &day), "not at the next sweep");
        assert!(!p.scan_due(1_863_999, &day));
        assert!(p.scan_due(1_864_000, &day));
        assert!(p.scan_due(999_000, &day), "the clock went back");
        p.behind = true;
        assert!(p.scan_due(1_010_000, &day), "a backlog: at once");
    }

    #[test]
    fn event_keys_carry_their_time() {
        assert_eq!(
            written_at(&crate::clock::unique_suffix(1_796_083_200_123)),
            Some(1_796_083_200_123)
        );
        assert_eq!(written_at("x"), None);
    }
}

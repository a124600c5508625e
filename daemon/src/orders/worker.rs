//! Background duties for orders: finish payment steps left in flight (by a
//! crash, a gateway timeout, or a node that died mid-request) and expire
//! orders not accepted in time (voiding their payment).
//!
//! The elected leader runs [`once`] every tick (see `crate::cluster`), and
//! every write it makes here carries the leader's fencing compare, so a
//! deposed leader waking up late writes nothing. Doing a duty twice is
//! harmless anyway: each is a compare-and-swap transition, and gateway
//! calls carry idempotency keys. Orders are handled [`CONCURRENCY`] at a
//! time: under a steady load of expiring orders, one after the other
//! could not keep up (each is a transition and a gateway call).

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;

use super::state::Action;
use super::{EXPIRY_WORK_PREFIX, order_id_in};
use crate::ctx::Ctx;
use crate::locks::LockAnyway;
use crate::rpc::ApiError;
use crate::store::{
    Compare, EventKind, KeyValue, Revision, Store, StoreError, Txn, TxnOp, WatchStream,
};

/// A payment step younger than this is left to the request that started it.
pub const GRACE_MS: u64 = 2_000;
/// Orders worked on at once.
pub const CONCURRENCY: usize = 16;

/// The markers are read whole again this often (besides when the watch
/// breaks): a safety net that costs one read in minutes.
pub const EXPIRY_RELOAD: std::time::Duration = std::time::Duration::from_secs(300);

/// The orders awaiting acceptance, by deadline, as the leader knows them:
/// read once, then followed through a watch on their markers (a placement,
/// an acceptance or an expiry is one event), so a round reads nothing from
/// the store while none is due, however many are open (a dinner rush, or a
/// benchmark that never accepts, holds tens of thousands; reading them all
/// every few seconds cost the etcd leader more than the orders did). Read
/// again when the watch breaks and every [`EXPIRY_RELOAD`].
#[derive(Default)]
pub struct Expiring {
    /// (deadline, marker key), soonest first.
    by_deadline: std::collections::BTreeSet<(u64, String)>,
    /// Marker key → (deadline, mod revision).
    markers: std::collections::HashMap<String, (u64, Revision)>,
    watch: Option<WatchStream>,
    loaded: Option<tokio::time::Instant>,
}

impl Expiring {
    fn set(&mut self, kv: &KeyValue) {
        self.remove(&kv.key);
        // A marker that does not parse is due at once (as it always was).
        let deadline: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
        self.by_deadline.insert((deadline, kv.key.clone()));
        self.markers
            .insert(kv.key.clone(), (deadline, kv.mod_revision));
    }

    fn remove(&mut self, key: &str) {
        if let Some((deadline, _)) = self.markers.remove(key) {
            self.by_deadline.remove(&(deadline, key.to_string()));
        }
    }

    /// Brings the markers up to date: what the watch has delivered since
    /// the last round, or a whole read (first, after a broken watch, every
    /// [`EXPIRY_RELOAD`]).
    pub async fn refresh(
        &mut self,
        store: &dyn Store,
        now: tokio::time::Instant,
    ) -> Result<(), StoreError> {
        use futures::FutureExt;
        for _ in 0..2 {
            if self
                .loaded
                .is_none_or(|t| now.saturating_duration_since(t) >= EXPIRY_RELOAD)
            {
                self.watch = None;
            }
            let watch = match self.watch.take() {
                Some(watch) => self.watch.insert(watch),
                None => {
                    let read = store.range(EXPIRY_WORK_PREFIX).await?;
                    let watch = store.watch(EXPIRY_WORK_PREFIX, read.revision + 1).await?;
                    self.by_deadline.clear();
                    self.markers.clear();
                    for kv in &read.kvs {
                        self.set(kv);
                    }
                    self.loaded = Some(now);
                    self.watch.insert(watch)
                }
            };
            let mut broken = false;
            let mut changes = Vec::new();
            // What the watch holds now; it never waits for more.
            while let Some(next) = watch.next().now_or_never() {
                match next {
                    Some(Ok(batch)) => changes.extend(batch.events),
                    Some(Err(_)) | None => {
                        broken = true;
                        break;
                    }
                }
            }
            if broken {
                // Changes may be missing: read them all again.
                self.watch = None;
                continue;
            }
            for e in changes {
                match e.kind {
                    EventKind::Put => self.set(&e.kv),
                    EventKind::Delete => self.remove(&e.kv.key),
                }
            }
            return Ok(());
        }
        Err(StoreError::Unavailable(
            "the watch on expiry markers broke twice in a row".into(),
        ))
    }

    /// The markers whose deadline is at or before `now_ms`: (key, mod
    /// revision), soonest first.
    pub fn due(&self, now_ms: u64) -> Vec<(String, Revision)> {
        self.by_deadline
            .iter()
            .take_while(|(deadline, _)| *deadline <= now_ms)
            .filter_map(|(_, key)| self.markers.get(key).map(|(_, rev)| (key.clone(), *rev)))
            .collect()
    }
}

/// One round of duties; returns how many orders it touched.
pub async fn once(
    ctx: &Ctx<'_>,
    fence: &[Compare],
    expiring: &mut Expiring,
) -> Result<usize, ApiError> {
    let store = ctx.store;
    let now = ctx.now_ms();
    let touched = AtomicUsize::new(0);
    let payments = store.range("/dfood/work/payments/").await?.kvs;
    futures::stream::iter(payments)
        .for_each_concurrent(CONCURRENCY, |kv| {
            let touched = &touched;
            async move {
                let since: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
                if now.saturating_sub(since) < GRACE_MS {
                    return;
                }
                let order = order_id_in(&kv.key);
                match super::pay::drive(ctx, &order, fence).await {
                    Ok(_) => {
                        touched.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => tracing::warn!(%order, error = %e, "cannot finish payment step"),
                }
            }
        })
        .await;
    for kv in store.range("/dfood/work/orphans/").await?.kvs {
        let since: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
        let order = order_id_in(&kv.key);
        if super::pay::void_orphan(ctx, &order, since).await {
            let txn = Txn::new()
                .when(fence.iter().cloned())
                .when([Compare::mod_revision(&kv.key, kv.mod_revision)])
                .and_then([TxnOp::delete(&kv.key)]);
            let _ = store.txn(txn).await;
            touched.fetch_add(1, Ordering::Relaxed);
        }
    }
    expiring.refresh(store, tokio::time::Instant::now()).await?;
    let due = expiring.due(now);
    let expired = std::sync::Mutex::new(Vec::new());
    futures::stream::iter(due)
        .for_each_concurrent(CONCURRENCY, |(key, mod_revision)| {
            let (touched, expired) = (&touched, &expired);
            async move {
                let order = order_id_in(&key);
                let reason = Some("not accepted in time".to_string());
                match super::transition(ctx, &order, Action::Expire, reason, |_| Ok(()), fence)
                    .await
                {
                    Ok(_) => {
                        touched.fetch_add(1, Ordering::Relaxed);
                        // Its marker went with it (the watch says so too).
                        expired.lock_anyway().push(key);
                    }
                    Err(e) if e.code == protocol::wire::ErrorCode::Conflict => {
                        // Accepted or cancelled meanwhile: the marker is
                        // stale. (Or we are no longer the leader: then the
                        // fence keeps the marker for the one who is.)
                        let txn = Txn::new()
                            .when(fence.iter().cloned())
                            .when([Compare::mod_revision(&key, mod_revision)])
                            .and_then([TxnOp::delete(&key)]);
                        if let Ok(r) = store.txn(txn).await
                            && r.succeeded
                        {
                            expired.lock_anyway().push(key);
                        }
                    }
                    Err(e) => tracing::warn!(%order, error = %e, "cannot expire order"),
                }
            }
        })
        .await;
    for key in expired.lock_anyway().drain(..) {
        expiring.remove(&key);
    }
    Ok(touched.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A marker, as the placement writes it.
    fn marker(order: &str, deadline: u64) -> TxnOp {
        TxnOp::put(format!("{EXPIRY_WORK_PREFIX}{order}"), deadline.to_string())
    }

    /// The markers are read once, then followed: later rounds read
    /// nothing from the store, yet see every placement and acceptance; a
    /// broken watch, or the reload interval, reads them again.
    #[tokio::test]
    async fn the_markers_are_read_once_then_followed() {
        use crate::store::testing::{Call, Hooked, Recorded};
        let (_dir, inner) = crate::store::testing::temp_store();
        let store = Hooked {
            inner,
            hooks: Recorded::default(),
        };
        let txn = |ops: Vec<TxnOp>| store.txn(Txn::new().and_then(ops));
        txn(vec![marker("t-1", 1_000), marker("t-2", 5_000)])
            .await
            .unwrap();
        let mut e = Expiring::default();
        let t0 = tokio::time::Instant::now();
        e.refresh(&store, t0).await.unwrap();
        assert_eq!(store.hooks.count(&[Call::Range]), 1);
        let keys = |v: Vec<(String, Revision)>| -> Vec<String> {
            v.into_iter().map(|(k, _)| order_id_in(&k)).collect()
        };
        assert_eq!(keys(e.due(999)), Vec::<String>::new());
        assert_eq!(keys(e.due(1_000)), ["t-1"]);
        assert_eq!(keys(e.due(9_000)), ["t-1", "t-2"]);

        // t-3 placed, t-1 accepted (its marker deleted), t-2 recalled
        // with a later deadline: seen through the watch, with no read.
        txn(vec![marker("t-3", 2_000)]).await.unwrap();
        txn(vec![TxnOp::delete(format!("{EXPIRY_WORK_PREFIX}t-1"))])
            .await
            .unwrap();
        txn(vec![marker("t-2", 8_000)]).await.unwrap();
        let seen = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            e.refresh(&store, t0).await.unwrap();
            if keys(e.due(9_000)) == ["t-3", "t-2"] {
                break;
            }
            assert!(
                tokio::time::Instant::now() < seen,
                "the watch did not bring the changes: {:?}",
                keys(e.due(9_000))
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(keys(e.due(7_999)), ["t-3"]);
        assert_eq!(e.due(u64::MAX).len(), 2, "two await acceptance");
        assert_eq!(store.hooks.count(&[Call::Range]), 1, "no read since");

        // The reload interval: read whole again.
        e.refresh(&store, t0 + EXPIRY_RELOAD).await.unwrap();
        assert_eq!(store.hooks.count(&[Call::Range]), 2);
        assert_eq!(keys(e.due(9_000)), ["t-3", "t-2"]);
    }
}

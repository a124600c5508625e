//! A [`Store`] decorator that times every operation and reports it, by
//! operation and outcome, to an [`Observer`] (the node's metrics, see
//! `crate::metrics`). It adds no behaviour: answers and errors pass
//! through unchanged, so it wraps either store.
//!
//! Operations: `revision`, `get`, `range`, `range_keys`, `txn`, `lease_grant`,
//! `lease_keep_alive`, `lease_time_to_live`, `lease_revoke`,
//! `store_members`, `compact`, `watch` (the time to open the watch, not its
//! life). Outcomes: `ok`, `compare_failed` (a transaction whose compares did
//! not hold: it ran its failure branch), or the error kind
//! ([`error_label`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{
    KeyValue, LeaseId, RangeResponse, Revision, Store, StoreError, Txn, TxnResponse, WatchStream,
};

/// Receives one observation per store operation.
pub trait Observer: Send + Sync + 'static {
    fn observe(&self, op: &'static str, result: &'static str, elapsed: Duration);
}

/// The `result` label of a failed operation.
pub fn error_label(e: &StoreError) -> &'static str {
    match e {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Compacted { .. } => "compacted",
        StoreError::LeaseNotFound(_) => "lease_not_found",
        StoreError::Invalid(_) => "invalid",
        StoreError::Internal(_) => "internal",
    }
}

/// A store failpoint, for tests (the `fail` crate's `failpoints` feature,
/// which only the daemon's own tests enable; otherwise this is a constant
/// `None`): `Some` with an `unavailable` error when failpoint `name` is set
/// to `return` (every transaction) or `return(PREFIX)` (transactions that
/// put a key under PREFIX).
fn injected(name: &str, txn: &Txn) -> Option<StoreError> {
    if !fail::has_failpoints() {
        return None;
    }
    fail::eval(name, |prefix: Option<String>| {
        let hit = match prefix {
            None => true,
            Some(p) => txn
                .success
                .iter()
                .any(|o| matches!(o, super::TxnOp::Put { key, .. } if key.starts_with(&p))),
        };
        hit.then(|| StoreError::Unavailable(format!("failpoint {name} (injected)")))
    })
    .flatten()
}

/// `inner`, timed.
pub struct InstrumentedStore {
    inner: Arc<dyn Store>,
    observer: Arc<dyn Observer>,
}

impl InstrumentedStore {
    pub fn wrap(inner: Arc<dyn Store>, observer: Arc<dyn Observer>) -> Arc<dyn Store> {
        Arc::new(InstrumentedStore { inner, observer })
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let r = fut.await;
        let result = match &r {
            Ok(_) => "ok",
            Err(e) => error_label(e),
        };
        self.observer.observe(op, result, started.elapsed());
        r
    }
}

#[async_trait]
impl Store for InstrumentedStore {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        self.timed("revision", self.inner.revision()).await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.timed("get", self.inner.get(key)).await
    }

    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.timed("range", self.inner.range(prefix)).await
    }

    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.timed("range_keys", self.inner.range_keys(prefix))
            .await
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        // Failpoints (see [`injected`]): fail before the store sees it, or
        // apply it and lose the answer.
        if let Some(e) = injected("store.txn.before", &txn) {
            return Err(e);
        }
        let lose_answer = injected("store.txn.after", &txn);
        let started = Instant::now();
        let r = self.inner.txn(txn).await;
        if let Some(e) = lose_answer {
            return Err(e);
        }
        let result = match &r {
            Ok(t) if t.succeeded => "ok",
            Ok(_) => "compare_failed",
            Err(e) => error_label(e),
        };
        self.observer.observe("txn", result, started.elapsed());
        r
    }

    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        self.timed("lease_grant", self.inner.lease_grant(ttl)).await
    }

    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.timed("lease_keep_alive", self.inner.lease_keep_alive(id))
            .await
    }

    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.timed("lease_time_to_live", self.inner.lease_time_to_live(id))
            .await
    }

    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError> {
        self.timed("lease_revoke", self.inner.lease_revoke(id))
            .await
    }

    async fn usage(&self) -> Option<protocol::messages::cluster::StoreUsage> {
        self.inner.usage().await
    }

    async fn store_members(&self) -> Vec<protocol::messages::cluster::StoreMember> {
        let started = Instant::now();
        let members = self.inner.store_members().await;
        self.observer
            .observe("store_members", "ok", started.elapsed());
        members
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.timed("compact", self.inner.compact(revision)).await
    }

    async fn watch(
        &self,
        prefix: &str,
        start_revision: Revision,
    ) -> Result<WatchStream, StoreError> {
        self.timed("watch", self.inner.watch(prefix, start_revision))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::TxnOp;
    use crate::store::embedded::EmbeddedStore;

    #[derive(Default)]
    struct Seen(Mutex<Vec<(&'static str, &'static str)>>);

    impl Observer for Seen {
        fn observe(&self, op: &'static str, result: &'static str, _: Duration) {
            self.0.lock().unwrap().push((op, result));
        }
    }

    #[tokio::test]
    async fn every_operation_is_observed_with_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let seen = Arc::new(Seen::default());
        let store = InstrumentedStore::wrap(
            EmbeddedStore::open(&dir.path().join("s.redb")).unwrap(),
            seen.clone(),
        );
        assert_eq!(store.kind(), "embedded");
        store
            .txn(Txn::new().and_then([TxnOp::put("/k", "v")]))
            .await
            .unwrap();
        let r = store
            .txn(
                Txn::new()
                    .when([crate::store::Compare::absent("/k")])
                    .and_then([TxnOp::put("/k", "w")]),
            )
            .await
            .unwrap();
        assert!(!r.succeeded);
        assert!(store.get("/k").await.unwrap().is_some());
        let err = store.lease_keep_alive(424242).await.unwrap_err();
        assert!(matches!(err, StoreError::LeaseNotFound(_)), "{err}");
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                ("txn", "ok"),
                ("txn", "compare_failed"),
                ("get", "ok"),
                ("lease_keep_alive", "lease_not_found"),
            ]
        );
    }
}

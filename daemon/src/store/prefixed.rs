//! A [`Store`] that keeps everything under another root: the daemon's keys
//! `/dfood/...` live as `<root>/...` in the store underneath, and read back
//! as `/dfood/...`. `dfoodd-bench` runs the daemon's own placement code on
//! it (root `/dfood-raw`), so a raw benchmark issues the daemon's exact
//! transactions, same shapes and sizes, on keys no daemon sharing the
//! store ever sees.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use super::{
    Compare, KeyValue, LeaseId, RangeResponse, Revision, Store, StoreError, Txn, TxnOp,
    TxnResponse, WatchStream,
};

const HOME: &str = "/dfood/";

pub struct Prefixed {
    inner: Arc<dyn Store>,
    /// `<root>/`, standing for `/dfood/`.
    root: String,
}

impl Prefixed {
    /// `root` without a trailing slash, e.g. `/dfood-raw`.
    pub fn wrap(inner: Arc<dyn Store>, root: &str) -> Arc<dyn Store> {
        Arc::new(Prefixed {
            inner,
            root: format!("{}/", root.trim_end_matches('/')),
        })
    }

    /// The key underneath; keys outside `/dfood/` stay as they are.
    pub fn down(&self, key: &str) -> String {
        match key.strip_prefix(HOME) {
            Some(rest) => format!("{}{rest}", self.root),
            None => key.to_string(),
        }
    }

    fn up(&self, key: String) -> String {
        match key.strip_prefix(&self.root) {
            Some(rest) => format!("{HOME}{rest}"),
            None => key,
        }
    }

    fn up_kv(&self, mut kv: KeyValue) -> KeyValue {
        kv.key = self.up(kv.key);
        kv
    }

    fn down_op(&self, op: TxnOp) -> TxnOp {
        match op {
            TxnOp::Put { key, value, lease } => TxnOp::Put {
                key: self.down(&key),
                value,
                lease,
            },
            TxnOp::Delete { key } => TxnOp::Delete {
                key: self.down(&key),
            },
            TxnOp::Get { key } => TxnOp::Get {
                key: self.down(&key),
            },
        }
    }

    /// The same transaction on the keys underneath.
    pub fn down_txn(&self, t: Txn) -> Txn {
        Txn {
            compares: t
                .compares
                .into_iter()
                .map(|c| Compare {
                    key: self.down(&c.key),
                    ..c
                })
                .collect(),
            success: t.success.into_iter().map(|o| self.down_op(o)).collect(),
            failure: t.failure.into_iter().map(|o| self.down_op(o)).collect(),
        }
    }
}

#[async_trait]
impl Store for Prefixed {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        self.inner.revision().await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        Ok(self
            .inner
            .get(&self.down(key))
            .await?
            .map(|kv| self.up_kv(kv)))
    }

    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        let r = self.inner.range(&self.down(prefix)).await?;
        Ok(RangeResponse {
            kvs: r.kvs.into_iter().map(|kv| self.up_kv(kv)).collect(),
            revision: r.revision,
        })
    }

    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        let r = self.inner.range_keys(&self.down(prefix)).await?;
        Ok(RangeResponse {
            kvs: r.kvs.into_iter().map(|kv| self.up_kv(kv)).collect(),
            revision: r.revision,
        })
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        let r = self.inner.txn(self.down_txn(txn)).await?;
        Ok(TxnResponse {
            gets: r
                .gets
                .into_iter()
                .map(|g| g.map(|kv| self.up_kv(kv)))
                .collect(),
            ..r
        })
    }

    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        self.inner.lease_grant(ttl).await
    }

    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.inner.lease_keep_alive(id).await
    }

    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.inner.lease_time_to_live(id).await
    }

    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError> {
        self.inner.lease_revoke(id).await
    }

    async fn usage(&self) -> Option<protocol::messages::cluster::StoreUsage> {
        self.inner.usage().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.inner.compact(revision).await
    }

    async fn watch(
        &self,
        prefix: &str,
        start_revision: Revision,
    ) -> Result<WatchStream, StoreError> {
        let root = self.root.clone();
        let up = move |key: String| match key.strip_prefix(&root) {
            Some(rest) => format!("{HOME}{rest}"),
            None => key,
        };
        let stream = self.inner.watch(&self.down(prefix), start_revision).await?;
        Ok(Box::pin(stream.map(move |b| {
            b.map(|mut b| {
                for ev in &mut b.events {
                    ev.kv.key = up(std::mem::take(&mut ev.kv.key));
                }
                b
            })
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_move_under_the_root_and_nothing_else_does() {
        let (_dir, inner) = crate::store::testing::temp_store();
        let p = Prefixed {
            inner,
            root: "/dfood-raw/".into(),
        };
        assert_eq!(p.down("/dfood/tickets/bench"), "/dfood-raw/tickets/bench");
        assert_eq!(p.down("/elsewhere"), "/elsewhere");
        let t = p.down_txn(
            Txn::new()
                .when([Compare::absent("/dfood/idem/u/k")])
                .and_then([
                    TxnOp::put("/dfood/orders/r/r-1", "x"),
                    TxnOp::delete("/dfood/work/a"),
                ])
                .or_else([TxnOp::get("/dfood/tickets/r")]),
        );
        assert_eq!(t.compares[0].key, "/dfood-raw/idem/u/k");
        assert_eq!(
            t.success,
            [
                TxnOp::put("/dfood-raw/orders/r/r-1", "x"),
                TxnOp::delete("/dfood-raw/work/a")
            ]
        );
        assert_eq!(t.failure, [TxnOp::get("/dfood-raw/tickets/r")]);
    }

    #[tokio::test]
    async fn reads_and_watches_see_the_daemon_s_keys_and_the_store_the_moved_ones() {
        let (_dir, inner) = crate::store::testing::temp_store();
        let p = Prefixed::wrap(inner.clone(), "/dfood-raw");
        let mut w = p.watch("/dfood/orders/", 0).await.unwrap();
        let r = p
            .txn(
                Txn::new()
                    .when([Compare::absent("/dfood/orders/r/1")])
                    .and_then([
                        TxnOp::put("/dfood/orders/r/1", "o"),
                        TxnOp::get("/dfood/orders/r/1"),
                    ]),
            )
            .await
            .unwrap();
        assert!(r.succeeded);
        assert_eq!(r.gets[0].as_ref().unwrap().key, "/dfood/orders/r/1");
        assert_eq!(
            p.get("/dfood/orders/r/1").await.unwrap().unwrap().value,
            b"o"
        );
        assert_eq!(
            p.range("/dfood/orders/").await.unwrap().kvs[0].key,
            "/dfood/orders/r/1"
        );
        // Underneath, only the moved key exists.
        assert!(inner.get("/dfood/orders/r/1").await.unwrap().is_none());
        assert!(inner.get("/dfood-raw/orders/r/1").await.unwrap().is_some());
        let b = w.next().await.unwrap().unwrap();
        assert_eq!(b.events[0].kv.key, "/dfood/orders/r/1");
    }
}

//! Test-only: [`Hooked`] passes every call to another store after its
//! [`Hooks`] have seen it (to count calls, hold them back, or fail them),
//! so a test writes only what its store does differently.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    KeyValue, LeaseId, RangeResponse, Revision, Store, StoreError, Txn, TxnResponse, WatchStream,
};
use crate::locks::LockAnyway;

/// A call to a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Revision,
    Get,
    Range,
    RangeKeys,
    Txn,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseTimeToLive,
    LeaseRevoke,
    Compact,
    Watch,
}

#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Runs before `call` goes to the inner store; an error is its answer.
    async fn before(&self, _call: Call) -> Result<(), StoreError> {
        Ok(())
    }

    /// What a watch answers with, given the inner store's stream.
    fn watched(&self, stream: WatchStream) -> WatchStream {
        stream
    }
}

/// A fresh embedded store in a directory of its own (kept while the
/// returned `TempDir` lives).
pub fn temp_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = super::embedded::EmbeddedStore::open(&dir.path().join("s.redb"))
        .expect("open the embedded store");
    (dir, store)
}

/// Hooks that record every call, for tests that count them.
#[derive(Default)]
pub struct Recorded(std::sync::Mutex<Vec<Call>>);

impl Recorded {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock_anyway().clone()
    }

    /// How many calls so far are one of `kinds`.
    pub fn count(&self, kinds: &[Call]) -> usize {
        self.calls().iter().filter(|c| kinds.contains(c)).count()
    }

    /// Forgets the calls so far.
    pub fn forget(&self) {
        self.0.lock_anyway().clear();
    }
}

#[async_trait]
impl Hooks for Recorded {
    async fn before(&self, call: Call) -> Result<(), StoreError> {
        self.0.lock_anyway().push(call);
        Ok(())
    }
}

/// Gets wait until this many of them wait together (reads made one
/// after the other never get past the first); other calls pass.
pub struct GetsTogether(pub tokio::sync::Barrier);

impl GetsTogether {
    pub fn of(n: usize) -> GetsTogether {
        GetsTogether(tokio::sync::Barrier::new(n))
    }
}

#[async_trait]
impl Hooks for GetsTogether {
    async fn before(&self, call: Call) -> Result<(), StoreError> {
        if call == Call::Get {
            self.0.wait().await;
        }
        Ok(())
    }
}

/// Every call of these kinds fails as `unavailable` (a store cut off).
pub struct Failing(pub &'static [Call]);

#[async_trait]
impl Hooks for Failing {
    async fn before(&self, call: Call) -> Result<(), StoreError> {
        if self.0.contains(&call) {
            return Err(StoreError::Unavailable("cut off (test)".into()));
        }
        Ok(())
    }
}

/// `inner`, with `hooks` asked first.
pub struct Hooked<H> {
    pub inner: Arc<dyn Store>,
    pub hooks: H,
}

#[async_trait]
impl<H: Hooks> Store for Hooked<H> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn revision(&self) -> Result<Revision, StoreError> {
        self.hooks.before(Call::Revision).await?;
        self.inner.revision().await
    }
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.hooks.before(Call::Get).await?;
        self.inner.get(key).await
    }
    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.hooks.before(Call::Range).await?;
        self.inner.range(prefix).await
    }
    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.hooks.before(Call::RangeKeys).await?;
        self.inner.range_keys(prefix).await
    }
    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        self.hooks.before(Call::Txn).await?;
        self.inner.txn(txn).await
    }
    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        self.hooks.before(Call::LeaseGrant).await?;
        self.inner.lease_grant(ttl).await
    }
    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.hooks.before(Call::LeaseKeepAlive).await?;
        self.inner.lease_keep_alive(id).await
    }
    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError> {
        self.hooks.before(Call::LeaseTimeToLive).await?;
        self.inner.lease_time_to_live(id).await
    }
    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError> {
        self.hooks.before(Call::LeaseRevoke).await?;
        self.inner.lease_revoke(id).await
    }
    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.hooks.before(Call::Compact).await?;
        self.inner.compact(revision).await
    }
    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream, StoreError> {
        self.hooks.before(Call::Watch).await?;
        Ok(self.hooks.watched(self.inner.watch(prefix, start).await?))
    }
}

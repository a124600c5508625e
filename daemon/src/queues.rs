//! Per-key queues: [`Queues::enter`] waits until no one else holding this
//! `Queues` holds the key.
//!
//! The orders domain uses one per node for placements, keyed by restaurant:
//! placements at one restaurant all compare (and bump) its ticket counter,
//! so of several in flight at once only one can commit; the rest read,
//! plan and send a transaction for nothing, then retry. Queued per
//! restaurant on the node, they take turns instead. Nodes still race each
//! other, and the transaction's compares still decide: the queue only
//! saves wasted work, it guards nothing.
//!
//! A value owned by the node (not a static), so two nodes in one process
//! keep separate queues.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
pub struct Queues {
    keys: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A turn at one key; the next in line goes when it is dropped.
#[derive(Debug)]
pub struct Turn<'a> {
    queues: &'a Queues,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Queues {
    pub async fn enter(&self, key: &str) -> Turn<'_> {
        let lock = self
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut keys = self
            .queues
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
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

    #[tokio::test]
    async fn two_queues_are_independent() {
        let (q1, q2) = (Queues::default(), Queues::default());
        let _a = q1.enter("trattoria").await;
        assert!(q2.enter("trattoria").now_or_never().is_some());
    }
}

//! A bounded memory of values read from the store, by key: what a node
//! last read or wrote, kept so that the next request can act on it without
//! reading again. A remembered value is only ever a guess: whoever uses
//! one must make the store check it (a compare on the mod revision it was
//! read at, in the transaction that acts on it), and forget it when the
//! check fails.
//!
//! Bounded by entries and by bytes (as the caller counts them); a value
//! that would pass the bound evicts others first, in no particular order,
//! and one larger than the whole budget is not kept.

use crate::locks::LockAnyway;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct Memo<V> {
    inner: Mutex<Inner<V>>,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug)]
struct Inner<V> {
    map: HashMap<String, (V, usize)>,
    bytes: usize,
}

impl<V: Clone> Memo<V> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Memo<V> {
        Memo {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock_anyway()
    }

    pub fn get(&self, key: &str) -> Option<V> {
        self.inner().map.get(key).map(|(v, _)| v.clone())
    }

    /// Remembers `value` (of about `bytes` bytes) under `key`, in place of
    /// what was there.
    pub fn put(&self, key: &str, value: V, bytes: usize) {
        let mut m = self.inner();
        if let Some((_, b)) = m.map.remove(key) {
            m.bytes -= b;
        }
        if bytes > self.max_bytes || self.max_entries == 0 {
            return;
        }
        while m.map.len() >= self.max_entries || m.bytes + bytes > self.max_bytes {
            let Some(k) = m.map.keys().next().cloned() else {
                break;
            };
            if let Some((_, b)) = m.map.remove(&k) {
                m.bytes -= b;
            }
        }
        m.bytes += bytes;
        m.map.insert(key.to_string(), (value, bytes));
    }

    pub fn forget(&self, key: &str) {
        let mut m = self.inner();
        if let Some((_, b)) = m.map.remove(key) {
            m.bytes -= b;
        }
    }

    /// (entries, bytes) remembered now.
    pub fn size(&self) -> (usize, usize) {
        let m = self.inner();
        (m.map.len(), m.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_entries_and_bytes() {
        let m = Memo::new(3, 100);
        for i in 0..10 {
            m.put(&format!("k{i}"), i, 10);
            let (n, b) = m.size();
            assert!(n <= 3 && b <= 100, "{n} entries, {b} bytes");
        }
        assert_eq!(m.get("k9"), Some(9), "the last one put is kept");
        m.put("big", 1, 95);
        assert_eq!(m.size(), (1, 95), "room made for it");
        m.put("huge", 2, 101);
        assert_eq!(m.get("huge"), None, "larger than the budget: not kept");
        assert_eq!(m.get("big"), Some(1));
        m.put("big", 3, 5);
        assert_eq!(m.size(), (1, 5), "a new value replaces the old one's bytes");
        m.forget("big");
        assert_eq!(m.size(), (0, 0));
        assert_eq!(m.get("big"), None);
    }
}

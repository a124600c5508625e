//! Time, injected: every module that needs "now" takes a [`Clock`] (through
//! `Ctx` or as a parameter) instead of reading the system clock, so tests
//! can drive time ([`ManualClock`]) without sleeping.
//!
//! Wall-clock milliseconds since the Unix epoch, because they are stored
//! (order timestamps, deadlines, lease-free markers) and compared across
//! nodes. Durations measured on one node (timeouts, latencies) keep using
//! `Instant`/tokio time.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Whole seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock tests set and advance by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn at(ms: u64) -> ManualClock {
        ManualClock(AtomicU64::new(ms))
    }

    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fresh suffix for event keys that sorts by time: 13 digits of
/// `now_ms`, the process id (two nodes writing in the same millisecond)
/// and a process-wide sequence number (one process, one millisecond).
pub fn unique_suffix(now_ms: u64) -> String {
    // Process-wide on purpose: two nodes in one process must not collide.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{now_ms:013}-{:08x}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::at(5_000);
        assert_eq!((c.now_ms(), c.now_secs()), (5_000, 5));
        c.advance(1_500);
        assert_eq!(c.now_ms(), 6_500);
        c.set(10);
        assert_eq!(c.now_ms(), 10);
    }

    #[test]
    fn suffixes_sort_by_time_and_differ() {
        let a = unique_suffix(1_000);
        let b = unique_suffix(1_000);
        let c = unique_suffix(2_000);
        assert_ne!(a, b);
        assert!(a < c && b < c, "{a} {b} {c}");
        assert!(a.starts_with("0000000001000-"), "{a}");
        assert_eq!(
            a.len(),
            13 + 1 + 8 + 1 + a.rsplit('-').next().unwrap().len()
        );
    }
}

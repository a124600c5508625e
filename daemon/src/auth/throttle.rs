//! Login throttling: growing delays after failed logins, per account and
//! per source address.
//!
//! - **Per account** (by username, whether or not it exists, so that the
//!   answers tell nothing about which names are taken): cluster-wide, in
//!   the store (`/dfood/auth/throttle/<username>`: failures and the time of
//!   the last attempt). The first [`ACCOUNT_FREE`] failures cost nothing;
//!   then each attempt must wait 1 s, 2 s, 4 s… (at most
//!   [`ACCOUNT_MAX_DELAY_MS`]) after the previous one, and reserves its
//!   turn with a compare-and-swap before the password is checked, so that
//!   concurrent guesses get one turn between them. A successful login
//!   clears the record. Records are written under a lease of
//!   [`LEASE_TTL`]: one that sees no failure for that long goes away (the
//!   store stays bounded whatever names are tried).
//! - **Per source address** (IPv4, or the /64 of an IPv6 address): on each
//!   node, in memory (bounded to [`MAX_ADDRS`] entries). [`ADDR_FREE`]
//!   failures are free (many people share an address), then delays grow
//!   the same way, to at most [`ADDR_MAX_DELAY_MS`]; a success does not
//!   clear them (one's own account would reset a guesser's count), time
//!   does ([`ADDR_FORGET`] without a failure).
//!
//! A refused attempt costs one store read and no password hash; it is
//! answered `unavailable` with `retry_after_ms`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::locks::LockAnyway;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, LeaseId, Store, StoreError, Txn, TxnOp};

pub const THROTTLE_PREFIX: &str = "/dfood/auth/throttle/";
/// Failures per account before delays start.
pub const ACCOUNT_FREE: u32 = 5;
pub const ACCOUNT_MAX_DELAY_MS: u64 = 300_000;
/// Failures per address before delays start.
pub const ADDR_FREE: u32 = 20;
pub const ADDR_MAX_DELAY_MS: u64 = 60_000;
/// An address's failures are forgotten after this long without one.
pub const ADDR_FORGET: Duration = Duration::from_secs(15 * 60);
/// Addresses tracked per node.
pub const MAX_ADDRS: usize = 65_536;
/// Lease of the account records (a new lease is taken every half of it).
pub const LEASE_TTL: Duration = Duration::from_secs(30 * 60);

/// The delay before the next attempt after `failures` failures.
pub fn delay_ms(failures: u32, free: u32, max_ms: u64) -> u64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(30);
    (1000u64 << doublings).min(max_ms)
}

/// An account's failed logins, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub failures: u32,
    /// Unix milliseconds of the last attempt counted.
    pub last_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AddrKey {
    V4(u32),
    /// The /64 prefix.
    V6(u64),
}

fn addr_key(ip: IpAddr) -> AddrKey {
    match ip {
        IpAddr::V4(v4) => AddrKey::V4(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => AddrKey::V4(u32::from(v4)),
            None => {
                let bits = u128::from(v6);
                AddrKey::V6(u64::try_from(bits >> 64).unwrap_or(u64::MAX))
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct AddrEntry {
    failures: u32,
    last: Instant,
}

/// The throttle state of one node.
#[derive(Default)]
pub struct Throttle {
    addrs: Mutex<HashMap<AddrKey, AddrEntry>>,
    lease: tokio::sync::Mutex<Option<(LeaseId, Instant)>>,
}

/// A login attempt let through: what to record when it ends.
#[derive(Debug)]
pub struct Attempt {
    /// The account's record key, and whether a record existed.
    account: Option<(String, bool)>,
    /// The attempt was already counted as a failure (its turn reserved).
    account_reserved: bool,
    addr: Option<AddrKey>,
    addr_reserved: bool,
}

fn busy(what: &str, wait_ms: u64) -> ApiError {
    let secs = wait_ms.div_ceil(1000).max(1);
    ApiError::unavailable(format!(
        "too many failed logins {what}: try again in {secs} s"
    ))
    .retry_after(wait_ms.max(1))
}

impl Throttle {
    /// Whether a login for `username` (when it could name an account) from
    /// `peer` may go ahead now; refused with a retry hint otherwise.
    pub async fn admit(
        &self,
        store: &dyn Store,
        now_ms: u64,
        username: Option<&str>,
        peer: Option<IpAddr>,
    ) -> ApiResult<Attempt> {
        // The address first: it costs no store access.
        let addr = peer.map(addr_key);
        let mut addr_reserved = false;
        if let Some(k) = addr {
            let mut addrs = self.addrs.lock_anyway();
            let now = Instant::now();
            if let Some(e) = addrs.get_mut(&k) {
                if now.duration_since(e.last) > ADDR_FORGET {
                    e.failures = 0;
                }
                let wait = delay_ms(e.failures, ADDR_FREE, ADDR_MAX_DELAY_MS);
                let since =
                    u64::try_from(now.duration_since(e.last).as_millis()).unwrap_or(u64::MAX);
                if wait > 0 {
                    if since < wait {
                        return Err(busy("from this address", wait - since));
                    }
                    e.failures += 1;
                    e.last = now;
                    addr_reserved = true;
                }
            }
        }
        let mut attempt = Attempt {
            account: None,
            account_reserved: false,
            addr,
            addr_reserved,
        };
        let Some(name) = username else {
            return Ok(attempt);
        };
        let key = format!("{THROTTLE_PREFIX}{name}");
        let Some(kv) = store.get(&key).await? else {
            attempt.account = Some((key, false));
            return Ok(attempt);
        };
        let rec: AccountRecord = from_doc(&key, &kv.value)?;
        let wait = delay_ms(rec.failures, ACCOUNT_FREE, ACCOUNT_MAX_DELAY_MS);
        let since = now_ms.saturating_sub(rec.last_ms);
        if wait > 0 {
            if since < wait {
                self.undo_addr(&attempt);
                return Err(busy("for this account", wait - since));
            }
            // Take this turn: count the attempt now, guarded, so that
            // concurrent guesses do not all pass.
            let next = AccountRecord {
                failures: rec.failures.saturating_add(1),
                last_ms: now_ms,
            };
            let txn = Txn::new().when([Compare::mod_revision(&key, kv.mod_revision)]);
            if !self.put(store, &key, &next, txn).await? {
                self.undo_addr(&attempt);
                return Err(busy("for this account", 1000));
            }
            attempt.account_reserved = true;
        }
        attempt.account = Some((key, true));
        Ok(attempt)
    }

    fn undo_addr(&self, attempt: &Attempt) {
        if !attempt.addr_reserved {
            return;
        }
        if let Some(k) = attempt.addr {
            let mut addrs = self.addrs.lock_anyway();
            if let Some(e) = addrs.get_mut(&k) {
                e.failures = e.failures.saturating_sub(1);
            }
        }
    }

    /// Records a failed attempt.
    pub async fn failed(&self, store: &dyn Store, now_ms: u64, attempt: &Attempt) {
        if let (Some(k), false) = (attempt.addr, attempt.addr_reserved) {
            let mut addrs = self.addrs.lock_anyway();
            let now = Instant::now();
            if addrs.len() >= MAX_ADDRS && !addrs.contains_key(&k) {
                addrs.retain(|_, e| now.duration_since(e.last) <= ADDR_FORGET);
                if addrs.len() >= MAX_ADDRS {
                    // Still full of recent failures: forget the oldest.
                    if let Some(oldest) = addrs.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| *k)
                    {
                        addrs.remove(&oldest);
                    }
                }
            }
            let e = addrs.entry(k).or_insert(AddrEntry {
                failures: 0,
                last: now,
            });
            if now.duration_since(e.last) > ADDR_FORGET {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last = now;
        }
        if attempt.account_reserved {
            return;
        }
        let Some((key, _)) = &attempt.account else {
            return;
        };
        for _ in 0..5 {
            let r = async {
                let cur = store.get(key).await?;
                let (failures, guard) = match &cur {
                    Some(kv) => (
                        from_doc::<AccountRecord>(key, &kv.value)?.failures,
                        Compare::mod_revision(key, kv.mod_revision),
                    ),
                    None => (0, Compare::absent(key)),
                };
                let next = AccountRecord {
                    failures: failures.saturating_add(1),
                    last_ms: now_ms,
                };
                self.put(store, key, &next, Txn::new().when([guard])).await
            }
            .await;
            match r {
                Ok(true) => return,
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record a failed login");
                    return;
                }
            }
        }
    }

    /// Records a successful attempt: the account's failures are cleared.
    pub async fn succeeded(&self, store: &dyn Store, attempt: &Attempt) {
        if let Some((key, true)) = &attempt.account
            && let Err(e) = store.txn(Txn::new().and_then([TxnOp::delete(key)])).await
        {
            tracing::warn!(error = %e, "cannot clear failed logins");
        }
    }

    /// Puts `rec` under the current throttle lease if `guard` holds.
    async fn put(
        &self,
        store: &dyn Store,
        key: &str,
        rec: &AccountRecord,
        guard: Txn,
    ) -> ApiResult<bool> {
        for fresh in [false, true] {
            let lease = self.lease(store, fresh).await?;
            let txn = Txn::new()
                .when(guard.compares.clone())
                .and_then([TxnOp::put_with_lease(key, to_doc(rec)?, lease)]);
            match store.txn(txn).await {
                Ok(r) => return Ok(r.succeeded),
                Err(StoreError::LeaseNotFound(_)) if !fresh => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }

    /// The lease throttle records are written under: renewed every half
    /// of [`LEASE_TTL`] (never kept alive), or at once with `fresh`.
    async fn lease(&self, store: &dyn Store, fresh: bool) -> ApiResult<LeaseId> {
        let mut slot = self.lease.lock().await;
        if !fresh
            && let Some((id, at)) = *slot
            && at.elapsed() < LEASE_TTL / 2
        {
            return Ok(id);
        }
        let id = store.lease_grant(LEASE_TTL).await?;
        *slot = Some((id, Instant::now()));
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_stop_at_the_cap() {
        let d: Vec<u64> = (0..12).map(|f| delay_ms(f, 5, 300_000)).collect();
        assert_eq!(
            d,
            [0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 16000, 32000, 64000]
        );
        assert_eq!(delay_ms(40, 5, 300_000), 300_000);
        assert_eq!(delay_ms(u32::MAX, 5, 300_000), 300_000);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(addr_key(a), addr_key(b));
        assert_ne!(addr_key(a), addr_key(c));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(addr_key(mapped), addr_key(v4));
    }
}

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
use crate::ctx::Ctx;
use crate::rpc::ApiError;
use crate::store::{Compare, Txn, TxnOp};

/// A payment step younger than this is left to the request that started it.
pub const GRACE_MS: u64 = 2_000;
/// Orders worked on at once.
pub const CONCURRENCY: usize = 16;

fn order_of(key: &str) -> String {
    key.rsplit('/').next().unwrap_or_default().to_string()
}

/// Above this many orders awaiting acceptance, their expiry markers are
/// read every [`EXPIRY_SCAN_SLOW`] instead of every round: reading them
/// all costs the store in proportion to the open orders (a dinner rush,
/// or a benchmark that never accepts, holds tens of thousands), while an
/// acceptance timeout is minutes long.
pub const EXPIRY_SCAN_BUSY: usize = 1_000;
pub const EXPIRY_SCAN_SLOW: std::time::Duration = std::time::Duration::from_secs(5);

/// When the leader last read the expiry markers, and how many there were.
#[derive(Debug, Default)]
pub struct Pace {
    last: Option<tokio::time::Instant>,
    seen: usize,
}

impl Pace {
    /// Whether this round reads the expiry markers.
    pub fn expiry_due(&self, now: tokio::time::Instant) -> bool {
        match self.last {
            None => true,
            Some(t) => {
                self.seen <= EXPIRY_SCAN_BUSY
                    || now.saturating_duration_since(t) >= EXPIRY_SCAN_SLOW
            }
        }
    }
}

/// One round of duties; returns how many orders it touched.
pub async fn once(ctx: &Ctx<'_>, fence: &[Compare], pace: &mut Pace) -> Result<usize, ApiError> {
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
                let order = order_of(&kv.key);
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
        let order = order_of(&kv.key);
        if super::pay::void_orphan(ctx, &order, since).await {
            let txn = Txn::new()
                .when(fence.iter().cloned())
                .when([Compare::mod_revision(&kv.key, kv.mod_revision)])
                .and_then([TxnOp::delete(&kv.key)]);
            let _ = store.txn(txn).await;
            touched.fetch_add(1, Ordering::Relaxed);
        }
    }
    let started = tokio::time::Instant::now();
    if !pace.expiry_due(started) {
        return Ok(touched.into_inner());
    }
    let expiring = store.range("/dfood/work/expiry/").await?.kvs;
    *pace = Pace {
        last: Some(started),
        seen: expiring.len(),
    };
    futures::stream::iter(expiring)
        .for_each_concurrent(CONCURRENCY, |kv| {
            let touched = &touched;
            async move {
                let deadline: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
                if now < deadline {
                    return;
                }
                let order = order_of(&kv.key);
                let reason = Some("not accepted in time".to_string());
                match super::transition(ctx, &order, Action::Expire, reason, |_| Ok(()), fence)
                    .await
                {
                    Ok(_) => {
                        touched.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.code == protocol::wire::ErrorCode::Conflict => {
                        // Accepted or cancelled meanwhile: the marker is
                        // stale. (Or we are no longer the leader: then the
                        // fence keeps the marker for the one who is.)
                        let txn = Txn::new()
                            .when(fence.iter().cloned())
                            .when([Compare::mod_revision(&kv.key, kv.mod_revision)])
                            .and_then([TxnOp::delete(&kv.key)]);
                        let _ = store.txn(txn).await;
                    }
                    Err(e) => tracing::warn!(%order, error = %e, "cannot expire order"),
                }
            }
        })
        .await;
    Ok(touched.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_orders_awaiting_acceptance_are_scanned_less_often() {
        let t0 = tokio::time::Instant::now();
        assert!(Pace::default().expiry_due(t0), "the first round scans");
        let few = Pace {
            last: Some(t0),
            seen: EXPIRY_SCAN_BUSY,
        };
        assert!(few.expiry_due(t0), "up to the threshold: every round");
        let many = Pace {
            last: Some(t0),
            seen: EXPIRY_SCAN_BUSY + 1,
        };
        assert!(!many.expiry_due(t0 + std::time::Duration::from_secs(4)));
        assert!(many.expiry_due(t0 + EXPIRY_SCAN_SLOW));
    }
}

//! Background duties for orders: finish payment steps left in flight (by a
//! crash, a gateway timeout, or a node that died mid-request) and expire
//! orders not accepted in time (voiding their payment).
//!
//! Every node runs this for now; it is safe because each duty is a
//! compare-and-swap transition and gateway calls carry idempotency keys, so
//! two nodes doing the same work do it once. (The cluster issue moves it to
//! the elected leader, guarded by its fencing token.)

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::state::Action;
use crate::server::NodeState;

/// How often the duties run.
pub const INTERVAL: Duration = Duration::from_millis(500);
/// A payment step younger than this is left to the request that started it.
pub const GRACE_MS: u64 = 2_000;

pub async fn run(state: Arc<NodeState>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = once(&state).await {
            tracing::debug!(error = %e, "order duties failed this round");
        }
    }
}

/// One round of duties; returns how many orders it touched.
pub async fn once(state: &NodeState) -> Result<usize, crate::api::ApiError> {
    let now = crate::catalog::now_ms();
    let mut touched = 0;
    for kv in state.store.range("/dfood/work/payments/").await?.kvs {
        let since: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
        if now.saturating_sub(since) < GRACE_MS {
            continue;
        }
        let order = kv.key.rsplit('/').next().unwrap_or_default().to_string();
        match super::pay::drive(state, &order).await {
            Ok(_) => touched += 1,
            Err(e) => tracing::warn!(%order, error = %e, "cannot finish payment step"),
        }
    }
    for kv in state.store.range("/dfood/work/expiry/").await?.kvs {
        let deadline: u64 = String::from_utf8_lossy(&kv.value).parse().unwrap_or(0);
        if now < deadline {
            continue;
        }
        let order = kv.key.rsplit('/').next().unwrap_or_default().to_string();
        let reason = Some("not accepted in time".to_string());
        match super::transition(state, &order, Action::Expire, reason, |_| Ok(())).await {
            Ok(_) => touched += 1,
            Err(e) if e.code == protocol::wire::ErrorCode::Conflict => {
                // Accepted or cancelled meanwhile: the marker is stale.
                let _ = state
                    .store
                    .txn(crate::store::Txn::new().and_then([crate::store::TxnOp::delete(&kv.key)]))
                    .await;
            }
            Err(e) => tracing::warn!(%order, error = %e, "cannot expire order"),
        }
    }
    Ok(touched)
}

//! `cluster.top`: everything `dfood top` shows, in one answer — the
//! cluster status, every live node's published figures, the orders counted
//! by state and the last leader changes.

use protocol::messages::cluster::*;
use serde::Deserialize;

use super::{CLUSTER_EVENTS, ClusterState, STATS_PREFIX, status};
use crate::ctx::Ctx;
use crate::orders::ORDERS_PREFIX;
use crate::rpc::{ApiResult, from_doc};

/// How long a node answers `cluster.top` from its last order count.
const ORDER_COUNT_MAX_AGE_MS: u64 = 2_000;

/// Everything `dfood top` shows (see [`Dashboard`]).
pub async fn dashboard(ctx: &Ctx<'_>, cs: &ClusterState) -> ApiResult<Dashboard> {
    let status = status(ctx.store).await?;
    let mut nodes = Vec::new();
    for kv in ctx.store.range(STATS_PREFIX).await?.kvs {
        // A record from an older version (connections only) is skipped.
        if let Ok(s) = serde_json::from_slice::<NodeStats>(&kv.value) {
            nodes.push(s);
        }
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(Dashboard {
        status,
        nodes,
        orders: order_counts(ctx, cs).await?,
        leader_changes: leader_changes(ctx).await?,
    })
}

/// Counts the cluster's orders by state. This reads every order, so the
/// count is kept for [`ORDER_COUNT_MAX_AGE_MS`] (in the node's
/// [`ClusterState`]) and shared by every dashboard this node serves
/// meanwhile.
async fn order_counts(ctx: &Ctx<'_>, cs: &ClusterState) -> ApiResult<OrderCounts> {
    use protocol::messages::orders::OrderState;
    let mut cache = cs.order_counts.lock().await;
    let now = ctx.now_ms();
    if let Some(c) = cache.as_ref()
        && now.saturating_sub(c.at) < ORDER_COUNT_MAX_AGE_MS
    {
        return Ok(c.clone());
    }
    /// The only fields counted (the rest of the order is not parsed).
    #[derive(Deserialize)]
    struct Head {
        state: OrderState,
        created_at: u64,
    }
    let mut c = OrderCounts {
        by_state: OrderState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect(),
        at: now,
        ..Default::default()
    };
    for kv in ctx.store.range(ORDERS_PREFIX).await?.kvs {
        let h: Head = from_doc(&kv.key, &kv.value)?;
        *c.by_state.entry(h.state.as_str().to_string()).or_default() += 1;
        c.total += 1;
        if h.created_at + 60_000 > now && h.created_at <= now {
            c.placed_last_minute += 1;
        }
    }
    *cache = Some(c.clone());
    Ok(c)
}

/// The last ten `leader.changed` events, oldest first.
async fn leader_changes(ctx: &Ctx<'_>) -> ApiResult<Vec<LeaderChange>> {
    let mut out = Vec::new();
    for kv in ctx.store.range(CLUSTER_EVENTS).await?.kvs {
        let ev: protocol::messages::Event = from_doc(&kv.key, &kv.value)?;
        if ev.kind != "leader.changed" {
            continue;
        }
        // The key ends in `unique_suffix()`, which starts with the time.
        let at = kv.key[CLUSTER_EVENTS.len()..]
            .get(..13)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        // Written in the transaction that made the leader: its revision
        // is the fencing token (older events carried it in their data).
        let token = match ev.data["fencing_token"].as_u64() {
            Some(t) if t > 0 => t,
            _ => u64::try_from(kv.mod_revision).unwrap_or(0),
        };
        out.push(LeaderChange {
            node: ev.subject,
            fencing_token: token,
            at,
            reason: ev.data["reason"].as_str().map(str::to_string),
        });
    }
    out.sort_by_key(|c| c.fencing_token);
    let skip = out.len().saturating_sub(10);
    Ok(out.split_off(skip))
}

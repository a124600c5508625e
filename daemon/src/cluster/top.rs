//! `cluster.top`: everything `dfood top` shows, in one answer — the
//! cluster status, every live node's published figures, the orders counted
//! by state and the last leader changes.

use protocol::messages::cluster::*;
use serde::Deserialize;

use super::{CLUSTER_EVENTS, ClusterState, STATS_PREFIX, status};
use crate::ctx::Ctx;
use crate::locks::LockAnyway;
use crate::orders::ORDERS_PREFIX;
use crate::rpc::{ApiResult, from_doc};

/// How long a node answers `cluster.top` from its last order count
/// without counting again (or ten times as long as that count took).
const ORDER_COUNT_MAX_AGE_MS: u64 = 2_000;
/// How long the first `cluster.top` of a node waits for its first count.
const FIRST_COUNT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A node's last order count, and how long it took.
#[derive(Debug, Default)]
pub struct Counted {
    last: Option<OrderCounts>,
    took_ms: u64,
}

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

/// The cluster's orders by state, as last counted. A count reads every
/// order in the hot store (a day of them: seconds), so it runs apart from
/// requests, in the node's counter task ([`recount`]): a count younger
/// than [`ORDER_COUNT_MAX_AGE_MS`], or than ten times as long as it took,
/// is answered as it is; an older one too, while the task counts again.
/// A node's first request waits up to [`FIRST_COUNT_WAIT`] for the first
/// count, then answers with `at` 0: not counted yet.
async fn order_counts(ctx: &Ctx<'_>, cs: &ClusterState) -> ApiResult<OrderCounts> {
    let now = ctx.now_ms();
    let counted = cs.counted.notified();
    tokio::pin!(counted);
    counted.as_mut().enable();
    let last = {
        let c = cs.order_counts.lock_anyway();
        if let Some(l) = &c.last
            && now.saturating_sub(l.at) < ORDER_COUNT_MAX_AGE_MS.max(c.took_ms.saturating_mul(10))
        {
            return Ok(l.clone());
        }
        c.last.clone()
    };
    cs.counts_wanted.notify_one();
    if let Some(l) = last {
        return Ok(l);
    }
    let _ = tokio::time::timeout(FIRST_COUNT_WAIT, counted).await;
    Ok(cs
        .order_counts
        .lock_anyway()
        .last
        .clone()
        .unwrap_or_default())
}

/// The node's order counter: counts again each time a request found the
/// count old, until `stop`.
pub async fn count_when_asked(
    deps: std::sync::Arc<crate::ctx::Deps>,
    cs: std::sync::Arc<ClusterState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = cs.counts_wanted.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        recount(&deps.ctx(None, None), &cs).await;
    }
}

/// Counts the orders again, and tells whoever waits for it.
async fn recount(ctx: &Ctx<'_>, cs: &ClusterState) {
    let started = std::time::Instant::now();
    match count(ctx).await {
        Ok(c) => {
            let mut g = cs.order_counts.lock_anyway();
            g.last = Some(c);
            g.took_ms = started.elapsed().as_millis() as u64;
        }
        Err(e) => tracing::debug!(error = %e, "counting orders failed"),
    }
    cs.counted.notify_waiters();
}

/// Reads every order and counts them by state.
async fn count(ctx: &Ctx<'_>) -> ApiResult<OrderCounts> {
    use protocol::messages::orders::OrderState;
    let now = ctx.now_ms();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{Call, Hooked, Hooks};
    use crate::store::{Store, StoreError, Txn, TxnOp};
    use std::sync::Arc;

    /// Ranges wait while the gate is shut (a count of a large hot store).
    struct Gate(tokio::sync::watch::Sender<bool>);

    #[async_trait::async_trait]
    impl Hooks for Gate {
        async fn before(&self, call: Call) -> Result<(), StoreError> {
            if call == Call::Range {
                let _ = self.0.subscribe().wait_for(|open| *open).await;
            }
            Ok(())
        }
    }

    /// An order as counted (only its state and creation time are read).
    fn order() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"state": "placed", "created_at": 1})).unwrap()
    }

    /// A request never waits for a count: the first one waits a little
    /// and answers "not counted yet", later ones answer from the last
    /// count while the next one runs.
    #[tokio::test]
    async fn top_answers_from_the_last_count_while_a_slow_one_runs() {
        let (dir, inner) = crate::store::testing::temp_store();
        let ops: Vec<TxnOp> = (1..=3)
            .map(|i| TxnOp::put(format!("{ORDERS_PREFIX}t/t-{i}"), order()))
            .collect();
        assert!(inner.txn(Txn::new().and_then(ops)).await.unwrap().succeeded);
        let gate = tokio::sync::watch::channel(false).0;
        let store: Arc<dyn Store> = Arc::new(Hooked {
            inner: inner.clone(),
            hooks: Gate(gate.clone()),
        });
        let clock = Arc::new(crate::clock::ManualClock::at(1_000_000));
        let deps = Arc::new(crate::ctx::Deps::for_tests(
            store.clone(),
            dir.path(),
            clock.clone(),
        ));
        let member = crate::cluster::Member {
            node: "n1".into(),
            addr: "n1:1".into(),
            roles: vec![],
            version: "0".into(),
            started_at: 0,
            draining: false,
        };
        let cs = Arc::new(ClusterState::new(member, vec![]));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counter = tokio::spawn(count_when_asked(deps.clone(), cs.clone(), stopped));
        let ctx = deps.ctx(None, None);
        let timed = |what: &'static str| {
            let (ctx, cs) = (&ctx, &cs);
            async move {
                tokio::time::timeout(
                    FIRST_COUNT_WAIT + std::time::Duration::from_secs(2),
                    order_counts(ctx, cs),
                )
                .await
                .unwrap_or_else(|_| panic!("{what}: the request waited for the count"))
                .unwrap()
            }
        };

        // The count is held: the first request answers "not counted yet".
        let first = timed("first").await;
        assert_eq!((first.at, first.total), (0, 0));
        // Let it through: the next request has the count.
        gate.send_replace(true);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let counted = loop {
            let c = timed("after the count").await;
            if c.at != 0 {
                break c;
            }
            assert!(std::time::Instant::now() < deadline, "never counted");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(counted.total, 3);
        assert_eq!(counted.by_state["placed"], 3);

        // Old, and the next count held: answered from the last one.
        gate.send_replace(false);
        clock.advance(60_000);
        let t = std::time::Instant::now();
        let stale = timed("stale").await;
        assert!(t.elapsed() < FIRST_COUNT_WAIT, "{:?}", t.elapsed());
        assert_eq!(stale, counted);
        gate.send_replace(true);
        let _ = stop.send(true);
        counter.await.unwrap();
    }
}

//! Operator commands: switchover, failover, pause/resume, drain. Every
//! refusal says why ("candidate node-3 is draining").

use std::sync::atomic::Ordering;
use std::time::Duration;

use protocol::messages::Member;
use protocol::messages::cluster::*;
use tracing::info;

use super::elect::{best_candidate, unfit};
use super::{
    ClusterState, LEADER_KEY, LeaderRecord, PAUSED_KEY, STATS_PREFIX, SWITCHOVER_KEY,
    current_leader, leader_event, member_key, members, status,
};
use crate::ctx::Ctx;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, Store, Txn, TxnOp};

/// What `drain` reads of a node's published figures.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct StatsRecord {
    connections: u64,
    /// Absent from older nodes' records.
    draining: Option<bool>,
}

pub(super) async fn hand_over(
    store: &dyn Store,
    now: u64,
    cs: &ClusterState,
    to: &str,
    expected: Option<i64>,
    plan_rev: i64,
    reason: &str,
) -> ApiResult<i64> {
    let cand = store
        .get(&member_key(to))
        .await?
        .ok_or_else(|| ApiError::conflict(format!("candidate {to} is not a member any more")))?;
    let rec = LeaderRecord {
        node: to.to_string(),
        since: now,
    };
    let mut compares = vec![Compare::mod_revision(member_key(to), cand.mod_revision)];
    compares.push(match expected {
        Some(t) => Compare::mod_revision(LEADER_KEY, t),
        None => Compare::absent(LEADER_KEY),
    });
    let mut ops = vec![
        TxnOp::put_with_lease(LEADER_KEY, to_doc(&rec)?, cand.lease),
        leader_event(to, reason, now)?,
    ];
    if plan_rev > 0 {
        ops.push(TxnOp::delete(SWITCHOVER_KEY));
    }
    let r = store.txn(Txn::new().when(compares).and_then(ops)).await?;
    if !r.succeeded {
        return Err(ApiError::conflict(
            "the leader changed meanwhile; look at `dfood cluster status` and try again",
        ));
    }
    cs.token.store(0, Ordering::SeqCst);
    info!(to, fencing_token = r.revision, "leadership handed over");
    Ok(r.revision)
}
pub async fn switchover(
    ctx: &Ctx<'_>,
    _cs: &ClusterState,
    req: Switchover,
) -> ApiResult<ClusterStatus> {
    let store = ctx.store;
    if store.kind() == "embedded" {
        return Err(ApiError::conflict(
            "the embedded store runs a one-node cluster: there is no other node to switch over to",
        ));
    }
    if store.get(PAUSED_KEY).await?.is_some() {
        return Err(ApiError::conflict(
            "the cluster is paused: `dfood cluster resume` first",
        ));
    }
    let (leader, _) = current_leader(store).await?.ok_or_else(|| {
        ApiError::conflict("there is no leader to switch over from; the cluster is electing one")
    })?;
    let ms = members(store).await?;
    let to = match req.to {
        Some(to) => {
            if let Some(why) = unfit(&ms, &to, Some(&leader.node)) {
                return Err(ApiError::conflict(why));
            }
            to
        }
        None => {
            best_candidate(&ms, &leader.node)
                .ok_or_else(|| ApiError::conflict(format!("no candidate to switch over to: every other node is draining, lacks the duties role, or there is none besides {}", leader.node)))?
        }
    };
    let plan = Switchover {
        to: Some(to.clone()),
        scheduled_at: req.scheduled_at,
    };
    store
        .txn(Txn::new().and_then([TxnOp::put(SWITCHOVER_KEY, to_doc(&plan)?)]))
        .await?;
    if req.scheduled_at.is_some_and(|t| t > ctx.now_ms()) {
        return status(store).await;
    }
    // Wait (bounded) for the leader to hand over.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((l, _)) = current_leader(store).await?
            && l.node == to
        {
            return status(store).await;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(ApiError::unavailable(format!(
                "leader {} did not hand over to {to} within 10 s; the plan stays pending",
                leader.node
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
async fn answers(cs: &ClusterState, addr: &str) -> bool {
    let mut opts = protocol::client::ConnectOptions::new(addr, cs.ca_pem.clone());
    opts.timeout = Duration::from_secs(1);
    match protocol::client::Client::connect(&opts).await {
        Ok(c) => {
            let ok = c
                .call::<_, protocol::messages::HealthResponse>(
                    protocol::messages::types::HEALTH,
                    None,
                    &serde_json::json!({}),
                )
                .await
                .is_ok();
            c.close().await;
            ok
        }
        Err(_) => false,
    }
}
pub async fn failover(ctx: &Ctx<'_>, cs: &ClusterState, req: Failover) -> ApiResult<ClusterStatus> {
    let store = ctx.store;
    if store.kind() == "embedded" {
        return Err(ApiError::conflict(
            "the embedded store runs a one-node cluster: there is no other node to fail over to",
        ));
    }
    let ms = members(store).await?;
    let leader = current_leader(store).await?;
    if let Some((l, _)) = &leader {
        let addr = ms
            .iter()
            .find(|(m, _)| m.node == l.node)
            .map(|(m, _)| m.addr.clone());
        let healthy = match addr {
            Some(a) if l.node == ctx.node => !a.is_empty(),
            Some(a) => answers(cs, &a).await,
            None => false,
        };
        if healthy {
            return Err(ApiError::conflict(format!(
                "leader {} is healthy: use `dfood cluster switchover --to {}` instead",
                l.node, req.to
            )));
        }
    }
    if let Some(why) = unfit(&ms, &req.to, leader.as_ref().map(|(l, _)| l.node.as_str())) {
        return Err(ApiError::conflict(why));
    }
    hand_over(
        ctx.store,
        ctx.now_ms(),
        cs,
        &req.to,
        leader.map(|(_, rev)| rev),
        0,
        "failover",
    )
    .await?;
    status(store).await
}
pub async fn drain(ctx: &Ctx<'_>, cs: &ClusterState, req: Drain) -> ApiResult<DrainStatus> {
    let store = ctx.store;
    if store.kind() == "embedded" && req.drain {
        return Err(ApiError::conflict(
            "the embedded store runs a one-node cluster: draining its only node would leave clients nowhere to go",
        ));
    }
    let key = member_key(&req.node);
    let kv = store
        .get(&key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{} is not a member", req.node)))?;
    let mut m: Member = from_doc(&key, &kv.value)?;
    if req.drain {
        let others = members(store)
            .await?
            .into_iter()
            .filter(|(o, _)| o.node != req.node && !o.draining)
            .count();
        if others == 0 {
            return Err(ApiError::conflict(format!(
                "cannot drain {}: no other node would be left to serve clients",
                req.node
            )));
        }
        // A draining leader hands over first.
        if let Some((l, _)) = current_leader(store).await?
            && l.node == req.node
            && store.get(PAUSED_KEY).await?.is_none()
        {
            let _ = switchover(
                ctx,
                cs,
                Switchover {
                    to: None,
                    scheduled_at: None,
                },
            )
            .await;
        }
    }
    if m.draining != req.drain {
        m.draining = req.drain;
        let r = store
            .txn(
                Txn::new()
                    .when([Compare::mod_revision(&key, kv.mod_revision)])
                    .and_then([TxnOp::put_with_lease(&key, to_doc(&m)?, kv.lease)]),
            )
            .await?;
        if !r.succeeded {
            return Err(ApiError::conflict(format!(
                "{} changed meanwhile; try again",
                req.node
            )));
        }
    }
    let published = match store.get(&format!("{STATS_PREFIX}{}", req.node)).await? {
        Some(kv) => from_doc::<StatsRecord>(&kv.key, &kv.value)?,
        None => StatsRecord::default(),
    };
    Ok(DrainStatus {
        node: req.node,
        draining: m.draining,
        connections: published.connections,
        node_draining: published.draining,
    })
}
pub async fn set_paused(ctx: &Ctx<'_>, paused: bool) -> ApiResult<ClusterStatus> {
    let store = ctx.store;
    let op = if paused {
        TxnOp::put(
            PAUSED_KEY,
            to_doc(&serde_json::json!({"since": ctx.now_ms()}))?,
        )
    } else {
        TxnOp::delete(PAUSED_KEY)
    };
    store.txn(Txn::new().and_then([op])).await?;
    status(store).await
}

//! The cluster: membership, leader election, operator commands.
//!
//! Keys:
//! - `/dfood/members/<node>` — the node's [`Member`] record, under its lease
//!   (TTL [`LEASE_TTL`]); it vanishes when the node stops renewing;
//! - `/dfood/cluster/leader` — the leader ([`LeaderRecord`]), under the
//!   leader's lease. Its **mod revision is the fencing token**: it changes
//!   with every leader change, and every write the leader makes as leader
//!   compares it, so a deposed leader that wakes up late cannot write;
//! - `/dfood/cluster/paused` — present in maintenance mode: nobody
//!   campaigns, so the leader does not change automatically;
//! - `/dfood/cluster/switchover` — a planned hand-over the leader carries
//!   out (at `scheduled_at`) by rewriting the leader key for the candidate,
//!   under the candidate's lease, in one transaction fenced by its token;
//! - `/dfood/cluster/stats/<node>` — each node's [`NodeStats`] (connection
//!   count included, for `drain` to watch), rewritten about once a second
//!   under its lease, for `cluster.top`;
//! - `/dfood/events/_cluster/<id>` — `leader.changed` events.
//!
//! Every node runs [`run`]: renew the lease, campaign when there is no
//! leader (unless paused, draining, or without the `duties` role), follow
//! its own `draining` flag, and, while leader, run the singleton duties
//! (`orders::worker`) under the fence.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use protocol::messages::Member;
use protocol::messages::cluster::*;
use protocol::wire::Request;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::api::{self, ApiError, ApiResult, Ctx, from_doc, to_doc};
use crate::catalog::{now_ms, unique_suffix};
use crate::server::{MEMBERS_PREFIX, NodeState};
use crate::store::{Compare, LeaseId, Store, StoreError, Txn, TxnOp};

pub const LEADER_KEY: &str = "/dfood/cluster/leader";
pub const PAUSED_KEY: &str = "/dfood/cluster/paused";
pub const SWITCHOVER_KEY: &str = "/dfood/cluster/switchover";
pub const STATS_PREFIX: &str = "/dfood/cluster/stats/";
pub const CLUSTER_EVENTS: &str = "/dfood/events/_cluster/";

/// Lease TTL of a member (and of the leader key it holds).
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often a node renews its lease and looks at the cluster.
pub const TICK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderRecord {
    pub node: String,
    /// Unix milliseconds.
    pub since: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StatsRecord {
    connections: u64,
}

/// Figures a node keeps about itself.
pub struct Stats {
    pub connections: AtomicU64,
    pub subscriptions: AtomicU64,
    pub requests_total: AtomicU64,
    pub request_errors_total: AtomicU64,
    pub lease_renew_failures: AtomicU64,
    /// Latencies over the node's lifetime and over the current 10-second
    /// window, under one lock (one lock per answered request).
    latency_us: Mutex<Latencies>,
    /// The p99 of the last full window (see [`Stats::roll_window`]).
    recent_p99_us: AtomicU64,
    /// The Prometheus side of the same figures (see `crate::metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new(Arc::new(crate::metrics::Metrics::new("")))
    }
}

impl Stats {
    pub fn new(metrics: Arc<crate::metrics::Metrics>) -> Self {
        Stats {
            metrics,
            connections: AtomicU64::new(0),
            subscriptions: AtomicU64::new(0),
            requests_total: AtomicU64::new(0),
            request_errors_total: AtomicU64::new(0),
            lease_renew_failures: AtomicU64::new(0),
            latency_us: Mutex::new(Latencies {
                lifetime: latency_histogram(),
                window: latency_histogram(),
            }),
            recent_p99_us: AtomicU64::new(0),
        }
    }

    /// Ends the current latency window: its p99 becomes the "recent" one
    /// and a new window starts. Called every [`STATS_WINDOW`].
    pub fn roll_window(&self) {
        if let Ok(mut l) = self.latency_us.lock() {
            let h = &mut l.window;
            let p99 = if h.is_empty() {
                0
            } else {
                h.value_at_quantile(0.99)
            };
            self.recent_p99_us.store(p99, Ordering::Relaxed);
            h.reset();
        }
    }

    /// Records one answered request, for `cluster.stats` and Prometheus
    /// alike; `code` is the error answered, if any.
    pub fn record_request(
        &self,
        ty: &str,
        code: Option<protocol::wire::ErrorCode>,
        elapsed: Duration,
    ) {
        use protocol::wire::ErrorCode;
        self.record(
            elapsed,
            matches!(code, Some(ErrorCode::Internal | ErrorCode::Unavailable)),
        );
        self.metrics.observe_request(
            crate::metrics::type_label(ty, code),
            crate::metrics::result_label(code),
            elapsed,
        );
    }

    pub fn record(&self, elapsed: Duration, error: bool) {
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        if error {
            self.request_errors_total.fetch_add(1, Ordering::Relaxed);
        }
        let us = (elapsed.as_micros() as u64).clamp(1, 60_000_000);
        if let Ok(mut l) = self.latency_us.lock() {
            let _ = l.lifetime.record(us);
            let _ = l.window.record(us);
        }
    }
}

struct Latencies {
    lifetime: hdrhistogram::Histogram<u64>,
    window: hdrhistogram::Histogram<u64>,
}

fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 2).expect("histogram bounds")
}

/// The window of [`NodeStats::latency_p99_recent_us`].
pub const STATS_WINDOW: Duration = Duration::from_secs(10);

/// This node's view of the cluster.
pub struct ClusterState {
    pub member: Mutex<Member>,
    lease: AtomicI64,
    /// The fencing token while this node is leader, 0 otherwise.
    token: AtomicU64,
    pub draining: watch::Sender<bool>,
    pub stats: Stats,
    /// The cluster CA (PEM), to talk to other nodes.
    pub ca_pem: Vec<u8>,
    /// Connections to other nodes, by address, for forwarding.
    pub peers: tokio::sync::Mutex<std::collections::HashMap<String, Arc<protocol::client::Client>>>,
}

impl ClusterState {
    pub fn new(member: Member, ca_pem: Vec<u8>) -> ClusterState {
        let metrics = Arc::new(crate::metrics::Metrics::new(&member.node));
        Self::with_metrics(member, ca_pem, metrics)
    }

    /// As [`ClusterState::new`], reporting to `metrics` (which the node's
    /// instrumented store also feeds).
    pub fn with_metrics(
        member: Member,
        ca_pem: Vec<u8>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> ClusterState {
        ClusterState {
            member: Mutex::new(member),
            lease: AtomicI64::new(0),
            token: AtomicU64::new(0),
            draining: watch::channel(false).0,
            stats: Stats::new(metrics),
            ca_pem,
            peers: Default::default(),
        }
    }

    pub fn lease(&self) -> LeaseId {
        self.lease.load(Ordering::SeqCst)
    }

    pub fn is_leader(&self) -> bool {
        self.token.load(Ordering::SeqCst) != 0
    }

    /// The compare that guards writes made as leader (empty when not leader).
    pub fn fence(&self) -> Vec<Compare> {
        match self.token.load(Ordering::SeqCst) {
            0 => vec![],
            t => vec![Compare::mod_revision(LEADER_KEY, t as i64)],
        }
    }

    fn node(&self) -> String {
        self.member
            .lock()
            .map(|m| m.node.clone())
            .unwrap_or_default()
    }
}

/// Whether every compare of `fence` still holds (the leader is still us).
pub async fn fence_holds(store: &dyn Store, fence: &[Compare]) -> bool {
    for c in fence {
        match store.get(&c.key).await {
            Ok(kv) if c.holds(kv.as_ref()) => {}
            _ => return false,
        }
    }
    true
}

fn member_key(node: &str) -> String {
    format!("{MEMBERS_PREFIX}{node}")
}

/// Registers the node under a fresh lease.
pub async fn register(store: &dyn Store, cs: &ClusterState) -> Result<LeaseId, StoreError> {
    let lease = store.lease_grant(LEASE_TTL).await?;
    let member = cs
        .member
        .lock()
        .map(|m| m.clone())
        .map_err(|_| StoreError::Internal("poisoned".into()))?;
    let value = serde_json::to_vec(&member).map_err(|e| StoreError::Internal(e.to_string()))?;
    store
        .txn(Txn::new().and_then([TxnOp::put_with_lease(
            member_key(&member.node),
            value,
            lease,
        )]))
        .await?;
    cs.lease.store(lease, Ordering::SeqCst);
    Ok(lease)
}

fn leader_event(node: &str, token: i64) -> ApiResult<TxnOp> {
    let ev = protocol::messages::Event {
        kind: "leader.changed".into(),
        subject: node.to_string(),
        data: serde_json::json!({"fencing_token": token}),
    };
    Ok(TxnOp::put(
        format!("{CLUSTER_EVENTS}{}", unique_suffix()),
        to_doc(&ev)?,
    ))
}

/// The node's background loop (see the module doc). Ends when `stop` turns
/// true, resigning leadership first so another node takes over at once.
pub async fn run(state: Arc<NodeState>, mut stop: watch::Receiver<bool>) {
    let cs = &state.cluster;
    let store = state.store.as_ref();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        n += 1;
        if n.is_multiple_of(2) {
            renew(&state).await;
        }
        if n.is_multiple_of((STATS_WINDOW.as_millis() / TICK.as_millis()) as u64) {
            cs.stats.roll_window();
        }
        if let Err(e) = step(&state).await {
            tracing::debug!(error = %e, "cluster step failed");
        }
        if cs.is_leader() {
            let fence = cs.fence();
            if let Err(e) = crate::orders::worker::once(&state, &fence).await {
                tracing::debug!(error = %e, "leader duties failed this round");
            }
        }
    }
    // Resign: delete the leader key if it is still ours.
    let fence = cs.fence();
    if !fence.is_empty() {
        let _ = store
            .txn(Txn::new().when(fence).and_then([TxnOp::delete(LEADER_KEY)]))
            .await;
        cs.token.store(0, Ordering::SeqCst);
    }
    if let Err(e) = store.lease_revoke(cs.lease()).await {
        tracing::debug!(error = %e, "lease revoke on shutdown failed; it will expire");
    }
}

async fn renew(state: &NodeState) {
    let cs = &state.cluster;
    let store = state.store.as_ref();
    match store.lease_keep_alive(cs.lease()).await {
        Ok(_) => {
            // A superset of `StatsRecord` (what `drain` reads).
            let rec = serde_json::to_vec(&stats(state)).unwrap_or_default();
            let _ = store
                .txn(Txn::new().and_then([TxnOp::put_with_lease(
                    format!("{STATS_PREFIX}{}", cs.node()),
                    rec,
                    cs.lease(),
                )]))
                .await;
        }
        Err(StoreError::LeaseNotFound(_)) => {
            if cs.token.swap(0, Ordering::SeqCst) != 0 {
                warn!("lease lost: no longer leader");
            }
            match register(store, cs).await {
                Ok(_) => warn!(node = %cs.node(), "membership lease was lost; registered again"),
                Err(e) => warn!(error = %e, "cannot register again"),
            }
        }
        Err(e) => {
            cs.stats
                .lease_renew_failures
                .fetch_add(1, Ordering::Relaxed);
            warn!(error = %e, "lease renewal failed");
        }
    }
}

/// One look at the cluster: follow the draining flag, learn or claim
/// leadership, carry out a due switchover.
async fn step(state: &NodeState) -> ApiResult<()> {
    let cs = &state.cluster;
    let store = state.store.as_ref();
    let me = cs.node();
    // My own record: the operator may have set `draining`.
    if let Some(kv) = store.get(&member_key(&me)).await? {
        let m: Member = from_doc(&kv.key, &kv.value)?;
        if *cs.draining.borrow() != m.draining {
            info!(node = %me, draining = m.draining, "drain state changed");
            cs.draining.send_replace(m.draining);
            if let Ok(mut mine) = cs.member.lock() {
                mine.draining = m.draining;
            }
        }
    }
    let leader = store.get(LEADER_KEY).await?;
    match &leader {
        Some(kv) => {
            let rec: LeaderRecord = from_doc(LEADER_KEY, &kv.value)?;
            if rec.node == me {
                let token = kv.mod_revision as u64;
                if cs.token.swap(token, Ordering::SeqCst) != token {
                    info!(node = %me, fencing_token = token, "became leader");
                }
                switchover_if_due(state, token as i64).await?;
            } else if cs.token.swap(0, Ordering::SeqCst) != 0 {
                info!(node = %me, new_leader = %rec.node, "no longer leader");
            }
        }
        None => {
            cs.token.store(0, Ordering::SeqCst);
            let paused = store.get(PAUSED_KEY).await?.is_some();
            let can_lead = state.roles.iter().any(|r| r == "duties") && !*cs.draining.borrow();
            if !paused && can_lead {
                let rec = LeaderRecord {
                    node: me.clone(),
                    since: now_ms(),
                };
                let r = store
                    .txn(Txn::new().when([Compare::absent(LEADER_KEY)]).and_then([
                        TxnOp::put_with_lease(LEADER_KEY, to_doc(&rec)?, cs.lease()),
                        leader_event(&me, 0)?,
                    ]))
                    .await;
                match r {
                    Ok(r) if r.succeeded => {
                        cs.token.store(r.revision as u64, Ordering::SeqCst);
                        info!(node = %me, fencing_token = r.revision, "elected leader");
                    }
                    Ok(_) => {}
                    Err(StoreError::LeaseNotFound(_)) => {} // renew() re-registers
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(())
}

async fn switchover_if_due(state: &NodeState, token: i64) -> ApiResult<()> {
    let store = state.store.as_ref();
    let Some(kv) = store.get(SWITCHOVER_KEY).await? else {
        return Ok(());
    };
    let plan: Switchover = from_doc(SWITCHOVER_KEY, &kv.value)?;
    if plan.scheduled_at.unwrap_or(0) > now_ms() {
        return Ok(());
    }
    let Some(to) = plan.to else {
        let _ = store
            .txn(Txn::new().and_then([TxnOp::delete(SWITCHOVER_KEY)]))
            .await;
        return Ok(());
    };
    hand_over(state, &to, Some(token), kv.mod_revision)
        .await
        .map(|_| ())
}

/// Rewrites the leader key for `to`, under `to`'s lease, if the leader key
/// is still at `expected` (a fencing token, or None for "absent").
async fn hand_over(
    state: &NodeState,
    to: &str,
    expected: Option<i64>,
    plan_rev: i64,
) -> ApiResult<i64> {
    let store = state.store.as_ref();
    let cand = store
        .get(&member_key(to))
        .await?
        .ok_or_else(|| ApiError::conflict(format!("candidate {to} is not a member any more")))?;
    let rec = LeaderRecord {
        node: to.to_string(),
        since: now_ms(),
    };
    let mut compares = vec![Compare::mod_revision(member_key(to), cand.mod_revision)];
    compares.push(match expected {
        Some(t) => Compare::mod_revision(LEADER_KEY, t),
        None => Compare::absent(LEADER_KEY),
    });
    let mut ops = vec![
        TxnOp::put_with_lease(LEADER_KEY, to_doc(&rec)?, cand.lease),
        leader_event(to, 0)?,
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
    state.cluster.token.store(0, Ordering::SeqCst);
    info!(to, fencing_token = r.revision, "leadership handed over");
    Ok(r.revision)
}

/// Live members, sorted by name.
pub async fn members(state: &NodeState) -> ApiResult<Vec<(Member, LeaseId)>> {
    let r = state.store.range(MEMBERS_PREFIX).await?;
    let mut out = Vec::new();
    for kv in r.kvs {
        out.push((from_doc::<Member>(&kv.key, &kv.value)?, kv.lease));
    }
    Ok(out)
}

async fn current_leader(state: &NodeState) -> ApiResult<Option<(LeaderRecord, i64)>> {
    Ok(match state.store.get(LEADER_KEY).await? {
        Some(kv) => Some((from_doc(LEADER_KEY, &kv.value)?, kv.mod_revision)),
        None => None,
    })
}

async fn status(state: &NodeState) -> ApiResult<ClusterStatus> {
    let store = state.store.as_ref();
    let leader = current_leader(state).await?;
    let mut infos = Vec::new();
    for (m, lease) in members(state).await? {
        let ttl = store
            .lease_time_to_live(lease)
            .await
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let is_leader = leader.as_ref().is_some_and(|(l, _)| l.node == m.node);
        infos.push(MemberInfo {
            member: m,
            lease_ttl_secs: ttl,
            leader: is_leader,
        });
    }
    let pending = match store.get(SWITCHOVER_KEY).await? {
        Some(kv) => Some(from_doc(SWITCHOVER_KEY, &kv.value)?),
        None => None,
    };
    Ok(ClusterStatus {
        store: store.kind().to_string(),
        store_revision: store.revision().await?.max(0) as u64,
        members: infos,
        leader: leader.map(|(l, rev)| Leader {
            node: l.node,
            fencing_token: rev as u64,
            since: l.since,
        }),
        paused: store.get(PAUSED_KEY).await?.is_some(),
        pending_switchover: pending,
        store_members: store.store_members().await,
    })
}

/// Why `node` cannot lead, if it cannot.
fn unfit(members: &[(Member, LeaseId)], node: &str, leader: Option<&str>) -> Option<String> {
    let Some((m, _)) = members.iter().find(|(m, _)| m.node == node) else {
        let names: Vec<_> = members.iter().map(|(m, _)| m.node.as_str()).collect();
        return Some(format!(
            "{node} is not a member (members: {})",
            names.join(", ")
        ));
    };
    if leader == Some(node) {
        return Some(format!("{node} is already the leader"));
    }
    if m.draining {
        return Some(format!("candidate {node} is draining"));
    }
    if !m.roles.iter().any(|r| r == "duties") {
        return Some(format!("candidate {node} does not run the duties role"));
    }
    None
}

async fn switchover(ctx: &Ctx<'_>, req: Switchover) -> ApiResult<ClusterStatus> {
    let state = ctx.state;
    let store = state.store.as_ref();
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
    let (leader, _) = current_leader(state).await?.ok_or_else(|| {
        ApiError::conflict("there is no leader to switch over from; the cluster is electing one")
    })?;
    let ms = members(state).await?;
    let to = match req.to {
        Some(to) => {
            if let Some(why) = unfit(&ms, &to, Some(&leader.node)) {
                return Err(ApiError::conflict(why));
            }
            to
        }
        None => {
            // Best candidate: fit, then the longest-running.
            let mut fit: Vec<_> = ms
                .iter()
                .filter(|(m, _)| unfit(&ms, &m.node, Some(&leader.node)).is_none())
                .collect();
            fit.sort_by_key(|(m, _)| (m.started_at, m.node.clone()));
            fit.first()
                .map(|(m, _)| m.node.clone())
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
    if req.scheduled_at.is_some_and(|t| t > now_ms()) {
        return status(state).await;
    }
    // Wait (bounded) for the leader to hand over.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((l, _)) = current_leader(state).await?
            && l.node == to
        {
            return status(state).await;
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

/// Whether the node at `addr` answers `health` within a second.
async fn answers(state: &NodeState, addr: &str) -> bool {
    let mut opts = protocol::client::ConnectOptions::new(addr, state.cluster.ca_pem.clone());
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

async fn failover(ctx: &Ctx<'_>, req: Failover) -> ApiResult<ClusterStatus> {
    let state = ctx.state;
    if state.store.kind() == "embedded" {
        return Err(ApiError::conflict(
            "the embedded store runs a one-node cluster: there is no other node to fail over to",
        ));
    }
    let ms = members(state).await?;
    let leader = current_leader(state).await?;
    if let Some((l, _)) = &leader {
        let addr = ms
            .iter()
            .find(|(m, _)| m.node == l.node)
            .map(|(m, _)| m.addr.clone());
        let healthy = match addr {
            Some(a) if l.node == state.node => !a.is_empty(),
            Some(a) => answers(state, &a).await,
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
    hand_over(state, &req.to, leader.map(|(_, rev)| rev), 0).await?;
    status(state).await
}

async fn drain(ctx: &Ctx<'_>, req: Drain) -> ApiResult<DrainStatus> {
    let state = ctx.state;
    let store = state.store.as_ref();
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
        let others = members(state)
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
        if let Some((l, _)) = current_leader(state).await?
            && l.node == req.node
            && store.get(PAUSED_KEY).await?.is_none()
        {
            let _ = switchover(
                ctx,
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
    let connections = match store.get(&format!("{STATS_PREFIX}{}", req.node)).await? {
        Some(kv) => from_doc::<StatsRecord>(&kv.key, &kv.value)?.connections,
        None => 0,
    };
    Ok(DrainStatus {
        node: req.node,
        draining: m.draining,
        connections,
    })
}

async fn set_paused(ctx: &Ctx<'_>, paused: bool) -> ApiResult<ClusterStatus> {
    let store = ctx.state.store.as_ref();
    let op = if paused {
        TxnOp::put(PAUSED_KEY, to_doc(&serde_json::json!({"since": now_ms()}))?)
    } else {
        TxnOp::delete(PAUSED_KEY)
    };
    store.txn(Txn::new().and_then([op])).await?;
    status(ctx.state).await
}

pub fn stats(state: &NodeState) -> NodeStats {
    let s = &state.cluster.stats;
    let (p50, p99) = s
        .latency_us
        .lock()
        .map(|l| {
            (
                l.lifetime.value_at_quantile(0.5),
                l.lifetime.value_at_quantile(0.99),
            )
        })
        .unwrap_or((0, 0));
    NodeStats {
        node: state.node.clone(),
        connections: s.connections.load(Ordering::Relaxed),
        subscriptions: s.subscriptions.load(Ordering::Relaxed),
        requests_total: s.requests_total.load(Ordering::Relaxed),
        request_errors_total: s.request_errors_total.load(Ordering::Relaxed),
        latency_p50_us: p50,
        latency_p99_us: p99,
        leader: state.cluster.is_leader(),
        lease_renew_failures: s.lease_renew_failures.load(Ordering::Relaxed),
        latency_p99_recent_us: s.recent_p99_us.load(Ordering::Relaxed),
        at: now_ms(),
    }
}

/// How long a node answers `cluster.top` from its last order count.
const ORDER_COUNT_MAX_AGE_MS: u64 = 2_000;

/// Everything `dfood top` shows (see [`Dashboard`]).
async fn dashboard(state: &NodeState) -> ApiResult<Dashboard> {
    let status = status(state).await?;
    let mut nodes = Vec::new();
    for kv in state.store.range(STATS_PREFIX).await?.kvs {
        // A record from an older version (connections only) is skipped.
        if let Ok(s) = serde_json::from_slice::<NodeStats>(&kv.value) {
            nodes.push(s);
        }
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(Dashboard {
        status,
        nodes,
        orders: order_counts(state).await?,
        leader_changes: leader_changes(state).await?,
    })
}

/// Counts the cluster's orders by state. This reads every order, so the
/// count is kept for [`ORDER_COUNT_MAX_AGE_MS`] and shared by every
/// dashboard this node serves meanwhile.
async fn order_counts(state: &NodeState) -> ApiResult<OrderCounts> {
    use protocol::messages::orders::OrderState;
    static CACHE: tokio::sync::Mutex<Option<OrderCounts>> = tokio::sync::Mutex::const_new(None);
    let mut cache = CACHE.lock().await;
    let now = now_ms();
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
    for kv in state.store.range(crate::orders::ORDERS_PREFIX).await?.kvs {
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
async fn leader_changes(state: &NodeState) -> ApiResult<Vec<LeaderChange>> {
    let mut out = Vec::new();
    for kv in state.store.range(CLUSTER_EVENTS).await?.kvs {
        let ev: protocol::messages::Event = from_doc(&kv.key, &kv.value)?;
        if ev.kind != "leader.changed" {
            continue;
        }
        // The key ends in `unique_suffix()`, which starts with the time.
        let at = kv.key[CLUSTER_EVENTS.len()..]
            .get(..13)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        out.push(LeaderChange {
            node: ev.subject,
            fencing_token: ev.data["fencing_token"].as_u64().unwrap_or(0),
            at,
        });
    }
    out.sort_by_key(|c| c.fencing_token);
    let skip = out.len().saturating_sub(10);
    Ok(out.split_off(skip))
}

pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Option<ApiResult<serde_json::Value>> {
    let state = ctx.state;
    Some(match req.ty.as_str() {
        types::NODES => {
            api::call(req, |_: serde_json::Value| async move {
                let nodes = members(state)
                    .await?
                    .into_iter()
                    .map(|(m, _)| NodeAddr {
                        node: m.node,
                        addr: m.addr,
                        draining: m.draining,
                    })
                    .collect();
                Ok(NodeList { nodes })
            })
            .await
        }
        t if t.starts_with("cluster.") => {
            if let Err(e) = ctx.require_operator().await {
                return Some(Err(e));
            }
            match t {
                types::MEMBERS => {
                    api::call(req, |_: serde_json::Value| async move {
                        Ok(MemberList {
                            members: status(state).await?.members,
                        })
                    })
                    .await
                }
                types::STATUS => {
                    api::call(
                        req,
                        |_: serde_json::Value| async move { status(state).await },
                    )
                    .await
                }
                types::SWITCHOVER => api::call(req, |b| switchover(ctx, b)).await,
                types::FAILOVER => api::call(req, |b| failover(ctx, b)).await,
                types::PAUSE => api::call(req, |_: serde_json::Value| set_paused(ctx, true)).await,
                types::RESUME => {
                    api::call(req, |_: serde_json::Value| set_paused(ctx, false)).await
                }
                types::DRAIN => api::call(req, |b| drain(ctx, b)).await,
                types::STATS => {
                    api::call(req, |_: serde_json::Value| async move { Ok(stats(state)) }).await
                }
                types::TOP => {
                    api::call(
                        req,
                        |_: serde_json::Value| async move { dashboard(state).await },
                    )
                    .await
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_p99_is_the_last_full_window_only() {
        let s = Stats::default();
        for _ in 0..100 {
            s.record(Duration::from_millis(1), false);
        }
        assert_eq!(
            s.recent_p99_us.load(Ordering::Relaxed),
            0,
            "window not over"
        );
        s.roll_window();
        let p99 = s.recent_p99_us.load(Ordering::Relaxed);
        assert!((990..=1010).contains(&p99), "{p99}");
        // A window with no request reports 0; the lifetime keeps them all.
        s.roll_window();
        assert_eq!(s.recent_p99_us.load(Ordering::Relaxed), 0);
        assert_eq!(s.latency_us.lock().unwrap().lifetime.len(), 100);
        assert_eq!(s.requests_total.load(Ordering::Relaxed), 100);
    }
}

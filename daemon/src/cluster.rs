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
//! Every node runs [`run`]: renew the lease, look at the cluster and let
//! [`elect::decide`] (pure, tested on virtual time) say whether to
//! campaign, lead or hand over; follow its own `draining` flag; and, while
//! leader, run the singleton duties (`orders::worker`) under the fence.
//! [`ops`] holds the operator commands, [`top`] the dashboard.

pub mod elect;
pub mod ops;
pub mod top;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::messages::Member;
use protocol::messages::cluster::*;
use protocol::wire::Request;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::unique_suffix;
use crate::ctx::{Ctx, Deps};
use crate::locks::LockAnyway;
use crate::metrics::{STATS_WINDOW, Stats};
use crate::rpc::{self as api, ApiResult, from_doc, to_doc};
use crate::store::{Compare, LeaseId, Revision, Store, StoreError, Txn, TxnOp};
use elect::Decision;

/// Where members register (one key per node, under its lease).
pub const MEMBERS_PREFIX: &str = "/dfood/members/";
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

/// This node's view of the cluster.
pub struct ClusterState {
    pub member: Mutex<Member>,
    lease: AtomicI64,
    /// The fencing token while this node is leader, 0 otherwise.
    token: AtomicI64,
    pub draining: watch::Sender<bool>,
    pub stats: Stats,
    /// The cluster CA (PEM), to talk to other nodes.
    pub ca_pem: Vec<u8>,
    /// Connections to other nodes, by address, for forwarding.
    pub peers: tokio::sync::Mutex<HashMap<String, Arc<protocol::client::Client>>>,
    /// The last order count, for `cluster.top` (see [`top`]).
    order_counts: Mutex<top::Counted>,
    /// Wakes this node's order counter (a `cluster.top` found the count
    /// old).
    counts_wanted: tokio::sync::Notify,
    /// Told when a count ends.
    counted: tokio::sync::Notify,
    /// When the membership lease was last granted or renewed.
    renewed_at: Mutex<Option<std::time::Instant>>,
    /// The live members as last read (every [`TICK`]), for ownership.
    members: Mutex<Vec<NodeAddr>>,
    /// Owners that did not answer a forwarded placement, and until when
    /// they are passed over (see [`ClusterState::owner_of`]).
    unanswering: Mutex<HashMap<String, std::time::Instant>>,
}

/// How long an owner that did not answer is passed over.
pub const PASS_OVER: Duration = Duration::from_secs(3);

/// A leader that could not renew its lease for this long gives up leading
/// (before the lease, and with it the leader key, can expire in the store,
/// so that two nodes never both act as leader); it leads again if the key
/// is still its own when the store answers.
pub const STEP_DOWN_AFTER: Duration = Duration::from_millis(LEASE_TTL.as_millis() as u64 * 3 / 4);

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
            token: AtomicI64::new(0),
            draining: watch::channel(false).0,
            stats: Stats::new(metrics),
            ca_pem,
            peers: Default::default(),
            order_counts: Default::default(),
            counts_wanted: Default::default(),
            counted: Default::default(),
            renewed_at: Mutex::new(None),
            members: Default::default(),
            unanswering: Default::default(),
        }
    }

    fn renewed(&self) {
        *self.renewed_at.lock_anyway() = Some(std::time::Instant::now());
    }

    /// Whether the membership lease was renewed within `within`.
    pub fn lease_fresh(&self, within: Duration) -> bool {
        self.renewed_at
            .lock_anyway()
            .is_some_and(|t| t.elapsed() < within)
    }

    /// Gives up leading when the lease could not be renewed for
    /// [`STEP_DOWN_AFTER`].
    fn step_down_if_stale(&self) {
        if self.is_leader() && !self.lease_fresh(STEP_DOWN_AFTER) {
            self.token.store(0, Ordering::SeqCst);
            warn!(node = %self.node(), "no lease renewal for {STEP_DOWN_AFTER:?}: no longer acting as leader");
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
            t => vec![Compare::mod_revision(LEADER_KEY, t)],
        }
    }

    /// This node's name.
    pub fn node(&self) -> String {
        self.member.lock_anyway().node.clone()
    }

    /// The roles this node runs.
    pub fn roles(&self) -> Vec<String> {
        self.member.lock_anyway().roles.clone()
    }

    /// Whether this node runs `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.member.lock_anyway().roles.iter().any(|r| r == role)
    }

    /// The member that owns `restaurant`'s placements (see
    /// `protocol::owner`), when it is another node: among the live
    /// members last read, those that may own and have answered lately.
    /// `None`: this node owns it, or knows no owner (it serves it).
    pub fn owner_of(&self, restaurant: &str) -> Option<NodeAddr> {
        let me = self.node();
        let now = std::time::Instant::now();
        let passed_over: Vec<String> = {
            let mut u = self.unanswering.lock_anyway();
            u.retain(|_, until| *until > now);
            u.keys().cloned().collect()
        };
        let members = self.members.lock_anyway();
        let candidates = members.iter().filter(|m| {
            protocol::owner::eligible(m.draining, &m.roles)
                && (m.node == me || !passed_over.contains(&m.node))
        });
        let owner = protocol::owner::owner(restaurant, candidates.map(|m| m.node.as_str()))?;
        if owner == me {
            return None;
        }
        members.iter().find(|m| m.node == owner).cloned()
    }

    /// `node` did not answer a forwarded placement: pass it over for
    /// [`PASS_OVER`] (its lease may take longer to expire).
    pub fn pass_over(&self, node: &str) {
        self.unanswering
            .lock_anyway()
            .insert(node.to_string(), std::time::Instant::now() + PASS_OVER);
    }

    /// Records the live members (read by the cluster loop).
    fn set_members(&self, members: Vec<NodeAddr>) {
        *self.members.lock_anyway() = members;
    }

    /// This node's figures for `cluster.stats` and `cluster.top`.
    pub fn node_stats(&self, now_ms: u64) -> NodeStats {
        NodeStats {
            draining: *self.draining.borrow(),
            ..self
                .stats
                .node_stats(&self.node(), self.is_leader(), now_ms)
        }
    }
}

fn member_key(node: &str) -> String {
    format!("{MEMBERS_PREFIX}{node}")
}

/// Registers the node under a fresh lease.
pub async fn register(store: &dyn Store, cs: &ClusterState) -> Result<LeaseId, StoreError> {
    let lease = store.lease_grant(LEASE_TTL).await?;
    let member = cs.member.lock_anyway().clone();
    let value = serde_json::to_vec(&member).map_err(|e| StoreError::Internal(e.to_string()))?;
    store
        .txn(Txn::new().and_then([TxnOp::put_with_lease(
            member_key(&member.node),
            value,
            lease,
        )]))
        .await?;
    cs.lease.store(lease, Ordering::SeqCst);
    cs.renewed();
    Ok(lease)
}

/// The `leader.changed` event written in the transaction that changes (or
/// gives up) leadership. Its key's mod revision is that transaction's, so
/// the new leader's fencing token (see `top::leader_changes`); `reason`:
/// `elected`, `switchover`, `failover` or `resigned`.
fn leader_event(node: &str, reason: &str, now_ms: u64) -> ApiResult<TxnOp> {
    let ev = protocol::messages::Event {
        kind: "leader.changed".into(),
        subject: node.to_string(),
        data: serde_json::json!({"reason": reason}),
    };
    Ok(TxnOp::put(
        format!("{CLUSTER_EVENTS}{}", unique_suffix(now_ms)),
        to_doc(&ev)?,
    ))
}

/// The node's background loop (see the module doc). Ends when `stop` turns
/// true, resigning leadership first so another node takes over at once.
pub async fn run(deps: Arc<Deps>, cs: Arc<ClusterState>, mut stop: watch::Receiver<bool>) {
    let store = deps.store.as_ref();
    // A round of this loop can take seconds (the leader's duties under
    // load; store calls riding through an election, `store::etcd::STALL`):
    // the lease is renewed by a task of its own, so duties never starve
    // it, and a watchdog makes a leader cut off from the store stop acting
    // as one in time.
    let watchdog = {
        let (cs, mut stop) = (cs.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK / 2);
            loop {
                tokio::select! {
                    _ = tick.tick() => cs.step_down_if_stale(),
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        })
    };
    // Orders are counted here, when a `cluster.top` asks, never in the
    // request: with a day of orders in the hot store a count takes
    // seconds (see `top::order_counts`).
    let counter = tokio::spawn(top::count_when_asked(
        deps.clone(),
        cs.clone(),
        stop.clone(),
    ));
    let renewer = {
        let (deps, cs, mut stop) = (deps.clone(), cs.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK * 2);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // (The guard `wait_for` gives must not live across the
                // renewal's await: it is not `Send`.)
                let stopped = async {
                    let _ = stop.wait_for(|s| *s).await;
                };
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped => return,
                }
                renew(&deps, &cs).await;
            }
        })
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    let window_ticks = u64::try_from(STATS_WINDOW.as_millis() / TICK.as_millis()).unwrap_or(20);
    let sweep_every = Duration::from_secs(deps.retention.sweep_every_secs);
    let mut last_sweep: Option<tokio::time::Instant> = None;
    let mut expiring = crate::orders::worker::Expiring::default();
    let mut sweep_pace = crate::orders::retention::Pace::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        // A round is given up when the node stops: under a store that
        // does not answer, duties and a sweep can take minutes, and a
        // round cut short is like a leader killed mid-round (which every
        // duty is written to survive).
        let stopped = async {
            let _ = stop.wait_for(|s| *s).await;
        };
        let round = async {
            n += 1;
            if n.is_multiple_of(window_ticks) {
                cs.stats.roll_window();
            }
            match step(&deps, &cs).await {
                Ok(()) => {
                    cs.stats.cluster_rounds.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, "cluster step failed"),
            }
            cs.step_down_if_stale();
            if cs.is_leader() {
                let fence = cs.fence();
                let ctx = deps.ctx(None, None);
                if let Err(e) = crate::orders::worker::once(&ctx, &fence, &mut expiring).await {
                    tracing::debug!(error = %e, "leader duties failed this round");
                }
                if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
                    last_sweep = Some(tokio::time::Instant::now());
                    let swept = crate::orders::retention::sweep(
                        &ctx,
                        &deps.retention,
                        &fence,
                        &mut sweep_pace,
                    )
                    .await;
                    match swept {
                        Ok(s) if s != Default::default() => {
                            info!(archived = s.archived, idempotency_expired = s.idempotency_expired, events_deleted = s.events_deleted, compacted_to = ?s.compacted_to, "retention sweep");
                        }
                        Ok(_) => {}
                        Err(e) => warn!(error = %e, "retention sweep failed; the next one goes on"),
                    }
                    let window_start = ctx
                        .now_ms()
                        .saturating_sub(deps.retention.resume_window_secs.saturating_mul(1000));
                    if let Err(e) = prune_events(&ctx, &fence, window_start).await {
                        tracing::debug!(error = %e, "pruning leader.changed events failed");
                    }
                    match crate::auth::sweep_ended_sessions(ctx.store, ctx.now_ms() / 1000, &fence)
                        .await
                    {
                        Ok(0) => {}
                        Ok(n) => info!(records = n, "ended login sessions deleted"),
                        Err(e) => tracing::debug!(error = %e, "deleting ended sessions failed"),
                    }
                }
            } else {
                last_sweep = None;
                sweep_pace = Default::default();
                // A leader again later starts from a fresh read (and no
                // watch is left buffering meanwhile).
                expiring = Default::default();
            }
        };
        tokio::select! {
            _ = round => {}
            _ = stopped => break,
        }
    }
    watchdog.abort();
    counter.abort();
    // The renewer stops by itself (it watches `stop` too); wait for it, so
    // the lease is not renewed after it is revoked below.
    let _ = renewer.await;
    // Resign: delete the leader key if it is still ours.
    let fence = cs.fence();
    if !fence.is_empty() {
        let ops = match leader_event(&cs.node(), "resigned", deps.clock.now_ms()) {
            Ok(ev) => vec![TxnOp::delete(LEADER_KEY), ev],
            Err(_) => vec![TxnOp::delete(LEADER_KEY)],
        };
        let _ = store.txn(Txn::new().when(fence).and_then(ops)).await;
        cs.token.store(0, Ordering::SeqCst);
    }
    if let Err(e) = store.lease_revoke(cs.lease()).await {
        tracing::debug!(error = %e, "lease revoke on shutdown failed; it will expire");
    }
}

async fn renew(deps: &Deps, cs: &ClusterState) {
    let store = deps.store.as_ref();
    match store.lease_keep_alive(cs.lease()).await {
        Ok(_) => {
            cs.renewed();
            // A superset of what `drain` reads (the connection count).
            let rec = serde_json::to_vec(&cs.node_stats(deps.clock.now_ms())).unwrap_or_default();
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

/// One look at the cluster: read, follow the draining flag, and carry out
/// what [`elect::decide`] says.
async fn step(deps: &Deps, cs: &ClusterState) -> ApiResult<()> {
    let store = deps.store.as_ref();
    let me = cs.node();
    let my_key = member_key(&me);
    let (mine, leader, paused, plan, live) = futures::try_join!(
        store.get(&my_key),
        store.get(LEADER_KEY),
        store.get(PAUSED_KEY),
        store.get(SWITCHOVER_KEY),
        store.range(MEMBERS_PREFIX),
    )?;
    let mut nodes = Vec::new();
    for kv in live.kvs {
        nodes.push(node_addr(from_doc::<Member>(&kv.key, &kv.value)?));
    }
    cs.set_members(nodes);
    // My own record: the operator may have set `draining`.
    if let Some(kv) = mine {
        let m: Member = from_doc(&kv.key, &kv.value)?;
        if *cs.draining.borrow() != m.draining {
            info!(node = %me, draining = m.draining, "drain state changed");
            cs.draining.send_replace(m.draining);
            cs.member.lock_anyway().draining = m.draining;
        }
    }
    let view = elect::View {
        me: me.clone(),
        duties: cs.has_role("duties"),
        draining: *cs.draining.borrow(),
        leader: match &leader {
            Some(kv) => Some((
                from_doc::<LeaderRecord>(LEADER_KEY, &kv.value)?.node,
                kv.mod_revision,
            )),
            None => None,
        },
        paused: paused.is_some(),
        switchover: match &plan {
            Some(kv) => Some((from_doc(SWITCHOVER_KEY, &kv.value)?, kv.mod_revision)),
            None => None,
        },
    };
    let now = deps.clock.now_ms();
    let decision = elect::decide(&view, now);
    // Out of touch with the store for too long: lead again only after the
    // lease is renewed (the leader key may still name us meanwhile).
    if !cs.lease_fresh(STEP_DOWN_AFTER) && decision != Decision::Follow {
        cs.set_token(&me, 0);
        return Ok(());
    }
    let token = match decision {
        Decision::Follow => 0,
        Decision::Lead { token } => token,
        Decision::DropPlan { token } => {
            let _ = store
                .txn(Txn::new().and_then([TxnOp::delete(SWITCHOVER_KEY)]))
                .await;
            token
        }
        Decision::HandOver { token, to, plan } => {
            cs.set_token(&me, token);
            ops::hand_over(store, now, cs, &to, Some(token), plan, "switchover").await?;
            return Ok(());
        }
        Decision::Campaign => {
            let rec = LeaderRecord {
                node: me.clone(),
                since: now,
            };
            let r = store
                .txn(Txn::new().when([Compare::absent(LEADER_KEY)]).and_then([
                    TxnOp::put_with_lease(LEADER_KEY, to_doc(&rec)?, cs.lease()),
                    leader_event(&me, "elected", now)?,
                ]))
                .await;
            match r {
                Ok(r) if r.succeeded => {
                    info!(node = %me, fencing_token = r.revision, "elected leader");
                    r.revision
                }
                Ok(_) => 0,
                Err(StoreError::LeaseNotFound(_)) => 0, // renew() re-registers
                Err(e) => return Err(e.into()),
            }
        }
    };
    cs.set_token(&me, token);
    Ok(())
}

impl ClusterState {
    /// Records the fencing token this node holds (0: not leader), logging
    /// changes.
    fn set_token(&self, me: &str, token: Revision) {
        let before = self.token.swap(token, Ordering::SeqCst);
        match (before, token) {
            (b, t) if b == t => {}
            (0, t) => info!(node = %me, fencing_token = t, "became leader"),
            (_, 0) => info!(node = %me, "no longer leader"),
            (_, t) => info!(node = %me, fencing_token = t, "leader again with a new token"),
        }
    }
}

/// The `leader.changed` events the dashboard always shows.
const KEEP_LEADER_CHANGES: usize = 10;

/// Deletes `leader.changed` events written before `window_start`, but the
/// last [`KEEP_LEADER_CHANGES`].
async fn prune_events(ctx: &Ctx<'_>, fence: &[Compare], window_start: u64) -> ApiResult<()> {
    let kvs = ctx.store.range(CLUSTER_EVENTS).await?.kvs;
    let keep_from = kvs.len().saturating_sub(KEEP_LEADER_CHANGES);
    let old: Vec<_> = kvs[..keep_from]
        .iter()
        .filter(|kv| {
            crate::orders::retention::written_at(&kv.key[CLUSTER_EVENTS.len()..])
                .is_some_and(|t| t < window_start)
        })
        .collect();
    for chunk in old.chunks(64) {
        let txn = Txn::new()
            .when(fence.iter().cloned())
            .and_then(chunk.iter().map(|kv| TxnOp::delete(&kv.key)));
        ctx.store.txn(txn).await?;
    }
    Ok(())
}

/// A member as clients see it (`cluster.nodes`).
fn node_addr(m: Member) -> NodeAddr {
    NodeAddr {
        node: m.node,
        addr: m.addr,
        draining: m.draining,
        roles: m.roles,
    }
}

/// Live members, sorted by name.
pub async fn members(store: &dyn Store) -> ApiResult<Vec<(Member, LeaseId)>> {
    let r = store.range(MEMBERS_PREFIX).await?;
    let mut out = Vec::new();
    for kv in r.kvs {
        out.push((from_doc::<Member>(&kv.key, &kv.value)?, kv.lease));
    }
    Ok(out)
}

/// The leader record and its mod revision (the fencing token), if any.
pub async fn current_leader(store: &dyn Store) -> ApiResult<Option<(LeaderRecord, i64)>> {
    Ok(match store.get(LEADER_KEY).await? {
        Some(kv) => Some((from_doc(LEADER_KEY, &kv.value)?, kv.mod_revision)),
        None => None,
    })
}

/// `cluster.status`.
pub async fn status(store: &dyn Store) -> ApiResult<ClusterStatus> {
    let leader = current_leader(store).await?;
    let mut infos = Vec::new();
    for (m, lease) in members(store).await? {
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
        store_revision: u64::try_from(store.revision().await?).unwrap_or(0),
        members: infos,
        leader: leader.map(|(l, rev)| Leader {
            node: l.node,
            fencing_token: u64::try_from(rev).unwrap_or(0),
            since: l.since,
        }),
        paused: store.get(PAUSED_KEY).await?.is_some(),
        pending_switchover: pending,
        store_members: store.store_members().await,
        store_usage: usage(store).await?,
        archived_orders: None,
    })
}

/// The store's size and its last compaction.
async fn usage(store: &dyn Store) -> ApiResult<Option<StoreUsage>> {
    use crate::orders::retention::{COMPACTED_KEY, Compaction};
    let last: Option<Compaction> = match store.get(COMPACTED_KEY).await? {
        Some(kv) => Some(from_doc(COMPACTED_KEY, &kv.value)?),
        None => None,
    };
    Ok(store.usage().await.map(|mut u| {
        if let Some(c) = last {
            u.compacted_revision = u64::try_from(c.revision).ok();
            u.compacted_at = Some(c.at);
        }
        u
    }))
}

/// Routes `cluster.*` requests; only `cluster.nodes` is open to all.
pub async fn route(
    ctx: &Ctx<'_>,
    cs: &ClusterState,
    req: &Request,
) -> Option<ApiResult<serde_json::Value>> {
    let store = ctx.store;
    Some(match req.ty.as_str() {
        types::NODES => {
            api::call(req, |_: serde_json::Value| async move {
                let nodes = members(store)
                    .await?
                    .into_iter()
                    .map(|(m, _)| node_addr(m))
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
                            members: status(store).await?.members,
                        })
                    })
                    .await
                }
                types::STATUS => {
                    api::call(req, |_: serde_json::Value| async move {
                        let mut s = status(store).await?;
                        if let Some(a) = ctx.archive {
                            s.archived_orders = a.count().await.ok();
                        }
                        Ok(s)
                    })
                    .await
                }
                types::SWITCHOVER => api::call(req, |b| ops::switchover(ctx, cs, b)).await,
                types::FAILOVER => api::call(req, |b| ops::failover(ctx, cs, b)).await,
                types::PAUSE => {
                    api::call(req, |_: serde_json::Value| ops::set_paused(ctx, true)).await
                }
                types::RESUME => {
                    api::call(req, |_: serde_json::Value| ops::set_paused(ctx, false)).await
                }
                types::DRAIN => api::call(req, |b| ops::drain(ctx, cs, b)).await,
                types::STATS => {
                    api::call(req, |_: serde_json::Value| async move {
                        Ok(cs.node_stats(ctx.now_ms()))
                    })
                    .await
                }
                types::TOP => api::call(req, |_: serde_json::Value| top::dashboard(ctx, cs)).await,
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(node: &str, roles: &[&str]) -> Member {
        Member {
            node: node.into(),
            addr: format!("{node}:1"),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            version: "0".into(),
            started_at: 0,
            draining: false,
        }
    }

    #[test]
    fn a_placement_goes_to_its_owner_unless_passed_over() {
        let nodes = ["n1", "n2", "n3"];
        let cs = ClusterState::new(member("n1", &["orders"]), vec![]);
        // No member list yet: served here.
        assert!(cs.owner_of("r").is_none());
        cs.set_members(
            nodes
                .iter()
                .map(|n| node_addr(member(n, &["orders"])))
                .collect(),
        );
        let r = (0..100)
            .map(|i| format!("r{i}"))
            .find(|r| protocol::owner::owner(r, nodes) == Some("n2"))
            .expect("a restaurant of n2's");
        assert_eq!(cs.owner_of(&r).map(|m| m.node).as_deref(), Some("n2"));
        let mine = (0..100)
            .map(|i| format!("r{i}"))
            .find(|r| protocol::owner::owner(r, nodes) == Some("n1"))
            .expect("a restaurant of n1's");
        assert!(cs.owner_of(&mine).is_none(), "its own: served here");
        // n2 did not answer: its restaurants go to the next in rank.
        cs.pass_over("n2");
        let next = protocol::owner::rank(&r, nodes)[1];
        let now = cs.owner_of(&r).map(|m| m.node);
        assert_eq!(now.as_deref().unwrap_or("n1"), next);
        // A draining member owns nothing.
        let mut draining = node_addr(member("n3", &["orders"]));
        draining.draining = true;
        cs.set_members(vec![node_addr(member("n1", &["orders"])), draining]);
        assert!(cs.owner_of(&r).is_none());
    }
}

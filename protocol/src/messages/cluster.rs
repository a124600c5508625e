//! Cluster membership and operations.
//!
//! | type                 | who        | body → answer |
//! |----------------------|------------|---------------|
//! | `cluster.nodes`      | anyone     | `{}` → [`NodeList`] (addresses clients may fail over to) |
//! | `cluster.members`    | operators  | `{}` → [`MemberList`] |
//! | `cluster.status`     | operators  | `{}` → [`ClusterStatus`] |
//! | `cluster.switchover` | operators  | [`Switchover`] → [`ClusterStatus`] |
//! | `cluster.failover`   | operators  | [`Failover`] → [`ClusterStatus`] |
//! | `cluster.pause` / `cluster.resume` | operators | `{}` → [`ClusterStatus`] |
//! | `cluster.drain`      | operators  | [`Drain`] → [`DrainStatus`] |
//! | `cluster.stats`      | operators  | `{}` → [`NodeStats`] (the answering node's figures) |
//! | `cluster.top`        | operators  | `{}` → [`Dashboard`] (everything `dfood top` shows, in one answer) |

use serde::{Deserialize, Serialize};

use super::Member;

pub mod types {
    pub const NODES: &str = "cluster.nodes";
    pub const MEMBERS: &str = "cluster.members";
    pub const STATUS: &str = "cluster.status";
    pub const SWITCHOVER: &str = "cluster.switchover";
    pub const FAILOVER: &str = "cluster.failover";
    pub const PAUSE: &str = "cluster.pause";
    pub const RESUME: &str = "cluster.resume";
    pub const DRAIN: &str = "cluster.drain";
    pub const STATS: &str = "cluster.stats";
    pub const TOP: &str = "cluster.top";
}

/// A node clients can connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddr {
    pub node: String,
    pub addr: String,
    #[serde(default)]
    pub draining: bool,
    /// The roles it runs (absent from nodes that predate this field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeList {
    pub nodes: Vec<NodeAddr>,
}

/// A member with what only the store knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    #[serde(flatten)]
    pub member: Member,
    /// Seconds left on its lease (it vanishes when this reaches 0).
    pub lease_ttl_secs: u64,
    pub leader: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<MemberInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leader {
    pub node: String,
    /// The fencing token: every write the leader makes as leader is
    /// guarded by it; it changes with every leader change.
    pub fencing_token: u64,
    /// Unix milliseconds.
    pub since: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMember {
    pub name: String,
    pub endpoint: String,
    pub healthy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub leader: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// `embedded` or `etcd`.
    pub store: String,
    pub store_revision: u64,
    pub members: Vec<MemberInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<Leader>,
    /// Maintenance mode: no automatic leader change.
    pub paused: bool,
    /// A planned switchover not yet done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_switchover: Option<Switchover>,
    /// etcd members and their health (empty on the embedded store).
    #[serde(default)]
    pub store_members: Vec<StoreMember>,
    /// How big the store is, against its quota, and when its history was
    /// last compacted (absent when the store cannot say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_usage: Option<StoreUsage>,
    /// Orders in the order archive (absent: no archive, or it did not
    /// answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_orders: Option<u64>,
}

/// The store's size: what the hot store's retention keeps bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreUsage {
    /// Bytes on disk (etcd: the backend database of the member asked).
    pub bytes: u64,
    /// Bytes holding live data (etcd), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use_bytes: Option<u64>,
    /// Live keys of DistribuFood (under `/dfood/`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<u64>,
    /// The size at which the store refuses writes (etcd's backend quota;
    /// etcd then raises a NOSPACE alarm), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
    /// The revision history was last compacted to, and when (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compacted_revision: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compacted_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switchover {
    /// Candidate; absent: the best one (a healthy, not draining node with
    /// the `duties` role, the longest-running first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Unix milliseconds; absent: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failover {
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drain {
    pub node: String,
    /// false: stop draining (the node takes connections again).
    #[serde(default = "yes")]
    pub drain: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainStatus {
    pub node: String,
    pub draining: bool,
    /// Client connections still open on the node.
    pub connections: u64,
    /// Whether the node itself acts on `draining` yet: it learns the flag
    /// in its next cluster round (about twice a second) and says so in
    /// the figures it publishes (about once a second). Absent: no figures
    /// from it (an older node, or none published yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_draining: Option<bool>,
}

/// One node's figures (also exported as Prometheus metrics).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    pub node: String,
    pub connections: u64,
    pub subscriptions: u64,
    pub requests_total: u64,
    pub request_errors_total: u64,
    /// Latency percentiles over the node's lifetime, microseconds.
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub leader: bool,
    pub lease_renew_failures: u64,
    /// p99 latency over the last full 10-second window, microseconds
    /// (0: no request in that window).
    #[serde(default)]
    pub latency_p99_recent_us: u64,
    /// When these figures were taken (Unix milliseconds; 0 if unknown).
    #[serde(default)]
    pub at: u64,
    /// Placements this node committed since it started.
    #[serde(default)]
    pub placements: u64,
    /// Placement transactions whose compares failed (lost races).
    #[serde(default)]
    pub placement_lost_races: u64,
    /// Store transactions sent for placements (a batch is one).
    #[serde(default)]
    pub placement_txns: u64,
    /// The daemon's CPU time (user + system) since it started, ms.
    #[serde(default)]
    pub cpu_ms: u64,
    /// Cluster rounds this node has completed since it started: each one
    /// read the membership, the leader key and the operator's flags and
    /// acted on them (about two a second). A round that could not read
    /// the store is not counted, so a count that grows says the node is
    /// looking at the cluster.
    #[serde(default)]
    pub cluster_rounds: u64,
    /// Whether this node refuses new connections (drained), as it acts.
    #[serde(default)]
    pub draining: bool,
}

/// Everything the operator dashboard shows, read by one node in one go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub status: ClusterStatus,
    /// Every live node's figures, as each last published them (about once
    /// a second, under its lease): a node that died drops out.
    pub nodes: Vec<NodeStats>,
    pub orders: OrderCounts,
    /// The most recent leader changes, oldest first (at most 10).
    pub leader_changes: Vec<LeaderChange>,
}

/// Orders in the whole cluster, counted from the store. The answering node
/// counts apart from requests, at most every 2 seconds (or every ten times
/// as long as its last count took: a large hot store takes seconds), and
/// answers from its last count meanwhile; `at` says when it was counted,
/// and 0 means not counted yet (ask again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCounts {
    /// Order state (`placed`, `preparing`, ...) → number of orders in it.
    /// Every state is present, zero included.
    pub by_state: std::collections::BTreeMap<String, u64>,
    /// Orders created in the minute before `at`.
    pub placed_last_minute: u64,
    pub total: u64,
    /// When counted (Unix milliseconds); 0: not counted yet.
    pub at: u64,
}

/// One leader change (a `leader.changed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderChange {
    pub node: String,
    /// The fencing token this change gave `node` (for `resigned`: the
    /// revision it gave up at).
    pub fencing_token: u64,
    /// Unix milliseconds (0 when the event predates this field).
    #[serde(default)]
    pub at: u64,
    /// `elected`, `switchover`, `failover` or `resigned` (absent: older
    /// events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

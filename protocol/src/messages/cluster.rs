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
}

/// A node clients can connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddr {
    pub node: String,
    pub addr: String,
    #[serde(default)]
    pub draining: bool,
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
}

/// One node's figures (also exported as Prometheus metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

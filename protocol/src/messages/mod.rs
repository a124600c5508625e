//! Typed bodies of every request and response, by request `type`.
//!
//! | type        | request body         | response body                         |
//! |-------------|----------------------|---------------------------------------|
//! | `health`    | [`HealthRequest`]    | [`HealthResponse`]                    |
//! | `subscribe` | [`SubscribeRequest`] | [`SubscribeResponse`], then frames of kind `event` / `progress` |
//!
//! Field names are the JSON names. Optional fields may be absent.

use serde::{Deserialize, Serialize};

pub mod auth;
pub mod catalog;
pub mod cluster;
pub mod history;
pub mod orders;

/// Request type names.
pub mod types {
    pub const HEALTH: &str = "health";
    pub const SUBSCRIBE: &str = "subscribe";
}

/// `health`: no parameters. Anyone may ask, no token needed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthRequest {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// The node's name (unique in its cluster).
    pub node: String,
    /// The `dfoodd` version, e.g. `0.1.0`.
    pub version: String,
    /// The ALPN protocol id spoken, e.g. `dfood/1`.
    pub protocol: String,
    /// `embedded` or `etcd`.
    pub store: String,
    /// The store's current revision as seen by this node.
    pub store_revision: u64,
    /// Seconds since this node started.
    pub uptime_secs: u64,
    /// Roles this node runs.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Present when the node cannot reach its store (e.g. etcd lost
    /// quorum): the node is up, writes fail with `unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
    /// The payment gateway the node charges through: `sandbox` (test
    /// payment methods, no money moves) or `http` (a real provider).
    /// Absent from nodes older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<String>,
}

/// `subscribe`: open a server-push stream of events on a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribeRequest {
    /// What to follow. `members`: nodes joining and leaving the cluster.
    pub topic: String,
    /// Deliver every event with a revision `>=` this one, then follow live.
    /// To resume after a disconnect, send the last revision received plus
    /// one. Absent: only events after the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_revision: Option<u64>,
}

/// First frame of a subscription (kind `ok`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribeResponse {
    /// The store revision the subscription starts from: events with a
    /// revision `>=` this one follow.
    pub start_revision: u64,
}

/// One event delivered on a subscription, inside a frame of kind `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened, e.g. `member.up`, `member.down`.
    pub kind: String,
    /// The identity of the subject, e.g. the node name.
    pub subject: String,
    /// Event-specific data; `null` when there is none.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// A cluster member as published by a node (the `data` of `member.up`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub node: String,
    /// QUIC address clients can reach it on.
    pub addr: String,
    pub roles: Vec<String>,
    pub version: String,
    /// Unix seconds.
    pub started_at: u64,
    #[serde(default)]
    pub draining: bool,
}

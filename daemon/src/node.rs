//! A node's state, wiring only: the request dependencies ([`Deps`]), the
//! cluster view ([`ClusterState`]), the subscription fan-out and the
//! shutdown signal, put together by `crate::start` and shared by the
//! server's tasks. Nothing below the server sees it: domains get a `Ctx`,
//! the cluster loop gets `Deps` and its own state.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::cluster::ClusterState;
use crate::ctx::{Ctx, Deps};
use crate::fanout::Fanout;

pub struct NodeState {
    pub deps: Arc<Deps>,
    /// Membership, leadership, drain state and figures.
    pub cluster: Arc<ClusterState>,
    /// Shared store watches for subscriptions (one per topic).
    pub fanout: Arc<Fanout>,
    pub started: Instant,
    /// Becomes true when the node starts shutting down.
    pub going_away: watch::Receiver<bool>,
}

impl NodeState {
    /// This node's name.
    pub fn node(&self) -> &str {
        &self.deps.node
    }

    /// The context of one request.
    pub fn ctx<'a>(&'a self, token: Option<&'a str>, request_id: Option<&'a str>) -> Ctx<'a> {
        self.deps.ctx(token, request_id)
    }
}

//! Roles: a node started with `--roles` that lacks the role a request
//! needs forwards it, token and all, to a live member that has the role
//! (and is not draining), and relays the answer. A forwarded request
//! carries `via` = the forwarding node; a node never forwards a request
//! that was already forwarded, so a misconfiguration cannot loop.
//!
//! Subscriptions are served by whichever node the client is connected to:
//! every node can watch the store.

use std::sync::Arc;
use std::time::Duration;

use protocol::client::{Client, ClientError, ConnectOptions};
use protocol::wire::Request;

use super::{ApiError, ApiResult};
use crate::server::NodeState;

/// The role a request type needs, if any.
pub fn role_for(ty: &str) -> Option<&'static str> {
    let prefix = ty.split('.').next().unwrap_or_default();
    match prefix {
        "auth" | "admin" => Some("auth"),
        "restaurant" | "staff" | "menu" => Some("catalog"),
        "order" => Some("orders"),
        _ => None,
    }
}

async fn peer(state: &NodeState, addr: &str) -> Result<Arc<Client>, ClientError> {
    let mut peers = state.cluster.peers.lock().await;
    if let Some(c) = peers.get(addr) {
        return Ok(c.clone());
    }
    let mut opts = ConnectOptions::new(addr, state.cluster.ca_pem.clone());
    // Below clients' default request timeout (5 s), so a dead peer is
    // reported by this node rather than timed out by the client.
    opts.timeout = Duration::from_secs(3);
    let c = Arc::new(Client::connect(&opts).await?);
    peers.insert(addr.to_string(), c.clone());
    Ok(c)
}

/// Forwards `req` to a member with `role`; `None` if this node has it.
pub async fn maybe_forward(
    state: &NodeState,
    req: &Request,
) -> Option<ApiResult<serde_json::Value>> {
    let role = role_for(&req.ty)?;
    if state.roles.iter().any(|r| r == role) {
        return None;
    }
    Some(forward(state, req, role).await)
}

async fn forward(state: &NodeState, req: &Request, role: &str) -> ApiResult<serde_json::Value> {
    if let Some(from) = &req.via {
        return Err(ApiError::unavailable(format!(
            "{} was forwarded here by {from}, but {} does not run the {role} role either",
            req.ty, state.node
        )));
    }
    let members = crate::cluster::members(state).await?;
    let mut candidates: Vec<_> = members
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| m.node != state.node && !m.draining && m.roles.iter().any(|r| r == role))
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::unavailable(format!(
            "no live node runs the {role} role needed for {}",
            req.ty
        )));
    }
    // Spread the load: start at a different candidate each time.
    let start = (crate::catalog::now_ms() as usize) % candidates.len();
    candidates.rotate_left(start);
    let mut fwd = req.clone();
    fwd.via = Some(state.node.clone());
    let mut last = String::new();
    for m in candidates {
        let client = match peer(state, &m.addr).await {
            Ok(c) => c,
            Err(e) => {
                last = format!("{}: {e}", m.node);
                continue;
            }
        };
        match client.request(&fwd).await {
            Ok(v) => return Ok(v),
            Err(ClientError::Server(e)) => return Err(ApiError::new(e.code, e.message)),
            Err(e @ (ClientError::Connect { .. } | ClientError::GoingAway { .. })) => {
                // Never reached it: safe to try the next one.
                state.cluster.peers.lock().await.remove(&m.addr);
                last = format!("{}: {e}", m.node);
            }
            Err(e) => {
                // It may have been applied: do not try elsewhere.
                state.cluster.peers.lock().await.remove(&m.addr);
                return Err(ApiError::unavailable(format!(
                    "lost {} while it handled {}: {e}",
                    m.node, req.ty
                )));
            }
        }
    }
    Err(ApiError::unavailable(format!(
        "no node with the {role} role answered: {last}"
    )))
}

#[cfg(test)]
mod tests {
    use super::role_for;

    #[test]
    fn every_domain_maps_to_its_role() {
        assert_eq!(role_for("auth.token"), Some("auth"));
        assert_eq!(role_for("admin.bootstrap"), Some("auth"));
        assert_eq!(role_for("menu.86"), Some("catalog"));
        assert_eq!(role_for("restaurant.create"), Some("catalog"));
        assert_eq!(role_for("order.place"), Some("orders"));
        assert_eq!(role_for("cluster.status"), None);
        assert_eq!(role_for("health"), None);
    }
}

//! Roles: a node started with `--roles` that lacks the role a request
//! needs forwards it, token and all, to a live member that has the role
//! (and is not draining), and relays the answer. A forwarded request
//! carries `via` = the forwarding node; a node never forwards a request
//! that was already forwarded, so a misconfiguration cannot loop. It also
//! carries the client's address (`peer`, with `peer_mac` made from the
//! KEK), which the serving node believes only when the MAC holds.
//!
//! Placements: [`to_owner`] sends an `order.place` to the node that owns
//! its restaurant (see `ClusterState::owner_of`), once; an owner that
//! cannot be reached is passed over for a few seconds and the placement
//! served here (the store's compares keep two servers of one restaurant
//! correct; they only cost a lost race).
//!
//! Subscriptions are served by whichever node the client is connected to:
//! every node can watch the store.

use std::sync::Arc;
use std::time::Duration;

use protocol::client::{Client, ClientError, ConnectOptions};
use protocol::messages::cluster::NodeAddr;
use protocol::requests::Role;
use protocol::wire::Request;

use crate::cluster::ClusterState;
use crate::ctx::Ctx;
use crate::rpc::{ApiError, ApiResult};

async fn peer(cs: &ClusterState, addr: &str) -> Result<Arc<Client>, ClientError> {
    let mut peers = cs.peers.lock().await;
    if let Some(c) = peers.get(addr) {
        return Ok(c.clone());
    }
    let mut opts = ConnectOptions::new(addr, cs.ca_pem.clone());
    // Below clients' default request timeout (5 s), so a dead peer is
    // reported by this node rather than timed out by the client.
    opts.timeout = Duration::from_secs(3);
    let c = Arc::new(Client::connect(&opts).await?);
    peers.insert(addr.to_string(), c.clone());
    Ok(c)
}

/// Forwards `req`, which needs `role`, to a live member that runs it.
pub async fn forward(
    ctx: &Ctx<'_>,
    cs: &ClusterState,
    req: &Request,
    role: Role,
) -> ApiResult<serde_json::Value> {
    let role = role.as_str();
    if let Some(from) = &req.via {
        return Err(ApiError::unavailable(format!(
            "{} was forwarded here by {from}, but {} does not run the {role} role either",
            req.ty, ctx.node
        )));
    }
    let members = crate::cluster::members(ctx.store).await?;
    let mut candidates: Vec<_> = members
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| m.node != ctx.node && !m.draining && m.roles.iter().any(|r| r == role))
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::unavailable(format!(
            "no live node runs the {role} role needed for {}",
            req.ty
        )));
    }
    // Spread the load: start at a different candidate each time.
    let start = usize::try_from(ctx.now_ms() % candidates.len() as u64).unwrap_or(0);
    candidates.rotate_left(start);
    let fwd = forwarded(ctx, req);
    let mut last = String::new();
    for m in candidates {
        let client = match peer(cs, &m.addr).await {
            Ok(c) => c,
            Err(e) => {
                last = format!("{}: {e}", m.node);
                continue;
            }
        };
        match client.request(&fwd).await {
            Ok(v) => return Ok(v),
            Err(ClientError::Server(e)) => return Err(relayed(e)),
            Err(e @ (ClientError::Connect { .. } | ClientError::GoingAway { .. })) => {
                // Never reached it: safe to try the next one.
                cs.peers.lock().await.remove(&m.addr);
                last = format!("{}: {e}", m.node);
            }
            Err(e) => {
                // It may have been applied: do not try elsewhere.
                cs.peers.lock().await.remove(&m.addr);
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

/// `req` as this node forwards it: marked `via` this node, with the
/// client's address (for the serving node's login throttling) vouched for
/// by a MAC only the cluster's nodes can make.
fn forwarded(ctx: &Ctx<'_>, req: &Request) -> Request {
    let mut fwd = req.clone();
    fwd.via = Some(ctx.node.to_string());
    fwd.peer = ctx.peer.map(|p| p.to_string());
    fwd.peer_mac = fwd
        .peer
        .as_deref()
        .map(|p| crate::secrets::peer_mac(ctx.auth.keys.kek(), ctx.node, p));
    fwd
}

/// The serving node's error answer, relayed as it is.
fn relayed(e: protocol::wire::ErrorBody) -> ApiError {
    let mut err = ApiError::new(e.code, e.message);
    err.order = e.order;
    err.retry_after_ms = e.retry_after_ms;
    err
}

/// Forwards a placement to `owner`, the node that owns its restaurant.
/// `None`: the owner was not reached (it is passed over for a while):
/// serve the placement here.
pub async fn to_owner(
    ctx: &Ctx<'_>,
    cs: &ClusterState,
    req: &Request,
    owner: &NodeAddr,
) -> Option<ApiResult<serde_json::Value>> {
    let client = match peer(cs, &owner.addr).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(owner = %owner.node, error = %e, "owner not reached; placing here");
            cs.pass_over(&owner.node);
            return None;
        }
    };
    match client.request(&forwarded(ctx, req)).await {
        Ok(v) => Some(Ok(v)),
        Err(ClientError::Server(e)) => Some(Err(relayed(e))),
        Err(e @ (ClientError::Connect { .. } | ClientError::GoingAway { .. })) => {
            // Never reached it: place here.
            tracing::debug!(owner = %owner.node, error = %e, "owner not reached; placing here");
            cs.peers.lock().await.remove(&owner.addr);
            cs.pass_over(&owner.node);
            None
        }
        Err(e) => {
            // It may have placed it: the client's retry (same idempotency
            // key) will find out, here, as the owner is passed over.
            cs.peers.lock().await.remove(&owner.addr);
            cs.pass_over(&owner.node);
            Some(Err(ApiError::unavailable(format!(
                "lost {}, which owns the restaurant, while it placed the order: {e}",
                owner.node
            ))))
        }
    }
}

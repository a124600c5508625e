//! Request routing: a one-shot request goes to the domain that owns its
//! `type` (each has `route(ctx, req)`, `None` for types it does not own),
//! on another node if this one lacks the role ([`forward`]). Only types in
//! the protocol's table (`protocol::requests`) are served; anything else is
//! `unsupported` before any domain sees it. A placement is served by the
//! node that owns its restaurant ([`forward::to_owner`]).

pub mod forward;

use protocol::wire::{ErrorCode, Request};

use crate::cluster::ClusterState;
use crate::ctx::Ctx;
use crate::rpc::{ApiError, ApiResult};

/// Routes a one-shot request to the domain that owns its type (on another
/// node if this one lacks the role, see [`forward`]).
pub async fn route(
    ctx: &Ctx<'_>,
    cs: &ClusterState,
    req: &Request,
) -> ApiResult<serde_json::Value> {
    let Some(ty) = protocol::requests::find(&req.ty) else {
        return Err(unsupported(req));
    };
    // A placement goes to the owner of its restaurant, once (a forwarded
    // one is served where it arrives); from a node without the role too.
    if req.ty == protocol::messages::orders::types::PLACE
        && req.via.is_none()
        && let Some(r) = req.body.get("restaurant").and_then(|r| r.as_str())
        && let Some(owner) = cs.owner_of(r)
        && let Some(answer) = forward::to_owner(ctx, cs, req, &owner).await
    {
        return answer;
    }
    if let Some(role) = ty.role
        && !cs.has_role(role.as_str())
    {
        return forward::forward(ctx, cs, req, role).await;
    }
    if let Some(r) = crate::auth::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::catalog::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::orders::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::cluster::route(ctx, cs, req).await {
        return r;
    }
    Err(unsupported(req))
}

fn unsupported(req: &Request) -> ApiError {
    ApiError::new(
        ErrorCode::Unsupported,
        format!("unknown message type {:?}", req.ty),
    )
}

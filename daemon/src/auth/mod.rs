//! Accounts and tokens (being built: see issue 3). Until this lands, every
//! token is refused.

use protocol::wire::Request;

use crate::api::{ApiError, ApiResult, Ctx, Principal};
use crate::server::NodeState;

/// Checks an access token and returns its principal.
pub async fn authenticate(_state: &NodeState, _token: &str) -> ApiResult<Principal> {
    Err(ApiError::unauthenticated("accounts are not available yet"))
}

/// Routes `auth.*` and `admin.*` requests.
pub async fn route(_ctx: &Ctx<'_>, _req: &Request) -> Option<ApiResult<serde_json::Value>> {
    None
}

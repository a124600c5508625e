//! Restaurants, menus and staff.

use protocol::wire::Request;

use crate::api::{ApiResult, Ctx};

pub async fn route(_ctx: &Ctx<'_>, _req: &Request) -> Option<ApiResult<serde_json::Value>> {
    None
}

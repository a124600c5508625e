//! History and reports, read from the order archive (finished orders that
//! left the hot store after the retention window; see protocol/README.md
//! §5.7).
//!
//! | type            | who                                | body → answer |
//! |-----------------|------------------------------------|---------------|
//! | `order.history` | the customer (their own orders)    | [`HistoryRequest`] → [`History`] |
//! | `report.sales`  | managers of the restaurant, operators | [`ReportRequest`] → [`SalesReport`] |
//! | `report.items`  | managers of the restaurant, operators | [`ReportRequest`] → [`ItemsReport`] |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::orders::Order;

/// Request type names.
pub mod types {
    pub const HISTORY: &str = "order.history";
    pub const SALES: &str = "report.sales";
    pub const ITEMS: &str = "report.items";
}

/// The most orders one `order.history` page holds.
pub const MAX_HISTORY_PAGE: u32 = 100;
/// The longest span one report covers, in days.
pub const MAX_REPORT_DAYS: u64 = 400;

/// `order.history`: the caller's archived orders, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRequest {
    /// Orders per page, 1 to [`MAX_HISTORY_PAGE`] (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next` of the previous page; absent: the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub orders: Vec<Order>,
    /// Give it back as `cursor` for the next (older) page; absent: no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `report.sales` and `report.items`: one restaurant over whole UTC days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    pub restaurant: String,
    /// First day, `YYYY-MM-DD` (UTC); absent: 30 days before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last day, included; absent: today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Averages and 90th percentiles of a duration, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub count: u64,
    pub avg_ms: u64,
    pub p90_ms: u64,
}

/// One day of a restaurant's archived orders (by the day they were placed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySales {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub orders: u64,
    /// Final state → orders (`completed`, `rejected`, `cancelled`, ...).
    pub by_state: BTreeMap<String, u64>,
    /// Money captured, minor units.
    pub revenue: i64,
    /// Money refunded, minor units.
    pub refunds: i64,
    /// From acceptance to ready, over orders that were ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_to_ready: Option<Timing>,
    /// From placement to completion, over completed orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_to_completed: Option<Timing>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesReport {
    pub restaurant: String,
    pub from: String,
    pub to: String,
    /// The currency of `revenue` and `refunds` (the restaurant's).
    pub currency: String,
    /// Days with at least one order, oldest first.
    pub days: Vec<DaySales>,
}

/// Units and revenue of one item over completed orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSales {
    pub sku: String,
    pub name: String,
    pub units: u64,
    /// Minor units, at the prices paid (modifiers included).
    pub revenue: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemsReport {
    pub restaurant: String,
    pub from: String,
    pub to: String,
    pub currency: String,
    /// Best-selling first (by revenue).
    pub items: Vec<ItemSales>,
}

//! Orders and their payments.
//!
//! | type             | who                               | body → answer |
//! |------------------|-----------------------------------|---------------|
//! | `order.place`    | customer (any logged-in person)   | [`PlaceOrder`] → [`Order`] |
//! | `order.get`      | its customer, staff of its restaurant, operators | [`OrderRef`] → [`Order`] |
//! | `order.list`     | customer: own; staff: `restaurant` | [`ListOrders`] → [`OrderList`] |
//! | `order.cancel`   | its customer                      | [`OrderRef`] → [`Order`] |
//! | `order.accept` / `order.start` / `order.ready` / `order.complete` | kitchen or manager | [`OrderRef`] → [`Order`] |
//! | `order.reject`   | kitchen or manager                | [`RejectOrder`] → [`Order`] |
//! | `order.refund`   | manager                           | [`OrderRef`] → [`Order`] |
//! | `order.recall`   | kitchen or manager                | [`RecallOrder`] → [`Order`] |
//! | `order.rush`     | kitchen or manager                | [`RushOrder`] → [`Order`] |
//! | `order.station_ready` | kitchen or manager           | [`StationReady`] → [`Order`] |
//!
//! Every request that changes an order may carry `expected_version`: the
//! order's `version` the caller saw. The daemon then refuses (`conflict`,
//! "#6 was accepted on another screen") when the order has moved since,
//! so one press is at most one step, whatever the timing.
//!
//! Subscriptions: topic `restaurant:<id>` (its staff) and `order:<id>` (as
//! `order.get`) deliver events of kind `order.<state>` whose `data` is the
//! [`Order`] after the change (a station's bump that leaves the order's
//! state as it was is an event of that same kind, with a higher `version`
//! and the lines' `ready_at` changed), and `menu.changed` with the
//! [`Menu`].

use serde::{Deserialize, Serialize};

pub mod types {
    pub const PLACE: &str = "order.place";
    pub const GET: &str = "order.get";
    pub const LIST: &str = "order.list";
    pub const CANCEL: &str = "order.cancel";
    pub const ACCEPT: &str = "order.accept";
    pub const REJECT: &str = "order.reject";
    pub const START: &str = "order.start";
    pub const READY: &str = "order.ready";
    pub const COMPLETE: &str = "order.complete";
    pub const REFUND: &str = "order.refund";
    pub const RECALL: &str = "order.recall";
    pub const RUSH: &str = "order.rush";
    pub const STATION_READY: &str = "order.station_ready";
}

/// `order.recall` (kitchen or manager): undo a mistaken bump within
/// [`RECALL_WINDOW_SECS`] of it: preparing → accepted, ready → preparing,
/// completed → ready. Refused (`conflict`) if the order is no longer in
/// `state` (someone else moved it meanwhile) or the window has passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallOrder {
    pub order: String,
    /// The state the caller saw after its bump.
    pub state: OrderState,
    /// The order's version the caller saw (see the module's docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// `order.station_ready` (kitchen or manager): a station's bump. Marks
/// every line of `station` ready (`ready: false` undoes it); an accepted
/// order starts preparing with it, and the order becomes `ready` when its
/// last line is (and `preparing` again when a ready order's station is
/// undone). Refused (`conflict`) unless the order is accepted, preparing
/// or ready, or when it has no line of `station`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationReady {
    pub order: String,
    pub station: String,
    #[serde(default = "yes")]
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

fn yes() -> bool {
    true
}

/// How the customer is served, given at placement and shown on the
/// kitchen's ticket. `table` and `name`: one line, 1 to
/// [`SERVICE_TEXT_MAX`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Service {
    DineIn { table: String },
    Takeout { name: String },
    Delivery { name: String },
}

/// The longest table name or pickup name.
pub const SERVICE_TEXT_MAX: usize = crate::text::SERVICE.max;

impl Service {
    /// `dine_in`, `takeout` or `delivery`.
    pub fn kind(&self) -> &'static str {
        match self {
            Service::DineIn { .. } => "dine_in",
            Service::Takeout { .. } => "takeout",
            Service::Delivery { .. } => "delivery",
        }
    }
    /// The table or the name.
    pub fn text(&self) -> &str {
        match self {
            Service::DineIn { table } => table,
            Service::Takeout { name } | Service::Delivery { name } => name,
        }
    }
    /// For a ticket: `table 4`, `takeout: Ana`, `delivery: Bo`.
    pub fn label(&self) -> String {
        match self {
            Service::DineIn { table } => format!("table {table}"),
            Service::Takeout { name } => format!("takeout: {name}"),
            Service::Delivery { name } => format!("delivery: {name}"),
        }
    }
}

/// How long after a bump it can be recalled.
pub const RECALL_WINDOW_SECS: u64 = 120;

/// `order.rush` (kitchen or manager): flag an order as a rush, or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RushOrder {
    pub order: String,
    pub rush: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    PendingPayment,
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Rejected,
    Cancelled,
    Expired,
    PaymentFailed,
}

impl OrderState {
    /// Every state, in the order an order goes through them (then the
    /// terminal ones that are not `completed`).
    pub const ALL: [OrderState; 10] = [
        OrderState::PendingPayment,
        OrderState::Placed,
        OrderState::Accepted,
        OrderState::Preparing,
        OrderState::Ready,
        OrderState::Completed,
        OrderState::Rejected,
        OrderState::Cancelled,
        OrderState::Expired,
        OrderState::PaymentFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::PendingPayment => "pending_payment",
            OrderState::Placed => "placed",
            OrderState::Accepted => "accepted",
            OrderState::Preparing => "preparing",
            OrderState::Ready => "ready",
            OrderState::Completed => "completed",
            OrderState::Rejected => "rejected",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
            OrderState::PaymentFailed => "payment_failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Completed
                | OrderState::Rejected
                | OrderState::Cancelled
                | OrderState::Expired
                | OrderState::PaymentFailed
        )
    }
}

impl std::fmt::Display for OrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the order's money is. Every `*ing` state is a durable intent that
/// a crash leaves behind and a background task finishes, with the same
/// gateway idempotency key, so a step is resumed and never repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    Authorizing,
    Authorized,
    Declined,
    Capturing,
    Captured,
    Voiding,
    Voided,
    Refunding,
    Refunded,
    /// A step the gateway refused for good (see `error`).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub state: PaymentState,
    /// The payment method token given at placement, e.g. `pm_card_visa`.
    pub method: String,
    pub gateway: String,
    /// The gateway's payment id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    pub amount: i64,
    #[serde(default)]
    pub captured: i64,
    #[serde(default)]
    pub refunded: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    /// Item price plus modifiers, minor units.
    pub unit_price: i64,
    #[serde(default)]
    pub modifiers: Vec<String>,
    #[serde(default)]
    pub station: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub allergens: String,
    /// When the line's station marked it ready (Unix ms); absent: not
    /// ready yet. Every line is ready once the order is `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `<restaurant>-<ticket>`, e.g. `trattoria-42`.
    pub id: String,
    pub restaurant: String,
    /// Per-restaurant ticket number for the kitchen.
    pub ticket: u64,
    pub customer_id: String,
    pub customer: String,
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub total: i64,
    pub currency: String,
    pub state: OrderState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub rush: bool,
    /// Dine-in (table), takeout or delivery (name); absent: not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
    pub payment: Payment,
    /// Unix milliseconds.
    pub created_at: u64,
    pub updated_at: u64,
    /// When the order was accepted, became ready, was completed (Unix ms;
    /// a recall clears the later ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<u64>,
    /// Number of changes so far (1 after placement).
    pub version: u64,
    /// Store revision of this version (set when read; 0 inside events).
    #[serde(default)]
    pub revision: u64,
}

/// One requested line: `sku`, quantity, modifier codes, and the unit price
/// (item + modifiers) the customer was shown: placement refuses if it no
/// longer matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    pub sku: String,
    pub qty: u32,
    #[serde(default)]
    pub modifiers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_unit_price: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceOrder {
    pub restaurant: String,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub note: String,
    /// Payment method token (see the sandbox's test methods).
    pub payment_method: String,
    /// Chosen by the client, reused on retries: the same key always
    /// yields the same order.
    pub idempotency_key: String,
    /// Dine-in, takeout or delivery, for the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRef {
    pub order: String,
    /// For the steps that change the order: the version the caller saw
    /// (see the module's docs). Ignored by `order.get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

impl OrderRef {
    /// A reference with no version guard.
    pub fn new(order: impl Into<String>) -> OrderRef {
        OrderRef {
            order: order.into(),
            expected_version: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectOrder {
    pub order: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// `order.list`, one page at a time: orders sorted by `created_at`, then
/// `ticket`, then `id`; at most `limit` of them (default
/// [`DEFAULT_PAGE`], at most [`MAX_PAGE`]), fewer when the page would not
/// fit in a frame. The answer's `next_cursor`, when present, asks for the
/// next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListOrders {
    /// Staff: the restaurant's orders. Absent: your own orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restaurant: Option<String>,
    /// Only orders in one of these states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<OrderState>,
    /// Page size, 1 to [`MAX_PAGE`]; absent: [`DEFAULT_PAGE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor` (opaque); absent: the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Orders per page when `limit` is absent.
pub const DEFAULT_PAGE: u32 = 100;
/// The largest `limit`.
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderList {
    pub orders: Vec<Order>,
    /// Present when more orders follow: send it back as `cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Most lines in one order.
pub const MAX_LINES: usize = 50;
/// Most units of one line.
pub const MAX_QTY: u32 = 99;

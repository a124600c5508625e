//! Restaurants, menus and staff.
//!
//! | type               | who                         | body → answer |
//! |--------------------|-----------------------------|---------------|
//! | `restaurant.create`| any logged-in person (becomes its manager) | [`CreateRestaurant`] → [`Restaurant`] |
//! | `restaurant.list`  | anyone                      | `{}` → [`RestaurantList`] |
//! | `restaurant.show`  | anyone                      | [`RestaurantRef`] → [`Restaurant`] |
//! | `restaurant.open` / `restaurant.close` | manager | [`RestaurantRef`] → [`Restaurant`] |
//! | `restaurant.set`   | manager                     | [`RestaurantSet`] → [`Restaurant`] |
//! | `staff.add`        | manager                     | [`StaffAdd`] → [`StaffMember`] |
//! | `staff.remove`     | manager                     | [`StaffRemove`] → `{}` |
//! | `staff.list`       | manager                     | [`RestaurantRef`] → [`StaffList`] |
//! | `menu.get`         | anyone                      | [`RestaurantRef`] → [`Menu`] |
//! | `menu.import`      | manager                     | [`MenuImport`] → [`Menu`] |
//! | `menu.set`         | manager                     | [`MenuSet`] → [`MenuItem`] |
//! | `menu.86` / `menu.un86` | manager or kitchen     | [`ItemRef`] → [`MenuItem`] |

use serde::{Deserialize, Serialize};

pub mod types {
    pub const RESTAURANT_CREATE: &str = "restaurant.create";
    pub const RESTAURANT_LIST: &str = "restaurant.list";
    pub const RESTAURANT_SHOW: &str = "restaurant.show";
    pub const RESTAURANT_OPEN: &str = "restaurant.open";
    pub const RESTAURANT_CLOSE: &str = "restaurant.close";
    pub const RESTAURANT_SET: &str = "restaurant.set";
    pub const STAFF_ADD: &str = "staff.add";
    pub const STAFF_REMOVE: &str = "staff.remove";
    pub const STAFF_LIST: &str = "staff.list";
    pub const MENU_GET: &str = "menu.get";
    pub const MENU_IMPORT: &str = "menu.import";
    pub const MENU_SET: &str = "menu.set";
    pub const MENU_86: &str = "menu.86";
    pub const MENU_UN86: &str = "menu.un86";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restaurant {
    /// Slug: 2-40 of `a-z0-9-`, e.g. `trattoria`.
    pub id: String,
    pub name: String,
    /// ISO 4217 code; every price of the restaurant is in it.
    pub currency: String,
    pub open: bool,
    /// Orders not accepted within this many seconds expire.
    pub acceptance_timeout_secs: u64,
    /// Unix milliseconds.
    pub created_at: u64,
    /// Most a line (`unit_price × qty`) may cost, minor units; absent:
    /// the node's default (its `[limits]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_line_total: Option<i64>,
    /// Most an order's total may be, minor units; absent: the node's
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_order_total: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRestaurant {
    pub id: String,
    pub name: String,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub acceptance_timeout_secs: Option<u64>,
}

/// `restaurant.set` (manager): change what is given, keep the rest. A
/// bound of `0` goes back to the node's default. (A new restaurant starts
/// on the node's defaults.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestaurantSet {
    pub restaurant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_line_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_order_total: Option<i64>,
}

/// Bounds every node applies (protocol constants; the configurable
/// quotas are the daemon's `[limits]`).
pub mod limits {
    /// Most a menu's JSON (as `menu.get` answers it) may weigh, so that
    /// it and its `menu.changed` event always fit in a frame.
    pub const MENU_BYTES: usize = 512 * 1024;
    /// Prices, minor units: an item's `price` is 0 to this, a modifier's
    /// `price` -this to this.
    pub const PRICE: i64 = 100_000_000;
    /// The highest per-restaurant `max_line_total` / `max_order_total`.
    pub const TOTAL_CAP: i64 = 1_000_000_000_000;
}

fn default_currency() -> String {
    "EUR".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestaurantRef {
    pub restaurant: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestaurantList {
    pub restaurants: Vec<Restaurant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Kitchen,
    Manager,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub restaurant: String,
    pub user_id: String,
    pub username: String,
    pub role: StaffRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffAdd {
    pub restaurant: String,
    pub username: String,
    pub role: StaffRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffRemove {
    pub restaurant: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffList {
    pub staff: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modifier {
    /// Short code used when ordering: `--item margherita+extra_cheese`.
    pub code: String,
    pub name: String,
    /// Added to the item's price, minor units (may be 0).
    #[serde(default)]
    pub price: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    /// 1-40 of `a-z0-9_-`.
    pub sku: String,
    pub name: String,
    /// Minor units of the restaurant's currency (cents).
    pub price: i64,
    /// Kitchen station: grill, fry, cold, ...
    #[serde(default)]
    pub station: String,
    #[serde(default)]
    pub modifiers: Vec<Modifier>,
    /// false when 86'd.
    #[serde(default = "yes")]
    pub available: bool,
    /// Units left; absent means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    /// Allergy information shown to customers and highlighted on boards.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub allergens: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Menu {
    pub restaurant: String,
    pub currency: String,
    pub items: Vec<MenuItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MenuImport {
    pub restaurant: String,
    pub items: Vec<MenuItem>,
    /// true: the menu becomes exactly `items`; false: items are added or
    /// replaced by sku, others kept.
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MenuSet {
    pub restaurant: String,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// `Some(n)`: n units left; use `unlimited_stock` to remove the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    #[serde(default)]
    pub unlimited_stock: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRef {
    pub restaurant: String,
    pub sku: String,
}

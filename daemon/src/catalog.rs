//! Restaurants, menus and staff.
//!
//! Store layout (one restaurant `R`):
//! - `/dfood/restaurants/R` — the [`Restaurant`];
//! - `/dfood/menus/R` — the menu ([`MenuDoc`]): every item, without stock;
//! - `/dfood/stock/R` — stock counts of the items that have one
//!   ([`StockDoc`], sku → units left). Kept apart from the menu so that
//!   placements, which decrement it, do not conflict with menu edits, and
//!   so that one transaction covers any number of items (etcd limits the
//!   operations per transaction);
//! - `/dfood/staff/R/<user id>` — a [`StaffMember`];
//! - `/dfood/quotas/<user id>` — what the account used of its quotas
//!   ([`QuotaDoc`]: restaurants created, menu changes this minute),
//!   updated in the transaction of the change it counts;
//! - `/dfood/events/R/_menu/<id>` — `menu.changed` events, written in the
//!   same transaction as the change.
//!
//! Who may do what is decided here ([`require_manager`], [`require_staff`])
//! and in `orders`: managers edit menus and staff; kitchen staff and
//! managers flip availability; anyone may browse.
//!
//! Everything is checked before anything is written: text (see
//! `protocol::text`), prices (a unit price can never go below zero,
//! whatever modifiers are chosen), sizes (a menu always fits in a frame)
//! and the account's quotas (`[limits]`). A change that changes nothing
//! writes nothing.

use std::collections::BTreeMap;

use protocol::messages::Event;
use protocol::messages::catalog::*;
use protocol::text;
use protocol::wire::Request;
use serde::{Deserialize, Serialize};

use crate::clock::unique_suffix;
use crate::config::Limits;
use crate::ctx::Ctx;
use crate::rpc::{self as api, ApiError, ApiResult, Principal, from_doc, to_doc};
use crate::store::{Compare, Revision, Store, Txn, TxnOp};

pub const RESTAURANTS: &str = "/dfood/restaurants/";

pub fn restaurant_key(r: &str) -> String {
    format!("{RESTAURANTS}{r}")
}
pub fn menu_key(r: &str) -> String {
    format!("/dfood/menus/{r}")
}
pub fn stock_key(r: &str) -> String {
    format!("/dfood/stock/{r}")
}
pub fn staff_prefix(r: &str) -> String {
    format!("/dfood/staff/{r}/")
}
pub fn events_prefix(r: &str) -> String {
    format!("/dfood/events/{r}/")
}
pub fn quota_key(user_id: &str) -> String {
    format!("/dfood/quotas/{user_id}")
}

/// What one account used of its quotas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaDoc {
    /// Restaurants it created, ever.
    #[serde(default)]
    pub restaurants_created: u32,
    /// When its current one-minute window of menu changes started (ms).
    #[serde(default)]
    pub menu_window_start_ms: u64,
    /// Menu changes made in that window.
    #[serde(default)]
    pub menu_changes: u32,
}

/// How long a window of menu changes lasts.
const MENU_WINDOW_MS: u64 = 60_000;

impl QuotaDoc {
    /// Counts one more menu change at `now`, or says why not.
    fn count_menu_change(&mut self, now: u64, limits: &Limits) -> ApiResult<()> {
        if now.saturating_sub(self.menu_window_start_ms) >= MENU_WINDOW_MS {
            self.menu_window_start_ms = now;
            self.menu_changes = 0;
        }
        if self.menu_changes >= limits.menu_changes_per_minute {
            let wait = (self.menu_window_start_ms + MENU_WINDOW_MS).saturating_sub(now);
            return Err(ApiError::conflict(format!(
                "{} menu changes a minute is the most one account may make; try again in {} s",
                limits.menu_changes_per_minute,
                wait.div_ceil(1000).max(1)
            )));
        }
        self.menu_changes += 1;
        Ok(())
    }
}

/// The stored menu.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MenuDoc {
    pub items: Vec<MenuItem>,
}

/// Units left per sku, for items that count stock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StockDoc {
    pub units: BTreeMap<String, i64>,
}

/// A document read with the revision it was last modified at (0: absent).
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub mod_revision: Revision,
}

pub async fn read<T: serde::de::DeserializeOwned + Default>(
    store: &dyn Store,
    key: &str,
) -> ApiResult<Versioned<T>> {
    Ok(match store.get(key).await? {
        Some(kv) => Versioned {
            value: from_doc(key, &kv.value)?,
            mod_revision: kv.mod_revision,
        },
        None => Versioned {
            value: T::default(),
            mod_revision: 0,
        },
    })
}

/// A compare that holds while `key` is still at `rev` (or still absent).
pub fn unchanged(key: &str, rev: Revision) -> Compare {
    if rev == 0 {
        Compare::absent(key)
    } else {
        Compare::mod_revision(key, rev)
    }
}

pub async fn get_restaurant(store: &dyn Store, r: &str) -> ApiResult<Versioned<Restaurant>> {
    let key = restaurant_key(r);
    match store.get(&key).await? {
        Some(kv) => Ok(Versioned {
            value: from_doc(&key, &kv.value)?,
            mod_revision: kv.mod_revision,
        }),
        None => Err(ApiError::not_found(format!("no restaurant {r:?}"))),
    }
}

pub async fn staff_role(store: &dyn Store, r: &str, user_id: &str) -> ApiResult<Option<StaffRole>> {
    let key = format!("{}{user_id}", staff_prefix(r));
    Ok(match store.get(&key).await? {
        Some(kv) => Some(from_doc::<StaffMember>(&key, &kv.value)?.role),
        None => None,
    })
}

/// The caller, who must be a manager of `r`.
pub async fn require_manager(ctx: &Ctx<'_>, r: &str) -> ApiResult<Principal> {
    let p = ctx.principal().await?;
    get_restaurant(ctx.store, r).await?;
    match staff_role(ctx.store, r, &p.user_id).await? {
        Some(StaffRole::Manager) => Ok(p),
        _ => Err(ApiError::forbidden(format!(
            "only managers of {r} may do this"
        ))),
    }
}

/// The caller, who must be staff (kitchen or manager) of `r`.
pub async fn require_staff(ctx: &Ctx<'_>, r: &str) -> ApiResult<(Principal, StaffRole)> {
    let p = ctx.principal().await?;
    get_restaurant(ctx.store, r).await?;
    match staff_role(ctx.store, r, &p.user_id).await? {
        Some(role) => Ok((p, role)),
        None => Err(ApiError::forbidden(format!(
            "only staff of {r} may do this"
        ))),
    }
}

fn valid_slug(s: &str, min: usize, max: usize, extra: &[char]) -> bool {
    (min..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn validate_restaurant_id(id: &str) -> ApiResult<()> {
    if valid_slug(id, 2, 40, &['-']) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "restaurant id {id:?} must be 2-40 characters of a-z, 0-9 and '-'"
        )))
    }
}

const MAX_PRICE: i64 = limits::PRICE;
const MAX_STOCK: i64 = 1_000_000_000;

/// Minor units as `9.50` (sign kept), for messages.
fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

/// The lowest unit price an item can reach: its price with every
/// modifier that takes something off (each may be chosen once).
pub fn lowest_unit_price(item: &MenuItem) -> i64 {
    item.modifiers
        .iter()
        .filter(|m| m.price < 0)
        .fold(item.price, |p, m| p.saturating_add(m.price))
}

/// Trims what is trimmed before it is stored (names, station, allergens).
pub fn normalise(item: &mut MenuItem) {
    let trim = |s: &mut String| {
        let t = s.trim();
        if t.len() != s.len() {
            *s = t.to_string();
        }
    };
    trim(&mut item.name);
    trim(&mut item.station);
    trim(&mut item.allergens);
    for m in &mut item.modifiers {
        trim(&mut m.name);
    }
}

/// Checks one item; the error names the item.
pub fn validate_item(item: &MenuItem, limits: &Limits) -> Result<(), String> {
    if !valid_slug(&item.sku, 1, 40, &['-', '_']) {
        return Err(format!(
            "sku {:?} must be 1-40 characters of a-z, 0-9, '-' and '_'",
            item.sku
        ));
    }
    let sku = &item.sku;
    text::check("name", &item.name, text::NAME).map_err(|e| format!("{sku}: {e}"))?;
    if !(0..=MAX_PRICE).contains(&item.price) {
        return Err(format!(
            "{sku}: price {} is out of range (0 to {MAX_PRICE} minor units)",
            item.price
        ));
    }
    text::check("station", &item.station, text::STATION).map_err(|e| format!("{sku}: {e}"))?;
    text::check("allergens", &item.allergens, text::ALLERGENS)
        .map_err(|e| format!("{sku}: {e}"))?;
    if let Some(s) = item.stock
        && !(0..=MAX_STOCK).contains(&s)
    {
        return Err(format!(
            "{sku}: stock {s} is out of range (0 to {MAX_STOCK})"
        ));
    }
    if item.modifiers.len() > limits.modifiers_per_item {
        return Err(format!(
            "{sku}: {} modifiers is more than the limit of {} per item",
            item.modifiers.len(),
            limits.modifiers_per_item
        ));
    }
    let mut codes = std::collections::HashSet::new();
    for m in &item.modifiers {
        if !valid_slug(&m.code, 1, 40, &['-', '_']) {
            return Err(format!(
                "{sku}: modifier code {:?} must be 1-40 characters of a-z, 0-9, '-' and '_'",
                m.code
            ));
        }
        if !codes.insert(m.code.as_str()) {
            return Err(format!("{sku}: modifier {:?} appears twice", m.code));
        }
        text::check(&format!("modifier {} name", m.code), &m.name, text::NAME)
            .map_err(|e| format!("{sku}: {e}"))?;
        if m.price.abs() > MAX_PRICE {
            return Err(format!(
                "{sku}: modifier {} price {} is out of range (-{MAX_PRICE} to {MAX_PRICE} minor units)",
                m.code, m.price
            ));
        }
    }
    let lowest = lowest_unit_price(item);
    if lowest < 0 {
        return Err(format!(
            "{sku}: its modifiers could take its price of {} down to {}: a unit price may never go below zero",
            amount(item.price),
            amount(lowest)
        ));
    }
    Ok(())
}

/// Validates a whole menu: every error, each naming its item (1-based
/// position in the list).
pub fn validate_items(items: &[MenuItem], limits: &Limits) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if items.len() > limits.menu_items {
        errors.push(format!(
            "{} items is more than the limit of {} per menu",
            items.len(),
            limits.menu_items
        ));
        // Do not spend time listing the problems of a flood.
        return Err(errors);
    }
    let mut seen = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = validate_item(item, limits) {
            errors.push(format!("item {}: {e}", i + 1));
        }
        if let Some(first) = seen.insert(item.sku.as_str(), i + 1) {
            errors.push(format!(
                "item {}: sku {:?} already used by item {first}",
                i + 1,
                item.sku
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What a change to a menu must respect: the items it adds or changes
/// follow the rules, skus stay unique, and the menu does not grow past
/// the item limit. Items it leaves as they were are not judged again (a
/// menu stored before a rule was tightened can still be 86'd).
pub fn validate_change(old: &MenuDoc, new: &MenuDoc, limits: &Limits) -> Result<(), Vec<String>> {
    if new.items.len() > limits.menu_items && new.items.len() > old.items.len() {
        return Err(vec![format!(
            "{} items is more than the limit of {} per menu",
            new.items.len(),
            limits.menu_items
        )]);
    }
    let before: std::collections::HashMap<&str, &MenuItem> =
        old.items.iter().map(|i| (i.sku.as_str(), i)).collect();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, item) in new.items.iter().enumerate() {
        if before.get(item.sku.as_str()) != Some(&item)
            && let Err(e) = validate_item(item, limits)
        {
            errors.push(format!("item {}: {e}", i + 1));
        }
        if let Some(first) = seen.insert(item.sku.as_str(), i + 1) {
            errors.push(format!(
                "item {}: sku {:?} already used by item {first}",
                i + 1,
                item.sku
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn json_len(v: &impl Serialize) -> ApiResult<usize> {
    Ok(serde_json::to_vec(v)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .len())
}

/// Refuses a menu whose JSON would be larger than
/// [`limits::MENU_BYTES`] (it and its event must fit in a frame), unless
/// it is no larger than `before` was.
pub fn check_menu_size(menu: &Menu, before: &Menu) -> ApiResult<()> {
    let bytes = json_len(menu)?;
    if bytes > limits::MENU_BYTES && bytes > json_len(before)? {
        return Err(ApiError::bad_request(format!(
            "the menu would be {bytes} bytes, more than the limit of {} bytes: shorten it",
            limits::MENU_BYTES
        )));
    }
    Ok(())
}

/// The menu as customers see it: items with their stock merged in.
/// A restaurant's documents as the catalog stores them: the restaurant,
/// its menu and its stock (for writing a shop whole: `dfoodd-bench`'s
/// setup, tests).
pub fn shop_ops(
    restaurant: &Restaurant,
    menu: &MenuDoc,
    stock: &StockDoc,
) -> ApiResult<[TxnOp; 3]> {
    let r = &restaurant.id;
    Ok([
        TxnOp::put(restaurant_key(r), to_doc(restaurant)?),
        TxnOp::put(menu_key(r), to_doc(menu)?),
        TxnOp::put(stock_key(r), to_doc(stock)?),
    ])
}

pub async fn load_menu(
    store: &dyn Store,
    r: &str,
) -> ApiResult<(Restaurant, Versioned<MenuDoc>, Versioned<StockDoc>)> {
    // The three at once: one round trip, not three (the etcd store sends
    // gets that wait together in one read, at one revision). The errors
    // in a fixed order, so a missing restaurant always says so.
    let (mk, sk) = (menu_key(r), stock_key(r));
    let (restaurant, menu, stock) = futures::join!(
        get_restaurant(store, r),
        read::<MenuDoc>(store, &mk),
        read::<StockDoc>(store, &sk),
    );
    Ok((restaurant?.value, menu?, stock?))
}

pub fn merged(restaurant: &Restaurant, menu: &MenuDoc, stock: &StockDoc) -> Menu {
    Menu {
        restaurant: restaurant.id.clone(),
        currency: restaurant.currency.clone(),
        items: menu
            .items
            .iter()
            .map(|i| MenuItem {
                stock: stock.units.get(&i.sku).copied(),
                ..i.clone()
            })
            .collect(),
    }
}

fn menu_event(r: &str, menu: &Menu, now_ms: u64) -> ApiResult<TxnOp> {
    let ev = Event {
        kind: "menu.changed".into(),
        subject: r.to_string(),
        data: serde_json::to_value(menu).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    Ok(TxnOp::put(
        format!("{}_menu/{}", events_prefix(r), unique_suffix(now_ms)),
        to_doc(&ev)?,
    ))
}

/// Applies `change` to the menu and stock of `r` with compare-and-swap,
/// retrying when a concurrent change won; writes a `menu.changed` event in
/// the same transaction, and counts the change against `user_id`'s quota
/// of menu changes per minute. A change that changes nothing writes
/// nothing (and counts for nothing). `change` returns an error to abort.
pub async fn update_menu<F>(ctx: &Ctx<'_>, r: &str, user_id: &str, mut change: F) -> ApiResult<Menu>
where
    F: FnMut(&mut MenuDoc, &mut StockDoc) -> ApiResult<()>,
{
    let store = ctx.store;
    let qkey = quota_key(user_id);
    for _ in 0..64 {
        let ((restaurant, menu, stock), quota) =
            futures::try_join!(load_menu(store, r), read::<QuotaDoc>(store, &qkey))?;
        let (mut m, mut s) = (menu.value.clone(), stock.value.clone());
        change(&mut m, &mut s)?;
        if let Err(errors) = validate_change(&menu.value, &m, ctx.limits) {
            return Err(ApiError::bad_request(errors.join("; ")));
        }
        let merged_menu = merged(&restaurant, &m, &s);
        if m == menu.value && s == stock.value {
            return Ok(merged_menu);
        }
        check_menu_size(
            &merged_menu,
            &merged(&restaurant, &menu.value, &stock.value),
        )?;
        let mut q = quota.value.clone();
        q.count_menu_change(ctx.now_ms(), ctx.limits)?;
        let mut ops = vec![
            TxnOp::put(menu_key(r), to_doc(&m)?),
            menu_event(r, &merged_menu, ctx.now_ms())?,
            TxnOp::put(&qkey, to_doc(&q)?),
        ];
        if s != stock.value {
            ops.push(TxnOp::put(stock_key(r), to_doc(&s)?));
        }
        let resp = store
            .txn(
                Txn::new()
                    .when([
                        unchanged(&menu_key(r), menu.mod_revision),
                        unchanged(&stock_key(r), stock.mod_revision),
                        unchanged(&qkey, quota.mod_revision),
                    ])
                    .and_then(ops),
            )
            .await?;
        if resp.succeeded {
            return Ok(merged_menu);
        }
    }
    Err(ApiError::unavailable(
        "the menu is changing too fast; try again",
    ))
}

fn find_item<'a>(m: &'a mut MenuDoc, r: &str, sku: &str) -> ApiResult<&'a mut MenuItem> {
    m.items
        .iter_mut()
        .find(|i| i.sku == sku)
        .ok_or_else(|| ApiError::not_found(format!("no item {sku:?} on the menu of {r}")))
}

/// A per-restaurant bound as given: `None` absent, else 1 to the cap.
fn total_bound(what: &str, v: Option<i64>) -> ApiResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(n) if (1..=limits::TOTAL_CAP).contains(&n) => Ok(Some(n)),
        Some(n) => Err(ApiError::bad_request(format!(
            "{what} {n} is out of range (1 to {} minor units)",
            limits::TOTAL_CAP
        ))),
    }
}

fn restaurant_name(name: &str) -> ApiResult<String> {
    text::check("restaurant name", name, text::NAME).map_err(ApiError::bad_request)?;
    Ok(name.trim().to_string())
}

async fn create(ctx: &Ctx<'_>, req: CreateRestaurant) -> ApiResult<Restaurant> {
    let p = ctx.principal().await?;
    if p.service {
        return Err(ApiError::forbidden(
            "service accounts cannot create restaurants",
        ));
    }
    validate_restaurant_id(&req.id)?;
    let name = restaurant_name(&req.name)?;
    if req.currency.len() != 3 || !req.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ApiError::bad_request(format!(
            "currency {:?} must be a 3-letter ISO code like EUR",
            req.currency
        )));
    }
    let timeout = req.acceptance_timeout_secs.unwrap_or(300);
    if !(10..=86_400).contains(&timeout) {
        return Err(ApiError::bad_request(
            "acceptance timeout must be between 10 s and 24 h",
        ));
    }
    let restaurant = Restaurant {
        id: req.id.clone(),
        name,
        currency: req.currency,
        open: false,
        acceptance_timeout_secs: timeout,
        created_at: ctx.now_ms(),
        max_line_total: None,
        max_order_total: None,
    };
    let manager = StaffMember {
        restaurant: req.id.clone(),
        user_id: p.user_id.clone(),
        username: p.username.clone(),
        role: StaffRole::Manager,
    };
    let key = restaurant_key(&req.id);
    let qkey = quota_key(&p.user_id);
    for _ in 0..32 {
        let quota: Versioned<QuotaDoc> = read(ctx.store, &qkey).await?;
        let limit = ctx.limits.restaurants_per_account;
        if quota.value.restaurants_created >= limit {
            return Err(ApiError::conflict(format!(
                "you have created {} restaurants, the most one account may create",
                quota.value.restaurants_created
            )));
        }
        let mut q = quota.value.clone();
        q.restaurants_created += 1;
        let resp = ctx
            .store
            .txn(
                Txn::new()
                    .when([Compare::absent(&key), unchanged(&qkey, quota.mod_revision)])
                    .and_then([
                        TxnOp::put(&key, to_doc(&restaurant)?),
                        TxnOp::put(menu_key(&req.id), to_doc(&MenuDoc::default())?),
                        TxnOp::put(
                            format!("{}{}", staff_prefix(&req.id), p.user_id),
                            to_doc(&manager)?,
                        ),
                        TxnOp::put(&qkey, to_doc(&q)?),
                    ]),
            )
            .await?;
        if resp.succeeded {
            return Ok(restaurant);
        }
        if ctx.store.get(&key).await?.is_some() {
            return Err(ApiError::conflict(format!(
                "restaurant {:?} already exists",
                req.id
            )));
        }
        // Only the quota changed meanwhile (another creation): count again.
    }
    Err(ApiError::unavailable(
        "your account is changing too fast; try again",
    ))
}

/// `restaurant.set`: name and price bounds (a bound of 0: the default).
async fn set_restaurant(ctx: &Ctx<'_>, req: RestaurantSet) -> ApiResult<Restaurant> {
    require_manager(ctx, &req.restaurant).await?;
    let name = req.name.as_deref().map(restaurant_name).transpose()?;
    let bound = |what: &str, v: Option<i64>| -> ApiResult<Option<Option<i64>>> {
        match v {
            None => Ok(None),
            Some(0) => Ok(Some(None)),
            some => Ok(Some(total_bound(what, some)?)),
        }
    };
    let line = bound("max_line_total", req.max_line_total)?;
    let total = bound("max_order_total", req.max_order_total)?;
    let r = &req.restaurant;
    for _ in 0..32 {
        let cur = get_restaurant(ctx.store, r).await?;
        let mut next = cur.value.clone();
        if let Some(n) = &name {
            next.name = n.clone();
        }
        if let Some(l) = line {
            next.max_line_total = l;
        }
        if let Some(t) = total {
            next.max_order_total = t;
        }
        if next == cur.value {
            return Ok(next);
        }
        let resp = ctx
            .store
            .txn(
                Txn::new()
                    .when([Compare::mod_revision(restaurant_key(r), cur.mod_revision)])
                    .and_then([TxnOp::put(restaurant_key(r), to_doc(&next)?)]),
            )
            .await?;
        if resp.succeeded {
            return Ok(next);
        }
    }
    Err(ApiError::unavailable(
        "restaurant is changing too fast; try again",
    ))
}

async fn set_open(ctx: &Ctx<'_>, r: &str, open: bool) -> ApiResult<Restaurant> {
    require_manager(ctx, r).await?;
    let store = ctx.store;
    for _ in 0..32 {
        let cur = get_restaurant(store, r).await?;
        let mut next = cur.value.clone();
        next.open = open;
        let ev = Event {
            kind: if open {
                "restaurant.opened"
            } else {
                "restaurant.closed"
            }
            .into(),
            subject: r.to_string(),
            data: serde_json::to_value(&next).map_err(|e| ApiError::internal(e.to_string()))?,
        };
        let resp = store
            .txn(
                Txn::new()
                    .when([Compare::mod_revision(restaurant_key(r), cur.mod_revision)])
                    .and_then([
                        TxnOp::put(restaurant_key(r), to_doc(&next)?),
                        TxnOp::put(
                            format!(
                                "{}_restaurant/{}",
                                events_prefix(r),
                                unique_suffix(ctx.now_ms())
                            ),
                            to_doc(&ev)?,
                        ),
                    ]),
            )
            .await?;
        if resp.succeeded {
            return Ok(next);
        }
    }
    Err(ApiError::unavailable(
        "restaurant is changing too fast; try again",
    ))
}

async fn staff_add(ctx: &Ctx<'_>, req: StaffAdd) -> ApiResult<StaffMember> {
    require_manager(ctx, &req.restaurant).await?;
    let user = ctx
        .identity()
        .lookup_user(&req.username)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {:?}", req.username)))?;
    let member = StaffMember {
        restaurant: req.restaurant.clone(),
        user_id: user.user_id.clone(),
        username: user.username.clone(),
        role: req.role,
    };
    let key = format!("{}{}", staff_prefix(&req.restaurant), user.user_id);
    let store = ctx.store;
    let staff = store.range(&staff_prefix(&req.restaurant)).await?;
    let managers: Vec<StaffMember> = staff
        .kvs
        .iter()
        .map(|kv| from_doc::<StaffMember>(&kv.key, &kv.value))
        .collect::<ApiResult<Vec<_>>>()?
        .into_iter()
        .filter(|m| m.role == StaffRole::Manager)
        .collect();
    if req.role != StaffRole::Manager && managers.len() == 1 && managers[0].user_id == user.user_id
    {
        return Err(ApiError::conflict(format!(
            "{} is the last manager of {}; add another manager first",
            user.username, req.restaurant
        )));
    }
    // Guarded by the staff list looked at, so two concurrent demotions
    // cannot leave the restaurant without a manager.
    let guards: Vec<Compare> = staff
        .kvs
        .iter()
        .map(|kv| Compare::mod_revision(&kv.key, kv.mod_revision))
        .collect();
    let r = store
        .txn(
            Txn::new()
                .when(guards)
                .and_then([TxnOp::put(key, to_doc(&member)?)]),
        )
        .await?;
    if !r.succeeded {
        return Err(ApiError::conflict("staff changed meanwhile; try again"));
    }
    Ok(member)
}

async fn staff_remove(ctx: &Ctx<'_>, req: StaffRemove) -> ApiResult<serde_json::Value> {
    let me = require_manager(ctx, &req.restaurant).await?;
    let store = ctx.store;
    let staff = store.range(&staff_prefix(&req.restaurant)).await?;
    let found = staff
        .kvs
        .iter()
        .map(|kv| {
            from_doc::<StaffMember>(&kv.key, &kv.value)
                .map(|m| (kv.key.clone(), kv.mod_revision, m))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let (key, rev, member) = found
        .iter()
        .find(|(_, _, m)| m.username == req.username)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} is not staff of {}",
                req.username, req.restaurant
            ))
        })?;
    let managers = found
        .iter()
        .filter(|(_, _, m)| m.role == StaffRole::Manager)
        .count();
    if member.role == StaffRole::Manager && managers == 1 {
        return Err(ApiError::conflict(format!(
            "{} is the last manager of {}; add another manager first",
            member.username, req.restaurant
        )));
    }
    let _ = me;
    let resp = store
        .txn(
            Txn::new()
                .when([Compare::mod_revision(key, *rev)])
                .and_then([TxnOp::delete(key)]),
        )
        .await?;
    if !resp.succeeded {
        return Err(ApiError::conflict("staff changed meanwhile; try again"));
    }
    Ok(serde_json::json!({}))
}

async fn staff_list(ctx: &Ctx<'_>, req: RestaurantRef) -> ApiResult<StaffList> {
    require_manager(ctx, &req.restaurant).await?;
    let staff = ctx.store.range(&staff_prefix(&req.restaurant)).await?;
    let mut list = staff
        .kvs
        .iter()
        .map(|kv| from_doc::<StaffMember>(&kv.key, &kv.value))
        .collect::<ApiResult<Vec<_>>>()?;
    list.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(StaffList { staff: list })
}

async fn import(ctx: &Ctx<'_>, mut req: MenuImport) -> ApiResult<Menu> {
    let p = require_manager(ctx, &req.restaurant).await?;
    req.items.iter_mut().for_each(normalise);
    if let Err(errors) = validate_items(&req.items, ctx.limits) {
        return Err(ApiError::bad_request(format!(
            "menu not imported, nothing changed: {}",
            errors.join("; ")
        )));
    }
    let items = req.items;
    let replace = req.replace;
    update_menu(ctx, &req.restaurant, &p.user_id, |m, s| {
        if replace {
            m.items.clear();
            s.units.clear();
        }
        for item in &items {
            let stored = MenuItem {
                stock: None,
                ..item.clone()
            };
            match m.items.iter_mut().find(|i| i.sku == item.sku) {
                Some(existing) => *existing = stored,
                None => m.items.push(stored),
            }
            match item.stock {
                Some(n) => {
                    s.units.insert(item.sku.clone(), n);
                }
                None => {
                    s.units.remove(&item.sku);
                }
            }
        }
        Ok(())
    })
    .await
}

async fn set_item(ctx: &Ctx<'_>, req: MenuSet) -> ApiResult<MenuItem> {
    let p = require_manager(ctx, &req.restaurant).await?;
    if req.stock.is_some() && req.unlimited_stock {
        return Err(ApiError::bad_request(
            "give either a stock count or unlimited stock, not both",
        ));
    }
    if let Some(n) = req.stock
        && !(0..=MAX_STOCK).contains(&n)
    {
        return Err(ApiError::bad_request(format!(
            "{}: stock {n} is out of range (0 to {MAX_STOCK})",
            req.sku
        )));
    }
    if let Some(p) = req.price
        && !(0..=MAX_PRICE).contains(&p)
    {
        return Err(ApiError::bad_request(format!(
            "{}: price {p} is out of range (0 to {MAX_PRICE} minor units)",
            req.sku
        )));
    }
    if let Some(st) = &req.station {
        text::check("station", st, text::STATION)
            .map_err(|e| ApiError::bad_request(format!("{}: {e}", req.sku)))?;
    }
    let menu = update_menu(ctx, &req.restaurant, &p.user_id, |m, s| {
        let item = find_item(m, &req.restaurant, &req.sku)?;
        if let Some(p) = req.price {
            item.price = p;
        }
        if let Some(st) = &req.station {
            item.station = st.trim().to_string();
        }
        if let Some(n) = req.stock {
            s.units.insert(req.sku.clone(), n);
        }
        if req.unlimited_stock {
            s.units.remove(&req.sku);
        }
        Ok(())
    })
    .await?;
    item_of(menu, &req.sku)
}

fn item_of(menu: Menu, sku: &str) -> ApiResult<MenuItem> {
    menu.items
        .into_iter()
        .find(|i| i.sku == sku)
        .ok_or_else(|| ApiError::internal("item vanished"))
}

async fn set_available(ctx: &Ctx<'_>, req: ItemRef, available: bool) -> ApiResult<MenuItem> {
    let (p, _) = require_staff(ctx, &req.restaurant).await?;
    let menu = update_menu(ctx, &req.restaurant, &p.user_id, |m, _| {
        find_item(m, &req.restaurant, &req.sku)?.available = available;
        Ok(())
    })
    .await?;
    item_of(menu, &req.sku)
}

async fn list(ctx: &Ctx<'_>) -> ApiResult<RestaurantList> {
    let all = ctx.store.range(RESTAURANTS).await?;
    let restaurants = all
        .kvs
        .iter()
        .map(|kv| from_doc::<Restaurant>(&kv.key, &kv.value))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(RestaurantList { restaurants })
}

pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Option<ApiResult<serde_json::Value>> {
    let store = || ctx.store;
    Some(match req.ty.as_str() {
        types::RESTAURANT_CREATE => api::call(req, |b| create(ctx, b)).await,
        types::RESTAURANT_LIST => api::call(req, |_: serde_json::Value| list(ctx)).await,
        types::RESTAURANT_SHOW => {
            api::call(req, |b: RestaurantRef| async move {
                Ok(get_restaurant(store(), &b.restaurant).await?.value)
            })
            .await
        }
        types::RESTAURANT_OPEN => {
            api::call(req, |b: RestaurantRef| async move {
                set_open(ctx, &b.restaurant, true).await
            })
            .await
        }
        types::RESTAURANT_CLOSE => {
            api::call(req, |b: RestaurantRef| async move {
                set_open(ctx, &b.restaurant, false).await
            })
            .await
        }
        types::RESTAURANT_SET => api::call(req, |b| set_restaurant(ctx, b)).await,
        types::STAFF_ADD => api::call(req, |b| staff_add(ctx, b)).await,
        types::STAFF_REMOVE => api::call(req, |b| staff_remove(ctx, b)).await,
        types::STAFF_LIST => api::call(req, |b| staff_list(ctx, b)).await,
        types::MENU_GET => {
            api::call(req, |b: RestaurantRef| async move {
                let (r, m, s) = load_menu(store(), &b.restaurant).await?;
                Ok(merged(&r, &m.value, &s.value))
            })
            .await
        }
        types::MENU_IMPORT => api::call(req, |b| import(ctx, b)).await,
        types::MENU_SET => api::call(req, |b| set_item(ctx, b)).await,
        types::MENU_86 => api::call(req, |b| set_available(ctx, b, false)).await,
        types::MENU_UN86 => api::call(req, |b| set_available(ctx, b, true)).await,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str) -> MenuItem {
        MenuItem {
            sku: sku.into(),
            name: "Pizza".into(),
            price: 900,
            station: "oven".into(),
            modifiers: vec![],
            available: true,
            stock: None,
            allergens: String::new(),
        }
    }

    fn modifier(code: &str, price: i64) -> Modifier {
        Modifier {
            code: code.into(),
            name: code.into(),
            price,
        }
    }

    #[test]
    fn validation_names_each_bad_item() {
        let l = Limits::default();
        let mut bad_price = item("b");
        bad_price.price = -1;
        let mut bad_sku = item("Bad Sku");
        bad_sku.name = "x".into();
        let errs = validate_items(&[item("a"), bad_price, bad_sku, item("a")], &l).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("item 2:") && errs[0].contains("price"));
        assert!(errs[1].starts_with("item 3:") && errs[1].contains("sku"));
        assert!(errs[2].starts_with("item 4:") && errs[2].contains("already used by item 1"));
        assert!(validate_items(&[item("a"), item("b")], &l).is_ok());
    }

    #[test]
    fn a_unit_price_can_never_go_below_zero() {
        let l = Limits::default();
        let mut salad = item("salad");
        salad.price = 800;
        salad.modifiers = vec![modifier("half", -300), modifier("no-dressing", -100)];
        assert_eq!(lowest_unit_price(&salad), 400);
        assert!(validate_item(&salad, &l).is_ok());
        salad.modifiers.push(modifier("quarter", -500));
        let e = validate_item(&salad, &l).unwrap_err();
        assert!(e.contains("below zero") && e.contains("-1.00"), "{e}");
        // Positive modifiers do not help a negative one.
        salad.modifiers = vec![modifier("extra", 5_000), modifier("free", -900)];
        assert!(validate_item(&salad, &l).is_err());
    }

    #[test]
    fn text_and_counts_are_bounded() {
        let l = Limits::default();
        let with = |f: &dyn Fn(&mut MenuItem)| {
            let mut i = item("a");
            f(&mut i);
            validate_item(&i, &l)
        };
        assert!(with(&|i| i.name = "Pizza \u{1b}]0;owned\u{7}".into()).is_err());
        assert!(with(&|i| i.name = "Pizza\u{9b}2J".into()).is_err());
        assert!(with(&|i| i.station = "grill\u{202e}".into()).is_err());
        assert!(with(&|i| i.allergens = "x".repeat(201)).is_err());
        assert!(with(&|i| i.modifiers = vec![modifier("m", 0); 1]).is_ok());
        let e = with(&|i| {
            i.modifiers = vec![Modifier {
                code: "m".into(),
                name: "bad\u{1b}[2J".into(),
                price: 0,
            }]
        })
        .unwrap_err();
        assert!(e.contains("modifier m name"), "{e}");
        assert!(
            with(&|i| {
                i.modifiers = vec![Modifier {
                    code: "m".into(),
                    name: "n".repeat(101),
                    price: 0,
                }]
            })
            .is_err()
        );
        let many: Vec<Modifier> = (0..=l.modifiers_per_item)
            .map(|k| modifier(&format!("m{k}"), 10))
            .collect();
        let e = with(&|i| i.modifiers = many.clone()).unwrap_err();
        assert!(e.contains("modifiers is more than the limit"), "{e}");
        let menu: Vec<MenuItem> = (0..=l.menu_items).map(|k| item(&format!("i{k}"))).collect();
        let e = validate_items(&menu, &l).unwrap_err();
        assert_eq!(e.len(), 1, "one line for a flood, not one per item");
    }

    #[test]
    fn a_change_is_judged_on_what_it_changes() {
        let l = Limits::default();
        // An item stored before the rules were tightened.
        let mut legacy = item("old");
        legacy.name = "Old\u{7}".into();
        let old = MenuDoc {
            items: vec![legacy.clone(), item("b")],
        };
        let mut new = old.clone();
        new.items[1].available = false;
        assert!(validate_change(&old, &new, &l).is_ok(), "86 still works");
        new.items.push(item("c"));
        assert!(validate_change(&old, &new, &l).is_ok());
        new.items[0].price = 1;
        assert!(
            validate_change(&old, &new, &l).is_err(),
            "a changed item is judged"
        );
        let mut dup = old.clone();
        dup.items.push(item("b"));
        assert!(validate_change(&old, &dup, &l).is_err());
    }

    #[test]
    fn a_menu_must_fit_in_a_frame() {
        let r = Restaurant {
            id: "r".into(),
            name: "R".into(),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 300,
            created_at: 0,
            max_line_total: None,
            max_order_total: None,
        };
        let small = merged(&r, &MenuDoc::default(), &StockDoc::default());
        let mut big_item = item("a");
        big_item.allergens = "x".repeat(200);
        let big = MenuDoc {
            items: (0..3000)
                .map(|k| MenuItem {
                    sku: format!("i{k}"),
                    ..big_item.clone()
                })
                .collect(),
        };
        let big = merged(&r, &big, &StockDoc::default());
        assert!(check_menu_size(&small, &small).is_ok());
        let e = check_menu_size(&big, &small).unwrap_err();
        assert!(e.message.contains("bytes"), "{}", e.message);
        assert!(
            check_menu_size(&big, &big).is_ok(),
            "not larger than it was"
        );
    }

    #[test]
    fn menu_changes_are_counted_per_minute() {
        let l = Limits {
            menu_changes_per_minute: 2,
            ..Limits::default()
        };
        let mut q = QuotaDoc::default();
        let t0 = 1_000_000;
        assert!(q.count_menu_change(t0, &l).is_ok());
        assert!(q.count_menu_change(t0 + 10, &l).is_ok());
        let e = q.count_menu_change(t0 + 20_000, &l).unwrap_err();
        assert!(e.message.contains("try again in 40 s"), "{}", e.message);
        assert_eq!(q.menu_changes, 2, "a refusal counts for nothing");
        assert!(q.count_menu_change(t0 + 60_000, &l).is_ok(), "a new minute");
        assert_eq!(q.menu_changes, 1);
    }

    #[test]
    fn restaurant_ids() {
        assert!(validate_restaurant_id("trattoria").is_ok());
        assert!(validate_restaurant_id("la-casa-2").is_ok());
        for bad in ["", "x", "-a", "a-", "Trattoria", "a b", "a/b"] {
            assert!(validate_restaurant_id(bad).is_err(), "{bad}");
        }
    }

    /// `menu.get` reads the restaurant, its menu and its stock at once (one
    /// round trip to etcd, whose store sends gets that wait together in one
    /// read), and a missing restaurant is still named as such.
    #[tokio::test]
    async fn a_menu_is_read_in_one_round_trip() {
        let (_dir, inner) = crate::store::testing::temp_store();
        let restaurant = Restaurant {
            id: "t".into(),
            name: "T".into(),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 600,
            created_at: 1,
            max_line_total: None,
            max_order_total: None,
        };
        let menu = MenuDoc {
            items: vec![item("pizza")],
        };
        let stock = StockDoc {
            units: [("pizza".to_string(), 3)].into(),
        };
        inner
            .txn(Txn::new().and_then(shop_ops(&restaurant, &menu, &stock).unwrap()))
            .await
            .unwrap();
        let store = crate::store::testing::Hooked {
            inner,
            hooks: crate::store::testing::GetsTogether::of(3),
        };
        let (r, m, s) =
            tokio::time::timeout(std::time::Duration::from_secs(5), load_menu(&store, "t"))
                .await
                .expect("the three reads go together")
                .unwrap();
        let shown = merged(&r, &m.value, &s.value);
        assert_eq!(shown.items.len(), 1);
        assert_eq!(shown.items[0].stock, Some(3));
        let e = tokio::time::timeout(std::time::Duration::from_secs(5), load_menu(&store, "gone"))
            .await
            .expect("the three reads go together")
            .unwrap_err();
        assert_eq!(e.code, protocol::wire::ErrorCode::NotFound, "{e:?}");
    }
}

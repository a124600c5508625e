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
//! - `/dfood/events/R/_menu/<id>` — `menu.changed` events, written in the
//!   same transaction as the change.
//!
//! Who may do what is decided here ([`require_manager`], [`require_staff`])
//! and in `orders`: managers edit menus and staff; kitchen staff and
//! managers flip availability; anyone may browse.

use std::collections::BTreeMap;

use protocol::messages::Event;
use protocol::messages::catalog::*;
use protocol::wire::Request;
use serde::{Deserialize, Serialize};

use crate::clock::unique_suffix;
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

const MAX_PRICE: i64 = 100_000_000;
const MAX_STOCK: i64 = 1_000_000_000;
pub const MAX_ITEMS: usize = 5_000;

/// Checks one item; the error names the item.
pub fn validate_item(item: &MenuItem) -> Result<(), String> {
    if !valid_slug(&item.sku, 1, 40, &['-', '_']) {
        return Err(format!(
            "sku {:?} must be 1-40 characters of a-z, 0-9, '-' and '_'",
            item.sku
        ));
    }
    let name = item.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(format!(
            "{}: name must be 1-100 printable characters",
            item.sku
        ));
    }
    if !(0..=MAX_PRICE).contains(&item.price) {
        return Err(format!(
            "{}: price {} is out of range (0 to {MAX_PRICE} minor units)",
            item.sku, item.price
        ));
    }
    if item.station.chars().count() > 40 || item.station.chars().any(char::is_control) {
        return Err(format!(
            "{}: station must be at most 40 printable characters",
            item.sku
        ));
    }
    if item.allergens.chars().count() > 200 {
        return Err(format!(
            "{}: allergens must be at most 200 characters",
            item.sku
        ));
    }
    if let Some(s) = item.stock
        && !(0..=MAX_STOCK).contains(&s)
    {
        return Err(format!(
            "{}: stock {s} is out of range (0 to {MAX_STOCK})",
            item.sku
        ));
    }
    let mut codes = std::collections::HashSet::new();
    for m in &item.modifiers {
        if !valid_slug(&m.code, 1, 40, &['-', '_']) {
            return Err(format!(
                "{}: modifier code {:?} must be 1-40 characters of a-z, 0-9, '-' and '_'",
                item.sku, m.code
            ));
        }
        if !codes.insert(m.code.as_str()) {
            return Err(format!("{}: modifier {:?} appears twice", item.sku, m.code));
        }
        if m.price.abs() > MAX_PRICE {
            return Err(format!(
                "{}: modifier {} price out of range",
                item.sku, m.code
            ));
        }
    }
    Ok(())
}

/// Validates a whole menu: every error, each naming its item (1-based
/// position in the list).
pub fn validate_items(items: &[MenuItem]) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if items.len() > MAX_ITEMS {
        errors.push(format!(
            "{} items is more than the limit of {MAX_ITEMS}",
            items.len()
        ));
    }
    let mut seen = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = validate_item(item) {
            errors.push(format!("item {}: {e}", i + 1));
        }
        if let Some(first) = seen.insert(item.sku.clone(), i + 1) {
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

/// The menu as customers see it: items with their stock merged in.
pub async fn load_menu(
    store: &dyn Store,
    r: &str,
) -> ApiResult<(Restaurant, Versioned<MenuDoc>, Versioned<StockDoc>)> {
    let restaurant = get_restaurant(store, r).await?.value;
    let menu: Versioned<MenuDoc> = read(store, &menu_key(r)).await?;
    let stock: Versioned<StockDoc> = read(store, &stock_key(r)).await?;
    Ok((restaurant, menu, stock))
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
/// the same transaction. `change` returns an error to abort.
pub async fn update_menu<F>(ctx: &Ctx<'_>, r: &str, mut change: F) -> ApiResult<Menu>
where
    F: FnMut(&mut MenuDoc, &mut StockDoc) -> ApiResult<()>,
{
    let store = ctx.store;
    for _ in 0..64 {
        let (restaurant, menu, stock) = load_menu(store, r).await?;
        let (mut m, mut s) = (menu.value.clone(), stock.value.clone());
        change(&mut m, &mut s)?;
        if let Err(errors) = validate_items(&m.items) {
            return Err(ApiError::bad_request(errors.join("; ")));
        }
        let merged_menu = merged(&restaurant, &m, &s);
        let mut ops = vec![
            TxnOp::put(menu_key(r), to_doc(&m)?),
            menu_event(r, &merged_menu, ctx.now_ms())?,
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

async fn create(ctx: &Ctx<'_>, req: CreateRestaurant) -> ApiResult<Restaurant> {
    let p = ctx.principal().await?;
    if p.service {
        return Err(ApiError::forbidden(
            "service accounts cannot create restaurants",
        ));
    }
    validate_restaurant_id(&req.id)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "restaurant name must be 1-100 characters",
        ));
    }
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
        name: name.to_string(),
        currency: req.currency,
        open: false,
        acceptance_timeout_secs: timeout,
        created_at: ctx.now_ms(),
    };
    let manager = StaffMember {
        restaurant: req.id.clone(),
        user_id: p.user_id.clone(),
        username: p.username.clone(),
        role: StaffRole::Manager,
    };
    let key = restaurant_key(&req.id);
    let resp = ctx
        .store
        .txn(Txn::new().when([Compare::absent(&key)]).and_then([
            TxnOp::put(&key, to_doc(&restaurant)?),
            TxnOp::put(menu_key(&req.id), to_doc(&MenuDoc::default())?),
            TxnOp::put(
                format!("{}{}", staff_prefix(&req.id), p.user_id),
                to_doc(&manager)?,
            ),
        ]))
        .await?;
    if !resp.succeeded {
        return Err(ApiError::conflict(format!(
            "restaurant {:?} already exists",
            req.id
        )));
    }
    Ok(restaurant)
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

async fn import(ctx: &Ctx<'_>, req: MenuImport) -> ApiResult<Menu> {
    require_manager(ctx, &req.restaurant).await?;
    if let Err(errors) = validate_items(&req.items) {
        return Err(ApiError::bad_request(format!(
            "menu not imported, nothing changed: {}",
            errors.join("; ")
        )));
    }
    let items = req.items;
    let replace = req.replace;
    update_menu(ctx, &req.restaurant, |m, s| {
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
    require_manager(ctx, &req.restaurant).await?;
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
    let menu = update_menu(ctx, &req.restaurant, |m, s| {
        let item = find_item(m, &req.restaurant, &req.sku)?;
        if let Some(p) = req.price {
            item.price = p;
        }
        if let Some(st) = &req.station {
            item.station = st.clone();
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
    require_staff(ctx, &req.restaurant).await?;
    let menu = update_menu(ctx, &req.restaurant, |m, _| {
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

    #[test]
    fn validation_names_each_bad_item() {
        let mut bad_price = item("b");
        bad_price.price = -1;
        let mut bad_sku = item("Bad Sku");
        bad_sku.name = "x".into();
        let errs = validate_items(&[item("a"), bad_price, bad_sku, item("a")]).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("item 2:") && errs[0].contains("price"));
        assert!(errs[1].starts_with("item 3:") && errs[1].contains("sku"));
        assert!(errs[2].starts_with("item 4:") && errs[2].contains("already used by item 1"));
        assert!(validate_items(&[item("a"), item("b")]).is_ok());
    }

    #[test]
    fn restaurant_ids() {
        assert!(validate_restaurant_id("trattoria").is_ok());
        assert!(validate_restaurant_id("la-casa-2").is_ok());
        for bad in ["", "x", "-a", "a-", "Trattoria", "a b", "a/b"] {
            assert!(validate_restaurant_id(bad).is_err(), "{bad}");
        }
    }
}

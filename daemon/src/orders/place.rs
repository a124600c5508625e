//! Placement: one store transaction checks the restaurant is open, the
//! items are available at the prices the customer saw, and the stock is
//! there; takes the next ticket number, decrements stock, writes the order,
//! its event, the customer index and the idempotency key — all or nothing.
//! Then the payment is authorised (outside the transaction: it is a call to
//! the gateway) and the order moves to `placed` or `payment_failed`, in a
//! second transaction.
//!
//! A gateway that keeps its records in the node's own store (the sandbox)
//! authorises *inside* the placement transaction instead
//! ([`Gateway::authorize_in_txn`]): the order is born `placed` (or
//! `payment_failed`, with its stock untouched) at version 1, with its one
//! event (`order.placed` / `order.payment_failed`) and the gateway's payment
//! and idempotency records. One transaction, no payment step left in
//! flight; there never is a moment when such an order is `pending_payment`.
//!
//! [`commit`] (the turn, [`read_inputs`], [`plan`], the transaction and
//! the retry after a lost race) is also what `dfoodd-bench` runs for
//! `dfood bench place --raw-store`, on keys moved aside
//! (`store::prefixed`): the raw shape is the daemon's by construction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use protocol::messages::catalog::{MenuItem, Restaurant};
use protocol::messages::orders::*;
use protocol::text;

use super::state::{self, Action};
use super::{
    customer_index_key, event_op, expiry_work_key, order_key, payment_work_key, pending_guard_key,
    pending_key,
};
use crate::catalog::{self, MenuDoc, StockDoc, Versioned, menu_key, stock_key, unchanged};
use crate::config::Limits;
use crate::ctx::Ctx;
use crate::payments::Gateway;
use crate::queues::Queues;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, KeyValue, Revision, Store, Txn, TxnOp};

pub use protocol::messages::orders::{MAX_LINES, MAX_QTY};

/// The most characters of a payment-method token.
pub const MAX_PAYMENT_METHOD: usize = 100;

pub fn tickets_key(r: &str) -> String {
    format!("/dfood/tickets/{r}")
}

pub fn idem_key(customer: &str, key: &str) -> String {
    format!("/dfood/idem/{customer}/{key}")
}

pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", m / 100, m % 100)
}

/// Checks a payment-method token: never a card number (refused without
/// echoing it), else 1-100 characters of `A-Z a-z 0-9 _ -` starting with
/// a letter.
pub fn validate_payment_method(pm: &str) -> ApiResult<()> {
    if text::card_number_in(pm, true) {
        return Err(ApiError::bad_request(
            "send a payment token, never a card number: that looked like one, and it was neither kept nor logged",
        ));
    }
    let shape = (1..=MAX_PAYMENT_METHOD).contains(&pm.len())
        && pm.starts_with(|c: char| c.is_ascii_alphabetic())
        && pm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !shape {
        return Err(ApiError::bad_request(format!(
            "payment method must be a token like pm_card_visa: 1-{MAX_PAYMENT_METHOD} characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter"
        )));
    }
    Ok(())
}

/// Checks the request's shape before touching the store: the payment
/// method first (a card number is refused before anything else could
/// quote it), then the lines, the key and the note.
pub fn validate(req: &PlaceOrder) -> ApiResult<()> {
    validate_payment_method(&req.payment_method)?;
    catalog::validate_restaurant_id(&req.restaurant)?;
    if req.lines.is_empty() {
        return Err(ApiError::bad_request("an order needs at least one item"));
    }
    if req.lines.len() > MAX_LINES {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_LINES} lines per order"
        )));
    }
    for (n, l) in req.lines.iter().enumerate() {
        if l.sku.len() > 40 {
            return Err(ApiError::bad_request(format!(
                "line {}: a sku is at most 40 characters",
                n + 1
            )));
        }
        if l.qty == 0 || l.qty > MAX_QTY {
            return Err(ApiError::bad_request(format!(
                "quantity of {} must be 1 to {MAX_QTY}, not {}",
                l.sku, l.qty
            )));
        }
        // Each modifier at most once per line: a line's modifiers are
        // then bounded by the item's.
        let mut seen = std::collections::HashSet::new();
        for m in &l.modifiers {
            if !seen.insert(m.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "line {} ({}): modifier {m:?} is named more than once; a line takes each modifier at most once",
                    n + 1,
                    l.sku
                )));
            }
        }
    }
    let k = &req.idempotency_key;
    if !(8..=100).contains(&k.len())
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request(
            "idempotency key must be 8-100 characters of A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    text::check("the note", &req.note, text::NOTE).map_err(ApiError::bad_request)?;
    if text::card_number_in(&req.note, false) {
        return Err(ApiError::bad_request(
            "the note looks like it holds a card number: never send card numbers (it was neither kept nor logged)",
        ));
    }
    if let Some(s) = &req.service {
        let field = match s {
            Service::DineIn { .. } => "the table",
            Service::Takeout { .. } | Service::Delivery { .. } => "the name to call",
        };
        text::check(field, s.text(), text::SERVICE).map_err(ApiError::bad_request)?;
        if text::card_number_in(s.text(), false) {
            return Err(ApiError::bad_request(format!(
                "{field} looks like it holds a card number: never send card numbers (it was neither kept nor logged)"
            )));
        }
    }
    Ok(())
}

/// The service as stored: its text trimmed (checked by `validate`).
fn trimmed_service(s: &Service) -> Service {
    match s {
        Service::DineIn { table } => Service::DineIn {
            table: table.trim().to_string(),
        },
        Service::Takeout { name } => Service::Takeout {
            name: name.trim().to_string(),
        },
        Service::Delivery { name } => Service::Delivery {
            name: name.trim().to_string(),
        },
    }
}

/// The most one line and one order may cost at `restaurant`, minor units.
pub fn bounds(restaurant: &Restaurant, limits: &Limits) -> (i64, i64) {
    (
        restaurant.max_line_total.unwrap_or(limits.max_line_total),
        restaurant.max_order_total.unwrap_or(limits.max_order_total),
    )
}

/// Prices the lines against the menu and stock; every refusal names the
/// item. Returns the priced lines and the stock after this order.
///
/// Prices are the menu's: each modifier counts once per line, a unit price
/// below zero is refused (`conflict`: a menu stored before that rule), and
/// so are a line above `max_line` and a total above `max_total` or not
/// above zero (`bad_request`); the arithmetic cannot overflow.
pub fn price_lines(
    restaurant: &Restaurant,
    menu: &MenuDoc,
    stock: &StockDoc,
    lines: &[LineRequest],
    (max_line, max_total): (i64, i64),
) -> ApiResult<(Vec<OrderLine>, StockDoc)> {
    let r = &restaurant.id;
    let cur = &restaurant.currency;
    let mut out = Vec::new();
    let mut need: BTreeMap<&str, i64> = BTreeMap::new();
    let mut total: i64 = 0;
    for (n, l) in lines.iter().enumerate() {
        let item: &MenuItem = menu.items.iter().find(|i| i.sku == l.sku).ok_or_else(|| {
            ApiError::not_found(format!("no item {:?} on the menu of {r}", l.sku))
        })?;
        if !item.available {
            return Err(ApiError::conflict(format!(
                "{} is sold out (86'd) at {r}",
                item.name
            )));
        }
        let mut unit = item.price;
        let mut names = Vec::new();
        let mut chosen = std::collections::HashSet::new();
        for code in &l.modifiers {
            if !chosen.insert(code.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "line {} ({}): modifier {code:?} is named more than once",
                    n + 1,
                    item.sku
                )));
            }
            let m = item
                .modifiers
                .iter()
                .find(|m| &m.code == code)
                .ok_or_else(|| {
                    let known: Vec<_> = item.modifiers.iter().map(|m| m.code.as_str()).collect();
                    ApiError::bad_request(format!(
                        "{} has no modifier {code:?}{}",
                        item.sku,
                        if known.is_empty() {
                            String::new()
                        } else {
                            format!("; it has: {}", known.join(", "))
                        }
                    ))
                })?;
            unit = unit.saturating_add(m.price);
            names.push(m.name.clone());
        }
        if unit < 0 {
            return Err(ApiError::conflict(format!(
                "{} with these modifiers would cost {}: a price below zero is refused (the menu needs fixing)",
                item.name,
                money(unit, cur)
            )));
        }
        if let Some(expected) = l.expected_unit_price
            && expected != unit
        {
            return Err(ApiError::conflict(format!(
                "the price of {} changed from {} to {}; check the menu and order again",
                item.name,
                money(expected, &restaurant.currency),
                money(unit, &restaurant.currency)
            )));
        }
        let line_total = unit.saturating_mul(i64::from(l.qty));
        if line_total > max_line {
            return Err(ApiError::bad_request(format!(
                "line {}: {} × {} at {} is {}, more than the {} a line may cost at {r}",
                n + 1,
                l.qty,
                item.name,
                money(unit, cur),
                money(line_total, cur),
                money(max_line, cur)
            )));
        }
        total = total.saturating_add(line_total);
        if total > max_total {
            return Err(ApiError::bad_request(format!(
                "the order would cost more than the {} an order may cost at {r}",
                money(max_total, cur)
            )));
        }
        *need.entry(item.sku.as_str()).or_default() += i64::from(l.qty);
        out.push(OrderLine {
            sku: item.sku.clone(),
            name: item.name.clone(),
            qty: l.qty,
            unit_price: unit,
            modifiers: names,
            station: item.station.clone(),
            allergens: item.allergens.clone(),
            ready_at: None,
        });
    }
    if total <= 0 {
        return Err(ApiError::bad_request("an order must cost more than zero"));
    }
    let mut after = stock.clone();
    for (sku, n) in need {
        if let Some(units) = after.units.get_mut(sku) {
            if *units < n {
                let name = &menu
                    .items
                    .iter()
                    .find(|i| i.sku == sku)
                    .map(|i| i.name.clone())
                    .unwrap_or_default();
                return Err(ApiError::conflict(if *units == 0 {
                    format!("{name} is sold out at {r}")
                } else {
                    format!("only {units} {name} left at {r}, you asked for {n}")
                }));
            }
            *units -= n;
        }
    }
    Ok((out, after))
}

/// What a placement decides on, read before its transaction (or
/// remembered from the node's last placement at the restaurant: cheap to
/// clone, the documents are shared).
#[derive(Debug, Clone)]
pub struct Inputs {
    pub restaurant: Arc<Versioned<Restaurant>>,
    pub menu: Arc<Versioned<MenuDoc>>,
    pub stock: Arc<Versioned<StockDoc>>,
    /// The last ticket number given out (0: none yet).
    pub last_ticket: u64,
    /// The ticket counter's mod revision (0: absent).
    pub tickets_rev: Revision,
    /// Bytes of the documents as stored (what remembering them costs).
    pub bytes: usize,
}

/// A document and its mod revision; a missing key is the default at 0.
fn versioned<T: serde::de::DeserializeOwned + Default>(
    key: &str,
    kv: Option<&KeyValue>,
) -> ApiResult<Arc<Versioned<T>>> {
    Ok(Arc::new(match kv {
        Some(kv) => Versioned {
            value: from_doc(key, &kv.value)?,
            mod_revision: kv.mod_revision,
        },
        None => Versioned {
            value: T::default(),
            mod_revision: 0,
        },
    }))
}

/// Reads restaurant, menu, stock and ticket counter concurrently (one
/// round trip's wait instead of four).
pub async fn read_inputs(store: &dyn Store, r: &str) -> ApiResult<Inputs> {
    let (rk, mk, sk, tk) = (
        catalog::restaurant_key(r),
        menu_key(r),
        stock_key(r),
        tickets_key(r),
    );
    let (restaurant, menu, stock, tickets) = futures::try_join!(
        store.get(&rk),
        store.get(&mk),
        store.get(&sk),
        store.get(&tk)
    )?;
    let bytes = [&restaurant, &menu, &stock, &tickets]
        .iter()
        .map(|kv| kv.as_ref().map_or(0, |kv| kv.key.len() + kv.value.len()))
        .sum();
    let Some(restaurant) = restaurant else {
        return Err(ApiError::not_found(format!("no restaurant {r:?}")));
    };
    let (last_ticket, tickets_rev) = match tickets {
        Some(kv) => (
            String::from_utf8_lossy(&kv.value)
                .parse::<u64>()
                .map_err(|_| ApiError::internal("damaged ticket counter"))?,
            kv.mod_revision,
        ),
        None => (0, 0),
    };
    Ok(Inputs {
        restaurant: Arc::new(Versioned {
            value: from_doc(&rk, &restaurant.value)?,
            mod_revision: restaurant.mod_revision,
        }),
        menu: versioned(&mk, menu.as_ref())?,
        stock: versioned(&sk, stock.as_ref())?,
        last_ticket,
        tickets_rev,
        bytes,
    })
}

/// The placement transaction and the order it writes.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The order as written (`revision` 0 until committed).
    pub order: Order,
    pub txn: Txn,
    /// The stock it leaves, when it takes some.
    pub stock_after: Option<StockDoc>,
}

impl Placement {
    /// The inputs of the next placement at the restaurant, once this one
    /// committed at `revision` (what it wrote, at the revision it wrote).
    pub fn inputs_after(&self, before: &Inputs, revision: Revision) -> Inputs {
        Inputs {
            stock: match &self.stock_after {
                Some(s) => Arc::new(Versioned {
                    value: s.clone(),
                    mod_revision: revision,
                }),
                None => before.stock.clone(),
            },
            last_ticket: self.order.ticket,
            tickets_rev: revision,
            ..before.clone()
        }
    }
}

/// Decides a placement from what was read: prices the lines, takes the
/// next ticket and builds the transaction (see the module documentation).
/// `idem` is the placement's idempotency key in the store; `customer` is
/// (user id, username). Pure but for the gateway's choice of payment id.
pub fn plan(
    inputs: &Inputs,
    req: &PlaceOrder,
    idem: &str,
    customer: (&str, &str),
    gateway: &dyn Gateway,
    limits: &Limits,
    now: u64,
) -> ApiResult<Placement> {
    let r = &req.restaurant;
    let restaurant = &inputs.restaurant.value;
    if !restaurant.open {
        return Err(ApiError::conflict(format!("{} is closed", restaurant.name)));
    }
    let (lines, stock_after) = price_lines(
        restaurant,
        &inputs.menu.value,
        &inputs.stock.value,
        &req.lines,
        bounds(restaurant, limits),
    )?;
    let ticket = inputs.last_ticket + 1;
    let id = format!("{r}-{ticket}");
    let total = lines
        .iter()
        .map(|l| l.unit_price.saturating_mul(i64::from(l.qty)))
        .fold(0i64, i64::saturating_add);
    let order = Order {
        id: id.clone(),
        restaurant: r.clone(),
        ticket,
        customer_id: customer.0.to_string(),
        customer: customer.1.to_string(),
        lines,
        note: req.note.trim().to_string(),
        total,
        currency: restaurant.currency.clone(),
        state: OrderState::PendingPayment,
        reason: None,
        rush: false,
        service: req.service.as_ref().map(trimmed_service),
        payment: Payment {
            state: PaymentState::Authorizing,
            method: req.payment_method.clone(),
            gateway: gateway.name().to_string(),
            gateway_ref: None,
            last4: None,
            amount: total,
            captured: 0,
            refunded: 0,
            error: None,
        },
        created_at: now,
        updated_at: now,
        accepted_at: None,
        ready_at: None,
        completed_at: None,
        version: 1,
        revision: 0,
    };
    // Every input is compared, the stock too when none is taken: the
    // inputs may be remembered rather than read (see `commit`).
    let mut compares = vec![
        Compare::absent(idem),
        Compare::mod_revision(catalog::restaurant_key(r), inputs.restaurant.mod_revision),
        unchanged(&menu_key(r), inputs.menu.mod_revision),
        unchanged(&tickets_key(r), inputs.tickets_rev),
        unchanged(&stock_key(r), inputs.stock.mod_revision),
    ];
    let mut ops = vec![
        TxnOp::put(tickets_key(r), ticket.to_string()),
        TxnOp::put(idem, id.clone()),
        TxnOp::put(customer_index_key(customer.0, &id), Vec::new()),
    ];
    let mut take_stock = stock_after != inputs.stock.value;
    let authorization = gateway
        .authorize_in_txn(&super::pay::authorize_request(&order))
        .filter(|a| match &a.outcome {
            Ok(_) => true,
            Err(e) => super::pay::refused_message(e).is_some(),
        });
    let written = match authorization {
        None => {
            // The payment step is left in flight, for `pay::drive`; the
            // customer's count of orders waiting for payment goes up
            // (`commit` guards it).
            ops.push(TxnOp::put(payment_work_key(&id), now.to_string()));
            ops.push(TxnOp::put(pending_key(customer.0, &id), now.to_string()));
            order
        }
        Some(a) => {
            let mut next = order;
            match a.outcome {
                Ok(p) => {
                    next.state = state::next(next.state, Action::PaymentAuthorized)
                        .map_err(ApiError::conflict)?
                        .state;
                    next.payment.state = PaymentState::Authorized;
                    next.payment.gateway_ref = Some(p.id);
                    next.payment.last4 = p.last4;
                    let deadline = now + restaurant.acceptance_timeout_secs * 1000;
                    ops.push(TxnOp::put(expiry_work_key(&id), deadline.to_string()));
                }
                Err(e) => {
                    next.state = state::next(next.state, Action::PaymentFailed)
                        .map_err(ApiError::conflict)?
                        .state;
                    next.payment.state = PaymentState::Declined;
                    next.payment.error = super::pay::refused_message(&e);
                    // Nothing reserved: the stock stays as it is.
                    take_stock = false;
                }
            }
            compares.extend(a.compares);
            ops.extend(a.ops);
            next
        }
    };
    ops.push(TxnOp::put(order_key(&id)?, to_doc(&written)?));
    ops.push(event_op(&written)?);
    let stock_after = if take_stock {
        ops.push(TxnOp::put(stock_key(r), to_doc(&stock_after)?));
        Some(stock_after)
    } else {
        None
    };
    Ok(Placement {
        order: written,
        txn: Txn::new().when(compares).and_then(ops),
        stock_after,
    })
}

pub async fn place(ctx: &Ctx<'_>, req: PlaceOrder) -> ApiResult<Order> {
    // The token's signature first (no store read); the account is read
    // alongside the placement's own reads, or remembered, and compared in
    // its transaction.
    let claims = ctx.claims().await?;
    validate(&req)?;
    let idem = idem_key(&claims.sub, &req.idempotency_key);
    let identity = ctx.identity();
    let claims = &claims;
    let customer = move |fresh: bool| async move {
        let (p, guard) = identity.principal_guarded(claims, fresh).await?;
        Ok(Customer {
            id: p.user_id,
            username: p.username,
            guard: Some(guard),
        })
    };
    match commit(ctx, &req, &idem, customer).await?.0 {
        Committed::Existing(id) => settled(ctx, &id).await,
        Committed::New(o) => {
            let o = *o;
            let o = if o.state == OrderState::PendingPayment {
                super::pay::drive(ctx, &o.id, &[]).await?
            } else {
                o
            };
            match o.state {
                OrderState::PendingPayment => settled(ctx, &o.id).await,
                _ => answer(o),
            }
        }
    }
}

/// Who places an order.
#[derive(Debug, Clone)]
pub struct Customer {
    /// User id.
    pub id: String,
    pub username: String,
    /// Holds while the customer's account is as it was checked (none
    /// where no account stands behind the id: the raw-store runner).
    pub guard: Option<Compare>,
}

/// What [`commit`] did.
#[derive(Debug)]
pub enum Committed {
    /// The idempotency key had already made this order.
    Existing(String),
    /// This placement wrote the order (its `revision` set).
    New(Box<Order>),
}

/// The inputs this node's last placement at `r` read and wrote.
fn remembered(placing: &Queues, r: &str) -> Option<Inputs> {
    let any = placing.remembered.get(r)?;
    any.downcast::<Inputs>().ok().map(|i| (*i).clone())
}

fn remember(placing: &Queues, r: &str, inputs: Inputs) {
    let bytes = inputs.bytes;
    placing.remembered.put(r, Arc::new(inputs), bytes);
}

/// The placement loop, shared by `order.place` and `dfoodd-bench`: take
/// this node's turn at the restaurant, get the inputs, plan, commit; after
/// a lost race, pause briefly and go again. Returns what happened and how
/// many races were lost on the way.
///
/// The inputs are those the node's last placement at the restaurant left
/// (remembered in `ctx.placing`, see [`Placement::inputs_after`]), with
/// the customer's account as `customer(false)` gives it, so a placement on
/// an owner node in steady state reads nothing: its transaction compares
/// every input (and the idempotency key's absence, and the account), so a
/// guess that went stale (another node placed there, staff changed the
/// menu, the key was used before, the account changed) only fails the
/// commit; then everything is read (`customer(true)`), at once. A refusal
/// (closed, sold out, a price that moved) is never given on remembered
/// inputs: they are read first.
pub async fn commit<F, Fut>(
    ctx: &Ctx<'_>,
    req: &PlaceOrder,
    idem: &str,
    customer: F,
) -> ApiResult<(Committed, u32)>
where
    F: Fn(bool) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Customer>>,
{
    let store = ctx.store;
    let r = req.restaurant.as_str();
    let placing = ctx.placing;
    let counters = &placing.counters;
    let mut lost = 0u32;
    // The previous attempt's commit failed.
    let mut failed = false;
    for attempt in 0..200u32 {
        let turn = placing.enter(r).await;
        let guess = if attempt == 0 {
            remembered(placing, r)
        } else {
            None
        };
        let guessed = guess.is_some();
        let (customer, inputs) = match guess {
            Some(inputs) => (customer(false).await?, inputs),
            None => {
                let (customer, existing, inputs) = futures::try_join!(
                    customer(attempt > 0),
                    async { Ok::<_, ApiError>(store.get(idem).await?) },
                    read_inputs(store, r)
                )?;
                if let Some(kv) = existing {
                    let id = String::from_utf8_lossy(&kv.value).into_owned();
                    return Ok((Committed::Existing(id), lost));
                }
                if std::mem::take(&mut failed) {
                    lost += 1;
                    counters.lost_races.fetch_add(1, Ordering::Relaxed);
                }
                remember(placing, r, inputs.clone());
                (customer, inputs)
            }
        };
        let planned = plan(
            &inputs,
            req,
            idem,
            (&customer.id, &customer.username),
            ctx.gateway,
            ctx.limits,
            ctx.now_ms(),
        );
        let mut placement = match planned {
            Ok(p) => p,
            Err(_) if guessed => {
                placing.remembered.forget(r);
                continue;
            }
            Err(e) => return Err(e),
        };
        if placement.order.state == OrderState::PendingPayment {
            let guard = pending_guard(store, &customer.id, ctx.limits).await?;
            placement.txn = placement.txn.when([guard.0]).and_then([guard.1]);
        }
        let txn = std::mem::take(&mut placement.txn).when(customer.guard);
        // Batched with the node's other placements waiting now (at other
        // restaurants); the answer is this placement's own.
        let resp = match placing.commit(store, txn).await {
            Ok(resp) => resp,
            Err(e) => {
                // It may or may not have been applied.
                placing.remembered.forget(r);
                return Err(e.into());
            }
        };
        if resp.succeeded {
            remember(placing, r, placement.inputs_after(&inputs, resp.revision));
            // The next placement here may go: the ticket is taken.
            drop(turn);
            counters.placements.fetch_add(1, Ordering::Relaxed);
            let mut o = placement.order;
            o.revision = u64::try_from(resp.revision).unwrap_or(0);
            return Ok((Committed::New(Box::new(o)), lost));
        }
        placing.remembered.forget(r);
        drop(turn);
        failed = true;
        if !guessed {
            // Another placement took the ticket (or changed stock/menu):
            // again, after a short, growing, jittered pause so racers
            // spread out. A stale guess is read again at once.
            let jitter = (ctx.now_ms() ^ u64::from(attempt).wrapping_mul(2654435761)) % 5;
            tokio::time::sleep(Duration::from_millis(u64::from(lost.min(10)) + jitter)).await;
        }
    }
    Err(ApiError::unavailable(
        "too many concurrent orders at this restaurant; try again",
    ))
}

/// The customer's orders waiting for payment, checked against the quota
/// (`conflict` when full): the compare and op that keep the count exact
/// when two placements race (each bumps the guard it read).
async fn pending_guard(
    store: &dyn Store,
    customer: &str,
    limits: &Limits,
) -> ApiResult<(Compare, TxnOp)> {
    let gk = pending_guard_key(customer);
    let prefix = format!("/dfood/pending/{customer}/");
    let (guard, waiting) = futures::try_join!(store.get(&gk), store.range(&prefix))?;
    let limit = limits.pending_payments_per_customer;
    if waiting.kvs.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
        return Err(ApiError::conflict(format!(
            "you have {} orders waiting for their payment to be confirmed, the most at once; wait for them to settle",
            waiting.kvs.len()
        )));
    }
    let (rev, n) = match guard {
        Some(kv) => (
            kv.mod_revision,
            String::from_utf8_lossy(&kv.value)
                .parse::<u64>()
                .unwrap_or(0),
        ),
        None => (0, 0),
    };
    Ok((
        unchanged(&gk, rev),
        TxnOp::put(gk, n.saturating_add(1).to_string()),
    ))
}

/// The answer to a placement: the order, or an error if its payment failed.
fn answer(o: Order) -> ApiResult<Order> {
    match o.state {
        OrderState::PaymentFailed => Err(ApiError::payment_declined(format!(
            "payment for order {} was declined: {}; the order is recorded as payment_failed and will not be prepared",
            o.id,
            o.payment.error.as_deref().unwrap_or("declined")
        ))
        .about_order(&o.id)),
        _ => Ok(o),
    }
}

/// The order as the customer should see it after placement: waits a little
/// while its payment is being confirmed; a declined payment is an error.
async fn settled(ctx: &Ctx<'_>, id: &str) -> ApiResult<Order> {
    // Short enough that a client with the default 5 s timeout hears
    // "pending_payment" rather than timing out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        // The order may have been archived since (a retry long after).
        let o = super::find(ctx, id).await?;
        match o.state {
            OrderState::PendingPayment if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return answer(o),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use protocol::messages::catalog::{MenuItem, Restaurant};

    use super::*;
    use crate::orders::pay::authorize_request;
    use crate::payments::sandbox::SandboxGateway;
    use crate::payments::{GatewayError, GatewayStatus};

    const R: &str = "trattoria";
    const IDEM: &str = "/dfood/idem/usr_1/key-00000001";

    struct Shop {
        store: Arc<dyn Store>,
        gateway: SandboxGateway,
        _dir: tempfile::TempDir,
    }

    /// A restaurant with a counted item (`tiramisu`, 5 left) and an
    /// uncounted one.
    async fn shop() -> Shop {
        let (dir, store) = crate::store::testing::temp_store();
        let restaurant = Restaurant {
            id: R.into(),
            name: "Trattoria".into(),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 600,
            created_at: 1,
            max_line_total: None,
            max_order_total: None,
        };
        let item = |sku: &str, price| MenuItem {
            sku: sku.into(),
            name: sku.into(),
            price,
            station: "cold".into(),
            modifiers: vec![],
            available: true,
            stock: None,
            allergens: String::new(),
        };
        let menu = MenuDoc {
            items: vec![item("tiramisu", 600), item("water", 200)],
        };
        let stock = StockDoc {
            units: [("tiramisu".to_string(), 5)].into(),
        };
        store
            .txn(Txn::new().and_then(catalog::shop_ops(&restaurant, &menu, &stock).unwrap()))
            .await
            .unwrap();
        Shop {
            gateway: SandboxGateway::new(store.clone()),
            store,
            _dir: dir,
        }
    }

    fn request(pay: &str) -> PlaceOrder {
        PlaceOrder {
            service: None,
            restaurant: R.into(),
            lines: vec![
                LineRequest {
                    sku: "tiramisu".into(),
                    qty: 2,
                    modifiers: vec![],
                    expected_unit_price: Some(600),
                },
                LineRequest {
                    sku: "water".into(),
                    qty: 1,
                    modifiers: vec![],
                    expected_unit_price: None,
                },
            ],
            note: String::new(),
            payment_method: pay.into(),
            idempotency_key: "key-00000001".into(),
        }
    }

    async fn plan_for(shop: &Shop, pay: &str) -> Placement {
        let inputs = read_inputs(shop.store.as_ref(), R).await.unwrap();
        plan(
            &inputs,
            &request(pay),
            IDEM,
            ("usr_1", "cleo"),
            &shop.gateway,
            &Limits::default(),
            1_000,
        )
        .unwrap()
    }

    fn put_keys(t: &Txn) -> Vec<String> {
        t.success
            .iter()
            .filter_map(|o| match o {
                TxnOp::Put { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect()
    }

    async fn stored<T: serde::de::DeserializeOwned>(store: &dyn Store, key: &str) -> T {
        from_doc(key, &store.get(key).await.unwrap().unwrap().value).unwrap()
    }

    fn limits() -> (i64, i64) {
        let l = Limits::default();
        (l.max_line_total, l.max_order_total)
    }

    fn line(sku: &str, qty: u32, mods: &[&str]) -> LineRequest {
        LineRequest {
            sku: sku.into(),
            qty,
            modifiers: mods.iter().map(|m| m.to_string()).collect(),
            expected_unit_price: None,
        }
    }

    fn restaurant_open() -> Restaurant {
        Restaurant {
            id: R.into(),
            name: "Trattoria".into(),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 600,
            created_at: 1,
            max_line_total: None,
            max_order_total: None,
        }
    }

    fn salad_menu(half: i64) -> MenuDoc {
        MenuDoc {
            items: vec![
                MenuItem {
                    sku: "salad".into(),
                    name: "Salad".into(),
                    price: 800,
                    station: "cold".into(),
                    modifiers: vec![protocol::messages::catalog::Modifier {
                        code: "half".into(),
                        name: "Half".into(),
                        price: half,
                    }],
                    available: true,
                    stock: None,
                    allergens: String::new(),
                },
                MenuItem {
                    sku: "pizza".into(),
                    name: "Pizza".into(),
                    price: 950,
                    station: "oven".into(),
                    modifiers: vec![protocol::messages::catalog::Modifier {
                        code: "extra".into(),
                        name: "Extra".into(),
                        price: 100_000,
                    }],
                    available: true,
                    stock: None,
                    allergens: String::new(),
                },
            ],
        }
    }

    #[test]
    fn card_numbers_are_refused_before_anything_and_never_echoed() {
        for pan in [
            "4242424242424242",
            "4111.1111.1111.1111",
            "4111 1111 1111 1111",
            "pm_4242424242424242",
        ] {
            let mut req = request(pan);
            req.lines.clear(); // the card is refused before the lines are looked at
            let e = validate(&req).unwrap_err();
            assert_eq!(e.code, protocol::wire::ErrorCode::BadRequest);
            assert!(e.message.contains("never a card number"), "{}", e.message);
            assert!(
                !e.message.contains("4242") && !e.message.contains("1111"),
                "{}",
                e.message
            );
        }
        for bad in ["", "pm card", "pm_visa\u{1b}", "-x", &"p".repeat(101)] {
            assert!(validate(&request(bad)).is_err(), "{bad:?}");
        }
        assert!(validate(&request("pm_card_visa")).is_ok());
        let mut req = request("pm_card_visa");
        req.note = "my card is 4242 4242 4242 4242".into();
        let e = validate(&req).unwrap_err();
        assert!(!e.message.contains("4242"), "{}", e.message);
    }

    #[test]
    fn text_in_a_placement_is_bounded_and_printable() {
        let mut req = request("pm_card_visa");
        req.note = "ring twice\nthen knock".into();
        assert!(validate(&req).is_ok(), "a note may have several lines");
        for note in [
            "\u{1b}]0;owned\u{7}",
            "\u{9b}2J",
            "x\u{202e}y",
            &"n".repeat(501),
        ] {
            req.note = note.into();
            assert!(validate(&req).is_err(), "{note:?}");
        }
        let mut req = request("pm_card_visa");
        req.idempotency_key = "key\u{1b}[2J0000".into();
        assert!(validate(&req).is_err());
    }

    #[test]
    fn each_modifier_counts_once_per_line() {
        let mut req = request("pm_card_visa");
        req.lines = vec![line("salad", 1, &["half", "half", "half"])];
        let e = validate(&req).unwrap_err();
        assert!(e.message.contains("more than once"), "{}", e.message);
        // Pricing refuses it too (a caller that skipped `validate`).
        let r = restaurant_open();
        let e = price_lines(
            &r,
            &salad_menu(-300),
            &StockDoc::default(),
            &[line("salad", 1, &["half", "half"])],
            limits(),
        )
        .unwrap_err();
        assert!(e.message.contains("more than once"), "{}", e.message);
    }

    #[test]
    fn prices_are_the_menus_never_below_zero_and_bounded() {
        let r = restaurant_open();
        let none = StockDoc::default();
        // A menu stored before the rule: the unit price would be -1.00.
        let e = price_lines(
            &r,
            &salad_menu(-900),
            &none,
            &[line("salad", 1, &["half"])],
            limits(),
        )
        .unwrap_err();
        assert_eq!(e.code, protocol::wire::ErrorCode::Conflict);
        assert!(e.message.contains("below zero"), "{}", e.message);
        let (lines, _) = price_lines(
            &r,
            &salad_menu(-300),
            &none,
            &[line("salad", 2, &["half"])],
            limits(),
        )
        .unwrap();
        assert_eq!(lines[0].unit_price, 500);
        // 99 × 1,009.50 is more than a line may cost by default.
        let e = price_lines(
            &r,
            &salad_menu(0),
            &none,
            &[line("pizza", 99, &["extra"])],
            limits(),
        )
        .unwrap_err();
        assert_eq!(e.code, protocol::wire::ErrorCode::BadRequest);
        assert!(e.message.contains("a line may cost"), "{}", e.message);
        // Lines each within bounds, the total not.
        let many = vec![line("pizza", 4, &["extra"]); 3];
        let e = price_lines(&r, &salad_menu(0), &none, &many, limits()).unwrap_err();
        assert!(e.message.contains("an order may cost"), "{}", e.message);
        // The restaurant's own bound wins over the default.
        let mut rich = r.clone();
        rich.max_line_total = Some(20_000_000);
        rich.max_order_total = Some(20_000_000);
        let (l, _) = price_lines(
            &rich,
            &salad_menu(0),
            &none,
            &many,
            bounds(&rich, &Limits::default()),
        )
        .unwrap();
        assert_eq!(l.len(), 3);
        // Nothing for free: a total of zero is refused.
        let mut free = salad_menu(0);
        free.items[0].price = 0;
        let e = price_lines(&r, &free, &none, &[line("salad", 1, &[])], limits()).unwrap_err();
        assert!(e.message.contains("more than zero"), "{}", e.message);
    }

    /// The largest order the rules allow: 50 lines of 99, each item with
    /// 20 modifiers, every text at its longest in 4-byte characters.
    pub(crate) fn largest_order() -> Order {
        let wide = |n: usize| "🍕".repeat(n);
        let lines = (0..MAX_LINES)
            .map(|i| OrderLine {
                ready_at: None,
                sku: format!("{i:0>40}"),
                name: wide(100),
                qty: MAX_QTY,
                unit_price: 100_000_000,
                modifiers: (0..crate::config::MAX_MODIFIERS)
                    .map(|_| wide(100))
                    .collect(),
                station: wide(40),
                allergens: wide(200),
            })
            .collect();
        Order {
            completed_at: None,
            service: None,
            accepted_at: None,
            ready_at: None,
            id: format!("{}-{}", "r".repeat(40), u64::MAX),
            restaurant: "r".repeat(40),
            ticket: u64::MAX,
            customer_id: format!("usr_{}", "0".repeat(60)),
            customer: "c".repeat(32),
            lines,
            note: wide(500),
            total: i64::MAX,
            currency: "EUR".into(),
            state: OrderState::Rejected,
            reason: Some(wide(200)),
            rush: true,
            payment: Payment {
                state: PaymentState::Failed,
                method: "p".repeat(MAX_PAYMENT_METHOD),
                gateway: "sandbox".into(),
                gateway_ref: Some("g".repeat(100)),
                last4: Some("4242".into()),
                amount: i64::MAX,
                captured: i64::MAX,
                refunded: i64::MAX,
                error: Some(wide(300)),
            },
            created_at: u64::MAX,
            updated_at: u64::MAX,
            version: u64::MAX,
            revision: u64::MAX,
        }
    }

    #[test]
    fn the_largest_order_fits_in_a_frame_as_an_answer_and_as_an_event() {
        let o = largest_order();
        let ev = protocol::wire::ServerFrame::Event {
            revision: u64::MAX,
            events: vec![protocol::messages::Event {
                kind: "order.payment_failed".into(),
                subject: o.id.clone(),
                data: serde_json::to_value(&o).unwrap(),
            }],
        };
        let bytes = protocol::wire::encode_doc(&ev).unwrap().len();
        assert!(
            bytes < protocol::frame::MAX_FRAME_LEN * 3 / 4,
            "the largest order's event is {bytes} bytes"
        );
        let list = protocol::wire::ServerFrame::ok(
            Some("r".repeat(100)),
            OrderList {
                orders: vec![o],
                next_cursor: Some("c".repeat(200)),
            },
        )
        .unwrap();
        assert!(protocol::wire::encode_doc(&list).unwrap().len() < protocol::frame::MAX_FRAME_LEN);
    }

    #[tokio::test]
    async fn sandbox_authorisation_rides_in_the_placement_transaction() {
        let shop = shop().await;
        let p = plan_for(&shop, "pm_card_visa").await;
        let o = &p.order;
        assert_eq!((o.id.as_str(), o.ticket, o.version), ("trattoria-1", 1, 1));
        assert_eq!(o.state, OrderState::Placed);
        assert_eq!(o.payment.state, PaymentState::Authorized);
        assert_eq!(o.payment.last4.as_deref(), Some("4242"));
        assert_eq!(o.total, 1400);
        let keys = put_keys(&p.txn);
        for k in [
            "/dfood/events/trattoria/trattoria-1/000001",
            "/dfood/work/expiry/trattoria-1",
            "/dfood/orders/trattoria/trattoria-1",
            "/dfood/stock/trattoria",
            "/dfood/sandbox/idem/trattoria-1:authorize",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} not in {keys:?}");
        }
        assert!(
            !keys.iter().any(|k| k.starts_with("/dfood/work/payments/")),
            "no payment step left in flight: {keys:?}"
        );

        assert!(shop.store.txn(p.txn.clone()).await.unwrap().succeeded);
        // The gateway finds the payment the transaction wrote, and a retry
        // of the authorisation replays it: one hold, never two.
        let order: Order = stored(shop.store.as_ref(), "/dfood/orders/trattoria/trattoria-1").await;
        assert_eq!(order.state, OrderState::Placed);
        let found = shop
            .gateway
            .find_by_idempotency_key("trattoria-1:authorize")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(Some(&found.id), order.payment.gateway_ref.as_ref());
        assert_eq!(
            (found.status, found.amount),
            (GatewayStatus::RequiresCapture, 1400)
        );
        let again = shop
            .gateway
            .authorize(&authorize_request(&order))
            .await
            .unwrap();
        assert_eq!(again.id, found.id);
        assert_eq!(shop.gateway.payments().await.unwrap().len(), 1);
        // It is a real payment: capture works on it.
        let captured = shop
            .gateway
            .capture(&found.id, "trattoria-1:capture")
            .await
            .unwrap();
        assert_eq!(captured.status, GatewayStatus::Succeeded);
        let stock: StockDoc = stored(shop.store.as_ref(), &stock_key(R)).await;
        assert_eq!(stock.units["tiramisu"], 3);
        // One event: the order was never pending payment.
        let events = shop
            .store
            .range("/dfood/events/trattoria/trattoria-1/")
            .await
            .unwrap();
        let kinds: Vec<String> = events
            .kvs
            .iter()
            .map(|kv| {
                let e: protocol::messages::Event = from_doc(&kv.key, &kv.value).unwrap();
                e.kind
            })
            .collect();
        assert_eq!(kinds, ["order.placed"]);
    }

    #[tokio::test]
    async fn a_declined_card_fails_the_order_in_the_same_transaction_without_taking_stock() {
        let shop = shop().await;
        let p = plan_for(&shop, "pm_card_declined").await;
        assert_eq!(p.order.state, OrderState::PaymentFailed);
        assert_eq!(p.order.payment.state, PaymentState::Declined);
        assert_eq!(
            p.order.payment.error.as_deref(),
            Some("Your card was declined. (card_declined)")
        );
        let keys = put_keys(&p.txn);
        assert!(
            !keys.iter().any(|k| k == "/dfood/stock/trattoria"),
            "{keys:?}"
        );
        assert!(
            !keys.iter().any(|k| k.starts_with("/dfood/work/")),
            "{keys:?}"
        );
        assert!(shop.store.txn(p.txn).await.unwrap().succeeded);
        let stock: StockDoc = stored(shop.store.as_ref(), &stock_key(R)).await;
        assert_eq!(stock.units["tiramisu"], 5);
        // The decline is remembered under the key, as `authorize` does.
        let order: Order = stored(shop.store.as_ref(), "/dfood/orders/trattoria/trattoria-1").await;
        assert_eq!(order.state, OrderState::PaymentFailed);
        assert!(matches!(
            shop.gateway.authorize(&authorize_request(&order)).await,
            Err(GatewayError::Declined { .. })
        ));
        assert!(shop.gateway.payments().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn answers_in_doubt_leave_the_payment_step_in_flight() {
        let shop = shop().await;
        for pay in [
            "pm_card_timeout",
            "pm_card_timeout_after_auth",
            "pm_unknown",
        ] {
            let p = plan_for(&shop, pay).await;
            assert_eq!(p.order.state, OrderState::PendingPayment, "{pay}");
            assert_eq!(p.order.version, 1);
            let keys = put_keys(&p.txn);
            assert!(
                keys.contains(&"/dfood/work/payments/trattoria-1".to_string()),
                "{pay}: {keys:?}"
            );
            assert!(
                !keys.iter().any(|k| k.starts_with("/dfood/sandbox/")),
                "{pay}: {keys:?}"
            );
        }
    }

    #[tokio::test]
    async fn of_two_placements_planned_on_the_same_reads_one_commits() {
        let shop = shop().await;
        let a = plan_for(&shop, "pm_card_visa").await;
        let mut other = request("pm_card_visa");
        other.idempotency_key = "key-00000002".into();
        let inputs = read_inputs(shop.store.as_ref(), R).await.unwrap();
        let b = plan(
            &inputs,
            &other,
            "/dfood/idem/usr_1/key-00000002",
            ("usr_1", "cleo"),
            &shop.gateway,
            &Limits::default(),
            1_000,
        )
        .unwrap();
        assert_eq!(b.order.id, a.order.id, "same ticket from the same reads");
        assert!(shop.store.txn(a.txn).await.unwrap().succeeded);
        assert!(!shop.store.txn(b.txn).await.unwrap().succeeded);
        // The loser wrote nothing, its payment included.
        assert_eq!(shop.gateway.payments().await.unwrap().len(), 1);
        assert!(
            shop.store
                .get("/dfood/idem/usr_1/key-00000002")
                .await
                .unwrap()
                .is_none()
        );
        // Read again, it takes the next ticket.
        let inputs = read_inputs(shop.store.as_ref(), R).await.unwrap();
        assert_eq!(inputs.last_ticket, 1);
    }

    /// Counts the store's reads.
    #[derive(Default)]
    struct Reads(std::sync::atomic::AtomicUsize);

    impl crate::store::instrumented::Observer for Reads {
        fn observe(&self, op: &'static str, _: &'static str, _: Duration) {
            if op == "get" || op == "range" {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Writes the restaurant document with `change` applied, as staff
    /// would (the node that places learns it only from its compares).
    async fn staff_change(
        store: &dyn Store,
        key: &str,
        change: impl FnOnce(&mut serde_json::Value),
    ) {
        let mut doc: serde_json::Value = stored(store, key).await;
        change(&mut doc);
        store
            .txn(Txn::new().and_then([TxnOp::put(key, to_doc(&doc).unwrap())]))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn placements_plan_on_what_the_last_one_left_and_stale_guesses_are_read_again() {
        let shop = shop().await;
        let reads = Arc::new(Reads::default());
        let store =
            crate::store::instrumented::InstrumentedStore::wrap(shop.store.clone(), reads.clone());
        let deps = crate::ctx::Deps::for_tests(
            store.clone(),
            shop._dir.path(),
            Arc::new(crate::clock::SystemClock),
        );
        let ctx = deps.ctx(None, None);
        let who = |_fresh| {
            std::future::ready(Ok(Customer {
                id: "usr_1".into(),
                username: "cleo".into(),
                guard: None,
            }))
        };
        let place = |key: &str, lines: Vec<LineRequest>| {
            let mut req = request("pm_card_visa");
            req.idempotency_key = key.into();
            req.lines = lines;
            let idem = idem_key("usr_1", key);
            async move { commit(&ctx, &req, &idem, who).await }
        };
        let tiramisu = || vec![line("tiramisu", 1, &[])];
        let new = |c: ApiResult<(Committed, u32)>| match c.unwrap() {
            (Committed::New(o), lost) => (*o, lost),
            other => panic!("not a new order: {other:?}"),
        };

        // The first placement reads; the next one reads nothing at all.
        let (o1, _) = new(place("key-00000001", tiramisu()).await);
        assert!(reads.0.load(Ordering::Relaxed) > 0);
        reads.0.store(0, Ordering::Relaxed);
        let (o2, lost) = new(place("key-00000002", tiramisu()).await);
        assert_eq!(
            reads.0.load(Ordering::Relaxed),
            0,
            "planned on what the first left"
        );
        assert_eq!((o1.ticket, o2.ticket, lost), (1, 2, 0));
        let s: StockDoc = stored(shop.store.as_ref(), &stock_key(R)).await;
        assert_eq!(s.units["tiramisu"], 3, "both took their stock");

        // Staff raise a price: the remembered menu is stale, the commit's
        // compare says so, the placement reads and pays the new price.
        staff_change(shop.store.as_ref(), &menu_key(R), |m| {
            m["items"][1]["price"] = serde_json::json!(250)
        })
        .await;
        let (o3, lost) = new(place("key-00000003", vec![line("water", 1, &[])]).await);
        assert_eq!((o3.ticket, o3.total, lost), (3, 250, 1));
        assert!(reads.0.load(Ordering::Relaxed) > 0);

        // Another node takes a ticket: the next placement here does not
        // reuse it.
        let inputs = read_inputs(shop.store.as_ref(), R).await.unwrap();
        let mut req = request("pm_card_visa");
        req.idempotency_key = "key-elsewhere".into();
        req.lines = tiramisu();
        let elsewhere = plan(
            &inputs,
            &req,
            &idem_key("usr_2", "key-elsewhere"),
            ("usr_2", "dora"),
            &shop.gateway,
            &Limits::default(),
            1_000,
        )
        .unwrap();
        assert!(shop.store.txn(elsewhere.txn).await.unwrap().succeeded);
        let (o5, lost) = new(place("key-00000005", tiramisu()).await);
        assert_eq!((o5.ticket, lost), (5, 1));
        let s: StockDoc = stored(shop.store.as_ref(), &stock_key(R)).await;
        assert_eq!(s.units["tiramisu"], 1, "stock taken by each, once");

        // A retry of an earlier key finds its order, not a lost race.
        match place("key-00000002", tiramisu()).await.unwrap() {
            (Committed::Existing(id), 0) => assert_eq!(id, o2.id),
            other => panic!("{other:?}"),
        }

        // No refusal on remembered inputs: closed, then opened again by
        // staff, the restaurant takes the order although this node last
        // saw it closed.
        staff_change(shop.store.as_ref(), &catalog::restaurant_key(R), |r| {
            r["open"] = serde_json::json!(false)
        })
        .await;
        let e = place("key-00000006", tiramisu()).await.unwrap_err();
        assert!(e.message.contains("closed"), "{e}");
        staff_change(shop.store.as_ref(), &catalog::restaurant_key(R), |r| {
            r["open"] = serde_json::json!(true)
        })
        .await;
        let (o6, _) = new(place("key-00000006", tiramisu()).await);
        assert_eq!(o6.ticket, 6);
        // ... and sold out is never said from memory either.
        let e = place("key-00000007", vec![line("tiramisu", 2, &[])])
            .await
            .unwrap_err();
        assert!(e.message.contains("tiramisu"), "{e}");
        let orders = shop.store.range("/dfood/orders/").await.unwrap().kvs;
        assert_eq!(orders.len(), 6, "one order per committed placement");
    }
}

//! Placement: one store transaction checks the restaurant is open, the
//! items are available at the prices the customer saw, and the stock is
//! there; takes the next ticket number, decrements stock, writes the order,
//! its event, the customer index and the idempotency key — all or nothing.
//! Then the payment is authorised (outside the transaction: it is a call to
//! the gateway) and the order moves to `placed` or `payment_failed`.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::messages::catalog::{MenuItem, Restaurant};
use protocol::messages::orders::*;

use super::{customer_index_key, event_op, load, order_key, payment_work_key};
use crate::api::{ApiError, ApiResult, Ctx, to_doc};
use crate::catalog::{self, MenuDoc, StockDoc, Versioned, menu_key, stock_key, unchanged};
use crate::store::{Compare, Txn, TxnOp};

pub const MAX_LINES: usize = 50;
pub const MAX_QTY: u32 = 99;

fn tickets_key(r: &str) -> String {
    format!("/dfood/tickets/{r}")
}

fn idem_key(customer: &str, key: &str) -> String {
    format!("/dfood/idem/{customer}/{key}")
}

pub fn money(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
}

/// Checks the request's shape before touching the store.
pub fn validate(req: &PlaceOrder) -> ApiResult<()> {
    catalog::validate_restaurant_id(&req.restaurant)?;
    if req.lines.is_empty() {
        return Err(ApiError::bad_request("an order needs at least one item"));
    }
    if req.lines.len() > MAX_LINES {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_LINES} lines per order"
        )));
    }
    for l in &req.lines {
        if l.qty == 0 || l.qty > MAX_QTY {
            return Err(ApiError::bad_request(format!(
                "quantity of {} must be 1 to {MAX_QTY}, not {}",
                l.sku, l.qty
            )));
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
    if req.payment_method.is_empty()
        || req.payment_method.len() > 100
        || req.payment_method.chars().any(char::is_whitespace)
    {
        return Err(ApiError::bad_request(
            "payment method must be a token like pm_card_visa",
        ));
    }
    if req.note.chars().count() > 500 {
        return Err(ApiError::bad_request(
            "the note is limited to 500 characters",
        ));
    }
    Ok(())
}

/// Prices the lines against the menu and stock; every refusal names the
/// item. Returns the priced lines and the stock after this order.
pub fn price_lines(
    restaurant: &Restaurant,
    menu: &MenuDoc,
    stock: &StockDoc,
    lines: &[LineRequest],
) -> ApiResult<(Vec<OrderLine>, StockDoc)> {
    let r = &restaurant.id;
    let mut out = Vec::new();
    let mut need: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines {
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
        for code in &l.modifiers {
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
            unit += m.price;
            names.push(m.name.clone());
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
        *need.entry(item.sku.as_str()).or_default() += i64::from(l.qty);
        out.push(OrderLine {
            sku: item.sku.clone(),
            name: item.name.clone(),
            qty: l.qty,
            unit_price: unit,
            modifiers: names,
            station: item.station.clone(),
            allergens: item.allergens.clone(),
        });
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

pub async fn place(ctx: &Ctx<'_>, req: PlaceOrder) -> ApiResult<Order> {
    let p = ctx.principal().await?;
    validate(&req)?;
    let state = ctx.state;
    let store = state.store.as_ref();
    let idem = idem_key(&p.user_id, &req.idempotency_key);
    for attempt in 0..200u32 {
        if let Some(kv) = store.get(&idem).await? {
            let id = String::from_utf8_lossy(&kv.value).into_owned();
            return settled(ctx, &id).await;
        }
        let restaurant = catalog::get_restaurant(store, &req.restaurant).await?;
        if !restaurant.value.open {
            return Err(ApiError::conflict(format!(
                "{} is closed",
                restaurant.value.name
            )));
        }
        let menu: Versioned<MenuDoc> = catalog::read(store, &menu_key(&req.restaurant)).await?;
        let stock: Versioned<StockDoc> = catalog::read(store, &stock_key(&req.restaurant)).await?;
        let (lines, stock_after) =
            price_lines(&restaurant.value, &menu.value, &stock.value, &req.lines)?;
        let tickets = store.get(&tickets_key(&req.restaurant)).await?;
        let (last, tickets_rev) = match &tickets {
            Some(kv) => (
                String::from_utf8_lossy(&kv.value)
                    .parse::<u64>()
                    .map_err(|_| ApiError::internal("damaged ticket counter"))?,
                kv.mod_revision,
            ),
            None => (0, 0),
        };
        let ticket = last + 1;
        let id = format!("{}-{ticket}", req.restaurant);
        let now = catalog::now_ms();
        let total = lines.iter().map(|l| l.unit_price * i64::from(l.qty)).sum();
        let order = Order {
            id: id.clone(),
            restaurant: req.restaurant.clone(),
            ticket,
            customer_id: p.user_id.clone(),
            customer: p.username.clone(),
            lines,
            note: req.note.trim().to_string(),
            total,
            currency: restaurant.value.currency.clone(),
            state: OrderState::PendingPayment,
            reason: None,
            rush: false,
            payment: Payment {
                state: PaymentState::Authorizing,
                method: req.payment_method.clone(),
                gateway: state.gateway.name().to_string(),
                gateway_ref: None,
                last4: None,
                amount: total,
                captured: 0,
                refunded: 0,
                error: None,
            },
            created_at: now,
            updated_at: now,
            version: 1,
            revision: 0,
        };
        let mut compares = vec![
            Compare::absent(&idem),
            Compare::mod_revision(
                catalog::restaurant_key(&req.restaurant),
                restaurant.mod_revision,
            ),
            unchanged(&menu_key(&req.restaurant), menu.mod_revision),
            unchanged(&tickets_key(&req.restaurant), tickets_rev),
        ];
        let mut ops = vec![
            TxnOp::put(tickets_key(&req.restaurant), ticket.to_string()),
            TxnOp::put(order_key(&id)?, to_doc(&order)?),
            TxnOp::put(&idem, id.clone()),
            TxnOp::put(customer_index_key(&p.user_id, &id), Vec::new()),
            TxnOp::put(payment_work_key(&id), now.to_string()),
            event_op(&order)?,
        ];
        if stock_after != stock.value {
            compares.push(unchanged(&stock_key(&req.restaurant), stock.mod_revision));
            ops.push(TxnOp::put(
                stock_key(&req.restaurant),
                to_doc(&stock_after)?,
            ));
        }
        let resp = store.txn(Txn::new().when(compares).and_then(ops)).await?;
        if resp.succeeded {
            super::pay::drive(state, &id, &[]).await?;
            return settled(ctx, &id).await;
        }
        // Another placement took the ticket (or changed stock/menu): again,
        // after a short, growing, jittered pause so racers spread out.
        let jitter = (catalog::now_ms() ^ u64::from(attempt).wrapping_mul(2654435761)) % 5;
        tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(10)) + jitter)).await;
    }
    Err(ApiError::unavailable(
        "too many concurrent orders at this restaurant; try again",
    ))
}

/// The order as the customer should see it after placement: waits a little
/// while its payment is being confirmed; a declined payment is an error.
async fn settled(ctx: &Ctx<'_>, id: &str) -> ApiResult<Order> {
    // Short enough that a client with the default 5 s timeout hears
    // "pending_payment" rather than timing out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (o, _) = load(ctx.state, id).await?;
        match o.state {
            OrderState::PaymentFailed => {
                return Err(ApiError::payment_declined(format!(
                    "payment for order {id} failed: {}; the order was not placed",
                    o.payment.error.as_deref().unwrap_or("declined")
                )));
            }
            OrderState::PendingPayment if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return Ok(o),
        }
    }
}

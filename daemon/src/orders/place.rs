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
use std::time::Duration;

use protocol::messages::catalog::{MenuItem, Restaurant};
use protocol::messages::orders::*;

use super::state::{self, Action};
use super::{customer_index_key, event_op, expiry_work_key, order_key, payment_work_key};
use crate::catalog::{self, MenuDoc, StockDoc, Versioned, menu_key, stock_key, unchanged};
use crate::ctx::Ctx;
use crate::payments::Gateway;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, KeyValue, Revision, Store, Txn, TxnOp};

pub const MAX_LINES: usize = 50;
pub const MAX_QTY: u32 = 99;

pub fn tickets_key(r: &str) -> String {
    format!("/dfood/tickets/{r}")
}

pub fn idem_key(customer: &str, key: &str) -> String {
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

/// What a placement decides on, read before its transaction.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub restaurant: Versioned<Restaurant>,
    pub menu: Versioned<MenuDoc>,
    pub stock: Versioned<StockDoc>,
    /// The last ticket number given out (0: none yet).
    pub last_ticket: u64,
    /// The ticket counter's mod revision (0: absent).
    pub tickets_rev: Revision,
}

/// A document and its mod revision; a missing key is the default at 0.
fn versioned<T: serde::de::DeserializeOwned + Default>(
    key: &str,
    kv: Option<KeyValue>,
) -> ApiResult<Versioned<T>> {
    Ok(match kv {
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
    let restaurant = match restaurant {
        Some(kv) => Versioned {
            value: from_doc(&rk, &kv.value)?,
            mod_revision: kv.mod_revision,
        },
        None => return Err(ApiError::not_found(format!("no restaurant {r:?}"))),
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
        restaurant,
        menu: versioned(&mk, menu)?,
        stock: versioned(&sk, stock)?,
        last_ticket,
        tickets_rev,
    })
}

/// The placement transaction and the order it writes.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The order as written (`revision` 0 until committed).
    pub order: Order,
    pub txn: Txn,
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
    )?;
    let ticket = inputs.last_ticket + 1;
    let id = format!("{r}-{ticket}");
    let total = lines.iter().map(|l| l.unit_price * i64::from(l.qty)).sum();
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
        version: 1,
        revision: 0,
    };
    let mut compares = vec![
        Compare::absent(idem),
        Compare::mod_revision(catalog::restaurant_key(r), inputs.restaurant.mod_revision),
        unchanged(&menu_key(r), inputs.menu.mod_revision),
        unchanged(&tickets_key(r), inputs.tickets_rev),
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
            // The payment step is left in flight, for `pay::drive`.
            ops.push(TxnOp::put(payment_work_key(&id), now.to_string()));
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
    if take_stock {
        compares.push(unchanged(&stock_key(r), inputs.stock.mod_revision));
        ops.push(TxnOp::put(stock_key(r), to_doc(&stock_after)?));
    }
    Ok(Placement {
        order: written,
        txn: Txn::new().when(compares).and_then(ops),
    })
}

pub async fn place(ctx: &Ctx<'_>, req: PlaceOrder) -> ApiResult<Order> {
    // The token's signature first (no store read); the account is read
    // alongside the placement's own reads.
    let claims = ctx.claims().await?;
    validate(&req)?;
    let idem = idem_key(&claims.sub, &req.idempotency_key);
    let identity = ctx.identity();
    let customer = async {
        let p = identity.principal_for(&claims).await?;
        Ok((p.user_id, p.username))
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

/// What [`commit`] did.
#[derive(Debug)]
pub enum Committed {
    /// The idempotency key had already made this order.
    Existing(String),
    /// This placement wrote the order (its `revision` set).
    New(Box<Order>),
}

/// The placement loop, shared by `order.place` and `dfoodd-bench`: take
/// this node's turn at the restaurant, read (with `customer`, the caller's
/// (user id, username), resolved alongside the first reads), plan, commit;
/// after a lost race, pause briefly and go again. Returns what happened
/// and how many races were lost on the way.
pub async fn commit(
    ctx: &Ctx<'_>,
    req: &PlaceOrder,
    idem: &str,
    customer: impl std::future::Future<Output = ApiResult<(String, String)>>,
) -> ApiResult<(Committed, u32)> {
    let store = ctx.store;
    let reads = || async {
        futures::try_join!(
            async { Ok::<_, ApiError>(store.get(idem).await?) },
            read_inputs(store, &req.restaurant)
        )
    };
    let mut turn = Some(ctx.placing.enter(&req.restaurant).await);
    let (customer, mut read) = futures::try_join!(customer, reads())?;
    for attempt in 0..200u32 {
        if attempt > 0 {
            turn = Some(ctx.placing.enter(&req.restaurant).await);
            read = reads().await?;
        }
        let (existing, inputs) = &read;
        if let Some(kv) = existing {
            let id = String::from_utf8_lossy(&kv.value).into_owned();
            return Ok((Committed::Existing(id), attempt));
        }
        let placement = plan(
            inputs,
            req,
            idem,
            (&customer.0, &customer.1),
            ctx.gateway,
            ctx.now_ms(),
        )?;
        let resp = store.txn(placement.txn).await?;
        // The next placement here may go: the ticket is taken (or lost).
        drop(turn.take());
        if resp.succeeded {
            let mut o = placement.order;
            o.revision = u64::try_from(resp.revision).unwrap_or(0);
            return Ok((Committed::New(Box::new(o)), attempt));
        }
        // Another placement took the ticket (or changed stock/menu): again,
        // after a short, growing, jittered pause so racers spread out.
        let jitter = (ctx.now_ms() ^ u64::from(attempt).wrapping_mul(2654435761)) % 5;
        tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(10)) + jitter)).await;
    }
    Err(ApiError::unavailable(
        "too many concurrent orders at this restaurant; try again",
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
mod tests {
    use std::sync::Arc;

    use protocol::messages::catalog::{MenuItem, Restaurant};

    use super::*;
    use crate::orders::pay::authorize_request;
    use crate::payments::sandbox::SandboxGateway;
    use crate::payments::{GatewayError, GatewayStatus};
    use crate::store::embedded::EmbeddedStore;

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
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = EmbeddedStore::open(&dir.path().join("s.redb")).unwrap();
        let restaurant = Restaurant {
            id: R.into(),
            name: "Trattoria".into(),
            currency: "EUR".into(),
            open: true,
            acceptance_timeout_secs: 600,
            created_at: 1,
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
            .txn(Txn::new().and_then([
                TxnOp::put(catalog::restaurant_key(R), to_doc(&restaurant).unwrap()),
                TxnOp::put(menu_key(R), to_doc(&menu).unwrap()),
                TxnOp::put(stock_key(R), to_doc(&stock).unwrap()),
            ]))
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
}

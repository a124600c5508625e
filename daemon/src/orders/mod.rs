//! Orders: placement, the kitchen's transitions, cancellation, refunds, and
//! the payment steps that ride on them.
//!
//! Store layout (restaurant `R`, order `O` = `R-<ticket>`, customer `U`):
//! - `/dfood/orders/R/O` — the [`Order`], payment included;
//! - `/dfood/tickets/R` — the last ticket number given out;
//! - `/dfood/idem/U/<key>` — the order a placement idempotency key made;
//! - `/dfood/customer-orders/U/O` — index of a customer's orders;
//! - `/dfood/events/R/O/<version>` — the order's events (the order after
//!   each change), written in the same transaction as the change;
//! - `/dfood/work/payments/O` — the order has a payment step in flight;
//! - `/dfood/work/expiry/O` — the order awaits acceptance until the deadline
//!   in the value (unix ms);
//! - `/dfood/pending/U/O` — the customer's order waits for its payment
//!   (written with `work/payments/O` by a placement, deleted when the
//!   authorisation settles), and `/dfood/pending-guard/U`, bumped by each
//!   such placement: the quota of orders waiting for payment at once.
//!
//! Every change is a compare-and-swap on the order's mod revision; a lost
//! race re-reads and re-decides, so two kitchens bumping one ticket get one
//! success and one "cannot ... an order that is ..." refusal.

pub mod history;
pub mod pay;
pub mod place;
pub mod retention;
pub mod state;
pub mod worker;

use protocol::messages::Event;
use protocol::messages::history::types::{HISTORY, ITEMS, SALES};
use protocol::messages::orders::*;
use protocol::wire::Request;

use crate::catalog::{self, StockDoc, events_prefix, stock_key, unchanged};
use crate::ctx::Ctx;
use crate::rpc::{self as api, ApiError, ApiResult, Principal, from_doc, to_doc};
use crate::store::{Compare, Revision, Store, Txn, TxnOp, wire_revision};
use state::Action;

/// Every order is under it (`/dfood/orders/R/O`).
pub const ORDERS_PREFIX: &str = "/dfood/orders/";

pub fn order_key(order: &str) -> ApiResult<String> {
    Ok(format!("{ORDERS_PREFIX}{}/{order}", restaurant_of(order)?))
}

/// `trattoria-42` → `trattoria`.
pub fn restaurant_of(order: &str) -> ApiResult<&str> {
    match order.rsplit_once('-') {
        Some((r, t)) if !r.is_empty() && t.parse::<u64>().is_ok() => Ok(r),
        _ => Err(ApiError::bad_request(format!(
            "{order:?} is not an order id (like trattoria-42)"
        ))),
    }
}

pub fn payment_work_key(order: &str) -> String {
    format!("/dfood/work/payments/{order}")
}
/// Every expiry marker is under it (`/dfood/work/expiry/O`).
pub const EXPIRY_WORK_PREFIX: &str = "/dfood/work/expiry/";
pub fn expiry_work_key(order: &str) -> String {
    format!("{EXPIRY_WORK_PREFIX}{order}")
}

/// The order id at the end of a key that ends in one (an order's, a work
/// marker's, an index entry's).
pub fn order_id_in(key: &str) -> String {
    key.rsplit('/').next().unwrap_or_default().to_string()
}
pub fn customer_index_key(customer: &str, order: &str) -> String {
    format!("/dfood/customer-orders/{customer}/{order}")
}

/// A customer's order waiting for its payment (key per order; see
/// [`pending_guard_key`]). Written by a placement that leaves the payment
/// step in flight, deleted by the transaction that settles it.
pub fn pending_key(customer: &str, order: &str) -> String {
    format!("/dfood/pending/{customer}/{order}")
}

/// Bumped by every placement that adds a [`pending_key`] of `customer`,
/// so that two placements cannot both take the last free place.
pub fn pending_guard_key(customer: &str) -> String {
    format!("/dfood/pending-guard/{customer}")
}

/// The event written with an order change.
pub fn event_op(order: &Order) -> ApiResult<TxnOp> {
    let ev = Event {
        kind: format!("order.{}", order.state),
        subject: order.id.clone(),
        data: serde_json::to_value(order).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    Ok(TxnOp::put(
        format!(
            "{}{}/{:06}",
            events_prefix(&order.restaurant),
            order.id,
            order.version
        ),
        to_doc(&ev)?,
    ))
}

/// Reads an order with its mod revision.
pub async fn load(store: &dyn Store, order: &str) -> ApiResult<(Order, Revision)> {
    let key = order_key(order)?;
    let kv = store
        .get(&key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order {order}")))?;
    let mut o: Order = from_doc(&key, &kv.value)?;
    o.revision = wire_revision(kv.mod_revision);
    Ok((o, kv.mod_revision))
}

/// Who may see an order: its customer, staff of its restaurant, operators.
async fn may_read(ctx: &Ctx<'_>, p: &Principal, o: &Order) -> ApiResult<()> {
    if p.operator || o.customer_id == p.user_id {
        return Ok(());
    }
    if catalog::staff_role(ctx.store, &o.restaurant, &p.user_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    // Do not reveal that someone else's order exists.
    Err(ApiError::not_found(format!("no order {}", o.id)))
}

/// Gives reserved stock back, as ops for the transaction that frees it.
pub async fn restock_ops(store: &dyn Store, o: &Order) -> ApiResult<(Vec<Compare>, Vec<TxnOp>)> {
    let key = stock_key(&o.restaurant);
    let stock: catalog::Versioned<StockDoc> = catalog::read(store, &key).await?;
    let mut s = stock.value.clone();
    for line in &o.lines {
        if let Some(units) = s.units.get_mut(&line.sku) {
            *units += i64::from(line.qty);
        }
    }
    if s == stock.value {
        return Ok((vec![], vec![]));
    }
    Ok((
        vec![unchanged(&key, stock.mod_revision)],
        vec![TxnOp::put(key, to_doc(&s)?)],
    ))
}

/// Applies `action` to the order with compare-and-swap, re-deciding after a
/// lost race. `allowed` checks the caller against the current order.
pub async fn transition(
    ctx: &Ctx<'_>,
    order_id: &str,
    action: Action,
    reason: Option<String>,
    allowed: impl Fn(&Order) -> ApiResult<()>,
    fence: &[Compare],
) -> ApiResult<Order> {
    for _ in 0..64 {
        let (cur, rev) = load(ctx.store, order_id).await?;
        allowed(&cur)?;
        let outcome = state::next(cur.state, action).map_err(ApiError::conflict)?;
        let mut next = cur.clone();
        next.state = outcome.state;
        next.version += 1;
        next.updated_at = ctx.now_ms();
        next.revision = 0;
        let now = next.updated_at;
        stamp(&mut next, cur.state, now);
        if reason.is_some() {
            next.reason = reason.clone();
        }
        let key = order_key(order_id)?;
        let mut compares = vec![Compare::mod_revision(&key, rev)];
        compares.extend_from_slice(fence);
        let mut ops = vec![];
        if let Some(intent) = outcome.payment {
            match (intent, cur.payment.state) {
                (PaymentState::Capturing, PaymentState::Authorized)
                | (PaymentState::Voiding, PaymentState::Authorized) => {
                    next.payment.state = intent;
                    ops.push(TxnOp::put(
                        payment_work_key(order_id),
                        ctx.now_ms().to_string(),
                    ));
                }
                // An order whose acceptance was recalled has its money
                // captured: letting it go refunds instead of voiding.
                (PaymentState::Voiding, PaymentState::Captured) => {
                    next.payment.state = PaymentState::Refunding;
                    ops.push(TxnOp::put(
                        payment_work_key(order_id),
                        ctx.now_ms().to_string(),
                    ));
                }
                // Nothing to capture or void (e.g. the authorisation failed).
                _ => {}
            }
        }
        if outcome.restock {
            let (c, o) = restock_ops(ctx.store, &cur).await?;
            compares.extend(c);
            ops.extend(o);
        }
        if cur.state == OrderState::Placed {
            ops.push(TxnOp::delete(expiry_work_key(order_id)));
        }
        if next.state == OrderState::Placed && cur.state == OrderState::Accepted {
            // A recalled acceptance: new again, with a fresh deadline.
            let r = crate::catalog::get_restaurant(ctx.store, &cur.restaurant).await?;
            let deadline = next.updated_at + r.value.acceptance_timeout_secs * 1000;
            ops.push(TxnOp::put(expiry_work_key(order_id), deadline.to_string()));
        }
        ops.push(TxnOp::put(&key, to_doc(&next)?));
        ops.push(event_op(&next)?);
        let resp = ctx
            .store
            .txn(Txn::new().when(compares).and_then(ops))
            .await?;
        if resp.succeeded {
            next.revision = wire_revision(resp.revision);
            if outcome.payment.is_some() && next.payment.state != cur.payment.state {
                // Finish the money step now; if this fails, the worker will.
                return Ok(pay::drive(ctx, order_id, fence).await.unwrap_or(next));
            }
            return Ok(next);
        }
        if !fence.is_empty() && !crate::store::fence_holds(ctx.store, fence).await {
            return Err(ApiError::conflict("no longer the leader"));
        }
    }
    Err(ApiError::unavailable(format!(
        "order {order_id} is changing too fast; try again"
    )))
}

/// Keeps the state times and the lines' kitchen state true after a step
/// from `from` to `o.state` at `now`.
fn stamp(o: &mut Order, from: OrderState, now: u64) {
    use OrderState as S;
    match (from, o.state) {
        (S::Placed, S::Accepted) => o.accepted_at = Some(now),
        (S::Accepted, S::Placed) => o.accepted_at = None,
        (S::Preparing, S::Ready) => {
            o.ready_at = Some(now);
            for l in &mut o.lines {
                l.ready_at.get_or_insert(now);
            }
        }
        (S::Ready, S::Completed) => o.completed_at = Some(now),
        (S::Completed, S::Ready) => o.completed_at = None,
        (S::Ready, S::Preparing) => {
            o.ready_at = None;
            for l in &mut o.lines {
                l.ready_at = None;
            }
        }
        _ => {}
    }
}

/// Refuses a step on an order that moved since the caller saw it at
/// `expected` ("#6 was accepted on another screen").
pub fn guard_version(o: &Order, expected: Option<u64>) -> ApiResult<()> {
    match expected {
        Some(v) if v != o.version => Err(ApiError::conflict(format!(
            "#{} changed on another screen (it is {} now, version {}; you saw version {v}): nothing was done",
            o.ticket, o.state, o.version
        ))),
        _ => Ok(()),
    }
}

async fn kitchen(
    ctx: &Ctx<'_>,
    order: &str,
    action: Action,
    reason: Option<String>,
    expected: Option<u64>,
) -> ApiResult<Order> {
    let r = restaurant_of(order)?;
    catalog::require_staff(ctx, r).await?;
    transition(
        ctx,
        order,
        action,
        reason,
        |o| guard_version(o, expected),
        &[],
    )
    .await
}

/// `order.station_ready`: one station's lines ready (or not); the order
/// starts preparing with its first station bump and is ready with its
/// last.
async fn station_ready(ctx: &Ctx<'_>, req: StationReady) -> ApiResult<Order> {
    let r = restaurant_of(&req.order)?;
    catalog::require_staff(ctx, r).await?;
    protocol::text::check("the station", &req.station, protocol::text::STATION)
        .map_err(ApiError::bad_request)?;
    let station = req.station.trim();
    update(ctx, &req.order, |cur, now| {
        guard_version(cur, req.expected_version)?;
        if !cur.lines.iter().any(|l| l.station == station) {
            return Err(ApiError::conflict(format!(
                "#{} has no line for station {:?}",
                cur.ticket, station
            )));
        }
        if !matches!(
            cur.state,
            OrderState::Accepted | OrderState::Preparing | OrderState::Ready
        ) {
            return Err(ApiError::conflict(format!(
                "cannot bump a station of an order that is {}",
                cur.state
            )));
        }
        let mut next = cur.clone();
        for l in next.lines.iter_mut().filter(|l| l.station == station) {
            l.ready_at = if req.ready {
                l.ready_at.or(Some(now))
            } else {
                None
            };
        }
        let all_ready = next.lines.iter().all(|l| l.ready_at.is_some());
        next.state = match (req.ready, all_ready) {
            (true, true) => OrderState::Ready,
            (true, false) => OrderState::Preparing,
            (false, _) if cur.state == OrderState::Accepted => OrderState::Accepted,
            (false, _) => OrderState::Preparing,
        };
        if next.state == OrderState::Ready && cur.state != OrderState::Ready {
            next.ready_at = Some(now);
        }
        if next.state != OrderState::Ready {
            next.ready_at = None;
        }
        if next.lines == cur.lines && next.state == cur.state {
            return Ok(None);
        }
        Ok(Some((next, vec![])))
    })
    .await
}

/// One compare-and-swap change of an order that is not a step of the
/// state machine (a station's bump, the rush flag, a refund's start):
/// `change` sees the order as stored and the time, and answers the order
/// to write with the other writes that go with it, or `None` when there is
/// nothing to change (the order is answered as it is). The version is
/// bumped, `updated_at` stamped, and the order written with its event if
/// it is still as read; otherwise it is read again and `change` asked
/// again.
async fn update(
    ctx: &Ctx<'_>,
    order: &str,
    change: impl Fn(&Order, u64) -> ApiResult<Option<(Order, Vec<TxnOp>)>>,
) -> ApiResult<Order> {
    let key = order_key(order)?;
    for _ in 0..64 {
        let (cur, rev) = load(ctx.store, order).await?;
        let now = ctx.now_ms();
        let Some((mut next, also)) = change(&cur, now)? else {
            return Ok(cur);
        };
        next.version += 1;
        next.updated_at = now;
        next.revision = 0;
        let mut ops = vec![TxnOp::put(&key, to_doc(&next)?)];
        ops.extend(also);
        ops.push(event_op(&next)?);
        let resp = ctx
            .store
            .txn(
                Txn::new()
                    .when([Compare::mod_revision(&key, rev)])
                    .and_then(ops),
            )
            .await?;
        if resp.succeeded {
            next.revision = wire_revision(resp.revision);
            return Ok(next);
        }
    }
    Err(ApiError::unavailable(
        "order is changing too fast; try again",
    ))
}

async fn recall(ctx: &Ctx<'_>, req: RecallOrder) -> ApiResult<Order> {
    let r = restaurant_of(&req.order)?;
    catalog::require_staff(ctx, r).await?;
    let now = ctx.now_ms();
    transition(
        ctx,
        &req.order,
        Action::Recall,
        None,
        |o| {
            guard_version(o, req.expected_version)?;
            if o.state != req.state {
                return Err(ApiError::conflict(format!(
                    "cannot recall #{}: it is {} now, not {} (someone moved it meanwhile)",
                    o.ticket, o.state, req.state
                )));
            }
            if o.state == OrderState::Accepted && o.payment.state == PaymentState::Capturing {
                return Err(ApiError::conflict(format!(
                    "cannot recall #{} yet: its payment is being captured; try again in a moment",
                    o.ticket
                )));
            }
            if now.saturating_sub(o.updated_at) > RECALL_WINDOW_SECS * 1000 {
                return Err(ApiError::conflict(format!(
                    "cannot recall #{}: its last step was more than {RECALL_WINDOW_SECS} s ago",
                    o.ticket
                )));
            }
            Ok(())
        },
        &[],
    )
    .await
}

async fn rush(ctx: &Ctx<'_>, req: RushOrder) -> ApiResult<Order> {
    let r = restaurant_of(&req.order)?;
    catalog::require_staff(ctx, r).await?;
    update(ctx, &req.order, |cur, _| {
        if cur.rush == req.rush {
            return Ok(None);
        }
        if cur.state.is_terminal() {
            return Err(ApiError::conflict(format!(
                "cannot rush an order that is {}",
                cur.state
            )));
        }
        let mut next = cur.clone();
        next.rush = req.rush;
        Ok(Some((next, vec![])))
    })
    .await
}

async fn cancel(ctx: &Ctx<'_>, order: &str, expected: Option<u64>) -> ApiResult<Order> {
    let p = ctx.principal().await?;
    transition(
        ctx,
        order,
        Action::Cancel,
        Some("cancelled by the customer".into()),
        |o| {
            if o.customer_id == p.user_id {
                guard_version(o, expected)
            } else {
                Err(ApiError::not_found(format!("no order {order} of yours")))
            }
        },
        &[],
    )
    .await
}

async fn refund(ctx: &Ctx<'_>, order: &str, expected: Option<u64>) -> ApiResult<Order> {
    let r = restaurant_of(order)?;
    catalog::require_manager(ctx, r).await?;
    update(ctx, order, |cur, now| {
        guard_version(cur, expected)?;
        if cur.payment.state != PaymentState::Captured {
            return Err(ApiError::conflict(format!(
                "cannot refund order {order}: its payment is {:?}, not captured",
                cur.payment.state
            )));
        }
        let mut next = cur.clone();
        next.payment.state = PaymentState::Refunding;
        // The refund is a payment step in flight until the gateway says.
        let work = TxnOp::put(payment_work_key(order), now.to_string());
        Ok(Some((next, vec![work])))
    })
    .await?;
    pay::drive(ctx, order, &[]).await
}

async fn get(ctx: &Ctx<'_>, order: &str) -> ApiResult<Order> {
    let p = ctx.principal().await?;
    let o = find(ctx, order).await?;
    may_read(ctx, &p, &o).await?;
    Ok(o)
}

/// An order from the hot store, or else from the archive.
pub async fn find(ctx: &Ctx<'_>, order: &str) -> ApiResult<Order> {
    match load(ctx.store, order).await {
        Ok((o, _)) => Ok(o),
        Err(e) if history::not_found(&e) => history::archived(ctx, order).await?.ok_or(e),
        Err(e) => Err(e),
    }
}

/// Bytes of orders one `order.list` page may carry: a frame, less room
/// for the envelope.
const PAGE_BYTES: usize = protocol::frame::MAX_FRAME_LEN - 64 * 1024;

/// Where a page ends: the sort key of its last order.
type Cursor = (u64, u64, String);

fn cursor_of(o: &Order) -> String {
    format!("c1.{}.{}.{}", o.created_at, o.ticket, o.id)
}

fn parse_cursor(c: &str) -> ApiResult<Cursor> {
    let bad = || ApiError::bad_request("cursor is not one this server gave out");
    let mut parts = c.splitn(4, '.');
    if parts.next() != Some("c1") {
        return Err(bad());
    }
    let created = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let ticket = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().ok_or_else(bad)?;
    if id.len() > 100 {
        return Err(bad());
    }
    Ok((created, ticket, id.to_string()))
}

/// Orders read at once by [`load_all`], the most.
const READS_AT_ONCE: usize = 64;

/// The orders of `ids` still in the hot store (in no particular order),
/// read together rather than one after the other: the etcd store sends
/// gets that wait at once as one read. An id whose order has left (it
/// was archived since its index entry was read) is left out; any other
/// error is the answer.
async fn load_all(store: &dyn Store, ids: Vec<String>) -> ApiResult<Vec<Order>> {
    use futures::StreamExt;
    async fn one(store: &dyn Store, id: String) -> ApiResult<(Order, Revision)> {
        load(store, &id).await
    }
    let mut ids = ids.into_iter();
    let mut reading = futures::stream::FuturesUnordered::new();
    let mut orders = Vec::new();
    loop {
        while reading.len() < READS_AT_ONCE {
            match ids.next() {
                Some(id) => reading.push(one(store, id)),
                None => break,
            }
        }
        match reading.next().await {
            Some(Ok((o, _))) => orders.push(o),
            Some(Err(e)) if history::not_found(&e) => {}
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok(orders)
}

/// `order.list`: one page, sorted by (created_at, ticket, id), after the
/// cursor; at most `limit` orders and [`PAGE_BYTES`] of them.
async fn list(ctx: &Ctx<'_>, req: ListOrders) -> ApiResult<OrderList> {
    let p = ctx.principal().await?;
    let limit = req.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}, not {limit}"
        )));
    }
    let after = req.cursor.as_deref().map(parse_cursor).transpose()?;
    let store = ctx.store;
    let mut orders = Vec::new();
    match &req.restaurant {
        Some(r) => {
            if !p.operator {
                catalog::require_staff(ctx, r).await?;
            }
            let range = store.range(&format!("/dfood/orders/{r}/")).await?;
            for kv in range.kvs {
                let mut o: Order = from_doc(&kv.key, &kv.value)?;
                o.revision = wire_revision(kv.mod_revision);
                orders.push(o);
            }
        }
        None => {
            let index = store
                .range(&format!("/dfood/customer-orders/{}/", p.user_id))
                .await?;
            orders = load_all(
                store,
                index.kvs.iter().map(|kv| order_id_in(&kv.key)).collect(),
            )
            .await?;
        }
    }
    if !req.states.is_empty() {
        orders.retain(|o| req.states.contains(&o.state));
    }
    if let Some((c, t, id)) = &after {
        orders.retain(|o| (o.created_at, o.ticket, &o.id) > (*c, *t, id));
    }
    orders.sort_by(|a, b| (a.created_at, a.ticket, &a.id).cmp(&(b.created_at, b.ticket, &b.id)));
    let mut page = Vec::new();
    let mut bytes = 0usize;
    let mut rest = orders.into_iter();
    let mut more = false;
    for o in rest.by_ref() {
        let size = serde_json::to_vec(&o)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .len()
            + 1;
        if page.len() == usize::try_from(limit).unwrap_or(usize::MAX)
            || (!page.is_empty() && bytes + size > PAGE_BYTES)
        {
            more = true;
            break;
        }
        bytes += size;
        page.push(o);
    }
    let next_cursor = if more {
        page.last().map(cursor_of)
    } else {
        None
    };
    Ok(OrderList {
        orders: page,
        next_cursor,
    })
}

/// Resolves a subscription topic this module owns to the store prefix to
/// watch, after checking the caller may see it.
pub async fn topic_prefix(ctx: &Ctx<'_>, topic: &str) -> Option<ApiResult<String>> {
    if let Some(r) = topic.strip_prefix("restaurant:") {
        return Some(
            async {
                let p = ctx.principal().await?;
                if !p.operator {
                    catalog::require_staff(ctx, r).await?;
                }
                Ok(events_prefix(r))
            }
            .await,
        );
    }
    if let Some(o) = topic.strip_prefix("order:") {
        return Some(
            async {
                let order = get(ctx, o).await?;
                Ok(format!("{}{}/", events_prefix(&order.restaurant), order.id))
            }
            .await,
        );
    }
    None
}

pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Option<ApiResult<serde_json::Value>> {
    Some(match req.ty.as_str() {
        types::PLACE => api::call(req, |b| place::place(ctx, b)).await,
        types::GET => api::call(req, |b: OrderRef| async move { get(ctx, &b.order).await }).await,
        types::LIST => api::call(req, |b| list(ctx, b)).await,
        types::CANCEL => {
            api::call(req, |b: OrderRef| async move {
                cancel(ctx, &b.order, b.expected_version).await
            })
            .await
        }
        types::ACCEPT => {
            api::call(req, |b: OrderRef| async move {
                kitchen(ctx, &b.order, Action::Accept, None, b.expected_version).await
            })
            .await
        }
        types::START => {
            api::call(req, |b: OrderRef| async move {
                kitchen(ctx, &b.order, Action::Start, None, b.expected_version).await
            })
            .await
        }
        types::READY => {
            api::call(req, |b: OrderRef| async move {
                kitchen(ctx, &b.order, Action::Ready, None, b.expected_version).await
            })
            .await
        }
        types::COMPLETE => {
            api::call(req, |b: OrderRef| async move {
                kitchen(ctx, &b.order, Action::Complete, None, b.expected_version).await
            })
            .await
        }
        types::REJECT => {
            api::call(req, |b: RejectOrder| async move {
                let reason = b.reason.trim();
                protocol::text::check("a rejection's reason", reason, protocol::text::REASON)
                    .map_err(ApiError::bad_request)?;
                kitchen(
                    ctx,
                    &b.order,
                    Action::Reject,
                    Some(reason.to_string()),
                    b.expected_version,
                )
                .await
            })
            .await
        }
        types::RECALL => api::call(req, |b: RecallOrder| async move { recall(ctx, b).await }).await,
        types::RUSH => api::call(req, |b: RushOrder| async move { rush(ctx, b).await }).await,
        types::STATION_READY => api::call(req, |b| station_ready(ctx, b)).await,
        HISTORY => api::call(req, |b| history::history(ctx, b)).await,
        SALES => api::call(req, |b| history::sales(ctx, b)).await,
        ITEMS => api::call(req, |b| history::items(ctx, b)).await,
        types::REFUND => {
            api::call(req, |b: OrderRef| async move {
                refund(ctx, &b.order, b.expected_version).await
            })
            .await
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{Call, Failing, GetsTogether, Hooked};

    #[tokio::test]
    async fn a_customers_orders_are_read_together_and_one_gone_is_left_out() {
        let (_dir, inner) = crate::store::testing::temp_store();
        let mut ops = Vec::new();
        for t in 1..=5 {
            let mut o = place::tests::largest_order();
            o.ticket = t;
            o.id = format!("{}-{t}", o.restaurant);
            ops.push(TxnOp::put(order_key(&o.id).unwrap(), to_doc(&o).unwrap()));
        }
        let r = place::tests::largest_order().restaurant;
        inner.txn(Txn::new().and_then(ops)).await.unwrap();
        // Five orders and one archived since: six gets, all at once.
        let ids = || (1..=6).map(|t| format!("{r}-{t}")).collect::<Vec<_>>();
        let store = Hooked {
            inner: inner.clone(),
            hooks: GetsTogether::of(6),
        };
        let mut got =
            tokio::time::timeout(std::time::Duration::from_secs(5), load_all(&store, ids()))
                .await
                .expect("the six reads go together")
                .unwrap();
        got.sort_by_key(|o| o.ticket);
        assert_eq!(
            got.iter().map(|o| o.ticket).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        // A store that cannot answer is an error, not a shorter list.
        let store = Hooked {
            inner,
            hooks: Failing(&[Call::Get]),
        };
        let e = load_all(&store, ids()).await.unwrap_err();
        assert_eq!(e.code, protocol::wire::ErrorCode::Unavailable, "{e:?}");
    }
}

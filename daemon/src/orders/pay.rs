//! Driving an order's payment step to its end.
//!
//! The step to take is written in the order (`authorizing`, `capturing`,
//! `voiding`, `refunding`) by the same transaction that made it necessary,
//! together with a `/dfood/work/payments/<order>` marker. [`drive`] calls the
//! gateway with a key derived from the order and the step
//! (`<order>:authorize`, `<order>:capture`, ...), so running it twice — on
//! two nodes, or again after a crash — asks the gateway for the same thing
//! twice, which it answers once. The result is written back with a
//! compare-and-swap; whoever loses that race finds the step already done.

use std::time::Duration;

use protocol::messages::orders::*;

use super::state::{self, Action};
use super::{event_op, load, order_key, payment_work_key, restock_ops};
use crate::ctx::Ctx;
use crate::payments::{AuthorizeRequest, GatewayError, GatewayPayment};
use crate::rpc::{ApiError, ApiResult, to_doc};
use crate::store::{Compare, Txn, TxnOp, wire_revision};

/// How long an authorisation may stay in doubt before the order is failed,
/// if the gateway, asked by idempotency key, says it has no such payment.
/// Until then (and for as long as the gateway cannot be asked at all) the
/// worker keeps asking, with the same idempotency key.
pub const AUTHORIZE_DEADLINE: Duration = Duration::from_secs(20);

const DEADLINE_MESSAGE: &str = "the payment gateway did not confirm in time";

/// Marks an order whose authorisation was given up without the gateway
/// confirming there is none: a hold may still turn up, to be voided.
pub fn orphan_key(order: &str) -> String {
    format!("/dfood/work/orphans/{order}")
}

/// Looks for a hold made for an order that was failed at the deadline and
/// voids it. Returns true when there is nothing left to watch for.
pub async fn void_orphan(ctx: &Ctx<'_>, order_id: &str, since_ms: u64) -> bool {
    let gw = ctx.gateway;
    match gw
        .find_by_idempotency_key(&key(order_id, "authorize"))
        .await
    {
        Ok(Some(p)) if p.status == crate::payments::GatewayStatus::RequiresCapture => {
            match gw.void(&p.id, &key(order_id, "void-orphan")).await {
                Ok(_) => {
                    tracing::warn!(order = order_id, payment = %p.id, "voided a hold found after the order had failed");
                    true
                }
                Err(e) => {
                    tracing::warn!(order = order_id, error = %e, "cannot void an orphaned hold yet");
                    false
                }
            }
        }
        Ok(Some(_)) => true,
        // None yet: a late request could still create one; watch a while.
        Ok(None) => ctx.now_ms().saturating_sub(since_ms) > 10 * 60 * 1000,
        Err(_) => false,
    }
}

fn key(order: &str, step: &str) -> String {
    format!("{order}:{step}")
}

/// The authorisation an order asks the gateway for (key `<order>:authorize`).
pub fn authorize_request(o: &Order) -> AuthorizeRequest {
    AuthorizeRequest {
        amount: o.payment.amount,
        currency: o.currency.clone(),
        payment_method: o.payment.method.clone(),
        idempotency_key: key(&o.id, "authorize"),
        description: format!("DistribuFood order {}", o.id),
    }
}

/// The reason an order records when a gateway answer is a final refusal
/// (`Declined`, `Rejected`); `None` when the answer is not final.
pub fn refused_message(e: &GatewayError) -> Option<String> {
    match e {
        GatewayError::Declined { code, message } => Some(format!("{message} ({code})")),
        GatewayError::Rejected(m) => Some(m.clone()),
        GatewayError::InDoubt(_) | GatewayError::Unavailable(_) => None,
    }
}

/// Text from the gateway as an order may carry it: at most `max`
/// characters, control characters dropped, a card number never (every
/// order must fit in a frame, and is shown to people).
pub fn bounded(s: &str, max: usize) -> String {
    if protocol::text::card_number_in(s, false) {
        return "(withheld: it looked like a card number)".into();
    }
    s.chars()
        .filter(|c| !protocol::text::is_forbidden(*c, false))
        .take(max)
        .collect()
}

/// The last four digits a gateway reports, if that is what they are.
fn last4(s: &str) -> Option<String> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
}

/// What the gateway said, as a change to the order.
enum Verdict {
    Done(GatewayPayment),
    /// Refused for good; the message says why.
    Refused(String),
    /// No answer we can rely on: try again later with the same key.
    Later(String),
}

fn verdict(r: Result<GatewayPayment, GatewayError>) -> Verdict {
    match r {
        Ok(p) => Verdict::Done(p),
        Err(e) => match refused_message(&e) {
            Some(m) => Verdict::Refused(m),
            None => Verdict::Later(match e {
                GatewayError::InDoubt(m) | GatewayError::Unavailable(m) => m,
                other => other.to_string(),
            }),
        },
    }
}

/// Takes the order's pending payment step, if any, and records the result.
/// Returns the order as it is afterwards.
pub async fn drive(ctx: &Ctx<'_>, order_id: &str, fence: &[Compare]) -> ApiResult<Order> {
    let (o, _) = load(ctx.store, order_id).await?;
    let gw = ctx.gateway;
    let v = match o.payment.state {
        PaymentState::Authorizing => {
            let req = authorize_request(&o);
            let idem = req.idempotency_key.clone();
            match verdict(gw.authorize(&req).await) {
                Verdict::Later(m) => match gw.find_by_idempotency_key(&idem).await {
                    Ok(Some(p)) => Verdict::Done(p),
                    // Nothing found, or the gateway cannot even be asked.
                    // After the deadline the order fails either way (the
                    // customer is not kept waiting), and an orphan marker
                    // makes the worker void any hold that shows up later.
                    _ => {
                        let age = ctx.now_ms().saturating_sub(o.created_at);
                        if age > AUTHORIZE_DEADLINE.as_millis() as u64 {
                            Verdict::Refused(format!("{DEADLINE_MESSAGE} ({m})"))
                        } else {
                            Verdict::Later(m)
                        }
                    }
                },
                other => other,
            }
        }
        PaymentState::Capturing => {
            verdict(gw.capture(ref_of(&o)?, &key(order_id, "capture")).await)
        }
        PaymentState::Voiding => verdict(gw.void(ref_of(&o)?, &key(order_id, "void")).await),
        PaymentState::Refunding => {
            let amount = o.payment.captured - o.payment.refunded;
            verdict(
                gw.refund(ref_of(&o)?, amount, &key(order_id, "refund"))
                    .await,
            )
        }
        _ => return Ok(o),
    };
    match v {
        Verdict::Later(m) => {
            tracing::warn!(order = order_id, step = ?o.payment.state, reason = %m, "payment step in doubt; will retry");
            Ok(o)
        }
        v => {
            // Failpoint (tests only): the gateway acted, the node "dies"
            // before recording it; the worker must finish it, once.
            fail::fail_point!("pay.after_gateway", |_| Err(ApiError::unavailable(
                "failpoint pay.after_gateway (injected)"
            )));
            record(ctx, order_id, o.payment.state, v, fence).await
        }
    }
}

fn ref_of(o: &Order) -> ApiResult<&str> {
    o.payment
        .gateway_ref
        .as_deref()
        .ok_or_else(|| ApiError::internal(format!("order {} has no gateway payment id", o.id)))
}

/// Writes the outcome of `step` into the order, if it is still at that step.
async fn record(
    ctx: &Ctx<'_>,
    order_id: &str,
    step: PaymentState,
    v: Verdict,
    fence: &[Compare],
) -> ApiResult<Order> {
    for _ in 0..64 {
        let (cur, rev) = load(ctx.store, order_id).await?;
        if cur.payment.state != step {
            return Ok(cur); // someone else recorded it
        }
        let mut next = cur.clone();
        next.version += 1;
        next.updated_at = ctx.now_ms();
        next.revision = 0;
        let orderk = order_key(order_id)?;
        let mut compares = vec![Compare::mod_revision(&orderk, rev)];
        compares.extend_from_slice(fence);
        let mut ops = vec![TxnOp::delete(payment_work_key(order_id))];
        if step == PaymentState::Authorizing {
            // No longer waiting for its payment (see `place::pending_guard`).
            ops.push(TxnOp::delete(super::pending_key(
                &cur.customer_id,
                order_id,
            )));
        }
        match (&v, step) {
            (Verdict::Done(p), PaymentState::Authorizing) => {
                next.payment.state = PaymentState::Authorized;
                next.payment.gateway_ref = Some(bounded(&p.id, 100));
                next.payment.last4 = p.last4.as_deref().and_then(last4);
                let outcome = state::next(cur.state, Action::PaymentAuthorized)
                    .map_err(ApiError::conflict)?;
                next.state = outcome.state;
                let restaurant = crate::catalog::get_restaurant(ctx.store, &cur.restaurant)
                    .await?
                    .value;
                let deadline = ctx.now_ms() + restaurant.acceptance_timeout_secs * 1000;
                ops.push(TxnOp::put(
                    super::expiry_work_key(order_id),
                    deadline.to_string(),
                ));
            }
            (Verdict::Refused(m), PaymentState::Authorizing) => {
                next.payment.state = PaymentState::Declined;
                next.payment.error = Some(bounded(m, 300));
                if m.contains(DEADLINE_MESSAGE) {
                    ops.push(TxnOp::put(orphan_key(order_id), ctx.now_ms().to_string()));
                }
                let outcome =
                    state::next(cur.state, Action::PaymentFailed).map_err(ApiError::conflict)?;
                next.state = outcome.state;
                let (c, o) = restock_ops(ctx.store, &cur).await?;
                compares.extend(c);
                ops.extend(o);
            }
            (Verdict::Done(p), PaymentState::Capturing) => {
                next.payment.state = PaymentState::Captured;
                next.payment.captured = p.amount_captured.max(cur.payment.amount);
            }
            (Verdict::Done(_), PaymentState::Voiding) => next.payment.state = PaymentState::Voided,
            (Verdict::Done(p), PaymentState::Refunding) => {
                next.payment.state = PaymentState::Refunded;
                next.payment.refunded = p.amount_refunded.max(cur.payment.captured);
            }
            (Verdict::Refused(m), _) => {
                next.payment.state = PaymentState::Failed;
                next.payment.error = Some(bounded(
                    &format!("{step:?} refused by the gateway: {m}").to_lowercase(),
                    300,
                ));
                tracing::error!(order = order_id, ?step, reason = %m, "payment step refused");
            }
            _ => return Ok(cur),
        }
        ops.push(TxnOp::put(&orderk, to_doc(&next)?));
        ops.push(event_op(&next)?);
        let resp = ctx
            .store
            .txn(Txn::new().when(compares).and_then(ops))
            .await?;
        if resp.succeeded {
            next.revision = wire_revision(resp.revision);
            return Ok(next);
        }
    }
    Err(ApiError::unavailable(format!(
        "order {order_id} is changing too fast"
    )))
}

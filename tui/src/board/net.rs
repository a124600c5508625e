//! The board's network task: the only part of the board that talks to the
//! cluster. It reads the open orders and the menu, follows the topic
//! `restaurant:<id>`, sends the kitchen's requests, and reports everything
//! to the UI as [`NetMsg`]s.
//!
//! Failover is `protocol::session`'s job: the subscription resumes on
//! another node from its last revision + 1 by itself. When it gives up
//! (or the server ends it for good, e.g. `compacted`), this task reads a
//! fresh snapshot and subscribes again from the revision it was read at,
//! so the board converges on the truth without gap; the board ignores
//! events it already holds (by order version), so without duplicate.
//!
//! A health probe every second tells which node the board talks to and
//! whether it answers; the UI refuses bumps while it does not. Requests
//! are never retried here: the session decides what is safe to repeat.
//! The one exception is `unauthenticated` (the access token expired on a
//! long shift): the request was refused before doing anything, so it is
//! sent again once with a fresh token.

use std::future::Future;
use std::time::Duration;

use protocol::client::{ClientError, SubscriptionItem};
use protocol::messages::catalog::{ItemRef, Menu, MenuItem, RestaurantRef, types as catalog};
use protocol::messages::orders::{
    ListOrders, MAX_PAGE, Order, OrderList, OrderRef, OrderState, RejectOrder, types as orders,
};
use protocol::messages::{HealthRequest, HealthResponse, types};
use protocol::session::Session;
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::app::{Command, NetMsg};
use super::model::{Conn, Incoming, Step, StepError};

/// Obtains a fresh access token when the current one is refused.
pub trait Tokens {
    fn fresh(&mut self) -> impl Future<Output = Result<String, String>>;
}

/// What the board reads to start (and to start again).
struct Loaded {
    revision: u64,
    node: String,
    orders: Vec<Order>,
    menu: Menu,
}

pub(crate) fn message(e: &ClientError) -> String {
    match e {
        ClientError::Server(b) => b.message.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn code(e: &ClientError) -> Option<ErrorCode> {
    match e {
        ClientError::Server(b) => Some(b.code),
        _ => None,
    }
}

/// Runs until the UI drops its command sender (or its receiver).
pub async fn run<T: Tokens>(
    session: Session,
    restaurant: String,
    mut token: String,
    mut tokens: T,
    tx: mpsc::UnboundedSender<NetMsg>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    // Replaced by each (re)load; until the first, nothing to read.
    let mut sub_rx = mpsc::unbounded_channel::<Result<SubscriptionItem, ClientError>>().1;
    let mut reader: Option<tokio::task::JoinHandle<()>> = None;
    let mut need_load = true;
    let mut conn = Conn::Connecting;
    let mut probe = tokio::time::interval(Duration::from_secs(1));
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let send_conn = |conn: &mut Conn, new: Conn| {
        if *conn != new {
            *conn = new.clone();
            tx.send(NetMsg::Update(Incoming::Conn(new))).is_ok()
        } else {
            true
        }
    };
    loop {
        if need_load {
            match load_authed(&session, &restaurant, &mut token, &mut tokens).await {
                Ok(l) => {
                    let addr = session.current_endpoint().unwrap_or_default();
                    if tx
                        .send(NetMsg::Update(Incoming::Snapshot {
                            orders: l.orders,
                            menu: l.menu,
                        }))
                        .is_err()
                    {
                        break;
                    }
                    send_conn(&mut conn, Conn::Connected { node: l.node, addr });
                    if let Some(r) = reader.take() {
                        r.abort();
                    }
                    // A fresh channel so that nothing from an older
                    // reader is mistaken for this one's.
                    let (t, r) = mpsc::unbounded_channel();
                    sub_rx = r;
                    reader = Some(spawn_reader(
                        session.clone(),
                        format!("restaurant:{restaurant}"),
                        token.clone(),
                        l.revision + 1,
                        t,
                    ));
                    need_load = false;
                }
                Err(e) => {
                    if matches!(
                        code(&e),
                        Some(
                            ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::Unauthenticated
                        )
                    ) {
                        let _ = tx.send(NetMsg::Fatal(message(&e)));
                        break;
                    }
                    if !send_conn(
                        &mut conn,
                        Conn::Reconnecting {
                            reason: message(&e),
                        },
                    ) {
                        break;
                    }
                    // Keep answering commands (with a refusal) meanwhile.
                    let sleep = tokio::time::sleep(Duration::from_millis(500));
                    tokio::select! {
                        _ = sleep => {}
                        c = commands.recv() => match c {
                            Some(c) => refuse(&tx, c, "disconnected"),
                            None => break,
                        },
                    }
                    continue;
                }
            }
        }
        tokio::select! {
            item = sub_rx.recv() => match item {
                Some(Ok(SubscriptionItem::Events { events, .. })) => {
                    if tx.send(NetMsg::Update(Incoming::Events(events))).is_err() {
                        break;
                    }
                }
                Some(Ok(SubscriptionItem::Progress { .. })) => {}
                Some(Err(e)) => {
                    send_conn(&mut conn, Conn::Reconnecting { reason: message(&e) });
                    need_load = true;
                }
                None => need_load = true,
            },
            c = commands.recv() => match c {
                Some(c) => {
                    let msg = execute(&session, &restaurant, &mut token, &mut tokens, c).await;
                    if tx.send(NetMsg::Update(msg)).is_err() {
                        break;
                    }
                }
                None => break,
            },
            _ = probe.tick() => {
                let h = tokio::time::timeout(
                    Duration::from_millis(1500),
                    session.call::<_, HealthResponse>(types::HEALTH, None, &HealthRequest {}),
                )
                .await;
                let new = match h {
                    Ok(Ok(h)) => Conn::Connected {
                        node: h.node,
                        addr: session.current_endpoint().unwrap_or_default(),
                    },
                    Ok(Err(e)) => Conn::Reconnecting { reason: message(&e) },
                    Err(_) => Conn::Reconnecting { reason: "no answer".into() },
                };
                if !send_conn(&mut conn, new) {
                    break;
                }
            }
        }
    }
    if let Some(r) = reader {
        r.abort();
    }
}

fn spawn_reader(
    session: Session,
    topic: String,
    token: String,
    from: u64,
    tx: mpsc::UnboundedSender<Result<SubscriptionItem, ClientError>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sub = session.subscribe_resuming(topic, Some(&token), Some(from));
        loop {
            let item = sub.next().await;
            let end = item.is_err();
            if tx.send(item).is_err() || end {
                break;
            }
        }
    })
}

/// Answers a command that was not sent at all.
fn refuse(tx: &mpsc::UnboundedSender<NetMsg>, c: Command, why: &str) {
    let msg = match c {
        Command::Transition {
            order,
            step,
            expected_version,
        } => Incoming::StepDone {
            order,
            step,
            expected_version,
            result: Err(StepError::NotSent(why.into())),
        },
        Command::Set86 { sku, .. } => Incoming::Set86Done {
            sku,
            result: Err(why.into()),
        },
    };
    let _ = tx.send(NetMsg::Update(msg));
}

async fn load_authed<T: Tokens>(
    session: &Session,
    restaurant: &str,
    token: &mut String,
    tokens: &mut T,
) -> Result<Loaded, ClientError> {
    match load(session, restaurant, token).await {
        Err(e) if code(&e) == Some(ErrorCode::Unauthenticated) => {
            match tokens.fresh().await {
                Ok(t) => *token = t,
                Err(_) => return Err(e),
            }
            load(session, restaurant, token).await
        }
        other => other,
    }
}

/// The store revision first, then the orders and the menu: everything
/// that changes after that revision comes again as an event.
async fn load(session: &Session, restaurant: &str, token: &str) -> Result<Loaded, ClientError> {
    let h: HealthResponse = session.call(types::HEALTH, None, &HealthRequest {}).await?;
    // Page by page: a busy kitchen's open tickets need not fit in one
    // answer. What changes meanwhile comes again as an event (it is after
    // the revision read above).
    let mut open = Vec::new();
    let mut cursor = None;
    loop {
        let page: OrderList = session
            .call(
                orders::LIST,
                Some(token),
                &ListOrders {
                    restaurant: Some(restaurant.to_string()),
                    states: vec![
                        OrderState::Placed,
                        OrderState::Accepted,
                        OrderState::Preparing,
                        OrderState::Ready,
                    ],
                    limit: Some(MAX_PAGE),
                    cursor: cursor.take(),
                },
            )
            .await?;
        open.extend(page.orders);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let menu: Menu = session
        .call(
            catalog::MENU_GET,
            None,
            &RestaurantRef {
                restaurant: restaurant.to_string(),
            },
        )
        .await?;
    Ok(Loaded {
        revision: h.store_revision,
        node: h.node,
        orders: open,
        menu,
    })
}

/// The request for a command: its type and body.
pub fn request_for(restaurant: &str, c: &Command) -> (&'static str, Value) {
    match c {
        // Every step carries the version the cook saw: the daemon refuses
        // it if the order moved since (one press, at most one step).
        Command::Transition {
            order,
            step,
            expected_version,
        } => {
            let expected_version = Some(*expected_version);
            let body = match step {
                Step::Reject { reason } => json!(RejectOrder {
                    expected_version,
                    order: order.clone(),
                    reason: reason.clone(),
                }),
                Step::Recall { state } => json!(protocol::messages::orders::RecallOrder {
                    expected_version,
                    order: order.clone(),
                    state: *state,
                }),
                Step::Station { station, ready } => {
                    json!(protocol::messages::orders::StationReady {
                        order: order.clone(),
                        station: station.clone(),
                        ready: *ready,
                        expected_version,
                    })
                }
                Step::Rush { rush } => json!(protocol::messages::orders::RushOrder {
                    order: order.clone(),
                    rush: *rush,
                }),
                _ => json!(OrderRef {
                    expected_version,
                    order: order.clone()
                }),
            };
            (step.request_type(), body)
        }
        Command::Set86 { sku, available } => (
            if *available {
                catalog::MENU_UN86
            } else {
                catalog::MENU_86
            },
            json!(ItemRef {
                restaurant: restaurant.to_string(),
                sku: sku.clone(),
            }),
        ),
    }
}

/// What a failed request means for the cook: refused by the server
/// (nothing happened), never sent, or sent without an answer (it may
/// have happened). The session has already retried what was safe to.
pub fn step_error(e: &ClientError) -> StepError {
    match e {
        ClientError::Server(b) => match b.code {
            // The server may have been mid-way.
            ErrorCode::Internal | ErrorCode::Unknown => StepError::Unconfirmed(b.message.clone()),
            _ => StepError::Refused(b.message.clone()),
        },
        ClientError::Tls(_) | ClientError::Endpoint { .. } | ClientError::Connect { .. } => {
            StepError::NotSent(e.to_string())
        }
        ClientError::Timeout { .. }
        | ClientError::Transport { .. }
        | ClientError::Protocol { .. }
        | ClientError::GoingAway { .. } => StepError::Unconfirmed(e.to_string()),
    }
}

/// An error after which the request may or may not have been carried
/// out (no answer), as opposed to an answer.
fn lost_answer(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Timeout { .. }
            | ClientError::Transport { .. }
            | ClientError::GoingAway { .. }
            | ClientError::Connect { .. }
    )
}

/// Whether `o` is where `step` takes an order (the step, or one just like
/// it from another screen, is done).
fn settled_by(step: &Step, o: &Order) -> bool {
    match step {
        Step::Rush { rush } => o.rush == *rush,
        Step::Station { station, ready } => {
            super::model::station_ready(o, station) == *ready
                && o.lines.iter().any(|l| &l.station == station)
        }
        s => s.target() == Some(o.state),
    }
}

async fn execute<T: Tokens>(
    session: &Session,
    restaurant: &str,
    token: &mut String,
    tokens: &mut T,
    c: Command,
) -> Incoming {
    let (ty, body) = request_for(restaurant, &c);
    let mut result = session.call::<_, Value>(ty, Some(token), &body).await;
    if let Err(e) = &result
        && code(e) == Some(ErrorCode::Unauthenticated)
        && let Ok(t) = tokens.fresh().await
    {
        // Refused before anything happened: safe to send again.
        *token = t;
        result = session.call::<_, Value>(ty, Some(token), &body).await;
    }
    // A step whose answer was lost is sent again (the session already
    // did, within its own budget; these are a few more tries, ~2 s in all,
    // for a cluster still electing): it carries the version the cook saw,
    // so the request table calls it safe to repeat, and if the first one
    // landed the daemon refuses this one as stale instead of making a
    // second step.
    if let Command::Transition { order, step, .. } = &c {
        let mut tries = 0u64;
        while tries < 4
            && result.as_ref().is_err_and(lost_answer)
            && protocol::retry::idempotent(ty, &body)
        {
            tries += 1;
            tokio::time::sleep(Duration::from_millis(150 * tries)).await;
            result = session.call::<_, Value>(ty, Some(token), &body).await;
            if let Err(e) = &result
                && code(e) == Some(ErrorCode::Conflict)
            {
                // Stale: someone moved the order, perhaps our first try.
                // What the cook asked for is done if the order is where
                // the step takes it.
                result = match session
                    .call::<_, Order>(orders::GET, Some(token), &OrderRef::new(order.clone()))
                    .await
                {
                    Ok(o) if settled_by(step, &o) => {
                        serde_json::to_value(&o).map_err(|_| result.unwrap_err())
                    }
                    _ => result,
                };
            }
        }
    }
    match c {
        Command::Transition {
            order,
            step,
            expected_version,
        } => Incoming::StepDone {
            order,
            step,
            expected_version,
            result: result.map_err(|e| step_error(&e)).and_then(|v| {
                // An answer that does not parse still means it was done.
                serde_json::from_value::<Order>(v)
                    .map_err(|e| StepError::Unconfirmed(format!("unreadable answer: {e}")))
            }),
        },
        Command::Set86 { sku, .. } => Incoming::Set86Done {
            sku,
            result: result
                .map_err(|e| message(&e))
                .and_then(|v| serde_json::from_value::<MenuItem>(v).map_err(|e| e.to_string())),
        },
    }
}

//! The dashboard's network task: the only part of `dfood top` that talks
//! to the cluster. Once a second it asks the node it is connected to for
//! `cluster.top` (everything on the screen, in one answer) and carries out
//! the operator's confirmed actions.
//!
//! Failover is `protocol::session`'s: when the node dies, the next reading
//! comes from another one. Readings are never retried by hand (the next
//! second brings one anyway); actions are sent once — the session decides
//! what is safe to repeat — except after `unauthenticated` (the access
//! token expired; refused before anything happened), sent again once with
//! a fresh token.

use std::time::Duration;

use protocol::client::ClientError;
use protocol::messages::cluster::{Dashboard, Drain, Failover, Switchover, types as cluster};
use protocol::session::Session;
use protocol::wire::ErrorCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub use crate::board::net::Tokens;
use crate::board::net::{code, message};

use super::app::NetMsg;
use super::model::{Conn, Incoming, Op};

/// How often the dashboard reads the cluster.
pub const PERIOD: Duration = Duration::from_secs(1);
/// A reading that takes longer counts as a lost node.
const READ_TIMEOUT: Duration = Duration::from_millis(2500);

/// The request for an op: its type and body.
pub fn request_for(op: &Op) -> (&'static str, Value) {
    match op {
        Op::Switchover { to } => (
            cluster::SWITCHOVER,
            json!(Switchover {
                to: to.clone(),
                scheduled_at: None,
            }),
        ),
        Op::Failover { to } => (cluster::FAILOVER, json!(Failover { to: to.clone() })),
        Op::Pause => (cluster::PAUSE, json!({})),
        Op::Resume => (cluster::RESUME, json!({})),
        Op::Drain { node, drain } => (
            cluster::DRAIN,
            json!(Drain {
                node: node.clone(),
                drain: *drain,
            }),
        ),
    }
}

/// Sends `ty` with the token, once more with a fresh one if it expired.
async fn call_authed<T: Tokens>(
    session: &Session,
    token: &mut String,
    tokens: &mut T,
    ty: &str,
    body: &Value,
) -> Result<Value, ClientError> {
    match session.call::<_, Value>(ty, Some(token), body).await {
        Err(e) if code(&e) == Some(ErrorCode::Unauthenticated) => {
            match tokens.fresh().await {
                Ok(t) => *token = t,
                Err(_) => return Err(e),
            }
            session.call::<_, Value>(ty, Some(token), body).await
        }
        other => other,
    }
}

/// Runs until the UI drops its op sender (or its receiver).
pub async fn run<T: Tokens>(
    session: Session,
    mut token: String,
    mut tokens: T,
    tx: mpsc::UnboundedSender<NetMsg>,
    mut ops: mpsc::UnboundedReceiver<Op>,
) {
    let mut conn = Conn::Connecting;
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let r = tokio::time::timeout(
                    READ_TIMEOUT,
                    call_authed(&session, &mut token, &mut tokens, cluster::TOP, &json!({})),
                )
                .await;
                let (new, sample) = match r {
                    Ok(Ok(v)) => match serde_json::from_value::<Dashboard>(v) {
                        Ok(d) => {
                            let node = session
                                .current_endpoint()
                                .and_then(|addr| {
                                    d.status
                                        .members
                                        .iter()
                                        .find(|m| m.member.addr == addr)
                                        .map(|m| (m.member.node.clone(), addr))
                                });
                            let (node, addr) = node.unwrap_or_else(|| {
                                ("?".into(), session.current_endpoint().unwrap_or_default())
                            });
                            (Conn::Connected { node, addr }, Some(d))
                        }
                        Err(e) => (
                            Conn::Reconnecting {
                                reason: format!("unreadable answer: {e}"),
                            },
                            None,
                        ),
                    },
                    Ok(Err(e)) => {
                        if matches!(code(&e), Some(ErrorCode::Forbidden | ErrorCode::Unauthenticated)) {
                            let _ = tx.send(NetMsg::Fatal(message(&e)));
                            break;
                        }
                        (Conn::Reconnecting { reason: message(&e) }, None)
                    }
                    Err(_) => (Conn::Reconnecting { reason: "no answer".into() }, None),
                };
                if let Some(d) = sample
                    && tx.send(NetMsg::Update(Incoming::Sample(d))).is_err()
                {
                    break;
                }
                if new != conn {
                    conn = new.clone();
                    if tx.send(NetMsg::Update(Incoming::Conn(new))).is_err() {
                        break;
                    }
                }
            }
            op = ops.recv() => match op {
                Some(op) => {
                    let (ty, body) = request_for(&op);
                    let result = call_authed(&session, &mut token, &mut tokens, ty, &body)
                        .await
                        .map(|_| ())
                        .map_err(|e| message(&e));
                    if tx.send(NetMsg::Update(Incoming::OpDone { op, result })).is_err() {
                        break;
                    }
                    // Show the effect at once.
                    tick.reset_immediately();
                }
                None => break,
            },
        }
    }
}

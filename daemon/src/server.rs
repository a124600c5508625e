//! The QUIC front door: accepts connections, reads one request per
//! bidirectional stream, dispatches it, and writes the answer.
//!
//! Robustness rules (each covered by tests in `tests/`):
//! - a frame's length is checked before its buffer is allocated; an
//!   oversized prefix gets a `too_large` error and the stream is stopped;
//! - garbage, an unknown message type or a bad body get an error frame
//!   (`protocol_error`, `unsupported`, `bad_request`) on that stream only:
//!   the connection and every other client carry on;
//! - a client that opens a stream and sends nothing is dropped after
//!   [`REQUEST_READ_TIMEOUT`];
//! - a wrong ALPN id fails the TLS handshake (rustls refuses it), which only
//!   ends that connection attempt.
//!
//! Every request's context carries the client's address (`Ctx::peer`, for
//! login throttling). A subscription that needed a token is checked again
//! whenever its caller's account or a staff membership changes (the auth
//! follower announces it) and ends with an `error` frame when it no longer
//! passes (`unauthenticated`: session revoked, password changed, account
//! disabled; `forbidden`/`not_found`: staff membership removed), and when
//! its access token expires.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::frame::{FrameError, MAX_FRAME_LEN};
use protocol::io::{FrameIoError, read_frame, write_doc};
use protocol::messages::{
    self, Event, HealthResponse, Member, SubscribeRequest, SubscribeResponse,
};
use protocol::wire::{self, ErrorCode, Request, ServerFrame, stream_code};
use tokio::sync::watch;
use tracing::{Instrument, debug, info, warn};

use crate::auth::identity::AuthChange;
use crate::cluster::MEMBERS_PREFIX;
use crate::node::NodeState;
use crate::rpc::ApiError;
use crate::store::EventKind;

/// How long a client may take to send its request after opening a stream.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a subscription's `goaway` frame may take to be acknowledged
/// before its connection is closed anyway.
const GOAWAY_ACK_WAIT: Duration = Duration::from_secs(2);

/// Where clients of a node that goes away may go: the other live members
/// that are not draining (empty if the store cannot say quickly).
async fn alternatives(state: &NodeState) -> Vec<String> {
    let members = tokio::time::timeout(
        Duration::from_millis(500),
        crate::cluster::members(state.deps.store.as_ref()),
    )
    .await;
    match members {
        Ok(Ok(ms)) => ms
            .into_iter()
            .filter(|(m, _)| m.node != state.node() && !m.draining)
            .map(|(m, _)| m.addr)
            .collect(),
        _ => Vec::new(),
    }
}

/// Accepts connections until `going_away` turns true.
pub async fn accept_loop(endpoint: quinn::Endpoint, state: Arc<NodeState>) {
    let mut going_away = state.going_away.clone();
    loop {
        tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) if *state.cluster.draining.borrow() => {
                    // Draining: new clients go to another node.
                    incoming.refuse();
                }
                Some(incoming) => {
                    tokio::spawn(handle_connection(incoming, state.clone()));
                }
                None => break,
            },
            _ = until_going_away(&mut going_away) => break,
        }
    }
}

async fn handle_connection(incoming: quinn::Incoming, state: Arc<NodeState>) {
    let remote = incoming.remote_address();
    let conn = match incoming.await {
        Ok(c) => c,
        Err(e) => {
            // Wrong ALPN, bad TLS, timeouts: only this attempt fails.
            debug!(%remote, error = %e, "connection attempt failed");
            return;
        }
    };
    debug!(%remote, "client connected");
    let _counted = Counted::new(&state.cluster.stats.connections);
    let mut going_away = state.going_away.clone();
    let mut draining = state.cluster.draining.subscribe();
    let mut streams = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            bi = conn.accept_bi() => match bi {
                Ok((send, recv)) => {
                    streams.spawn(handle_stream(send, recv, state.clone(), Some(remote.ip())));
                }
                Err(e) => {
                    debug!(%remote, reason = %e, "client gone");
                    return;
                }
            },
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
            _ = until_leaving(&mut going_away, &mut draining) => {
                // Let in-flight requests finish (subscriptions end with a
                // goaway frame), then tell the client to move on.
                let _ = tokio::time::timeout(Duration::from_secs(3), async {
                    while streams.join_next().await.is_some() {}
                })
                .await;
                conn.close(
                    wire::close::GOING_AWAY.into(),
                    b"node is shutting down; reconnect to another node",
                );
                return;
            }
        }
    }
}

async fn send_frame(send: &mut quinn::SendStream, frame: &ServerFrame) -> bool {
    match write_doc(send, frame, MAX_FRAME_LEN).await {
        Ok(()) => true,
        Err(e) => {
            debug!(error = %e, "cannot write frame");
            false
        }
    }
}

async fn handle_stream(
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    state: Arc<NodeState>,
    peer: Option<IpAddr>,
) {
    let read =
        tokio::time::timeout(REQUEST_READ_TIMEOUT, read_frame(&mut recv, MAX_FRAME_LEN)).await;
    let refuse = |code: ErrorCode, msg: String| ServerFrame::error(None, code, msg);
    let payload = match read {
        Err(_) => {
            let _ = recv.stop(stream_code::CANCELLED.into());
            let f = refuse(
                ErrorCode::BadRequest,
                format!("no request received within {REQUEST_READ_TIMEOUT:?}"),
            );
            send_frame(&mut send, &f).await;
            let _ = send.finish();
            return;
        }
        Ok(Ok(Some(p))) => p,
        Ok(Ok(None)) => {
            let f = refuse(
                ErrorCode::ProtocolError,
                "stream finished before a request frame".into(),
            );
            send_frame(&mut send, &f).await;
            let _ = send.finish();
            return;
        }
        Ok(Err(FrameIoError::Frame(e @ FrameError::TooLarge { .. }))) => {
            warn!(error = %e, "refusing oversized frame");
            let _ = recv.stop(stream_code::TOO_LARGE.into());
            send_frame(&mut send, &refuse(ErrorCode::TooLarge, e.to_string())).await;
            let _ = send.finish();
            return;
        }
        Ok(Err(FrameIoError::Stream(reason))) => {
            debug!(%reason, "client reset the stream");
            return;
        }
        Ok(Err(e)) => {
            let _ = recv.stop(stream_code::PROTOCOL.into());
            send_frame(&mut send, &refuse(ErrorCode::ProtocolError, e.to_string())).await;
            let _ = send.finish();
            return;
        }
    };
    let req = match wire::decode_request(&payload) {
        Ok(r) => r,
        Err(e) => {
            debug!(error = %e, "malformed request");
            let _ = recv.stop(stream_code::PROTOCOL.into());
            send_frame(&mut send, &refuse(ErrorCode::ProtocolError, e.to_string())).await;
            let _ = send.finish();
            return;
        }
    };
    if !req.body.is_object() {
        let f = ServerFrame::error(req.id.clone(), ErrorCode::BadRequest, wire::NOT_AN_OBJECT);
        send_frame(&mut send, &f).await;
        let _ = send.finish();
        return;
    }
    match req.ty.as_str() {
        messages::types::SUBSCRIBE => {
            let span = crate::metrics::request_span(state.node(), &req);
            subscribe(&mut send, req, &state).instrument(span).await
        }
        _ => {
            let frame = dispatch_from(&req, &state, peer).await;
            let bytes = answer_bytes(&frame, req.id.clone());
            if let Err(e) = send.write_all(&bytes).await {
                debug!(error = %e, "cannot write frame");
            }
        }
    }
    let _ = send.finish();
}

/// The bytes of a one-shot answer: `frame`, or, when it would not fit in
/// one frame, a `too_large` error saying so (a client must never see a
/// stream end without an answer).
pub fn answer_bytes(frame: &ServerFrame, id: Option<String>) -> Vec<u8> {
    let fallback = |code: ErrorCode, msg: String| {
        let f = ServerFrame::error(id.clone(), code, msg);
        let p = wire::encode_doc(&f).unwrap_or_default();
        protocol::frame::encode(&p, MAX_FRAME_LEN).unwrap_or_default()
    };
    match wire::encode_doc(frame) {
        Ok(p) if p.len() <= MAX_FRAME_LEN => {
            protocol::frame::encode(&p, MAX_FRAME_LEN).unwrap_or_default()
        }
        Ok(p) => fallback(
            ErrorCode::TooLarge,
            format!(
                "the answer is {} bytes, more than a frame may carry ({MAX_FRAME_LEN}): ask for less (e.g. a smaller order.list limit)",
                p.len()
            ),
        ),
        Err(e) => fallback(
            ErrorCode::Internal,
            format!("cannot encode the answer: {e}"),
        ),
    }
}

/// Answers a one-shot request.
pub async fn dispatch(req: &Request, state: &NodeState) -> ServerFrame {
    dispatch_from(req, state, None).await
}

/// Answers a one-shot request that came from `peer`.
pub async fn dispatch_from(req: &Request, state: &NodeState, peer: Option<IpAddr>) -> ServerFrame {
    let started = Instant::now();
    let span = crate::metrics::request_span(state.node(), req);
    let frame = dispatch_inner(req, state, peer)
        .instrument(span.clone())
        .await;
    let code = match &frame {
        ServerFrame::Error { error, .. } => Some(error.code),
        _ => None,
    };
    let elapsed = started.elapsed();
    state.cluster.stats.record_request(&req.ty, code, elapsed);
    crate::metrics::finish_request_span(&span, req, &frame, elapsed);
    frame
}

/// The client's address: the connection's, or for a request another node
/// forwarded, the one it vouched for (see `api::forward`).
fn client_address(
    req: &Request,
    kek: &crate::secrets::Kek,
    conn_peer: Option<IpAddr>,
) -> Option<IpAddr> {
    if let (Some(via), Some(peer), Some(mac)) = (&req.via, &req.peer, &req.peer_mac)
        && crate::secrets::peer_mac_holds(kek, via, peer, mac)
    {
        return peer.parse().ok();
    }
    conn_peer
}

async fn dispatch_inner(req: &Request, state: &NodeState, peer: Option<IpAddr>) -> ServerFrame {
    let peer = client_address(req, state.deps.auth.keys.kek(), peer);
    let id = req.id.clone();
    let result = match req.ty.as_str() {
        messages::types::HEALTH => {
            serde_json::to_value(health(state).await).map_err(|e| ApiError::internal(e.to_string()))
        }
        _ => {
            let ctx = state
                .ctx(req.token.as_deref(), req.id.as_deref())
                .with_peer(peer);
            crate::api::route(&ctx, &state.cluster, req).await
        }
    };
    match result {
        Ok(body) => ServerFrame::Ok { id, body },
        Err(e) => e.frame(id),
    }
}

/// The node answers even when its store does not: then `store_error` says
/// why and `store_revision` is 0.
async fn health(state: &NodeState) -> HealthResponse {
    let store = state.deps.store.as_ref();
    let (store_revision, store_error) = match store.revision().await {
        Ok(r) => (r, None),
        Err(e) => (0, Some(e.to_string())),
    };
    HealthResponse {
        node: state.node().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: String::from_utf8_lossy(protocol::ALPN).into_owned(),
        store: store.kind().to_string(),
        store_revision: u64::try_from(store_revision).unwrap_or(0),
        uptime_secs: state.started.elapsed().as_secs(),
        roles: state.cluster.roles(),
        store_error,
        payments: Some(state.deps.gateway.name().to_string()),
    }
}

/// Streams a topic's events from the requested revision until the client
/// goes away, the store fails, or the node shuts down.
async fn subscribe(send: &mut quinn::SendStream, req: Request, state: &NodeState) {
    let started = Instant::now();
    let id = req.id.clone();
    let sub: SubscribeRequest = match req.body_as() {
        Ok(s) => s,
        Err(e) => {
            answer_subscribe(
                send,
                state,
                started,
                &ServerFrame::error(id, ErrorCode::BadRequest, e.to_string()),
            )
            .await;
            return;
        }
    };
    // Follow account and staff changes from before the check, so that
    // none falls between the check and the stream.
    let mut changes = state.deps.auth.changes.subscribe();
    let ctx = state.ctx(req.token.as_deref(), req.id.as_deref());
    let (prefix, members) = match sub.topic.as_str() {
        "members" => (MEMBERS_PREFIX.to_string(), true),
        other => match crate::orders::topic_prefix(&ctx, other).await {
            Some(Ok(p)) => (p, false),
            Some(Err(e)) => {
                answer_subscribe(send, state, started, &e.frame(id)).await;
                return;
            }
            None => {
                let f = ServerFrame::error(
                    id,
                    ErrorCode::BadRequest,
                    format!(
                        "unknown topic {other:?}; known topics: members, restaurant:<id>, order:<id>"
                    ),
                );
                answer_subscribe(send, state, started, &f).await;
                return;
            }
        },
    };
    // Revisions are i64 in the store; a larger one cannot exist.
    let Ok(from) = i64::try_from(sub.from_revision.unwrap_or(0)) else {
        let f = ServerFrame::error(
            id,
            ErrorCode::BadRequest,
            format!(
                "from_revision {} is beyond any store revision (at most {})",
                sub.from_revision.unwrap_or(0),
                i64::MAX
            ),
        );
        answer_subscribe(send, state, started, &f).await;
        return;
    };
    let start = match from {
        0 => match state.deps.store.revision().await {
            Ok(r) => r + 1,
            Err(e) => {
                let e = ApiError::from(e);
                let f = e.frame(id);
                answer_subscribe(send, state, started, &f).await;
                return;
            }
        },
        r => r,
    };
    let convert: crate::fanout::Convert = if members { members_batch } else { stored_batch };
    let mut source = match state
        .fanout
        .join(&state.deps.store, &prefix, start, convert)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            let e = ApiError::from(e);
            let f = e.frame(id);
            answer_subscribe(send, state, started, &f).await;
            return;
        }
    };
    let ok = ServerFrame::ok(
        id,
        SubscribeResponse {
            start_revision: crate::store::wire_revision(start),
        },
    )
    .expect("serialisable");
    // Counted before the client hears it is open, so that a client that
    // saw its subscription open never sees the gauge without it.
    let _counted = Counted::new(&state.cluster.stats.subscriptions);
    if !answer_subscribe(send, state, started, &ok).await {
        return;
    }
    let mut going_away = state.going_away.clone();
    let mut draining = state.cluster.draining.subscribe();
    // The caller's claims (a topic other than `members` needed a token).
    let claims = match members {
        true => None,
        false => ctx.claims().await.ok(),
    };
    let expiry = claims
        .as_ref()
        .map(|c| token_left(c.exp, ctx.clock.now_secs()));
    let expired = async {
        match expiry {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    // Follow account and staff changes while there is a caller to check.
    let mut follow = claims.is_some();
    loop {
        tokio::select! {
            _ = &mut expired => {
                let e = ApiError::unauthenticated(
                    "subscription ended: the access token expired: renew it and subscribe again",
                );
                send_frame(send, &e.frame(None)).await;
                return;
            }
            change = changes.recv(), if follow => {
                let Some(c) = &claims else { continue };
                let relevant = match &change {
                    Ok(AuthChange::User(id)) => *id == c.sub,
                    Ok(AuthChange::Staff(key)) => key.ends_with(&format!("/{}", c.sub)),
                    Ok(AuthChange::Everything) => true,
                    // Missed some: check.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                    // The node's auth state is gone (it is stopping).
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        follow = false;
                        false
                    }
                };
                if !relevant {
                    continue;
                }
                if let Some(Err(e)) = crate::orders::topic_prefix(&ctx, &sub.topic).await {
                    let e = match e.code {
                        // The store did not answer: move, and be checked
                        // again where the stream resumes.
                        ErrorCode::Unavailable => e,
                        _ => ApiError::new(e.code, format!("subscription ended: {}", e.message)),
                    };
                    debug!(topic = %sub.topic, error = %e, "subscription refused on re-check");
                    send_frame(send, &e.frame(None)).await;
                    return;
                }
            }
            item = source.next(start) => match item {
                // The frame was encoded once for every subscriber.
                Some(Ok(b)) => {
                    if let Err(e) = send.write_all(&b.frame).await {
                        debug!(error = %e, "cannot write frame");
                        return;
                    }
                    if b.ends {
                        // An error frame in the batch's place (it did not
                        // fit): the subscription ends there, told why.
                        return;
                    }
                }
                Some(Err((code, m))) => {
                    send_frame(send, &ServerFrame::error(None, code, m)).await;
                    return;
                }
                None => return,
            },
            _ = until_leaving(&mut going_away, &mut draining) => {
                let f = ServerFrame::Goaway {
                    reason: "node is shutting down or draining".into(),
                    alternatives: alternatives(state).await,
                };
                send_frame(send, &f).await;
                // The connection closes right after this stream ends, and a
                // QUIC close drops what the peer has not acknowledged: wait
                // (bounded) until the goaway frame is acknowledged.
                let _ = send.finish();
                let _ = tokio::time::timeout(GOAWAY_ACK_WAIT, send.stopped()).await;
                return;
            }
            _ = send.stopped() => return,
        }
    }
}

fn members_batch(prefix: &str, b: &crate::store::WatchBatch) -> Vec<Event> {
    b.events.iter().map(|ev| member_event(prefix, ev)).collect()
}

fn stored_batch(_prefix: &str, b: &crate::store::WatchBatch) -> Vec<Event> {
    b.events
        .iter()
        .filter_map(|ev| stored_event(ev, b.revision))
        .collect()
}

/// Sends a subscription's first answer (accepted or refused) and records
/// it like any request's.
async fn answer_subscribe(
    send: &mut quinn::SendStream,
    state: &NodeState,
    started: Instant,
    frame: &ServerFrame,
) -> bool {
    let code = match frame {
        ServerFrame::Error { error, .. } => Some(error.code),
        _ => None,
    };
    let elapsed = started.elapsed();
    state
        .cluster
        .stats
        .record_request(messages::types::SUBSCRIBE, code, elapsed);
    send_frame(send, frame).await
}

/// An event written by a domain module (see `orders::event_op`), with the
/// revision filled in where its data is an order. Deletes (housekeeping)
/// are not events.
fn stored_event(ev: &crate::store::WatchEvent, revision: i64) -> Option<Event> {
    if ev.kind != EventKind::Put {
        return None;
    }
    let mut e: Event = serde_json::from_slice(&ev.kv.value).ok()?;
    if e.kind.starts_with("order.")
        && let Some(obj) = e.data.as_object_mut()
    {
        obj.insert("revision".into(), serde_json::json!(revision));
    }
    Some(e)
}

/// How long until a token expiring at `exp` (Unix seconds) runs out.
fn token_left(exp: u64, now: u64) -> Duration {
    Duration::from_secs(exp.saturating_sub(now))
}

/// Resolves once the node starts going away (the guard `wait_for` returns
/// is not `Send`, so it must not live in a `select!` branch's body).
async fn until_going_away(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|g| *g).await;
}

/// Resolves once the node shuts down or is drained.
async fn until_leaving(going: &mut watch::Receiver<bool>, draining: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = until_going_away(going) => {}
        _ = until_going_away(draining) => {}
    }
}

/// Counts something while it lives (connections, subscriptions).
struct Counted<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Counted<'a> {
    fn new(c: &'a std::sync::atomic::AtomicU64) -> Self {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Counted(c)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn member_event(prefix: &str, ev: &crate::store::WatchEvent) -> Event {
    let subject = ev
        .kv
        .key
        .strip_prefix(prefix)
        .unwrap_or(&ev.kv.key)
        .to_string();
    match ev.kind {
        EventKind::Put => Event {
            kind: "member.up".into(),
            subject,
            data: serde_json::from_slice::<Member>(&ev.kv.value)
                .ok()
                .and_then(|m| serde_json::to_value(m).ok())
                .unwrap_or(serde_json::Value::Null),
        },
        EventKind::Delete => Event {
            kind: "member.down".into(),
            subject,
            data: serde_json::Value::Null,
        },
    }
}

/// Logs which payment gateway the node charges through (the sandbox, the
/// default, moves no money: say so loudly).
pub fn announce_payments(node: &str, config: &crate::config::Config) {
    use crate::config::GatewayKind;
    let (payments, production) = (&config.payments, config.production);
    match payments.gateway {
        GatewayKind::Http => {
            info!(node, gateway = "http", base_url = %payments.http_base_url, production, "payments: charging through the http gateway")
        }
        GatewayKind::Sandbox if config.gateway_named => {
            warn!(
                node,
                gateway = "sandbox",
                production,
                "payments: SANDBOX gateway (named in [payments]): test payment methods only, no money moves"
            )
        }
        GatewayKind::Sandbox => {
            warn!(
                node,
                gateway = "sandbox",
                production,
                "payments: SANDBOX gateway (no [payments] gateway configured): test payment methods only, no money moves"
            )
        }
    }
}

/// Logs a one-line summary of what the node serves.
pub fn announce(node: &str, addr: &str, store: &str, ca: Option<&std::path::Path>) {
    match ca {
        Some(ca) => {
            info!(node, %addr, store, ca = %ca.display(), "dfoodd ready: give clients the CA file")
        }
        None => info!(node, %addr, store, "dfoodd ready"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> ServerFrame {
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert_eq!(len, bytes.len() - 4, "one whole frame");
        serde_json::from_slice(&bytes[4..]).unwrap()
    }

    #[test]
    fn a_forwarded_client_address_is_believed_only_with_the_cluster_s_mac() {
        let kek = crate::secrets::Kek::generate();
        let conn: Option<IpAddr> = Some("10.0.0.5".parse().unwrap());
        let mut req = Request::new("auth.token", serde_json::json!({})).unwrap();
        assert_eq!(client_address(&req, &kek, conn), conn);
        // A client claiming another address, with or without a made-up MAC.
        req.via = Some("n1".into());
        req.peer = Some("192.0.2.9".into());
        assert_eq!(client_address(&req, &kek, conn), conn);
        req.peer_mac = Some("bm90IGEgbWFj".into());
        assert_eq!(client_address(&req, &kek, conn), conn);
        let other = crate::secrets::Kek::generate();
        req.peer_mac = Some(crate::secrets::peer_mac(&other, "n1", "192.0.2.9"));
        assert_eq!(client_address(&req, &kek, conn), conn);
        // A node of the cluster vouching for it.
        req.peer_mac = Some(crate::secrets::peer_mac(&kek, "n1", "192.0.2.9"));
        assert_eq!(
            client_address(&req, &kek, conn),
            Some("192.0.2.9".parse().unwrap())
        );
        // The MAC covers the forwarding node's name too.
        req.via = Some("n2".into());
        assert_eq!(client_address(&req, &kek, conn), conn);
    }

    #[test]
    fn an_answer_that_fits_goes_as_it_is() {
        let f = ServerFrame::ok(Some("r1".into()), serde_json::json!({"a": 1})).unwrap();
        assert_eq!(decode(&answer_bytes(&f, Some("r1".into()))), f);
    }

    #[test]
    fn an_answer_too_large_for_a_frame_becomes_a_too_large_error() {
        let big = "x".repeat(MAX_FRAME_LEN + 10);
        let f = ServerFrame::ok(Some("r2".into()), serde_json::json!({ "big": big })).unwrap();
        let bytes = answer_bytes(&f, Some("r2".into()));
        assert!(bytes.len() < 1024);
        match decode(&bytes) {
            ServerFrame::Error { id, error } => {
                assert_eq!(id.as_deref(), Some("r2"));
                assert_eq!(error.code, ErrorCode::TooLarge);
                assert!(error.message.contains("ask for less"), "{}", error.message);
            }
            other => panic!("{other:?}"),
        }
    }
}

//! A Stripe-style payment gateway for tests: a real HTTP/1.1 server on
//! 127.0.0.1 speaking the API `daemon::payments::http` documents, with
//! in-memory state, idempotency-key dedup, fault injection and a record of
//! every request.
//!
//! ```text
//! let server = GatewayServer::start().await;
//! server.inject(Fault::Fail500(2));          // the next 2 requests get 500
//! let gw = HttpGateway::new(HttpConfig { base_url: server.url(), api_key: server.api_key().into(), .. });
//! ...
//! assert_eq!(server.intents().len(), 1);
//! assert!(server.requests().iter().all(|r| r.idempotency_key.as_deref() == Some("k")));
//! ```
//!
//! Idempotency as Stripe does it: the first POST with a key runs, and its
//! answer (anything but a 5xx) is stored with the request's method, path and
//! body; a later POST with the same key and the same request gets the stored
//! answer (header `Idempotent-Replayed: true`), with another request a 400
//! `idempotency_error`. Requests are handled one at a time under a lock, so
//! concurrent duplicates cannot both run.
//!
//! Test payment methods: `pm_card_visa` (4242), `pm_card_mastercard` (4444),
//! `pm_card_declined` (402 `card_declined`), `pm_card_insufficient_funds`
//! (402 `card_declined` / `insufficient_funds`); anything else is a 400.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::json;

pub const API_KEY: &str = "sk_test_dfood";

/// A fault for the next `n` requests (counted over all requests, in the
/// order faults were injected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 without processing.
    Fail500(u32),
    /// Answer this status (e.g. 429, 503) without processing.
    Status(u32, u16),
    /// Process, then wait `delay` before answering (longer than the client's
    /// timeout: the effect happens, the client sees a timeout).
    Stall(u32, Duration),
    /// Process, then answer 500 (the effect happens; a retry is replayed).
    FailAfterProcessing(u32),
    /// Process the request twice, as if delivered twice, and answer the
    /// second result: idempotency must make the second a replay.
    AnswerTwice(u32),
    /// Close the connection without answering or processing.
    DropBeforeProcessing(u32),
    /// Process, then close the connection without answering.
    DropAfterProcessing(u32),
}

impl Fault {
    fn count(&self) -> u32 {
        match self {
            Fault::Fail500(n)
            | Fault::Status(n, _)
            | Fault::Stall(n, _)
            | Fault::FailAfterProcessing(n)
            | Fault::AnswerTwice(n)
            | Fault::DropBeforeProcessing(n)
            | Fault::DropAfterProcessing(n) => *n,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub idempotency_key: Option<String>,
    pub body: String,
    /// The fault applied to it, if any (`Debug` of [`Fault`]).
    pub fault: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Intent {
    pub id: String,
    pub object: &'static str,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub capture_method: String,
    pub amount_capturable: i64,
    pub amount_received: i64,
    /// Extension to Stripe's object (see `daemon::payments::http`).
    pub amount_refunded: i64,
    pub payment_method: String,
    /// Extension to Stripe's object.
    pub last4: String,
    pub description: String,
    pub metadata: HashMap<String, String>,
    /// The `Idempotency-Key` of the request that created it.
    #[serde(skip)]
    pub created_with_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub id: String,
    pub object: &'static str,
    pub amount: i64,
    pub payment_intent: String,
    pub status: &'static str,
}

struct Stored {
    fingerprint: (String, String, String),
    status: StatusCode,
    body: Bytes,
}

#[derive(Default)]
struct State {
    intents: Vec<Intent>,
    refunds: Vec<Refund>,
    idem: HashMap<String, Stored>,
    requests: Vec<RecordedRequest>,
    faults: VecDeque<(Fault, u32)>,
    replays: u32,
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running server; stops accepting when dropped.
pub struct GatewayServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for GatewayServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The error a service returns to make hyper close the connection unanswered.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injection: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

impl GatewayServer {
    /// Listens on 127.0.0.1:0 and serves until dropped. Needs a tokio runtime.
    pub async fn start() -> GatewayServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test gateway");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(s.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        GatewayServer {
            addr,
            shared,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT`, the gateway's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn api_key(&self) -> &'static str {
        API_KEY
    }

    /// Queues a fault for the next requests (after faults already queued).
    pub fn inject(&self, fault: Fault) {
        let n = fault.count();
        if n > 0 {
            self.shared.lock().faults.push_back((fault, n));
        }
    }

    /// Drops every queued fault: the gateway behaves from now on.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Every payment intent created, in order.
    pub fn intents(&self) -> Vec<Intent> {
        self.shared.lock().intents.clone()
    }

    pub fn refunds(&self) -> Vec<Refund> {
        self.shared.lock().refunds.clone()
    }

    /// How many requests were answered from the idempotency store.
    pub fn replays(&self) -> u32 {
        self.shared.lock().replays
    }
}

type Answer = Result<Response<Full<Bytes>>, DropConnection>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let key = header("idempotency-key");
    let authorised = header("authorization").as_deref() == Some(&format!("Bearer {API_KEY}"));
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let body_s = String::from_utf8_lossy(&body).into_owned();

    // Record and pick the fault, atomically.
    let fault = {
        let mut st = shared.lock();
        let fault = match st.faults.front_mut() {
            Some((f, left)) => {
                let f = f.clone();
                *left -= 1;
                if *left == 0 {
                    st.faults.pop_front();
                }
                Some(f)
            }
            None => None,
        };
        st.requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            idempotency_key: key.clone(),
            body: body_s.clone(),
            fault: fault.as_ref().map(|f| format!("{f:?}")),
        });
        fault
    };
    match &fault {
        Some(Fault::Fail500(_)) => {
            return Ok(respond(
                error(500, "api_error", None, "injected failure"),
                false,
            ));
        }
        Some(Fault::Status(_, code)) => {
            return Ok(respond(
                error(*code, "api_error", None, "injected status"),
                false,
            ));
        }
        Some(Fault::DropBeforeProcessing(_)) => return Err(DropConnection),
        _ => {}
    }
    if !authorised {
        return Ok(respond(
            error(
                401,
                "invalid_request_error",
                None,
                "Invalid API Key provided",
            ),
            false,
        ));
    }
    let run = || {
        let mut st = shared.lock();
        process(&mut st, &method, &path, &query, &body_s, key.as_deref())
    };
    let mut answer = run();
    match fault {
        Some(Fault::Stall(_, delay)) => tokio::time::sleep(delay).await,
        Some(Fault::FailAfterProcessing(_)) => {
            return Ok(respond(
                error(500, "api_error", None, "injected failure after processing"),
                false,
            ));
        }
        Some(Fault::DropAfterProcessing(_)) => return Err(DropConnection),
        Some(Fault::AnswerTwice(_)) => answer = run(),
        _ => {}
    }
    let (status, body, replayed) = answer;
    Ok(respond((status, body), replayed))
}

/// Runs one request through the idempotency layer. Returns the status, the
/// body and whether it was a replay.
fn process(
    st: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    body: &str,
    key: Option<&str>,
) -> (StatusCode, Bytes, bool) {
    let fingerprint = (method.to_string(), path.to_string(), body.to_string());
    if *method == Method::POST
        && let Some(k) = key
        && let Some(stored) = st.idem.get(k)
    {
        if stored.fingerprint != fingerprint {
            let (status, body) = error(
                400,
                "idempotency_error",
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            );
            return (status, body, false);
        }
        let out = (stored.status, stored.body.clone(), true);
        st.replays += 1;
        return out;
    }
    let params: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
    let (status, bytes) = route(st, method, path, query, &params, key);
    if *method == Method::POST
        && let Some(k) = key
        && !status.is_server_error()
    {
        st.idem.insert(
            k.to_string(),
            Stored {
                fingerprint,
                status,
                body: bytes.clone(),
            },
        );
    }
    (status, bytes, false)
}

/// A status and a JSON body.
type Reply = (StatusCode, Bytes);

fn json_response(status: u16, v: &impl Serialize) -> Reply {
    (
        StatusCode::from_u16(status).expect("status"),
        Bytes::from(serde_json::to_vec(v).expect("serialise")),
    )
}

fn respond((status, body): Reply, replayed: bool) -> Response<Full<Bytes>> {
    let mut resp = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if replayed {
        resp = resp.header("idempotent-replayed", "true");
    }
    resp.body(Full::new(body)).expect("response")
}

fn error(status: u16, kind: &str, code: Option<(&str, Option<&str>)>, message: &str) -> Reply {
    let mut e = json!({"type": kind, "message": message});
    if let Some((code, decline)) = code {
        e["code"] = json!(code);
        if let Some(d) = decline {
            e["decline_code"] = json!(d);
        }
    }
    json_response(status, &json!({ "error": e }))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn missing(name: &str) -> Reply {
    error(
        400,
        "invalid_request_error",
        Some(("parameter_missing", None)),
        &format!("Missing required param: {name}."),
    )
}

fn route(
    st: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    params: &[(String, String)],
    key: Option<&str>,
) -> Reply {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        (&Method::POST, ["v1", "payment_intents"]) => create_intent(st, params, key),
        (&Method::GET, ["v1", "payment_intents"]) => {
            let q: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
            let Some(k) = param(&q, "idempotency_key") else {
                return missing("idempotency_key");
            };
            let data: Vec<&Intent> = st
                .intents
                .iter()
                .filter(|i| i.created_with_key.as_deref() == Some(k))
                .collect();
            json_response(200, &json!({"object": "list", "data": data}))
        }
        (&Method::GET, ["v1", "payment_intents", id]) => match find(st, id) {
            Some(i) => json_response(200, &st.intents[i]),
            None => no_such(id),
        },
        (&Method::POST, ["v1", "payment_intents", id, action @ ("capture" | "cancel")]) => {
            let Some(i) = find(st, id) else {
                return no_such(id);
            };
            let intent = &mut st.intents[i];
            if intent.status != "requires_capture" {
                return error(
                    400,
                    "invalid_request_error",
                    Some(("payment_intent_unexpected_state", None)),
                    &format!(
                        "This PaymentIntent could not be {}d because it has a status of {}.",
                        if *action == "capture" {
                            "capture"
                        } else {
                            "cancele"
                        },
                        intent.status
                    ),
                );
            }
            if *action == "capture" {
                intent.status = "succeeded".into();
                intent.amount_received = intent.amount;
            } else {
                intent.status = "canceled".into();
            }
            intent.amount_capturable = 0;
            json_response(200, intent)
        }
        (&Method::POST, ["v1", "refunds"]) => {
            let Some(id) = param(params, "payment_intent") else {
                return missing("payment_intent");
            };
            let Some(i) = find(st, id) else {
                return no_such(id);
            };
            let left = st.intents[i].amount_received - st.intents[i].amount_refunded;
            let amount = match param(params, "amount").map(str::parse::<i64>) {
                None => left,
                Some(Ok(a)) if a > 0 => a,
                Some(_) => {
                    return error(400, "invalid_request_error", None, "Invalid amount.");
                }
            };
            if st.intents[i].status != "succeeded" {
                return error(
                    400,
                    "invalid_request_error",
                    Some(("payment_intent_unexpected_state", None)),
                    "This PaymentIntent has not been captured.",
                );
            }
            if amount > left {
                return error(
                    400,
                    "invalid_request_error",
                    Some(("amount_too_large", None)),
                    &format!("Refund amount ({amount}) is greater than the {left} left to refund."),
                );
            }
            st.intents[i].amount_refunded += amount;
            let refund = Refund {
                id: format!("re_test_{:06}", st.refunds.len() + 1),
                object: "refund",
                amount,
                payment_intent: st.intents[i].id.clone(),
                status: "succeeded",
            };
            st.refunds.push(refund.clone());
            let mut v = serde_json::to_value(&refund).expect("refund");
            if params
                .iter()
                .any(|(k, v)| k == "expand[]" && v == "payment_intent")
            {
                v["payment_intent"] = serde_json::to_value(&st.intents[i]).expect("intent");
            }
            json_response(200, &v)
        }
        _ => error(
            404,
            "invalid_request_error",
            None,
            &format!("Unrecognized request URL ({method} {path})."),
        ),
    }
}

fn find(st: &State, id: &str) -> Option<usize> {
    st.intents.iter().position(|i| i.id == id)
}

fn no_such(id: &str) -> Reply {
    error(
        404,
        "invalid_request_error",
        Some(("resource_missing", None)),
        &format!("No such payment_intent: '{id}'"),
    )
}

fn create_intent(st: &mut State, params: &[(String, String)], key: Option<&str>) -> Reply {
    let Some(amount) = param(params, "amount") else {
        return missing("amount");
    };
    let Ok(amount) = amount.parse::<i64>() else {
        return error(
            400,
            "invalid_request_error",
            None,
            "Invalid integer: amount",
        );
    };
    if amount <= 0 {
        return error(
            400,
            "invalid_request_error",
            None,
            "Amount must be positive.",
        );
    }
    let Some(currency) = param(params, "currency") else {
        return missing("currency");
    };
    let Some(pm) = param(params, "payment_method") else {
        return missing("payment_method");
    };
    if param(params, "confirm") != Some("true") {
        return error(
            400,
            "invalid_request_error",
            None,
            "This test server only supports confirm=true.",
        );
    }
    let manual = match param(params, "capture_method").unwrap_or("automatic") {
        "manual" => true,
        "automatic" => false,
        other => {
            return error(
                400,
                "invalid_request_error",
                None,
                &format!("Invalid capture_method: {other}"),
            );
        }
    };
    let last4 = match pm {
        "pm_card_visa" => "4242",
        "pm_card_mastercard" => "4444",
        "pm_card_declined" => {
            return error(
                402,
                "card_error",
                Some(("card_declined", Some("generic_decline"))),
                "Your card was declined.",
            );
        }
        "pm_card_insufficient_funds" => {
            return error(
                402,
                "card_error",
                Some(("card_declined", Some("insufficient_funds"))),
                "Your card has insufficient funds.",
            );
        }
        other => {
            return error(
                400,
                "invalid_request_error",
                Some(("resource_missing", None)),
                &format!("No such PaymentMethod: '{other}'"),
            );
        }
    };
    let metadata = params
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect();
    let intent = Intent {
        id: format!("pi_test_{:06}", st.intents.len() + 1),
        object: "payment_intent",
        amount,
        currency: currency.to_string(),
        status: if manual {
            "requires_capture"
        } else {
            "succeeded"
        }
        .into(),
        capture_method: if manual { "manual" } else { "automatic" }.into(),
        amount_capturable: if manual { amount } else { 0 },
        amount_received: if manual { 0 } else { amount },
        amount_refunded: 0,
        payment_method: pm.to_string(),
        last4: last4.into(),
        description: param(params, "description").unwrap_or("").to_string(),
        metadata,
        created_with_key: key.map(str::to_string),
    };
    st.intents.push(intent.clone());
    json_response(200, &intent)
}

//! [`Store`] on an etcd cluster, through etcd-client.
//!
//! etcd-client given several endpoints keeps routing some requests to a dead
//! member for as long as it stays dead (see shared/MEASUREMENTS.md), so we
//! keep one client per endpoint and choose ourselves: requests go to the
//! "preferred" endpoint; on a transport failure or timeout the preference
//! moves to the next endpoint.
//!
//! An etcd leader election (1–4 s) is a stall, not a failure: every request
//! is retried across the endpoints, with a short backoff, for up to
//! [`STALL`] before it fails with one clear line ("etcd has no leader",
//! "cannot connect to etcd"), never a transport's debug text. Once a
//! request has failed so, etcd counts as out of reach and the next ones
//! try for [`FAIL_FAST`] only, until one succeeds: a node cut off etcd
//! answers its clients within their timeouts. Reads, lease
//! keep-alives and watches are always safe to send again. A transaction
//! is sent again at once when the failure proves it never reached etcd (no
//! connection, or "no leader": we ask for `require_leader`, so a member
//! without one refuses before proposing). After a failure that leaves its
//! outcome unknown (a timeout, a connection lost mid-request), it is first
//! looked for: if every key it puts holds exactly the value it put, at one
//! revision, it was applied and that is the answer; otherwise it is sent
//! again, and its compares decide as for any other attempt. (A linearizable
//! read on the new leader sees every entry the old one committed, and an
//! entry it did not commit can never be.)
//!
//! A range is read in pages at one revision (`Store::range` promises the
//! whole prefix as one snapshot; one etcd answer may not exceed the
//! client's 4 MiB, and every order in a busy hot store is more).
//!
//! Security ([`EtcdStore::connect_with`], from the `[etcd]` config):
//! `https://` endpoints are verified against the given CA only; a client
//! certificate and key give mutual TLS (etcd's `--client-cert-auth`; with
//! etcd auth enabled its CN is the user); a username and password log in
//! to etcd's RBAC (etcd-client renews the auth token when it expires).
//! Every key the daemon touches is under `/dfood` (the revision probe
//! too), so one etcd role with read-write on the prefix `/dfood` is
//! enough.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client as ec;
use futures::StreamExt;
use tokio::sync::Mutex;

use super::{
    CompareOp, CompareTarget, EventKind, KeyValue, LeaseId, RangeResponse, Revision, Store,
    StoreError, Txn, TxnOp, TxnResponse, WatchBatch, WatchEvent, WatchStream,
};
use crate::locks::LockAnyway;

/// etcd's default backend quota (`--quota-backend-bytes`), for members that
/// do not report theirs.
const DEFAULT_QUOTA: u64 = 2 << 30;

/// How long one etcd request may take before the endpoint counts as failing.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a request keeps trying through an election or a dead member
/// before it fails: longer than etcd's elections measured here (1.0–2.7 s
/// after a leader's kill -9 on a quiet machine, 3.9 s once in CI on two
/// busy cores), shorter than a client's 5 s request timeout, so the client
/// hears the error instead of timing out. No attempt outlives it: the last
/// one is cut to the time left.
pub const STALL: Duration = Duration::from_millis(4500);
/// How long a request tries once a request has stalled for all of
/// [`STALL`] and failed, until one succeeds: etcd is out of reach (a
/// partition, its members down), and a client request that needs several
/// store calls hears "unavailable" within one stall and a few of these,
/// not one stall per call.
pub const FAIL_FAST: Duration = Duration::from_millis(1000);

struct Endpoint {
    url: String,
    client: Mutex<Option<ec::Client>>,
}

pub struct EtcdStore {
    endpoints: Vec<Endpoint>,
    preferred: AtomicUsize,
    /// TLS and user for every connection (requests, member status).
    security: crate::config::EtcdCredentials,
    /// Gets waiting to go to etcd together (see [`EtcdStore::get`]).
    gets: std::sync::Mutex<WaitingGets>,
    /// This store, for the task that sends the waiting gets.
    me: std::sync::OnceLock<std::sync::Weak<EtcdStore>>,
    /// A request failed after trying for all of [`STALL`], and none has
    /// succeeded since: requests try for [`FAIL_FAST`] only.
    out_of_reach: AtomicBool,
}

type GetAnswer = Result<Option<KeyValue>, StoreError>;

#[derive(Default)]
struct WaitingGets {
    waiting: Vec<(String, tokio::sync::oneshot::Sender<GetAnswer>)>,
    /// A task is on its way to send `waiting`.
    scheduled: bool,
    /// Read transactions sent and not answered yet.
    in_flight: usize,
}

/// At most this many read transactions of gathered gets in etcd at once;
/// more gets wait for one to come back and go together then.
const MAX_GETS_IN_FLIGHT: usize = 2;

/// The most keys one read transaction carries (etcd's default
/// `--max-txn-ops`).
const MAX_GETS: usize = 128;

/// The options every connection to etcd starts from: TLS (CA, client
/// certificate) and user, as configured.
fn base_options(sec: &crate::config::EtcdCredentials) -> ec::ConnectOptions {
    let mut opts = ec::ConnectOptions::new();
    if let Some(ca) = &sec.ca_pem {
        let mut tls = ec::TlsOptions::new().ca_certificate(ec::Certificate::from_pem(ca));
        if let Some((cert, key)) = &sec.identity {
            tls = tls.identity(ec::Identity::from_pem(cert, key));
        }
        opts = opts.with_tls(tls);
    }
    if let Some((user, password)) = &sec.user {
        opts = opts.with_user(user.clone(), password.clone());
    }
    opts
}

/// Whether a failed request may have reached etcd.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// It cannot have been applied (no connection).
    NotSent,
    /// It may have been applied (timeout, or the connection broke).
    Unknown,
}

/// The key a revision probe reads (count only): under `/dfood`, so that
/// an etcd role limited to that prefix may read it.
const REVISION_PROBE: &str = "/dfood/\0revision-probe";

/// One line for a connection that etcd refused: authentication failures
/// say so (they will not pass by waiting).
fn connect_error(url: &str, e: ec::Error) -> StoreError {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("authentication failed")
        || lower.contains("invalid auth")
        || lower.contains("user name is empty")
        || lower.contains("permission denied")
        || lower.contains("certificate")
        || lower.contains("tls")
    {
        return StoreError::Unavailable(format!("{url}: etcd refused the credentials: {text}"));
    }
    StoreError::Unavailable(format!("{url}: {e}"))
}

fn normalise(url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

fn classify(e: &ec::Error) -> Option<Delivery> {
    match e {
        ec::Error::TransportError(_) | ec::Error::IoError(_) => Some(Delivery::NotSent),
        ec::Error::GRpcStatus(s) => match s.code() {
            tonic_code::UNAVAILABLE => {
                let m = s.message().to_ascii_lowercase();
                // "no leader": refused before any proposal (require_leader).
                if m.contains("connect")
                    || m.contains("connection refused")
                    || m.contains("no leader")
                {
                    Some(Delivery::NotSent)
                } else {
                    Some(Delivery::Unknown)
                }
            }
            tonic_code::DEADLINE_EXCEEDED | tonic_code::CANCELLED | tonic_code::UNKNOWN => {
                Some(Delivery::Unknown)
            }
            _ => None,
        },
        _ => None,
    }
}

/// gRPC status codes, from the tonic version etcd-client uses.
mod tonic_code {
    use tonic::Code;
    pub const UNAVAILABLE: Code = Code::Unavailable;
    pub const DEADLINE_EXCEEDED: Code = Code::DeadlineExceeded;
    pub const CANCELLED: Code = Code::Cancelled;
    pub const UNKNOWN: Code = Code::Unknown;
}

/// One clear line for a failure that lets the request be tried again.
fn describe(e: &ec::Error) -> String {
    let text = match e {
        ec::Error::GRpcStatus(s) => s.message().to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    };
    if text.contains("no leader") {
        "etcd has no leader (an election is under way)".into()
    } else if text.contains("leader changed") {
        "etcd's leader changed during the request".into()
    } else if text.contains("request timed out") || text.contains("deadline") {
        "etcd did not answer in time".into()
    } else if matches!(e, ec::Error::TransportError(_) | ec::Error::IoError(_))
        || text.contains("connect")
        || text.contains("refused")
    {
        "cannot connect to etcd".into()
    } else {
        "lost the connection to etcd".into()
    }
}

fn map_err(e: ec::Error) -> StoreError {
    match &e {
        ec::Error::GRpcStatus(s) => {
            let m = s.message();
            if m.contains("requested lease not found") || m.contains("lease not found") {
                // The id is not in the message; callers that know it re-map.
                return StoreError::LeaseNotFound(0);
            }
            if m.contains("compacted") {
                return StoreError::Compacted {
                    requested: 0,
                    compact_revision: 0,
                };
            }
            if m.contains("duplicate key") || m.contains("future revision") {
                return StoreError::Invalid(m.to_string());
            }
            if classify(&e).is_some() {
                return StoreError::Unavailable(describe(&e));
            }
            StoreError::Internal(m.to_string())
        }
        ec::Error::LeaseKeepAliveError(m) if m.contains("not found") => {
            StoreError::LeaseNotFound(0)
        }
        _ if classify(&e).is_some() => StoreError::Unavailable(describe(&e)),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// etcd's "lease not found" does not name the lease; put the id back.
fn name_lease<T>(r: Result<T, StoreError>, id: LeaseId) -> Result<T, StoreError> {
    r.map_err(|e| match e {
        StoreError::LeaseNotFound(_) => StoreError::LeaseNotFound(id),
        e => e,
    })
}

fn kv_from(kv: &ec::KeyValue) -> KeyValue {
    KeyValue {
        key: String::from_utf8_lossy(kv.key()).into_owned(),
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
        lease: kv.lease(),
    }
}

/// Keys per page of [`EtcdStore::range`] (fewer when a page of large
/// values would not fit in one answer).
const RANGE_PAGE: i64 = 1000;

/// The gRPC client refused an answer larger than it takes (4 MiB).
fn too_large(message: &str) -> bool {
    message.contains("message length too large")
}

fn prefix_end(prefix: &str) -> Vec<u8> {
    // etcd's "with_prefix": the smallest key greater than every key with
    // this prefix.
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl EtcdStore {
    async fn get_one(&self, key: &str) -> GetAnswer {
        self.get_until(key, self.deadline()).await
    }

    /// One key, read alone, trying until `deadline`.
    async fn get_until(&self, key: &str, deadline: tokio::time::Instant) -> GetAnswer {
        let resp = self
            .run_until(
                true,
                deadline,
                |mut c| async move { c.get(key, None).await },
            )
            .await
            .map_err(|(e, _)| e)?;
        Ok(resp.kvs().first().map(kv_from))
    }

    /// Sends the gets waiting now (see [`EtcdStore::get`]), in read-only
    /// transactions of at most [`MAX_GETS`] distinct keys; a key asked for
    /// twice is read once. A transaction whose answer would not fit in
    /// one message (large values) is read key by key instead.
    async fn send_gets(&self) {
        let mut waiting = {
            let mut g = self.gets.lock_anyway();
            g.scheduled = false;
            g.in_flight += 1;
            std::mem::take(&mut g.waiting)
        };
        loop {
            self.send_these(std::mem::take(&mut waiting)).await;
            // Gets that came meanwhile and found no room go now, together.
            let mut g = self.gets.lock_anyway();
            if g.waiting.is_empty() || g.scheduled {
                g.in_flight -= 1;
                return;
            }
            waiting = std::mem::take(&mut g.waiting);
        }
    }

    async fn send_these(&self, waiting: Vec<(String, tokio::sync::oneshot::Sender<GetAnswer>)>) {
        let mut by_key: std::collections::BTreeMap<String, Vec<_>> = Default::default();
        for (key, tx) in waiting {
            by_key.entry(key).or_default().push(tx);
        }
        let keys: Vec<String> = by_key.keys().cloned().collect();
        let batches = keys.chunks(MAX_GETS).map(|chunk| async move {
            let answers = self.get_many(chunk).await;
            (chunk, answers)
        });
        for (chunk, answers) in futures::future::join_all(batches).await {
            for (key, answer) in chunk.iter().zip(answers) {
                for tx in by_key.remove(key).unwrap_or_default() {
                    let _ = tx.send(answer.clone());
                }
            }
        }
    }

    /// One answer per key of `keys`, in order.
    async fn get_many(&self, keys: &[String]) -> Vec<GetAnswer> {
        if let [key] = keys {
            return vec![self.get_one(key).await];
        }
        // A transaction of gets only: it writes nothing, so sending it
        // again after an unknown outcome is safe.
        let txn = Txn::new().and_then(keys.iter().map(|k| TxnOp::get(k.as_str())));
        match Store::txn(self, txn).await {
            Ok(r) => {
                let mut found: Vec<GetAnswer> = r.gets.into_iter().map(Ok).collect();
                found.resize_with(keys.len(), || {
                    Err(StoreError::Internal(
                        "etcd answered fewer gets than asked".into(),
                    ))
                });
                found
            }
            Err(StoreError::Internal(m)) if too_large(&m) => {
                futures::future::join_all(keys.iter().map(|k| self.get_one(k))).await
            }
            Err(e) => vec![Err(e); keys.len()],
        }
    }

    /// Connects to the first reachable endpoint. Endpoints that are down now
    /// are connected lazily when requests move to them.
    pub async fn connect(endpoints: &[String]) -> Result<Arc<EtcdStore>, StoreError> {
        Self::connect_with(endpoints, &crate::config::EtcdCredentials::default()).await
    }

    /// As [`EtcdStore::connect`], with TLS, a client certificate and an
    /// etcd user (see the module doc).
    pub async fn connect_with(
        endpoints: &[String],
        security: &crate::config::EtcdCredentials,
    ) -> Result<Arc<EtcdStore>, StoreError> {
        if endpoints.is_empty() {
            return Err(StoreError::Invalid("no etcd endpoints given".into()));
        }
        let store = EtcdStore {
            endpoints: endpoints
                .iter()
                .map(|u| Endpoint {
                    url: normalise(u),
                    client: Mutex::new(None),
                })
                .collect(),
            preferred: AtomicUsize::new(0),
            security: security.clone(),
            gets: Default::default(),
            me: Default::default(),
            out_of_reach: AtomicBool::new(false),
        };
        let mut last = None;
        for i in 0..store.endpoints.len() {
            match store.client(i).await {
                Ok(mut c) => match tokio::time::timeout(REQUEST_TIMEOUT, c.status()).await {
                    Ok(Ok(_)) => {
                        store.preferred.store(i, Ordering::Relaxed);
                        let store = Arc::new(store);
                        let _ = store.me.set(Arc::downgrade(&store));
                        return Ok(store);
                    }
                    Ok(Err(e)) => last = Some(map_err(e)),
                    Err(_) => last = Some(StoreError::Unavailable("status timed out".into())),
                },
                Err(e) => last = Some(e),
            }
        }
        Err(StoreError::Unavailable(format!(
            "no etcd endpoint of {} answered: {}",
            endpoints.join(","),
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    async fn client(&self, i: usize) -> Result<ec::Client, StoreError> {
        let ep = &self.endpoints[i];
        let mut slot = ep.client.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let opts = base_options(&self.security)
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2))
            .with_require_leader(true);
        let c = ec::Client::connect([ep.url.as_str()], Some(opts))
            .await
            .map_err(|e| connect_error(&ep.url, e))?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// When a request starting now stops trying: after [`STALL`], or
    /// [`FAIL_FAST`] while etcd is out of reach.
    fn deadline(&self) -> tokio::time::Instant {
        let budget = if self.out_of_reach.load(Ordering::Relaxed) {
            FAIL_FAST
        } else {
            STALL
        };
        tokio::time::Instant::now() + budget
    }

    /// [`EtcdStore::run_until`] the request's own [`EtcdStore::deadline`].
    async fn run<T, F, Fut>(&self, idempotent: bool, op: F) -> Result<T, (StoreError, Delivery)>
    where
        F: Fn(ec::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, ec::Error>>,
    {
        self.run_until(idempotent, self.deadline(), op).await
    }

    /// Runs `op` on the preferred endpoint, moving on to the next endpoints
    /// and trying again (with a short backoff) on failures that allow it,
    /// until `deadline` (see the module doc); no attempt outlives it. A
    /// failure whose outcome is unknown ends the attempts of a request
    /// that is not `idempotent`: its error says [`Delivery::Unknown`].
    async fn run_until<T, F, Fut>(
        &self,
        idempotent: bool,
        deadline: tokio::time::Instant,
        op: F,
    ) -> Result<T, (StoreError, Delivery)>
    where
        F: Fn(ec::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, ec::Error>>,
    {
        let n = self.endpoints.len();
        let mut backoff = Duration::from_millis(50);
        let mut last = StoreError::Unavailable("no endpoint tried".into());
        loop {
            let start = self.preferred.load(Ordering::Relaxed);
            for k in 0..n {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    return Err(self.gave_up(last));
                }
                let i = (start + k) % n;
                let client = match tokio::time::timeout(left, self.client(i)).await {
                    Ok(Ok(c)) => c,
                    Ok(Err(e)) => {
                        last = e;
                        self.move_preference(i);
                        continue;
                    }
                    Err(_) => {
                        last = StoreError::Unavailable(format!(
                            "cannot connect to etcd at {}: no answer",
                            self.endpoints[i].url
                        ));
                        continue;
                    }
                };
                let limit = REQUEST_TIMEOUT.min(left);
                let delivery = match tokio::time::timeout(limit, op(client)).await {
                    Ok(Ok(v)) => {
                        self.out_of_reach.store(false, Ordering::Relaxed);
                        return Ok(v);
                    }
                    Ok(Err(e)) => match classify(&e) {
                        None => return Err((map_err(e), Delivery::NotSent)),
                        Some(d) => {
                            last = StoreError::Unavailable(describe(&e));
                            d
                        }
                    },
                    Err(_) => {
                        last = StoreError::Unavailable(format!(
                            "etcd did not answer within {limit:?}"
                        ));
                        Delivery::Unknown
                    }
                };
                self.move_preference(i);
                if delivery == Delivery::Unknown && !idempotent {
                    return Err((last, Delivery::Unknown));
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(self.gave_up(last));
            }
            tokio::time::sleep(backoff.min(left)).await;
            backoff = (backoff * 2).min(Duration::from_millis(400));
        }
    }

    /// A request that tried until its deadline and failed: etcd is out of
    /// reach until a request succeeds.
    fn gave_up(&self, last: StoreError) -> (StoreError, Delivery) {
        self.out_of_reach.store(true, Ordering::Relaxed);
        (last, Delivery::NotSent)
    }

    /// [`EtcdStore::run`] for requests whose outcome need not be told.
    async fn call<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: Fn(ec::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, ec::Error>>,
    {
        self.run(true, op).await.map_err(|(e, _)| e)
    }

    /// Whether `txn`, whose outcome is unknown, was applied: `Some` with its
    /// answer when every key its success branch puts holds exactly the
    /// value put, all at one revision; `None` when it was not, or when that
    /// cannot be told (no puts, or gets whose answers are gone).
    async fn applied(
        &self,
        txn: &Txn,
        deadline: tokio::time::Instant,
    ) -> Result<Option<TxnResponse>, StoreError> {
        let puts: Vec<(&String, &Vec<u8>)> = txn
            .success
            .iter()
            .filter_map(|op| match op {
                TxnOp::Put { key, value, .. } => Some((key, value)),
                _ => None,
            })
            .collect();
        let has_gets = txn.success.iter().any(|op| matches!(op, TxnOp::Get { .. }));
        if puts.is_empty() || has_gets {
            return Ok(None);
        }
        let mut revision = None;
        for (key, value) in puts {
            let found = self.get_until(key, deadline).await?;
            match found {
                Some(kv) if kv.value == *value && revision.is_none_or(|r| r == kv.mod_revision) => {
                    revision = Some(kv.mod_revision);
                }
                _ => return Ok(None),
            }
        }
        Ok(revision.map(|revision| TxnResponse {
            succeeded: true,
            revision,
            gets: Vec::new(),
        }))
    }

    /// In pages (see [`RANGE_PAGE`]): one answer of etcd's may not exceed
    /// the client's 4 MiB, and a prefix (every order in the hot store) can
    /// hold more. Every page after the first is read at the first one's
    /// revision, so the whole is one snapshot; a page too large for one
    /// answer is asked for again with fewer keys; a snapshot compacted
    /// away between two pages is read again from the start.
    async fn paged_range(
        &self,
        prefix: &str,
        keys_only: bool,
    ) -> Result<RangeResponse, StoreError> {
        let end = prefix_end(prefix);
        let mut restarts = 0;
        'snapshot: loop {
            let mut kvs = Vec::new();
            let mut start = prefix.as_bytes().to_vec();
            let mut revision = 0;
            let mut limit = RANGE_PAGE;
            loop {
                let page = self
                    .call(|mut c| {
                        let (start, end) = (start.clone(), end.clone());
                        async move {
                            let mut o = ec::GetOptions::new().with_range(end).with_limit(limit);
                            if keys_only {
                                o = o.with_keys_only();
                            }
                            if revision > 0 {
                                o = o.with_revision(revision);
                            }
                            c.get(start, Some(o)).await
                        }
                    })
                    .await;
                let resp = match page {
                    Ok(r) => r,
                    Err(StoreError::Internal(m)) if too_large(&m) && limit > 1 => {
                        limit = (limit / 4).max(1);
                        continue;
                    }
                    Err(StoreError::Compacted { .. }) if revision > 0 && restarts < 3 => {
                        restarts += 1;
                        continue 'snapshot;
                    }
                    Err(e) => return Err(e),
                };
                if revision == 0 {
                    revision = resp.header().map_or(0, |h| h.revision());
                }
                kvs.extend(resp.kvs().iter().map(kv_from));
                match resp.kvs().last() {
                    Some(last) if resp.more() => {
                        // The next page starts just after the last key.
                        start = last.key().to_vec();
                        start.push(0);
                    }
                    _ => return Ok(RangeResponse { kvs, revision }),
                }
            }
        }
    }

    fn move_preference(&self, failed: usize) {
        let next = (failed + 1) % self.endpoints.len();
        let _ = self
            .preferred
            .compare_exchange(failed, next, Ordering::Relaxed, Ordering::Relaxed);
    }
}

fn to_ec_compare(c: &super::Compare) -> ec::Compare {
    let op = match c.op {
        CompareOp::Equal => ec::CompareOp::Equal,
        CompareOp::NotEqual => ec::CompareOp::NotEqual,
        CompareOp::Greater => ec::CompareOp::Greater,
        CompareOp::Less => ec::CompareOp::Less,
    };
    let key = c.key.as_bytes().to_vec();
    match &c.target {
        CompareTarget::Value(v) => ec::Compare::value(key, op, v.clone()),
        CompareTarget::Version(v) => ec::Compare::version(key, op, *v),
        CompareTarget::ModRevision(r) => ec::Compare::mod_revision(key, op, *r),
        CompareTarget::CreateRevision(r) => ec::Compare::create_revision(key, op, *r),
    }
}

fn to_ec_op(op: &TxnOp) -> ec::TxnOp {
    match op {
        TxnOp::Put { key, value, lease } => {
            let opts = (*lease != 0).then(|| ec::PutOptions::new().with_lease(*lease));
            ec::TxnOp::put(key.as_bytes().to_vec(), value.clone(), opts)
        }
        TxnOp::Delete { key } => ec::TxnOp::delete(key.as_bytes().to_vec(), None),
        TxnOp::Get { key } => ec::TxnOp::get(key.as_bytes().to_vec(), None),
    }
}

fn first_lease(txn: &Txn) -> LeaseId {
    txn.success
        .iter()
        .chain(txn.failure.iter())
        .find_map(|op| match op {
            TxnOp::Put { lease, .. } if *lease != 0 => Some(*lease),
            _ => None,
        })
        .unwrap_or(0)
}

#[async_trait]
impl Store for EtcdStore {
    fn kind(&self) -> &'static str {
        "etcd"
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        // A count-only range of an unused key: just the header revision.
        let resp = self
            .call(|mut c| async move {
                c.get(
                    REVISION_PROBE,
                    Some(ec::GetOptions::new().with_count_only()),
                )
                .await
            })
            .await?;
        Ok(resp.header().map_or(0, |h| h.revision()))
    }

    /// Gets asked for at the same moment go to etcd together, as one
    /// read-only transaction (one linearizable read of many keys at one
    /// revision, where separate gets are a request and a read-index round
    /// each): a placement reads five or six keys at once, and a busy node
    /// many placements' keys. "The same moment" is until the asking task
    /// yields, or, when [`MAX_GETS_IN_FLIGHT`] read transactions are in
    /// etcd already, until one comes back. Nothing waits for a timer, and
    /// on an idle node a get goes at once.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let Some(me) = self.me.get().and_then(std::sync::Weak::upgrade) else {
            return self.get_one(key).await;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let send = {
            let mut g = self.gets.lock_anyway();
            g.waiting.push((key.to_string(), tx));
            let send = !g.scheduled && g.in_flight < MAX_GETS_IN_FLIGHT;
            if send {
                g.scheduled = true;
            }
            send
        };
        if send {
            tokio::spawn(async move {
                // Let the tasks that are ready ask for theirs first.
                tokio::task::yield_now().await;
                me.send_gets().await;
            });
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the read was dropped before etcd answered".into(),
            ))
        })
    }

    async fn range(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.paged_range(prefix, false).await
    }

    /// Keys only: etcd leaves the values out of its answers.
    async fn range_keys(&self, prefix: &str) -> Result<RangeResponse, StoreError> {
        self.paged_range(prefix, true).await
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        let ec_txn = ec::Txn::new()
            .when(txn.compares.iter().map(to_ec_compare).collect::<Vec<_>>())
            .and_then(txn.success.iter().map(to_ec_op).collect::<Vec<_>>())
            .or_else(txn.failure.iter().map(to_ec_op).collect::<Vec<_>>());
        // One deadline for every attempt and every look for an applied one.
        let deadline = self.deadline();
        let resp = loop {
            let attempt = self
                .run_until(false, deadline, |mut c| {
                    let t = ec_txn.clone();
                    async move { c.txn(t).await }
                })
                .await;
            match attempt {
                Ok(r) => break r,
                Err((e, Delivery::NotSent)) => return name_lease(Err(e), first_lease(&txn)),
                Err((e, Delivery::Unknown)) => {
                    // In doubt: applied, or send it again (compares decide).
                    if let Some(r) = self.applied(&txn, deadline).await? {
                        return Ok(r);
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(e);
                    }
                }
            }
        };
        let gets = resp
            .op_responses()
            .into_iter()
            .filter_map(|r| match r {
                ec::TxnOpResponse::Get(g) => Some(g.kvs().first().map(kv_from)),
                _ => None,
            })
            .collect();
        Ok(TxnResponse {
            succeeded: resp.succeeded(),
            revision: resp.header().map_or(0, |h| h.revision()),
            gets,
        })
    }

    async fn lease_grant(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        let secs = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        // Not idempotent in general, but a lease granted twice is harmless:
        // the unused one expires on its own.
        let resp = self
            .call(|mut c| async move { c.lease_grant(secs, None).await })
            .await?;
        Ok(resp.id())
    }

    async fn lease_keep_alive(&self, id: LeaseId) -> Result<Duration, StoreError> {
        let ttl = self
            .call(|mut c| async move {
                let (mut keeper, mut stream) = c.lease_keep_alive(id).await?;
                keeper.keep_alive().await?;
                match stream.message().await? {
                    Some(r) => Ok(r.ttl()),
                    None => Ok(0),
                }
            })
            .await;
        let ttl = name_lease(ttl, id)?;
        if ttl <= 0 {
            return Err(StoreError::LeaseNotFound(id));
        }
        Ok(Duration::from_secs(u64::try_from(ttl).unwrap_or(0)))
    }

    async fn lease_time_to_live(&self, id: LeaseId) -> Result<Duration, StoreError> {
        let ttl = self
            .call(|mut c| async move { c.lease_time_to_live(id, None).await })
            .await?
            .ttl();
        if ttl < 0 {
            return Err(StoreError::LeaseNotFound(id));
        }
        Ok(Duration::from_secs(u64::try_from(ttl).unwrap_or(0)))
    }

    async fn lease_revoke(&self, id: LeaseId) -> Result<(), StoreError> {
        name_lease(
            self.call(|mut c| async move { c.lease_revoke(id).await })
                .await,
            id,
        )
        .map(|_| ())
    }

    async fn usage(&self) -> Option<protocol::messages::cluster::StoreUsage> {
        let s = self
            .call(|mut c| async move { c.status().await })
            .await
            .ok()?;
        let keys = self
            .call(|mut c| async move {
                c.get(
                    "/dfood/",
                    Some(ec::GetOptions::new().with_prefix().with_count_only()),
                )
                .await
            })
            .await
            .ok()
            .and_then(|r| u64::try_from(r.count()).ok());
        let bytes = |v: i64| u64::try_from(v).ok().filter(|b| *b > 0);
        Some(protocol::messages::cluster::StoreUsage {
            bytes: bytes(s.db_size()).unwrap_or(0),
            in_use_bytes: bytes(s.raft_used_db_size()),
            keys,
            // etcd 3.4 does not report it: its default, 2 GiB.
            quota_bytes: Some(bytes(s.db_size_quota()).unwrap_or(DEFAULT_QUOTA)),
            ..Default::default()
        })
    }

    async fn store_members(&self) -> Vec<protocol::messages::cluster::StoreMember> {
        use protocol::messages::cluster::StoreMember;
        let list = self
            .call(|mut c| async move { c.member_list().await })
            .await;
        let members = match list {
            Ok(l) => l.members().to_vec(),
            Err(e) => {
                return self
                    .endpoints
                    .iter()
                    .map(|ep| StoreMember {
                        name: String::new(),
                        endpoint: ep.url.clone(),
                        healthy: false,
                        error: Some(e.to_string()),
                        leader: false,
                    })
                    .collect();
            }
        };
        let mut out = Vec::new();
        for m in members {
            let endpoint = m.client_urls().first().cloned().unwrap_or_default();
            let status = async {
                let opts = base_options(&self.security)
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(Duration::from_secs(1));
                let mut c = ec::Client::connect([endpoint.as_str()], Some(opts)).await?;
                c.status().await
            };
            let (healthy, error, leader) =
                match tokio::time::timeout(Duration::from_secs(2), status).await {
                    Ok(Ok(s)) => (
                        s.errors().is_empty(),
                        s.errors().first().cloned(),
                        s.leader() == m.id(),
                    ),
                    Ok(Err(e)) => (false, Some(e.to_string()), false),
                    Err(_) => (false, Some("no answer within 2 s".into()), false),
                };
            out.push(StoreMember {
                name: m.name().to_string(),
                endpoint,
                healthy,
                error,
                leader,
            });
        }
        out
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        match self
            .call(|mut c| async move {
                c.compact(revision, Some(ec::CompactionOptions::new().with_physical()))
                    .await
            })
            .await
        {
            Ok(_) => Ok(()),
            // Compacting at or below the current compaction point: already done.
            Err(StoreError::Compacted { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn watch(
        &self,
        prefix: &str,
        start_revision: Revision,
    ) -> Result<WatchStream, StoreError> {
        let mut opts = ec::WatchOptions::new()
            .with_range(prefix_end(prefix))
            .with_progress_notify();
        if start_revision > 0 {
            opts = opts.with_start_revision(start_revision);
        }
        let key = prefix.as_bytes().to_vec();
        let mut stream = self
            .call(|mut c| {
                let (k, o) = (key.clone(), opts.clone());
                async move { c.watch(k, Some(o)).await }
            })
            .await?;
        // The first response confirms creation, or reports compaction.
        let first = tokio::time::timeout(REQUEST_TIMEOUT, stream.message())
            .await
            .map_err(|_| StoreError::Unavailable("watch creation timed out".into()))?
            .map_err(map_err)?;
        let mut pending: Vec<Result<WatchBatch, StoreError>> = Vec::new();
        match first {
            None => return Err(StoreError::Unavailable("watch stream closed".into())),
            Some(r) if r.compact_revision() > 0 => {
                return Err(StoreError::Compacted {
                    requested: start_revision,
                    compact_revision: r.compact_revision(),
                });
            }
            Some(r) if r.canceled() => {
                return Err(StoreError::Internal(format!(
                    "watch cancelled: {}",
                    r.cancel_reason()
                )));
            }
            Some(r) => pending.extend(batches(&r).into_iter().map(Ok)),
        }
        let s = futures::stream::unfold(
            (stream, pending, start_revision, false),
            |(mut stream, mut pending, requested, done)| async move {
                loop {
                    if !pending.is_empty() {
                        let item = pending.remove(0);
                        return Some((item, (stream, pending, requested, done)));
                    }
                    if done {
                        return None;
                    }
                    match stream.message().await {
                        Ok(Some(r)) if r.compact_revision() > 0 => {
                            let e = StoreError::Compacted {
                                requested,
                                compact_revision: r.compact_revision(),
                            };
                            return Some((Err(e), (stream, pending, requested, true)));
                        }
                        Ok(Some(r)) if r.canceled() => {
                            let e = StoreError::Unavailable(format!(
                                "watch cancelled by etcd: {}",
                                r.cancel_reason()
                            ));
                            return Some((Err(e), (stream, pending, requested, true)));
                        }
                        Ok(Some(r)) => pending.extend(batches(&r).into_iter().map(Ok)),
                        Ok(None) => {
                            let e = StoreError::Unavailable("watch stream closed".into());
                            return Some((Err(e), (stream, pending, requested, true)));
                        }
                        Err(e) => {
                            return Some((Err(map_err(e)), (stream, pending, requested, true)));
                        }
                    }
                }
            },
        );
        Ok(s.boxed())
    }
}

/// Groups a watch response's events by revision (etcd never splits one
/// revision across responses unless fragmenting, which we do not ask for).
fn batches(r: &ec::WatchResponse) -> Vec<WatchBatch> {
    let mut out: Vec<WatchBatch> = Vec::new();
    for ev in r.events() {
        let Some(kv) = ev.kv() else { continue };
        let kind = match ev.event_type() {
            ec::EventType::Put => EventKind::Put,
            ec::EventType::Delete => EventKind::Delete,
        };
        let kv = kv_from(kv);
        let rev = kv.mod_revision;
        let event = WatchEvent { kind, kv };
        match out.last_mut() {
            Some(b) if b.revision == rev => b.events.push(event),
            _ => out.push(WatchBatch {
                revision: rev,
                events: vec![event],
            }),
        }
    }
    out
}

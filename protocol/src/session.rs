//! A client session with a cluster: spreads over its nodes, fails over
//! between them, and retries what is safe to retry.
//!
//! A [`Session`] knows a list of endpoints: the seeds it was given plus
//! the members it learns with `cluster.nodes` (on connect, then every
//! 30 s; a node too old to know `cluster.nodes` answers `unsupported` and
//! the session keeps to its seeds). It holds one connection at a time, to
//! its "home" node, picked at random so that clients spread; a session
//! with [`SessionOptions::rebalance`] moves once to a random member when
//! it first learns them, so clients all given the same seed still spread.
//!
//! When its node dies, drains or stops answering — a transport error, the
//! request timeout, QUIC close code 2 (going away), or the short QUIC idle
//! timeout this session sets (keep-alive 200 ms, idle 800 ms, so a node
//! killed with `kill -9` is noticed within a second even in the middle of
//! a request) — the session avoids that node for a few seconds,
//! connects to the next one, and retries the request if
//! [`crate::retry`] says it may. This module only carries out those
//! decisions; it never decides on its own whether a request is sent twice.
//!
//! A placement (`order.place`) goes straight to the node that owns its
//! restaurant ([`crate::owner`], over the members learned), on a second
//! connection kept for it, when that node is known and not being avoided;
//! otherwise, or once that attempt failed, it takes the usual path (the
//! node it reaches forwards it to the owner). Either way the retry rules
//! are the same.
//!
//! [`Session::subscribe_resuming`] follows a topic across failovers,
//! resubscribing from the last revision received plus one: no gap, no
//! duplicate. It survives any number of node deaths, drains, shutdowns
//! and store hiccups, however far apart, and ends only on an answer that
//! cannot change ([`ends_subscription`]: `compacted`, an authorisation
//! failure...); its retry bookkeeping is the sans-IO [`ResumeState`] and
//! [`resume_wait`].
//!
//! Interior mutability: the state is behind a `std::sync::Mutex` that is
//! never held across an `.await` (only to read or update the endpoint
//! table), and connecting is serialised by a `tokio::sync::Mutex` so that
//! concurrent callers share one new connection instead of racing to open
//! several. Requests themselves run concurrently on cloned [`Client`]
//! handles, so a `&Session` can be shared by many tasks.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, ClientError, ConnectOptions, Subscription, SubscriptionItem};
use crate::messages::SubscribeRequest;
use crate::messages::cluster::{NodeAddr, NodeList, types as cluster_types};
use crate::retry::{self, Attempt, Decision, Endpoints, Entry, Failure, Policy};
use crate::tls;
use crate::wire::{ErrorCode, Request};

/// How a [`Session`] reaches the cluster.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `host:port` endpoints to start from (see [`parse_endpoints`]).
    pub seeds: Vec<String>,
    /// PEM of the cluster CA the server certificates must chain to.
    pub ca_pem: Vec<u8>,
    /// TLS server name to verify; [`crate::DEFAULT_SERVER_NAME`] by default.
    pub server_name: String,
    /// Bound on each connection attempt and on each request attempt.
    pub timeout: Duration,
    /// QUIC keep-alive PING interval (200 ms).
    pub keep_alive: Duration,
    /// QUIC idle timeout (800 ms, four keep-alives): a node silent this
    /// long is taken for dead.
    /// The server pings too, and the effective value is the smaller of the
    /// two peers', so a healthy idle connection stays up.
    pub idle_timeout: Duration,
    /// How often the member list is fetched again (30 s).
    pub refresh_every: Duration,
    /// When connecting, how long to wait for one endpoint before also
    /// trying the next (200 ms); the first to answer wins.
    pub connect_stagger: Duration,
    /// Move once to a random member after first learning the members
    /// (spreads clients that share a seed). Off for a client that should
    /// stay on the node it was pointed at unless that node fails.
    pub rebalance: bool,
    /// Retries of one-shot requests.
    pub policy: Policy,
    /// Waits when resuming a subscription: only its `backoff`,
    /// `max_backoff` and `bad_for` apply, since a resuming subscription
    /// never gives up on a transient failure (see [`ResumeState`]).
    pub resume_policy: Policy,
}

impl SessionOptions {
    pub fn new<I, S>(seeds: I, ca_pem: Vec<u8>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SessionOptions {
            seeds: seeds.into_iter().map(Into::into).collect(),
            ca_pem,
            server_name: crate::DEFAULT_SERVER_NAME.into(),
            timeout: Duration::from_secs(5),
            keep_alive: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(800),
            refresh_every: Duration::from_secs(30),
            connect_stagger: Duration::from_millis(200),
            rebalance: true,
            policy: Policy::requests(),
            resume_policy: Policy::subscriptions(),
        }
    }

    /// The same settings as a single-connection [`ConnectOptions`]; its
    /// endpoint may be a comma-separated list.
    pub fn from_connect_options(o: &ConnectOptions) -> Self {
        let mut s = SessionOptions::new(parse_endpoints(&o.endpoint), o.ca_pem.clone());
        s.server_name = o.server_name.clone();
        s.timeout = o.timeout;
        s
    }
}

/// Splits a comma-separated endpoint list (`a:7400,b:7400`), dropping
/// blanks.
pub fn parse_endpoints(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A connection to a cluster that survives its nodes. Cheap to clone
/// (clones share everything).
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    opts: SessionOptions,
    config: quinn::ClientConfig,
    spread: u64,
    state: Mutex<State>,
    connecting: tokio::sync::Mutex<()>,
}

struct State {
    endpoints: Endpoints,
    current: Option<Client>,
    last_remote: Option<SocketAddr>,
    last_refresh: Option<Instant>,
    refreshing: bool,
    /// The members last learned (for placements' owners).
    members: Vec<NodeAddr>,
    /// Connections to owners of restaurants other than the home node,
    /// by endpoint.
    owners: std::collections::HashMap<String, Client>,
}

/// The most connections to owners a session keeps besides its own.
const MAX_OWNER_CONNECTIONS: usize = 16;

/// A random number without a dependency: `RandomState` is seeded per
/// process and per call.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    h.finish()
}

/// What a failure means for retrying. `sent`: whether the request may have
/// reached the server.
pub fn classify(e: &ClientError, sent: bool) -> Failure {
    match e {
        ClientError::Server(b) if b.code == ErrorCode::Unavailable => Failure::Unavailable,
        ClientError::Server(_)
        | ClientError::Protocol { .. }
        | ClientError::Tls(_)
        | ClientError::Endpoint { .. } => Failure::Final,
        ClientError::Connect { .. } => Failure::NotSent,
        ClientError::Timeout { .. }
        | ClientError::Transport { .. }
        | ClientError::GoingAway { .. } => {
            if sent {
                Failure::Ambiguous
            } else {
                Failure::NotSent
            }
        }
    }
}

type Failed = (ClientError, Failure);

impl Session {
    /// A session that connects on first use.
    pub fn new(opts: SessionOptions) -> Result<Session, ClientError> {
        let mut config = tls::client_config(&opts.ca_pem)?;
        let mut transport = quinn::TransportConfig::default();
        transport.keep_alive_interval(Some(opts.keep_alive));
        let idle =
            quinn::IdleTimeout::try_from(opts.idle_timeout).map_err(|e| ClientError::Endpoint {
                endpoint: opts.seeds.join(","),
                reason: format!("idle timeout {:?}: {e}", opts.idle_timeout),
            })?;
        transport.max_idle_timeout(Some(idle));
        config.transport_config(Arc::new(transport));
        let spread = random_u64();
        let endpoints = Endpoints::new(opts.seeds.iter().cloned(), spread);
        Ok(Session {
            inner: Arc::new(Inner {
                opts,
                config,
                spread,
                state: Mutex::new(State {
                    endpoints,
                    current: None,
                    last_remote: None,
                    last_refresh: None,
                    refreshing: false,
                    members: Vec::new(),
                    owners: Default::default(),
                }),
                connecting: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// A session connected to one of its endpoints (retried per the
    /// policy), so that configuration and reachability problems show at
    /// once.
    pub async fn connect(opts: SessionOptions) -> Result<Session, ClientError> {
        let s = Session::new(opts)?;
        let policy = s.inner.opts.policy.clone();
        s.with_retries(true, &policy, None, |_| async { Ok(()) })
            .await?;
        Ok(s)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a table that is still
        // consistent (every update is one assignment), so poison is moot.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The endpoints known now, seeds and learned, in ring order.
    pub fn endpoints(&self) -> Vec<Entry> {
        self.state().endpoints.entries().to_vec()
    }

    /// The endpoint of the current connection, if any.
    pub fn current_endpoint(&self) -> Option<String> {
        self.state()
            .current
            .as_ref()
            .map(|c| c.endpoint_name().to_string())
    }

    /// The node name of `endpoint`, once learned from `cluster.nodes`.
    pub fn node_of(&self, endpoint: &str) -> Option<String> {
        self.state()
            .endpoints
            .entries()
            .iter()
            .find(|e| e.addr == endpoint)
            .and_then(|e| e.node.clone())
    }

    /// The address of the node last connected to (`0.0.0.0:0` before any).
    pub fn remote(&self) -> SocketAddr {
        self.state()
            .last_remote
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Sends a typed request and decodes the typed response, failing over
    /// and retrying per [`retry`].
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        ty: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<R, ClientError> {
        let mut req = Request::new(ty, body).map_err(|e| ClientError::Protocol {
            endpoint: self.inner.opts.seeds.join(","),
            reason: e.to_string(),
        })?;
        req.token = token.map(str::to_string);
        let value = self.request(&req).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol {
            endpoint: self.remote().to_string(),
            reason: format!("unexpected {ty} response: {e}"),
        })
    }

    /// Sends a raw request and returns the `ok` body, failing over and
    /// retrying per [`retry`].
    pub async fn request(&self, req: &Request) -> Result<serde_json::Value, ClientError> {
        let idempotent = retry::idempotent(&req.ty, &req.body);
        let policy = self.inner.opts.policy.clone();
        let owner = self.owner_for(req);
        self.with_retries(idempotent, &policy, owner.as_deref(), |c| async move {
            c.request_detailed(req).await.map_err(|f| {
                let failure = classify(&f.error, f.sent);
                (f.error, failure)
            })
        })
        .await
    }

    /// Opens a plain subscription on the current node (opening is retried
    /// elsewhere; the stream itself is not resumed — see
    /// [`Session::subscribe_resuming`]).
    pub async fn subscribe(
        &self,
        sub: &SubscribeRequest,
        token: Option<&str>,
    ) -> Result<Subscription<'static>, ClientError> {
        let policy = self.inner.opts.policy.clone();
        self.with_retries(true, &policy, None, |c| async move {
            c.subscribe_owned(sub, token).await.map_err(|e| {
                let f = classify(&e, true);
                (e, f)
            })
        })
        .await
    }

    /// Follows `topic` from `from_revision` (absent: from now), moving to
    /// another node and resuming from the last revision received plus one
    /// whenever the stream breaks. Connects on the first `next()`.
    pub fn subscribe_resuming(
        &self,
        topic: impl Into<String>,
        token: Option<&str>,
        from_revision: Option<u64>,
    ) -> ResumingSubscription {
        ResumingSubscription {
            session: self.clone(),
            topic: topic.into(),
            token: token.map(str::to_string),
            next_revision: from_revision.filter(|r| *r > 0),
            sub: None,
            state: ResumeState::default(),
            wait: None,
            opened_once: false,
            resumes: 0,
        }
    }

    /// Fetches the member list now (`cluster.nodes`) and merges it into the
    /// endpoint table. A node that does not know `cluster.nodes` is fine:
    /// the session keeps to its seeds.
    pub async fn refresh_members(&self) -> Result<(), ClientError> {
        let result = async {
            let client = self.client().await.map_err(|(e, _)| e)?;
            client
                .call::<_, NodeList>(cluster_types::NODES, None, &serde_json::json!({}))
                .await
        }
        .await;
        let mut st = self.state();
        st.refreshing = false;
        st.last_refresh = Some(Instant::now());
        match result {
            Ok(list) => {
                st.members = list.nodes.clone();
                // Connections to nodes that left go.
                st.owners
                    .retain(|addr, _| list.nodes.iter().any(|n| &n.addr == addr));
                let spread = self.inner.spread.rotate_left(17);
                if let Some(to) = st.endpoints.learn(&list.nodes, spread, Instant::now())
                    && self.inner.opts.rebalance
                {
                    let here = st.current.as_ref().map(|c| c.endpoint_name().to_string());
                    if here.as_deref() != Some(to.as_str()) {
                        // Requests in flight keep their handle; the next
                        // ones connect to the new home.
                        st.endpoints.set_home(&to);
                        st.current = None;
                    }
                }
                Ok(())
            }
            Err(ClientError::Server(b)) if b.code == ErrorCode::Unsupported => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Starts a background refresh of the member list when one is due.
    fn maybe_refresh(&self) {
        {
            let mut st = self.state();
            let due = st
                .last_refresh
                .is_none_or(|t| t.elapsed() >= self.inner.opts.refresh_every);
            if !due || st.refreshing {
                return;
            }
            st.refreshing = true;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let _ = me.refresh_members().await;
        });
    }

    /// The endpoint of the node that owns the restaurant of `req`, if it
    /// is a placement, the members are known and that node is not being
    /// avoided.
    fn owner_for(&self, req: &Request) -> Option<String> {
        if req.ty != crate::messages::orders::types::PLACE {
            return None;
        }
        let r = req.body.get("restaurant")?.as_str()?;
        let st = self.state();
        let owner = crate::owner::owner_of(r, &st.members)?;
        (!st.endpoints.is_bad(&owner.addr, Instant::now())).then(|| owner.addr.clone())
    }

    /// A connection to `endpoint`: the current one if it goes there, else
    /// one kept for owners, else a new one. Connecting may take at most
    /// twice `connect_stagger`: the usual path is the fallback.
    async fn client_to(&self, endpoint: &str) -> Result<Client, Failed> {
        let kept = |st: &State| {
            st.current
                .iter()
                .chain(st.owners.get(endpoint))
                .find(|c| c.endpoint_name() == endpoint && !c.is_closed())
                .cloned()
        };
        // (The state's guard is let go before anything else takes it.)
        let found = kept(&self.state());
        if let Some(c) = found {
            self.maybe_refresh();
            return Ok(c);
        }
        let _one_at_a_time = self.inner.connecting.lock().await;
        let found = kept(&self.state());
        if let Some(c) = found {
            return Ok(c);
        }
        let opts = ConnectOptions {
            endpoint: endpoint.to_string(),
            ca_pem: Vec::new(),
            server_name: self.inner.opts.server_name.clone(),
            timeout: self.inner.opts.timeout,
        };
        let wait = self.inner.opts.connect_stagger.saturating_mul(2);
        let r = match tokio::time::timeout(
            wait,
            Client::connect_with(&opts, self.inner.config.clone()),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(ClientError::Connect {
                endpoint: endpoint.to_string(),
                reason: format!("no handshake within {wait:?}"),
            }),
        };
        let mut st = self.state();
        match r {
            Ok(c) => {
                st.owners.retain(|_, c| !c.is_closed());
                if st.owners.len() >= MAX_OWNER_CONNECTIONS {
                    st.owners.clear();
                }
                st.owners.insert(endpoint.to_string(), c.clone());
                Ok(c)
            }
            Err(e) => {
                st.endpoints
                    .mark_bad(endpoint, Instant::now() + self.inner.opts.policy.bad_for);
                // The member list may be out of date: fetch it again soon.
                st.last_refresh = None;
                let f = classify(&e, false);
                Err((e, f))
            }
        }
    }

    /// The current connection, or a new one to the first endpoint that
    /// answers. A connection found closed (idle timeout, going away) blames
    /// its node.
    async fn client(&self) -> Result<Client, Failed> {
        if let Some(c) = self.live_current() {
            self.maybe_refresh();
            return Ok(c);
        }
        let _one_at_a_time = self.inner.connecting.lock().await;
        if let Some(c) = self.live_current() {
            return Ok(c);
        }
        let c = self.connect_round().await?;
        {
            let mut st = self.state();
            st.endpoints.set_home(c.endpoint_name());
            st.endpoints.mark_good(c.endpoint_name());
            st.last_remote = Some(c.remote());
            st.current = Some(c.clone());
        }
        self.maybe_refresh();
        Ok(c)
    }

    fn live_current(&self) -> Option<Client> {
        let mut st = self.state();
        let c = st.current.clone()?;
        if !c.is_closed() {
            return Some(c);
        }
        let until = Instant::now() + self.inner.opts.policy.bad_for;
        st.endpoints.mark_bad(c.endpoint_name(), until);
        st.current = None;
        None
    }

    /// Tries the endpoints in order, starting the next one when the
    /// previous has not answered within `connect_stagger` (or failed);
    /// the first connection made wins. Each failure blames its endpoint.
    async fn connect_round(&self) -> Result<Client, Failed> {
        let candidates = self.state().endpoints.candidates(Instant::now());
        if candidates.is_empty() {
            return Err((
                ClientError::Endpoint {
                    endpoint: String::new(),
                    reason: "no endpoint given".into(),
                },
                Failure::Final,
            ));
        }
        let mut pending = candidates.into_iter();
        let mut set = tokio::task::JoinSet::new();
        let mut errors: Vec<ClientError> = Vec::new();
        let start = |set: &mut tokio::task::JoinSet<_>, endpoint: String| {
            let opts = ConnectOptions {
                endpoint,
                ca_pem: Vec::new(),
                server_name: self.inner.opts.server_name.clone(),
                timeout: self.inner.opts.timeout,
            };
            let config = self.inner.config.clone();
            set.spawn(async move {
                let r = Client::connect_with(&opts, config).await;
                (opts.endpoint, r)
            });
        };
        if let Some(first) = pending.next() {
            start(&mut set, first);
        }
        loop {
            let more = pending.len() > 0;
            tokio::select! {
                joined = set.join_next() => match joined {
                    None if more => {
                        if let Some(next) = pending.next() {
                            start(&mut set, next);
                        }
                    }
                    None => break,
                    Some(Ok((_, Ok(client)))) => {
                        set.abort_all();
                        return Ok(client);
                    }
                    Some(Ok((endpoint, Err(e)))) => {
                        let until = Instant::now() + self.inner.opts.policy.bad_for;
                        self.state().endpoints.mark_bad(&endpoint, until);
                        errors.push(e);
                        if let Some(next) = pending.next() {
                            start(&mut set, next);
                        }
                    }
                    Some(Err(join)) => errors.push(ClientError::Connect {
                        endpoint: String::new(),
                        reason: join.to_string(),
                    }),
                },
                _ = tokio::time::sleep(self.inner.opts.connect_stagger), if more => {
                    if let Some(next) = pending.next() {
                        start(&mut set, next);
                    }
                }
            }
        }
        let failure = if errors.iter().all(|e| classify(e, false) == Failure::Final) {
            Failure::Final
        } else {
            Failure::NotSent
        };
        let error = if errors.len() == 1 {
            errors.pop().expect("one error")
        } else {
            ClientError::Connect {
                endpoint: format!("any of {} endpoints", errors.len()),
                reason: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        };
        Err((error, failure))
    }

    /// Records a failure on `endpoint`: avoid it for a while, drop the
    /// connection to it, and learn the alternatives a `goaway` named.
    fn note_failure(
        &self,
        st: &mut State,
        endpoint: Option<&str>,
        failure: Failure,
        e: &ClientError,
    ) {
        if let ClientError::GoingAway { alternatives, .. } = e {
            for a in alternatives {
                st.endpoints.add(a.clone(), false);
            }
        }
        let Some(endpoint) = endpoint else { return };
        if !failure.blames_node() {
            return;
        }
        st.endpoints
            .mark_bad(endpoint, Instant::now() + self.inner.opts.policy.bad_for);
        if st.owners.remove(endpoint).is_some() {
            st.last_refresh = None;
        }
        if st
            .current
            .as_ref()
            .is_some_and(|c| c.endpoint_name() == endpoint)
        {
            st.current = None;
        }
    }

    /// After a failure: what [`retry::decide`] says, with the table updated
    /// first. Returns the wait before the next attempt, or `None` to give
    /// up.
    fn after_failure(&self, policy: &Policy, a: Attempt<'_>, e: &ClientError) -> Option<Duration> {
        let mut st = self.state();
        self.note_failure(&mut st, a.endpoint, a.failure, e);
        match retry::decide(policy, &st.endpoints, a, Instant::now()) {
            Decision::Retry { endpoint, after } => {
                let here = st.current.as_ref().map(|c| c.endpoint_name().to_string());
                if here.as_deref() != Some(endpoint.as_str()) {
                    st.endpoints.set_home(&endpoint);
                }
                Some(after)
            }
            Decision::GiveUp(_) => None,
        }
    }

    /// Runs `op` on a connection until it succeeds or the policy gives up;
    /// on `prefer` (a placement's owner) while it is not being avoided.
    async fn with_retries<T, F, Fut>(
        &self,
        idempotent: bool,
        policy: &Policy,
        prefer: Option<&str>,
        mut op: F,
    ) -> Result<T, ClientError>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T, Failed>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let preferred = prefer.filter(|p| !self.state().endpoints.is_bad(p, Instant::now()));
            let client = match preferred {
                Some(p) => self.client_to(p).await,
                None => self.client().await,
            };
            let (e, failure, endpoint) = match client {
                Ok(c) => {
                    let endpoint = c.endpoint_name().to_string();
                    match op(c).await {
                        Ok(v) => return Ok(v),
                        Err((e, f)) => (e, f, Some(endpoint)),
                    }
                }
                Err((e, f)) => (e, f, None),
            };
            let a = Attempt {
                idempotent,
                failure,
                attempt,
                elapsed: started.elapsed(),
                endpoint: endpoint.as_deref(),
            };
            let wait = self.after_failure(policy, a, &e);
            match wait {
                Some(after) if !after.is_zero() => tokio::time::sleep(after).await,
                Some(_) => {}
                None => return Err(e),
            }
        }
    }

    /// Closes the current connection politely.
    pub async fn close(self) {
        let current = self.state().current.take();
        if let Some(c) = current {
            c.close().await;
        }
    }
}

/// Whether `e` ends a resuming subscription for good: an answer that
/// asking again, on any node, cannot change (`compacted`,
/// `unauthenticated`, `forbidden`, `not_found`, `bad_request`, ...), or a
/// local configuration error (bad CA, bad endpoint) that no node can
/// cure.
///
/// Everything a node or the network can cause is repaired instead: a lost
/// connection, a timeout, `goaway` and close code 2 (drain, shutdown), a
/// refused handshake, and the answers `unavailable` (the node's store or
/// its watch broke, e.g. during an etcd election) and `internal` (that
/// node's problem; another may do better).
pub fn ends_subscription(e: &ClientError) -> bool {
    match e {
        ClientError::Server(b) => !matches!(b.code, ErrorCode::Unavailable | ErrorCode::Internal),
        ClientError::Tls(_) | ClientError::Endpoint { .. } => true,
        ClientError::Connect { .. }
        | ClientError::Timeout { .. }
        | ClientError::Transport { .. }
        | ClientError::GoingAway { .. }
        | ClientError::Protocol { .. } => false,
    }
}

/// A stream that stayed open this long before it broke was working: its
/// break starts a new incident (first retry at once, on another node)
/// instead of continuing the backoff of the failures that came before.
/// Shorter-lived streams keep backing off, so a node that accepts a
/// subscription and drops it at once cannot make clients spin.
pub const SETTLED: Duration = Duration::from_secs(1);

/// A resuming subscription's bookkeeping between failures, sans-IO (the
/// caller passes `now`): how many failures in a row, hence how long to
/// wait before the next attempt.
///
/// There is no budget: a resuming subscription never gives up on a
/// failure [`ends_subscription`] calls transient, however long the
/// cluster takes to come back; its owner hears about each break through
/// [`Notice::Lost`] and decides for itself.
#[derive(Debug, Clone, Default)]
pub struct ResumeState {
    failures: u32,
    opened_at: Option<Instant>,
}

impl ResumeState {
    /// A (re)subscription succeeded at `now`.
    pub fn opened(&mut self, now: Instant) {
        self.opened_at = Some(now);
    }

    /// An event or progress frame arrived: the stream works.
    pub fn received(&mut self) {
        self.failures = 0;
    }

    /// The stream broke, or (re)subscribing failed, at `now`. Returns how
    /// many failures in a row this makes (1: the first of a new incident).
    pub fn failed(&mut self, now: Instant) -> u32 {
        if let Some(t) = self.opened_at.take()
            && now.saturating_duration_since(t) >= SETTLED
        {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.failures
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// The wait before the next attempt after `failures` failures in a row:
/// none after the first when there is another node to go to, then the
/// policy's backoff, doubling up to its cap.
pub fn resume_wait(policy: &Policy, failures: u32, same_endpoint: bool) -> Duration {
    if failures <= 1 {
        return if same_endpoint {
            policy.backoff
        } else {
            Duration::ZERO
        };
    }
    let shift = (failures - 2).min(16);
    policy
        .backoff
        .saturating_mul(1u32 << shift)
        .min(policy.max_backoff)
}

/// Where and when a resuming subscription tries again after its
/// `failures`-th failure in a row on `failed` (`None`: no node could be
/// reached at all): `failed` is avoided for the policy's `bad_for`, the
/// next endpoint in ring order becomes home, and the wait is
/// [`resume_wait`]'s. A lone endpoint is tried again after a pause.
pub fn plan_resume(
    endpoints: &mut Endpoints,
    policy: &Policy,
    failed: Option<&str>,
    failures: u32,
    now: Instant,
) -> Duration {
    if let Some(f) = failed {
        endpoints.mark_bad(f, now + policy.bad_for);
    }
    let next = endpoints.next_after(failed, now);
    let same = next.is_some() && next.as_deref() == failed;
    if let Some(next) = &next {
        endpoints.set_home(next);
    }
    resume_wait(policy, failures, same)
}

/// What a resuming subscription tells its owner about its connection, for
/// a user who should know (see [`ResumingSubscription::next_with_notices`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The stream is open on `endpoint` (its node's name once learned from
    /// `cluster.nodes`), delivering from `from_revision`; `resumed` after
    /// a break, `false` the first time.
    Subscribed {
        endpoint: String,
        node: Option<String>,
        from_revision: u64,
        resumed: bool,
    },
    /// The stream broke, or could not be opened again; the next attempt
    /// starts after `retry_in`, from the same revision.
    Lost {
        endpoint: Option<String>,
        node: Option<String>,
        error: String,
        retry_in: Duration,
    },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn place(endpoint: &str, node: &Option<String>) -> String {
            match node {
                Some(n) => format!("{n} ({endpoint})"),
                None => endpoint.to_string(),
            }
        }
        match self {
            Notice::Subscribed {
                endpoint,
                node,
                from_revision,
                resumed,
            } => write!(
                f,
                "{} on {} from revision {from_revision}",
                if *resumed { "resumed" } else { "subscribed" },
                place(endpoint, node)
            ),
            Notice::Lost {
                endpoint,
                node,
                error,
                retry_in,
            } => {
                let what = match endpoint {
                    Some(e) => format!("lost {}", place(e, node)),
                    None => "no node reachable".to_string(),
                };
                if retry_in.is_zero() {
                    write!(f, "{what}: {error}; resuming at once")
                } else {
                    write!(f, "{what}: {error}; resuming in {}ms", retry_in.as_millis())
                }
            }
        }
    }
}

/// An item or a notice (see [`ResumingSubscription::next_with_notices`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Item(SubscriptionItem),
    Notice(Notice),
}

/// A subscription that survives node failures: see
/// [`Session::subscribe_resuming`].
pub struct ResumingSubscription {
    session: Session,
    topic: String,
    token: Option<String>,
    next_revision: Option<u64>,
    sub: Option<Subscription<'static>>,
    state: ResumeState,
    /// Wait owed before the next attempt (told in a [`Notice::Lost`]
    /// first, slept on the next call).
    wait: Option<Duration>,
    opened_once: bool,
    resumes: u64,
}

impl ResumingSubscription {
    /// The next item. Breaks of the stream are repaired underneath (moving
    /// to another node, resuming from the last revision + 1), however many
    /// and however far apart; an error means the server refused for good
    /// (see [`ends_subscription`]: `compacted`, `unauthenticated`,
    /// `forbidden`, `not_found`...).
    pub async fn next(&mut self) -> Result<SubscriptionItem, ClientError> {
        loop {
            if let Delivery::Item(i) = self.next_with_notices().await? {
                return Ok(i);
            }
        }
    }

    /// As [`ResumingSubscription::next`], also returning a [`Notice`]
    /// each time the stream opens (first time or resumed) and each time it
    /// breaks, for owners that tell their user where they stand.
    pub async fn next_with_notices(&mut self) -> Result<Delivery, ClientError> {
        if let Some(after) = self.wait.take()
            && !after.is_zero()
        {
            tokio::time::sleep(after).await;
        }
        if self.sub.is_none() {
            match self.open().await {
                Ok(s) => {
                    if self.next_revision.is_none() {
                        self.next_revision = Some(s.start_revision);
                    }
                    let endpoint = s.endpoint_name().to_string();
                    self.sub = Some(s);
                    self.state.opened(Instant::now());
                    let resumed = self.opened_once;
                    if resumed {
                        self.resumes += 1;
                    }
                    self.opened_once = true;
                    return Ok(Delivery::Notice(Notice::Subscribed {
                        node: self.session.node_of(&endpoint),
                        endpoint,
                        from_revision: self.next_revision.unwrap_or(0),
                        resumed,
                    }));
                }
                Err((e, endpoint)) => return self.failed(e, endpoint).map(Delivery::Notice),
            }
        }
        loop {
            let sub = self.sub.as_mut().expect("opened above");
            let endpoint = sub.endpoint_name().to_string();
            let e = match sub.next().await {
                Ok(Some(SubscriptionItem::Events { revision, events })) => {
                    if self.next_revision.is_some_and(|n| revision < n) {
                        continue; // delivered before the break: never twice
                    }
                    self.next_revision = Some(revision + 1);
                    self.state.received();
                    return Ok(Delivery::Item(SubscriptionItem::Events {
                        revision,
                        events,
                    }));
                }
                Ok(Some(SubscriptionItem::Progress { revision })) => {
                    let next = self.next_revision.unwrap_or(0).max(revision + 1);
                    self.next_revision = Some(next);
                    self.state.received();
                    return Ok(Delivery::Item(SubscriptionItem::Progress { revision }));
                }
                Ok(None) => ClientError::Transport {
                    endpoint: endpoint.clone(),
                    reason: "the server ended the subscription".into(),
                },
                Err(e) => e,
            };
            self.sub = None;
            return self.failed(e, Some(endpoint)).map(Delivery::Notice);
        }
    }

    /// The revision it resumes from after a break (`None` before the first
    /// subscription when started "from now").
    pub fn next_revision(&self) -> Option<u64> {
        self.next_revision
    }

    /// The endpoint the stream currently runs on.
    pub fn endpoint(&self) -> Option<&str> {
        self.sub.as_ref().map(|s| s.endpoint_name())
    }

    /// How many times the stream was opened again after a break.
    pub fn resumes(&self) -> u64 {
        self.resumes
    }

    /// Uses `token` from the next (re)subscription on, e.g. after the owner
    /// renewed an expired access token. The open stream, if any, goes on.
    pub fn set_token(&mut self, token: Option<&str>) {
        self.token = token.map(str::to_string);
    }

    async fn open(&mut self) -> Result<Subscription<'static>, (ClientError, Option<String>)> {
        let client = self.session.client().await.map_err(|(e, _)| (e, None))?;
        let endpoint = client.endpoint_name().to_string();
        let req = SubscribeRequest {
            topic: self.topic.clone(),
            from_revision: self.next_revision,
        };
        client
            .subscribe_owned(&req, self.token.as_deref())
            .await
            .map_err(|e| (e, Some(endpoint)))
    }

    /// After a break or a failed (re)subscription: ends on a final error;
    /// otherwise avoids the node that failed, picks the next one, and
    /// schedules the attempt there (the wait is told, then slept on the
    /// next call).
    fn failed(&mut self, e: ClientError, endpoint: Option<String>) -> Result<Notice, ClientError> {
        if ends_subscription(&e) {
            return Err(e);
        }
        let failures = self.state.failed(Instant::now());
        let policy = &self.session.inner.opts.resume_policy;
        // Whatever broke the stream, it happened on that node: avoid it
        // (`unavailable` and `internal` included, unlike one-shot
        // requests, since a stream has nothing else to learn it from).
        let failure = match classify(&e, true) {
            Failure::Final => Failure::Unavailable,
            f => f,
        };
        let retry_in = {
            let mut st = self.session.state();
            // Drops the connection to that node, learns a goaway's
            // alternatives.
            self.session
                .note_failure(&mut st, endpoint.as_deref(), failure, &e);
            plan_resume(
                &mut st.endpoints,
                policy,
                endpoint.as_deref(),
                failures,
                Instant::now(),
            )
        };
        self.wait = Some(retry_in);
        Ok(Notice::Lost {
            node: endpoint.as_deref().and_then(|e| self.session.node_of(e)),
            endpoint,
            error: e.to_string(),
            retry_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ErrorBody;

    #[test]
    fn endpoint_lists() {
        assert_eq!(parse_endpoints("a:1, b:2,,c"), ["a:1", "b:2", "c"]);
        assert!(parse_endpoints(" , ").is_empty());
    }

    #[test]
    fn errors_classified() {
        let ep = || "n:1".to_string();
        let server = |code| {
            ClientError::Server(ErrorBody {
                order: None,
                code,
                message: "m".into(),
                retry_after_ms: None,
            })
        };
        assert_eq!(
            classify(&server(ErrorCode::Unavailable), true),
            Failure::Unavailable
        );
        assert_eq!(classify(&server(ErrorCode::Conflict), true), Failure::Final);
        let timeout = ClientError::Timeout {
            endpoint: ep(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(classify(&timeout, true), Failure::Ambiguous);
        assert_eq!(classify(&timeout, false), Failure::NotSent);
        let away = ClientError::GoingAway {
            endpoint: ep(),
            reason: "r".into(),
            alternatives: vec![],
        };
        assert_eq!(classify(&away, true), Failure::Ambiguous);
        assert_eq!(classify(&away, false), Failure::NotSent);
        let refused = ClientError::Connect {
            endpoint: ep(),
            reason: "refused".into(),
        };
        assert_eq!(classify(&refused, true), Failure::NotSent);
        let bad = ClientError::Endpoint {
            endpoint: ep(),
            reason: "r".into(),
        };
        assert_eq!(classify(&bad, false), Failure::Final);
    }

    fn eps(n: usize) -> Endpoints {
        Endpoints::new((1..=n).map(|i| format!("n{i}:7400")), 0)
    }

    fn transient_errors() -> Vec<ClientError> {
        let ep = || "n1:7400".to_string();
        vec![
            ClientError::Transport {
                endpoint: ep(),
                reason: "timed out".into(),
            },
            ClientError::Transport {
                endpoint: ep(),
                reason: "the server ended the subscription".into(),
            },
            ClientError::GoingAway {
                endpoint: ep(),
                reason: "node is shutting down or draining".into(),
                alternatives: vec![],
            },
            ClientError::Timeout {
                endpoint: ep(),
                timeout: Duration::from_secs(5),
            },
            ClientError::Connect {
                endpoint: ep(),
                reason: "refused".into(),
            },
            ClientError::Protocol {
                endpoint: ep(),
                reason: "unexpected first subscription frame: None".into(),
            },
            ClientError::Server(ErrorBody::new(
                ErrorCode::Unavailable,
                "store unavailable: h2 protocol error",
            )),
            ClientError::Server(ErrorBody::new(ErrorCode::Internal, "m")),
        ]
    }

    #[test]
    fn a_subscription_ends_only_on_answers_that_cannot_change() {
        for e in transient_errors() {
            assert!(!ends_subscription(&e), "{e:?}");
        }
        for code in [
            ErrorCode::Compacted,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::BadRequest,
            ErrorCode::Unsupported,
            ErrorCode::Unknown,
        ] {
            let e = ClientError::Server(ErrorBody::new(code, "m"));
            assert!(ends_subscription(&e), "{code:?}");
        }
        let bad_endpoint = ClientError::Endpoint {
            endpoint: "x".into(),
            reason: "r".into(),
        };
        assert!(ends_subscription(&bad_endpoint));
    }

    /// The tester's lead: an idle stream whose node dies twice, more than
    /// the old 15 s budget apart, with nothing received in between. The
    /// second break must start a new incident (first retry at once, on
    /// another node), not end the stream.
    #[test]
    fn an_idle_stream_survives_breaks_far_apart() {
        let p = Policy::subscriptions();
        let t0 = Instant::now();
        let mut e = eps(3);
        let mut st = ResumeState::default();
        st.opened(t0);
        let mut at = t0;
        let mut on = "n1:7400".to_string();
        for kill in 0..5u64 {
            at = t0 + Duration::from_secs(20 * (kill + 1));
            assert_eq!(st.failed(at), 1, "kill {kill}: a new incident");
            let wait = plan_resume(&mut e, &p, Some(&on), 1, at);
            assert_eq!(
                wait,
                Duration::ZERO,
                "kill {kill}: straight to another node"
            );
            let home = e.home().unwrap().to_string();
            assert_ne!(home, on, "kill {kill}: moved");
            assert!(e.is_bad(&on, at), "kill {kill}: the dead node is avoided");
            on = home;
            st.opened(at); // the re-subscription worked
        }
        // Even a resubscription that worked but broke soon after (< 1 s)
        // is a second failure of the same incident: it backs off.
        assert_eq!(st.failed(at + Duration::from_millis(300)), 2);
        assert_eq!(resume_wait(&p, 2, false), p.backoff);
    }

    #[test]
    fn a_flapping_node_is_backed_off_and_an_outage_never_ends_the_stream() {
        let p = Policy::subscriptions();
        let t0 = Instant::now();
        let mut st = ResumeState::default();
        let mut waits = Vec::new();
        // Open, break at once, over and over (a node that accepts and
        // drops): waits grow to the cap instead of spinning.
        for k in 0..8u64 {
            let at = t0 + Duration::from_millis(10 * k);
            st.opened(at);
            let n = st.failed(at + Duration::from_millis(1));
            waits.push(resume_wait(&p, n, false).as_millis() as u64);
        }
        assert_eq!(waits, [0, 100, 200, 400, 800, 1600, 2000, 2000]);
        // A long outage: thousands of failures in a row stay at the cap
        // (nothing here can give up: there is no budget).
        for _ in 0..5000 {
            let n = st.failed(t0);
            assert_eq!(resume_wait(&p, n, false), p.max_backoff);
        }
        // Anything received resets the count.
        st.received();
        assert_eq!(st.failed(t0), 1);
    }

    #[test]
    fn a_lone_node_is_retried_after_a_pause() {
        let p = Policy::subscriptions();
        let mut e = eps(1);
        let now = Instant::now();
        let wait = plan_resume(&mut e, &p, Some("n1:7400"), 1, now);
        assert_eq!(wait, p.backoff);
        assert_eq!(e.home(), Some("n1:7400"));
        // No node reachable at all: retried from home, backing off.
        let wait = plan_resume(&mut e, &p, None, 3, now);
        assert_eq!(wait, p.backoff * 2);
    }

    #[test]
    fn notices_read_naturally() {
        let n = Notice::Subscribed {
            endpoint: "127.0.0.1:7401".into(),
            node: Some("node-2".into()),
            from_revision: 123,
            resumed: true,
        };
        assert_eq!(
            n.to_string(),
            "resumed on node-2 (127.0.0.1:7401) from revision 123"
        );
        let n = Notice::Subscribed {
            endpoint: "127.0.0.1:7401".into(),
            node: None,
            from_revision: 9,
            resumed: false,
        };
        assert_eq!(
            n.to_string(),
            "subscribed on 127.0.0.1:7401 from revision 9"
        );
        let n = Notice::Lost {
            endpoint: None,
            node: None,
            error: "cannot connect".into(),
            retry_in: Duration::from_millis(200),
        };
        assert_eq!(
            n.to_string(),
            "no node reachable: cannot connect; resuming in 200ms"
        );
    }
}

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
//! [`Session::subscribe_resuming`] follows a topic across failovers,
//! resubscribing from the last revision received plus one: no gap, no
//! duplicate.
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
use crate::messages::cluster::{NodeList, types as cluster_types};
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
    /// Retries when resuming a subscription.
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
}

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
        s.with_retries(true, &policy, |_| async { Ok(()) }).await?;
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
        self.with_retries(idempotent, &policy, |c| async move {
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
        self.with_retries(true, &policy, |c| async move {
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
            failures: 0,
            first_failure: None,
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

    /// Runs `op` on a connection until it succeeds or the policy gives up.
    async fn with_retries<T, F, Fut>(
        &self,
        idempotent: bool,
        policy: &Policy,
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
            let (e, failure, endpoint) = match self.client().await {
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

/// A subscription that survives node failures: see
/// [`Session::subscribe_resuming`].
pub struct ResumingSubscription {
    session: Session,
    topic: String,
    token: Option<String>,
    next_revision: Option<u64>,
    sub: Option<Subscription<'static>>,
    failures: u32,
    first_failure: Option<Instant>,
    resumes: u64,
}

impl ResumingSubscription {
    /// The next item. Breaks of the stream are repaired underneath (moving
    /// to another node, resuming from the last revision + 1); an error
    /// means the policy gave up or the server refused for good (e.g.
    /// `compacted`, `forbidden`).
    pub async fn next(&mut self) -> Result<SubscriptionItem, ClientError> {
        loop {
            if self.sub.is_none() {
                match self.open().await {
                    Ok(s) => {
                        if self.next_revision.is_none() {
                            self.next_revision = Some(s.start_revision);
                        }
                        self.sub = Some(s);
                    }
                    Err((e, failure, endpoint)) => {
                        self.failed(e, failure, endpoint).await?;
                        continue;
                    }
                }
            }
            let sub = self.sub.as_mut().expect("opened above");
            let endpoint = sub.endpoint_name().to_string();
            let (e, failure) = match sub.next().await {
                Ok(Some(SubscriptionItem::Events { revision, events })) => {
                    if self.next_revision.is_some_and(|n| revision < n) {
                        continue; // delivered before the break: never twice
                    }
                    self.next_revision = Some(revision + 1);
                    self.failures = 0;
                    self.first_failure = None;
                    return Ok(SubscriptionItem::Events { revision, events });
                }
                Ok(Some(SubscriptionItem::Progress { revision })) => {
                    let next = self.next_revision.unwrap_or(0).max(revision + 1);
                    self.next_revision = Some(next);
                    self.failures = 0;
                    self.first_failure = None;
                    return Ok(SubscriptionItem::Progress { revision });
                }
                Ok(None) => (
                    ClientError::Transport {
                        endpoint: endpoint.clone(),
                        reason: "the server ended the subscription".into(),
                    },
                    Failure::Ambiguous,
                ),
                Err(e) => {
                    let f = classify(&e, true);
                    (e, f)
                }
            };
            self.sub = None;
            self.failed(e, failure, Some(endpoint)).await?;
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

    async fn open(
        &mut self,
    ) -> Result<Subscription<'static>, (ClientError, Failure, Option<String>)> {
        let client = self.session.client().await.map_err(|(e, f)| (e, f, None))?;
        let endpoint = client.endpoint_name().to_string();
        let req = SubscribeRequest {
            topic: self.topic.clone(),
            from_revision: self.next_revision,
        };
        client
            .subscribe_owned(&req, self.token.as_deref())
            .await
            .map_err(|e| {
                let f = classify(&e, true);
                (e, f, Some(endpoint))
            })
    }

    async fn failed(
        &mut self,
        e: ClientError,
        failure: Failure,
        endpoint: Option<String>,
    ) -> Result<(), ClientError> {
        self.failures += 1;
        let started = *self.first_failure.get_or_insert_with(Instant::now);
        let policy = self.session.inner.opts.resume_policy.clone();
        let a = Attempt {
            idempotent: true,
            failure,
            attempt: self.failures,
            elapsed: started.elapsed(),
            endpoint: endpoint.as_deref(),
        };
        let wait = self.session.after_failure(&policy, a, &e);
        match wait {
            Some(after) => {
                if !after.is_zero() {
                    tokio::time::sleep(after).await;
                }
                self.resumes += 1;
                Ok(())
            }
            None => Err(e),
        }
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
}

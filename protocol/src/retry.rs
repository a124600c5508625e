//! Retry and failover policy for clients: which requests may be sent again
//! after a failure, to which node, and after how long.
//!
//! Sans-IO, in the manner of `quinn-proto`: nothing here opens a socket,
//! sleeps or reads a clock. Callers pass `now` and what happened, and get a
//! [`Decision`] back; [`crate::session`] is the driver that acts on it.
//! Everything that decides whether a request is sent twice lives here, so it
//! can be tested exhaustively without a daemon.
//!
//! The rules:
//! - A failure that proves the request never left ([`Failure::NotSent`]:
//!   no connection, connect refused, handshake failed, no stream) may be
//!   retried whatever the request is.
//! - A failure after the request was sent ([`Failure::Ambiguous`]: timeout,
//!   connection lost, node going away) and an `unavailable` answer
//!   ([`Failure::Unavailable`]) are retried only for requests that are
//!   safe to repeat ([`idempotent`]).
//! - Any other answer ([`Failure::Final`]) is never retried: asking again
//!   would get the same answer.
//! - The first retry goes at once to another node; later ones back off
//!   exponentially. Attempts and total time are both bounded.

use std::time::{Duration, Instant};

use crate::messages::auth::grant;
use crate::messages::cluster::NodeAddr;
use crate::requests::{self, Repeat};

/// Whether a request of type `ty` with `body` may be sent again after an
/// ambiguous failure (sent, but no answer).
///
/// - reads: yes;
/// - `order.place`: yes, when it carries an `idempotency_key` (the server
///   answers a repeat with the same order);
/// - order steps (`order.accept`, `order.cancel`, ... `order.station_ready`):
///   yes, when they carry `expected_version` (a repeat of a step that
///   acted is refused as stale instead of acting twice);
/// - `auth.token`: yes for the `password` and `client_credentials` grants
///   (a repeat at worst opens one more session); never for
///   `refresh_token`, which rotates: a repeat would present a used token,
///   and reuse revokes the whole session;
/// - everything else (creating, changing, cancelling, kitchen steps,
///   refunds, logout, operator commands): no.
pub fn idempotent(ty: &str, body: &serde_json::Value) -> bool {
    match requests::find(ty).map(|t| t.repeat) {
        Some(Repeat::Safe) => true,
        Some(Repeat::WithIdempotencyKey) => body
            .get("idempotency_key")
            .and_then(|k| k.as_str())
            .is_some_and(|k| !k.is_empty()),
        Some(Repeat::WithExpectedVersion) => body
            .get("expected_version")
            .is_some_and(serde_json::Value::is_u64),
        Some(Repeat::ByGrant) => matches!(
            body.get("grant_type").and_then(|g| g.as_str()),
            Some(grant::PASSWORD | grant::CLIENT_CREDENTIALS)
        ),
        // Unknown types are refused by the server: nothing to gain.
        Some(Repeat::Unsafe) | None => false,
    }
}

/// How an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request provably never reached a server: no connection,
    /// connection refused, handshake failed or timed out, no stream opened.
    NotSent,
    /// The request was sent (maybe partly) and no answer came: timeout,
    /// connection lost, node going away. The server may have acted on it.
    Ambiguous,
    /// The server answered `unavailable` (its store, or a node it needed,
    /// is unreachable). Another node may do better.
    Unavailable,
    /// Any other answer, or a local error: asking again changes nothing.
    Final,
}

impl Failure {
    /// Whether the node that failed this way should be avoided for a while.
    pub fn blames_node(self) -> bool {
        !matches!(self, Failure::Final)
    }
}

/// Bounds on retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Attempts in all, the first included (at least 1). Failures that
    /// were never sent may use one attempt per known endpoint if that is
    /// more.
    pub max_attempts: u32,
    /// No retry starts later than this after the first attempt started,
    /// except the first retry, which is always allowed.
    pub budget: Duration,
    /// Wait before the second retry; doubled for each later one. The first
    /// retry waits only when it has to go back to the node that failed.
    pub backoff: Duration,
    /// Cap on one wait.
    pub max_backoff: Duration,
    /// How long a node that failed is avoided.
    pub bad_for: Duration,
}

impl Policy {
    /// For one-shot requests: 3 attempts within 3 s.
    pub fn requests() -> Policy {
        Policy {
            max_attempts: 3,
            budget: Duration::from_secs(3),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            bad_for: Duration::from_secs(5),
        }
    }

    /// For resuming a subscription: consecutive failures without anything
    /// received in between, so a longer leash (10 attempts within 15 s).
    pub fn subscriptions() -> Policy {
        Policy {
            max_attempts: 10,
            budget: Duration::from_secs(15),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            bad_for: Duration::from_secs(5),
        }
    }

    /// The wait before retry number `retry` (1 = the first retry).
    fn backoff_for(&self, retry: u32) -> Duration {
        if retry <= 1 {
            return Duration::ZERO;
        }
        let shift = (retry - 2).min(16);
        self.backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::requests()
    }
}

/// What happened in the attempt that just failed.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// [`idempotent`] for the request.
    pub idempotent: bool,
    pub failure: Failure,
    /// Attempts made so far, this one included (1 after the first).
    pub attempt: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// The endpoint it failed on, if it got as far as one.
    pub endpoint: Option<&'a str>,
}

/// Why a failed request is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The answer was final.
    Final,
    /// It may have been done, and doing it twice is not safe.
    NotIdempotent,
    /// `max_attempts` reached.
    Attempts,
    /// The time budget is spent.
    Budget,
    /// No endpoint is known at all.
    NoEndpoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Wait `after`, then try again on `endpoint`.
    Retry {
        endpoint: String,
        after: Duration,
    },
    GiveUp(GiveUp),
}

/// Decides what to do after a failed attempt. `endpoints` should already
/// have the failed endpoint marked bad (see [`Endpoints::mark_bad`]).
pub fn decide(policy: &Policy, endpoints: &Endpoints, a: Attempt<'_>, now: Instant) -> Decision {
    match a.failure {
        Failure::Final => return Decision::GiveUp(GiveUp::Final),
        Failure::Ambiguous | Failure::Unavailable if !a.idempotent => {
            return Decision::GiveUp(GiveUp::NotIdempotent);
        }
        _ => {}
    }
    let limit = match a.failure {
        Failure::NotSent => policy.max_attempts.max(endpoints.len() as u32),
        _ => policy.max_attempts,
    };
    if a.attempt >= limit {
        return Decision::GiveUp(GiveUp::Attempts);
    }
    let Some(endpoint) = endpoints.next_after(a.endpoint, now) else {
        return Decision::GiveUp(GiveUp::NoEndpoint);
    };
    let retry = a.attempt; // this would be retry number `attempt`
    let mut after = policy.backoff_for(retry);
    if retry == 1 && Some(endpoint.as_str()) == a.endpoint {
        // Nowhere else to go: do not hammer the node that just failed.
        after = policy.backoff;
    }
    if retry > 1 && a.elapsed + after >= policy.budget {
        return Decision::GiveUp(GiveUp::Budget);
    }
    Decision::Retry { endpoint, after }
}

/// One endpoint a client may connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `host:port`.
    pub addr: String,
    /// The node's name, once learned from `cluster.nodes`.
    pub node: Option<String>,
    /// Given by the user (kept even when the cluster does not list it).
    pub seed: bool,
    /// The cluster says it is draining: it refuses new connections.
    pub draining: bool,
    /// Avoided until then, after a failure.
    pub bad_until: Option<Instant>,
}

impl Entry {
    fn usable(&self, now: Instant) -> bool {
        !self.draining && self.bad_until.is_none_or(|t| t <= now)
    }
}

/// The endpoints a client knows, in a fixed ring order, and its "home":
/// the one it prefers while it works. Different clients start at
/// different homes (the `spread` value), so they spread over the nodes.
#[derive(Debug, Clone)]
pub struct Endpoints {
    entries: Vec<Entry>,
    home: usize,
    learned: bool,
}

impl Endpoints {
    /// Seeds in the user's order (duplicates dropped); the home is picked
    /// by `spread` (any number; a random one spreads clients).
    pub fn new<I, S>(seeds: I, spread: u64) -> Endpoints
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut e = Endpoints {
            entries: Vec::new(),
            home: 0,
            learned: false,
        };
        for s in seeds {
            e.add(s.into(), true);
        }
        if !e.entries.is_empty() {
            e.home = (spread % e.entries.len() as u64) as usize;
        }
        e
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The preferred endpoint.
    pub fn home(&self) -> Option<&str> {
        self.entries.get(self.home).map(|e| e.addr.as_str())
    }

    /// Prefers `addr` from now on (added if unknown).
    pub fn set_home(&mut self, addr: &str) {
        self.home = match self.index(addr) {
            Some(i) => i,
            None => self.add(addr.to_string(), false),
        };
    }

    fn index(&self, addr: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.addr == addr)
    }

    /// Adds an endpoint (e.g. from a `goaway`'s alternatives) unless known;
    /// returns its index.
    pub fn add(&mut self, addr: String, seed: bool) -> usize {
        if let Some(i) = self.index(&addr) {
            self.entries[i].seed |= seed;
            return i;
        }
        self.entries.push(Entry {
            addr,
            node: None,
            seed,
            draining: false,
            bad_until: None,
        });
        self.entries.len() - 1
    }

    /// Avoids `addr` until `until`.
    pub fn mark_bad(&mut self, addr: &str, until: Instant) {
        if let Some(i) = self.index(addr) {
            let e = &mut self.entries[i];
            e.bad_until = Some(e.bad_until.map_or(until, |t| t.max(until)));
        }
    }

    /// Forgets a failure, after `addr` worked.
    pub fn mark_good(&mut self, addr: &str) {
        if let Some(i) = self.index(addr) {
            self.entries[i].bad_until = None;
        }
    }

    pub fn is_bad(&self, addr: &str, now: Instant) -> bool {
        self.index(addr)
            .is_some_and(|i| !self.entries[i].usable(now))
    }

    /// Every endpoint in the order to try them: usable ones in ring order
    /// from the home, then the avoided ones (bad, soonest forgiven first),
    /// then draining ones. Nothing is left out: a node that failed may be
    /// back, and trying it beats giving up.
    pub fn candidates(&self, now: Instant) -> Vec<String> {
        self.ordered_from(self.home, now)
            .into_iter()
            .map(|i| self.entries[i].addr.clone())
            .collect()
    }

    fn ordered_from(&self, start: usize, now: Instant) -> Vec<usize> {
        let n = self.entries.len();
        let ring: Vec<usize> = (0..n).map(|k| (start + k) % n).collect();
        let mut usable: Vec<usize> = ring
            .iter()
            .copied()
            .filter(|&i| self.entries[i].usable(now))
            .collect();
        let mut bad: Vec<usize> = ring
            .iter()
            .copied()
            .filter(|&i| !self.entries[i].draining && !self.entries[i].usable(now))
            .collect();
        bad.sort_by_key(|&i| self.entries[i].bad_until);
        let draining = ring.iter().copied().filter(|&i| self.entries[i].draining);
        usable.append(&mut bad);
        usable.extend(draining);
        usable
    }

    /// Where to go after a failure on `failed`: the next usable endpoint in
    /// ring order after it; if there is none, the avoided one forgiven
    /// soonest; `failed` itself only when it is the only one known.
    pub fn next_after(&self, failed: Option<&str>, now: Instant) -> Option<String> {
        let n = self.entries.len();
        if n == 0 {
            return None;
        }
        let failed_i = failed.and_then(|f| self.index(f));
        let start = failed_i.map_or(self.home, |i| (i + 1) % n);
        let order = self.ordered_from(start, now);
        order
            .iter()
            .copied()
            .find(|&i| Some(i) != failed_i)
            .or(order.first().copied())
            .map(|i| self.entries[i].addr.clone())
    }

    /// Merges a member list from `cluster.nodes`: learned endpoints that
    /// the cluster no longer lists are dropped (seeds stay), new ones are
    /// added, `draining` and node names are updated.
    ///
    /// The first time a list with more than one usable node is learned,
    /// returns a new home picked by `spread` among the usable nodes, so
    /// that clients all given the same seed still spread over the
    /// cluster. The caller decides whether to move there.
    pub fn learn(&mut self, nodes: &[NodeAddr], spread: u64, now: Instant) -> Option<String> {
        let home = self.home().map(str::to_string);
        self.entries
            .retain(|e| e.seed || nodes.iter().any(|n| n.addr == e.addr));
        for n in nodes {
            let i = self.add(n.addr.clone(), false);
            self.entries[i].node = Some(n.node.clone());
            self.entries[i].draining = n.draining;
        }
        self.home = home.and_then(|h| self.index(&h)).unwrap_or(0);
        let first = !self.learned;
        self.learned = true;
        if !first {
            return None;
        }
        let usable: Vec<&NodeAddr> = nodes
            .iter()
            .filter(|n| !n.draining && !self.is_bad(&n.addr, now))
            .collect();
        if usable.len() < 2 {
            return None;
        }
        Some(usable[(spread % usable.len() as u64) as usize].addr.clone())
    }

    /// Whether a member list was ever learned.
    pub fn learned(&self) -> bool {
        self.learned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t0() -> Instant {
        Instant::now()
    }

    fn eps(n: usize) -> Endpoints {
        Endpoints::new((0..n).map(|i| format!("n{i}:7400")), 0)
    }

    fn attempt(
        idempotent: bool,
        failure: Failure,
        attempt: u32,
        elapsed_ms: u64,
        endpoint: Option<&str>,
    ) -> Attempt<'_> {
        Attempt {
            idempotent,
            failure,
            attempt,
            elapsed: Duration::from_millis(elapsed_ms),
            endpoint,
        }
    }

    #[test]
    fn the_table_of_safe_requests() {
        // The protocol's table decides; body-dependent types are below.
        for t in requests::ALL {
            match t.repeat {
                Repeat::Safe => assert!(idempotent(t.name, &json!({})), "{}", t.name),
                _ => assert!(!idempotent(t.name, &json!({})), "{}", t.name),
            }
        }
        // Spot checks of what must never be repeated, and unknown types.
        for ty in [
            "order.accept",
            "order.recall",
            "order.rush",
            "order.refund",
            "cluster.drain",
            "weather",
            "",
        ] {
            assert!(!idempotent(ty, &json!({})), "{ty}");
        }
        for ty in ["order.get", "cluster.top", "subscribe"] {
            assert!(idempotent(ty, &json!({})), "{ty}");
        }
    }

    #[test]
    fn order_place_is_safe_only_with_its_key() {
        assert!(idempotent(
            "order.place",
            &json!({"restaurant": "r", "idempotency_key": "abcdefgh"})
        ));
        assert!(!idempotent("order.place", &json!({"restaurant": "r"})));
        assert!(!idempotent("order.place", &json!({"idempotency_key": ""})));
        assert!(!idempotent("order.place", &json!({"idempotency_key": 7})));
        // Order steps: only with the version guard.
        assert!(idempotent(
            "order.accept",
            &json!({"order": "r-1", "expected_version": 2})
        ));
        assert!(!idempotent("order.accept", &json!({"order": "r-1"})));
        assert!(!idempotent(
            "order.accept",
            &json!({"order": "r-1", "expected_version": null})
        ));
        assert!(idempotent(
            "order.station_ready",
            &json!({"order": "r-1", "station": "oven", "expected_version": 4})
        ));
        assert!(!idempotent(
            "order.rush",
            &json!({"order": "r-1", "rush": true})
        ));
    }

    #[test]
    fn auth_token_depends_on_the_grant() {
        use crate::messages::auth::TokenRequest;
        let v = |t: TokenRequest| serde_json::to_value(t).unwrap();
        assert!(idempotent(
            "auth.token",
            &v(TokenRequest::password("u", "p"))
        ));
        assert!(idempotent(
            "auth.token",
            &v(TokenRequest::client_credentials("id", "s"))
        ));
        assert!(!idempotent("auth.token", &v(TokenRequest::refresh("r"))));
        assert!(!idempotent("auth.token", &json!({})));
        assert!(!idempotent("auth.token", &json!({"grant_type": "magic"})));
    }

    #[test]
    fn every_failure_for_every_kind_of_request() {
        let e = eps(3);
        let now = t0();
        for idem in [true, false] {
            for failure in [
                Failure::NotSent,
                Failure::Ambiguous,
                Failure::Unavailable,
                Failure::Final,
            ] {
                let d = decide(
                    &Policy::requests(),
                    &e,
                    attempt(idem, failure, 1, 10, Some("n0:7400")),
                    now,
                );
                let retried = matches!(d, Decision::Retry { .. });
                let expected = match failure {
                    Failure::NotSent => true,
                    Failure::Final => false,
                    Failure::Ambiguous | Failure::Unavailable => idem,
                };
                assert_eq!(retried, expected, "{idem} {failure:?}: {d:?}");
                if !retried {
                    let why = if failure == Failure::Final {
                        GiveUp::Final
                    } else {
                        GiveUp::NotIdempotent
                    };
                    assert_eq!(d, Decision::GiveUp(why));
                }
            }
        }
    }

    #[test]
    fn first_retry_is_immediate_on_the_next_node() {
        let mut e = eps(3);
        let now = t0();
        e.mark_bad("n0:7400", now + Duration::from_secs(5));
        let d = decide(
            &Policy::requests(),
            &e,
            attempt(true, Failure::Ambiguous, 1, 900, Some("n0:7400")),
            now,
        );
        assert_eq!(
            d,
            Decision::Retry {
                endpoint: "n1:7400".into(),
                after: Duration::ZERO
            }
        );
    }

    #[test]
    fn later_retries_back_off_and_stop_at_the_limits() {
        let p = Policy::requests();
        let e = eps(3);
        let now = t0();
        let d = decide(
            &p,
            &e,
            attempt(true, Failure::Ambiguous, 2, 100, Some("n1:7400")),
            now,
        );
        assert_eq!(
            d,
            Decision::Retry {
                endpoint: "n2:7400".into(),
                after: Duration::from_millis(100)
            }
        );
        // Third attempt failed: that was the last one.
        let d = decide(
            &p,
            &e,
            attempt(true, Failure::Ambiguous, 3, 300, Some("n2:7400")),
            now,
        );
        assert_eq!(d, Decision::GiveUp(GiveUp::Attempts));
        // Out of time before the attempts run out.
        let d = decide(
            &p,
            &e,
            attempt(true, Failure::Ambiguous, 2, 2950, Some("n1:7400")),
            now,
        );
        assert_eq!(d, Decision::GiveUp(GiveUp::Budget));
        // ...but a first retry is always allowed, however long the first
        // attempt took.
        let d = decide(
            &p,
            &e,
            attempt(true, Failure::Ambiguous, 1, 10_000, Some("n1:7400")),
            now,
        );
        assert!(matches!(d, Decision::Retry { .. }), "{d:?}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = Policy::subscriptions();
        let waits: Vec<u64> = (1..=8)
            .map(|r| p.backoff_for(r).as_millis() as u64)
            .collect();
        assert_eq!(waits, [0, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.backoff_for(1000), p.max_backoff);
    }

    #[test]
    fn never_sent_may_try_every_endpoint() {
        let p = Policy::requests();
        let e = eps(5);
        let now = t0();
        let d = decide(
            &p,
            &e,
            attempt(false, Failure::NotSent, 4, 100, Some("n3:7400")),
            now,
        );
        assert!(matches!(d, Decision::Retry { .. }), "{d:?}");
        let d = decide(
            &p,
            &e,
            attempt(false, Failure::NotSent, 5, 100, Some("n4:7400")),
            now,
        );
        assert_eq!(d, Decision::GiveUp(GiveUp::Attempts));
    }

    #[test]
    fn a_lone_endpoint_is_retried_after_a_pause() {
        let p = Policy::requests();
        let mut e = eps(1);
        let now = t0();
        e.mark_bad("n0:7400", now + p.bad_for);
        let d = decide(
            &p,
            &e,
            attempt(true, Failure::NotSent, 1, 5, Some("n0:7400")),
            now,
        );
        assert_eq!(
            d,
            Decision::Retry {
                endpoint: "n0:7400".into(),
                after: p.backoff
            }
        );
        let none = Endpoints::new(Vec::<String>::new(), 0);
        let d = decide(&p, &none, attempt(true, Failure::NotSent, 1, 5, None), now);
        assert_eq!(d, Decision::GiveUp(GiveUp::NoEndpoint));
    }

    #[test]
    fn bad_endpoints_are_avoided_then_forgiven() {
        let mut e = eps(3);
        let now = t0();
        e.mark_bad("n1:7400", now + Duration::from_secs(5));
        assert!(e.is_bad("n1:7400", now));
        assert!(!e.is_bad("n1:7400", now + Duration::from_secs(5)));
        assert_eq!(
            e.candidates(now),
            ["n0:7400", "n2:7400", "n1:7400"],
            "bad ones last, not dropped"
        );
        assert_eq!(e.next_after(Some("n0:7400"), now).unwrap(), "n2:7400");
        // Every one bad: the one forgiven soonest goes first.
        e.mark_bad("n0:7400", now + Duration::from_secs(3));
        e.mark_bad("n2:7400", now + Duration::from_secs(4));
        assert_eq!(e.candidates(now), ["n0:7400", "n2:7400", "n1:7400"]);
        assert_eq!(e.next_after(Some("n0:7400"), now).unwrap(), "n2:7400");
        // A later mark never shortens an earlier one.
        e.mark_bad("n1:7400", now + Duration::from_secs(1));
        assert!(e.is_bad("n1:7400", now + Duration::from_secs(2)));
        e.mark_good("n1:7400");
        assert_eq!(e.candidates(now)[0], "n1:7400");
    }

    #[test]
    fn the_home_spreads_clients_and_the_ring_wraps() {
        let homes: std::collections::BTreeSet<String> = (0..3u64)
            .map(|s| {
                Endpoints::new(["a:1", "b:1", "c:1"], s)
                    .home()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(homes.len(), 3);
        let e = Endpoints::new(["a:1", "b:1", "c:1"], 2);
        let now = t0();
        assert_eq!(e.candidates(now), ["c:1", "a:1", "b:1"]);
        assert_eq!(e.next_after(Some("c:1"), now).unwrap(), "a:1");
        assert_eq!(e.next_after(None, now).unwrap(), "c:1");
        assert_eq!(e.next_after(Some("unknown:1"), now).unwrap(), "c:1");
        let dup = Endpoints::new(["a:1", "a:1", "b:1"], 0);
        assert_eq!(dup.len(), 2);
    }

    fn node(name: &str, addr: &str, draining: bool) -> NodeAddr {
        NodeAddr {
            node: name.into(),
            addr: addr.into(),
            draining,
            roles: vec![],
        }
    }

    #[test]
    fn learning_the_members() {
        let now = t0();
        let mut e = Endpoints::new(["a:1"], 0);
        let list = [
            node("a", "a:1", false),
            node("b", "b:1", false),
            node("c", "c:1", false),
        ];
        let moved = e.learn(&list, 1, now);
        assert_eq!(moved.as_deref(), Some("b:1"), "first learn spreads");
        assert_eq!(e.len(), 3);
        assert_eq!(e.home(), Some("a:1"), "the caller decides to move");
        assert_eq!(e.entries()[1].node.as_deref(), Some("b"));
        assert!(e.learned());
        // Later lists do not move the home again; gone members are
        // dropped unless they are seeds; draining ones go last.
        let list2 = [node("a", "a:1", false), node("c", "c:1", true)];
        assert_eq!(e.learn(&list2, 1, now), None);
        assert_eq!(e.len(), 2);
        assert_eq!(e.candidates(now), ["a:1", "c:1"]);
        let list3 = [node("c", "c:1", false), node("d", "d:1", false)];
        e.set_home("c:1");
        e.learn(&list3, 0, now);
        assert_eq!(
            e.entries()
                .iter()
                .map(|x| x.addr.as_str())
                .collect::<Vec<_>>(),
            ["a:1", "c:1", "d:1"],
            "the seed stays"
        );
        assert_eq!(e.home(), Some("c:1"), "home kept across learns");
    }

    #[test]
    fn learning_skips_draining_and_bad_nodes_when_spreading() {
        let now = t0();
        let mut e = Endpoints::new(["a:1"], 0);
        e.add("b:1".into(), false);
        e.mark_bad("b:1", now + Duration::from_secs(5));
        let list = [
            node("a", "a:1", false),
            node("b", "b:1", false),
            node("c", "c:1", true),
        ];
        assert_eq!(e.learn(&list, 5, now), None, "only one usable node");
        let mut e = Endpoints::new(["a:1"], 0);
        for s in 0..10 {
            let mut f = e.clone();
            let to = f.learn(&list, s, now).unwrap();
            assert!(to == "a:1" || to == "b:1", "never the draining c");
        }
        e.learn(&[node("a", "a:1", false)], 0, now);
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn set_home_adds_unknown_endpoints() {
        let mut e = Endpoints::new(["a:1"], 0);
        e.set_home("z:9");
        assert_eq!(e.home(), Some("z:9"));
        assert!(!e.entries()[1].seed);
        assert_eq!(e.add("a:1".into(), false), 0);
        assert!(Failure::Ambiguous.blames_node());
        assert!(!Failure::Final.blames_node());
    }
}

//! Subscription fan-out: one store watch per topic prefix on this node,
//! shared by every subscriber of that topic.
//!
//! Without it, 1,000 subscribers of one restaurant meant 1,000 store
//! watches, each change read, parsed and serialised 1,000 times. A [`Hub`]
//! watches the prefix once, turns each store batch into the wire frame
//! once ([`Batch`]), and hands the same bytes to every subscriber through
//! a broadcast channel.
//!
//! No gap, no duplicate: the hub appends each batch to a ring of recent
//! batches and broadcasts it under one lock; a subscriber joins under the
//! same lock, taking the recent batches at or after its start revision
//! and a receiver for everything later. A subscriber whose start revision
//! is older than what the hub can replay (or than the hub's own start)
//! gets a private watch instead ([`Source::Private`]), as before.
//!
//! The ring is bounded in batches ([`CAPACITY`]) and in bytes
//! ([`RING_BYTES`]): it alone owns the batches, and the channel carries
//! weak references to them. A subscriber that falls behind what the ring
//! still holds (more than [`CAPACITY`] batches, or a batch the byte bound
//! already dropped) is ended with `unavailable` (the client resumes from
//! its last revision + 1, as for any broken stream) rather than slowing
//! the others down or pinning memory. A hub with no subscriber left stops
//! within [`IDLE_CHECK`].
//!
//! No event is dropped silently: a revision whose `event` frame would not
//! fit in a frame (bounded orders and menus make that impossible, but
//! not by this module's reckoning) becomes a `too_large` error frame that
//! ends each subscription reaching it, naming the revision.
//!
//! A store watch that breaks (an etcd leader change, a member's death) is
//! not the subscribers' problem: [`Follow`] watches again from the revision
//! after the last one it saw, with a short backoff, for as long as anyone
//! listens. Only a compacted start ends a hub (or a private watch): its
//! subscribers get `compacted` and re-read their snapshot.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use protocol::frame::MAX_FRAME_LEN;
use protocol::messages::Event;
use protocol::wire::{ErrorCode, ServerFrame};
use tokio::sync::broadcast;

use crate::locks::LockAnyway;
use crate::store::{Revision, Store, StoreError, WatchBatch, WatchStream};

/// Batches a hub keeps for late joiners, and the most a subscriber may
/// fall behind.
pub const CAPACITY: usize = 1024;
/// Bytes of frames a hub keeps (the newest batch is kept whatever its
/// size).
pub const RING_BYTES: usize = 8 * 1024 * 1024;
/// How often an idle hub checks whether anyone still listens.
pub const IDLE_CHECK: Duration = Duration::from_secs(5);

/// One store revision's events under a topic, encoded once as the
/// length-prefixed `event` frame every subscriber is sent.
#[derive(Debug)]
pub struct Batch {
    pub revision: Revision,
    pub frame: Vec<u8>,
    /// The frame is an error that ends the subscription (its events did
    /// not fit in a frame).
    pub ends: bool,
}

/// What a subscriber receives: a batch, or the error that ended the watch.
pub type Item = Result<Arc<Batch>, (ErrorCode, String)>;

/// What the hub broadcasts: the ring owns the batches.
type Sent = Result<Weak<Batch>, (ErrorCode, String)>;

fn fell_behind(n: u64) -> (ErrorCode, String) {
    (
        ErrorCode::Unavailable,
        format!(
            "this subscriber fell {n} batches behind; subscribe again from your last revision + 1"
        ),
    )
}

/// Turns a store batch into wire events (`None`: nothing to send).
pub type Convert = fn(prefix: &str, batch: &WatchBatch) -> Vec<Event>;

/// A store error as the code and message a subscriber is sent.
fn store_error(e: StoreError) -> (ErrorCode, String) {
    let e = crate::rpc::ApiError::from(e);
    (e.code, e.message)
}

/// Encodes the `event` frame of `events` at `revision` (`None`: no
/// events). One that cannot be sent (too large for a frame) becomes an
/// error frame that ends the subscription: never a silent gap.
pub fn encode(revision: Revision, events: Vec<Event>) -> Option<Arc<Batch>> {
    if events.is_empty() {
        return None;
    }
    let rev = crate::store::wire_revision(revision);
    let f = ServerFrame::Event {
        revision: rev,
        events,
    };
    let refuse = |code: ErrorCode, message: String| {
        tracing::warn!(revision, %message, "an event cannot be sent; its subscribers are told");
        let f = ServerFrame::error(None, code, message);
        let payload = protocol::wire::encode_doc(&f).unwrap_or_default();
        let frame = protocol::frame::encode(&payload, MAX_FRAME_LEN).unwrap_or_default();
        Some(Arc::new(Batch {
            revision,
            frame,
            ends: true,
        }))
    };
    let payload = match protocol::wire::encode_doc(&f) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                ErrorCode::Internal,
                format!(
                    "the events of revision {rev} cannot be encoded ({e}); re-read the state and subscribe from {}",
                    rev + 1
                ),
            );
        }
    };
    match protocol::frame::encode(&payload, MAX_FRAME_LEN) {
        Ok(frame) => Some(Arc::new(Batch {
            revision,
            frame,
            ends: false,
        })),
        Err(_) => refuse(
            ErrorCode::TooLarge,
            format!(
                "the events of revision {rev} are {} bytes, more than a frame may carry ({MAX_FRAME_LEN}); re-read the state and subscribe from {}",
                payload.len(),
                rev + 1
            ),
        ),
    }
}

struct Ring {
    recent: VecDeque<Arc<Batch>>,
    /// Bytes of the frames in `recent`.
    bytes: usize,
    /// Every revision at or below this may have been dropped from
    /// `recent` (it starts at the hub's start revision - 1).
    dropped_upto: Revision,
    closed: bool,
}

/// One shared watch of one prefix.
pub struct Hub {
    start: Revision,
    ring: Mutex<Ring>,
    tx: broadcast::Sender<Sent>,
}

/// A store watch of one prefix that resumes after any break but
/// compaction, from the revision after the last batch it delivered.
pub struct Follow {
    store: Arc<dyn Store>,
    prefix: String,
    /// The next revision to deliver.
    next: Revision,
    stream: Option<WatchStream>,
    backoff: Duration,
    /// When the current break started (None while the watch is up).
    broken_since: Option<tokio::time::Instant>,
    give_up_after: Duration,
}

const FOLLOW_BACKOFF_MIN: Duration = Duration::from_millis(50);
const FOLLOW_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long a broken watch is retried before its subscribers are told
/// `unavailable` (so they move to another node): far longer than an etcd
/// election, short enough that a node cut off from its store does not keep
/// clients waiting for nothing.
pub const FOLLOW_GIVE_UP: Duration = Duration::from_secs(8);

impl Follow {
    /// Starts watching `prefix` from `start` (errors of the first watch are
    /// the caller's: the subscriber is refused with them).
    pub async fn start(
        store: &Arc<dyn Store>,
        prefix: &str,
        start: Revision,
    ) -> Result<Follow, StoreError> {
        let stream = store.watch(prefix, start).await?;
        Ok(Follow {
            store: store.clone(),
            prefix: prefix.to_string(),
            next: start,
            stream: Some(stream),
            backoff: FOLLOW_BACKOFF_MIN,
            broken_since: None,
            give_up_after: FOLLOW_GIVE_UP,
        })
    }

    /// The same, giving up after `after` of failing (tests).
    pub fn giving_up_after(mut self, after: Duration) -> Follow {
        self.give_up_after = after;
        self
    }

    /// The next batch; an error when the revision to resume from was
    /// compacted, or when the watch could not be made again for
    /// [`FOLLOW_GIVE_UP`] (`unavailable`: this node lost its store, its
    /// subscribers should move). Cancel-safe: state changes only when a
    /// step completes.
    pub async fn next(&mut self) -> Result<WatchBatch, StoreError> {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                let since = *self
                    .broken_since
                    .get_or_insert_with(tokio::time::Instant::now);
                match self.store.watch(&self.prefix, self.next).await {
                    Ok(s) => {
                        tracing::info!(prefix = %self.prefix, from = self.next, "store watch resumed");
                        self.stream = Some(s);
                        self.backoff = FOLLOW_BACKOFF_MIN;
                        self.broken_since = None;
                    }
                    Err(e @ StoreError::Compacted { .. }) => return Err(e),
                    Err(e) if since.elapsed() >= self.give_up_after => {
                        self.broken_since = None;
                        return Err(StoreError::Unavailable(format!(
                            "this node lost its store watch for {:?} ({e}); subscribe again from your last revision + 1 on another node",
                            self.give_up_after
                        )));
                    }
                    Err(e) => {
                        tracing::debug!(prefix = %self.prefix, error = %e, "store watch not back yet");
                        tokio::time::sleep(self.backoff).await;
                        self.backoff = (self.backoff * 2).min(FOLLOW_BACKOFF_MAX);
                    }
                }
                continue;
            };
            match stream.next().await {
                Some(Ok(b)) => {
                    self.next = b.revision + 1;
                    return Ok(b);
                }
                Some(Err(e @ StoreError::Compacted { .. })) => return Err(e),
                Some(Err(e)) => {
                    tracing::warn!(prefix = %self.prefix, error = %e, from = self.next, "store watch broke; resuming");
                    self.stream = None;
                }
                None => {
                    tracing::debug!(prefix = %self.prefix, "store watch ended; resuming");
                    self.stream = None;
                }
            }
        }
    }
}

/// Where a subscriber's batches come from.
pub enum Source {
    /// The shared watch: `backlog` first, then `rx`.
    Hub {
        backlog: VecDeque<Arc<Batch>>,
        rx: broadcast::Receiver<Sent>,
        /// Keeps the ring (which owns the batches `rx` points to) alive
        /// while this subscriber reads, even after its hub ended.
        _hub: Arc<Hub>,
    },
    /// A watch of its own (it started before what the hub can replay).
    Private {
        prefix: String,
        follow: Box<Follow>,
        convert: Convert,
    },
}

impl Source {
    /// The next batch at or after `from`; `None` when the source ended.
    pub async fn next(&mut self, from: Revision) -> Option<Item> {
        match self {
            Source::Hub { backlog, rx, .. } => {
                if let Some(b) = backlog.pop_front() {
                    return Some(Ok(b));
                }
                loop {
                    match rx.recv().await {
                        Ok(Ok(weak)) => match weak.upgrade() {
                            Some(b) if b.revision < from => continue,
                            Some(b) => return Some(Ok(b)),
                            // The ring let it go (its byte bound): this
                            // subscriber is behind what the hub keeps.
                            None => {
                                let behind = u64::try_from(rx.len()).unwrap_or(u64::MAX);
                                return Some(Err(fell_behind(behind.saturating_add(1))));
                            }
                        },
                        Ok(Err(e)) => return Some(Err(e)),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            return Some(Err(fell_behind(n)));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
            Source::Private {
                prefix,
                follow,
                convert,
            } => loop {
                match follow.next().await {
                    Ok(b) => {
                        if let Some(batch) = encode(b.revision, convert(prefix, &b)) {
                            return Some(Ok(batch));
                        }
                    }
                    Err(e) => return Some(Err(store_error(e))),
                }
            },
        }
    }
}

/// Every hub of this node, by prefix.
pub struct Fanout {
    hubs: tokio::sync::Mutex<HashMap<String, Arc<Hub>>>,
    capacity: usize,
    ring_bytes: usize,
    idle_check: Duration,
}

impl Default for Fanout {
    fn default() -> Self {
        Fanout::new(CAPACITY, IDLE_CHECK)
    }
}

impl Fanout {
    /// Hubs keeping `capacity` batches (and at most [`RING_BYTES`] of
    /// them), checking every `idle_check` whether anyone still listens.
    pub fn new(capacity: usize, idle_check: Duration) -> Fanout {
        Fanout {
            hubs: Default::default(),
            capacity,
            ring_bytes: RING_BYTES,
            idle_check,
        }
    }

    /// The same, keeping at most `bytes` of frames per hub (tests).
    pub fn with_ring_bytes(mut self, bytes: usize) -> Fanout {
        self.ring_bytes = bytes;
        self
    }

    /// A source of `prefix`'s batches from `start` on (no gap, no
    /// duplicate), through the shared hub when it can replay from there.
    pub async fn join(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        prefix: &str,
        start: Revision,
        convert: Convert,
    ) -> Result<Source, StoreError> {
        let mut hubs = self.hubs.lock().await;
        // Decided without holding the ring's lock across an await.
        let joined = hubs.get(prefix).and_then(|hub| {
            let ring = hub.ring.lock_anyway();
            if ring.closed {
                None
            } else if start >= hub.start && start > ring.dropped_upto {
                let backlog = ring
                    .recent
                    .iter()
                    .filter(|b| b.revision >= start)
                    .cloned()
                    .collect();
                Some(Some(Source::Hub {
                    backlog,
                    rx: hub.tx.subscribe(),
                    _hub: hub.clone(),
                }))
            } else {
                // Older than the hub can replay: a watch of its own.
                Some(None)
            }
        });
        match joined {
            Some(Some(source)) => return Ok(source),
            Some(None) => {
                drop(hubs);
                return Ok(Source::Private {
                    prefix: prefix.to_string(),
                    follow: Box::new(Follow::start(store, prefix, start).await?),
                    convert,
                });
            }
            None => {}
        }
        // No live hub: this subscriber starts one at its own start.
        let follow = Follow::start(store, prefix, start).await?;
        let (tx, rx) = broadcast::channel(self.capacity);
        let hub = Arc::new(Hub {
            start,
            ring: Mutex::new(Ring {
                recent: VecDeque::new(),
                bytes: 0,
                dropped_upto: start - 1,
                closed: false,
            }),
            tx,
        });
        hubs.insert(prefix.to_string(), hub.clone());
        tokio::spawn(
            self.clone()
                .run(prefix.to_string(), hub.clone(), follow, convert),
        );
        Ok(Source::Hub {
            backlog: VecDeque::new(),
            rx,
            _hub: hub,
        })
    }

    /// Number of live hubs (for tests and figures).
    pub async fn hubs(&self) -> usize {
        self.hubs.lock().await.len()
    }

    async fn run(
        self: Arc<Self>,
        prefix: String,
        hub: Arc<Hub>,
        mut follow: Follow,
        convert: Convert,
    ) {
        let mut idle = tokio::time::interval(self.idle_check);
        idle.tick().await;
        let end: (ErrorCode, String) = loop {
            tokio::select! {
                b = follow.next() => match b {
                    Ok(b) => {
                        let Some(batch) = encode(b.revision, convert(&prefix, &b)) else {
                            continue;
                        };
                        let mut ring = hub.ring.lock_anyway();
                        ring.bytes += batch.frame.len();
                        let weak = Arc::downgrade(&batch);
                        ring.recent.push_back(batch);
                        while ring.recent.len() > self.capacity
                            || (ring.bytes > self.ring_bytes && ring.recent.len() > 1)
                        {
                            let Some(old) = ring.recent.pop_front() else { break };
                            ring.bytes -= old.frame.len();
                            ring.dropped_upto = old.revision;
                        }
                        let _ = hub.tx.send(Ok(weak));
                    }
                    Err(e) => break store_error(e),
                },
                _ = idle.tick() => {
                    let mut hubs = self.hubs.lock().await;
                    if hub.tx.receiver_count() == 0 {
                        hub.ring.lock_anyway().closed = true;
                        if hubs.get(&prefix).is_some_and(|h| Arc::ptr_eq(h, &hub)) {
                            hubs.remove(&prefix);
                        }
                        return;
                    }
                }
            }
        };
        let mut hubs = self.hubs.lock().await;
        hub.ring.lock_anyway().closed = true;
        if hubs.get(&prefix).is_some_and(|h| Arc::ptr_eq(h, &hub)) {
            hubs.remove(&prefix);
        }
        drop(hubs);
        let _ = hub.tx.send(Err(end));
    }
}

#[cfg(test)]
mod tests;

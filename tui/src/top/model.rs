//! The dashboard's state: the last [`Dashboard`] the cluster sent, the
//! history the sparklines draw, the selected member and the prompt.
//! Keys → [`Effect`]s, server news → state. Sans IO: it takes `now` (Unix
//! milliseconds) and never talks to anything.
//!
//! A member is not taken at its word: one whose lease is running out or
//! whose figures have stopped changing is [`Health::Suspect`] (a node
//! killed -9 keeps its member entry until its lease expires, and its last
//! figures until then), and one that drops out of the readings is kept as
//! [`Lost`] for [`LOST_KEPT_MS`], with when it was lost.

use std::collections::{HashMap, VecDeque};

use protocol::messages::cluster::{Dashboard, MemberInfo, NodeStats};
use protocol::messages::orders::OrderState;

pub use crate::board::model::{Conn, Key};

/// Samples kept for the sparklines (one a second: two minutes).
pub const HISTORY: usize = 120;

/// A lease with this many seconds left or fewer is running out (leases
/// are renewed well before: a healthy member never shows this).
pub const SUSPECT_LEASE_SECS: u64 = 2;
/// Figures that have not changed for this long are stale (nodes publish
/// about once a second).
pub const STALE_MS: u64 = 3_000;
/// How long a lost member stays on the screen.
pub const LOST_KEPT_MS: u64 = 5 * 60_000;

/// What the dashboard makes of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Live,
    /// Still a member, but maybe not for long: why.
    Suspect(String),
}

/// A member that dropped out of the readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Lost {
    pub info: MemberInfo,
    /// Local clock, Unix milliseconds.
    pub at_ms: u64,
    /// Its last figures, as they were.
    pub stats: Option<NodeStats>,
}

/// An operator action, sent to the cluster once confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Move leadership to `to`, or (None) to the best candidate.
    Switchover {
        to: Option<String>,
    },
    Pause,
    Resume,
    /// Forced failover to `to`: for a cluster with no leader (paused, or
    /// its leader gone), whatever the election would decide.
    Failover {
        to: String,
    },
    /// Drain `node` (`drain: false`: take connections again).
    Drain {
        node: String,
        drain: bool,
    },
}

impl Op {
    /// The question the confirmation prompt asks.
    pub fn question(&self, leader: Option<&str>) -> String {
        match self {
            Op::Switchover { to: Some(n) } => match leader {
                Some(l) => format!("Switch leadership from {l} to {n}?"),
                None => format!("Make {n} the leader?"),
            },
            Op::Switchover { to: None } => match leader {
                Some(l) => format!("Switch leadership from {l} to the best candidate?"),
                None => "Elect the best candidate?".into(),
            },
            Op::Failover { to } => format!(
                "FORCE {to} to lead now ({})?",
                match leader {
                    Some(l) => format!("{l} leads now; it is deposed"),
                    None => "there is no leader".into(),
                }
            ),
            Op::Pause => "Pause the cluster (no automatic leader change)?".into(),
            Op::Resume => "Resume automatic leader changes?".into(),
            Op::Drain { node, drain: true } => {
                format!("Drain {node} (its clients move to other nodes)?")
            }
            Op::Drain { node, drain: false } => format!("Let {node} take connections again?"),
        }
    }

    /// What it is called in messages.
    pub fn name(&self) -> String {
        match self {
            Op::Switchover { .. } => "switchover".into(),
            Op::Failover { to } => format!("failover to {to}"),
            Op::Pause => "pause".into(),
            Op::Resume => "resume".into(),
            Op::Drain { node, drain: true } => format!("drain {node}"),
            Op::Drain { node, drain: false } => format!("undrain {node}"),
        }
    }
}

/// What the network task tells the dashboard.
// One message per second, moved once through a channel.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Conn(Conn),
    /// A fresh reading of the whole cluster.
    Sample(Dashboard),
    /// The answer to an [`Op`] (`Err`: the server's message).
    OpDone {
        op: Op,
        result: Result<(), String>,
    },
}

/// What the dashboard asks of the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Send(Op),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Asking "y/N" before sending the op.
    Confirm(Op),
    Help,
}

/// A line at the bottom: the outcome of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// What one node did between two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub requests_per_sec: f64,
    pub errors_per_sec: f64,
}

pub struct Top {
    pub conn: Conn,
    /// The last sample, and when (local clock) it arrived.
    pub dash: Option<Dashboard>,
    pub received_at: u64,
    /// Per node: the previous figures, to turn counters into rates.
    prev: HashMap<String, NodeStats>,
    pub rates: HashMap<String, Rate>,
    /// Orders placed in the minute before each sample, oldest first.
    pub orders_per_minute: VecDeque<u64>,
    /// Per state of [`OPEN_STATES`] (same order): its order count at each
    /// sample, oldest first.
    pub state_history: [VecDeque<u64>; OPEN_STATES.len()],
    /// Members that dropped out, newest first (kept [`LOST_KEPT_MS`]).
    pub lost: Vec<Lost>,
    /// Per node: when (local clock) its figures last changed.
    fresh_at: HashMap<String, u64>,
    /// Index into the members (sorted by node name).
    pub selected: usize,
    pub mode: Mode,
    pub notice: Option<Notice>,
}

/// The states an order waits in; drawn as sparklines (the terminal ones
/// are totals).
pub const OPEN_STATES: [OrderState; 5] = [
    OrderState::PendingPayment,
    OrderState::Placed,
    OrderState::Accepted,
    OrderState::Preparing,
    OrderState::Ready,
];

fn push(q: &mut VecDeque<u64>, v: u64) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

impl Default for Top {
    fn default() -> Self {
        Top::new()
    }
}

impl Top {
    pub fn new() -> Top {
        Top {
            conn: Conn::Connecting,
            dash: None,
            received_at: 0,
            prev: HashMap::new(),
            rates: HashMap::new(),
            orders_per_minute: VecDeque::new(),
            state_history: Default::default(),
            lost: Vec::new(),
            fresh_at: HashMap::new(),
            selected: 0,
            mode: Mode::Normal,
            notice: None,
        }
    }

    /// The members, sorted by node name (the order they are drawn in).
    pub fn members(&self) -> Vec<&MemberInfo> {
        let mut m: Vec<&MemberInfo> = self
            .dash
            .as_ref()
            .map(|d| d.status.members.iter().collect())
            .unwrap_or_default();
        m.sort_by(|a, b| a.member.node.cmp(&b.member.node));
        m
    }

    pub fn selected_member(&self) -> Option<&MemberInfo> {
        self.members().get(self.selected).copied()
    }

    pub fn leader(&self) -> Option<&str> {
        self.dash
            .as_ref()
            .and_then(|d| d.status.leader.as_ref())
            .map(|l| l.node.as_str())
    }

    pub fn connected(&self) -> bool {
        matches!(self.conn, Conn::Connected { .. })
    }

    /// The node's last published figures.
    pub fn stats(&self, node: &str) -> Option<&NodeStats> {
        self.dash
            .as_ref()
            .and_then(|d| d.nodes.iter().find(|s| s.node == node))
    }

    /// Seconds left on a member's lease as of `now`: the TTL it had when
    /// read, counted down since.
    pub fn lease_left(&self, m: &MemberInfo, now: u64) -> u64 {
        let gone = now.saturating_sub(self.received_at) / 1000;
        m.lease_ttl_secs.saturating_sub(gone)
    }

    /// Whether `m` looks alive at `now`: its lease is not running out, and
    /// its figures are there and still changing. While the dashboard itself
    /// is disconnected every figure is old: the status line says so once,
    /// rather than blaming each member.
    pub fn health(&self, m: &MemberInfo, now: u64) -> Health {
        if !self.connected() {
            return Health::Live;
        }
        let node = &m.member.node;
        let lease = self.lease_left(m, now);
        if lease <= SUSPECT_LEASE_SECS {
            return Health::Suspect(format!("lease {lease}s"));
        }
        if self.stats(node).is_none() {
            return Health::Suspect("no figures".into());
        }
        match self.fresh_at.get(node) {
            Some(t) if now.saturating_sub(*t) >= STALE_MS => {
                Health::Suspect(format!("stale {}s", now.saturating_sub(*t) / 1000))
            }
            _ => Health::Live,
        }
    }

    /// The members lost within [`LOST_KEPT_MS`] of `now`.
    pub fn lost_at(&self, now: u64) -> impl Iterator<Item = &Lost> + '_ {
        self.lost
            .iter()
            .filter(move |l| now.saturating_sub(l.at_ms) < LOST_KEPT_MS)
    }

    pub fn incoming(&mut self, msg: Incoming, now: u64) {
        match msg {
            Incoming::Conn(c) => self.conn = c,
            Incoming::Sample(d) => self.sample(d, now),
            Incoming::OpDone { op, result } => {
                self.notice = Some(match result {
                    Ok(()) => Notice {
                        text: format!("{}: done", op.name()),
                        error: false,
                    },
                    Err(e) => Notice {
                        text: format!("{} refused: {e}", op.name()),
                        error: true,
                    },
                });
            }
        }
    }

    fn sample(&mut self, d: Dashboard, now: u64) {
        // Who left since the last reading: kept, with when.
        if let Some(old) = &self.dash {
            for m in &old.status.members {
                let node = &m.member.node;
                if !d.status.members.iter().any(|n| &n.member.node == node) {
                    self.lost.retain(|l| &l.info.member.node != node);
                    self.lost.insert(
                        0,
                        Lost {
                            info: m.clone(),
                            at_ms: now,
                            stats: self.stats(node).cloned(),
                        },
                    );
                }
            }
        }
        self.lost.retain(|l| {
            now.saturating_sub(l.at_ms) < LOST_KEPT_MS
                && !d
                    .status
                    .members
                    .iter()
                    .any(|m| m.member.node == l.info.member.node)
        });
        for s in &d.nodes {
            if self.prev.get(&s.node).is_none_or(|p| p.at != s.at) {
                self.fresh_at.insert(s.node.clone(), now);
            }
        }
        self.fresh_at
            .retain(|n, _| d.nodes.iter().any(|s| &s.node == n));
        for s in &d.nodes {
            match self.prev.get(&s.node) {
                // Not published again since: keep the rate it gave.
                Some(p) if s.at == p.at => continue,
                // A restarted node starts its counters again: no rate.
                Some(p) if s.at > p.at && s.requests_total >= p.requests_total => {
                    let secs = (s.at - p.at) as f64 / 1000.0;
                    let rate = Rate {
                        requests_per_sec: (s.requests_total - p.requests_total) as f64 / secs,
                        errors_per_sec: s
                            .request_errors_total
                            .saturating_sub(p.request_errors_total)
                            as f64
                            / secs,
                    };
                    self.rates.insert(s.node.clone(), rate);
                }
                _ => {
                    self.rates.remove(&s.node);
                }
            }
            self.prev.insert(s.node.clone(), s.clone());
        }
        self.prev
            .retain(|n, _| d.nodes.iter().any(|s| &s.node == n));
        self.rates
            .retain(|n, _| d.nodes.iter().any(|s| &s.node == n));
        push(&mut self.orders_per_minute, d.orders.placed_last_minute);
        for (s, h) in OPEN_STATES.iter().zip(&mut self.state_history) {
            push(h, d.orders.by_state.get(s.as_str()).copied().unwrap_or(0));
        }
        self.dash = Some(d);
        self.received_at = now;
        let n = self.members().len();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
    }

    pub fn key(&mut self, k: Key, _now: u64) -> Vec<Effect> {
        if k == Key::Interrupt {
            return vec![Effect::Quit];
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Help => Vec::new(),
            Mode::Confirm(op) => {
                if matches!(k, Key::Char('y') | Key::Char('Y')) {
                    if self.connected() {
                        self.notice = Some(Notice {
                            text: format!("{}: sent…", op.name()),
                            error: false,
                        });
                        vec![Effect::Send(op)]
                    } else {
                        self.notice = Some(Notice {
                            text: format!("{}: not sent, disconnected", op.name()),
                            error: true,
                        });
                        Vec::new()
                    }
                } else {
                    self.notice = Some(Notice {
                        text: format!("{}: cancelled", op.name()),
                        error: false,
                    });
                    Vec::new()
                }
            }
            Mode::Normal => self.normal_key(k),
        }
    }

    fn normal_key(&mut self, k: Key) -> Vec<Effect> {
        let n = self.members().len();
        match k {
            Key::Char('q') => return vec![Effect::Quit],
            Key::Char('?') => self.mode = Mode::Help,
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1))
            }
            Key::Esc => self.notice = None,
            Key::Char('s') => {
                // To the selected node, unless it is the leader already:
                // then away from it, to the best candidate.
                let to = self
                    .selected_member()
                    .filter(|m| !m.leader)
                    .map(|m| m.member.node.clone());
                self.ask(Op::Switchover { to });
            }
            Key::Char('p') => match self.dash.as_ref().map(|d| d.status.paused) {
                Some(true) => self.ask(Op::Resume),
                Some(false) => self.ask(Op::Pause),
                None => self.not_yet(),
            },
            // Forced failover to the selected member: the way out when no
            // leader is elected (a paused cluster), confirmed like the rest.
            Key::Char('f') => match self.selected_member() {
                Some(m) => {
                    let op = Op::Failover {
                        to: m.member.node.clone(),
                    };
                    self.ask(op);
                }
                None => self.not_yet(),
            },
            Key::Char('d') => match self.selected_member() {
                Some(m) => {
                    let op = Op::Drain {
                        node: m.member.node.clone(),
                        drain: !m.member.draining,
                    };
                    self.ask(op);
                }
                None => self.not_yet(),
            },
            _ => {}
        }
        Vec::new()
    }

    fn ask(&mut self, op: Op) {
        if self.dash.is_none() {
            return self.not_yet();
        }
        self.notice = None;
        self.mode = Mode::Confirm(op);
    }

    fn not_yet(&mut self) {
        self.notice = Some(Notice {
            text: "nothing to act on yet: no reading from the cluster".into(),
            error: true,
        });
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! The kitchen board's state, sans IO: tickets in columns, selection,
//! filters, panels, and what each key means.
//!
//! Everything here is plain data and functions. Time comes in as `now`
//! (Unix milliseconds, the unit of `Order::created_at`), server news comes
//! in as [`Incoming`], keys come in as [`Key`]; out come [`Effect`]s that
//! the driver (`app`) performs — a request to send, a bell to ring, the
//! wish to quit. Nothing in this module sleeps, reads a clock or touches
//! a socket, so every rule is unit-tested below.
//!
//! Server events are applied idempotently: an order event whose `version`
//! is not newer than the one the board already holds is ignored, so a
//! replay after a reconnect (or a bump's answer racing its own event)
//! never moves a ticket backwards or twice.
//!
//! Safe bumps. The cursor is an order id per column, not a row: tickets
//! moving around it never put another one under it. When its ticket
//! leaves the column (bumped, here or on another screen), the cursor goes
//! to the neighbour, the status line says so, and Enter is refused for
//! [`Settings::settle_ms`], so a press meant for #6 cannot bump #7. A bump
//! records the order `version` the cook saw ([`Effect::Transition`]'s
//! `expected_version`, for the daemon's guard once it has one) and marks
//! the ticket [`Pending`] until its answer or a newer version arrives; an
//! answer that never came ([`StepError::Unconfirmed`]) or a request that
//! could not leave ([`StepError::NotSent`]) stays on the ticket until the
//! server's news settles it or the cook dismisses it (`d`).
//!
//! Derived views (the four columns, all-day counts, positions) are
//! rebuilt after each change rather than on each frame, so drawing 5,000
//! tickets only walks the visible ones.

use std::collections::{BTreeMap, HashMap, VecDeque};

use protocol::messages::Event;
use protocol::messages::catalog::{Menu, MenuItem};
use protocol::messages::orders::{Order, OrderLine, OrderState, RECALL_WINDOW_SECS};
use ratatui::layout::Rect;

use super::layout;

/// How long after a bump it can be recalled: the daemon's own window
/// (`order.recall` refuses after it), so the board never offers a recall
/// the daemon would refuse for lateness.
pub const RECALL_WINDOW_MS: u64 = RECALL_WINDOW_SECS * 1000;

/// How many completed orders the recall screen keeps (newest first).
pub const RECENT_COMPLETED: usize = 30;

/// How many live arrivals are remembered for the NEW marks.
const ARRIVALS_KEPT: usize = 256;

/// How new arrivals, ages, messages and the cursor guard behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A ticket older than this is "getting late" (yellow). 5 minutes.
    pub warn_after_ms: u64,
    /// A ticket older than this is late (red). 10 minutes.
    pub late_after_ms: u64,
    /// After the cursor moved by itself (its ticket left the column),
    /// Enter is refused this long. 1.5 s: longer than an event takes to
    /// arrive after a press, shorter than reading a ticket.
    pub settle_ms: u64,
    /// How long a status message stays. 15 s.
    pub message_ms: u64,
    /// How long a ticket that arrived live carries the NEW mark. 60 s.
    pub new_for_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            warn_after_ms: 5 * 60_000,
            late_after_ms: 10 * 60_000,
            settle_ms: 1_500,
            message_ms: 15_000,
            new_for_ms: 60_000,
        }
    }
}

/// The board's columns, left to right: one per kitchen state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// `placed`: waiting for the kitchen to accept.
    New,
    /// `accepted`: taken, not started.
    Accepted,
    /// `preparing`.
    Preparing,
    /// `ready`: waiting to be handed over.
    Ready,
}

impl Column {
    pub const ALL: [Column; 4] = [
        Column::New,
        Column::Accepted,
        Column::Preparing,
        Column::Ready,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::New => "New",
            Column::Accepted => "Accepted",
            Column::Preparing => "Preparing",
            Column::Ready => "Ready",
        }
    }

    /// The column an order in `state` sits in; `None` for orders the
    /// board does not show (awaiting payment, or finished).
    pub fn of(state: OrderState) -> Option<Column> {
        match state {
            OrderState::Placed => Some(Column::New),
            OrderState::Accepted => Some(Column::Accepted),
            OrderState::Preparing => Some(Column::Preparing),
            OrderState::Ready => Some(Column::Ready),
            _ => None,
        }
    }
}

/// How old a ticket is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    Fresh,
    Warn,
    Late,
}

/// A kitchen request the board may send for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Accept,
    Start,
    Ready,
    Complete,
    Reject {
        reason: String,
    },
    /// Undo the last bump: the order must still be in `state`.
    Recall {
        state: OrderState,
    },
    /// Set the order's own rush flag (`order.rush`), which every board
    /// and the CLI see.
    Rush {
        rush: bool,
    },
    /// A station's bump (`order.station_ready`): its lines ready (or
    /// not); the order is ready when every station's are.
    Station {
        station: String,
        ready: bool,
    },
}

impl Step {
    /// The bump from `state`: placed→accept, accepted→start,
    /// preparing→ready, ready→complete.
    pub fn bump_from(state: OrderState) -> Option<Step> {
        match state {
            OrderState::Placed => Some(Step::Accept),
            OrderState::Accepted => Some(Step::Start),
            OrderState::Preparing => Some(Step::Ready),
            OrderState::Ready => Some(Step::Complete),
            _ => None,
        }
    }

    /// The state the step starts from (`None` for a rush, which any
    /// open order takes).
    pub fn from_state(&self) -> Option<OrderState> {
        match self {
            Step::Accept | Step::Reject { .. } => Some(OrderState::Placed),
            Step::Start => Some(OrderState::Accepted),
            Step::Ready => Some(OrderState::Preparing),
            Step::Complete => Some(OrderState::Ready),
            Step::Recall { state } => Some(*state),
            Step::Rush { .. } | Step::Station { .. } => None,
        }
    }

    /// The state the order is in once this step is done (`None` for a
    /// rush, which moves nothing).
    pub fn target(&self) -> Option<OrderState> {
        match self {
            Step::Accept => Some(OrderState::Accepted),
            Step::Start => Some(OrderState::Preparing),
            Step::Ready => Some(OrderState::Ready),
            Step::Complete => Some(OrderState::Completed),
            Step::Reject { .. } => Some(OrderState::Rejected),
            Step::Recall { state } => match state {
                OrderState::Accepted => Some(OrderState::Placed),
                OrderState::Preparing => Some(OrderState::Accepted),
                OrderState::Ready => Some(OrderState::Preparing),
                OrderState::Completed => Some(OrderState::Ready),
                _ => None,
            },
            Step::Rush { .. } | Step::Station { .. } => None,
        }
    }

    /// The request `type` on the wire.
    pub fn request_type(&self) -> &'static str {
        use protocol::messages::orders::types;
        match self {
            Step::Accept => types::ACCEPT,
            Step::Start => types::START,
            Step::Ready => types::READY,
            Step::Complete => types::COMPLETE,
            Step::Reject { .. } => types::REJECT,
            Step::Recall { .. } => types::RECALL,
            Step::Rush { .. } => types::RUSH,
            Step::Station { .. } => types::STATION_READY,
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Start => "start",
            Step::Ready => "mark ready",
            Step::Complete => "complete",
            Step::Reject { .. } => "reject",
            Step::Recall { .. } => "recall",
            Step::Rush { rush: true } => "mark rush",
            Step::Rush { rush: false } => "unmark rush",
            Step::Station { ready: true, .. } => "mark station ready",
            Step::Station { ready: false, .. } => "unmark station",
        }
    }

    /// What did not happen, for "#6 not accepted".
    fn not_done(&self) -> &'static str {
        match self {
            Step::Reject { .. } => "rejected",
            Step::Recall { .. } => "recalled",
            Step::Rush { rush: true } => "marked rush",
            Step::Rush { rush: false } => "unmarked rush",
            _ => "bumped",
        }
    }

    /// Whether this step moves an order forward along the line (what
    /// `u` can recall).
    pub fn is_bump(&self) -> bool {
        matches!(
            self,
            Step::Accept | Step::Start | Step::Ready | Step::Complete
        )
    }

    /// Whether a press that could not be sent stays on the ticket as
    /// failed (every step that moves work along: bumps and station bumps).
    pub fn keeps_failed(&self) -> bool {
        self.is_bump() || matches!(self, Step::Station { .. })
    }
}

/// Why a step has no answer from the server, as far as the board can
/// tell what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The server answered and did nothing (another screen was first,
    /// not allowed, ...).
    Refused(String),
    /// The request provably never left (no connection): nothing happened.
    NotSent(String),
    /// Sent, and no answer came (the node died, the connection dropped):
    /// it may or may not have happened.
    Unconfirmed(String),
}

/// The link to the cluster, as the network task reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Before the first snapshot arrived.
    Connecting,
    /// Following the restaurant's events through `node` at `addr`.
    Connected { node: String, addr: String },
    /// The node stopped answering; moving to another one.
    Reconnecting { reason: String },
}

/// What the network task tells the board.
// One message per event batch or answer, moved once through a channel:
// boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The open orders and the menu as read now (at start, and after a
    /// subscription had to be started afresh). Replaces the tickets.
    Snapshot { orders: Vec<Order>, menu: Menu },
    /// Events of one store revision, as the subscription delivered them.
    Events(Vec<Event>),
    /// The link changed.
    Conn(Conn),
    /// The answer to an [`Effect::Transition`] of `step`, sent when the
    /// order was at `expected_version`.
    StepDone {
        order: String,
        step: Step,
        expected_version: u64,
        result: Result<Order, StepError>,
    },
    /// The answer to an [`Effect::Set86`].
    Set86Done {
        sku: String,
        result: Result<MenuItem, String>,
    },
}

/// A key, as the board understands keys (the driver translates terminal
/// key events into these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    /// Ctrl-C: quits from anywhere.
    Interrupt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

/// What a key means in the current mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Move(Dir),
    /// Move the selected ticket to its next state.
    Bump,
    /// Open the reject-reason prompt for the selected ticket.
    Reject,
    /// Undo the last bump.
    Recall,
    /// Flip the rush flag of the selected order (on the server).
    Rush,
    /// Forget the failed or unconfirmed mark of the selected ticket.
    Dismiss,
    CycleStation,
    Toggle86Panel,
    ToggleAllDay,
    /// The selected ticket in full.
    Detail,
    /// The screen of recently completed orders, to recall one.
    Completed,
    StartSearch,
    ToggleHelp,
    /// Typing into the prompt or search line.
    Type(char),
    Erase,
    /// Enter in a prompt, a panel or search.
    Submit,
    /// Esc: close the prompt, panel or overlay.
    Cancel,
    /// `q`: quit, asking first if bumps are unsettled.
    Quit,
    /// Ctrl-C, or `y` when asked: quit now.
    QuitNow,
}

/// What the driver must do after an action or a server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a kitchen request for `order`. `expected_version` is the
    /// version the cook saw; the network task does not put it on the wire
    /// yet (the daemon has no such guard today), but keeps it with the
    /// request so its answer can be matched to the press.
    Transition {
        order: String,
        step: Step,
        expected_version: u64,
    },
    /// `menu.86` (`available: false`) or `menu.un86` (`true`).
    Set86 {
        sku: String,
        available: bool,
    },
    /// Ring the terminal bell (a new order arrived).
    Bell,
    Quit,
}

/// What has the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Board,
    Help,
    /// The 86 panel, with its cursor on the menu item at that index.
    Panel86 {
        cursor: usize,
    },
    /// Typing a search; the filter applies as you type.
    Search,
    /// Typing the reason for rejecting `order`.
    Reject {
        order: String,
        ticket: u64,
        reason: String,
    },
    /// One ticket in full, scrolled down `scroll` rows.
    Detail {
        order: String,
        scroll: u16,
    },
    /// The recently completed orders, cursor on the `cursor`th.
    Completed {
        cursor: usize,
    },
    /// `q` with bumps unsettled: quit anyway?
    ConfirmQuit,
}

/// The last successful bump, for recall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastBump {
    pub order: String,
    pub ticket: u64,
    pub from: OrderState,
    pub to: OrderState,
    /// The order's version after the bump.
    pub version: u64,
    pub at_ms: u64,
}

/// One line of a ticket: identical order lines (same sku, modifiers and
/// station) merged into one with their quantities added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLine {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub modifiers: Vec<String>,
    pub station: String,
    /// The menu's allergens of the item (quiet on the card: they are on
    /// every pizza; a customer's allergy note is what must stand out).
    pub allergens: String,
    /// The line's own kitchen state, for station bumps once the daemon
    /// keeps one per line; `None`: it follows the order's.
    pub state: Option<OrderState>,
}

/// Merges identical lines, keeping the order of first appearance.
pub fn merge_lines(lines: &[OrderLine]) -> Vec<TicketLine> {
    let mut out: Vec<TicketLine> = Vec::with_capacity(lines.len());
    for l in lines {
        match out
            .iter_mut()
            .find(|m| m.sku == l.sku && m.modifiers == l.modifiers && m.station == l.station)
        {
            Some(m) => m.qty += l.qty,
            None => out.push(TicketLine {
                sku: l.sku.clone(),
                name: l.name.clone(),
                qty: l.qty,
                modifiers: l.modifiers.clone(),
                station: l.station.clone(),
                allergens: l.allergens.clone(),
                state: l.ready_at.map(|_| OrderState::Ready),
            }),
        }
    }
    out
}

/// Whether every line of `station` in `o` is ready (true when it has
/// none: nothing is waiting on it).
pub fn station_ready(o: &Order, station: &str) -> bool {
    o.lines
        .iter()
        .filter(|l| l.station == station)
        .all(|l| l.ready_at.is_some())
}

/// Each station of an order with whether its lines are ready, in the
/// order the stations first appear.
pub fn station_progress(o: &Order) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for l in &o.lines {
        if l.station.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(s, _)| s == &l.station) {
            Some((_, r)) => *r &= l.ready_at.is_some(),
            None => out.push((l.station.clone(), l.ready_at.is_some())),
        }
    }
    out
}

/// Ticket times of one station: average and 90th percentile, ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationTimes {
    pub station: String,
    pub count: usize,
    pub avg_ms: u64,
    pub p90_ms: u64,
}

/// Ticket times per station over the hour before `now`: for each line
/// marked ready within it, from the order's placement to the line ready
/// (`orders` are every order the board knows, open and completed).
pub fn station_times<'a>(orders: impl Iterator<Item = &'a Order>, now: u64) -> Vec<StationTimes> {
    let since = now.saturating_sub(3_600_000);
    let mut per: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for o in orders {
        let mut seen = Vec::new();
        for l in &o.lines {
            let Some(at) = l.ready_at else { continue };
            let station = if l.station.is_empty() {
                "-"
            } else {
                l.station.as_str()
            };
            if at < since || seen.contains(&station) {
                continue;
            }
            seen.push(station);
            per.entry(station.to_string())
                .or_default()
                .push(at.saturating_sub(o.created_at));
        }
    }
    per.into_iter()
        .map(|(station, mut v)| {
            v.sort_unstable();
            let n = v.len();
            let avg_ms = v.iter().sum::<u64>() / n as u64;
            // Nearest rank.
            let p90_ms = v[(n * 9).div_ceil(10).saturating_sub(1)];
            StationTimes {
                station,
                count: n,
                avg_ms,
                p90_ms,
            }
        })
        .collect()
}

/// A request this board made about an order and has not settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub step: Step,
    /// The version the cook saw when pressing.
    pub expected_version: u64,
    pub since_ms: u64,
    pub status: PendingStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingStatus {
    /// On its way; the answer is awaited.
    Sent,
    /// Sent, but the answer was lost: it may have happened. Settled by
    /// the next version of the order (an event, or the snapshot after a
    /// reconnect), or dismissed.
    Unconfirmed(String),
    /// Not done (never sent, or the order had not moved when the board
    /// reloaded after a lost answer). Stays until dismissed, bumped again,
    /// or the order changes.
    Failed(String),
}

impl Pending {
    /// What the order `o` (a version the board had not seen) says about
    /// this request: `None` if it settles it (the order moved from where
    /// the press found it, or has the asked rush flag), else the request
    /// as it stands now, with a note when that changed. A lost answer and
    /// an order still where it was: it did not happen.
    fn carry(self, o: &Order) -> (Option<Pending>, Option<String>) {
        let moved = match &self.step {
            Step::Rush { rush } => o.rush == *rush,
            Step::Station { station, ready } => station_ready(o, station) == *ready,
            step => step.from_state() != Some(o.state),
        };
        if moved && o.version > self.expected_version {
            let note = (self.status != PendingStatus::Sent).then(|| {
                if self.step.target() == Some(o.state) {
                    format!(
                        "#{}: {} confirmed ({})",
                        o.ticket,
                        self.step.verb(),
                        o.state
                    )
                } else {
                    format!(
                        "#{}: is {} now; the {} mark is cleared",
                        o.ticket,
                        o.state,
                        self.step.verb()
                    )
                }
            });
            return (None, note);
        }
        match self.status {
            PendingStatus::Unconfirmed(_) => {
                let note = format!(
                    "#{}: {} did not happen; Enter to try again, d to dismiss",
                    o.ticket,
                    self.step.verb()
                );
                let status = PendingStatus::Failed(format!(
                    "not {}: no answer, and the order had not moved",
                    self.step.not_done()
                ));
                (Some(Pending { status, ..self }), Some(note))
            }
            _ => (Some(self), None),
        }
    }
}

/// One ticket: the order as the server last told us, its merged lines,
/// and what this board asked about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub order: Order,
    pub lines: Vec<TicketLine>,
    pub pending: Option<Pending>,
    /// When it arrived live (not with the first snapshot), for the NEW
    /// mark.
    pub arrived_ms: Option<u64>,
}

impl Ticket {
    fn new(order: Order, arrived_ms: Option<u64>) -> Ticket {
        Ticket {
            lines: merge_lines(&order.lines),
            order,
            pending: None,
            arrived_ms,
        }
    }

    /// The order's own flag: set with `order.rush`, so every board shows
    /// the same (and only once the server has it).
    pub fn rush(&self) -> bool {
        self.order.rush
    }

    pub fn column(&self) -> Option<Column> {
        Column::of(self.order.state)
    }

    /// A request for it is on its way.
    pub fn in_flight(&self) -> bool {
        matches!(
            self.pending,
            Some(Pending {
                status: PendingStatus::Sent,
                ..
            })
        )
    }
}

/// A completed order the board saw, for the recall screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub order: Order,
    pub lines: Vec<TicketLine>,
    /// When the board learnt of the completion.
    pub seen_ms: u64,
    pub pending: Option<Pending>,
}

/// One row of the all-day counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllDay {
    pub name: String,
    /// Units on open tickets not yet ready.
    pub qty: u32,
    /// Units left in stock, if the menu counts them.
    pub stock: Option<i64>,
    /// 86'd or out of stock.
    pub out: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Message {
    text: String,
    at_ms: u64,
    /// About the connection: dropped when the connection changes again.
    conn: bool,
}

/// Where the selected ticket of the focused column went.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slide {
    ticket: u64,
    went: String,
    now_on: Option<u64>,
    column: Column,
}

impl Slide {
    fn text(&self) -> String {
        format!("#{} {} · {}", self.ticket, self.went, self.cursor_text())
    }

    fn cursor_text(&self) -> String {
        match self.now_on {
            Some(n) => format!("cursor moved to #{n}"),
            None => format!("{} is empty", self.column.title()),
        }
    }
}

/// The board.
#[derive(Debug, Clone)]
pub struct Board {
    pub restaurant: String,
    pub settings: Settings,
    tickets: HashMap<String, Ticket>,
    /// The newest version seen of every order, shown or gone, so that an
    /// old event replayed after a reconnect cannot bring a ticket back.
    versions: HashMap<String, u64>,
    /// Ticket ids per column, in display order, after filters.
    columns: [Vec<String>; 4],
    /// Where each shown ticket is: column and position.
    index: HashMap<String, (Column, usize)>,
    /// The selected ticket per column, by id, and its position.
    sel: [Option<String>; 4],
    pos: [usize; 4],
    focus: Column,
    /// When the cursor of the focused column last moved by itself, and
    /// why: Enter waits [`Settings::settle_ms`] after it.
    slid: Option<(u64, Slide)>,
    /// Tickets that left the board since the last rebuild: (id, ticket,
    /// state if known), to say where the selected one went.
    departed: Vec<(String, u64, Option<OrderState>)>,
    /// The terminal's size, for the lanes the cursor moves through.
    viewport: (u16, u16),
    menu: Option<Menu>,
    stations: Vec<String>,
    station: Option<String>,
    search: String,
    all_day: Vec<AllDay>,
    pub show_all_day: bool,
    mode: Mode,
    last_bump: Option<LastBump>,
    /// Completed orders seen, newest first.
    completed: VecDeque<Done>,
    /// Live arrivals, newest first: (when, id).
    arrivals: VecDeque<(u64, String)>,
    conn: Conn,
    /// The node of the last `Connected`, to tell the kitchen when the
    /// board has moved to another one.
    last_node: Option<String>,
    message: Option<Message>,
    loaded: bool,
}

impl Board {
    pub fn new(restaurant: impl Into<String>, station: Option<String>, settings: Settings) -> Self {
        Board {
            restaurant: restaurant.into(),
            settings,
            tickets: HashMap::new(),
            versions: HashMap::new(),
            columns: Default::default(),
            index: HashMap::new(),
            sel: Default::default(),
            pos: [0; 4],
            focus: Column::New,
            slid: None,
            departed: Vec::new(),
            viewport: (100, 30),
            menu: None,
            stations: station.iter().cloned().collect(),
            station,
            search: String::new(),
            all_day: Vec::new(),
            show_all_day: false,
            mode: Mode::Board,
            last_bump: None,
            completed: VecDeque::new(),
            arrivals: VecDeque::new(),
            conn: Conn::Connecting,
            last_node: None,
            message: None,
            loaded: false,
        }
    }

    // ---- reading -------------------------------------------------------

    pub fn mode(&self) -> &Mode {
        &self.mode
    }
    pub fn conn(&self) -> &Conn {
        &self.conn
    }
    /// The latest status message, however old.
    pub fn message(&self) -> Option<&str> {
        self.message.as_ref().map(|m| m.text.as_str())
    }
    /// The status message to show at `now_ms`: messages expire after
    /// [`Settings::message_ms`].
    pub fn message_at(&self, now_ms: u64) -> Option<&str> {
        self.message
            .as_ref()
            .filter(|m| now_ms.saturating_sub(m.at_ms) < self.settings.message_ms)
            .map(|m| m.text.as_str())
    }
    pub fn station(&self) -> Option<&str> {
        self.station.as_deref()
    }
    pub fn stations(&self) -> &[String] {
        &self.stations
    }
    pub fn search(&self) -> &str {
        &self.search
    }
    pub fn menu(&self) -> Option<&Menu> {
        self.menu.as_ref()
    }
    /// Open units per item (not yet ready), busiest first, then the items
    /// that are 86'd or out of stock.
    pub fn all_day(&self) -> &[AllDay] {
        &self.all_day
    }
    pub fn last_bump(&self) -> Option<&LastBump> {
        self.last_bump.as_ref()
    }
    pub fn focus(&self) -> Column {
        self.focus
    }
    pub fn loaded(&self) -> bool {
        self.loaded
    }
    /// Every ticket on the board (unfiltered).
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }
    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets.get(id)
    }
    /// The tickets shown in `col`, in order.
    pub fn column(&self, col: Column) -> impl ExactSizeIterator<Item = &Ticket> + '_ {
        self.columns[col.index()].iter().map(|id| &self.tickets[id])
    }
    pub fn column_len(&self, col: Column) -> usize {
        self.columns[col.index()].len()
    }
    pub fn column_counts(&self) -> [usize; 4] {
        [0, 1, 2, 3].map(|i| self.columns[i].len())
    }
    /// The `i`th ticket shown in `col`.
    pub fn column_ticket(&self, col: Column, i: usize) -> Option<&Ticket> {
        self.columns[col.index()].get(i).map(|id| &self.tickets[id])
    }
    /// Where a shown ticket is.
    pub fn position(&self, id: &str) -> Option<(Column, usize)> {
        self.index.get(id).copied()
    }
    /// The position of `col`'s selected ticket (0 when it has none).
    pub fn row(&self, col: Column) -> usize {
        self.pos[col.index()]
    }
    /// The selected ticket of `col`, if it has tickets.
    pub fn column_selected(&self, col: Column) -> Option<&Ticket> {
        self.sel[col.index()]
            .as_ref()
            .and_then(|id| self.tickets.get(id))
    }
    pub fn selected(&self) -> Option<&Ticket> {
        self.column_selected(self.focus)
    }
    pub fn age(&self, t: &Ticket, now_ms: u64) -> Age {
        let age = now_ms.saturating_sub(t.order.created_at);
        if age >= self.settings.late_after_ms {
            Age::Late
        } else if age >= self.settings.warn_after_ms {
            Age::Warn
        } else {
            Age::Fresh
        }
    }
    /// Whether `t` arrived live within [`Settings::new_for_ms`].
    pub fn is_new(&self, t: &Ticket, now_ms: u64) -> bool {
        t.arrived_ms
            .is_some_and(|a| now_ms.saturating_sub(a) < self.settings.new_for_ms)
    }
    /// Shown tickets that arrived live within [`Settings::new_for_ms`],
    /// with their place (it walks the recent arrivals only, not every
    /// ticket).
    pub fn new_arrivals(&self, now_ms: u64) -> impl Iterator<Item = (Column, usize)> + '_ {
        self.arrivals
            .iter()
            .filter(move |(at, _)| now_ms.saturating_sub(*at) < self.settings.new_for_ms)
            .filter(|(at, id)| {
                self.tickets
                    .get(id)
                    .is_some_and(|t| t.arrived_ms == Some(*at))
            })
            .filter_map(|(_, id)| self.index.get(id).copied())
    }

    fn arrived(&mut self, now_ms: u64, id: &str) {
        self.arrivals.push_front((now_ms, id.to_string()));
        self.arrivals.truncate(ARRIVALS_KEPT);
    }
    /// Whether an item of `station` is shown under the station filter.
    pub fn shows_line(&self, station: &str) -> bool {
        self.station.as_deref().is_none_or(|s| s == station)
    }
    pub fn connected(&self) -> bool {
        matches!(self.conn, Conn::Connected { .. })
    }
    /// Completed orders seen, newest first.
    pub fn completed(&self) -> impl ExactSizeIterator<Item = &Done> + '_ {
        self.completed.iter()
    }
    /// Ticket times per station over the last hour, from the orders the
    /// board holds (open tickets and the recent completed ones).
    pub fn ticket_times(&self, now_ms: u64) -> Vec<StationTimes> {
        station_times(
            self.tickets
                .values()
                .map(|t| &t.order)
                .chain(self.completed.iter().map(|d| &d.order)),
            now_ms,
        )
    }
    /// Tickets (and completed orders) with a request not settled: sent
    /// and unanswered, unconfirmed, or failed.
    pub fn unsettled(&self) -> Vec<(u64, &Pending)> {
        let mut v: Vec<(u64, &Pending)> = self
            .tickets
            .values()
            .filter_map(|t| t.pending.as_ref().map(|p| (t.order.ticket, p)))
            .chain(
                self.completed
                    .iter()
                    .filter_map(|d| d.pending.as_ref().map(|p| (d.order.ticket, p))),
            )
            .collect();
        v.sort_by_key(|(t, _)| *t);
        v
    }
    /// Whether Enter is held back at `now_ms` because the cursor just
    /// moved by itself.
    pub fn settling(&self, now_ms: u64) -> bool {
        self.slid
            .as_ref()
            .is_some_and(|(at, _)| now_ms.saturating_sub(*at) < self.settings.settle_ms)
    }

    /// The terminal size the board is drawn at (the driver keeps it
    /// current): ↑↓←→ move through the card lanes of that layout.
    pub fn set_viewport(&mut self, width: u16, height: u16) {
        self.viewport = (width, height);
    }
    pub fn viewport(&self) -> (u16, u16) {
        self.viewport
    }
    /// Whether the side panel (86 or all-day) is open.
    pub fn side_open(&self) -> bool {
        matches!(self.mode, Mode::Panel86 { .. }) || self.show_all_day
    }
    /// The layout of a screen of `area`.
    pub fn layout(&self, area: Rect) -> layout::Screen {
        layout::screen(area, self.side_open(), self.column_counts())
    }
    fn lanes(&self, col: Column) -> usize {
        let (w, h) = self.viewport;
        usize::from(
            self.layout(Rect::new(0, 0, w, h)).columns[col.index()]
                .lanes
                .max(1),
        )
    }

    // ---- keys ----------------------------------------------------------

    /// What `key` means in the current mode (`None`: nothing).
    pub fn action_for(&self, key: Key) -> Option<Action> {
        if key == Key::Interrupt {
            return Some(Action::QuitNow);
        }
        match &self.mode {
            Mode::Search | Mode::Reject { .. } => match key {
                Key::Char(c) => Some(Action::Type(c)),
                Key::Backspace => Some(Action::Erase),
                Key::Enter => Some(Action::Submit),
                Key::Esc => Some(Action::Cancel),
                _ => None,
            },
            // Any key closes help, `q` and Esc included: they close it
            // rather than quit.
            Mode::Help => Some(Action::Cancel),
            Mode::ConfirmQuit => match key {
                Key::Char('y' | 'Y' | 'q') => Some(Action::QuitNow),
                _ => Some(Action::Cancel),
            },
            Mode::Detail { .. } => match key {
                Key::Up | Key::Char('k') => Some(Action::Move(Dir::Up)),
                Key::Down | Key::Char('j') | Key::Char(' ') => Some(Action::Move(Dir::Down)),
                _ => Some(Action::Cancel),
            },
            Mode::Completed { .. } => match key {
                Key::Up | Key::Char('k') => Some(Action::Move(Dir::Up)),
                Key::Down | Key::Char('j') => Some(Action::Move(Dir::Down)),
                Key::Enter | Key::Char('u') => Some(Action::Submit),
                Key::Char('?') => Some(Action::ToggleHelp),
                Key::Esc | Key::Char('c') | Key::Char('q') => Some(Action::Cancel),
                _ => None,
            },
            Mode::Panel86 { .. } => match key {
                Key::Up | Key::Char('k') => Some(Action::Move(Dir::Up)),
                Key::Down | Key::Char('j') => Some(Action::Move(Dir::Down)),
                Key::Enter | Key::Char(' ') => Some(Action::Submit),
                Key::Esc | Key::Char('8') | Key::Char('q') => Some(Action::Cancel),
                Key::Char('?') => Some(Action::ToggleHelp),
                _ => None,
            },
            Mode::Board => match key {
                Key::Up | Key::Char('k') => Some(Action::Move(Dir::Up)),
                Key::Down | Key::Char('j') => Some(Action::Move(Dir::Down)),
                Key::Left | Key::Char('h') => Some(Action::Move(Dir::Left)),
                Key::Right | Key::Char('l') => Some(Action::Move(Dir::Right)),
                Key::Enter | Key::Char(' ') => Some(Action::Bump),
                Key::Char('x') => Some(Action::Reject),
                Key::Char('u') => Some(Action::Recall),
                Key::Char('r') => Some(Action::Rush),
                Key::Char('d') => Some(Action::Dismiss),
                Key::Char('s') => Some(Action::CycleStation),
                Key::Char('8') => Some(Action::Toggle86Panel),
                Key::Char('a') => Some(Action::ToggleAllDay),
                Key::Char('i') => Some(Action::Detail),
                Key::Char('c') => Some(Action::Completed),
                Key::Char('/') => Some(Action::StartSearch),
                Key::Char('?') => Some(Action::ToggleHelp),
                Key::Char('q') => Some(Action::Quit),
                Key::Esc => Some(Action::Cancel),
                _ => None,
            },
        }
    }

    /// Handles a key: [`Board::action_for`] then [`Board::apply`].
    pub fn key(&mut self, key: Key, now_ms: u64) -> Vec<Effect> {
        match self.action_for(key) {
            Some(a) => self.apply(a, now_ms),
            None => Vec::new(),
        }
    }

    fn say(&mut self, text: impl Into<String>, now_ms: u64) {
        self.message = Some(Message {
            text: text.into(),
            at_ms: now_ms,
            conn: false,
        });
    }

    /// Carries out an action; returns what the driver must do.
    pub fn apply(&mut self, action: Action, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match (&mut self.mode, action) {
            (_, Action::QuitNow) => fx.push(Effect::Quit),
            (Mode::Search, Action::Type(c)) => {
                self.search.push(c);
                self.rebuild(now_ms, false);
            }
            (Mode::Search, Action::Erase) => {
                self.search.pop();
                self.rebuild(now_ms, false);
            }
            (Mode::Search, Action::Submit) => self.mode = Mode::Board,
            (Mode::Search, Action::Cancel) => {
                self.search.clear();
                self.mode = Mode::Board;
                self.rebuild(now_ms, false);
            }
            (Mode::Reject { reason, .. }, Action::Type(c)) if reason.chars().count() < 200 => {
                reason.push(c)
            }
            (Mode::Reject { reason, .. }, Action::Erase) => {
                reason.pop();
            }
            (Mode::Reject { .. }, Action::Cancel) => self.mode = Mode::Board,
            (
                Mode::Reject {
                    order,
                    ticket,
                    reason,
                },
                Action::Submit,
            ) => {
                let reason = reason.trim().to_string();
                if reason.is_empty() {
                    self.say("type a reason to reject, or Esc to cancel", now_ms);
                } else {
                    let (order, ticket) = (order.clone(), *ticket);
                    self.mode = Mode::Board;
                    fx.extend(self.send(&order, ticket, Step::Reject { reason }, now_ms));
                }
            }
            (Mode::Help, _) => self.mode = Mode::Board,
            (Mode::ConfirmQuit, _) => {
                self.mode = Mode::Board;
                self.say("not quitting", now_ms);
            }
            (Mode::Detail { scroll, .. }, Action::Move(d)) => {
                *scroll = match d {
                    Dir::Up => scroll.saturating_sub(1),
                    _ => scroll.saturating_add(1).min(500),
                }
            }
            (Mode::Detail { .. }, _) => self.mode = Mode::Board,
            (Mode::Completed { cursor }, Action::Move(d)) => {
                let n = self.completed.len();
                *cursor = match d {
                    Dir::Up => cursor.saturating_sub(1),
                    _ => (*cursor + 1).min(n.saturating_sub(1)),
                };
            }
            (Mode::Completed { cursor }, Action::Submit) => {
                let cursor = *cursor;
                fx.extend(self.recall_completed(cursor, now_ms));
            }
            (Mode::Completed { .. }, Action::ToggleHelp) => self.mode = Mode::Help,
            (Mode::Completed { .. }, Action::Cancel) => self.mode = Mode::Board,
            (Mode::Panel86 { cursor }, Action::Move(d)) => {
                let n = self.menu.as_ref().map_or(0, |m| m.items.len());
                *cursor = match d {
                    Dir::Up => cursor.saturating_sub(1),
                    Dir::Down => (*cursor + 1).min(n.saturating_sub(1)),
                    _ => *cursor,
                };
            }
            (Mode::Panel86 { cursor }, Action::Submit) => {
                let cursor = *cursor;
                let item = self.menu.as_ref().and_then(|m| m.items.get(cursor));
                if let Some(item) = item {
                    if self.connected() {
                        fx.push(Effect::Set86 {
                            sku: item.sku.clone(),
                            available: !item.available,
                        });
                    } else {
                        self.say(
                            "disconnected: nothing sent, try again when connected",
                            now_ms,
                        );
                    }
                }
            }
            (Mode::Panel86 { .. }, Action::Cancel) => self.mode = Mode::Board,
            (Mode::Panel86 { .. }, Action::ToggleHelp) => self.mode = Mode::Help,
            (Mode::Board, a) => fx.extend(self.apply_board(a, now_ms)),
            _ => {}
        }
        fx
    }

    fn apply_board(&mut self, action: Action, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match action {
            Action::Move(d) => self.move_cursor(d),
            Action::Bump => fx.extend(self.bump(now_ms)),
            Action::Reject => match self.selected() {
                Some(t) if t.order.state == OrderState::Placed => {
                    self.mode = Mode::Reject {
                        order: t.order.id.clone(),
                        ticket: t.order.ticket,
                        reason: String::new(),
                    };
                }
                Some(t) => {
                    let m = format!(
                        "#{}: only new tickets can be rejected (it is {})",
                        t.order.ticket, t.order.state
                    );
                    self.say(m, now_ms)
                }
                None => {}
            },
            Action::Recall => fx.extend(self.recall_last(now_ms)),
            Action::Rush => {
                // Not flipped here: the flag shows when the server's
                // answer or event brings the order back with it.
                if let Some(t) = self.selected() {
                    let (id, ticket, rush) = (t.order.id.clone(), t.order.ticket, !t.order.rush);
                    fx.extend(self.send(&id, ticket, Step::Rush { rush }, now_ms));
                }
            }
            Action::Dismiss => {
                let Some(t) = self.selected() else {
                    return fx;
                };
                let (id, ticket) = (t.order.id.clone(), t.order.ticket);
                let m = match &t.pending {
                    None => format!("#{ticket}: nothing to dismiss"),
                    Some(p) if p.status == PendingStatus::Sent => {
                        format!("#{ticket}: still waiting for the server's answer")
                    }
                    Some(p) => {
                        let m = format!("#{ticket}: {} mark dismissed", p.step.verb());
                        if let Some(t) = self.tickets.get_mut(&id) {
                            t.pending = None;
                        }
                        m
                    }
                };
                self.say(m, now_ms);
            }
            Action::CycleStation => {
                self.station = match &self.station {
                    None => self.stations.first().cloned(),
                    Some(s) => {
                        let i = self.stations.iter().position(|x| x == s);
                        i.and_then(|i| self.stations.get(i + 1)).cloned()
                    }
                };
                self.rebuild(now_ms, false);
            }
            Action::Toggle86Panel => {
                if self.menu.as_ref().is_some_and(|m| !m.items.is_empty()) {
                    self.mode = Mode::Panel86 { cursor: 0 };
                } else {
                    self.say("the menu is empty", now_ms);
                }
            }
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::Detail => {
                if let Some(t) = self.selected() {
                    self.mode = Mode::Detail {
                        order: t.order.id.clone(),
                        scroll: 0,
                    };
                }
            }
            Action::Completed => self.mode = Mode::Completed { cursor: 0 },
            Action::StartSearch => {
                self.search.clear();
                self.mode = Mode::Search;
                self.rebuild(now_ms, false);
            }
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::Quit => {
                let n = self.unsettled().len();
                if n == 0 {
                    fx.push(Effect::Quit);
                } else {
                    self.mode = Mode::ConfirmQuit;
                }
            }
            Action::Cancel => {
                self.message = None;
                if !self.search.is_empty() {
                    self.search.clear();
                    self.rebuild(now_ms, false);
                }
            }
            _ => {}
        }
        fx
    }

    fn bump(&mut self, now_ms: u64) -> Option<Effect> {
        let t = self.selected()?;
        let (id, ticket, state) = (t.order.id.clone(), t.order.ticket, t.order.state);
        // Held back only for another ticket than the one that left: the
        // same ticket back under the cursor (a recall) is what the cook
        // meant.
        if self.settling(now_ms)
            && let Some((_, slide)) = &self.slid
            && slide.ticket != ticket
        {
            let m = format!(
                "#{ticket} not bumped: cursor just moved here (#{} {}); press again",
                slide.ticket, slide.went
            );
            self.say(m, now_ms);
            return None;
        }
        if let Some(station) = self.station.clone()
            && matches!(state, OrderState::Accepted | OrderState::Preparing)
        {
            let done = self
                .tickets
                .get(&id)
                .is_some_and(|t| station_ready(&t.order, &station));
            if done {
                self.say(
                    format!("#{ticket}: {station} is done; waiting for the other stations"),
                    now_ms,
                );
                return None;
            }
            let step = Step::Station {
                station,
                ready: true,
            };
            return self.send(&id, ticket, step, now_ms);
        }
        match Step::bump_from(state) {
            Some(step) => self.send(&id, ticket, step, now_ms),
            None => {
                self.say(format!("#{ticket} cannot be bumped"), now_ms);
                None
            }
        }
    }

    fn recall_last(&mut self, now_ms: u64) -> Option<Effect> {
        let Some(b) = self.last_bump.clone() else {
            self.say("nothing to recall", now_ms);
            return None;
        };
        if now_ms.saturating_sub(b.at_ms) > RECALL_WINDOW_MS {
            self.last_bump = None;
            self.say(
                format!(
                    "nothing to recall: the last bump (#{}) was more than {RECALL_WINDOW_SECS} s ago",
                    b.ticket
                ),
                now_ms,
            );
            return None;
        }
        if !self.connected() {
            self.say(
                format!("disconnected: nothing sent, #{} not recalled", b.ticket),
                now_ms,
            );
            return None;
        }
        if self.slot(&b.order).is_some_and(|p| p.is_some()) {
            self.say(
                format!("#{}: still waiting for the server", b.ticket),
                now_ms,
            );
            return None;
        }
        // A guarded request: the server refuses if the order moved on
        // meanwhile (or the window has passed by its clock).
        self.last_bump = None;
        self.set_pending(&b.order, Step::Recall { state: b.to }, b.version, now_ms);
        self.say(
            format!("recalling #{} back to {}", b.ticket, b.from),
            now_ms,
        );
        Some(Effect::Transition {
            order: b.order,
            step: Step::Recall { state: b.to },
            expected_version: b.version,
        })
    }

    fn recall_completed(&mut self, cursor: usize, now_ms: u64) -> Option<Effect> {
        let d = self.completed.get(cursor)?;
        let (id, ticket, version, seen) = (
            d.order.id.clone(),
            d.order.ticket,
            d.order.version,
            d.seen_ms,
        );
        if d.pending.is_some() {
            self.say(format!("#{ticket}: still waiting for the server"), now_ms);
            return None;
        }
        if now_ms.saturating_sub(seen) > RECALL_WINDOW_MS {
            self.say(
                format!("#{ticket} was completed more than {RECALL_WINDOW_SECS} s ago: too late to recall"),
                now_ms,
            );
            return None;
        }
        if !self.connected() {
            self.say(
                format!("disconnected: nothing sent, #{ticket} not recalled"),
                now_ms,
            );
            return None;
        }
        let step = Step::Recall {
            state: OrderState::Completed,
        };
        self.set_pending(&id, step.clone(), version, now_ms);
        self.say(format!("recalling #{ticket} back to ready"), now_ms);
        Some(Effect::Transition {
            order: id,
            step,
            expected_version: version,
        })
    }

    /// The pending slot of an order: its ticket's, or its completed
    /// entry's. `None` if the board holds neither.
    fn slot(&self, id: &str) -> Option<&Option<Pending>> {
        if let Some(t) = self.tickets.get(id) {
            return Some(&t.pending);
        }
        self.completed
            .iter()
            .find(|d| d.order.id == id)
            .map(|d| &d.pending)
    }

    fn slot_mut(&mut self, id: &str) -> Option<&mut Option<Pending>> {
        if let Some(t) = self.tickets.get_mut(id) {
            return Some(&mut t.pending);
        }
        self.completed
            .iter_mut()
            .find(|d| d.order.id == id)
            .map(|d| &mut d.pending)
    }

    fn set_pending(&mut self, id: &str, step: Step, expected_version: u64, now_ms: u64) {
        if let Some(slot) = self.slot_mut(id) {
            *slot = Some(Pending {
                step,
                expected_version,
                since_ms: now_ms,
                status: PendingStatus::Sent,
            });
        }
    }

    /// A guarded request for one ticket: refused while a request for it is
    /// in flight; while disconnected, not sent and marked failed on the
    /// ticket.
    fn send(&mut self, id: &str, ticket: u64, step: Step, now_ms: u64) -> Option<Effect> {
        let t = self.tickets.get(id)?;
        let version = t.order.version;
        if t.in_flight() {
            self.say(format!("#{ticket}: still waiting for the server"), now_ms);
            return None;
        }
        if let Some(p) = &t.pending
            && let PendingStatus::Unconfirmed(_) = p.status
        {
            let m = format!(
                "#{ticket}: its {} is unconfirmed (the answer was lost); wait for the server, or d to dismiss",
                p.step.verb()
            );
            self.say(m, now_ms);
            return None;
        }
        if !self.connected() {
            let m = format!(
                "disconnected: nothing sent, #{ticket} not {}",
                step.not_done()
            );
            if step.keeps_failed()
                && let Some(t) = self.tickets.get_mut(id)
            {
                t.pending = Some(Pending {
                    step,
                    expected_version: version,
                    since_ms: now_ms,
                    status: PendingStatus::Failed("not sent: disconnected".into()),
                });
            }
            self.say(m, now_ms);
            return None;
        }
        self.set_pending(id, step.clone(), version, now_ms);
        self.message = None;
        Some(Effect::Transition {
            order: id.to_string(),
            step,
            expected_version: version,
        })
    }

    fn select(&mut self, c: usize, i: usize) {
        if let Some(id) = self.columns[c].get(i) {
            self.sel[c] = Some(id.clone());
            self.pos[c] = i;
        }
    }

    fn move_cursor(&mut self, d: Dir) {
        let c = self.focus.index();
        let n = self.columns[c].len();
        let lanes = self.lanes(self.focus);
        let p = self.pos[c];
        match d {
            Dir::Up if n > 0 && p >= lanes => self.select(c, p - lanes),
            Dir::Down if n > 0 => {
                if p + lanes < n {
                    self.select(c, p + lanes)
                } else if p / lanes < (n - 1) / lanes {
                    // The last row is shorter: its last card.
                    self.select(c, n - 1)
                }
            }
            Dir::Left if n > 0 && !p.is_multiple_of(lanes) => self.select(c, p - 1),
            Dir::Right if n > 0 && p % lanes + 1 < lanes && p + 1 < n => self.select(c, p + 1),
            Dir::Left if c > 0 => self.focus = Column::ALL[c - 1],
            Dir::Right if c + 1 < Column::ALL.len() => self.focus = Column::ALL[c + 1],
            _ => {}
        }
        // A move by key is the cook's own: Enter is not held back for an
        // earlier slide of another column.
        if self
            .slid
            .as_ref()
            .is_some_and(|(_, s)| s.column != self.focus)
        {
            self.slid = None;
        }
    }

    // ---- server --------------------------------------------------------

    /// Applies news from the network task at time `now_ms`.
    pub fn incoming(&mut self, msg: Incoming, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match msg {
            Incoming::Conn(c) => {
                if let Conn::Connected { node, .. } = &c
                    && let Some(prev) = self.last_node.as_ref().filter(|p| *p != node)
                {
                    self.message = Some(Message {
                        text: format!("reconnected: now via {node} (was {prev})"),
                        at_ms: now_ms,
                        conn: true,
                    });
                }
                if let Conn::Connected { node, .. } = &c {
                    self.last_node = Some(node.clone());
                }
                if matches!(c, Conn::Reconnecting { .. })
                    && self.message.as_ref().is_some_and(|m| m.conn)
                {
                    // "reconnected" would contradict the status now.
                    self.message = None;
                }
                self.conn = c;
            }
            Incoming::Snapshot { orders, menu } => {
                let before = self.message.clone();
                let rang = self.snapshot(orders, now_ms);
                self.set_menu(menu);
                self.loaded = true;
                self.rebuild_after_news(now_ms, before.as_ref());
                if rang {
                    fx.push(Effect::Bell);
                }
            }
            Incoming::Events(events) => {
                let before = self.message.clone();
                let mut changed = false;
                for ev in events {
                    if ev.kind == "menu.changed" {
                        if let Ok(m) = serde_json::from_value::<Menu>(ev.data) {
                            self.set_menu(m);
                            changed = true;
                        }
                    } else if ev.kind.starts_with("order.")
                        && let Ok(o) = serde_json::from_value::<Order>(ev.data)
                    {
                        let new = !self.versions.contains_key(&o.id);
                        let placed = o.state == OrderState::Placed;
                        if self.upsert(o, now_ms) {
                            changed = true;
                            if new && placed && !fx.contains(&Effect::Bell) {
                                fx.push(Effect::Bell);
                            }
                        }
                    }
                }
                if changed {
                    self.rebuild_after_news(now_ms, before.as_ref());
                }
            }
            Incoming::StepDone {
                order,
                step,
                expected_version,
                result,
            } => self.step_done(order, step, expected_version, result, now_ms),
            Incoming::Set86Done { sku, result } => match result {
                Ok(item) => {
                    let m = format!(
                        "{} {}",
                        item.name,
                        if item.available {
                            "is back (un-86'd)"
                        } else {
                            "86'd"
                        }
                    );
                    self.say(m, now_ms);
                    if let Some(m) = &mut self.menu
                        && let Some(i) = m.items.iter_mut().find(|i| i.sku == item.sku)
                    {
                        *i = item;
                    }
                    self.rebuild(now_ms, true);
                }
                Err(e) => self.say(format!("{sku}: {e}"), now_ms),
            },
        }
        fx
    }

    fn step_done(
        &mut self,
        order: String,
        step: Step,
        expected_version: u64,
        result: Result<Order, StepError>,
        now_ms: u64,
    ) {
        let ticket = self
            .tickets
            .get(&order)
            .map(|t| t.order.ticket)
            .or_else(|| result.as_ref().ok().map(|o| o.ticket))
            .or_else(|| {
                self.completed
                    .iter()
                    .find(|d| d.order.id == order)
                    .map(|d| d.order.ticket)
            });
        let name = ticket.map_or(order.clone(), |t| format!("#{t}"));
        // Only the press this answers: a later press of the same ticket
        // keeps its own mark.
        let ours = |p: &Pending| p.step == step && p.expected_version == expected_version;
        let mine = self.slot(&order).and_then(|s| s.as_ref()).is_some_and(ours);
        match result {
            Ok(o) => {
                if mine && let Some(s) = self.slot_mut(&order) {
                    *s = None;
                }
                if step.is_bump() && step.target() == Some(o.state) {
                    self.last_bump = Some(LastBump {
                        order: order.clone(),
                        ticket: o.ticket,
                        from: step.from_state().unwrap_or(o.state),
                        to: o.state,
                        version: o.version,
                        at_ms: now_ms,
                    });
                }
                let mut m = match step {
                    Step::Rush { .. } if o.rush => format!("#{} marked rush", o.ticket),
                    Step::Rush { .. } => format!("#{} no longer rush", o.ticket),
                    _ => format!("#{} {}", o.ticket, o.state),
                };
                if self.upsert(o, now_ms)
                    && let Some(s) = self.rebuild(now_ms, true)
                {
                    m = format!("{m} · {}", s.cursor_text());
                }
                self.say(m, now_ms);
            }
            Err(StepError::Refused(e)) => {
                if mine && let Some(s) = self.slot_mut(&order) {
                    *s = None;
                }
                // The daemon's refusals of a stale press name the ticket
                // already ("#6 changed on another screen …").
                let m = if e.starts_with(&format!("{name} ")) {
                    e
                } else {
                    format!("{name}: {e}")
                };
                self.say(m, now_ms);
            }
            Err(StepError::NotSent(e)) => {
                if mine && let Some(Some(p)) = self.slot_mut(&order) {
                    p.status = PendingStatus::Failed(format!("not sent: {e}"));
                }
                self.say(
                    format!("{name}: nothing sent ({e}), not {}", step.not_done()),
                    now_ms,
                );
            }
            Err(StepError::Unconfirmed(e)) => {
                if mine {
                    if let Some(Some(p)) = self.slot_mut(&order) {
                        p.status = PendingStatus::Unconfirmed(e.clone());
                    }
                    self.say(
                        format!(
                            "{name}: no answer to {} ({e}); marked ? until the server tells",
                            step.verb()
                        ),
                        now_ms,
                    );
                }
                // Else the order's news already settled it.
            }
        }
    }

    /// Replaces the tickets with a snapshot; `true` if it holds a ticket
    /// never seen (ring).
    fn snapshot(&mut self, orders: Vec<Order>, now_ms: u64) -> bool {
        let first = !self.loaded;
        let mut rang = false;
        let mut old = std::mem::take(&mut self.tickets);
        let mut notes = Vec::new();
        for o in orders {
            if self.versions.get(&o.id).is_some_and(|v| *v > o.version) {
                // Older than what the board already holds (read before
                // an answer it applied): keep the newer.
                if let Some(t) = old.remove(&o.id) {
                    self.tickets.insert(o.id.clone(), t);
                }
                continue;
            }
            let prev = old.remove(&o.id);
            let seen = self.versions.contains_key(&o.id);
            self.versions.insert(o.id.clone(), o.version);
            if Column::of(o.state).is_none() {
                continue;
            }
            if prev.is_none() && !first && !seen {
                rang = true;
            }
            let arrived = match &prev {
                Some(p) => p.arrived_ms,
                None if !first && !seen => Some(now_ms),
                None => None,
            };
            if arrived == Some(now_ms) {
                self.arrived(now_ms, &o.id);
            }
            let mut t = Ticket::new(o, arrived);
            if let Some(p) = prev.and_then(|p| p.pending) {
                let (p, note) = p.carry(&t.order);
                t.pending = p;
                notes.extend(note);
            }
            self.tickets.insert(t.order.id.clone(), t);
        }
        // Tickets not in the snapshot have finished meanwhile.
        for (id, t) in old {
            if let Some(p) = &t.pending {
                notes.push(format!(
                    "#{}: left the board while its {} was unsettled",
                    t.order.ticket,
                    p.step.verb()
                ));
            }
            self.departed.push((id, t.order.ticket, None));
        }
        if let Some(n) = notes.into_iter().next() {
            self.say(n, now_ms);
        }
        rang
    }

    /// Takes `o` if it is newer than what the board holds; `true` if the
    /// board changed.
    fn upsert(&mut self, o: Order, now_ms: u64) -> bool {
        if self.versions.get(&o.id).is_some_and(|v| *v >= o.version) {
            return false;
        }
        let seen = self.versions.insert(o.id.clone(), o.version).is_some();
        let prev = self.tickets.remove(&o.id);
        let mut pending = prev.as_ref().and_then(|t| t.pending.clone());
        let mut was_done = false;
        if let Some(i) = self.completed.iter().position(|d| d.order.id == o.id) {
            let d = self.completed.remove(i).expect("in range");
            pending = pending.or(d.pending);
            was_done = true;
        }
        // The server's word on whatever was asked.
        let pending = match pending.map(|p| p.carry(&o)) {
            Some((p, note)) => {
                if let Some(n) = note {
                    self.say(n, now_ms);
                }
                p
            }
            None => None,
        };
        if Column::of(o.state).is_none() {
            if o.state == OrderState::Completed {
                // Kept for the recall screen (with a rush still on its
                // way, say, whose answer finds it here).
                self.completed.push_front(Done {
                    lines: merge_lines(&o.lines),
                    order: o.clone(),
                    seen_ms: now_ms,
                    pending,
                });
                self.completed.truncate(RECENT_COMPLETED);
                was_done = true;
            }
            if let Some(t) = prev {
                self.departed
                    .push((o.id.clone(), t.order.ticket, Some(o.state)));
                return true;
            }
            return was_done;
        }
        for l in &o.lines {
            if !l.station.is_empty() && !self.stations.contains(&l.station) {
                self.stations.push(l.station.clone());
                self.stations.sort();
            }
        }
        let arrived = match &prev {
            Some(p) => p.arrived_ms,
            None if self.loaded && !seen => {
                self.arrived(now_ms, &o.id);
                Some(now_ms)
            }
            None => None,
        };
        let mut t = Ticket::new(o, arrived);
        t.pending = pending;
        self.tickets.insert(t.order.id.clone(), t);
        true
    }

    fn set_menu(&mut self, menu: Menu) {
        let mut stations: Vec<String> = menu
            .items
            .iter()
            .map(|i| i.station.clone())
            .chain(
                self.tickets
                    .values()
                    .flat_map(|t| t.order.lines.iter().map(|l| l.station.clone())),
            )
            .chain(self.station.clone())
            .filter(|s| !s.is_empty())
            .collect();
        stations.sort();
        stations.dedup();
        self.stations = stations;
        self.menu = Some(menu);
        if let Mode::Panel86 { cursor } = &mut self.mode {
            let n = self.menu.as_ref().map_or(0, |m| m.items.len());
            *cursor = (*cursor).min(n.saturating_sub(1));
        }
    }

    fn matches(&self, t: &Ticket) -> bool {
        if let Some(s) = &self.station
            && !t.order.lines.iter().any(|l| &l.station == s)
        {
            return false;
        }
        if self.search.is_empty() {
            return true;
        }
        let q = self.search.to_lowercase();
        let o = &t.order;
        o.ticket.to_string() == q.trim_start_matches('#')
            || o.customer.to_lowercase().contains(&q)
            || o.note.to_lowercase().contains(&q)
            || o.lines.iter().any(|l| {
                l.name.to_lowercase().contains(&q)
                    || l.sku.contains(&q)
                    || l.modifiers.iter().any(|m| m.to_lowercase().contains(&q))
            })
    }

    /// Recomputes columns, positions and all-day counts. Each column's
    /// cursor stays on its ticket; if that ticket is no longer shown there
    /// it goes to the neighbour (the next one, else the one before). When
    /// that happens to the focused column by itself (`auto`: server news,
    /// not a filter the cook typed), it is returned and Enter is held
    /// back for [`Settings::settle_ms`].
    fn rebuild(&mut self, now_ms: u64, auto: bool) -> Option<Slide> {
        let mut cols: [Vec<&Ticket>; 4] = Default::default();
        let mut all_day: BTreeMap<&str, (&str, u32)> = BTreeMap::new();
        for t in self.tickets.values() {
            let Some(col) = t.column() else { continue };
            if !self.matches(t) {
                continue;
            }
            cols[col.index()].push(t);
            if col != Column::Ready {
                for l in &t.lines {
                    if self.shows_line(&l.station) {
                        all_day.entry(l.sku.as_str()).or_insert((&l.name, 0)).1 += l.qty;
                    }
                }
            }
        }
        for c in &mut cols {
            // Rush first, then oldest first (ticket numbers break ties).
            c.sort_by_key(|t| (!t.rush(), t.order.created_at, t.order.ticket));
        }
        let items: HashMap<&str, &MenuItem> = self
            .menu
            .iter()
            .flat_map(|m| m.items.iter().map(|i| (i.sku.as_str(), i)))
            .collect();
        let out = |i: &MenuItem| !i.available || i.stock.is_some_and(|s| s <= 0);
        let mut rows: Vec<AllDay> = all_day
            .iter()
            .map(|(sku, (name, qty))| {
                let item = items.get(sku);
                AllDay {
                    name: name.to_string(),
                    qty: *qty,
                    stock: item.and_then(|i| i.stock),
                    out: item.is_some_and(|i| out(i)),
                }
            })
            .collect();
        rows.sort_by(|a, b| b.qty.cmp(&a.qty).then_with(|| a.name.cmp(&b.name)));
        // Stock-outs with nothing open still belong in the counts: the
        // cook must know not to start one.
        if let Some(m) = &self.menu {
            let mut outs: Vec<AllDay> = m
                .items
                .iter()
                .filter(|i| out(i) && self.shows_line(&i.station))
                .filter(|i| !all_day.contains_key(i.sku.as_str()))
                .map(|i| AllDay {
                    name: i.name.clone(),
                    qty: 0,
                    stock: i.stock,
                    out: true,
                })
                .collect();
            outs.sort_by(|a, b| a.name.cmp(&b.name));
            rows.extend(outs);
        }
        self.all_day = rows;
        let new_cols = cols.map(|c| {
            c.into_iter()
                .map(|t| t.order.id.clone())
                .collect::<Vec<_>>()
        });
        let old_cols = std::mem::replace(&mut self.columns, new_cols);
        self.index.clear();
        for c in Column::ALL {
            for (i, id) in self.columns[c.index()].iter().enumerate() {
                self.index.insert(id.clone(), (c, i));
            }
        }
        let departed = std::mem::take(&mut self.departed);
        let mut slide = None;
        for col in Column::ALL {
            let c = col.index();
            let Some(id) = self.sel[c].clone() else {
                // A first ticket in an empty column is selected at once
                // (there was nothing else it could be mistaken for).
                self.select(c, 0);
                continue;
            };
            if let Some(&(at, i)) = self.index.get(&id)
                && at == col
            {
                self.pos[c] = i;
                continue;
            }
            // Its ticket left the column: the next one still here, else
            // the one before.
            let old = &old_cols[c];
            let p = old
                .iter()
                .position(|x| *x == id)
                .unwrap_or(self.pos[c].min(old.len()));
            let here = |x: &&String| self.index.get(*x).is_some_and(|(cc, _)| *cc == col);
            let next = old[(p + 1).min(old.len())..]
                .iter()
                .find(here)
                .or_else(|| old[..p].iter().rev().find(here))
                .cloned();
            match next {
                Some(n) => {
                    let i = self.index[&n].1;
                    self.select(c, i);
                }
                None => {
                    self.sel[c] = None;
                    self.pos[c] = 0;
                }
            }
            if auto && col == self.focus {
                let (ticket, went) = match self.tickets.get(&id) {
                    Some(t) => (
                        t.order.ticket,
                        match t.column() {
                            Some(to) if self.index.contains_key(&id) => {
                                format!("moved to {}", to.title())
                            }
                            _ => format!("is {} now", t.order.state),
                        },
                    ),
                    None => match departed.iter().find(|d| d.0 == id) {
                        Some((_, t, Some(s))) => (*t, format!("left the board ({s})")),
                        Some((_, t, None)) => (*t, "left the board".to_string()),
                        None => (0, "left the board".to_string()),
                    },
                };
                let s = Slide {
                    ticket,
                    went,
                    now_on: self.column_selected(col).map(|t| t.order.ticket),
                    column: col,
                };
                self.slid = Some((now_ms, s.clone()));
                slide = Some(s);
            }
        }
        slide
    }

    /// Rebuilds after server news, telling the cook where the cursor went
    /// if it moved by itself — after whatever the news itself said.
    fn rebuild_after_news(&mut self, now_ms: u64, said_before: Option<&Message>) {
        let Some(s) = self.rebuild(now_ms, true) else {
            return;
        };
        let said = self.message.as_ref() != said_before;
        let about = |m: &Message| {
            m.text.starts_with(&format!("#{}:", s.ticket))
                || m.text.starts_with(&format!("#{} ", s.ticket))
        };
        // What was just said about the same ticket (its refused bump, say,
        // whose winner's event follows) stays, with where the cursor went.
        let recent = |m: &Message| now_ms.saturating_sub(m.at_ms) < 2_000;
        match self.message.clone() {
            Some(m) if (said || recent(&m)) && about(&m) => {
                self.say(format!("{} · {}", m.text, s.cursor_text()), now_ms)
            }
            Some(m) if said => self.say(format!("{} · {}", m.text, s.text()), now_ms),
            _ => self.say(s.text(), now_ms),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

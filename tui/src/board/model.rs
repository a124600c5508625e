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
//! Derived views (the three columns, all-day counts) are rebuilt after
//! each change rather than on each frame, so drawing 5,000 tickets only
//! walks the visible ones.

use std::collections::{BTreeMap, HashMap};

use protocol::messages::Event;
use protocol::messages::catalog::{Menu, MenuItem};
use protocol::messages::orders::{Order, OrderState};

/// How ages are coloured and how long a bump may be recalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A ticket older than this is "getting late" (yellow). 5 minutes.
    pub warn_after_ms: u64,
    /// A ticket older than this is late (red). 10 minutes.
    pub late_after_ms: u64,
    /// How long after a bump `u` still refers to it. 30 seconds.
    pub recall_window_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            warn_after_ms: 5 * 60_000,
            late_after_ms: 10 * 60_000,
            recall_window_ms: 30_000,
        }
    }
}

/// The board's columns, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// `placed`: waiting for the kitchen to accept.
    New,
    /// `accepted` and `preparing`.
    Preparing,
    /// `ready`: waiting to be handed over.
    Ready,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::New, Column::Preparing, Column::Ready];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::New => "New",
            Column::Preparing => "Preparing",
            Column::Ready => "Ready",
        }
    }

    /// The column an order in `state` sits in; `None` for orders the
    /// board does not show (awaiting payment, or finished).
    pub fn of(state: OrderState) -> Option<Column> {
        match state {
            OrderState::Placed => Some(Column::New),
            OrderState::Accepted | OrderState::Preparing => Some(Column::Preparing),
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
    /// The answer to an [`Effect::Transition`] of `step`.
    StepDone {
        order: String,
        step: Step,
        result: Result<Order, String>,
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
    CycleStation,
    Toggle86Panel,
    ToggleAllDay,
    StartSearch,
    ToggleHelp,
    /// Typing into the prompt or search line.
    Type(char),
    Erase,
    /// Enter in a prompt, a panel or search.
    Submit,
    /// Esc: close the prompt, panel or overlay.
    Cancel,
    Quit,
}

/// What the driver must do after an action or a server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a kitchen request for `order`.
    Transition {
        order: String,
        step: Step,
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
}

/// Where a state sits on the line, for telling bumps from recalls.
fn line_rank(s: OrderState) -> u8 {
    match s {
        OrderState::Placed => 1,
        OrderState::Accepted => 2,
        OrderState::Preparing => 3,
        OrderState::Ready => 4,
        OrderState::Completed => 5,
        _ => 0,
    }
}

/// The last successful bump, for recall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastBump {
    pub order: String,
    pub ticket: u64,
    pub from: OrderState,
    pub to: OrderState,
    pub at_ms: u64,
}

/// One ticket: the order as the server last told us, plus whether this
/// board is waiting for an answer about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub order: Order,
    /// A request for it is in flight: further bumps wait for its answer.
    pub pending: bool,
}

impl Ticket {
    /// The order's own flag: set with `order.rush`, so every board shows
    /// the same (and only once the server has it).
    pub fn rush(&self) -> bool {
        self.order.rush
    }

    pub fn column(&self) -> Option<Column> {
        Column::of(self.order.state)
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
    columns: [Vec<String>; 3],
    /// Selected row per column.
    rows: [usize; 3],
    focus: Column,
    menu: Option<Menu>,
    stations: Vec<String>,
    station: Option<String>,
    search: String,
    all_day: Vec<(String, u32)>,
    pub show_all_day: bool,
    mode: Mode,
    last_bump: Option<LastBump>,
    conn: Conn,
    /// The node of the last `Connected`, to tell the kitchen when the
    /// board has moved to another one.
    last_node: Option<String>,
    message: Option<String>,
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
            rows: [0; 3],
            focus: Column::New,
            menu: None,
            stations: station.iter().cloned().collect(),
            station,
            search: String::new(),
            all_day: Vec::new(),
            show_all_day: false,
            mode: Mode::Board,
            last_bump: None,
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
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
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
    pub fn all_day(&self) -> &[(String, u32)] {
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
    /// The `i`th ticket shown in `col`.
    pub fn column_ticket(&self, col: Column, i: usize) -> Option<&Ticket> {
        self.columns[col.index()].get(i).map(|id| &self.tickets[id])
    }
    /// The selected row of `col` (clamped to its length).
    pub fn row(&self, col: Column) -> usize {
        self.rows[col.index()]
    }
    pub fn selected(&self) -> Option<&Ticket> {
        self.column_ticket(self.focus, self.rows[self.focus.index()])
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
    /// Whether an item of `station` is shown under the station filter.
    pub fn shows_line(&self, station: &str) -> bool {
        self.station.as_deref().is_none_or(|s| s == station)
    }
    pub fn connected(&self) -> bool {
        matches!(self.conn, Conn::Connected { .. })
    }

    // ---- keys ----------------------------------------------------------

    /// What `key` means in the current mode (`None`: nothing).
    pub fn action_for(&self, key: Key) -> Option<Action> {
        if key == Key::Interrupt {
            return Some(Action::Quit);
        }
        match &self.mode {
            Mode::Search | Mode::Reject { .. } => match key {
                Key::Char(c) => Some(Action::Type(c)),
                Key::Backspace => Some(Action::Erase),
                Key::Enter => Some(Action::Submit),
                Key::Esc => Some(Action::Cancel),
                _ => None,
            },
            Mode::Help => match key {
                Key::Char('q') => Some(Action::Quit),
                _ => Some(Action::Cancel),
            },
            Mode::Panel86 { .. } => match key {
                Key::Up | Key::Char('k') => Some(Action::Move(Dir::Up)),
                Key::Down | Key::Char('j') => Some(Action::Move(Dir::Down)),
                Key::Enter | Key::Char(' ') => Some(Action::Submit),
                Key::Esc | Key::Char('8') => Some(Action::Cancel),
                Key::Char('q') => Some(Action::Quit),
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
                Key::Char('s') => Some(Action::CycleStation),
                Key::Char('8') => Some(Action::Toggle86Panel),
                Key::Char('a') => Some(Action::ToggleAllDay),
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

    /// Carries out an action; returns what the driver must do.
    pub fn apply(&mut self, action: Action, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match (&mut self.mode, action) {
            (_, Action::Quit) => fx.push(Effect::Quit),
            (Mode::Search, Action::Type(c)) => {
                self.search.push(c);
                self.rebuild();
            }
            (Mode::Search, Action::Erase) => {
                self.search.pop();
                self.rebuild();
            }
            (Mode::Search, Action::Submit) => self.mode = Mode::Board,
            (Mode::Search, Action::Cancel) => {
                self.search.clear();
                self.mode = Mode::Board;
                self.rebuild();
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
                    self.message = Some("type a reason to reject, or Esc to cancel".into());
                } else {
                    let (order, ticket) = (order.clone(), *ticket);
                    self.mode = Mode::Board;
                    fx.extend(self.send(&order, ticket, Step::Reject { reason }));
                }
            }
            (Mode::Help, Action::ToggleHelp | Action::Cancel) => self.mode = Mode::Board,
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
                        self.message =
                            Some("disconnected: nothing sent, try again when connected".into());
                    }
                }
            }
            (Mode::Panel86 { .. }, Action::Cancel | Action::Toggle86Panel) => {
                self.mode = Mode::Board
            }
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
            Action::Bump => {
                if let Some(t) = self.selected() {
                    let (id, ticket, state) = (t.order.id.clone(), t.order.ticket, t.order.state);
                    match Step::bump_from(state) {
                        Some(step) => fx.extend(self.send(&id, ticket, step)),
                        None => self.message = Some(format!("#{ticket} cannot be bumped")),
                    }
                }
            }
            Action::Reject => match self.selected() {
                Some(t) if t.order.state == OrderState::Placed => {
                    self.mode = Mode::Reject {
                        order: t.order.id.clone(),
                        ticket: t.order.ticket,
                        reason: String::new(),
                    };
                }
                Some(t) => {
                    self.message = Some(format!(
                        "#{}: only new tickets can be rejected (it is {})",
                        t.order.ticket, t.order.state
                    ))
                }
                None => {}
            },
            Action::Recall => match self.last_bump.take() {
                Some(b) if now_ms.saturating_sub(b.at_ms) <= self.settings.recall_window_ms => {
                    if !self.connected() {
                        self.message = Some(format!(
                            "disconnected: #{} not recalled; try again when connected",
                            b.ticket
                        ));
                        self.last_bump = Some(b);
                    } else {
                        // A guarded request: the server refuses if the
                        // order moved on meanwhile (or if it was an accept,
                        // whose payment is already captured).
                        if let Some(t) = self.tickets.get_mut(&b.order) {
                            t.pending = true;
                        }
                        self.message = Some(format!("recalling #{} back to {}", b.ticket, b.from));
                        fx.push(Effect::Transition {
                            order: b.order.clone(),
                            step: Step::Recall { state: b.to },
                        });
                    }
                }
                _ => self.message = Some("nothing to recall".into()),
            },
            Action::Rush => {
                // Not flipped here: the flag shows when the server's
                // answer or event brings the order back with it.
                if let Some(t) = self.selected() {
                    let (id, ticket, rush) = (t.order.id.clone(), t.order.ticket, !t.order.rush);
                    fx.extend(self.send(&id, ticket, Step::Rush { rush }));
                }
            }
            Action::CycleStation => {
                self.station = match &self.station {
                    None => self.stations.first().cloned(),
                    Some(s) => {
                        let i = self.stations.iter().position(|x| x == s);
                        i.and_then(|i| self.stations.get(i + 1)).cloned()
                    }
                };
                self.rebuild();
            }
            Action::Toggle86Panel => {
                if self.menu.as_ref().is_some_and(|m| !m.items.is_empty()) {
                    self.mode = Mode::Panel86 { cursor: 0 };
                } else {
                    self.message = Some("the menu is empty".into());
                }
            }
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::StartSearch => {
                self.search.clear();
                self.mode = Mode::Search;
                self.rebuild();
            }
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::Cancel => {
                self.message = None;
                if !self.search.is_empty() {
                    self.search.clear();
                    self.rebuild();
                }
            }
            _ => {}
        }
        fx
    }

    /// A guarded request for one ticket: refused while disconnected or
    /// while a request for it is in flight.
    fn send(&mut self, id: &str, ticket: u64, step: Step) -> Option<Effect> {
        if !self.connected() {
            self.message = Some(format!(
                "disconnected: nothing sent, #{ticket} not {}; try again when connected",
                match step {
                    Step::Reject { .. } => "rejected",
                    Step::Rush { rush: true } => "marked rush",
                    Step::Rush { rush: false } => "unmarked rush",
                    _ => "bumped",
                }
            ));
            return None;
        }
        let t = self.tickets.get_mut(id)?;
        if t.pending {
            self.message = Some(format!("#{ticket}: still waiting for the server"));
            return None;
        }
        t.pending = true;
        self.message = None;
        Some(Effect::Transition {
            order: id.to_string(),
            step,
        })
    }

    fn move_cursor(&mut self, d: Dir) {
        let c = self.focus.index();
        match d {
            Dir::Up => self.rows[c] = self.rows[c].saturating_sub(1),
            Dir::Down => {
                let n = self.columns[c].len();
                self.rows[c] = (self.rows[c] + 1).min(n.saturating_sub(1));
            }
            Dir::Left => self.focus = Column::ALL[c.saturating_sub(1)],
            Dir::Right => self.focus = Column::ALL[(c + 1).min(2)],
        }
    }

    // ---- server --------------------------------------------------------

    /// Applies news from the network task at time `now_ms`.
    pub fn incoming(&mut self, msg: Incoming, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match msg {
            Incoming::Conn(c) => {
                if let Conn::Connected { node, .. } = &c {
                    if let Some(prev) = self.last_node.as_ref().filter(|p| *p != node) {
                        self.message = Some(format!("reconnected: now via {node} (was {prev})"));
                    }
                    self.last_node = Some(node.clone());
                }
                self.conn = c;
            }
            Incoming::Snapshot { orders, menu } => {
                let selected = self.selected().map(|t| t.order.id.clone());
                let first = !self.loaded;
                let mut rang = false;
                let mut fresh = HashMap::with_capacity(orders.len());
                for o in orders {
                    if self.versions.get(&o.id).is_some_and(|v| *v > o.version) {
                        // Older than what the board already holds (read
                        // before an answer it applied): keep the newer.
                        if let Some(t) = self.tickets.remove(&o.id) {
                            fresh.insert(o.id.clone(), t);
                        }
                        continue;
                    }
                    if Column::of(o.state).is_none() {
                        self.versions.insert(o.id.clone(), o.version);
                        continue;
                    }
                    let old = self.tickets.remove(&o.id);
                    if old.is_none() && !first && !self.versions.contains_key(&o.id) {
                        rang = true;
                    }
                    self.versions.insert(o.id.clone(), o.version);
                    fresh.insert(
                        o.id.clone(),
                        Ticket {
                            order: o,
                            pending: false,
                        },
                    );
                }
                // Tickets not in the snapshot have finished meanwhile.
                self.tickets = fresh;
                self.set_menu(menu);
                self.loaded = true;
                self.rebuild_keep(selected.as_deref());
                if rang {
                    fx.push(Effect::Bell);
                }
            }
            Incoming::Events(events) => {
                let selected = self.selected().map(|t| t.order.id.clone());
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
                        if self.upsert(o) {
                            changed = true;
                            if new && placed && !fx.contains(&Effect::Bell) {
                                fx.push(Effect::Bell);
                            }
                        }
                    }
                }
                if changed {
                    self.rebuild_keep(selected.as_deref());
                }
            }
            Incoming::StepDone {
                order,
                step,
                result,
            } => {
                if let Some(t) = self.tickets.get_mut(&order) {
                    t.pending = false;
                }
                match result {
                    Ok(o) => {
                        let (from, to, ticket) = match self.tickets.get(&order) {
                            Some(t) => (t.order.state, o.state, o.ticket),
                            None => (o.state, o.state, o.ticket),
                        };
                        // Only forward bumps can be recalled (a recall is
                        // not one, nor a rush that found the order moved on
                        // by someone else).
                        if step.is_bump() && line_rank(to) > line_rank(from) {
                            self.last_bump = Some(LastBump {
                                order: order.clone(),
                                ticket,
                                from,
                                to,
                                at_ms: now_ms,
                            });
                        }
                        self.message = Some(match step {
                            Step::Rush { .. } if o.rush => format!("#{ticket} marked rush"),
                            Step::Rush { .. } => format!("#{ticket} no longer rush"),
                            _ => format!("#{ticket} {to}"),
                        });
                        let selected = self.selected().map(|t| t.order.id.clone());
                        if self.upsert(o) {
                            self.rebuild_keep(selected.as_deref());
                        }
                    }
                    Err(e) => {
                        let ticket = self
                            .tickets
                            .get(&order)
                            .map_or(order.clone(), |t| format!("#{}", t.order.ticket));
                        self.message = Some(format!("{ticket}: {e}"));
                    }
                }
            }
            Incoming::Set86Done { sku, result } => match result {
                Ok(item) => {
                    self.message = Some(format!(
                        "{} {}",
                        item.name,
                        if item.available {
                            "is back (un-86'd)"
                        } else {
                            "86'd"
                        }
                    ));
                    if let Some(m) = &mut self.menu
                        && let Some(i) = m.items.iter_mut().find(|i| i.sku == item.sku)
                    {
                        *i = item;
                    }
                }
                Err(e) => self.message = Some(format!("{sku}: {e}")),
            },
        }
        fx
    }

    /// Takes `o` if it is newer than what the board holds; `true` if the
    /// board changed.
    fn upsert(&mut self, o: Order) -> bool {
        if self.versions.get(&o.id).is_some_and(|v| *v >= o.version) {
            return false;
        }
        self.versions.insert(o.id.clone(), o.version);
        if Column::of(o.state).is_none() {
            return self.tickets.remove(&o.id).is_some();
        }
        for l in &o.lines {
            if !l.station.is_empty() && !self.stations.contains(&l.station) {
                self.stations.push(l.station.clone());
                self.stations.sort();
            }
        }
        match self.tickets.get_mut(&o.id) {
            Some(t) => {
                t.order = o;
                t.pending = false;
            }
            None => {
                self.tickets.insert(
                    o.id.clone(),
                    Ticket {
                        order: o,
                        pending: false,
                    },
                );
            }
        }
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

    fn rebuild(&mut self) {
        let selected = self.selected().map(|t| t.order.id.clone());
        self.rebuild_keep(selected.as_deref());
    }

    /// Recomputes columns and all-day counts; keeps the cursor on
    /// `selected` if it is still shown.
    fn rebuild_keep(&mut self, selected: Option<&str>) {
        let mut cols: [Vec<&Ticket>; 3] = Default::default();
        let mut all_day: BTreeMap<&str, u32> = BTreeMap::new();
        for t in self.tickets.values() {
            let Some(col) = t.column() else { continue };
            if !self.matches(t) {
                continue;
            }
            cols[col.index()].push(t);
            if col != Column::Ready {
                for l in &t.order.lines {
                    if self.shows_line(&l.station) {
                        *all_day.entry(l.name.as_str()).or_default() += l.qty;
                    }
                }
            }
        }
        for c in &mut cols {
            // Rush first, then oldest first (ticket numbers break ties).
            c.sort_by_key(|t| (!t.rush(), t.order.created_at, t.order.ticket));
        }
        let mut all_day: Vec<(String, u32)> = all_day
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        all_day.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.all_day = all_day;
        self.columns = cols.map(|c| c.into_iter().map(|t| t.order.id.clone()).collect());
        for c in Column::ALL {
            let n = self.columns[c.index()].len();
            self.rows[c.index()] = self.rows[c.index()].min(n.saturating_sub(1));
        }
        // The cursor follows its ticket within the column; a ticket bumped
        // to the next column leaves the cursor on the one after it.
        let f = self.focus.index();
        if let Some(i) = selected.and_then(|id| self.columns[f].iter().position(|x| x == id)) {
            self.rows[f] = i;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! Drawing the dashboard. Rendering only borrows the [`Top`] (and the
//! time, for lease countdowns and uptimes), so a frame can be drawn at any
//! time and tests can draw into a plain `Buffer`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Paragraph, Row, Sparkline, Table, Widget, Wrap,
};

use protocol::messages::orders::OrderState;

use super::model::{Conn, Health, Mode, OPEN_STATES, Top};

/// The daemon's roles (`daemon::config`), in its order: a member with all
/// of them shows `all`.
pub const ROLES: [&str; 7] = [
    "gateway", "auth", "catalog", "orders", "payments", "events", "duties",
];

/// A member's roles in a few characters: `all`, `all-payments` (every
/// role but one or two), else short names (`gw,ord,pay`). Unknown roles
/// are shown as they are.
pub fn compact_roles(roles: &[String]) -> String {
    let has = |r: &str| roles.iter().any(|x| x == r);
    let known = roles.iter().all(|r| ROLES.contains(&r.as_str()));
    let missing: Vec<&str> = ROLES.iter().copied().filter(|r| !has(r)).collect();
    if known && missing.is_empty() {
        return "all".into();
    }
    if known && missing.len() <= 2 && roles.len() > missing.len() {
        return format!("all-{}", missing.join("-"));
    }
    roles
        .iter()
        .map(|r| match r.as_str() {
            "gateway" => "gw",
            "catalog" => "cat",
            "orders" => "ord",
            "payments" => "pay",
            "events" => "ev",
            "duties" => "duty",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The dashboard as of `now_ms` (Unix milliseconds), ready to draw.
pub struct TopView<'a> {
    pub top: &'a Top,
    pub now_ms: u64,
}

/// Draws the whole screen into `frame`.
pub fn render(top: &Top, now_ms: u64, frame: &mut ratatui::Frame<'_>) {
    frame.render_widget(&TopView { top, now_ms }, frame.area());
}

/// `42s`, `12m05s`, `5h02m`, `3d04h`.
pub fn format_uptime(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d{:02}h", secs / 86400, (secs % 86400) / 3600),
    }
}

/// `HH:MM:SS` (UTC) of a Unix-milliseconds time.
pub fn clock(ms: u64) -> String {
    let s = (ms / 1000) % 86400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// `850µs`, `4.2ms`, `1.3s`.
pub fn format_latency(us: u64) -> String {
    match us {
        0 => "-".into(),
        1..1000 => format!("{us}µs"),
        1000..1_000_000 => format!("{:.1}ms", us as f64 / 1000.0),
        _ => format!("{:.1}s", us as f64 / 1e6),
    }
}

fn panel(title: &str) -> Block<'_> {
    Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {title} "), Style::new().bold()))
}

impl Widget for &TopView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let top = self.top;
        let members = (top.members().len() + top.lost_at(self.now_ms).count()) as u16;
        let [head, table, middle, bottom, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(members.max(1) + 3),
            Constraint::Min(8),
            Constraint::Length(7),
            Constraint::Length(1),
        ])
        .areas(area);
        self.header(head, buf);
        self.members(table, buf);
        let [orders, states] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(middle);
        self.orders(orders, buf);
        self.states(states, buf);
        let [store, changes] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(bottom);
        self.store(store, buf);
        self.leader_changes(changes, buf);
        self.status(status, buf);
        match &top.mode {
            Mode::Normal => {}
            Mode::Help => help(area, buf),
            Mode::Confirm(op) => confirm(area, buf, &op.question(top.leader())),
        }
    }
}

impl TopView<'_> {
    fn header(&self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::styled(" dfood top ", Style::new().bold().reversed())];
        match &self.top.dash {
            None => spans.push(Span::raw(" waiting for the first reading…")),
            Some(d) => {
                let s = &d.status;
                spans.push(Span::raw(format!(
                    " {} node(s) · {} store · revision {} · ",
                    s.members.len(),
                    s.store,
                    s.store_revision
                )));
                match &s.leader {
                    Some(l) => spans.push(Span::styled(
                        format!(
                            "leader {} (token {}, for {})",
                            l.node,
                            l.fencing_token,
                            format_uptime(self.now_ms.saturating_sub(l.since) / 1000)
                        ),
                        Style::new().fg(Color::Green),
                    )),
                    None => spans.push(Span::styled("NO LEADER", Style::new().red().bold())),
                }
                if s.paused {
                    spans.push(Span::styled(" · PAUSED", Style::new().yellow().bold()));
                }
                if let Some(p) = &s.pending_switchover {
                    let to = p.to.as_deref().unwrap_or("best candidate");
                    let at = p.scheduled_at.map(clock).unwrap_or_else(|| "now".into());
                    spans.push(Span::styled(
                        format!(" · switchover to {to} at {at}"),
                        Style::new().yellow(),
                    ));
                }
            }
        }
        Paragraph::new(Line::from(spans)).render(area, buf);
    }

    fn members(&self, area: Rect, buf: &mut Buffer) {
        let top = self.top;
        let now_s = self.now_ms / 1000;
        let header = Row::new([
            "", "node", "address", "roles", "lease", "uptime", "version", "req/s", "p99 10s",
            "err/s", "conns", "subs", "",
        ])
        .style(Style::new().bold().underlined());
        let members = top.members();
        let lost: Vec<_> = top.lost_at(self.now_ms).collect();
        let all = members
            .iter()
            .map(|m| &m.member)
            .chain(lost.iter().map(|l| &l.info.member));
        let (mut node_w, mut addr_w, mut roles_w) = (4u16, 7u16, 5u16);
        for m in all {
            node_w = node_w.max(m.node.chars().count() as u16);
            addr_w = addr_w.max(m.addr.chars().count() as u16);
            roles_w = roles_w.max(compact_roles(&m.roles).chars().count() as u16);
        }
        let dash = || "-".to_string();
        let mut rows: Vec<Row> = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let node = &m.member.node;
                let stats = top.stats(node);
                let rate = top.rates.get(node);
                let lease = top.lease_left(m, self.now_ms);
                let health = top.health(m, self.now_ms);
                let suspect = health != Health::Live;
                let mut notes = Vec::new();
                if let Health::Suspect(why) = &health {
                    notes.push(format!("suspect: {why}"));
                }
                if m.member.draining {
                    notes.push("draining".to_string());
                }
                if let Some(s) = stats
                    && s.lease_renew_failures > 0
                {
                    notes.push(format!("{} renew failures", s.lease_renew_failures));
                }
                let lease_style = if lease <= 2 {
                    Style::new().red().bold()
                } else {
                    Style::new()
                };
                // A suspect's figures are its last ones: dimmed.
                let figures = if suspect {
                    Style::new().dim()
                } else {
                    Style::new()
                };
                let n = |f: fn(&protocol::messages::cluster::NodeStats) -> u64| {
                    stats.map(|s| f(s).to_string()).unwrap_or_else(dash)
                };
                let row = Row::new([
                    Cell::from(if m.leader { "★" } else { " " }).style(Style::new().yellow()),
                    Cell::from(node.clone()),
                    Cell::from(m.member.addr.clone()).style(Style::new().dim()),
                    Cell::from(compact_roles(&m.member.roles)),
                    Cell::from(format!("{lease}s")).style(lease_style),
                    Cell::from(format_uptime(now_s.saturating_sub(m.member.started_at))),
                    Cell::from(m.member.version.clone()),
                    Cell::from(
                        rate.map(|r| format!("{:.1}", r.requests_per_sec))
                            .unwrap_or_else(dash),
                    )
                    .style(figures),
                    Cell::from(
                        stats
                            .map(|s| format_latency(s.latency_p99_recent_us))
                            .unwrap_or_else(dash),
                    )
                    .style(figures),
                    Cell::from(
                        rate.map(|r| format!("{:.1}", r.errors_per_sec))
                            .unwrap_or_else(dash),
                    )
                    .style(if rate.is_some_and(|r| r.errors_per_sec > 0.0) {
                        Style::new().red()
                    } else {
                        figures
                    }),
                    Cell::from(n(|s| s.connections)).style(figures),
                    Cell::from(n(|s| s.subscriptions)).style(figures),
                    Cell::from(notes.join(", ")).style(Style::new().yellow().bold()),
                ]);
                if i == top.selected {
                    row.style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    row
                }
            })
            .collect();
        for l in &lost {
            let m = &l.info.member;
            let ago = format_uptime(self.now_ms.saturating_sub(l.at_ms) / 1000);
            rows.push(
                Row::new([
                    Cell::from("✖"),
                    Cell::from(m.node.clone()),
                    Cell::from(m.addr.clone()),
                    Cell::from(compact_roles(&m.roles)),
                    Cell::from(dash()),
                    Cell::from(dash()),
                    Cell::from(m.version.clone()),
                    Cell::from(dash()),
                    Cell::from(dash()),
                    Cell::from(dash()),
                    Cell::from(dash()),
                    Cell::from(dash()),
                    Cell::from(format!("lost at {} ({ago} ago)", clock(l.at_ms))).bold(),
                ])
                .style(Style::new().red()),
            );
        }
        let widths = [
            Constraint::Length(1),
            Constraint::Length(node_w),
            Constraint::Length(addr_w),
            Constraint::Length(roles_w),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Min(8),
        ];
        Widget::render(
            Table::new(rows, widths)
                .header(header)
                .block(panel("Members (★ leader, ✖ lost)")),
            area,
            buf,
        );
    }

    fn orders(&self, area: Rect, buf: &mut Buffer) {
        let top = self.top;
        let title = match &top.dash {
            Some(d) if d.orders.at == 0 => "Orders placed / min: counting…".into(),
            Some(d) => format!(
                "Orders placed / min: {} · total {}",
                d.orders.placed_last_minute, d.orders.total
            ),
            None => "Orders placed / min".into(),
        };
        let block = panel(&title);
        let inner = block.inner(area);
        block.render(area, buf);
        let data: Vec<u64> = top.orders_per_minute.iter().copied().collect();
        // The newest samples, right-aligned.
        let skip = data.len().saturating_sub(inner.width as usize);
        Sparkline::default()
            .data(&data[skip..])
            .style(Style::new().fg(Color::Cyan))
            .render(inner, buf);
    }

    fn states(&self, area: Rect, buf: &mut Buffer) {
        let top = self.top;
        let block = panel("Orders by state (one scale)");
        let inner = block.inner(area);
        block.render(area, buf);
        let by_state = top.dash.as_ref().map(|d| &d.orders.by_state);
        let count = |s: OrderState| {
            by_state
                .and_then(|b| b.get(s.as_str()).copied())
                .unwrap_or(0)
        };
        let rows = Layout::vertical(
            std::iter::repeat_n(Constraint::Length(1), OPEN_STATES.len() + 1)
                .chain([Constraint::Min(0)]),
        )
        .split(inner);
        // One scale for every state (the largest count on screen), so 1
        // order and 114 do not draw the same bar.
        let spark_w = usize::from(inner.width.saturating_sub(16 + 7));
        let scale = top
            .state_history
            .iter()
            .flat_map(|h| h.iter().skip(h.len().saturating_sub(spark_w)))
            .copied()
            .max()
            .unwrap_or(0)
            .max(1);
        for (i, s) in OPEN_STATES.iter().enumerate() {
            let [label, spark, num] = Layout::horizontal([
                Constraint::Length(16),
                Constraint::Min(4),
                Constraint::Length(7),
            ])
            .areas(rows[i]);
            Paragraph::new(s.as_str()).render(label, buf);
            let data: Vec<u64> = top.state_history[i].iter().copied().collect();
            let skip = data.len().saturating_sub(spark.width as usize);
            Sparkline::default()
                .data(&data[skip..])
                .max(scale)
                .style(Style::new().fg(Color::Green))
                .render(spark, buf);
            Paragraph::new(format!("{:>6}", count(*s))).render(num, buf);
        }
        let finished = [
            OrderState::Completed,
            OrderState::Rejected,
            OrderState::Cancelled,
            OrderState::Expired,
            OrderState::PaymentFailed,
        ]
        .iter()
        .map(|s| format!("{} {}", s.as_str(), count(*s)))
        .collect::<Vec<_>>()
        .join(" · ");
        Paragraph::new(finished)
            .style(Style::new().dim())
            .wrap(Wrap { trim: true })
            .render(
                rows[OPEN_STATES.len()].union(rows[OPEN_STATES.len() + 1]),
                buf,
            );
    }

    fn store(&self, area: Rect, buf: &mut Buffer) {
        let Some(d) = &self.top.dash else {
            panel("Store").render(area, buf);
            return;
        };
        let s = &d.status;
        let mut lines: Vec<Line> = if s.store_members.is_empty() {
            vec![Line::from(format!(
                "{} store: one node, no store members to watch",
                s.store
            ))]
        } else {
            s.store_members
                .iter()
                .map(|m| {
                    let (health, style) = if m.healthy {
                        ("healthy".to_string(), Style::new().green())
                    } else {
                        (
                            format!("UNHEALTHY: {}", m.error.as_deref().unwrap_or("?")),
                            Style::new().red().bold(),
                        )
                    };
                    Line::from(vec![
                        Span::raw(if m.leader { "★ " } else { "  " }),
                        Span::raw(format!("{:<8} {:<23} ", m.name, m.endpoint)),
                        Span::styled(health, style),
                    ])
                })
                .collect()
        };
        if let Some(u) = &s.store_usage {
            lines.insert(0, Line::from(usage_line(u)));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(panel(&format!("Store: {}", s.store)))
            .render(area, buf);
    }

    fn leader_changes(&self, area: Rect, buf: &mut Buffer) {
        let lines: Vec<Line> = match &self.top.dash {
            Some(d) if !d.leader_changes.is_empty() => {
                let room = area.height.saturating_sub(2) as usize;
                let skip = d.leader_changes.len().saturating_sub(room);
                d.leader_changes[skip..]
                    .iter()
                    .map(|c| {
                        Line::from(format!(
                            "{}  {:<10} token {:<6} {}",
                            if c.at == 0 {
                                "--:--:--".into()
                            } else {
                                clock(c.at)
                            },
                            c.node,
                            c.fencing_token,
                            c.reason.as_deref().unwrap_or("")
                        ))
                    })
                    .collect()
            }
            Some(_) => vec![Line::from("none recorded")],
            None => vec![],
        };
        Paragraph::new(lines)
            .block(panel("Leader changes (UTC)"))
            .render(area, buf);
    }

    fn status(&self, area: Rect, buf: &mut Buffer) {
        let top = self.top;
        let (conn, style) = match &top.conn {
            Conn::Connecting => ("connecting…".to_string(), Style::new().yellow()),
            Conn::Connected { node, addr } => (
                format!("connected to {node} ({addr})"),
                Style::new().green(),
            ),
            Conn::Reconnecting { reason } => {
                let age = self.now_ms.saturating_sub(top.received_at) / 1000;
                let data = if top.dash.is_some() {
                    format!(", figures from {age}s ago")
                } else {
                    String::new()
                };
                (
                    format!("DISCONNECTED ({reason}){data}, reconnecting…"),
                    Style::new().red().bold(),
                )
            }
        };
        let mut spans = vec![Span::styled(conn, style), Span::raw("  ")];
        match &top.notice {
            Some(n) => spans.push(Span::styled(
                n.text.clone(),
                if n.error {
                    Style::new().red().bold()
                } else {
                    Style::new().cyan()
                },
            )),
            None => spans.push(Span::styled(
                "j/k select · s switch · f failover · p pause · d drain · ? help · q quit",
                Style::new().dim(),
            )),
        }
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn confirm(area: Rect, buf: &mut Buffer, question: &str) {
    let w = (question.chars().count() as u16 + 6).max(44);
    let r = centered(area, w, 5);
    Clear.render(r, buf);
    Paragraph::new(vec![
        Line::from(question.to_string()).bold(),
        Line::from(""),
        Line::from("y: yes, do it · any other key: cancel"),
    ])
    .block(panel("Confirm").border_style(Style::new().yellow()))
    .render(r, buf);
}

/// Every key, for `?`.
pub const KEYS: &[(&str, &str)] = &[
    ("j / k, ↓ / ↑", "select a member"),
    (
        "s",
        "switchover: to the selected node (from the leader: to the best candidate)",
    ),
    (
        "f",
        "forced failover to the selected node (for a cluster with no leader)",
    ),
    ("p", "pause / resume automatic leader changes"),
    (
        "d",
        "drain the selected node (again: let it take connections)",
    ),
    ("Esc", "clear the message line"),
    ("?", "this help (any key closes it)"),
    ("q, Ctrl-C", "quit"),
];

fn help(area: Rect, buf: &mut Buffer) {
    let widest = KEYS
        .iter()
        .map(|(_, what)| what.chars().count() as u16 + 18)
        .max()
        .unwrap_or(40);
    let r = centered(area, widest, KEYS.len() as u16 + 4);
    Clear.render(r, buf);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::from(format!(" {k:<14} {what}")))
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(" Every action asks for confirmation first.").dim());
    Paragraph::new(lines).block(panel("Keys")).render(r, buf);
}

#[cfg(test)]
mod tests;

/// `17.4 MB of 2.1 GB (12.9 MB in use) · compacted to rev 4100`.
pub fn usage_line(u: &protocol::messages::cluster::StoreUsage) -> String {
    let size = |b: u64| {
        if b >= 1_000_000_000 {
            format!("{:.1} GB", b as f64 / 1e9)
        } else {
            format!("{:.1} MB", b as f64 / 1e6)
        }
    };
    let mut s = size(u.bytes);
    if let Some(q) = u.quota_bytes {
        s += &format!(" of {}", size(q));
    }
    if let Some(i) = u.in_use_bytes {
        s += &format!(" ({} in use)", size(i));
    }
    if let Some(k) = u.keys {
        s += &format!(", {k} keys");
    }
    match u.compacted_revision {
        Some(r) => s += &format!(" · compacted to rev {r}"),
        None => s += " · never compacted",
    }
    s
}

//! Drawing the board. Rendering only borrows the [`Board`] (and the time,
//! for ages and expiring messages): it never changes state, so a frame can
//! be drawn at any time and tests can draw into a plain `Buffer`.
//!
//! Where things go is [`super::layout`]'s: a column per state, cards
//! flowing through its lanes in rows, oldest first. Only the rows around
//! the selection are measured and drawn, so a column of 5,000 tickets
//! costs what its visible cards cost; what is off-screen is counted
//! ("↓ 12 more (2 new)").
//!
//! Styles carry meaning and are kept apart: a customer's allergy note is
//! the only white-on-red text; a menu's allergens are quiet; lateness is
//! the timer's colour and the border's; RUSH is magenta; a request that
//! is unconfirmed is yellow, one that failed is red text.

use std::collections::HashMap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::layout::{self, ColumnGeom};
use super::model::{
    Age, Board, Column, Conn, Mode, Pending, PendingStatus, RECALL_WINDOW_MS, Ticket, TicketLine,
    station_progress,
};
use protocol::messages::orders::{Order, OrderState};

/// The board as of `now_ms` (Unix milliseconds), ready to draw.
pub struct BoardView<'a> {
    pub board: &'a Board,
    pub now_ms: u64,
}

impl<'a> BoardView<'a> {
    pub fn new(board: &'a Board, now_ms: u64) -> Self {
        BoardView { board, now_ms }
    }
}

/// Draws the whole screen into `frame`.
pub fn render(board: &Board, now_ms: u64, frame: &mut ratatui::Frame<'_>) {
    frame.render_widget(&BoardView::new(board, now_ms), frame.area());
}

/// `m:ss` under an hour, then `1h05`.
pub fn format_age(ms: u64) -> String {
    let s = ms / 1000;
    if s < 3600 {
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        format!("{}h{:02}", s / 3600, (s % 3600) / 60)
    }
}

fn age_color(a: Age) -> Color {
    match a {
        Age::Fresh => Color::Green,
        Age::Warn => Color::Yellow,
        Age::Late => Color::Red,
    }
}

/// A customer's allergy note, and nothing else.
pub const ALLERGY: Style = Style::new()
    .fg(Color::White)
    .bg(Color::Red)
    .add_modifier(Modifier::BOLD);
/// A menu item's allergens: there, but quiet.
pub const ALLERGENS: Style = Style::new().fg(Color::DarkGray);
const UNCONFIRMED: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
const FAILED: Style = Style::new()
    .fg(Color::LightRed)
    .add_modifier(Modifier::BOLD);
const NEW_MARK: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Cyan)
    .add_modifier(Modifier::BOLD);

/// Whether a customer's note is about an allergy or a diet the kitchen
/// must not get wrong.
pub fn mentions_allergy(note: &str) -> bool {
    let n = note.to_lowercase();
    [
        "allerg",
        "gluten",
        "nut",
        "coeliac",
        "celiac",
        "lactose",
        "vegan",
        "epipen",
        "anaphyla",
        "intoleran",
        "shellfish",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Splits `text` into rows of at most `first` columns for the first row
/// and `rest` for the others, at spaces when it can, inside words when a
/// word is longer than a row. Never loses a character.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(1), rest.max(1));
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    let limit = |rows: &Vec<String>| if rows.is_empty() { first } else { rest };
    for word in text.split(' ') {
        let w = width(word);
        let sep = usize::from(!cur.is_empty());
        if cur_w + sep + w <= limit(&rows) {
            if sep == 1 {
                cur.push(' ');
            }
            cur.push_str(word);
            cur_w += sep + w;
            continue;
        }
        if !cur.is_empty() {
            rows.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        if w <= limit(&rows) {
            cur.push_str(word);
            cur_w = w;
            continue;
        }
        // A word longer than a row: cut it.
        for ch in word.chars() {
            let mut b = [0u8; 4];
            let cw = width(ch.encode_utf8(&mut b));
            if cur_w + cw > limit(&rows) && !cur.is_empty() {
                rows.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            cur.push(ch);
            cur_w += cw;
        }
    }
    if !cur.is_empty() || rows.is_empty() {
        rows.push(cur);
    }
    rows
}

/// Pushes `text` wrapped to `w`, its continuation rows indented like the
/// first one's text (after `lead`).
fn push_wrapped(
    out: &mut Vec<Line<'static>>,
    lead: &str,
    text: &str,
    w: usize,
    lead_style: Style,
    style: Style,
) {
    let lw = width(lead);
    let rows = wrap(text, w.saturating_sub(lw), w.saturating_sub(lw));
    for (i, r) in rows.into_iter().enumerate() {
        let lead = if i == 0 {
            lead.to_string()
        } else {
            " ".repeat(lw)
        };
        out.push(Line::from(vec![
            Span::styled(lead, lead_style),
            Span::styled(r, style),
        ]));
    }
}

/// The rows of an order's lines (those of the board's station), at `w`
/// columns.
fn item_lines(b: &Board, lines: &[TicketLine], w: usize, out: &mut Vec<Line<'static>>) {
    for l in lines {
        if !b.shows_line(&l.station) {
            continue;
        }
        // A line its station marked ready: ticked and quiet.
        let (lead, style) = if l.state == Some(OrderState::Ready) {
            (format!("✓{}× ", l.qty), Style::new().green().dim())
        } else {
            (format!("{}× ", l.qty), Style::new())
        };
        push_wrapped(out, &lead, &l.name, w, style.bold(), style);
        for m in &l.modifiers {
            push_wrapped(out, "  + ", m, w, Style::new(), Style::new().italic());
        }
        if !l.allergens.is_empty() {
            push_wrapped(
                out,
                "  ",
                &format!("contains {}", l.allergens),
                w,
                Style::new(),
                ALLERGENS,
            );
        }
    }
}

/// The note, in full: an allergy note loud, with its own heading.
fn note_lines(note: &str, w: usize, out: &mut Vec<Line<'static>>) {
    if note.is_empty() {
        return;
    }
    if mentions_allergy(note) {
        let head = "‼ ALLERGY";
        let pad = w.saturating_sub(width(head));
        out.push(Line::from(Span::styled(
            format!("{head}{}", " ".repeat(pad)),
            ALLERGY,
        )));
        for r in wrap(note, w, w) {
            let pad = w.saturating_sub(width(&r));
            out.push(Line::from(Span::styled(
                format!("{r}{}", " ".repeat(pad)),
                ALLERGY,
            )));
        }
    } else {
        push_wrapped(
            out,
            "note: ",
            note,
            w,
            Style::new().yellow(),
            Style::new().yellow().italic(),
        );
    }
}

/// A ticket's unsettled request, as rows: short on a card, with the
/// reason in the detail view (`full`).
fn pending_lines(p: &Pending, w: usize, full: bool, out: &mut Vec<Line<'static>>) {
    let verb = p.step.verb();
    let (lead, text, style) = match &p.status {
        PendingStatus::Sent => return,
        PendingStatus::Unconfirmed(why) if full => (
            "? ",
            format!("{verb}: no answer ({why}); waiting for the server's news, d dismisses"),
            UNCONFIRMED,
        ),
        PendingStatus::Unconfirmed(_) => ("? ", format!("{verb}: no answer · d"), UNCONFIRMED),
        PendingStatus::Failed(why) if full => (
            "✖ ",
            format!("{verb} failed ({why}); Enter tries again, d dismisses"),
            FAILED,
        ),
        PendingStatus::Failed(_) => ("✖ ", format!("{verb} failed · Enter/d"), FAILED),
    };
    push_wrapped(out, lead, &text, w, style, style);
}

/// The content rows of a card `card_w` wide (borders included).
pub fn card_lines(b: &Board, t: &Ticket, card_w: u16) -> Vec<Line<'static>> {
    let w = usize::from(card_w.saturating_sub(2));
    let mut out = Vec::new();
    if let Some(p) = &t.pending {
        pending_lines(p, w, false, &mut out);
    }
    if let Some(sv) = &t.order.service {
        push_wrapped(
            &mut out,
            "",
            &sv.label(),
            w,
            Style::new().cyan().bold(),
            Style::new().cyan().bold(),
        );
    }
    // Expo (no station chosen): each station's progress on an order
    // being cooked, once one station has bumped.
    if b.station().is_none() && t.order.state == OrderState::Preparing {
        let progress = station_progress(&t.order);
        if progress.iter().any(|(_, r)| *r) {
            let text = progress
                .iter()
                .map(|(s, r)| format!("{s} {}", if *r { "✓" } else { "…" }))
                .collect::<Vec<_>>()
                .join("  ");
            push_wrapped(&mut out, "", &text, w, Style::new(), Style::new().dim());
        }
    }
    item_lines(b, &t.lines, w, &mut out);
    note_lines(&t.order.note, w, &mut out);
    out
}

/// Rows a ticket's card takes when `card_w` wide, uncapped.
pub fn card_height(b: &Board, t: &Ticket, card_w: u16) -> u16 {
    (2 + card_lines(b, t, card_w).len()).max(3) as u16
}

impl Widget for &BoardView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        if layout::too_small(area) {
            too_small(area, buf);
            return;
        }
        let screen = b.layout(area);
        self.header(screen.header, buf);
        for (c, geom) in Column::ALL.into_iter().zip(screen.columns) {
            ColumnView {
                view: self,
                column: c,
                geom,
            }
            .render(geom.area, buf);
        }
        if let Some(s) = screen.side {
            Clear.render(s, buf);
            if let Mode::Panel86 { cursor } = b.mode() {
                self.panel86(*cursor, s, buf);
            } else {
                self.all_day(s, buf);
            }
        }
        self.status(screen.status, buf);
        match b.mode() {
            Mode::Help => help(area, buf),
            Mode::Reject { ticket, reason, .. } => reject_prompt(*ticket, reason, area, buf),
            Mode::Detail { order, scroll } => self.detail(order, *scroll, area, buf),
            Mode::Completed { cursor } => self.completed(*cursor, area, buf),
            Mode::ConfirmQuit => self.confirm_quit(area, buf),
            _ => {}
        }
    }
}

fn too_small(area: Rect, buf: &mut Buffer) {
    let lines = vec![
        Line::from("terminal too small").bold(),
        Line::from(format!("{}×{}", area.width, area.height)),
        Line::from(format!(
            "the board needs {}×{}",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        )),
        Line::from("q quits").dim(),
    ];
    let h = (lines.len() as u16).min(area.height);
    let r = Rect::new(area.x, area.y + (area.height - h) / 2, area.width, h);
    Paragraph::new(lines).centered().render(r, buf);
}

impl BoardView<'_> {
    fn header(&self, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        let mut spans = vec![
            Span::raw(" dfood board ").bold().reversed(),
            Span::raw(format!(" {} ", b.restaurant)).bold(),
            Span::raw("· station: "),
            Span::raw(b.station().unwrap_or("all").to_string()).bold(),
            Span::raw(format!(" · {} open", b.ticket_count())),
        ];
        let unsettled = b.unsettled();
        if !unsettled.is_empty() {
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(
                format!("{} unsettled", unsettled.len()),
                UNCONFIRMED,
            ));
        }
        if *b.mode() == Mode::Search {
            spans.push(Span::raw(" · search: "));
            spans.push(Span::raw(format!("/{}▏", b.search())).yellow().bold());
        } else if !b.search().is_empty() {
            spans.push(Span::raw(" · search: "));
            spans.push(Span::raw(format!("/{}", b.search())).yellow());
        }
        Line::from(spans).render(area, buf);
    }

    fn status(&self, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        let conn = match b.conn() {
            Conn::Connecting => Span::raw(" ◌ connecting… ").yellow(),
            Conn::Connected { node, addr } => Span::raw(format!(" ● {node} ({addr}) ")).green(),
            Conn::Reconnecting { reason } => {
                Span::raw(format!(" ✖ DISCONNECTED ({reason}), reconnecting "))
                    .white()
                    .on_red()
                    .bold()
            }
        };
        let mut spans = vec![conn];
        match b.message_at(self.now_ms) {
            // A message has the rest of the line; else the key hint.
            Some(m) => {
                spans.push(Span::raw(" "));
                spans.push(Span::raw(m.to_string()).bold());
                Line::from(spans).render(area, buf);
            }
            None => {
                let keys = " ?:help  i:ticket  c:completed  q:quit ";
                let [left, right] = Layout::horizontal([
                    Constraint::Min(0),
                    Constraint::Length(width(keys) as u16),
                ])
                .areas(area);
                Line::from(spans).render(left, buf);
                Line::from(keys).dim().render(right, buf);
            }
        }
    }

    fn panel86(&self, cursor: usize, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .title(" 86 (Enter flips, Esc closes) ")
            .border_style(Style::new().cyan());
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(menu) = self.board.menu() else {
            return;
        };
        let h = inner.height as usize;
        let first = cursor.saturating_sub(h.saturating_sub(1));
        for (row, (i, item)) in menu
            .items
            .iter()
            .enumerate()
            .skip(first)
            .take(h)
            .enumerate()
        {
            let out = item.stock.is_some_and(|s| s <= 0);
            let mark = if !item.available {
                Span::raw(" 86 ").white().on_red().bold()
            } else if out {
                Span::raw(" 0! ").black().on_yellow().bold()
            } else {
                Span::raw("    ")
            };
            let stock = match item.stock {
                None => String::new(),
                Some(s) if s <= 0 => "out".to_string(),
                Some(s) => format!("{s} left"),
            };
            let r = Rect::new(inner.x, inner.y + row as u16, inner.width, 1);
            let name_w = usize::from(inner.width)
                .saturating_sub(4 + 1 + width(&stock) + 1)
                .max(1);
            let mut name = item.name.clone();
            if !item.station.is_empty() {
                name.push_str(&format!(" ({})", item.station));
            }
            let name = fit(&name, name_w);
            let pad = name_w.saturating_sub(width(&name));
            let mut line = Line::from(vec![
                mark,
                Span::raw(" "),
                Span::raw(name),
                Span::raw(" ".repeat(pad + 1)),
                if out || !item.available {
                    Span::raw(stock).red().bold()
                } else {
                    Span::raw(stock).dim()
                },
            ]);
            if i == cursor {
                line = line.reversed();
            }
            line.render(r, buf);
        }
    }

    fn all_day(&self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .title(" All day ")
            .border_style(Style::new().cyan());
        let inner = block.inner(area);
        block.render(area, buf);
        // Ticket times per station over the last hour, at the bottom.
        let times = self.board.ticket_times(self.now_ms);
        let times_h = if times.is_empty() || inner.height < 6 {
            0
        } else {
            (times.len() + 1).min(usize::from(inner.height) / 2)
        };
        for (i, line) in std::iter::once(Line::from(" ticket time, 1 h: avg / p90").dim())
            .chain(times.iter().map(|t| {
                Line::from(format!(
                    " {} {} / {} ({})",
                    fit(&t.station, 12),
                    format_age(t.avg_ms),
                    format_age(t.p90_ms),
                    t.count
                ))
            }))
            .take(times_h)
            .enumerate()
        {
            let y = inner.y + inner.height - times_h as u16 + i as u16;
            line.render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
        for (row, a) in self
            .board
            .all_day()
            .iter()
            .take(usize::from(inner.height) - times_h)
            .enumerate()
        {
            let r = Rect::new(inner.x, inner.y + row as u16, inner.width, 1);
            let tail = if a.out {
                "OUT".to_string()
            } else {
                a.stock.map_or(String::new(), |s| format!("{s} left"))
            };
            let name_w = usize::from(inner.width)
                .saturating_sub(5 + width(&tail) + 1)
                .max(1);
            let name = fit(&a.name, name_w);
            let pad = name_w.saturating_sub(width(&name));
            Line::from(vec![
                Span::raw(format!("{:>4} ", a.qty)).bold(),
                Span::raw(name),
                Span::raw(" ".repeat(pad + 1)),
                if a.out {
                    Span::raw(tail).white().on_red().bold()
                } else {
                    Span::raw(tail).dim()
                },
            ])
            .render(r, buf);
        }
    }

    fn detail(&self, id: &str, scroll: u16, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        let (order, lines, pending) = match b.ticket(id) {
            Some(t) => (&t.order, &t.lines, t.pending.as_ref()),
            None => match b.completed().find(|d| d.order.id == id) {
                Some(d) => (&d.order, &d.lines, d.pending.as_ref()),
                None => {
                    let r = centered(area, 50, 5);
                    Clear.render(r, buf);
                    Paragraph::new("\n this ticket is no longer on the board")
                        .block(Block::bordered().border_set(border::DOUBLE))
                        .render(r, buf);
                    return;
                }
            },
        };
        // Over the columns; the header and the status line stay.
        let r = centered(
            area,
            84.min(area.width.saturating_sub(2)),
            area.height.saturating_sub(2),
        );
        let w = usize::from(r.width.saturating_sub(4));
        let mut out: Vec<Line<'static>> = Vec::new();
        let age = self.now_ms.saturating_sub(order.created_at);
        let mut head = vec![Span::raw(format!(
            "{} · age {} · {} item(s) · version {}",
            order.state,
            format_age(age),
            order.lines.iter().map(|l| l.qty).sum::<u32>(),
            order.version
        ))];
        if order.rush {
            head.push(Span::raw(" "));
            head.push(Span::raw(" RUSH ").white().on_magenta().bold());
        }
        out.push(Line::from(head));
        if let Some(sv) = &order.service {
            out.push(Line::from(Span::raw(sv.label()).cyan().bold()));
        }
        if let Some(p) = pending {
            if p.status == PendingStatus::Sent {
                out.push(
                    Line::from(format!("… {} sent, waiting for the answer", p.step.verb())).dim(),
                );
            }
            pending_lines(p, w, true, &mut out);
        }
        out.push(Line::from(""));
        // Every station's lines here: the whole order.
        for l in lines {
            push_wrapped(
                &mut out,
                &format!("{}× ", l.qty),
                &l.name,
                w,
                Style::new().bold(),
                Style::new(),
            );
            let mut tail = Vec::new();
            if !l.station.is_empty() {
                tail.push(format!(
                    "station {}{}",
                    l.station,
                    if l.state == Some(OrderState::Ready) {
                        " ✓ ready"
                    } else {
                        ""
                    }
                ));
            }
            for m in &l.modifiers {
                push_wrapped(
                    &mut out,
                    "    + ",
                    m,
                    w,
                    Style::new(),
                    Style::new().italic(),
                );
            }
            if !l.allergens.is_empty() {
                tail.push(format!("contains {}", l.allergens));
            }
            if !tail.is_empty() {
                push_wrapped(
                    &mut out,
                    "    ",
                    &tail.join(" · "),
                    w,
                    Style::new(),
                    ALLERGENS,
                );
            }
        }
        if !order.note.is_empty() {
            out.push(Line::from(""));
            note_lines(&order.note, w, &mut out);
        }
        let inner_h = usize::from(r.height.saturating_sub(2));
        let max = out.len().saturating_sub(inner_h);
        let scroll = usize::from(scroll).min(max);
        let more = out.len() > inner_h + scroll;
        Clear.render(r, buf);
        let mut block = Block::bordered()
            .border_set(border::DOUBLE)
            .title(Line::from(vec![
                Span::raw(format!(" #{} ", order.ticket)).bold(),
                Span::raw(format!("{} ", order.customer)),
            ]))
            .title_bottom(
                Line::from(if more {
                    " ↓ more · ↑↓ scroll · any key closes "
                } else {
                    " ↑↓ scroll · any key closes "
                })
                .right_aligned(),
            );
        if let Some(c) = Column::of(order.state) {
            block = block.title(Line::from(format!(" {} ", c.title())).right_aligned());
        }
        Paragraph::new(out.into_iter().skip(scroll).collect::<Vec<_>>())
            .block(block.padding(ratatui::widgets::Padding::horizontal(1)))
            .render(r, buf);
    }

    fn completed(&self, cursor: usize, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        let n = b.completed().len();
        let r = centered(
            area,
            90.min(area.width.saturating_sub(2)),
            (n as u16 + 4).clamp(6, area.height),
        );
        Clear.render(r, buf);
        let block = Block::bordered()
            .border_set(border::DOUBLE)
            .title(format!(
                " Completed (recall within {} s) ",
                RECALL_WINDOW_MS / 1000
            ))
            .title_bottom(Line::from(" Enter/u: recall to Ready · Esc closes ").right_aligned());
        let inner = block.inner(r);
        block.render(r, buf);
        if n == 0 {
            Line::from(" no order completed since this board started")
                .dim()
                .render(inner, buf);
            return;
        }
        let h = usize::from(inner.height);
        let first = cursor.saturating_sub(h.saturating_sub(1));
        for (row, (i, d)) in b.completed().enumerate().skip(first).take(h).enumerate() {
            let ago = self.now_ms.saturating_sub(d.seen_ms);
            let when = if d.pending.is_some() {
                Span::raw("recalling… · ").yellow()
            } else if ago <= RECALL_WINDOW_MS {
                Span::raw(format!(
                    "recall ok, {} left · ",
                    format_age(RECALL_WINDOW_MS - ago)
                ))
                .green()
            } else {
                Span::raw("too late to recall · ").dim()
            };
            let items = d
                .lines
                .iter()
                .map(|l| format!("{}× {}", l.qty, l.name))
                .collect::<Vec<_>>()
                .join(", ");
            let head = format!(
                " #{} {} · done {} ago · ",
                d.order.ticket,
                d.order.customer,
                format_age(ago)
            );
            let rest = usize::from(inner.width).saturating_sub(width(&head) + when.width() + 1);
            let mut line = Line::from(vec![
                Span::raw(head).bold(),
                when,
                Span::raw(fit(&items, rest)).dim(),
            ]);
            if i == cursor {
                line = line.reversed();
            }
            line.render(
                Rect::new(inner.x, inner.y + row as u16, inner.width, 1),
                buf,
            );
        }
    }

    fn confirm_quit(&self, area: Rect, buf: &mut Buffer) {
        let list = self.board.unsettled();
        let shown = list.len().min(6);
        let r = centered(area, 64, shown as u16 + 6);
        Clear.render(r, buf);
        let mut lines = vec![Line::from(format!(
            " {} request(s) not settled; quitting forgets them:",
            list.len()
        ))];
        for (ticket, p) in list.iter().take(shown) {
            let what = match &p.status {
                PendingStatus::Sent => "waiting for the answer".to_string(),
                PendingStatus::Unconfirmed(_) => "unconfirmed (the answer was lost)".to_string(),
                PendingStatus::Failed(why) => format!("failed: {why}"),
            };
            lines.push(Line::from(format!(
                "   #{ticket} {}: {what}",
                p.step.verb()
            )));
        }
        if list.len() > shown {
            lines.push(Line::from(format!("   … and {} more", list.len() - shown)));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(" y: quit anyway · any other key: stay").bold());
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(" Quit? ")
                    .border_style(Style::new().yellow().bold()),
            )
            .render(r, buf);
    }
}

/// `s` cut to `w` columns, with `…` when cut.
fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let mut b = [0u8; 4];
        let cw = width(ch.encode_utf8(&mut b));
        if used + cw + 1 > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push('…');
    out
}

/// One state's column of ticket cards, flowing through its lanes.
pub struct ColumnView<'a, 'b> {
    pub view: &'a BoardView<'b>,
    pub column: Column,
    pub geom: ColumnGeom,
}

impl Widget for ColumnView<'_, '_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let b = self.view.board;
        let now = self.view.now_ms;
        let col = self.column;
        let focused = b.focus() == col && *b.mode() == Mode::Board;
        let n = b.column_len(col);
        let title_style = if focused {
            Style::new().bold().cyan()
        } else {
            Style::new().bold()
        };
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(if focused {
                Style::new().bold().cyan()
            } else {
                Style::new().dark_gray()
            })
            .title(Span::styled(
                format!(" {} ({n}) ", col.title()),
                title_style,
            ));
        let inner = block.inner(area);
        block.render(area, buf);
        if n == 0 || inner.height == 0 || inner.width == 0 {
            return;
        }
        let geom = ColumnGeom {
            area: inner,
            lanes: self.geom.lanes,
        };
        let lanes = usize::from(geom.lanes.max(1));
        let card_w = geom.card_width();
        let rows = n.div_ceil(lanes);
        // The last row is kept for "↓ N more" once there is more than one
        // row of cards.
        let avail = inner.height - u16::from(rows > 1 && inner.height > 3);
        // Each visible card's rows are built once: measured here, drawn
        // below.
        let mut cards: HashMap<usize, Vec<Line<'static>>> = HashMap::new();
        let row_h = |r: usize, cards: &mut HashMap<usize, Vec<Line<'static>>>| -> u16 {
            (r * lanes..((r + 1) * lanes).min(n))
                .map(|i| {
                    let lines = cards.entry(i).or_insert_with(|| {
                        card_lines(b, b.column_ticket(col, i).expect("in range"), card_w)
                    });
                    (2 + lines.len()).max(3) as u16
                })
                .max()
                .unwrap_or(3)
                .min(avail)
        };
        // Start at the first row such that the selected one still fits:
        // walk back from it (only rows on screen are measured).
        let sel = b.row(col).min(n - 1);
        let sel_row = sel / lanes;
        let mut first = sel_row;
        let mut used = row_h(sel_row, &mut cards);
        while first > 0 {
            let h = row_h(first - 1, &mut cards);
            if used + h > avail {
                break;
            }
            used += h;
            first -= 1;
        }
        let mut y = inner.y;
        let bottom = inner.y + avail;
        let mut r = first;
        while r < rows {
            let h = row_h(r, &mut cards);
            if y + h > bottom {
                break;
            }
            for (lane, i) in (r * lanes..((r + 1) * lanes).min(n)).enumerate() {
                let t = b.column_ticket(col, i).expect("in range");
                TicketCard {
                    board: b,
                    ticket: t,
                    now_ms: now,
                    selected: focused && i == sel,
                }
                .draw(
                    cards.remove(&i).unwrap_or_default(),
                    geom.slot(lane as u16, y, h),
                    buf,
                );
            }
            y += h;
            r += 1;
        }
        let shown_end = (r * lanes).min(n);
        let above = first * lanes;
        let below = n - shown_end;
        let (mut new_above, mut new_below) = (0, 0);
        for (c, i) in b.new_arrivals(now) {
            if c == col && i < above {
                new_above += 1;
            } else if c == col && i >= shown_end {
                new_below += 1;
            }
        }
        let more = |n: usize, new: usize, arrow: &str| -> Span<'static> {
            let text = if new > 0 {
                format!(" {arrow} {n} more ({new} new) ")
            } else {
                format!(" {arrow} {n} more ")
            };
            if new > 0 {
                Span::styled(text, NEW_MARK)
            } else {
                Span::raw(text).bold().reversed()
            }
        };
        if above > 0 {
            let s = more(above, new_above, "↑");
            let w = (s.width() as u16).min(area.width);
            s.render(Rect::new(area.right() - w, area.y, w, 1), buf);
        }
        if below > 0 {
            let s = more(below, new_below, "↓");
            let w = (s.width() as u16).min(area.width);
            s.render(Rect::new(area.right() - w, inner.bottom() - 1, w, 1), buf);
        }
    }
}

/// One ticket.
pub struct TicketCard<'a> {
    pub board: &'a Board,
    pub ticket: &'a Ticket,
    pub now_ms: u64,
    pub selected: bool,
}

impl Widget for TicketCard<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = card_lines(self.board, self.ticket, area.width);
        self.draw(lines, area, buf);
    }
}

impl TicketCard<'_> {
    /// Draws the card with its content rows already built.
    fn draw(self, mut lines: Vec<Line<'static>>, area: Rect, buf: &mut Buffer) {
        if area.width < 4 || area.height < 2 {
            return;
        }
        let b = self.board;
        let t = self.ticket;
        let o: &Order = &t.order;
        let age_ms = self.now_ms.saturating_sub(o.created_at);
        let age = b.age(t, self.now_ms);
        let color = age_color(age);
        let mut block = Block::bordered().border_style(Style::new().fg(color));
        if self.selected {
            block = block
                .border_set(border::THICK)
                .border_style(Style::new().fg(color).bold());
        } else if age == Age::Late {
            block = block.border_set(border::DOUBLE);
        }
        let inner = block.inner(area);
        block.render(area, buf);
        self.title(
            Rect::new(area.x + 1, area.y, area.width - 2, 1),
            age_ms,
            color,
            buf,
        );
        let h = usize::from(inner.height);
        if lines.len() > h && h > 0 {
            lines.truncate(h - 1);
            lines.push(Line::from(" … i: the whole ticket").reversed());
        }
        Paragraph::new(lines).render(inner, buf);
    }
}

impl TicketCard<'_> {
    /// The title row, fitted by priority: the ticket number and the timer
    /// always; then RUSH, the request mark and NEW; the customer's name
    /// gets what is left (cut with `…`).
    fn title(&self, area: Rect, age_ms: u64, color: Color, buf: &mut Buffer) {
        let t = self.ticket;
        let o = &t.order;
        let w = usize::from(area.width);
        let number = format!("#{}", o.ticket);
        let timer = format_age(age_ms);
        let mut left: Vec<Span<'static>> = Vec::new();
        let mut right: Vec<Span<'static>> = Vec::new();
        let mut used = width(&number) + 1 + width(&timer);
        let extra = |s: Span<'static>, used: &mut usize, to: &mut Vec<Span<'static>>| {
            if *used + s.width() <= w {
                *used += s.width();
                to.push(s);
            }
        };
        if t.rush() {
            extra(
                Span::raw(" RUSH ").white().on_magenta().bold(),
                &mut used,
                &mut left,
            );
        }
        if let Some(p) = &t.pending {
            let mark = match p.status {
                PendingStatus::Sent => Span::raw(" …").bold(),
                PendingStatus::Unconfirmed(_) => Span::styled(" ? ", UNCONFIRMED),
                PendingStatus::Failed(_) => Span::styled(" ✖", FAILED),
            };
            extra(mark, &mut used, &mut left);
        }
        if self.board.is_new(t, self.now_ms) {
            extra(Span::styled("NEW", NEW_MARK), &mut used, &mut right);
            extra(Span::raw(" "), &mut used, &mut right);
        }
        let name_w = w.saturating_sub(used + 1);
        let name = if name_w >= 2 {
            fit(&o.customer, name_w)
        } else {
            String::new()
        };
        let mut head = vec![Span::raw(number).bold()];
        if !name.is_empty() {
            head.push(Span::raw(format!(" {name}")));
        }
        let head_style = if self.selected {
            Style::new().reversed()
        } else {
            Style::new()
        };
        let mut spans: Vec<Span<'static>> = head
            .into_iter()
            .map(|s| s.patch_style(head_style))
            .collect();
        spans.extend(left);
        let lw: usize = spans.iter().map(|s| s.width()).sum();
        Line::from(spans).render(area, buf);
        let timer_span = match self.board.age(t, self.now_ms) {
            Age::Fresh => Span::raw(timer).fg(color),
            _ => Span::raw(timer).fg(color).bold(),
        };
        right.push(timer_span);
        let rw: usize = right.iter().map(|s| s.width()).sum();
        if lw + rw <= w {
            let x = area.right() - rw as u16;
            Line::from(right).render(Rect::new(x, area.y, rw as u16, 1), buf);
        }
    }
}

const HELP: &[(&str, &str)] = &[
    ("←↓↑→ / hjkl", "move between tickets and columns"),
    ("Enter / space", "bump: accept → start → ready → complete"),
    ("", "(station board: its own lines)"),
    ("x", "reject a new ticket (asks for a reason)"),
    ("u", "recall the last bump (one step back)"),
    ("c", "completed orders: recall one to Ready"),
    ("i", "the selected ticket in full"),
    ("r", "rush on/off (shared with every screen)"),
    ("d", "dismiss a failed or unconfirmed mark"),
    ("s", "cycle the station filter"),
    ("8", "86 panel: flip availability, see stock"),
    ("a", "all-day counts per item, stock-outs"),
    ("/", "search (Enter keeps, Esc clears)"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit (q asks if requests are unsettled)"),
];

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn help(area: Rect, buf: &mut Buffer) {
    let r = centered(area, 62, HELP.len() as u16 + 4);
    Clear.render(r, buf);
    let mut lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::raw(format!(" {k:<15}")).bold().cyan(),
                Span::raw(*v),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(" any key closes this help").dim());
    Paragraph::new(lines)
        .block(Block::bordered().title(" Keys ").border_set(border::DOUBLE))
        .render(r, buf);
}

fn reject_prompt(ticket: u64, reason: &str, area: Rect, buf: &mut Buffer) {
    let r = centered(area, 60, 5);
    Clear.render(r, buf);
    Paragraph::new(vec![
        Line::from(vec![
            Span::raw(" reason: "),
            Span::raw(format!("{reason}▏")).bold(),
        ]),
        Line::from(""),
        Line::from(" Enter: reject   Esc: keep the ticket").dim(),
    ])
    .block(
        Block::bordered()
            .title(format!(" Reject #{ticket} "))
            .border_style(Style::new().red().bold()),
    )
    .render(r, buf);
}

#[cfg(test)]
mod tests;

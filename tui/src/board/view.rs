//! Drawing the board. Rendering only borrows the [`Board`] (and the time,
//! for ages): it never changes state, so a frame can be drawn at any time
//! and tests can draw into a plain `Buffer`.
//!
//! Only the tickets that fit on screen are laid out: a column of 5,000
//! tickets costs what its visible cards cost.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::model::{Age, Board, Column, Conn, Mode, Ticket};

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

const ALLERGY: Style = Style::new()
    .fg(Color::White)
    .bg(Color::Red)
    .add_modifier(Modifier::BOLD);

fn mentions_allergy(note: &str) -> bool {
    let n = note.to_lowercase();
    [
        "allerg", "gluten", "nut", "coeliac", "celiac", "lactose", "vegan",
    ]
    .iter()
    .any(|w| n.contains(w))
}

impl Widget for &BoardView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let b = self.board;
        let [header, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(area);
        self.header(header, buf);
        let side = matches!(b.mode(), Mode::Panel86 { .. }) || b.show_all_day;
        let (cols_area, side_area) = if side {
            let [c, s] =
                Layout::horizontal([Constraint::Min(0), Constraint::Length(32)]).areas(body);
            (c, Some(s))
        } else {
            (body, None)
        };
        let cols: [Rect; 3] = Layout::horizontal([Constraint::Ratio(1, 3); 3]).areas(cols_area);
        for (c, r) in Column::ALL.into_iter().zip(cols) {
            ColumnView {
                view: self,
                column: c,
            }
            .render(r, buf);
        }
        if let Some(s) = side_area {
            if let Mode::Panel86 { cursor } = b.mode() {
                self.panel86(*cursor, s, buf);
            } else {
                self.all_day(s, buf);
            }
        }
        self.status(status, buf);
        match b.mode() {
            Mode::Help => help(area, buf),
            Mode::Reject { ticket, reason, .. } => reject_prompt(*ticket, reason, area, buf),
            _ => {}
        }
    }
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
        match b.message() {
            // A message has the rest of the line; else the key hint.
            Some(m) => {
                spans.push(Span::raw(" "));
                spans.push(Span::raw(m.to_string()).bold());
                Line::from(spans).render(area, buf);
            }
            None => {
                let keys = " ?:help  q:quit ";
                let [left, right] =
                    Layout::horizontal([Constraint::Min(0), Constraint::Length(keys.len() as u16)])
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
            let mark = if item.available { "    " } else { " 86 " };
            let mut line = Line::from(vec![
                if item.available {
                    Span::raw(mark)
                } else {
                    Span::raw(mark).white().on_red().bold()
                },
                Span::raw(format!(" {}", item.name)),
                Span::raw(if item.station.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", item.station)
                })
                .dim(),
            ]);
            if i == cursor {
                line = line.reversed();
            }
            let r = Rect::new(inner.x, inner.y + row as u16, inner.width, 1);
            line.render(r, buf);
        }
    }

    fn all_day(&self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .title(" All day ")
            .border_style(Style::new().cyan());
        let inner = block.inner(area);
        block.render(area, buf);
        for (row, (name, qty)) in self
            .board
            .all_day()
            .iter()
            .take(inner.height as usize)
            .enumerate()
        {
            let r = Rect::new(inner.x, inner.y + row as u16, inner.width, 1);
            Line::from(vec![
                Span::raw(format!("{qty:>4} ")).bold(),
                Span::raw(name.clone()),
            ])
            .render(r, buf);
        }
    }
}

/// One column of ticket cards.
pub struct ColumnView<'a, 'b> {
    pub view: &'a BoardView<'b>,
    pub column: Column,
}

impl Widget for ColumnView<'_, '_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let b = self.view.board;
        let focused = b.focus() == self.column && *b.mode() == Mode::Board;
        let n = b.column_len(self.column);
        let mut block = Block::new()
            .borders(Borders::TOP)
            .title(format!(" {} ({n}) ", self.column.title()));
        if focused {
            block = block.border_style(Style::new().bold().cyan());
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if n == 0 || inner.height == 0 {
            return;
        }
        let sel = b.row(self.column);
        // Start at the first card such that the selected one still fits:
        // walk back from the selection (only visible cards are measured).
        let mut first = sel;
        let mut used = card_height(b, b.column_ticket(self.column, sel).expect("row < len"));
        while first > 0 {
            let h = card_height(
                b,
                b.column_ticket(self.column, first - 1).expect("in range"),
            );
            if used + h > inner.height {
                break;
            }
            used += h;
            first -= 1;
        }
        let mut y = inner.y;
        let bottom = inner.y + inner.height;
        for i in first..n {
            if y >= bottom {
                break;
            }
            let t = b.column_ticket(self.column, i).expect("in range");
            let h = card_height(b, t).min(bottom - y);
            let r = Rect::new(inner.x, y, inner.width, h);
            TicketCard {
                board: b,
                ticket: t,
                now_ms: self.view.now_ms,
                selected: focused && i == sel,
            }
            .render(r, buf);
            y += h;
        }
    }
}

/// Rows a ticket's card takes.
pub fn card_height(b: &Board, t: &Ticket) -> u16 {
    let mut h = 2u16; // borders
    for l in &t.order.lines {
        if !b.shows_line(&l.station) {
            continue;
        }
        h += 1 + l.modifiers.len() as u16 + u16::from(!l.allergens.is_empty());
    }
    if !t.order.note.is_empty() {
        h += 1;
    }
    h.max(3)
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
        let o = &self.ticket.order;
        let age = self.now_ms.saturating_sub(o.created_at);
        let color = age_color(self.board.age(self.ticket, self.now_ms));
        let mut title = vec![
            Span::raw(format!("#{} ", o.ticket)).bold(),
            Span::raw(o.customer.clone()),
        ];
        if self.ticket.rush() {
            title.push(Span::raw(" RUSH ").white().on_magenta().bold());
        }
        if self.ticket.pending {
            title.push(Span::raw(" …").dim());
        }
        let mut right = vec![Span::raw(format_age(age)).fg(color).bold()];
        if o.state == protocol::messages::orders::OrderState::Accepted {
            right.insert(0, Span::raw("accepted ").dim());
        }
        let mut block = Block::bordered()
            .border_style(Style::new().fg(color))
            .title(Line::from(title))
            .title(Line::from(right).right_aligned());
        if self.selected {
            block = block
                .border_set(border::THICK)
                .border_style(Style::new().fg(color).bold())
                .title_style(Style::new().reversed());
        }
        let mut lines: Vec<Line<'_>> = Vec::new();
        for l in &o.lines {
            if !self.board.shows_line(&l.station) {
                continue;
            }
            lines.push(Line::from(vec![
                Span::raw(format!("{}× ", l.qty)).bold(),
                Span::raw(l.name.clone()),
            ]));
            for m in &l.modifiers {
                lines.push(Line::from(format!("   + {m}")).italic());
            }
            if !l.allergens.is_empty() {
                lines.push(Line::from(vec![
                    Span::raw("   "),
                    Span::styled(format!("⚠ {}", l.allergens), ALLERGY),
                ]));
            }
        }
        if !o.note.is_empty() {
            let style = if mentions_allergy(&o.note) {
                ALLERGY
            } else {
                Style::new().italic().yellow()
            };
            lines.push(Line::from(Span::styled(format!("note: {}", o.note), style)));
        }
        Paragraph::new(lines).block(block).render(area, buf);
    }
}

const HELP: &[(&str, &str)] = &[
    ("←↓↑→ / hjkl", "move between tickets and columns"),
    ("Enter / space", "bump: accept → start → ready → complete"),
    ("x", "reject a new ticket (asks for a reason)"),
    ("u", "recall the last bump"),
    ("r", "rush on/off (shared with every screen)"),
    ("s", "cycle the station filter"),
    ("8", "86 panel: flip an item's availability"),
    ("a", "all-day counts per item"),
    ("/", "search (Enter keeps, Esc clears)"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
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
    let r = centered(area, 60, HELP.len() as u16 + 4);
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

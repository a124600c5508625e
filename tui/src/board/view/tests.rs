//! Widgets drawn into a plain `Buffer`: content and the styles that carry
//! meaning (age colours, allergy note vs menu allergens, selection,
//! unsettled requests, new arrivals).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

use super::*;
use crate::board::model::tests::{T0, answer, board_with, event, line, order, simple};
use crate::board::model::{Incoming, Key, Step, StepError};
use protocol::messages::orders::OrderState;

fn text(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    for (y, row) in text(buf).iter().enumerate() {
        if let Some(i) = row.find(needle) {
            let x = row[..i].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle:?} not in\n{}", text(buf).join("\n"));
}

const LONG_NOTE: &str = "Table 4: SEVERE peanut allergy - cook in a clean pan, no peanut oil, no satay sauce anywhere near it. EpiPen at table";

fn card_board(note: &str) -> crate::board::Board {
    let mut l = line("margherita", "Margherita", 2, "oven");
    l.modifiers = vec!["Extra cheese".into()];
    l.allergens = "gluten; milk".into();
    let mut o = order(7, OrderState::Placed, 2, vec![l]);
    o.note = note.into();
    board_with(vec![o])
}

fn draw_card(b: &crate::board::Board, w: u16, now: u64, selected: bool) -> Buffer {
    let t = b.ticket("trattoria-7").unwrap();
    let h = card_height(b, t, w);
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    TicketCard {
        board: b,
        ticket: t,
        now_ms: now,
        selected,
    }
    .render(buf.area, &mut buf);
    buf
}

fn screen(b: &crate::board::Board, w: u16, h: u16, now: u64) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    (&BoardView::new(b, now)).render(buf.area, &mut buf);
    buf
}

#[test]
fn a_card_shows_ticket_customer_age_items_modifiers_and_allergens() {
    let b = card_board("nut allergy!");
    let born = b.ticket("trattoria-7").unwrap().order.created_at;
    let buf = draw_card(&b, 30, born + 65_000, false);
    let rows = text(&buf);
    assert_eq!(rows.len(), 2 + 5, "{rows:#?}");
    assert!(rows[0].starts_with("┌#7 guest7"), "{rows:?}");
    assert!(rows[0].ends_with("1:05┐"), "{rows:?}");
    assert!(rows[1].contains("2× Margherita"));
    assert!(rows[2].contains("  + Extra cheese"));
    assert!(rows[3].contains("contains gluten; milk"));
    assert!(rows[4].contains("‼ ALLERGY"));
    assert!(rows[5].contains("nut allergy!"));
    // The customer's allergy note alone is white on red; the menu's
    // allergens are quiet.
    let (x, y) = find(&buf, "nut allergy");
    assert_eq!((buf[(x, y)].fg, buf[(x, y)].bg), (Color::White, Color::Red));
    let (x, y) = find(&buf, "gluten");
    assert_eq!(buf[(x, y)].fg, Color::DarkGray);
    assert_ne!(buf[(x, y)].bg, Color::Red);
    // Fresh: green border.
    assert_eq!(buf[(0, 0)].fg, Color::Green);
}

#[test]
fn a_long_allergy_note_wraps_in_full() {
    let b = card_board(LONG_NOTE);
    let buf = draw_card(&b, 30, T0, false);
    let all = text(&buf)
        .iter()
        .map(|r| r.trim_matches(|c| c == '│' || c == ' ').to_string())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(all.contains("EpiPen at table"), "{all}");
    assert!(all.contains("SEVERE peanut allergy"), "{all}");
}

#[test]
fn an_ordinary_note_is_not_an_allergy() {
    let b = card_board("ring twice");
    let buf = draw_card(&b, 30, T0, false);
    let (x, y) = find(&buf, "ring twice");
    assert_ne!(buf[(x, y)].bg, Color::Red);
    assert!(!text(&buf).join("").contains("ALLERGY"));
}

#[test]
fn lateness_shows_in_the_timer_and_the_border() {
    let b = card_board("");
    let born = b.ticket("trattoria-7").unwrap().order.created_at;
    let warn = draw_card(&b, 30, born + 6 * 60_000, false);
    assert_eq!(warn[(0, 0)].fg, Color::Yellow);
    let late = draw_card(&b, 30, born + 11 * 60_000, false);
    assert_eq!(late[(0, 0)].fg, Color::Red);
    assert_eq!(late[(0, 0)].symbol(), "╔", "late: a double border");
    let (x, y) = find(&late, "11:00");
    assert_eq!(late[(x, y)].fg, Color::Red);
    assert_ne!(late[(x, y)].bg, Color::Red, "not the allergy style");
}

#[test]
fn the_selected_card_has_a_thick_border() {
    let b = card_board("");
    let buf = draw_card(&b, 30, T0, true);
    assert_eq!(buf[(0, 0)].symbol(), "┏");
    let buf = draw_card(&b, 30, T0, false);
    assert_eq!(buf[(0, 0)].symbol(), "┌");
}

#[test]
fn a_narrow_card_keeps_its_number_and_timer() {
    let mut b = card_board("");
    let mut o = b.ticket("trattoria-7").unwrap().order.clone();
    o.customer = "Maximilian Oberhuber-Schwarzenegger".into();
    o.rush = true;
    o.version += 1;
    b.incoming(Incoming::Events(vec![event(&o)]), T0);
    let buf = draw_card(&b, 20, o.created_at + 754_000, false);
    let top = &text(&buf)[0];
    assert!(top.starts_with("╔#7 "), "{top}");
    assert!(top.contains("RUSH"), "{top}");
    assert!(top.ends_with("12:34╗"), "{top}");
    assert!(top.contains('…'), "the name is cut, not the number: {top}");
}

#[test]
fn rush_is_flagged_on_the_card() {
    let mut b = card_board("");
    let mut o = b.ticket("trattoria-7").unwrap().order.clone();
    o.rush = true;
    o.version += 1;
    b.incoming(Incoming::Events(vec![event(&o)]), T0);
    let buf = draw_card(&b, 30, T0, false);
    let (x, y) = find(&buf, "RUSH");
    assert_eq!(buf[(x, y)].bg, Color::Magenta);
}

#[test]
fn unsettled_requests_show_on_the_card() {
    let mut b = card_board("");
    b.key(Key::Enter, T0);
    let buf = draw_card(&b, 30, T0, false);
    assert!(
        text(&buf)[0].starts_with("┌#7 guest7 …"),
        "{:?}",
        text(&buf)
    );
    b.incoming(
        answer(
            "trattoria-7",
            Step::Accept,
            2,
            Err(StepError::Unconfirmed("connection lost".into())),
        ),
        T0,
    );
    let buf = draw_card(&b, 30, T0, false);
    let all = text(&buf).join("\n");
    assert!(all.contains("? accept: no answer"), "{all}");
    let (x, y) = find(&buf, "? accept");
    assert_eq!(buf[(x, y)].bg, Color::Yellow);
}

#[test]
fn new_arrivals_are_marked_for_a_minute() {
    let mut b = board_with(vec![]);
    b.incoming(
        Incoming::Events(vec![event(&simple(7, OrderState::Placed, 2))]),
        T0,
    );
    let t = b.ticket("trattoria-7").unwrap();
    let mut buf = Buffer::empty(Rect::new(0, 0, 30, 3));
    TicketCard {
        board: &b,
        ticket: t,
        now_ms: T0 + 59_000,
        selected: false,
    }
    .render(buf.area, &mut buf);
    let (x, y) = find(&buf, "NEW");
    assert_eq!(buf[(x, y)].bg, Color::Cyan);
    TicketCard {
        board: &b,
        ticket: t,
        now_ms: T0 + 60_000,
        selected: false,
    }
    .render(buf.area, &mut buf);
    assert!(!text(&buf).join("").contains("NEW"));
}

#[test]
fn a_station_view_shows_only_that_stations_items() {
    let mut b = board_with(vec![order(
        1,
        OrderState::Placed,
        2,
        vec![
            line("m", "Margherita", 1, "oven"),
            line("t", "Tiramisu", 1, "cold"),
        ],
    )]);
    b.key(Key::Char('s'), T0); // cold
    let t = b.ticket("trattoria-1").unwrap();
    assert_eq!(card_height(&b, t, 30), 3);
    let mut buf = Buffer::empty(Rect::new(0, 0, 30, 3));
    TicketCard {
        board: &b,
        ticket: t,
        now_ms: T0,
        selected: false,
    }
    .render(buf.area, &mut buf);
    let rows = text(&buf).join("\n");
    assert!(
        rows.contains("Tiramisu") && !rows.contains("Margherita"),
        "{rows}"
    );
}

#[test]
fn a_long_column_keeps_the_selection_visible_and_counts_the_rest() {
    let orders = (1..=200)
        .map(|i| simple(i, OrderState::Placed, 2))
        .collect();
    let mut b = board_with(orders);
    b.set_viewport(120, 20);
    // One column with tickets at 120: 2 lanes of cards, 100 rows; five
    // rows of 3-line cards fit.
    for _ in 0..75 {
        b.key(Key::Down, T0);
    }
    let buf = screen(&b, 120, 20, T0);
    let all = text(&buf).join("\n");
    assert!(all.contains("┏#151 guest151"), "{all}");
    assert!(all.contains("New (200)"), "{all}");
    assert!(all.contains("↓ 48 more"), "{all}");
    assert!(all.contains("↑ 142 more"), "{all}");
}

#[test]
fn off_screen_arrivals_are_counted_as_new() {
    let orders = (1..=40).map(|i| simple(i, OrderState::Placed, 2)).collect();
    let mut b = board_with(orders);
    b.incoming(
        Incoming::Events(vec![event(&simple(41, OrderState::Placed, 2))]),
        T0,
    );
    let buf = screen(&b, 80, 24, T0 + 1000);
    let all = text(&buf).join("\n");
    assert!(all.contains("more (1 new)"), "{all}");
}

#[test]
fn a_small_terminal_says_so() {
    let b = board_with(vec![simple(1, OrderState::Placed, 2)]);
    let buf = screen(&b, 50, 10, T0);
    let all = text(&buf).join("\n");
    assert!(all.contains("terminal too small"), "{all}");
    assert!(all.contains("50×10"), "{all}");
    assert!(!all.contains("#1"), "{all}");
}

#[test]
fn the_detail_view_has_the_whole_note() {
    let mut b = card_board(LONG_NOTE);
    b.key(Key::Char('i'), T0);
    let buf = screen(&b, 80, 24, T0);
    let all = text(&buf)
        .iter()
        .map(|r| r.trim_matches(|c| c == '║' || c == ' ').to_string())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        all.contains(
            LONG_NOTE
                .split(". ")
                .next()
                .unwrap()
                .split(" - ")
                .next()
                .unwrap()
        )
    );
    assert!(all.contains("EpiPen at table"), "{all}");
    assert!(
        all.contains("station oven · contains gluten; milk"),
        "{all}"
    );
}

#[test]
fn words_wrap_and_long_words_are_cut() {
    assert_eq!(wrap("ring twice please", 10, 10), ["ring twice", "please"]);
    assert_eq!(wrap("abcdefghij", 4, 4), ["abcd", "efgh", "ij"]);
    assert_eq!(wrap("", 4, 4), [""]);
    assert_eq!(wrap("a b", 1, 1), ["a", "b"]);
    let note = LONG_NOTE;
    let rows = wrap(note, 18, 18);
    assert!(rows.iter().all(|r| width(r) <= 18));
    assert_eq!(rows.join(" "), note);
}

#[test]
fn ages_format() {
    assert_eq!(format_age(0), "0:00");
    assert_eq!(format_age(59_999), "0:59");
    assert_eq!(format_age(61_000), "1:01");
    assert_eq!(format_age(3_600_000 + 5 * 60_000), "1h05");
}

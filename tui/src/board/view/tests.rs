//! Widgets drawn into a plain `Buffer`: content and the styles that carry
//! meaning (age colours, allergy highlight, selection).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

use super::*;
use crate::board::model::tests::{T0, board_with, event, line, order};
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

fn card_board() -> crate::board::Board {
    let mut l = line("margherita", "Margherita", 2, "oven");
    l.modifiers = vec!["Extra cheese".into()];
    l.allergens = "gluten; milk".into();
    let mut o = order(7, OrderState::Placed, 2, vec![l]);
    o.note = "nut allergy!".into();
    board_with(vec![o])
}

fn draw_card(b: &crate::board::Board, now: u64, selected: bool) -> Buffer {
    let t = b.ticket("trattoria-7").unwrap();
    let h = card_height(b, t);
    assert_eq!(h, 2 + 3 + 1, "item, modifier, allergens, note");
    let mut buf = Buffer::empty(Rect::new(0, 0, 30, h));
    TicketCard {
        board: b,
        ticket: t,
        now_ms: now,
        selected,
    }
    .render(buf.area, &mut buf);
    buf
}

#[test]
fn a_card_shows_ticket_customer_age_items_modifiers_and_allergies() {
    let b = card_board();
    let born = b.ticket("trattoria-7").unwrap().order.created_at;
    let buf = draw_card(&b, born + 65_000, false);
    let rows = text(&buf);
    assert!(rows[0].starts_with("┌#7 guest7"), "{rows:?}");
    assert!(rows[0].contains("1:05┐"), "{rows:?}");
    assert!(rows[1].contains("2× Margherita"));
    assert!(rows[2].contains("+ Extra cheese"));
    assert!(rows[3].contains("⚠ gluten; milk"));
    assert!(rows[4].contains("note: nut allergy!"));
    // Allergies stand out: white on red, the note too (it mentions one).
    let (x, y) = find(&buf, "gluten");
    assert_eq!(buf[(x, y)].bg, Color::Red);
    let (x, y) = find(&buf, "nut allergy");
    assert_eq!(buf[(x, y)].bg, Color::Red);
    // Fresh: green border.
    assert_eq!(buf[(0, 0)].fg, Color::Green);
}

#[test]
fn age_colours_follow_the_thresholds() {
    let b = card_board();
    let born = b.ticket("trattoria-7").unwrap().order.created_at;
    let warn = draw_card(&b, born + 6 * 60_000, false);
    assert_eq!(warn[(0, 0)].fg, Color::Yellow);
    let late = draw_card(&b, born + 11 * 60_000, false);
    assert_eq!(late[(0, 0)].fg, Color::Red);
    assert!(text(&late)[0].contains("11:00"));
}

#[test]
fn the_selected_card_has_a_thick_border() {
    let b = card_board();
    let buf = draw_card(&b, T0, true);
    assert_eq!(buf[(0, 0)].symbol(), "┏");
    let buf = draw_card(&b, T0, false);
    assert_eq!(buf[(0, 0)].symbol(), "┌");
}

#[test]
fn rush_is_flagged_on_the_card() {
    let mut b = card_board();
    let mut o = b.ticket("trattoria-7").unwrap().order.clone();
    o.rush = true;
    o.version += 1;
    b.incoming(crate::board::model::Incoming::Events(vec![event(&o)]), T0);
    let buf = draw_card(&b, T0, false);
    let (x, y) = find(&buf, "RUSH");
    assert_eq!(buf[(x, y)].bg, Color::Magenta);
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
    b.key(crate::board::model::Key::Char('s'), T0); // cold
    let t = b.ticket("trattoria-1").unwrap();
    assert_eq!(card_height(&b, t), 3);
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
fn a_long_column_keeps_the_selection_visible() {
    let orders = (1..=200)
        .map(|i| crate::board::model::tests::simple(i, OrderState::Placed, 2))
        .collect();
    let mut b = board_with(orders);
    for _ in 0..150 {
        b.key(crate::board::model::Key::Down, T0);
    }
    let mut buf = Buffer::empty(Rect::new(0, 0, 90, 20));
    (&BoardView::new(&b, T0)).render(buf.area, &mut buf);
    let all = text(&buf).join("\n");
    assert!(all.contains("┏#151 guest151"), "{all}");
    assert!(all.contains("New (200)"));
}

#[test]
fn ages_format() {
    assert_eq!(format_age(0), "0:00");
    assert_eq!(format_age(59_999), "0:59");
    assert_eq!(format_age(61_000), "1:01");
    assert_eq!(format_age(3_600_000 + 5 * 60_000), "1h05");
}

//! Widgets against a plain `Buffer`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use super::*;
use crate::top::model::tests::{T0, dashboard, ready};
use crate::top::model::{Incoming, Key};

fn draw(top: &Top, now: u64, w: u16, h: u16) -> (Buffer, String) {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    (&TopView { top, now_ms: now }).render(buf.area, &mut buf);
    let text = (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    (buf, text)
}

fn row_of<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
}

#[test]
fn figures_are_formatted_for_people() {
    assert_eq!(format_uptime(42), "42s");
    assert_eq!(format_uptime(725), "12m05s");
    assert_eq!(format_uptime(3 * 3600 + 120), "3h02m");
    assert_eq!(format_uptime(2 * 86400 + 5 * 3600), "2d05h");
    assert_eq!(clock(T0), "22:13:20");
    assert_eq!(format_latency(0), "-");
    assert_eq!(format_latency(850), "850µs");
    assert_eq!(format_latency(4_210), "4.2ms");
    assert_eq!(format_latency(1_300_000), "1.3s");
}

#[test]
fn the_leader_row_has_a_star_and_the_selected_row_is_reversed() {
    let t = ready();
    let (buf, text) = draw(&t, T0, 120, 36);
    let n1 = row_of(&text, "│★ n1 ");
    assert!(n1.contains('★'), "{n1}");
    assert!(!row_of(&text, "│  n2 ").contains('★'));
    let y = text.lines().position(|l| l.contains("│★ n1 ")).unwrap() as u16;
    let x = row_of(&text, "│★ n1 ")
        .chars()
        .position(|c| c == '1')
        .unwrap() as u16;
    assert!(
        buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[test]
fn rates_latency_and_lease_countdown_show_per_node() {
    let mut t = ready();
    let mut d = dashboard(100, T0);
    d.nodes[1] = crate::top::model::tests::stats("n2", 160, 2, T0 + 2000);
    t.incoming(Incoming::Sample(d), T0 + 2000);
    let (_, text) = draw(&t, T0 + 4_000, 120, 36);
    let n2 = row_of(&text, "│  n2 ");
    assert!(n2.contains("30.0"), "req/s: {n2}");
    assert!(n2.contains("1.0"), "err/s: {n2}");
    assert!(n2.contains("3.1ms"), "p99: {n2}");
    assert!(n2.contains("3s"), "5 s lease read 2 s ago: {n2}");
    assert!(n2.contains("1h02m"), "uptime: {n2}");
    assert!(
        row_of(&text, "│★ n1 ").contains(" - "),
        "no rate yet for n1"
    );
}

#[test]
fn store_health_and_leader_changes_are_listed() {
    let t = ready();
    let (_, text) = draw(&t, T0, 120, 36);
    assert!(row_of(&text, "etcd-1").contains("healthy"));
    assert!(row_of(&text, "etcd-2").contains("UNHEALTHY: connection refused"));
    assert!(row_of(&text, "token 57").contains("n1"));
    assert!(row_of(&text, "token 12").contains("n2"));
    assert!(text.contains("leader n1 (token 57, for 10m00s)"), "{text}");
}

#[test]
fn orders_by_state_show_counts() {
    let t = ready();
    let (_, text) = draw(&t, T0, 120, 36);
    assert!(row_of(&text, "│placed ").contains("     4 │"));
    assert!(row_of(&text, "│preparing").contains("     2 │"));
    assert!(text.contains("completed 40"));
    assert!(text.contains("Orders placed / min: 6 · total 46"));
}

#[test]
fn disconnected_says_how_old_the_figures_are() {
    let mut t = ready();
    t.incoming(
        Incoming::Conn(Conn::Reconnecting {
            reason: "no answer".into(),
        }),
        T0,
    );
    let (_, text) = draw(&t, T0 + 7_000, 120, 36);
    assert!(
        text.contains("DISCONNECTED (no answer), figures from 7s ago"),
        "{text}"
    );
}

#[test]
fn the_prompt_asks_before_acting() {
    let mut t = ready();
    t.key(Key::Char('p'), T0);
    let (_, text) = draw(&t, T0, 120, 36);
    assert!(text.contains("Pause the cluster"), "{text}");
    assert!(text.contains("y: yes, do it"));
}

#[test]
fn a_tiny_terminal_does_not_panic() {
    let mut t = ready();
    t.key(Key::Char('?'), T0);
    for (w, h) in [(1, 1), (10, 3), (30, 8), (200, 60)] {
        draw(&t, T0, w, h);
    }
    t.key(Key::Esc, T0);
    t.key(Key::Char('s'), T0);
    draw(&t, T0, 12, 4);
}

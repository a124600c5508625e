//! Where things go on the board's screen, as pure functions of the
//! terminal size and how many tickets each column holds.
//!
//! Both sides use it: the view draws with it, and the model moves the
//! cursor with it (↑↓ move by a row of cards, ←→ along the row and then
//! to the next column), so what a key does always matches what is drawn.
//!
//! The body is one column per kitchen state (New, Accepted, Preparing,
//! Ready). An empty column shrinks to its title; the others share the
//! width in *lanes* of about [`CARD_WIDTH`] characters, more lanes going
//! to the columns with the most tickets per lane. Cards flow through a
//! column's lanes in rows, oldest first, left to right, as kitchen
//! displays do.

use ratatui::layout::Rect;

/// Below this the board shows "terminal too small" instead of cards
/// whose ticket numbers would be cut.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;
/// The 86 / all-day panel.
pub const SIDE_WIDTH: u16 = 34;
/// From this width on the side panel takes its own room; below, it is
/// drawn over the right of the columns (so they do not shrink to slivers).
pub const SIDE_OWN_ROOM_FROM: u16 = 140;
/// A card's width to aim at, borders included.
pub const CARD_WIDTH: u16 = 32;
/// The narrowest a column with tickets gets, when it can.
pub const MIN_CARD_WIDTH: u16 = 20;
/// An empty column: room for its title, e.g. `Preparing (0)`.
pub const EMPTY_WIDTH: u16 = 16;

pub const COLUMNS: usize = 4;

/// One column's place and how many cards sit side by side in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnGeom {
    pub area: Rect,
    pub lanes: u16,
}

impl ColumnGeom {
    /// The `lane`th card slot of a row at `y`, `height` high.
    pub fn slot(&self, lane: u16, y: u16, height: u16) -> Rect {
        let w = u32::from(self.area.width);
        let n = u32::from(self.lanes.max(1));
        let x0 = w * u32::from(lane) / n;
        let x1 = w * (u32::from(lane) + 1) / n;
        Rect::new(self.area.x + x0 as u16, y, (x1 - x0) as u16, height)
    }

    /// The width of the narrowest card slot.
    pub fn card_width(&self) -> u16 {
        self.area.width / self.lanes.max(1)
    }
}

/// The whole screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub header: Rect,
    pub status: Rect,
    /// The columns' area (the body, less the side panel's own room).
    pub body: Rect,
    /// The side panel, when open: its own room or over the columns.
    pub side: Option<Rect>,
    pub columns: [ColumnGeom; COLUMNS],
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Lays out a screen of `area` with `counts` tickets per column.
pub fn screen(area: Rect, side: bool, counts: [usize; COLUMNS]) -> Screen {
    let header = Rect::new(area.x, area.y, area.width, 1.min(area.height));
    let status = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(1),
        area.width,
        1.min(area.height),
    );
    let mut body = Rect::new(
        area.x,
        area.y + 1.min(area.height),
        area.width,
        area.height.saturating_sub(2),
    );
    let side = side.then(|| {
        let w = SIDE_WIDTH.min(body.width);
        let r = Rect::new(body.x + body.width - w, body.y, w, body.height);
        if area.width >= SIDE_OWN_ROOM_FROM {
            body.width -= w;
        }
        r
    });
    Screen {
        header,
        status,
        body,
        side,
        columns: columns(body, counts),
    }
}

/// Splits `body` into the state columns.
pub fn columns(body: Rect, counts: [usize; COLUMNS]) -> [ColumnGeom; COLUMNS] {
    let nonempty = counts.iter().filter(|n| **n > 0).count() as u16;
    let empty = COLUMNS as u16 - nonempty;
    let mut widths = [0u16; COLUMNS];
    let mut lanes = [1u16; COLUMNS];
    let narrow_ok = nonempty > 0 && body.width >= empty * EMPTY_WIDTH + nonempty * MIN_CARD_WIDTH;
    if !narrow_ok {
        // Nothing to show, or too narrow to favour anyone: equal shares.
        for (i, w) in widths.iter_mut().enumerate() {
            let i = i as u32;
            let bw = u32::from(body.width);
            *w = (bw * (i + 1) / COLUMNS as u32 - bw * i / COLUMNS as u32) as u16;
        }
    } else {
        let rest = body.width - empty * EMPTY_WIDTH;
        let total = (rest / CARD_WIDTH).max(nonempty);
        // One lane each, then the spare ones to whoever has the most
        // tickets per lane (never more lanes than tickets).
        let mut given = nonempty;
        while given < total {
            let best = (0..COLUMNS)
                .filter(|&c| counts[c] > usize::from(lanes[c]))
                .max_by_key(|&c| {
                    // tickets per lane, rounded up; ties to the left
                    let per = counts[c].div_ceil(usize::from(lanes[c]));
                    (per, std::cmp::Reverse(c))
                });
            match best {
                Some(c) => lanes[c] += 1,
                None => break,
            }
            given += 1;
        }
        let used: u32 = (0..COLUMNS)
            .filter(|&c| counts[c] > 0)
            .map(|c| u32::from(lanes[c]))
            .sum();
        let mut acc = 0u32;
        let mut x = 0u16;
        for c in 0..COLUMNS {
            if counts[c] == 0 {
                widths[c] = EMPTY_WIDTH;
            } else {
                let start = u32::from(rest) * acc / used;
                acc += u32::from(lanes[c]);
                let end = u32::from(rest) * acc / used;
                widths[c] = (end - start) as u16;
            }
            x += widths[c];
        }
        debug_assert_eq!(x, body.width);
    }
    let mut out = [ColumnGeom {
        area: Rect::default(),
        lanes: 1,
    }; COLUMNS];
    let mut x = body.x;
    for c in 0..COLUMNS {
        let area = Rect::new(x, body.y, widths[c], body.height);
        x += widths[c];
        let l = if counts[c] == 0 {
            1
        } else if narrow_ok {
            lanes[c]
        } else {
            (widths[c] / CARD_WIDTH).clamp(1, counts[c].min(u16::MAX as usize) as u16)
        };
        out[c] = ColumnGeom { area, lanes: l };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes(w: u16, counts: [usize; 4]) -> [u16; 4] {
        columns(Rect::new(0, 0, w, 40), counts).map(|c| c.lanes)
    }

    fn widths(w: u16, counts: [usize; 4]) -> [u16; 4] {
        columns(Rect::new(0, 0, w, 40), counts).map(|c| c.area.width)
    }

    #[test]
    fn columns_cover_the_body_exactly() {
        for w in [60, 80, 99, 100, 200, 320] {
            for counts in [[0, 0, 0, 0], [1, 0, 0, 0], [5, 2, 9, 1], [58, 10, 30, 5]] {
                let cs = columns(Rect::new(3, 1, w, 20), counts);
                assert_eq!(cs[0].area.x, 3);
                for pair in cs.windows(2) {
                    assert_eq!(pair[0].area.right(), pair[1].area.x, "{w} {counts:?}");
                }
                assert_eq!(cs[3].area.right(), 3 + w, "{w} {counts:?}");
            }
        }
    }

    #[test]
    fn empty_columns_shrink_and_busy_ones_get_lanes() {
        assert_eq!(widths(80, [3, 0, 0, 1]), [24, 16, 16, 24]);
        assert_eq!(lanes(80, [3, 0, 0, 1]), [1, 1, 1, 1]);
        // 200 wide: 6 lanes; New has the most tickets per lane.
        assert_eq!(lanes(200, [58, 10, 30, 5]), [2, 1, 2, 1]);
        assert_eq!(lanes(320, [58, 10, 30, 5]), [5, 1, 3, 1]);
        // Never more lanes than tickets.
        assert_eq!(lanes(320, [1, 1, 1, 1]), [1, 1, 1, 1]);
        assert_eq!(lanes(320, [0, 0, 0, 0]), [1, 1, 1, 1]);
    }

    #[test]
    fn at_80_columns_every_card_keeps_its_number() {
        let cs = columns(Rect::new(0, 0, 80, 22), [9, 9, 9, 9]);
        assert!(cs.iter().all(|c| c.card_width() >= MIN_CARD_WIDTH));
    }

    #[test]
    fn slots_tile_a_column() {
        let c = ColumnGeom {
            area: Rect::new(10, 2, 65, 20),
            lanes: 2,
        };
        assert_eq!(c.slot(0, 3, 5), Rect::new(10, 3, 32, 5));
        assert_eq!(c.slot(1, 3, 5), Rect::new(42, 3, 33, 5));
    }

    #[test]
    fn the_side_panel_takes_room_only_on_wide_screens() {
        let s = screen(Rect::new(0, 0, 100, 30), true, [1, 1, 1, 1]);
        assert_eq!(s.body.width, 100);
        assert_eq!(s.side, Some(Rect::new(66, 1, 34, 28)));
        let s = screen(Rect::new(0, 0, 200, 50), true, [1, 1, 1, 1]);
        assert_eq!(s.body.width, 166);
        assert!(too_small(Rect::new(0, 0, 59, 24)));
        assert!(!too_small(Rect::new(0, 0, 80, 24)));
    }
}

//! Painting a frame in fewer bytes when part of the screen has scrolled (a following log view).
//!
//! ratatui repaints every cell that differs from the last frame, so a log view that moves up by
//! k lines repaints every row of it. When a band of whole rows of the new frame is exactly the
//! last frame's band moved up by k rows, the terminal can move them itself: reset the colours
//! (scrolled-in rows take the current background), set a scroll region over the band
//! (`CSI top;bottom r`), scroll it up (`CSI k S`) and reset the region (`CSI r`). Then only the
//! cells that differ from the last frame *so moved* are painted: the k new rows and whatever
//! else changed. Both ways are encoded and the shorter is written, so it is used only where it
//! pays, and only against a last frame known to be on the screen (none after a resize, a clear
//! or a suspend).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};

use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::{Buffer, Cell};

/// The fewest rows a scroll must save to be tried at all.
const MIN_ROWS_SAVED: u16 = 2;

/// A band of the screen moved up: rows `top..bottom` (0-based, end exclusive) scroll up by `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    pub top: u16,
    pub bottom: u16,
    pub by: u16,
}

impl Scroll {
    /// The band of whole rows that moved up by the same amount between `last` and `next`, saving
    /// the most repaints of changed rows, if any saves at least [`MIN_ROWS_SAVED`] (so a screen
    /// whose blank rows merely match each other is not encoded twice). Buffers of different
    /// areas have none.
    pub fn find(last: &Buffer, next: &Buffer) -> Option<Scroll> {
        if last.area != next.area || last.area.width == 0 {
            return None;
        }
        let (width, height) = (usize::from(next.area.width), next.area.height);
        let row = |y: u16| -> std::ops::Range<usize> {
            let start = usize::from(y) * width;
            start..start + width
        };
        let hashes = |buffer: &Buffer| -> Vec<u64> {
            (0..height)
                .map(|y| {
                    let mut hasher = DefaultHasher::new();
                    buffer.content[row(y)].hash(&mut hasher);
                    hasher.finish()
                })
                .collect()
        };
        let (old, new) = (hashes(last), hashes(next));
        let same = |y: u16, by: u16| {
            old[usize::from(y + by)] == new[usize::from(y)]
                && last.content[row(y + by)] == next.content[row(y)]
        };
        let mut best: Option<(u16, Scroll)> = None;
        for by in 1..height {
            let mut y = 0;
            while y + by < height {
                if !same(y, by) {
                    y += 1;
                    continue;
                }
                let top = y;
                // Rows the scroll spares a repaint: those that changed where they stand (a
                // blank or unchanged band "moves" too, and saves nothing).
                let mut saved = 0;
                while y + by < height && same(y, by) {
                    saved += u16::from(old[usize::from(y)] != new[usize::from(y)]);
                    y += 1;
                }
                if saved >= MIN_ROWS_SAVED && best.is_none_or(|(most, _)| saved > most) {
                    best = Some((
                        saved,
                        Scroll {
                            top,
                            bottom: y + by,
                            by,
                        },
                    ));
                }
            }
        }
        best.map(|(_, scroll)| scroll)
    }

    /// `last` as the terminal shows it after the scroll: the band moved up, blank rows below.
    pub fn apply(&self, last: &Buffer) -> Buffer {
        let mut moved = last.clone();
        let width = usize::from(last.area.width);
        for y in self.top..self.bottom {
            let to = usize::from(y) * width;
            if y + self.by < self.bottom {
                let from = usize::from(y + self.by) * width;
                moved.content[to..to + width].clone_from_slice(&last.content[from..from + width]);
            } else {
                moved.content[to..to + width].fill(Cell::default());
            }
        }
        moved
    }

    /// The bytes that make the terminal do it. The cursor is left at the top left.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "\x1b[0m\x1b[{};{}r\x1b[{}S\x1b[r",
            self.top + 1,
            self.bottom,
            self.by
        )
    }
}

/// The bytes ratatui's crossterm backend writes to paint `updates`.
fn encode<'a>(updates: impl Iterator<Item = (u16, u16, &'a Cell)>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    CrosstermBackend::new(&mut bytes).draw(updates)?;
    Ok(bytes)
}

/// Draw a frame as [`Terminal::draw`] does, but paint it by scrolling where that takes fewer
/// bytes. `last` is the frame on the screen, kept here between calls; `None` when not known
/// (start, after a resize, a clear or a suspend).
///
/// The cursor stays hidden: the console never places one (ratatui keeps a frame's cursor
/// position to itself, so a view that placed one would need this to change).
pub fn draw<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    last: &mut Option<Buffer>,
    render: impl FnOnce(&mut Frame),
) -> io::Result<()> {
    terminal.autoresize()?;
    let mut frame = terminal.get_frame();
    render(&mut frame);
    let next = terminal.current_buffer_mut().clone();
    let known = last.take().filter(|last| last.area == next.area);
    let scroll = known
        .as_ref()
        .and_then(|last| Some((last, Scroll::find(last, &next)?)));
    match scroll {
        Some((last, scroll)) => {
            let plain = encode(last.diff(&next).into_iter())?;
            let mut scrolled = Vec::new();
            scroll.write(&mut scrolled)?;
            scrolled.extend(encode(scroll.apply(last).diff(&next).into_iter())?);
            tracing::trace!(
                ?scroll,
                plain = plain.len(),
                scrolled = scrolled.len(),
                "scroll or repaint"
            );
            let shorter = if scrolled.len() < plain.len() {
                scrolled
            } else {
                plain
            };
            terminal.backend_mut().write_all(&shorter)?;
        }
        None => {
            tracing::trace!(known = known.is_some(), "no band scrolled");
            terminal.flush()?
        }
    }
    terminal.hide_cursor()?;
    terminal.swap_buffers();
    Backend::flush(terminal.backend_mut())?;
    *last = Some(next);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    fn screen(lines: &[&str]) -> Buffer {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 10, 8));
        for (y, line) in lines.iter().enumerate() {
            buffer.set_string(0, y as u16, line, ratatui::style::Style::default());
        }
        buffer
    }

    #[test]
    fn a_band_that_moved_is_found_but_blank_rows_that_match_are_not_a_scroll() {
        let last = screen(&["head", "a", "b", "c", "d", "e"]);
        let next = screen(&["head", "c", "d", "e", "f", "g"]);
        assert_eq!(
            Scroll::find(&last, &next),
            Some(Scroll {
                top: 1,
                bottom: 6,
                by: 2
            })
        );
        // Only the clock changed; the blank rows below "match" shifted by one, but scrolling
        // them would spare no repaint.
        let last = screen(&["12:00:01", "apps"]);
        let next = screen(&["12:00:02", "apps"]);
        assert_eq!(Scroll::find(&last, &next), None);
    }
}

//! A following Logs view painted by scrolling (`tui::scroll`) leaves the terminal's screen
//! exactly as ratatui's plain repaint does, in fewer bytes. Both byte streams go to a vt100
//! terminal, frame after frame, as lines arrive.
//!
//! The byte figures in docs/performance.md: `cargo test --test console_logs_scroll -- --nocapture`.
#![allow(clippy::unwrap_used)]

mod common;

use std::cell::RefCell;
use std::io::{self, Write};
use std::num::NonZero;
use std::rc::Rc;

use chrono::FixedOffset;
use common::keys::{press, type_text};
use common::{fixtures, log_fixtures};
use fixtures::*;
use log_fixtures::*;
use opsdeck::app::logs::LogsConfig;
use opsdeck::app::{KeyInput, State};
use opsdeck::tui::scroll;
use opsdeck::ui::render;
use opsdeck::ui::theme::Theme;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// Bytes written, shared with the test.
#[derive(Clone, Default)]
struct Bytes(Rc<RefCell<Vec<u8>>>);

impl Bytes {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

impl Write for Bytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A terminal `width`x`height` whose bytes go to a vt100 screen.
struct Glass {
    terminal: Terminal<CrosstermBackend<Bytes>>,
    bytes: Bytes,
    vt: vt100::Parser,
    last: Option<Buffer>,
    written: Vec<usize>,
}

impl Glass {
    fn new(width: u16, height: u16) -> Glass {
        let bytes = Bytes::default();
        let terminal = Terminal::with_options(
            CrosstermBackend::new(bytes.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
            },
        )
        .unwrap();
        Glass {
            terminal,
            bytes,
            vt: vt100::Parser::new(
                NonZero::new(height).unwrap(),
                NonZero::new(width).unwrap(),
                0,
            ),
            last: None,
            written: Vec::new(),
        }
    }

    /// Draw `state` by ratatui's plain repaint, or by scrolling where it pays.
    fn draw(&mut self, state: &State, scrolling: bool) {
        let theme = Theme::default();
        if scrolling {
            scroll::draw(&mut self.terminal, &mut self.last, |f| {
                render(state, &theme, f)
            })
            .unwrap();
        } else {
            self.terminal.draw(|f| render(state, &theme, f)).unwrap();
        }
        let frame = self.bytes.take();
        self.written.push(frame.len());
        self.vt.process(&frame);
    }

    /// Bytes per frame, the first (the whole screen) left out.
    fn per_frame(&self) -> usize {
        let rest = &self.written[1..];
        rest.iter().sum::<usize>() / rest.len()
    }
}

/// What the screen shows, cell by cell: the character and the colours and attributes that
/// can be seen. A blank shows only its background, inverse and underline, and a cell the
/// terminal erased shows as a blank written in the default colours.
fn visible(screen: &vt100::Screen) -> Vec<String> {
    let (rows, cols) = screen.size();
    let mut cells = Vec::new();
    for row in 0..rows.get() {
        for col in 0..cols.get() {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            let text = cell.contents();
            let text = if text.is_empty() { " " } else { text };
            let cell = if text.trim().is_empty() {
                format!(
                    "{row},{col} {text:?} bg {:?} inverse {} underline {}",
                    cell.bgcolor(),
                    cell.inverse(),
                    cell.underline()
                )
            } else {
                format!(
                    "{row},{col} {text:?} fg {:?} bg {:?} bold {} italic {} inverse {} underline {} dim {}",
                    cell.fgcolor(),
                    cell.bgcolor(),
                    cell.bold(),
                    cell.italic(),
                    cell.inverse(),
                    cell.underline(),
                    cell.dim()
                )
            };
            cells.push(cell);
        }
    }
    cells
}

/// All apps following, 40 mixed lines (CJK, stack traces, fields) in.
fn following() -> State {
    let mut state = loaded_state(false).with_logs(LogsConfig {
        capacity: 1000,
        local_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
    });
    feed(&mut state, mixed_lines(1, 40));
    press(&mut state, KeyInput::char('L'));
    state
}

/// Lines arrive `per_frame[i]` at a time, a frame drawn after each; both ways of painting
/// leave the same screen after every frame. Returns the plain and the scrolling glass.
fn follow(mut state: State, width: u16, height: u16, per_frame: &[u64]) -> (Glass, Glass) {
    let mut plain = Glass::new(width, height);
    let mut scrolling = Glass::new(width, height);
    let mut seq = 41;
    for (frame, &n) in std::iter::once(&0).chain(per_frame).enumerate() {
        feed(&mut state, mixed_lines(seq, n));
        seq += n;
        plain.draw(&state, false);
        scrolling.draw(&state, true);
        assert_eq!(
            visible(scrolling.vt.screen()),
            visible(plain.vt.screen()),
            "frame {frame} ({n} new lines) at {width}x{height}:\n{}",
            scrolling.vt.screen().contents()
        );
    }
    (plain, scrolling)
}

/// Lines per frame: one, a few, none, a burst taller than the view, the firehose's ~15.
const ARRIVALS: &[u64] = &[1, 3, 0, 7, 2, 60, 15, 15, 1, 15, 15, 4, 15, 15, 15];

#[test]
fn a_following_view_painted_by_scrolling_shows_what_the_plain_repaint_shows() {
    for (width, height) in [(160, 40), (80, 24), (120, 50)] {
        let (plain, scrolling) = follow(following(), width, height, ARRIVALS);
        assert!(
            scrolling.per_frame() < plain.per_frame(),
            "scrolling saves bytes at {width}x{height}: {} vs {} per frame",
            scrolling.per_frame(),
            plain.per_frame()
        );
    }
}

#[test]
fn wrapped_lines_with_local_time_and_pretty_fields_too() {
    let mut state = following();
    type_text(&mut state, "wJt");
    follow(state, 80, 24, ARRIVALS);
}

#[test]
fn bytes_per_frame_at_the_firehose_rate() {
    // `demo --speed 10`: ~124 lines/s at ~8 frames/s over a slow link: ~15 lines a frame.
    for (width, height) in [(160, 40), (80, 24)] {
        let (plain, scrolling) = follow(following(), width, height, &[3; 30]);
        println!(
            "{width}x{height}, 3 lines a frame: plain {} B/frame, scrolling {} B/frame",
            plain.per_frame(),
            scrolling.per_frame()
        );
        assert!(scrolling.per_frame() < plain.per_frame());
        let (plain, scrolling) = follow(following(), width, height, &[15; 30]);
        println!(
            "{width}x{height}, 15 lines a frame: plain {} B/frame, scrolling {} B/frame",
            plain.per_frame(),
            scrolling.per_frame()
        );
        assert!(scrolling.per_frame() <= plain.per_frame());
        if height == 40 {
            // 15 new of ~35 rows of log: the other ~20 are moved by the terminal.
            assert!(scrolling.per_frame() * 4 < plain.per_frame() * 3);
        }
    }
}

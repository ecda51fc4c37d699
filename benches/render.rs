//! Render benchmark (TARGETS P1, P2): frame cost and bytes written to the terminal per frame.
//!
//! `cargo bench --bench render`
//!
//! The console's pure core is fed by the simulator (seed 42) through the offline driver; every
//! frame one platform second of events arrives, then the screen is drawn at 200x50:
//! - into ratatui's `TestBackend`, timing `Terminal::draw` (p50/p99 over 2,000 frames);
//! - into a `CrosstermBackend` over a byte counter, to measure what would reach the terminal
//!   (ratatui only writes cells that changed).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use opsdeck::cli::offline::Offline;
use opsdeck::ui::render;
use opsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};

/// Counts bytes written; the count is shared so it can be read while the backend owns the writer.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let start = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let theme = Theme::default();
    let (w, h) = (200, 50);

    // Frame cost.
    let mut console = Offline::new(42, Some("bad-release"), start).unwrap();
    console.advance(300);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut times = Vec::new();
    for _ in 0..2000 {
        console.advance(1);
        let t = Instant::now();
        terminal
            .draw(|f| render(&console.state, &theme, f))
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "overview {w}x{h}, one platform second of events per frame: draw p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );

    // Bytes to the terminal.
    let mut console = Offline::new(42, None, start).unwrap();
    console.advance(300);
    let counter = Counter::default();
    let mut terminal = Terminal::new(CrosstermBackend::new(counter.clone())).unwrap();
    terminal
        .resize(ratatui::layout::Rect::new(0, 0, w, h))
        .unwrap();
    terminal
        .draw(|f| render(&console.state, &theme, f))
        .unwrap();
    let first = counter.bytes();
    let frames = 600;
    for _ in 0..frames {
        console.advance(1);
        terminal
            .draw(|f| render(&console.state, &theme, f))
            .unwrap();
    }
    let per_frame = (counter.bytes() - first) as f64 / f64::from(frames);
    let before_idle = counter.bytes();
    for _ in 0..100 {
        terminal
            .draw(|f| render(&console.state, &theme, f))
            .unwrap();
    }
    let idle = (counter.bytes() - before_idle) as f64 / 100.0;
    println!("first full frame: {first} bytes");
    println!(
        "overview at 1 Hz metrics: {per_frame:.0} bytes/frame = {per_frame:.0} B/s (one frame per second)"
    );
    println!("redraw with nothing changed: {idle:.0} bytes/frame");
}

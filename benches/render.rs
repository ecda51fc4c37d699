//! Render benchmark (TARGETS P1, P2): frame cost and bytes written to the terminal per frame.
//!
//! `cargo bench --bench render`
//!
//! The console's pure core is fed by the simulator (seed 42) through the offline driver (the
//! gateway in-process: its actions layer answers, its hub sequences and encodes); every frame
//! one platform second of events arrives, then the screen is drawn at 200x50:
//! - into ratatui's `TestBackend`, timing `Terminal::draw` (p50/p99 over 2,000 frames);
//! - into a `CrosstermBackend` over a byte counter, to measure what would reach the terminal
//!   (ratatui only writes cells that changed).
//!
//! Then per view at 200x60 with full data (the bad-release scenario after 300 platform
//! seconds, 100,000 log lines held), each opened by its key as an operator would: frame cost
//! p50/p99 over 500 frames, one platform second of events before each frame. And the log
//! firehose: the Logs view following while 10,000 lines/s arrive, fed through `update` between
//! frames at 60 fps (167 lines a frame), with bytes per frame and per second to the terminal.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use opsdeck::app::{Action, KeyCode, KeyInput};
use opsdeck::cli::offline::Offline;
use opsdeck::protocol::{Body, Level, LogLine};
use opsdeck::tui::pacing::next_frame_gap;
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

/// Log lines held for the per-view frames, the console's default buffer.
const HELD_LINES: u64 = 100_000;
/// The firehose: lines per second, and frames per second they are drawn at.
const LINES_PER_SEC: u64 = 10_000;

/// The `n`-th synthetic log line of `apps`: mostly access lines with fields, some warnings and
/// Chinese text, an error with a stack trace now and then (as in benches/logs.rs).
fn log_line(apps: &[String], n: u64, ts: DateTime<Utc>) -> (String, DateTime<Utc>, Body) {
    let app = apps[(n % apps.len() as u64) as usize].clone();
    let mut fields = BTreeMap::new();
    let (level, message) = match n % 100 {
        0 => (
            Level::Error,
            format!(
                "支付回调处理失败: upstream timeout after 3000ms order={n}\n    at PayCallback.handle (pay/callback.js:88:13)"
            ),
        ),
        1..=4 => (
            Level::Warn,
            format!("慢查询 slow query on orders: {}ms", 800 + n % 400),
        ),
        _ => {
            fields.insert("status".to_string(), "200".to_string());
            fields.insert("latency_ms".to_string(), (n % 97).to_string());
            (
                Level::Info,
                format!("GET /api/cart/{} 200 用户下单成功", 1000 + n % 9000),
            )
        }
    };
    let pod = format!("{app}-7f9c4-x{:04}", n % 7);
    let body = Body::Logs(LogLine {
        pod,
        level,
        message,
        fields,
    });
    (app, ts, body)
}

/// `count` log lines starting at line `first`, published through the gateway in chunks as its
/// ingest batches them; returns the stream frames for the console.
fn publish_logs(console: &mut Offline, first: u64, count: u64) -> Vec<Action> {
    let apps: Vec<String> = console.state.core.apps.keys().cloned().collect();
    let now = console.now();
    let mut frames = Vec::new();
    let mut n = first;
    while n < first + count {
        let end = (n + 256).min(first + count);
        let lines: Vec<_> = (n..end).map(|i| log_line(&apps, i, now)).collect();
        frames.extend(console.sequence(lines));
        n = end;
    }
    frames
}

/// Stream `count` log lines starting at line `first` to the console.
fn stream_logs(console: &mut Offline, first: u64, count: u64) {
    for frame in publish_logs(console, first, count) {
        console.apply(frame);
    }
}

/// A console with full data: the bad-release scenario run 300 platform seconds and
/// 100,000 log lines held.
fn loaded_console(start: DateTime<Utc>) -> Offline {
    let mut console = Offline::new(42, Some("bad-release"), start).unwrap();
    console.advance(300);
    stream_logs(&mut console, 0, HELD_LINES);
    console
}

fn frame_cost_per_view(start: DateTime<Utc>, theme: &Theme) {
    let (w, h) = (200, 60);
    let views: [(&str, &[KeyInput]); 8] = [
        ("overview", &[]),
        ("app view (Enter)", &[KeyInput::plain(KeyCode::Enter)]),
        ("logs, all apps (L)", &[KeyInput::char('L')]),
        ("alerts (a)", &[KeyInput::char('a')]),
        ("events (E)", &[KeyInput::char('E')]),
        ("releases (r)", &[KeyInput::char('r')]),
        ("runbooks (B)", &[KeyInput::char('B')]),
        (
            "runbook form (B ⏎)",
            &[KeyInput::char('B'), KeyInput::plain(KeyCode::Enter)],
        ),
    ];
    for (name, keys) in views {
        let mut console = loaded_console(start);
        for key in keys {
            console.press(*key);
        }
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut times = Vec::new();
        for _ in 0..500 {
            console.advance(1);
            let t = Instant::now();
            terminal.draw(|f| render(&console.state, theme, f)).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<20} {w}x{h} (view {:?}), {} log lines held: draw p50 {:>5.0} µs, p99 {:>5.0} µs, max {:>5.0} µs",
            console.state.view,
            console.state.logs.buffer.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
}

fn log_firehose(start: DateTime<Utc>, theme: &Theme) {
    let (w, h) = (200, 60);
    let mut console = loaded_console(start);
    console.press(KeyInput::char('L'));
    let counter = Counter::default();
    let mut terminal = Terminal::new(CrosstermBackend::new(counter.clone())).unwrap();
    terminal
        .resize(ratatui::layout::Rect::new(0, 0, w, h))
        .unwrap();
    terminal.draw(|f| render(&console.state, theme, f)).unwrap();
    // Ten seconds of stream time, paced the way the console paces itself: each frame's gap
    // follows from its draw cost and the bytes it wrote (`tui::pacing`), and the lines that
    // arrive meanwhile go into the next frame.
    let before = counter.bytes();
    let mut next_line = HELD_LINES;
    let mut times = Vec::new();
    let mut update_times = Vec::new();
    let mut clock = Duration::ZERO;
    let mut last_second = 0;
    let mut gap = next_frame_gap(Duration::ZERO, 0);
    let mut frames = 0u64;
    let mut per_frame_lines = 0;
    while clock < Duration::from_secs(10) {
        clock += gap;
        // Once a second the platform's own events (metrics, alerts) arrive too.
        if clock.as_secs() != last_second {
            last_second = clock.as_secs();
            console.advance(1);
        }
        let lines = (LINES_PER_SEC as f64 * gap.as_secs_f64()).round() as u64;
        per_frame_lines = lines;
        // The gateway's sequencing and encoding are not the console's cost: only `update` is
        // timed.
        let arriving = publish_logs(&mut console, next_line, lines);
        let t = Instant::now();
        for frame in arriving {
            console.apply(frame);
        }
        update_times.push(t.elapsed().as_secs_f64() * 1e6);
        next_line += lines;
        let written = counter.bytes();
        let t = Instant::now();
        terminal.draw(|f| render(&console.state, theme, f)).unwrap();
        let cost = t.elapsed();
        times.push(cost.as_secs_f64() * 1e6);
        gap = next_frame_gap(cost, (counter.bytes() - written) as u64);
        frames += 1;
    }
    assert!(
        console.state.logs.paused.is_none(),
        "the Logs view should be following"
    );
    let total = (counter.bytes() - before) as f64;
    times.sort_by(f64::total_cmp);
    update_times.sort_by(f64::total_cmp);
    println!(
        "logs following, {LINES_PER_SEC} lines/s, paced by tui::pacing, {w}x{h}: {:.1} frames/s, \
         {:.0} bytes/frame = {:.0} B/s to the terminal",
        frames as f64 / clock.as_secs_f64(),
        total / frames as f64,
        total / clock.as_secs_f64()
    );
    println!(
        "  draw (CrosstermBackend, counted bytes) p50 {:.0} µs, p99 {:.0} µs; \
         update with {per_frame_lines} lines p50 {:.0} µs, p99 {:.0} µs",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&update_times, 0.5),
        percentile(&update_times, 0.99),
    );
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

    frame_cost_per_view(start, &theme);
    log_firehose(start, &theme);
}

//! The real binary in a pseudo-terminal (TARGETS P9 start-up, P2 bytes to the terminal).
//!
//! `cargo bench --bench terminal`
//!
//! - start-up: `opsdeck` (embedded simulator) spawned in a 120x32 pty, time until the first
//!   frame shows the header, over 10 runs (min / median / max);
//! - bytes: after the overview is live, bytes the console writes to the pty per second over
//!   10 s (metrics at 1 Hz).
//!
//! The bench answers the console's question after each frame, as a terminal does (issue #24).
#![allow(clippy::unwrap_used)]

#[path = "common/answers.rs"]
mod answers;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Run {
    first_frame: Duration,
    bytes_per_sec: f64,
}

fn run(measure_bytes: bool) -> Run {
    let (rows, cols) = (32, 120);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let state = std::env::temp_dir().join(format!("opsdeck-bench-{}", std::process::id()));
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("XDG_STATE_HOME", &state);
    let started = Instant::now();
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        NonZeroU16::new(rows).unwrap(),
        NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let bytes = Arc::new(AtomicUsize::new(0));
    let (feed, count, answer) = (parser.clone(), bytes.clone(), writer.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        let mut questions = answers::Matcher::new(answers::QUESTION);
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            count.fetch_add(n, Ordering::Relaxed);
            feed.lock().unwrap().process(&buf[..n]);
            for _ in 0..questions.count(&buf[..n]) {
                let _ = answer.lock().unwrap().write_all(answers::ANSWER);
            }
        }
    });
    let first_frame = loop {
        if parser
            .lock()
            .unwrap()
            .screen()
            .contents()
            .contains("opsdeck")
        {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no frame");
        std::thread::sleep(Duration::from_micros(500));
    };
    let mut bytes_per_sec = f64::NAN;
    if measure_bytes {
        while !parser.lock().unwrap().screen().contents().contains("live") {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(3));
        let before = bytes.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(10));
        bytes_per_sec = (bytes.load(Ordering::Relaxed) - before) as f64 / 10.0;
    }
    writer.lock().unwrap().write_all(b"q").unwrap();
    writer.lock().unwrap().flush().unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&state);
    Run {
        first_frame,
        bytes_per_sec,
    }
}

fn main() {
    let mut firsts: Vec<f64> = (0..10)
        .map(|_| run(false).first_frame.as_secs_f64() * 1000.0)
        .collect();
    firsts.sort_by(f64::total_cmp);
    println!(
        "start-up to first frame (embedded simulator, 120x32): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        firsts[0],
        firsts[firsts.len() / 2],
        firsts[firsts.len() - 1]
    );
    let run = run(true);
    println!(
        "bytes to the terminal, overview live at 1 Hz: {:.0} B/s",
        run.bytes_per_sec
    );
}

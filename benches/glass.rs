//! Ingest to glass (TARGETS P3): how far behind real time the console's screen is while logs
//! stream in, and whether that lag grows.
//!
//! `cargo bench --bench glass -- [--rate 10000] [--secs 30]`
//!
//! Starts `opsdeck serve --load-rate RATE` (a synthetic firehose whose log messages begin with
//! `t=<unix ms>` of their emission) and the real console on it in a 160x40 pty, opens the Logs
//! view on every app (`L`, following), then reads the screen every 100 ms: the lag is now minus
//! the newest `t=` on screen. Reports p50 / p99 / max over the run, and the median of the first
//! and last thirds (a growing lag shows as a larger last third). The bench answers the console's
//! question after each frame, as a terminal does (issue #24).
#![allow(clippy::unwrap_used)]

#[path = "common/answers.rs"]
mod answers;
#[path = "common/load.rs"]
mod load;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Options {
    rate: u64,
    secs: u64,
}

fn options() -> Options {
    let mut opts = Options {
        rate: 10_000,
        secs: 30,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse().ok());
        match (args[i].as_str(), value) {
            ("--rate", Some(v)) => opts.rate = v,
            ("--secs", Some(v)) => opts.secs = v,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    opts
}

/// The newest `t=<ms>` on the screen.
fn newest_on_screen(screen: &str) -> Option<i64> {
    screen
        .split("t=")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn median(values: &[i64]) -> i64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    percentile(&v, 0.5)
}

fn main() {
    let opts = options();
    let state = std::env::temp_dir().join(format!("opsdeck-glass-{}", std::process::id()));
    let (mut gateway, addr) = load::start(opts.rate, &state);

    let (rows, cols) = (40, 160);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.args(["--url", &format!("ws://{addr}")]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("XDG_STATE_HOME", &state);
    for var in [
        "OPSDECK_READONLY",
        "OPSDECK_MOUSE",
        "OPSDECK_PRODUCTION",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    let mut console = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        NonZeroU16::new(rows).unwrap(),
        NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let (feed, answer) = (parser.clone(), writer.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        let mut questions = answers::Matcher::new(answers::QUESTION);
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().unwrap().process(&buf[..n]);
            for _ in 0..questions.count(&buf[..n]) {
                let _ = answer.lock().unwrap().write_all(answers::ANSWER);
            }
        }
    });
    let screen = || parser.lock().unwrap().screen().contents();
    let started = Instant::now();
    while !screen().contains("live") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never live:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.lock().unwrap().write_all(b"L").unwrap();
    writer.lock().unwrap().flush().unwrap();
    while newest_on_screen(&screen()).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no log line on screen:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the first burst (the replay of what the gateway held) settle.
    std::thread::sleep(Duration::from_secs(2));

    let mut lags = Vec::new();
    let until = Instant::now() + Duration::from_secs(opts.secs);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(newest) = newest_on_screen(&screen()) {
            lags.push(Utc::now().timestamp_millis() - newest);
        }
    }
    // Ctrl-C quits from any view.
    writer.lock().unwrap().write_all(b"\x03").unwrap();
    writer.lock().unwrap().flush().unwrap();
    let _ = console.wait();
    let _ = gateway.kill();
    let _ = gateway.wait();
    let _ = std::fs::remove_dir_all(&state);

    let third = lags.len() / 3;
    let (first, last) = (&lags[..third], &lags[lags.len() - third..]);
    let mut sorted = lags.clone();
    sorted.sort_unstable();
    println!(
        "ingest to glass, {} log lines/s, {} s, {} samples: lag p50 {} ms, p99 {} ms, max {} ms; median first third {} ms, last third {} ms",
        opts.rate,
        opts.secs,
        lags.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1],
        median(first),
        median(last),
    );
}

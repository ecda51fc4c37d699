//! The console over a slow link (issue #24): keys to glass, the age of what is on screen, bytes
//! per frame and the backlog, with the console in a pty behind a modelled link.
//!
//! `cargo bench --bench slowlink -- [--rates 8,32,125] [--secs 5] [--rtt-ms 100]
//!  [--load-rate 150] [--models eager,pty] [--bin PATH]`
//!
//! `opsdeck serve --load-rate N` (log lines starting `t=<unix ms>`) and the console on it in a
//! 160x40 pty, Logs view of every app, following. Between the pty and the "terminal" (a vt100
//! parser) sits a link of RATE KB/s with `rtt-ms` round trip, in one of two models:
//! - `eager`: sshd + TCP as they behave: the pty's output is taken at once into a buffer of up
//!   to 2 MB (OpenSSH's channel window), which the link drains at its rate;
//! - `pty`: a bare pty drained at the link rate: the console's writes block when the kernel's
//!   buffer is full.
//!
//! The terminal answers primary device attributes (`ESC [ c`) once it has displayed the bytes
//! before it, as a terminal does; answers and keys take half the round trip to reach the
//! console. Measured over `secs` per rate: key to glass (`?` opens help, Esc closes it: from the
//! key press at the terminal until the terminal shows the change), the age of the newest log
//! line on screen, bytes per frame (bytes displayed / synchronized updates; also over `secs` of
//! following alone before the keys, as the help the keys open covers the log), the backlog (bytes
//! written by the console and not yet displayed) at start and end, and from Ctrl-C until the
//! terminal is given back. `--bin` runs another build of the console (a "before" binary).
#![allow(clippy::unwrap_used)]

#[path = "common/answers.rs"]
mod answers;
#[path = "common/load.rs"]
mod load;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use chrono::Utc;
use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use answers::{ANSWER, Matcher, QUESTION};

const ROWS: u16 = 40;
const COLS: u16 = 160;
/// OpenSSH's channel window: how much sshd takes before the link has carried it.
const EAGER_BUFFER: usize = 2 * 1024 * 1024;
const FRAME_START: &[u8] = b"\x1b[?2026h";
/// How long one key may take to show before it is counted as not shown.
const KEY_PATIENCE: Duration = Duration::from_secs(15);
const QUIT_PATIENCE: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    Eager,
    Pty,
}

struct Options {
    rates: Vec<u64>,
    secs: u64,
    rtt: Duration,
    load_rate: u64,
    models: Vec<Model>,
    bin: String,
}

fn options() -> Options {
    let mut opts = Options {
        rates: vec![8, 32, 125],
        secs: 5,
        rtt: Duration::from_millis(100),
        load_rate: 150,
        models: vec![Model::Eager, Model::Pty],
        bin: env!("CARGO_BIN_EXE_opsdeck").to_string(),
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else { break };
        match args[i].as_str() {
            "--rates" => opts.rates = value.split(',').map(|v| v.parse().unwrap()).collect(),
            "--secs" => opts.secs = value.parse().unwrap(),
            "--rtt-ms" => opts.rtt = Duration::from_millis(value.parse().unwrap()),
            "--load-rate" => opts.load_rate = value.parse().unwrap(),
            "--bin" => opts.bin = value.clone(),
            "--models" => {
                opts.models = value
                    .split(',')
                    .map(|m| match m {
                        "eager" => Model::Eager,
                        "pty" => Model::Pty,
                        other => panic!("unknown model {other}"),
                    })
                    .collect()
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    opts
}

/// Counts occurrences of a byte pattern across reads.
/// The terminal at the far end of the link.
struct Glass {
    parser: vt100::Parser,
    question: Matcher,
    frame: Matcher,
    frames: u64,
    bytes: u64,
}

/// Bytes on their way: in sshd's buffer (eager), then on the wire until their arrival time.
#[derive(Default)]
struct Wire {
    buffered: VecDeque<u8>,
    in_transit: VecDeque<(Instant, Vec<u8>)>,
    transit_bytes: usize,
}

struct Link {
    model: Model,
    /// Bytes per second.
    rate: f64,
    half_rtt: Duration,
    wire: Mutex<Wire>,
    glass: Mutex<Glass>,
    /// Keys and answers on their way to the console: (arrival, bytes).
    up: mpsc::Sender<(Instant, Vec<u8>)>,
    stop: AtomicBool,
    answers: AtomicU64,
}

impl Link {
    fn backlog(&self, master: &dyn MasterPty) -> usize {
        let wire = self.wire.lock().unwrap();
        wire.buffered.len() + wire.transit_bytes + kernel_queued(master)
    }

    fn send_up(&self, bytes: &[u8]) {
        let _ = self
            .up
            .send((Instant::now() + self.half_rtt, bytes.to_vec()));
    }

    fn screen(&self) -> String {
        self.glass.lock().unwrap().parser.screen().contents()
    }
}

/// Bytes written by the console that still sit in the pty's kernel buffer.
fn kernel_queued(master: &dyn MasterPty) -> usize {
    let Some(fd) = master.as_raw_fd() else {
        return 0;
    };
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD on an open descriptor, into an int we own.
    unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    n.max(0) as usize
}

/// Read the pty: at once into the eager buffer, or at the link rate straight onto the wire.
fn read_pty(link: Arc<Link>, mut reader: Box<dyn Read + Send>) {
    let mut buf = vec![0u8; 65536];
    let started = Instant::now();
    let mut taken = 0f64;
    while !link.stop.load(Ordering::Relaxed) {
        let want = match link.model {
            Model::Eager => {
                if link.wire.lock().unwrap().buffered.len() >= EAGER_BUFFER {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                buf.len()
            }
            Model::Pty => {
                // An idle link does not save up its rate for later (at most 1 KB).
                let can = started.elapsed().as_secs_f64() * link.rate;
                taken = taken.max(can - 1024.0);
                let allowed = can - taken;
                if allowed < 1.0 {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                (allowed as usize).min(4096)
            }
        };
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        taken += n as f64;
        let mut wire = link.wire.lock().unwrap();
        match link.model {
            Model::Eager => wire.buffered.extend(&buf[..n]),
            Model::Pty => {
                wire.in_transit
                    .push_back((Instant::now() + link.half_rtt, buf[..n].to_vec()));
                wire.transit_bytes += n;
            }
        }
    }
}

/// Drain the eager buffer at the link rate and display what has arrived.
fn run_link(link: Arc<Link>) {
    let started = Instant::now();
    let mut drained = 0f64;
    while !link.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let mut arrived = Vec::new();
        {
            let mut wire = link.wire.lock().unwrap();
            if link.model == Model::Eager {
                let allowed = started.elapsed().as_secs_f64() * link.rate - drained;
                let n = (allowed.max(0.0) as usize).min(wire.buffered.len());
                if n > 0 {
                    let chunk: Vec<u8> = wire.buffered.drain(..n).collect();
                    drained += n as f64;
                    wire.transit_bytes += n;
                    wire.in_transit.push_back((now + link.half_rtt, chunk));
                } else if wire.buffered.is_empty() {
                    // An idle link does not save up its rate for later (beyond a tick's worth).
                    drained = drained
                        .max(started.elapsed().as_secs_f64() * link.rate - link.rate * 0.002);
                }
            }
            while wire.in_transit.front().is_some_and(|(at, _)| *at <= now) {
                let (_, chunk) = wire.in_transit.pop_front().unwrap();
                wire.transit_bytes -= chunk.len();
                arrived.push(chunk);
            }
        }
        for chunk in arrived {
            display(&link, &chunk);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The terminal takes in bytes; a question is answered once everything before it is shown.
fn display(link: &Link, chunk: &[u8]) {
    let mut glass = link.glass.lock().unwrap();
    glass.bytes += chunk.len() as u64;
    let mut start = 0;
    for (i, &b) in chunk.iter().enumerate() {
        if glass.frame.step(b) {
            glass.frames += 1;
        }
        if glass.question.step(b) {
            glass.parser.process(&chunk[start..=i]);
            start = i + 1;
            link.answers.fetch_add(1, Ordering::Relaxed);
            link.send_up(ANSWER);
        }
    }
    glass.parser.process(&chunk[start..]);
}

/// Keys and answers reach the console half a round trip after they leave the terminal.
fn run_uplink(rx: mpsc::Receiver<(Instant, Vec<u8>)>, mut writer: Box<dyn Write + Send>) {
    while let Ok((at, bytes)) = rx.recv() {
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        if writer
            .write_all(&bytes)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

/// The newest `t=<ms>` on the screen (whole 13-digit stamps only: a line cut by the help box
/// is not read).
fn newest_on_screen(screen: &str) -> Option<i64> {
    screen
        .split("t=")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (digits.len() == 13).then(|| digits.parse().ok()).flatten()
        })
        .max()
}

/// Wait until the terminal's screen satisfies `pred`; the time it took, or `None` after
/// `patience`.
fn wait_glass(link: &Link, patience: Duration, pred: impl Fn(&str) -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < patience {
        if pred(&link.screen()) {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

struct Report {
    keys: Vec<f64>,
    keys_lost: usize,
    ages: Vec<f64>,
    bytes_per_frame: f64,
    /// Bytes per frame while only following (no key pressed).
    following: f64,
    frames_per_sec: f64,
    backlog: (usize, usize),
    quit: Option<f64>,
    answers: u64,
}

fn help_open(screen: &str) -> bool {
    screen.contains(" Keys ")
}

fn run(opts: &Options, addr: &str, model: Model, rate_kb: u64) -> Report {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let state = std::env::temp_dir().join(format!("opsdeck-slowlink-{}", std::process::id()));
    let mut cmd = CommandBuilder::new(&opts.bin);
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
    let reader = pty.master.try_clone_reader().unwrap();
    let writer = pty.master.take_writer().unwrap();
    let (up, up_rx) = mpsc::channel();
    let link = Arc::new(Link {
        model,
        rate: rate_kb as f64 * 1024.0,
        half_rtt: opts.rtt / 2,
        wire: Mutex::new(Wire::default()),
        glass: Mutex::new(Glass {
            parser: vt100::Parser::new(
                NonZeroU16::new(ROWS).unwrap(),
                NonZeroU16::new(COLS).unwrap(),
                0,
            ),
            question: Matcher::new(QUESTION),
            frame: Matcher::new(FRAME_START),
            frames: 0,
            bytes: 0,
        }),
        up,
        stop: AtomicBool::new(false),
        answers: AtomicU64::new(0),
    });
    let threads = [
        {
            let link = link.clone();
            std::thread::spawn(move || read_pty(link, reader))
        },
        {
            let link = link.clone();
            std::thread::spawn(move || run_link(link))
        },
    ];
    std::thread::spawn(move || run_uplink(up_rx, writer));

    assert!(
        wait_glass(&link, Duration::from_secs(60), |s| s.contains("live")).is_some(),
        "never live:\n{}",
        link.screen()
    );
    link.send_up(b"L");
    assert!(
        wait_glass(&link, Duration::from_secs(60), |s| newest_on_screen(s)
            .is_some())
        .is_some(),
        "no log line on screen:\n{}",
        link.screen()
    );
    std::thread::sleep(Duration::from_secs(2));

    // Following alone first, no key pressed: what the log view costs a frame by itself.
    let glass_count = || {
        let g = link.glass.lock().unwrap();
        (g.frames, g.bytes)
    };
    let (frames_q, bytes_q) = glass_count();
    std::thread::sleep(Duration::from_secs(opts.secs));
    let (frames_q1, bytes_q1) = glass_count();
    let following = (bytes_q1 - bytes_q) as f64 / (frames_q1 - frames_q).max(1) as f64;

    let (frames0, bytes0) = {
        let g = link.glass.lock().unwrap();
        (g.frames, g.bytes)
    };
    let backlog0 = link.backlog(&*pty.master);
    let started = Instant::now();
    let until = started + Duration::from_secs(opts.secs);
    let mut keys = Vec::new();
    let mut keys_lost = 0;
    let mut ages = Vec::new();
    let mut next_age = Instant::now();
    let mut sample_age = |ages: &mut Vec<f64>| {
        if Instant::now() >= next_age {
            next_age += Duration::from_millis(100);
            if let Some(newest) = newest_on_screen(&link.screen()) {
                ages.push((Utc::now().timestamp_millis() - newest) as f64);
            }
        }
    };
    let mut open = false;
    while Instant::now() < until {
        open = !open;
        let pressed = Instant::now();
        link.send_up(if open { b"?" } else { b"\x1b" });
        let shown = loop {
            if help_open(&link.screen()) == open {
                break Some(pressed.elapsed());
            }
            if pressed.elapsed() > KEY_PATIENCE {
                break None;
            }
            sample_age(&mut ages);
            std::thread::sleep(Duration::from_millis(2));
        };
        match shown {
            Some(took) => keys.push(took.as_secs_f64() * 1000.0),
            None => {
                keys_lost += 1;
                break;
            }
        }
        // A pause between keys, as an operator makes.
        let pause = Instant::now() + Duration::from_millis(200);
        while Instant::now() < pause {
            sample_age(&mut ages);
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (frames1, bytes1) = {
        let g = link.glass.lock().unwrap();
        (g.frames, g.bytes)
    };
    let backlog1 = link.backlog(&*pty.master);

    // Ctrl-C quits from any view; the terminal is given back when the main screen shows.
    let quit_at = Instant::now();
    link.send_up(b"\x03");
    let mut quit = None;
    while quit_at.elapsed() < QUIT_PATIENCE {
        if !link
            .glass
            .lock()
            .unwrap()
            .parser
            .screen()
            .alternate_screen()
        {
            quit = Some(quit_at.elapsed().as_secs_f64() * 1000.0);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = console.kill();
    let _ = console.wait();
    link.stop.store(true, Ordering::Relaxed);
    drop(pty.master);
    for t in threads {
        let _ = t.join();
    }
    let _ = std::fs::remove_dir_all(&state);
    let frames = (frames1 - frames0).max(1);
    Report {
        keys,
        keys_lost,
        ages,
        bytes_per_frame: (bytes1 - bytes0) as f64 / frames as f64,
        following,
        frames_per_sec: (frames1 - frames0) as f64 / elapsed,
        backlog: (backlog0, backlog1),
        quit,
        answers: link.answers.load(Ordering::Relaxed),
    }
}

fn min_med_max(values: &[f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:.0} / {:.0} / {:.0}",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1]
    )
}

fn main() {
    let opts = options();
    let state = std::env::temp_dir().join(format!("opsdeck-slowlink-gw-{}", std::process::id()));
    let (mut gateway, addr) = load::start(opts.load_rate, &state);

    println!(
        "console {} over a modelled link, rtt {} ms, {} log lines/s, Logs of every app following, {}x{}, {} s per rate",
        opts.bin,
        opts.rtt.as_millis(),
        opts.load_rate,
        COLS,
        ROWS,
        opts.secs
    );
    println!(
        "| link | KB/s | key to glass min / median / max ms (not shown in {} s) | age on screen min / median / max ms | bytes/frame with keys | following alone | frames/s | backlog start → end | Ctrl-C to restored | answers |",
        KEY_PATIENCE.as_secs()
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &model in &opts.models {
        for &rate in &opts.rates {
            let r = run(&opts, &addr, model, rate);
            println!(
                "| {} | {} | {}{} | {} | {:.0} | {:.0} | {:.1} | {} → {} B | {} | {} |",
                match model {
                    Model::Eager => "eager 2 MB",
                    Model::Pty => "bare pty",
                },
                rate,
                min_med_max(&r.keys),
                if r.keys_lost > 0 {
                    format!(" ({} not shown)", r.keys_lost)
                } else {
                    String::new()
                },
                min_med_max(&r.ages),
                r.bytes_per_frame,
                r.following,
                r.frames_per_sec,
                r.backlog.0,
                r.backlog.1,
                r.quit
                    .map_or(format!("> {} s", QUIT_PATIENCE.as_secs()), |ms| format!(
                        "{ms:.0} ms"
                    )),
                r.answers,
            );
        }
    }
    let _ = gateway.kill();
    let _ = gateway.wait();
    let _ = std::fs::remove_dir_all(&state);
}

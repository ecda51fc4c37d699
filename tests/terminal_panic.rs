//! A panic while the console draws gives the terminal back before the panic is reported: the
//! alternate screen is left, the cursor shown, raw mode off, and the message readable.
//!
//! The test runs this same test binary again in a pseudo-terminal (only the child test below
//! does anything in that run: `OPSDECK_PANIC_CHILD` is read by this test file alone, not by the
//! console), takes the terminal over with `opsdeck::tui::terminal::init`, and panics inside a
//! frame.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const CHILD: &str = "OPSDECK_PANIC_CHILD";

/// In the child run: take the terminal over, panic inside a frame, then report the terminal
/// mode the panic left behind. Does nothing in a normal `cargo test` run.
#[test]
fn child_panics_while_drawing() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let mut tui = opsdeck::tui::terminal::init(false).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = tui.draw(|_frame| panic!("boom while rendering"));
    }));
    assert!(caught.is_err());
    assert!(opsdeck::tui::terminal::panicked());
    // SAFETY: tcgetattr on our own stdin with a zeroed, correctly sized termios.
    let lflag = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(libc::STDIN_FILENO, &mut t), 0);
        t.c_lflag
    };
    let cooked = lflag & libc::ICANON != 0 && lflag & libc::ECHO != 0;
    println!("\r\ncooked after panic: {cooked}\r");
    drop(tui);
}

#[test]
fn a_panic_inside_a_frame_restores_the_terminal_then_reports() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let (rows, cols) = (24, 100);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_panics_while_drawing",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env(CHILD, "1");
    cmd.env("TERM", "xterm-256color");
    cmd.env("RUST_BACKTRACE", "0");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let _master = pty.master;
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(rows).unwrap(),
        std::num::NonZeroU16::new(cols).unwrap(),
        0,
    );
    let mut raw = Vec::new();
    // Read until the pty closes (the reader thread ends and the channel disconnects): then
    // the child has exited and every byte it wrote is here.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => {
                parser.process(&bytes);
                raw.extend_from_slice(&bytes);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the child test did not finish")
            }
        }
    }
    let status = child.wait().unwrap();
    let screen = parser.screen();
    let text = screen.contents();
    assert!(status.success(), "child failed: {status:?}\n{text}");
    let out = String::from_utf8_lossy(&raw);
    assert!(
        out.contains("\x1b[?1049h"),
        "the child took the terminal over"
    );
    assert!(
        !screen.alternate_screen(),
        "still on the alternate screen\n{text}"
    );
    assert!(!screen.hide_cursor(), "cursor still hidden\n{text}");
    assert!(
        text.contains("cooked after panic: true"),
        "raw mode still on\n{text}"
    );
    // The report comes after the restore, so it is on the normal screen for the operator.
    let leave = out.rfind("\x1b[?1049l").unwrap();
    let report = out.find("boom while rendering").unwrap();
    assert!(
        leave < report,
        "the panic was reported before the terminal was restored"
    );
    assert!(text.contains("boom while rendering"), "{text}");
    // The frame the panic interrupted was drawn in memory (the writer thread writes frames
    // whole): no part of it reached the terminal, and no synchronized update is left open.
    assert!(
        !out.contains("\x1b[?2026h"),
        "a frame cut short reached the terminal"
    );
    assert!(out.contains("\x1b[?2026l"), "the restore ends any update");
}

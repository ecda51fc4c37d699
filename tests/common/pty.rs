//! The real `opsdeck` binary in a pseudo-terminal: keys go in as bytes, the screen comes back
//! through a VT100 parser. Shared by the end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "opsdeck-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Set once the reader has taken everything the console wrote (the pty has closed).
    drained: Arc<AtomicBool>,
    writer: Box<dyn Write + Send>,
    /// Kept open for the whole test, so the terminal's mode can be read ([`Console::raw_mode`]).
    master: Box<dyn MasterPty + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _state_dir: TempDir,
}

impl Console {
    /// `opsdeck ARGS` in a `rows`x`cols` pty, with its log in a fresh state dir and no
    /// connection settings, modes (read-only, production, mouse) or looks inherited from the
    /// environment.
    pub fn spawn(args: &[&str], rows: u16, cols: u16) -> Console {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(args);
        Console::spawn_command(cmd, rows, cols)
    }

    /// `program ARGS` in a `rows`x`cols` pty, with the same environment as [`Console::spawn`]
    /// gives the console (the program may start the console itself).
    pub fn spawn_command(mut cmd: CommandBuilder, rows: u16, cols: u16) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let state_dir = TempDir::new("state");
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", &state_dir.0);
        // Never the real user's config file: an empty config folder, unless the test gives one.
        if cmd.get_env("XDG_CONFIG_HOME").is_none() {
            cmd.env("XDG_CONFIG_HOME", state_dir.0.join("config"));
        }
        for var in [
            "NO_COLOR",
            "OPSDECK_CA_CERT",
            "OPSDECK_URL",
            "OPSDECK_READONLY",
            "OPSDECK_PRODUCTION",
            "OPSDECK_MOUSE",
            "OPSDECK_THEME",
            "OPSDECK_ASCII",
            // They win over an OPSDECK_TOKEN a test sets.
            "OPSDECK_TOKEN_FILE",
            "OPSDECK_TOKEN_COMMAND",
            "OPSDECK_CONFIG",
            "OPSDECK_CONTEXT",
        ] {
            cmd.env_remove(var);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let feed = screen.clone();
        let drained = Arc::new(AtomicBool::new(false));
        let at_end = drained.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
            at_end.store(true, Ordering::SeqCst);
        });
        Console {
            screen,
            drained,
            writer,
            master: pty.master,
            child,
            _state_dir: state_dir,
        }
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Type `keys` (raw bytes: `\r` is Enter, `\x1b` Esc).
    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Pacing only: keeps one call's bytes apart from the next call's, so a lone Esc is not
        // read as the start of an escape sequence. Tests wait for what keys do with wait_for.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Wait until the screen satisfies `pred`, failing with the screen after `secs`, or at once
    /// if the console exits meanwhile.
    pub fn wait_for(&mut self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.text();
            if pred(&text) {
                return text;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the console exited ({status:?}) waiting for {what}; screen:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait until `cond` holds, failing with the screen after `secs`, or at once if the child
    /// exits meanwhile.
    pub fn wait_until(&mut self, secs: u64, what: &str, cond: impl Fn(&Console) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                let text = self.text();
                panic!("the console exited ({status:?}) waiting for {what}; screen:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the console did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Quit with Ctrl-C and expect a clean exit.
    pub fn quit(&mut self) {
        // Ctrl-C quits from any view (`q` goes back, and quits only from the overview).
        self.keys("\x03");
        let status = self.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
    }

    /// The console's log (`$XDG_STATE_HOME/opsdeck/console.log`, today's daily file).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self._state_dir.0.join("opsdeck").join("console.log"))
            .unwrap_or_default()
    }

    /// Whether the terminal is in raw mode: no line editing (ICANON) and no echo.
    pub fn raw_mode(&self) -> bool {
        self.local_modes() & (libc::ICANON | libc::ECHO) == 0
    }

    /// Whether the terminal is in the shell's cooked mode: line editing (ICANON) and echo.
    pub fn cooked_mode(&self) -> bool {
        let lflag = self.local_modes();
        lflag & libc::ICANON != 0 && lflag & libc::ECHO != 0
    }

    /// The terminal's local modes (`c_lflag`). On Linux the master side reads the settings the
    /// program on the other side has set.
    fn local_modes(&self) -> libc::tcflag_t {
        let fd = self.master.as_raw_fd().unwrap();
        // SAFETY: tcgetattr on the pty master we hold open, with a zeroed, correctly sized
        // termios.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(fd, &mut t), 0);
            t.c_lflag
        }
    }

    /// Whether the alternate screen (the console's) is showing rather than the main one.
    pub fn on_alternate_screen(&self) -> bool {
        self.screen.lock().unwrap().screen().alternate_screen()
    }

    /// Whether the console has asked the terminal to report the mouse.
    pub fn mouse_captured(&self) -> bool {
        let parser = self.screen.lock().unwrap();
        parser.screen().mouse_protocol_mode() != vt100::MouseProtocolMode::None
    }

    /// After exit: the alternate screen is left, the cursor is visible again and the mouse is
    /// no longer captured.
    pub fn assert_terminal_restored(&self) {
        // Every byte the console wrote is read once the pty reports its end.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.drained.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the console's pty did not close after it exited"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.assert_terminal_given_back();
    }

    /// The terminal as the console leaves it when it gives it back (on exit, or while
    /// suspended): main screen, cursor shown, mouse not captured. Reads what has arrived so
    /// far; after an exit, [`Console::assert_terminal_restored`] first waits for all of it.
    pub fn assert_terminal_given_back(&self) {
        let parser = self.screen.lock().unwrap();
        assert!(
            !parser.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "cursor still hidden");
        assert_eq!(
            parser.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse still captured"
        );
    }
}

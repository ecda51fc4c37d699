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

/// How the terminal played by the harness answers the question the console ends each frame
/// with (primary device attributes, `ESC [ c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answers {
    /// As a terminal does: once it has taken in everything before the question.
    Prompt,
    /// Only when the test says so ([`Console::answer`]).
    Held,
    /// Never (a terminal that does not know the question).
    Never,
}

/// The terminal's side of the questions: what was asked and what answered.
#[derive(Default)]
pub struct Questions {
    /// The screen as it stood when each question arrived (after the frame before it).
    pub screens: Vec<String>,
    /// Questions answered so far.
    pub answered: usize,
    /// The most questions ever waiting for an answer at once.
    pub most_waiting: usize,
}

impl Questions {
    pub fn asked(&self) -> usize {
        self.screens.len()
    }

    pub fn waiting(&self) -> usize {
        self.asked() - self.answered
    }
}

/// The answer a VT220-class terminal gives (xterm's own is longer; the console reads any).
const ANSWER: &[u8] = b"\x1b[?62;22c";
const QUESTION: &[u8] = b"\x1b[c";

pub struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    questions: Arc<Mutex<Questions>>,
    /// Set once the reader has taken everything the console wrote (the pty has closed).
    drained: Arc<AtomicBool>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    /// Kept open for the whole test, so the terminal's mode can be read ([`Console::raw_mode`]).
    master: Box<dyn MasterPty + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _state_dir: TempDir,
}

impl Console {
    /// `opsdeck ARGS` in a `rows`x`cols` pty, with its log in a fresh state dir and no
    /// connection settings, modes (read-only, production, mouse) or looks inherited from the
    /// environment.
    /// The terminal answers the console's questions as a terminal does ([`Answers::Prompt`]).
    pub fn spawn(args: &[&str], rows: u16, cols: u16) -> Console {
        Console::spawn_answering(args, rows, cols, Answers::Prompt)
    }

    /// [`Console::spawn`] with a terminal that answers as `answers` says.
    pub fn spawn_answering(args: &[&str], rows: u16, cols: u16, answers: Answers) -> Console {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(args);
        Console::spawn_command_answering(cmd, rows, cols, answers)
    }

    /// `program ARGS` in a `rows`x`cols` pty, with the same environment as [`Console::spawn`]
    /// gives the console (the program may start the console itself).
    pub fn spawn_command(cmd: CommandBuilder, rows: u16, cols: u16) -> Console {
        Console::spawn_command_answering(cmd, rows, cols, Answers::Prompt)
    }

    /// [`Console::spawn_command`] with a terminal that answers as `answers` says.
    pub fn spawn_command_answering(
        mut cmd: CommandBuilder,
        rows: u16,
        cols: u16,
        answers: Answers,
    ) -> Console {
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
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let questions = Arc::new(Mutex::new(Questions::default()));
        let (feed, asked, answer_to) = (screen.clone(), questions.clone(), writer.clone());
        let drained = Arc::new(AtomicBool::new(false));
        let at_end = drained.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // How much of QUESTION the bytes so far end with.
            let mut matched = 0;
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut start = 0;
                for i in 0..n {
                    matched = if buf[i] == QUESTION[matched] {
                        matched + 1
                    } else {
                        usize::from(buf[i] == QUESTION[0])
                    };
                    if matched < QUESTION.len() {
                        continue;
                    }
                    matched = 0;
                    // The question is read after everything before it is on the screen.
                    let mut parser = feed.lock().unwrap();
                    parser.process(&buf[start..=i]);
                    start = i + 1;
                    let mut questions = asked.lock().unwrap();
                    questions.screens.push(parser.screen().contents());
                    if answers == Answers::Prompt {
                        let _ = answer_to.lock().unwrap().write_all(ANSWER);
                        questions.answered += 1;
                    }
                    questions.most_waiting = questions.most_waiting.max(questions.waiting());
                }
                feed.lock().unwrap().process(&buf[start..n]);
            }
            at_end.store(true, Ordering::SeqCst);
        });
        Console {
            screen,
            questions,
            drained,
            writer,
            master: pty.master,
            child,
            _state_dir: state_dir,
        }
    }

    /// The questions asked and answered so far.
    pub fn questions(&self) -> std::sync::MutexGuard<'_, Questions> {
        self.questions.lock().unwrap()
    }

    /// Answer the oldest question still waiting ([`Answers::Held`]).
    pub fn answer(&mut self) {
        let mut questions = self.questions.lock().unwrap();
        assert!(questions.waiting() > 0, "no question is waiting");
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(ANSWER).unwrap();
        writer.flush().unwrap();
        questions.answered += 1;
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Type `keys` (raw bytes: `\r` is Enter, `\x1b` Esc).
    pub fn keys(&mut self, keys: &str) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(keys.as_bytes()).unwrap();
        writer.flush().unwrap();
        drop(writer);
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

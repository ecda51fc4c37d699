//! The terminal's whole lifecycle, in one place: enter raw mode and the alternate screen,
//! draw frames inside synchronized updates, suspend to the shell (Ctrl-Z) and come back, and
//! restore the terminal on every way out — normal quit, signals (handled by the caller's
//! loop), errors (Drop) and panics (hook).

use std::io::{self, Stdout, Write};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{execute, queue};
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal is in console mode and must be restored.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A panic happened somewhere; the UI loop should stop.
static PANICKED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The console's terminal. Dropping it restores the terminal.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<Counted<Stdout>>>,
    written: Arc<AtomicU64>,
    mouse: bool,
}

/// A writer that counts the bytes going through it, so frame pacing can keep the console's
/// output under its byte budget.
pub struct Counted<W> {
    inner: W,
    written: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Take over the terminal: raw mode, alternate screen, hidden cursor; mouse capture when
/// `mouse` (it takes the terminal's own text selection away, so it is opt-in).
pub fn init(mouse: bool) -> io::Result<Tui> {
    install_panic_hook();
    enter(mouse)?;
    let stdout = io::stdout();
    let written = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: stdout,
        written: written.clone(),
    };
    match Terminal::new(CrosstermBackend::new(counted)) {
        Ok(terminal) => Ok(Tui {
            terminal,
            written,
            mouse,
        }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Raw mode, alternate screen, hidden cursor, and mouse capture when `mouse`. On failure the
/// terminal is restored before the error is returned.
fn enter(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut stdout = io::stdout();
    let mut entered = execute!(stdout, EnterAlternateScreen, Hide);
    if mouse && entered.is_ok() {
        entered = execute!(stdout, EnableMouseCapture);
    }
    if let Err(e) = entered {
        restore();
        return Err(e);
    }
    Ok(())
}

/// Stop the whole process as a shell's Ctrl-Z would, and return once it is continued (`fg`).
///
/// SIGTSTP is raised with its default action, so the shell sees an ordinary stopped job;
/// the handler the loop installs to hear an outside SIGTSTP is put back afterwards. In an
/// orphaned process group (no job-control shell that could continue us) the kernel discards
/// SIGTSTP, and this returns at once rather than leave the console stopped for good.
fn stop_until_continued() -> io::Result<()> {
    // SAFETY: `sigaction` is given zero-initialised structs of the right type, and the one
    // installed holds SIG_DFL, which is valid for SIGTSTP; the previous action is put back
    // exactly as it was read. `raise` only sends a signal to this thread.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGTSTP, &default, &mut previous) != 0 {
            return Err(io::Error::last_os_error());
        }
        // The process stops inside this call and carries on from here when continued.
        let raised = if libc::raise(libc::SIGTSTP) == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        };
        libc::sigaction(libc::SIGTSTP, &previous, std::ptr::null_mut());
        raised
    }
}

/// Give the terminal back: end any synchronized update, leave the alternate screen, show the
/// cursor, leave raw mode. Safe to call more than once; only the first call does anything.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = write_restore(&mut io::stdout());
    let _ = disable_raw_mode();
}

/// The bytes that give the screen back, in order: end any synchronized update (a panic in the
/// middle of a frame leaves one open), stop mouse capture (`--mouse`; harmless when it was
/// off), leave the alternate screen, show the cursor. The console never enables bracketed
/// paste. Raw mode is a terminal setting, not bytes: [`restore`] leaves it separately.
pub fn write_restore(out: &mut impl Write) -> io::Result<()> {
    queue!(
        out,
        EndSynchronizedUpdate,
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    )?;
    out.flush()
}

/// Whether any thread has panicked since the console started.
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Restore the terminal first, then let the previous hook report the panic on a usable screen.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            restore();
            previous(info);
        }));
    });
}

impl Tui {
    /// Whether the terminal reports the mouse (`--mouse`).
    pub fn captures_mouse(&self) -> bool {
        self.mouse
    }

    /// Draw one frame inside a synchronized update, so the terminal shows it whole. Returns the
    /// bytes written for it.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<u64> {
        let before = self.written.load(Ordering::Relaxed);
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.terminal.draw(render).map(|_| ());
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        drawn.map(|()| self.written.load(Ordering::Relaxed) - before)
    }

    /// Suspend to the shell (Ctrl-Z, or SIGTSTP from outside): give the terminal back as on
    /// quit, stop until continued (`fg`), then take the terminal over again and clear it, so
    /// the next frame repaints the whole screen, at its size now (it may have changed).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        let stopped = stop_until_continued();
        enter(self.mouse)?;
        // `resize` to the whole screen clears it and forgets the last frame, as `clear` does,
        // without `clear`'s cursor-position query: a round trip to the terminal that fails
        // after two seconds where the terminal does not answer.
        let size = self.terminal.size()?;
        self.terminal.resize(ratatui::layout::Rect::from((
            ratatui::layout::Position::ORIGIN,
            size,
        )))?;
        stopped
    }

    /// Clear and redraw everything on the next frame (after a resize).
    pub fn autoresize(&mut self) -> io::Result<()> {
        self.terminal.autoresize()
    }

    pub fn size(&self) -> io::Result<(u16, u16)> {
        let s = self.terminal.size()?;
        Ok((s.width, s.height))
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_restore_sequence_ends_the_update_leaves_the_alternate_screen_and_shows_the_cursor() {
        let mut out = Vec::new();
        write_restore(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let end_sync = text.find("\x1b[?2026l").expect("end synchronized update");
        let leave_alt = text
            .find("\x1b[?1049l")
            .expect("leave the alternate screen");
        let show = text.find("\x1b[?25h").expect("show the cursor");
        assert!(end_sync < leave_alt && leave_alt < show, "{text:?}");
        // Mouse capture (--mouse) is always switched off, before leaving the screen.
        let mouse_off = text.find("\x1b[?1000l").expect("mouse capture off");
        assert!(mouse_off < leave_alt, "{text:?}");
        // Nothing enables bracketed paste, so nothing must be left to undo.
        assert!(!text.contains("\x1b[?2004"), "bracketed paste");
    }
}

//! The terminal's whole lifecycle, in one place: enter raw mode and the alternate screen,
//! draw frames inside synchronized updates, suspend to the shell (Ctrl-Z) and come back, and
//! restore the terminal on every way out — normal quit, signals (handled by the caller's
//! loop), errors (Drop) and panics (hook).
//!
//! Frames are drawn into memory ([`Tui::draw`]) and written by the writer thread
//! (`tui::writer`) through [`write_frame`]. Every write to the terminal takes one lock, so the
//! restore sequence never cuts into a frame, and once the terminal is given back no frame
//! still on its way is written after it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::queue;
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal is in console mode and must be restored.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A panic happened somewhere; the UI loop should stop.
static PANICKED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();
/// Held while bytes go to the terminal: a frame is written whole, or not at all.
static OUTPUT: Mutex<()> = Mutex::new(());
/// How long giving the terminal back waits for a frame being written (a terminal that stopped
/// reading may never take it); after that it writes anyway.
const RESTORE_PATIENCE: Duration = Duration::from_secs(2);
/// CAN: ends an escape sequence a frame cut short may have left open, so the restore sequence
/// after it is read as such. Outside a sequence terminals ignore it.
const CANCEL: &[u8] = b"\x18";

/// The console's terminal. Dropping it restores the terminal.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<FrameBytes>>,
    /// What ratatui has written since the last frame was taken.
    bytes: FrameBytes,
    mouse: bool,
    /// The frame on the screen, for painting the next by scrolling (`tui::scroll`); `None`
    /// when the screen was cleared since.
    last: Option<ratatui::buffer::Buffer>,
}

/// The bytes of the frame being drawn: ratatui writes them, [`Tui::draw`] takes them for the
/// writer.
#[derive(Clone, Default)]
struct FrameBytes(Arc<Mutex<Vec<u8>>>);

impl FrameBytes {
    fn take(&self) -> Vec<u8> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let capacity = bytes.capacity();
        std::mem::replace(&mut bytes, Vec::with_capacity(capacity))
    }
}

impl Write for FrameBytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Write one frame to the terminal, whole, unless the terminal has been given back meanwhile
/// (quit, a panic, Ctrl-Z): then it is dropped.
pub fn write_frame(frame: &[u8]) -> io::Result<()> {
    let _output = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
    if !ACTIVE.load(Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    out.write_all(frame)?;
    out.flush()
}

/// The output lock, waiting at most `patience` for a frame being written.
fn lock_output(patience: Duration) -> Option<MutexGuard<'static, ()>> {
    let deadline = Instant::now() + patience;
    loop {
        match OUTPUT.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

/// Take over the terminal: raw mode, alternate screen, hidden cursor; mouse capture when
/// `mouse` (it takes the terminal's own text selection away, so it is opt-in).
pub fn init(mouse: bool) -> io::Result<Tui> {
    install_panic_hook();
    enter(mouse)?;
    let bytes = FrameBytes::default();
    match Terminal::new(CrosstermBackend::new(bytes.clone())) {
        Ok(terminal) => Ok(Tui {
            terminal,
            bytes,
            mouse,
            last: None,
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
    let mut bytes = Vec::new();
    let mut entered = queue!(bytes, EnterAlternateScreen, Hide);
    if mouse && entered.is_ok() {
        entered = queue!(bytes, EnableMouseCapture);
    }
    {
        let _output = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
        ACTIVE.store(true, Ordering::SeqCst);
        if entered.is_ok() {
            let mut out = io::stdout().lock();
            entered = out.write_all(&bytes).and_then(|()| out.flush());
        }
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
/// A frame being written is let finish first (for a while: [`RESTORE_PATIENCE`]), and no frame
/// is written after.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _output = lock_output(RESTORE_PATIENCE);
    let mut bytes = CANCEL.to_vec();
    let _ = write_restore(&mut bytes);
    let mut out = io::stdout().lock();
    let _ = out.write_all(&bytes).and_then(|()| out.flush());
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

    /// Start or stop capturing the mouse (`:ctx` to a context whose `mouse` differs); also
    /// after a suspend. Nothing is written when it is as asked already.
    pub fn set_mouse(&mut self, mouse: bool) -> io::Result<()> {
        if mouse == self.mouse {
            return Ok(());
        }
        let mut bytes = Vec::new();
        if mouse {
            queue!(bytes, EnableMouseCapture)?;
        } else {
            queue!(bytes, DisableMouseCapture)?;
        }
        write_frame(&bytes)?;
        self.mouse = mouse;
        Ok(())
    }

    /// Draw one frame inside a synchronized update, so the terminal shows it whole, and return
    /// its bytes, for the writer. Whatever was queued since the last frame (a clear after a
    /// resize) comes first.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<Vec<u8>> {
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = super::scroll::draw(&mut self.terminal, &mut self.last, render);
        queue!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        drawn?;
        Ok(self.bytes.take())
    }

    /// Suspend to the shell (Ctrl-Z, or SIGTSTP from outside): give the terminal back as on
    /// quit, stop until continued (`fg`), then take the terminal over again and clear it, so
    /// the next frame repaints the whole screen, at its size now (it may have changed).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        self.last = None;
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
        self.last = None;
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

//! The terminal's input, read on a thread of its own and parsed with `termina`'s parser, which
//! keeps the terminal's answers (to the question each frame ends with, `tui::pacing::QUERY`)
//! as events instead of dropping them: crossterm's reader files them in a queue of its own
//! that grows with every answer no reader asks for. An answer never reaches the keymap.

use std::io;
use std::os::fd::RawFd;

use termina::escape::csi::{Csi, Device};
use tokio::sync::mpsc;

/// What the terminal sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A key, a mouse event, a paste.
    Event(termina::Event),
    /// The answer to a frame's question: everything before it has reached the terminal.
    Answer,
}

/// How long a lone Esc at the end of a read waits for the rest of a sequence it may begin
/// (an answer split across reads), before it is taken for the Esc key.
const ESC_PATIENCE_MS: libc::c_int = 25;
const QUEUE: usize = 1024;

/// Start reading the terminal: stdin if it is one, else `/dev/tty`. The channel closes when the
/// terminal is gone (end of file or an error).
pub fn spawn() -> io::Result<mpsc::Receiver<Input>> {
    let fd = tty_fd()?;
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::Builder::new()
        .name("terminal-reader".into())
        .spawn(move || read_loop(fd, &tx))?;
    Ok(rx)
}

fn tty_fd() -> io::Result<RawFd> {
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
        return Ok(libc::STDIN_FILENO);
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    // Kept open for the life of the process: the reader thread reads it until the end.
    Ok(std::os::fd::IntoRawFd::into_raw_fd(tty))
}

fn read_loop(fd: RawFd, tx: &mpsc::Sender<Input>) {
    let mut parser = termina::Parser::default();
    let mut buf = [0u8; 8192];
    loop {
        // SAFETY: reading into a buffer we own, at most its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            tracing::info!(error = %e, "the terminal's input ended");
            return;
        }
        if n == 0 {
            return;
        }
        let bytes = &buf[..n as usize];
        let maybe_more = bytes.last() == Some(&0x1b) && readable_soon(fd);
        parser.parse(bytes, maybe_more);
        while let Some(event) = parser.pop() {
            if tx.blocking_send(classify(event)).is_err() {
                return;
            }
        }
    }
}

/// Whether more input arrives within [`ESC_PATIENCE_MS`].
fn readable_soon(fd: RawFd) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the length given.
    unsafe { libc::poll(&mut poll, 1, ESC_PATIENCE_MS) > 0 }
}

/// An answer to the frames' question, or input for the console.
pub fn classify(event: termina::Event) -> Input {
    match event {
        termina::Event::Csi(Csi::Device(Device::DeviceAttributes(()))) => Input::Answer,
        event => Input::Event(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use termina::event::{KeyCode, KeyEvent, Modifiers};

    fn parse(bytes: &[u8]) -> Vec<Input> {
        let mut parser = termina::Parser::default();
        parser.parse(bytes, false);
        std::iter::from_fn(|| parser.pop()).map(classify).collect()
    }

    fn key(c: char) -> Input {
        Input::Event(termina::Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            Modifiers::NONE,
        )))
    }

    #[test]
    fn answers_are_picked_out_of_the_keys_around_them() {
        // xterm's, VTE's and the Linux console's answers, between keys.
        let input = parse(b"j\x1b[?64;1;2;6;9;15;18;21;22cq\x1b[?65;1;9c\x1b[?6ck");
        assert_eq!(
            input,
            vec![
                key('j'),
                Input::Answer,
                key('q'),
                Input::Answer,
                Input::Answer,
                key('k')
            ]
        );
    }

    #[test]
    fn an_answer_split_across_reads_is_still_an_answer() {
        let mut parser = termina::Parser::default();
        parser.parse(b"x\x1b", true);
        parser.parse(b"[?62;", true);
        parser.parse(b"22c", false);
        let input: Vec<Input> = std::iter::from_fn(|| parser.pop()).map(classify).collect();
        assert_eq!(input, vec![key('x'), Input::Answer]);
    }

    #[test]
    fn a_lone_esc_at_the_end_of_a_read_is_the_esc_key() {
        assert_eq!(
            parse(b"\x1b"),
            vec![Input::Event(termina::Event::Key(KeyCode::Escape.into()))]
        );
    }
}

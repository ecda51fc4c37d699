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
    // The last read ended with an Esc the parser holds, waiting for what may follow.
    let mut held_esc = false;
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
        let maybe_more = bytes.last() == Some(&ESC) && readable_soon(fd);
        feed(&mut parser, bytes, held_esc, maybe_more);
        held_esc = maybe_more;
        while let Some(event) = parser.pop() {
            if tx.blocking_send(classify(event)).is_err() {
                return;
            }
        }
    }
}

const ESC: u8 = 0x1b;

/// Parse `bytes`, where `held_esc` says the parser holds an Esc from the last read. An Esc
/// followed by another is the Esc key: an answer (or an arrow key) right behind an Esc must not
/// be read as Alt plus its text, as the parser alone would (`ESC ESC` is one key to it, and what
/// follows plain characters).
fn feed(parser: &mut termina::Parser, bytes: &[u8], held_esc: bool, maybe_more: bool) {
    if held_esc && bytes.first() == Some(&ESC) {
        parser.parse(&[], false);
    }
    let mut start = 0;
    for i in 1..bytes.len() {
        if bytes[i - 1] == ESC && bytes[i] == ESC {
            parser.parse(&bytes[start..i], false);
            start = i;
        }
    }
    parser.parse(&bytes[start..], maybe_more);
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

    fn fed(reads: &[&[u8]]) -> Vec<Input> {
        let mut parser = termina::Parser::default();
        let mut held = false;
        for (i, bytes) in reads.iter().enumerate() {
            let more = i + 1 < reads.len() && bytes.last() == Some(&ESC);
            feed(&mut parser, bytes, held, more);
            held = more;
        }
        std::iter::from_fn(|| parser.pop()).map(classify).collect()
    }

    #[test]
    fn an_answer_right_behind_an_esc_is_an_answer_and_the_esc_a_key() {
        let esc = Input::Event(termina::Event::Key(KeyCode::Escape.into()));
        // In one read, and with the Esc held at the end of a read.
        assert_eq!(
            fed(&[b"\x1b\x1b[?62;22c"]),
            vec![esc.clone(), Input::Answer]
        );
        assert_eq!(
            fed(&[b"\x1b", b"\x1b[?62;22cj"]),
            vec![esc.clone(), Input::Answer, key('j')]
        );
        assert_eq!(
            fed(&[b"\x1b\x1b\x1b[A"]),
            vec![
                esc.clone(),
                esc,
                Input::Event(termina::Event::Key(KeyCode::Up.into()))
            ]
        );
    }

    #[test]
    fn a_lone_esc_at_the_end_of_a_read_is_the_esc_key() {
        assert_eq!(
            parse(b"\x1b"),
            vec![Input::Event(termina::Event::Key(KeyCode::Escape.into()))]
        );
    }
}

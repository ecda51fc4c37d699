//! The terminal's side of frame pacing (issue #24), for benches that play a terminal: the
//! console ends each frame with primary device attributes (`ESC [ c`) and waits for the answer
//! before the next frame, as a real terminal gives it once it has shown what came before.
#![allow(dead_code)] // each bench uses its own part

/// The question the console asks after each frame.
pub const QUESTION: &[u8] = b"\x1b[c";
/// A VT220-class terminal's answer.
pub const ANSWER: &[u8] = b"\x1b[?62;22c";

/// Finds a byte pattern in output read in chunks (a pattern may be split between two reads).
pub struct Matcher {
    pattern: &'static [u8],
    matched: usize,
}

impl Matcher {
    pub fn new(pattern: &'static [u8]) -> Matcher {
        Matcher {
            pattern,
            matched: 0,
        }
    }

    /// Whether the pattern ends at this byte.
    pub fn step(&mut self, b: u8) -> bool {
        self.matched = if b == self.pattern[self.matched] {
            self.matched + 1
        } else {
            usize::from(b == self.pattern[0])
        };
        if self.matched == self.pattern.len() {
            self.matched = 0;
            true
        } else {
            false
        }
    }

    /// How many times the pattern ends in `bytes`.
    pub fn count(&mut self, bytes: &[u8]) -> usize {
        bytes.iter().filter(|&&b| self.step(b)).count()
    }
}

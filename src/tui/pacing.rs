//! How often the console draws, and when the next frame may go.
//!
//! At most every 16 ms, and only when something changed (the event loop's job). Beyond that:
//! - the terminal paces the frames: every frame ends with a question the terminal answers in
//!   order, after it has taken in everything before it (primary device attributes, `CSI c`),
//!   and no more than [`Pacer`]'s limit of frames (default one) go out before their answers
//!   are back. However much sshd and TCP buffer between the console and the operator's
//!   terminal, the frame rate follows what reaches the glass, and what is drawn next is the
//!   latest state, not a queue of old frames;
//! - bytes: the console keeps its output under a byte budget, so a log firehose over SSH costs
//!   at most ~48 KB/s (TARGETS P2: ≤ 64 KB/s) by drawing fewer, fuller frames;
//! - a terminal that does not answer the first frame's question within [`PROBE_PATIENCE`] is
//!   not asked again, and frames are paced by what they cost instead: writing blocks when the
//!   terminal or the link behind it is slow, so a frame that took long to write spaces out the
//!   next ones ([`next_frame_gap`]). An answer arriving later still turns pacing by answers on.

use std::time::{Duration, Instant};

/// Shortest time between two frames.
pub const FRAME_GAP: Duration = Duration::from_millis(16);
/// The longest gap adaptive pacing allows between frames.
pub const MAX_FRAME_GAP: Duration = Duration::from_secs(1);
/// Bytes per second the console aims to stay under.
pub const BYTE_BUDGET_PER_SEC: u64 = 48 * 1024;
/// The question appended to a frame: primary device attributes. Every terminal since the
/// VT100 answers it (`CSI ? … c`), in order with the output before it, and the answer cannot
/// be mistaken for a key.
pub const QUERY: &[u8] = b"\x1b[c";
/// How long the first frame's question may go unanswered before the terminal is taken for
/// one that never answers.
pub const PROBE_PATIENCE: Duration = Duration::from_secs(2);
/// How long an answer may be overdue, from a terminal that has answered before, before the
/// frames waiting for it are forgotten (an answer lost in a garbled read must not stop the
/// screen for good).
pub const ANSWER_PATIENCE: Duration = Duration::from_secs(5);
/// Frames in flight by default: one keeps a key's way to the glass shortest (at most the rest
/// of one frame, the answer's way back, and the next frame).
pub const DEFAULT_IN_FLIGHT: usize = 1;
/// The most frames in flight that may be asked for (`OPSDECK_FRAMES_IN_FLIGHT`).
pub const MAX_IN_FLIGHT: usize = 2;

/// The gap before the next frame, after one that took `cost` to write and wrote `bytes`, for
/// a terminal that does not answer.
pub fn next_frame_gap(cost: Duration, bytes: u64) -> Duration {
    let by_time = cost * 4;
    byte_gap(bytes).max(by_time).clamp(FRAME_GAP, MAX_FRAME_GAP)
}

/// The gap that keeps `bytes` a frame under the byte budget.
fn byte_gap(bytes: u64) -> Duration {
    Duration::from_secs_f64(bytes as f64 / BYTE_BUDGET_PER_SEC as f64)
}

/// What is known of the terminal's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answers {
    /// The first frame's question is out; no answer yet.
    Probing { until: Instant },
    /// The terminal answers: frames wait for answers.
    Given,
    /// It did not answer in time (or is not asked): frames are paced by their cost.
    Never,
}

/// When the next frame may go. Pure: the event loop tells it what happened and when.
#[derive(Debug)]
pub struct Pacer {
    answers: Answers,
    /// Frames whose question has not been answered yet, oldest first: when each was sent.
    in_flight: std::collections::VecDeque<Instant>,
    /// The most frames allowed in flight; 0 never asks the terminal.
    limit: usize,
    last_frame: Option<Instant>,
    gap: Duration,
}

impl Pacer {
    /// A pacer allowing `limit` frames in flight (at most [`MAX_IN_FLIGHT`]); 0 never asks the
    /// terminal and paces frames by their cost alone.
    pub fn new(limit: usize) -> Pacer {
        let limit = limit.min(MAX_IN_FLIGHT);
        Pacer {
            answers: if limit == 0 {
                Answers::Never
            } else {
                Answers::Probing {
                    until: Instant::now() + PROBE_PATIENCE,
                }
            },
            in_flight: std::collections::VecDeque::new(),
            limit,
            last_frame: None,
            gap: FRAME_GAP,
        }
    }

    /// The limit of frames in flight `OPSDECK_FRAMES_IN_FLIGHT` asks for: 0 (never ask the
    /// terminal), 1 or 2; anything else is the default.
    pub fn limit_from(var: Option<&str>) -> usize {
        match var.map(str::trim).and_then(|v| v.parse::<usize>().ok()) {
            Some(n) if n <= MAX_IN_FLIGHT => n,
            _ => DEFAULT_IN_FLIGHT,
        }
    }

    pub fn answers(&self) -> Answers {
        self.answers
    }

    /// Frames sent whose answer is still to come.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether a frame may be drawn now (given that the writer is free), apart from its gap.
    pub fn open(&self) -> bool {
        match self.answers {
            Answers::Never => true,
            Answers::Probing { .. } | Answers::Given => self.in_flight.len() < self.limit,
        }
    }

    /// The earliest time for the next frame, if [`Pacer::open`].
    pub fn next_frame_at(&self, now: Instant) -> Instant {
        self.last_frame.map_or(now, |t| t + self.gap)
    }

    /// A frame is about to go at `now`: whether to append [`QUERY`] to it.
    pub fn frame_sent(&mut self, now: Instant) -> bool {
        self.last_frame = Some(now);
        if self.answers == Answers::Never {
            return false;
        }
        self.in_flight.push_back(now);
        true
    }

    /// The writer has written a frame of `bytes` in `took`: the gap before the next one.
    pub fn frame_written(&mut self, took: Duration, bytes: u64) {
        self.gap = match self.answers {
            // The answers pace the link; the gap keeps the byte budget.
            Answers::Given | Answers::Probing { .. } => {
                byte_gap(bytes).clamp(FRAME_GAP, MAX_FRAME_GAP)
            }
            Answers::Never => next_frame_gap(took, bytes),
        }
    }

    /// The terminal answered a question: the oldest frame in flight has reached it.
    pub fn answered(&mut self) {
        if self.limit == 0 {
            return;
        }
        self.answers = Answers::Given;
        self.in_flight.pop_front();
    }

    /// When [`Pacer::timed_out`] should next be asked, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        match self.answers {
            Answers::Probing { until } => Some(until),
            Answers::Given => self.in_flight.front().map(|sent| *sent + ANSWER_PATIENCE),
            Answers::Never => None,
        }
    }

    /// Time has come to `now`: a probe unanswered past its patience means a terminal that never
    /// answers; answers overdue from one that does are given up on.
    pub fn timed_out(&mut self, now: Instant) {
        match self.answers {
            Answers::Probing { until } if now >= until => {
                tracing::info!("the terminal does not answer; frames paced by their cost");
                self.answers = Answers::Never;
                self.in_flight.clear();
            }
            Answers::Given
                if self
                    .in_flight
                    .front()
                    .is_some_and(|sent| now >= *sent + ANSWER_PATIENCE) =>
            {
                tracing::warn!(
                    frames = self.in_flight.len(),
                    "the terminal's answers are overdue; not waiting for them"
                );
                self.in_flight.clear();
            }
            _ => {}
        }
    }

    /// The terminal was given back and taken again (Ctrl-Z): answers to questions asked before
    /// are not waited for.
    pub fn forget_in_flight(&mut self) {
        self.in_flight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_frames_space_out_the_next_ones_within_bounds() {
        assert_eq!(next_frame_gap(Duration::from_micros(300), 500), FRAME_GAP);
        assert_eq!(
            next_frame_gap(Duration::from_millis(50), 500),
            Duration::from_millis(200)
        );
        assert_eq!(next_frame_gap(Duration::from_secs(3), 0), MAX_FRAME_GAP);
    }

    #[test]
    fn big_frames_keep_the_output_under_the_byte_budget() {
        // A log firehose frame of ~3.5 KB: about 14 frames a second, under 48 KB/s.
        let gap = next_frame_gap(Duration::from_micros(800), 3538);
        let per_sec = 3538.0 / gap.as_secs_f64();
        assert!(per_sec <= BYTE_BUDGET_PER_SEC as f64 + 1.0, "{per_sec} B/s");
        assert!(gap > FRAME_GAP);
        // A 1 Hz dashboard frame (~800 bytes) is not held back noticeably.
        assert!(next_frame_gap(Duration::from_micros(300), 800) < Duration::from_millis(20));
    }

    #[test]
    fn frames_wait_for_the_answer_to_the_one_in_flight() {
        let mut pacer = Pacer::new(1);
        let t0 = Instant::now();
        assert!(pacer.open());
        assert!(pacer.frame_sent(t0), "the first frame asks");
        pacer.frame_written(Duration::from_millis(1), 4000);
        assert!(!pacer.open(), "one in flight: the next waits");
        pacer.answered();
        assert_eq!(pacer.answers(), Answers::Given);
        assert!(pacer.open());
        assert!(pacer.frame_sent(t0));
        assert_eq!(pacer.in_flight(), 1);
    }

    #[test]
    fn two_in_flight_when_asked_for() {
        let mut pacer = Pacer::new(Pacer::limit_from(Some("2")));
        let t0 = Instant::now();
        pacer.frame_sent(t0);
        assert!(pacer.open());
        pacer.frame_sent(t0);
        assert!(!pacer.open());
        pacer.answered();
        assert!(pacer.open());
        assert_eq!(Pacer::limit_from(Some("7")), DEFAULT_IN_FLIGHT);
        assert_eq!(Pacer::limit_from(None), DEFAULT_IN_FLIGHT);
        assert_eq!(Pacer::limit_from(Some("0")), 0);
    }

    #[test]
    fn a_terminal_that_never_answers_falls_back_to_pacing_by_cost_and_is_not_asked_again() {
        let mut pacer = Pacer::new(1);
        let t0 = Instant::now();
        pacer.frame_sent(t0);
        let Some(until) = pacer.deadline() else {
            panic!("the probe has a deadline");
        };
        pacer.timed_out(until - Duration::from_millis(1));
        assert!(!pacer.open(), "still probing");
        pacer.timed_out(until);
        assert_eq!(pacer.answers(), Answers::Never);
        assert!(pacer.open());
        assert!(!pacer.frame_sent(until), "no more questions");
        pacer.frame_written(Duration::from_millis(50), 500);
        assert_eq!(
            pacer.next_frame_at(until),
            until + Duration::from_millis(200)
        );
        // A late answer to the probe: the terminal does answer after all.
        pacer.answered();
        assert_eq!(pacer.answers(), Answers::Given);
        assert!(pacer.frame_sent(until));
    }

    #[test]
    fn overdue_answers_are_given_up_on() {
        let mut pacer = Pacer::new(1);
        let t0 = Instant::now();
        pacer.frame_sent(t0);
        pacer.answered();
        pacer.frame_sent(t0);
        assert!(!pacer.open());
        assert_eq!(pacer.deadline(), Some(t0 + ANSWER_PATIENCE));
        pacer.timed_out(t0 + ANSWER_PATIENCE);
        assert!(pacer.open());
        assert_eq!(pacer.answers(), Answers::Given, "it still answers");
        // The late answer then finds nothing to settle.
        pacer.answered();
        assert_eq!(pacer.in_flight(), 0);
    }

    #[test]
    fn never_asking_is_a_choice() {
        let mut pacer = Pacer::new(0);
        assert_eq!(pacer.answers(), Answers::Never);
        assert!(!pacer.frame_sent(Instant::now()));
        assert_eq!(pacer.deadline(), None);
    }
}

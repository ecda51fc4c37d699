//! How often the console draws, and when the next frame may go.
//!
//! At most every 16 ms, and only when something changed (the event loop's job). Beyond that:
//! - the terminal paces the frames: every frame ends with a question the terminal answers in
//!   order, after it has taken in everything before it (primary device attributes, `CSI c`),
//!   and no more than [`Pacer`]'s limit of frames (default one) go out before their answers
//!   are back. However much sshd and TCP buffer between the console and the operator's
//!   terminal, the frame rate follows what reaches the glass, and what is drawn next is the
//!   latest state, not a queue of old frames. A frame that answers the operator's key goes
//!   at once, even with the limit reached (one more in flight, no byte-budget gap): the key
//!   waits only for the frame ahead of it to cross the link, never for that frame's answer;
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

/// A frame whose question has not been answered yet.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    bytes: u64,
    /// Another frame was in flight when it went (it crossed the link right behind that one).
    behind: bool,
}

/// How many frames may be in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Chosen by the link as measured (`tui::link`): see [`Pacer::open`].
    ByLink,
    /// Fixed (`OPSDECK_FRAMES_IN_FLIGHT`): 0 never asks the terminal.
    Fixed(usize),
}

/// When the next frame may go. Pure: the event loop tells it what happened and when.
#[derive(Debug)]
pub struct Pacer {
    answers: Answers,
    /// Frames whose question has not been answered yet, oldest first.
    in_flight: std::collections::VecDeque<Sent>,
    limit: Limit,
    link: super::link::Link,
    /// What the link allowed last: (frames of data, whether a key goes ahead), to log changes.
    chosen: (usize, bool),
    last_frame: Option<Instant>,
    gap: Duration,
}

impl Pacer {
    /// A pacer allowing `limit` frames in flight (fixed ones at most [`MAX_IN_FLIGHT`]);
    /// `Fixed(0)` never asks the terminal and paces frames by their cost alone.
    pub fn new(limit: Limit) -> Pacer {
        let limit = match limit {
            Limit::Fixed(n) => Limit::Fixed(n.min(MAX_IN_FLIGHT)),
            Limit::ByLink => Limit::ByLink,
        };
        Pacer {
            answers: if limit == Limit::Fixed(0) {
                Answers::Never
            } else {
                Answers::Probing {
                    until: Instant::now() + PROBE_PATIENCE,
                }
            },
            in_flight: std::collections::VecDeque::new(),
            limit,
            link: super::link::Link::default(),
            chosen: (1, true),
            last_frame: None,
            gap: FRAME_GAP,
        }
    }

    /// The limit `OPSDECK_FRAMES_IN_FLIGHT` asks for: 0 (never ask the terminal), 1 or 2;
    /// unset or anything else, chosen by the link.
    pub fn limit_from(var: Option<&str>) -> Limit {
        match var.map(str::trim).and_then(|v| v.parse::<usize>().ok()) {
            Some(n) if n <= MAX_IN_FLIGHT => Limit::Fixed(n),
            _ => Limit::ByLink,
        }
    }

    /// Frames of data allowed in flight: a fixed limit, or by the link two while a frame
    /// crosses it in less than a round trip (one in flight would leave it idle more than half
    /// the time), else one.
    fn data_limit(&self) -> usize {
        match self.limit {
            Limit::Fixed(n) => n,
            Limit::ByLink => match (self.link.transit(), self.link.round_trip()) {
                (Some(transit), Some(rtt)) if transit < rtt => 2,
                _ => 1,
            },
        }
    }

    /// Whether a key's frame may go with one more in flight than data may: it gains the key a
    /// round trip (it need not wait for the answer to the frame ahead) and costs what follows
    /// one frame's transit, so it goes unless a frame is known to take more than two round trips
    /// to cross (a link so slow that frames queued behind one another leave the screen seconds
    /// old).
    fn key_goes_ahead(&self) -> bool {
        match (self.link.transit(), self.link.round_trip()) {
            (Some(transit), Some(rtt)) => transit <= rtt * 2,
            _ => true,
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
    /// A frame that shows the effect of a key (`for_key`) may go with one more in flight
    /// ([`Pacer::key_goes_ahead`]).
    pub fn open(&self, for_key: bool) -> bool {
        match self.answers {
            Answers::Never => true,
            Answers::Probing { .. } | Answers::Given => {
                let extra = usize::from(for_key && self.key_goes_ahead());
                self.in_flight.len() < self.data_limit() + extra
            }
        }
    }

    /// The earliest time for the next frame, if [`Pacer::open`]. A key's frame keeps only the
    /// shortest gap, not the byte budget's.
    pub fn next_frame_at(&self, now: Instant, for_key: bool) -> Instant {
        let gap = if for_key && self.answers != Answers::Never {
            FRAME_GAP
        } else {
            self.gap
        };
        self.last_frame.map_or(now, |t| t + gap)
    }

    /// A frame of `bytes` is about to go at `now`: whether to append [`QUERY`] to it.
    pub fn frame_sent(&mut self, now: Instant, bytes: u64) -> bool {
        self.last_frame = Some(now);
        if self.answers == Answers::Never {
            return false;
        }
        self.in_flight.push_back(Sent {
            at: now,
            bytes,
            behind: !self.in_flight.is_empty(),
        });
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

    /// The terminal answered a question at `now`: the oldest frame in flight has reached it.
    pub fn answered(&mut self, now: Instant) {
        if self.limit == Limit::Fixed(0) {
            return;
        }
        self.answers = Answers::Given;
        if let Some(sent) = self.in_flight.pop_front() {
            self.link.answered(sent.at, sent.bytes, sent.behind, now);
            let chosen = (self.data_limit(), self.key_goes_ahead());
            if chosen != self.chosen {
                self.chosen = chosen;
                tracing::debug!(
                    rate = ?self.link.rate().map(|r| (r / 1024.0).round()),
                    round_trip = ?self.link.round_trip(),
                    transit = ?self.link.transit(),
                    in_flight = chosen.0,
                    key_goes_ahead = chosen.1,
                    "frames in flight chosen by the link (rate in KB/s)"
                );
            }
        }
    }

    /// What the answers have told of the link: (rate in bytes/s, round trip), each if known.
    pub fn link(&self) -> (Option<f64>, Option<Duration>) {
        (self.link.rate(), self.link.round_trip())
    }

    /// When [`Pacer::timed_out`] should next be asked, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        match self.answers {
            Answers::Probing { until } => Some(until),
            Answers::Given => self.in_flight.front().map(|sent| sent.at + ANSWER_PATIENCE),
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
                self.link.lost_track();
            }
            Answers::Given
                if self
                    .in_flight
                    .front()
                    .is_some_and(|sent| now >= sent.at + ANSWER_PATIENCE) =>
            {
                tracing::warn!(
                    frames = self.in_flight.len(),
                    "the terminal's answers are overdue; not waiting for them"
                );
                self.in_flight.clear();
                self.link.lost_track();
            }
            _ => {}
        }
    }

    /// The terminal was given back and taken again (Ctrl-Z): answers to questions asked before
    /// are not waited for.
    pub fn forget_in_flight(&mut self) {
        self.in_flight.clear();
        self.link.lost_track();
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
        let mut pacer = Pacer::new(Limit::Fixed(1));
        let t0 = Instant::now();
        assert!(pacer.open(false));
        assert!(pacer.frame_sent(t0, 4000), "the first frame asks");
        pacer.frame_written(Duration::from_millis(1), 4000);
        assert!(!pacer.open(false), "one in flight: the next waits");
        pacer.answered(t0);
        assert_eq!(pacer.answers(), Answers::Given);
        assert!(pacer.open(false));
        assert!(pacer.frame_sent(t0, 4000));
        assert_eq!(pacer.in_flight(), 1);
    }

    #[test]
    fn a_keys_frame_goes_with_one_more_in_flight_and_without_the_byte_gap() {
        let mut pacer = Pacer::new(Limit::Fixed(1));
        let t0 = Instant::now();
        pacer.frame_sent(t0, 4000);
        pacer.frame_written(Duration::from_millis(1), 6000);
        pacer.answered(t0);
        pacer.frame_sent(t0, 4000);
        pacer.frame_written(Duration::from_millis(1), 6000);
        assert!(!pacer.open(false), "data waits for the answer");
        assert!(pacer.open(true), "a key's frame does not");
        assert!(pacer.next_frame_at(t0, false) > t0 + Duration::from_millis(100));
        assert_eq!(pacer.next_frame_at(t0, true), t0 + FRAME_GAP);
        pacer.frame_sent(t0 + FRAME_GAP, 4000);
        assert!(!pacer.open(true), "never more than one extra");
        pacer.answered(t0);
        assert!(
            !pacer.open(false),
            "data waits until one is in flight again"
        );
        pacer.answered(t0);
        assert!(pacer.open(false));
    }

    /// Frames of `bytes` over a link of `kb_per_sec` with a 100 ms round trip: a frame, then a
    /// key's frame right behind it, answered as the link would, `pairs` times. Returns the pacer.
    fn learn(kb_per_sec: f64, bytes: u64, pairs: usize) -> Pacer {
        let rate = kb_per_sec * 1024.0;
        let (half_rtt, transit) = (
            Duration::from_millis(50),
            Duration::from_secs_f64(bytes as f64 / rate),
        );
        let mut pacer = Pacer::new(Limit::ByLink);
        let mut t = Instant::now();
        for _ in 0..pairs {
            assert!(pacer.open(false));
            pacer.frame_sent(t, bytes);
            assert!(
                pacer.open(true),
                "a key goes ahead while the link is not known slow"
            );
            pacer.frame_sent(t + Duration::from_millis(1), bytes);
            let first = t + half_rtt + transit + half_rtt;
            pacer.answered(first);
            pacer.answered(first + transit);
            t = first + transit;
        }
        pacer
    }

    #[test]
    fn the_link_chooses_how_many_frames_go_in_flight() {
        // 125 KB/s, 3.4 KB frames: 27 ms to cross, a 100 ms round trip: two frames of data.
        let mut fast = learn(125.0, 3400, 4);
        let (rate, rtt) = fast.link();
        assert!(
            rate.is_some_and(|r| (r - 128_000.0).abs() < 2_000.0),
            "{rate:?}"
        );
        assert!(
            rtt.is_some_and(|d| d.as_millis().abs_diff(100) <= 2),
            "{rtt:?}"
        );
        let t = Instant::now() + Duration::from_secs(1);
        fast.frame_sent(t, 3400);
        assert!(fast.open(false), "a second frame of data goes");
        fast.frame_sent(t, 3400);
        assert!(!fast.open(false));
        assert!(fast.open(true), "and a key's on top");
        // 32 KB/s, 5 KB frames: 150 ms to cross: one frame of data, a key may go ahead.
        let mut middling = learn(32.0, 5000, 4);
        middling.frame_sent(t, 5000);
        assert!(!middling.open(false));
        assert!(middling.open(true));
        // 8 KB/s, 5.5 KB frames: 670 ms to cross: one frame in flight, key or not.
        let mut slow = learn(8.0, 5500, 4);
        slow.frame_sent(t, 5500);
        assert!(!slow.open(false));
        assert!(
            !slow.open(true),
            "frames queued behind each other would leave the screen old"
        );
        // A fixed limit is kept whatever the link.
        let mut fixed = Pacer::new(Limit::Fixed(1));
        fixed.frame_sent(t, 3400);
        assert!(!fixed.open(false));
    }

    #[test]
    fn two_in_flight_when_asked_for() {
        let mut pacer = Pacer::new(Pacer::limit_from(Some("2")));
        let t0 = Instant::now();
        pacer.frame_sent(t0, 4000);
        assert!(pacer.open(false));
        pacer.frame_sent(t0, 4000);
        assert!(!pacer.open(false));
        pacer.answered(t0);
        assert!(pacer.open(false));
        assert_eq!(Pacer::limit_from(Some("7")), Limit::ByLink);
        assert_eq!(Pacer::limit_from(None), Limit::ByLink);
        assert_eq!(Pacer::limit_from(Some("0")), Limit::Fixed(0));
    }

    #[test]
    fn a_terminal_that_never_answers_falls_back_to_pacing_by_cost_and_is_not_asked_again() {
        let mut pacer = Pacer::new(Limit::Fixed(1));
        let t0 = Instant::now();
        pacer.frame_sent(t0, 4000);
        let Some(until) = pacer.deadline() else {
            panic!("the probe has a deadline");
        };
        pacer.timed_out(until - Duration::from_millis(1));
        assert!(!pacer.open(false), "still probing");
        pacer.timed_out(until);
        assert_eq!(pacer.answers(), Answers::Never);
        assert!(pacer.open(false));
        assert!(!pacer.frame_sent(until, 4000), "no more questions");
        pacer.frame_written(Duration::from_millis(50), 500);
        assert_eq!(
            pacer.next_frame_at(until, false),
            until + Duration::from_millis(200)
        );
        // A late answer to the probe: the terminal does answer after all.
        pacer.answered(t0);
        assert_eq!(pacer.answers(), Answers::Given);
        assert!(pacer.frame_sent(until, 4000));
    }

    #[test]
    fn overdue_answers_are_given_up_on() {
        let mut pacer = Pacer::new(Limit::Fixed(1));
        let t0 = Instant::now();
        pacer.frame_sent(t0, 4000);
        pacer.answered(t0);
        pacer.frame_sent(t0, 4000);
        assert!(!pacer.open(false));
        assert_eq!(pacer.deadline(), Some(t0 + ANSWER_PATIENCE));
        pacer.timed_out(t0 + ANSWER_PATIENCE);
        assert!(pacer.open(false));
        assert_eq!(pacer.answers(), Answers::Given, "it still answers");
        // The late answer then finds nothing to settle.
        pacer.answered(t0);
        assert_eq!(pacer.in_flight(), 0);
    }

    #[test]
    fn never_asking_is_a_choice() {
        let mut pacer = Pacer::new(Limit::Fixed(0));
        assert_eq!(pacer.answers(), Answers::Never);
        assert!(!pacer.frame_sent(Instant::now(), 4000));
        assert_eq!(pacer.deadline(), None);
    }
}

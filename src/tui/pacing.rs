//! How often the console draws. At most every 16 ms, and only when something changed (the event
//! loop's job); beyond that, the gap after a frame grows with what the frame cost:
//! - time: writing blocks when the terminal or the SSH link behind it is slow, so a frame that took
//!   long to write spaces out the next ones and no output backlog builds up;
//! - bytes: the console keeps its output under a byte budget, so a log firehose over SSH costs
//!   at most ~48 KB/s (TARGETS P2: ≤ 64 KB/s) by drawing fewer, fuller frames.

use std::time::Duration;

/// Shortest time between two frames.
pub const FRAME_GAP: Duration = Duration::from_millis(16);
/// The longest gap adaptive pacing allows between frames.
pub const MAX_FRAME_GAP: Duration = Duration::from_secs(1);
/// Bytes per second the console aims to stay under.
pub const BYTE_BUDGET_PER_SEC: u64 = 48 * 1024;

/// The gap before the next frame, after one that took `cost` to draw and write `bytes`.
pub fn next_frame_gap(cost: Duration, bytes: u64) -> Duration {
    let by_time = cost * 4;
    let by_bytes = Duration::from_secs_f64(bytes as f64 / BYTE_BUDGET_PER_SEC as f64);
    by_time.max(by_bytes).clamp(FRAME_GAP, MAX_FRAME_GAP)
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
}

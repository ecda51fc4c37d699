//! How opsdeck writes a span of time. Every age, duration and hold on the console's screens, in
//! runbook plans and in run logs is written here, in one of a few shapes, so that the same
//! length reads the same wherever it shows.

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// Seconds from a signed difference; a negative one (a clock ahead of the other) is 0.
pub fn clamp(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0)
}

/// One unit, rounded down, for narrow columns: `45s`, `12m`, `3h`, `5d`.
pub fn coarse(secs: u64) -> String {
    match secs {
        s if s < MINUTE => format!("{s}s"),
        s if s < HOUR => format!("{}m", s / MINUTE),
        s if s < DAY => format!("{}h", s / HOUR),
        s => format!("{}d", s / DAY),
    }
}

/// Minutes below the hour, then two units: `45s`, `12m`, `3h05m`, `2d3h` (how long an alert has
/// been firing).
pub fn age(secs: u64) -> String {
    match secs {
        s if s < MINUTE => format!("{s}s"),
        s if s < HOUR => format!("{}m", s / MINUTE),
        s if s < DAY => format!("{}h{:02}m", s / HOUR, s % HOUR / MINUTE),
        s => format!("{}d{}h", s / DAY, s % DAY / HOUR),
    }
}

/// Two units, the second padded, like a stopwatch: `12s`, `3m05s`, `1h02m` (how long a step
/// ran).
pub fn stopwatch(secs: u64) -> String {
    match secs {
        s if s < MINUTE => format!("{s}s"),
        s if s < HOUR => format!("{}m{:02}s", s / MINUTE, s % MINUTE),
        s => format!("{}h{:02}m", s / HOUR, s % HOUR / MINUTE),
    }
}

/// Every unit that is not zero: `45s`, `15m`, `1h30m`, `2d4h` (a duration the operator typed,
/// read back exactly).
pub fn exact(secs: u64) -> String {
    let units = [
        (secs / DAY, "d"),
        (secs % DAY / HOUR, "h"),
        (secs % HOUR / MINUTE, "m"),
        (secs % MINUTE, "s"),
    ];
    let out: String = units
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if out.is_empty() { "0s".into() } else { out }
}

/// In words, for runbook plans and run logs: `45 s`, `5 min`, `1 min 30 s`, `1 h 30 min`.
pub fn spoken(secs: u64) -> String {
    match secs {
        s if s < MINUTE => format!("{s} s"),
        s if s < HOUR && s % MINUTE == 0 => format!("{} min", s / MINUTE),
        s if s < HOUR => format!("{} min {} s", s / MINUTE, s % MINUTE),
        s if s % HOUR == 0 => format!("{} h", s / HOUR),
        s => format!("{} h {} min", s / HOUR, (s % HOUR) / MINUTE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_reads_as_documented() {
        assert_eq!(clamp(-5), 0);
        assert_eq!(
            [45, 12 * 60 + 5, 3 * 3600 + 5 * 60, 2 * 86_400 + 3 * 3600].map(coarse),
            ["45s", "12m", "3h", "2d"]
        );
        assert_eq!(
            [45, 12 * 60 + 5, 3 * 3600 + 5 * 60, 2 * 86_400 + 3 * 3600].map(age),
            ["45s", "12m", "3h05m", "2d3h"]
        );
        assert_eq!([12, 185, 3720].map(stopwatch), ["12s", "3m05s", "1h02m"]);
        assert_eq!(
            [0, 45, 900, 5400, 2 * 86_400 + 4 * 3600].map(exact),
            ["0s", "45s", "15m", "1h30m", "2d4h"]
        );
        assert_eq!(
            [45, 60, 90, 300, 330, 7200, 5400].map(spoken),
            [
                "45 s",
                "1 min",
                "1 min 30 s",
                "5 min",
                "5 min 30 s",
                "2 h",
                "1 h 30 min"
            ]
        );
    }
}

//! How numbers, times and names look on screen: short, fixed-width-friendly, width-aware.

use chrono::{DateTime, Utc};
use unicode_width::UnicodeWidthChar;

use crate::duration;

/// Requests per second: `75.5`, `860`, `1.24k`, `12.3k`.
pub fn rps(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.2}k", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Latency: `182ms`, `1.45s`.
pub fn latency_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else {
        format!("{v:.0}ms")
    }
}

/// A ratio as a percentage with two decimals: `0.20%`, `100%`.
pub fn percent2(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p >= 99.995 {
        "100%".into()
    } else {
        format!("{p:.2}%")
    }
}

/// A ratio as a whole percentage: `61%`.
pub fn percent0(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

/// Wall-clock time for the status bar and banners.
pub fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M:%S").to_string()
}

/// How long ago `t` was, in one short unit: `45s`, `12m`, `3h`, `5d`.
pub fn age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    duration::coarse(duration::clamp((now - t).num_seconds()))
}

/// Terminal columns `text` takes (a CJK character takes two).
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` as a column `width` terminal columns wide: cut (with `…`) to leave at least one
/// column of space after it, then padded with spaces. `format!("{:<N}")` pads by characters
/// and never cuts, so a long value or a CJK name ran into the next column ("downstream_growth[");
/// every padded column of text goes through here instead.
pub fn column(text: &str, width: usize) -> String {
    let cut = truncate(text, width.saturating_sub(1));
    let used: usize = cut.chars().map(|c| c.width().unwrap_or(0)).sum();
    format!("{cut}{}", " ".repeat(width.saturating_sub(used)))
}

/// Cut `text` to at most `max` terminal columns, ending with `…` when cut. Wide (CJK)
/// characters are never split. It is one line of screen: a line break in the text (a runbook's
/// multi-line description) becomes a space, where the terminal would have drawn nothing and
/// glued the words on either side ("release(or a named one)").
pub fn truncate(text: &str, max: usize) -> String {
    let flat;
    let text = if text.contains(['\n', '\r', '\t']) {
        flat = text
            .trim()
            .split(['\n', '\r', '\t'])
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        flat.as_str()
    } else {
        text
    };
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` broken into lines of at most `width` terminal columns, at spaces, or between two wide
/// (CJK) characters, which need none; a word wider than `width` is cut where it must be, never
/// inside a character. A line break in the text starts a new line; a tab counts as a space.
/// Empty text is one empty line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in paragraph.split([' ', '\t', '\r']).filter(|w| !w.is_empty()) {
            for (unit, unit_w, after_space) in units(word) {
                let gap = usize::from(after_space && used > 0);
                if used > 0 && used + gap + unit_w > width {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                } else if gap == 1 {
                    line.push(' ');
                    used += 1;
                }
                // A unit wider than the whole line: cut it, a character at a time.
                for c in unit.chars() {
                    let w = c.width().unwrap_or(0);
                    if used > 0 && used + w > width {
                        lines.push(std::mem::take(&mut line));
                        used = 0;
                    }
                    line.push(c);
                    used += w;
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// The pieces of one space-free `word` a line may break between: runs of narrow characters and
/// single wide ones, each with its width and whether a space comes before it (only the first).
fn units(word: &str) -> Vec<(&str, usize, bool)> {
    let mut out: Vec<(&str, usize, bool)> = Vec::new();
    let mut start = 0;
    let mut run_w = 0;
    for (i, c) in word.char_indices() {
        let w = c.width().unwrap_or(0);
        if w > 1 {
            if i > start {
                out.push((&word[start..i], run_w, out.is_empty()));
            }
            let end = i + c.len_utf8();
            out.push((&word[i..end], w, out.is_empty()));
            start = end;
            run_w = 0;
        } else {
            run_w += w;
        }
    }
    if start < word.len() {
        out.push((&word[start..], run_w, out.is_empty()));
    }
    out
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A one-line sparkline of the last `width` values, right-aligned in `width`. It spans their
/// own min..max, so steady traffic shows its changes rather than a row of full blocks; the span
/// is at least a quarter of the maximum, so a little noise stays low and a real swing (a drop
/// to half) still fills the height.
pub fn sparkline(values: impl Iterator<Item = f64>, width: usize) -> String {
    let values: Vec<f64> = values.collect();
    let shown = &values[values.len().saturating_sub(width)..];
    let (lo, hi) = shown
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let span = (hi - lo).max(hi.abs() * 0.25);
    let mut out = " ".repeat(width.saturating_sub(shown.len()));
    for v in shown {
        let level = if span > 0.0 && v.is_finite() {
            (((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize
        } else {
            0
        };
        out.push(BARS[level]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(rps(75.55), "75.5");
        assert_eq!(rps(1240.0), "1.24k");
        assert_eq!(rps(12_345.0), "12.3k");
        assert_eq!(latency_ms(182.4), "182ms");
        assert_eq!(latency_ms(1450.0), "1.45s");
        assert_eq!(percent2(0.034), "3.40%");
        assert_eq!(percent2(1.0), "100%");
        assert_eq!(percent0(0.61), "61%");
    }

    #[test]
    fn a_line_break_reads_as_a_space_and_columns_keep_a_gap() {
        let text = "roll back to the previous good release\n(or a named one)";
        assert_eq!(
            truncate(text, 80),
            "roll back to the previous good release (or a named one)"
        );
        assert_eq!(column("downstream_growth", 14), "downstream_g… ");
        assert_eq!(column("app", 6), "app   ");
        // CJK: two columns a character, and still a gap.
        assert_eq!(column("购物车服务", 6), "购物… ");
    }

    #[test]
    fn truncation_respects_wide_characters() {
        assert_eq!(truncate("购物车 shop-cart", 20), "购物车 shop-cart");
        assert_eq!(truncate("购物车 shop-cart", 6), "购物…");
        assert_eq!(truncate("购物车", 4), "购…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_between_wide_characters() {
        assert_eq!(
            wrap("now: alert_age = 5 min, want alert_age <= release_age", 20),
            [
                "now: alert_age = 5",
                "min, want alert_age",
                "<= release_age"
            ]
        );
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a\nb c", 10), ["a", "b c"]);
        // A word longer than the line is cut, and nothing is lost.
        assert_eq!(
            wrap("registry/shop-cart:v2", 8),
            ["registry", "/shop-ca", "rt:v2"]
        );
        // CJK: two columns a character, a break anywhere between two of them.
        assert_eq!(wrap("购物车错误率 3.4%", 7), ["购物车", "错误率", "3.4%"]);
        assert_eq!(wrap("ok 购物车", 5), ["ok 购", "物车"]);
        for line in wrap("优惠券 Coupon 活动中心 is down since 12m", 9) {
            let w: usize = line.chars().map(|c| c.width().unwrap_or(0)).sum();
            assert!(w <= 9, "{line:?}");
        }
    }

    #[test]
    fn sparkline_spans_the_shown_values_min_to_max() {
        assert_eq!(sparkline([0.0, 5.0, 10.0].into_iter(), 5), "  ▁▅█");
        // Only the last two are shown, and they span the whole height.
        assert_eq!(sparkline([1.0, 2.0, 3.0].into_iter(), 2), "▁█");
        // Steady traffic around 1,000 rps shows a 10 % dip, not a row of full blocks.
        assert_eq!(
            sparkline([1000.0, 1000.0, 900.0, 1000.0].into_iter(), 4),
            "▄▄▁▄"
        );
        // A drop to half fills the height.
        assert_eq!(sparkline([1000.0, 500.0, 1000.0].into_iter(), 3), "█▁█");
        // Noise of 1 % stays low and flat: the span is at least a quarter of the maximum.
        assert_eq!(sparkline([1000.0, 990.0, 1000.0].into_iter(), 3), "▁▁▁");
        assert_eq!(sparkline([0.0, 0.0].into_iter(), 2), "▁▁");
        assert_eq!(sparkline([f64::NAN, 2.0].into_iter(), 2), "▁▁");
    }
}

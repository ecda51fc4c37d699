//! An operator's regex, as the Logs view's search and filter and the Events view's `/` filter
//! take it. Compiled twice: once to test one message, once to scan many messages
//! joined into one haystack. Scanning a joined batch pays the regex's per-call cost once per
//! batch instead of once per line, which is what makes search over a million lines fast
//! (see benches/logs.rs).
//!
//! A batch hit is only a candidate: the batch regex is multi-line so `^`/`$` match at message
//! boundaries, and a match may run across two messages, so every candidate line is confirmed
//! with the one-message regex. Every line that matches on its own is a candidate, so nothing
//! is missed; `\A` and `\z` would break that, and patterns using them scan line by line.

use regex::{Regex, RegexBuilder};

/// Why a pattern typed by the operator cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid regex: {0}")]
pub struct PatternError(pub String);

/// regex's errors draw the pattern with a caret over several lines; the last line says why.
fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// Longest compiled regex program accepted, bytes; keeps a pasted monster from stalling ingest.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Messages joined per batch.
const BATCH_LINES: usize = 1024;

/// A compiled search or filter pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    line: Regex,
    /// `None` when the pattern anchors to the whole text (`\A`, `\z`).
    batch: Option<Regex>,
}

impl Pattern {
    /// Case-insensitive unless the pattern has an upper-case letter (the Logs view's search).
    pub fn new(pattern: &str) -> Result<Pattern, PatternError> {
        let smart_case = !pattern.chars().any(char::is_uppercase);
        Pattern::build(pattern, smart_case)
    }

    /// Case-insensitive whatever its letters (the `/` filters of lists); `(?-i)` turns it off.
    pub fn ignoring_case(pattern: &str) -> Result<Pattern, PatternError> {
        Pattern::build(pattern, true)
    }

    fn build(pattern: &str, ignore_case: bool) -> Result<Pattern, PatternError> {
        let build = |multi_line: bool| {
            RegexBuilder::new(pattern)
                .case_insensitive(ignore_case)
                .multi_line(multi_line)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| PatternError(first_line(&e.to_string())))
        };
        let line = build(false)?;
        let anchored = pattern.contains(r"\A") || pattern.contains(r"\z");
        let batch = if anchored { None } else { Some(build(true)?) };
        Ok(Pattern { line, batch })
    }

    /// The pattern as typed.
    pub fn as_str(&self) -> &str {
        self.line.as_str()
    }

    /// The one-message regex, for highlighting.
    pub fn regex(&self) -> &Regex {
        &self.line
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.line.is_match(text)
    }

    /// Call `hit` with the index of every text that matches, in order.
    pub fn scan<'t>(&self, texts: impl IntoIterator<Item = &'t str>, mut hit: impl FnMut(usize)) {
        let Some(batch_re) = &self.batch else {
            for (i, t) in texts.into_iter().enumerate() {
                if self.line.is_match(t) {
                    hit(i);
                }
            }
            return;
        };
        let mut hay = String::new();
        // Byte offset in `hay` where each text starts.
        let mut starts: Vec<usize> = Vec::with_capacity(BATCH_LINES + 1);
        let mut texts = texts.into_iter();
        let mut first = 0;
        loop {
            hay.clear();
            starts.clear();
            for t in texts.by_ref().take(BATCH_LINES) {
                starts.push(hay.len());
                hay.push_str(t);
                hay.push('\n');
            }
            if starts.is_empty() {
                return;
            }
            let mut at = 0;
            while let Some(m) = batch_re.find_at(&hay, at) {
                // The text the candidate starts in, and its bounds.
                let k = starts.partition_point(|&s| s <= m.start()) - 1;
                let end = starts.get(k + 1).copied().unwrap_or(hay.len());
                if self.line.is_match(&hay[starts[k]..end - 1]) {
                    hit(first + k);
                }
                if end >= hay.len() {
                    break;
                }
                at = end;
            }
            first += starts.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(pattern: &str, texts: &[&str]) -> Vec<usize> {
        let p = Pattern::new(pattern).unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        p.scan(texts.iter().copied(), |i| out.push(i));
        // Same answer as testing each text alone.
        let one_by_one: Vec<usize> = (0..texts.len()).filter(|&i| p.is_match(texts[i])).collect();
        assert_eq!(out, one_by_one, "{pattern}");
        out
    }

    #[test]
    fn batch_scan_agrees_with_testing_each_line() {
        let texts = [
            "GET /cart 200",
            "timeout\n    at a.b",
            "at the end",
            "",
            "慢查询 slow",
            "x timeout",
        ];
        assert_eq!(hits("timeout", &texts), vec![1, 5]);
        assert_eq!(hits("^at", &texts), vec![2]);
        assert_eq!(hits("200$", &texts), vec![0]);
        assert_eq!(hits(r"200\s+timeout", &texts), Vec::<usize>::new());
        assert_eq!(hits(r"\Aat", &texts), vec![2]);
        assert_eq!(hits("^$", &texts), vec![3]);
        assert_eq!(hits("慢", &texts), vec![4]);
        assert_eq!(hits(r"\bslow\b", &texts), vec![4]);
        let many: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
        let p = Pattern::new(r"line \d*7$").unwrap_or_else(|e| panic!("{e}"));
        let mut n = 0;
        p.scan(many.iter().map(String::as_str), |_| n += 1);
        assert_eq!(n, 500);
    }
}

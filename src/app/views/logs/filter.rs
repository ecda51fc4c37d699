//! Which log lines the view shows: app scope, a regex over the message, a minimum level and a
//! pod substring. Loss markers always pass: a filter never hides that lines are missing.

use std::sync::Arc;

use super::buffer::{LogEntry, LogItem};
use crate::app::core::pattern::{Pattern, PatternError};
use crate::protocol::Level;

/// Compile an operator's pattern: case-insensitive unless it has an upper-case letter.
pub fn compile(pattern: &str) -> Result<Pattern, PatternError> {
    Pattern::new(pattern)
}

/// The filter in force.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    /// Apps shown; empty means every app.
    pub apps: Vec<Arc<str>>,
    /// Applied to the message; `None` lets every message through.
    pub regex: Option<Pattern>,
    pub min_level: Option<Level>,
    /// Case-sensitive substring of the pod name; empty lets every pod through.
    pub pod: String,
}

impl LogFilter {
    /// The pattern as typed, or "" without one.
    pub fn pattern(&self) -> &str {
        self.regex.as_ref().map(Pattern::as_str).unwrap_or("")
    }

    /// Whether anything but the app scope narrows the lines.
    pub fn narrows(&self) -> bool {
        self.regex.is_some() || self.min_level.is_some() || !self.pod.is_empty()
    }

    pub fn admits(&self, item: &LogItem) -> bool {
        match item {
            LogItem::Marker(_) => true,
            LogItem::Line(entry) => self.admits_line(entry),
        }
    }

    /// Cheapest checks first; the regex last.
    pub fn admits_line(&self, e: &LogEntry) -> bool {
        if let Some(min) = self.min_level
            && e.level < min
        {
            return false;
        }
        if !self.apps.is_empty() && !self.apps.iter().any(|a| **a == *e.app) {
            return false;
        }
        if !self.pod.is_empty() && !e.pod.contains(self.pod.as_str()) {
            return false;
        }
        match &self.regex {
            Some(re) => re.is_match(&e.message),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_patterns_say_why_in_one_line() {
        let err = compile("timeout(").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("invalid regex: unclosed group"));
        assert!(compile("Timeout").is_ok_and(|r| !r.is_match("timeout")));
        assert!(compile("timeout").is_ok_and(|r| r.is_match("TIMEOUT")));
    }
}

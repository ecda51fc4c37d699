//! The two alert dialogs. Acknowledge is one question ("Acknowledge … ? y/N"); silence asks for
//! a duration (a preset or typed, like `90m`) and a comment, then the same kind of question.
//! As with scaling, no single key ever changes anything.

use std::fmt;

use crate::app::core::effect::RequestId;
use crate::protocol::{Alert, Severity, parse_duration_secs};

/// The presets `↑`/`↓` cycle through in the duration field.
pub const SILENCE_PRESETS: [&str; 4] = ["15m", "30m", "1h", "4h"];
/// The duration a new silence dialog starts with.
pub const DEFAULT_SILENCE: &str = "1h";
/// Longest silence the gateway accepts, seconds (30 days).
pub const MAX_SILENCE_SECS: u64 = 30 * 86_400;
/// Longest duration text accepted, characters.
const MAX_DURATION_CHARS: usize = 8;
/// Longest comment accepted, characters.
pub const MAX_COMMENT_CHARS: usize = 200;

/// The alert a dialog acts on, as the operator saw it when opening the dialog.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertTarget {
    pub id: String,
    pub app: String,
    pub severity: Severity,
    pub summary: String,
}

impl AlertTarget {
    pub fn of(alert: &Alert) -> Self {
        AlertTarget {
            id: alert.id.clone(),
            app: alert.app.clone(),
            severity: alert.severity,
            summary: alert.summary.clone(),
        }
    }
}

/// Where the operator is in an alert dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStep {
    /// Typing (silence only).
    Edit,
    /// The y/N question.
    Confirm,
    /// Sent; waiting for the gateway.
    Sending { request_id: RequestId },
}

/// What a one-question alert dialog asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertQuestion {
    Acknowledge,
    /// The alert is silenced: end its silence now.
    ExpireSilence,
}

/// "Acknowledge P1 al-3 on shop-cart? y/N", or "Expire the silence of …? y/N".
#[derive(Clone, Debug, PartialEq)]
pub struct AckDialog {
    pub alert: AlertTarget,
    pub question: AlertQuestion,
    pub step: AlertStep,
    /// Why the last try failed (transient failures only; refusals close the dialog).
    pub failure: Option<String>,
    /// Sent with every try of this acknowledgement, so the gateway applies it once.
    pub idempotency_key: String,
}

impl AckDialog {
    pub fn new(alert: AlertTarget, idempotency_key: String) -> Self {
        AckDialog {
            alert,
            question: AlertQuestion::Acknowledge,
            step: AlertStep::Confirm,
            failure: None,
            idempotency_key,
        }
    }

    /// The question that ends a silence.
    pub fn expire(alert: AlertTarget, idempotency_key: String) -> Self {
        AckDialog {
            question: AlertQuestion::ExpireSilence,
            ..AckDialog::new(alert, idempotency_key)
        }
    }
}

/// Which field of the silence dialog keys go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SilenceField {
    Duration,
    Comment,
}

/// Why the typed duration cannot be confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationProblem {
    Empty,
    Invalid(String),
    TooLong,
}

impl fmt::Display for DurationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationProblem::Empty => f.write_str("type a duration, e.g. 90m, or pick a preset"),
            DurationProblem::Invalid(text) => {
                write!(f, "{text:?} is not a duration — e.g. 90s, 90m, 2h, 1d")
            }
            DurationProblem::TooLong => f.write_str("at most 30d"),
        }
    }
}

/// The silence dialog for one alert.
#[derive(Clone, Debug, PartialEq)]
pub struct SilenceDialog {
    pub alert: AlertTarget,
    pub duration: String,
    pub comment: String,
    pub field: SilenceField,
    pub step: AlertStep,
    pub failure: Option<String>,
    /// Sent with every try of this silence, so the gateway applies it once.
    pub idempotency_key: String,
    /// The duration and comment last sent with `idempotency_key`; others need a new key.
    pub sent: Option<(String, String)>,
}

impl SilenceDialog {
    pub fn new(alert: AlertTarget, idempotency_key: String) -> Self {
        SilenceDialog {
            alert,
            duration: DEFAULT_SILENCE.to_string(),
            comment: String::new(),
            field: SilenceField::Duration,
            step: AlertStep::Edit,
            failure: None,
            idempotency_key,
            sent: None,
        }
    }

    /// The duration in seconds if it may be confirmed, or why not.
    pub fn duration_secs(&self) -> Result<u64, DurationProblem> {
        let text = self.duration.trim();
        if text.is_empty() {
            return Err(DurationProblem::Empty);
        }
        let secs =
            parse_duration_secs(text).ok_or_else(|| DurationProblem::Invalid(text.to_string()))?;
        if secs > MAX_SILENCE_SECS {
            return Err(DurationProblem::TooLong);
        }
        Ok(secs)
    }

    /// Type into the focused field.
    pub fn push_char(&mut self, c: char) {
        match self.field {
            SilenceField::Duration => {
                if !c.is_whitespace() && self.duration.chars().count() < MAX_DURATION_CHARS {
                    self.duration.push(c);
                }
            }
            SilenceField::Comment => {
                if !c.is_control() && self.comment.chars().count() < MAX_COMMENT_CHARS {
                    self.comment.push(c);
                }
            }
        }
        self.failure = None;
    }

    pub fn delete_char(&mut self) {
        match self.field {
            SilenceField::Duration => self.duration.pop(),
            SilenceField::Comment => self.comment.pop(),
        };
        self.failure = None;
    }

    pub fn next_field(&mut self) {
        self.field = match self.field {
            SilenceField::Duration => SilenceField::Comment,
            SilenceField::Comment => SilenceField::Duration,
        };
    }

    /// Replace the duration with the next (`delta` > 0) or previous preset.
    pub fn cycle_preset(&mut self, delta: isize) {
        let n = SILENCE_PRESETS.len();
        let next = match SILENCE_PRESETS.iter().position(|p| *p == self.duration) {
            Some(i) => (i as isize + delta).rem_euclid(n as isize) as usize,
            None if delta >= 0 => 0,
            None => n - 1,
        };
        self.duration = SILENCE_PRESETS[next].to_string();
        self.field = SilenceField::Duration;
        self.failure = None;
    }
}

/// Seconds as the shortest readable duration: `45s`, `15m`, `1h30m`, `2d4h`.
pub fn describe_secs(secs: u64) -> String {
    crate::duration::exact(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> SilenceDialog {
        SilenceDialog::new(
            AlertTarget {
                id: "al-1".into(),
                app: "shop-cart".into(),
                severity: Severity::P1,
                summary: "错误率过高".into(),
            },
            "k".into(),
        )
    }

    #[test]
    fn durations_are_validated() {
        let mut d = dialog();
        assert_eq!(d.duration_secs(), Ok(3600));
        d.duration = "90m".into();
        assert_eq!(d.duration_secs(), Ok(5400));
        d.duration = "90".into();
        assert_eq!(
            d.duration_secs(),
            Err(DurationProblem::Invalid("90".into()))
        );
        d.duration = "31d".into();
        assert_eq!(d.duration_secs(), Err(DurationProblem::TooLong));
        d.duration.clear();
        assert_eq!(d.duration_secs(), Err(DurationProblem::Empty));
    }

    #[test]
    fn presets_cycle_and_fields_take_their_own_text() {
        let mut d = dialog();
        d.cycle_preset(1);
        assert_eq!(d.duration, "4h");
        d.cycle_preset(1);
        assert_eq!(d.duration, "15m");
        d.cycle_preset(-1);
        assert_eq!(d.duration, "4h");
        d.duration = "7m".into();
        d.cycle_preset(-1);
        assert_eq!(d.duration, "4h");
        d.next_field();
        for c in "发布中".chars() {
            d.push_char(c);
        }
        assert_eq!((d.duration.as_str(), d.comment.as_str()), ("4h", "发布中"));
        d.delete_char();
        assert_eq!(d.comment, "发布");
    }

    #[test]
    fn seconds_read_back_shortly() {
        assert_eq!(describe_secs(5400), "1h30m");
        assert_eq!(describe_secs(45), "45s");
        assert_eq!(describe_secs(2 * 86_400 + 4 * 3600), "2d4h");
    }
}

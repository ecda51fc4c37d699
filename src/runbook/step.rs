//! Steps: the kinds a runbook may use, the fields each takes, what happens on failure, and how a
//! step as written (templates) becomes a [`ResolvedStep`] (values) once parameters are known.

use std::collections::BTreeMap;
use std::ops::Range;

use super::condition::Condition;
use super::params::{Params, substitute};
use crate::protocol::parse_duration_secs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Scale,
    Rollback,
    WaitFor,
    Check,
    HttpProbe,
    Approval,
    Silence,
    Note,
    Sleep,
}

/// Keys every step takes.
pub const COMMON_FIELDS: &[&str] = &[
    "id",
    "kind",
    "title",
    "timeout",
    "retries",
    "backoff",
    "on_failure",
];

impl StepKind {
    pub const ALL: [StepKind; 9] = [
        StepKind::Scale,
        StepKind::Rollback,
        StepKind::WaitFor,
        StepKind::Check,
        StepKind::HttpProbe,
        StepKind::Approval,
        StepKind::Silence,
        StepKind::Note,
        StepKind::Sleep,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StepKind::Scale => "scale",
            StepKind::Rollback => "rollback",
            StepKind::WaitFor => "wait_for",
            StepKind::Check => "check",
            StepKind::HttpProbe => "http_probe",
            StepKind::Approval => "approval",
            StepKind::Silence => "silence",
            StepKind::Note => "note",
            StepKind::Sleep => "sleep",
        }
    }

    pub fn parse(name: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Keys this kind needs.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            StepKind::Scale => &["app", "replicas"],
            StepKind::Rollback => &["app"],
            StepKind::WaitFor | StepKind::Check => &["app", "condition"],
            StepKind::HttpProbe => &["url"],
            StepKind::Approval | StepKind::Note => &["message"],
            StepKind::Silence => &["app", "duration"],
            StepKind::Sleep => &["duration"],
        }
    }

    /// Keys this kind may take besides the required and common ones.
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            StepKind::Scale => &["wait"],
            StepKind::Rollback => &["to", "wait"],
            StepKind::WaitFor => &["for"],
            StepKind::HttpProbe => &["expect_status", "expect_body"],
            StepKind::Silence => &["rule", "comment"],
            StepKind::Approval => &["four_eyes"],
            StepKind::Check | StepKind::Note | StepKind::Sleep => &[],
        }
    }

    /// Platform seconds an attempt may take when the step gives no `timeout`.
    fn default_timeout(self) -> Option<u64> {
        match self {
            StepKind::Scale => Some(600),
            StepKind::Rollback | StepKind::WaitFor => Some(900),
            StepKind::HttpProbe => Some(30),
            _ => None,
        }
    }
}

/// What happens when a step fails (after its retries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// The run fails; the remaining steps are skipped. The default.
    Abort,
    /// The step stays failed and the run goes on.
    Continue,
    /// Run these `[[fallbacks]]` steps in order, then stop (the run fails) or continue.
    Fallback {
        steps: Vec<String>,
        then: AfterFallback,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFallback {
    Stop,
    Continue,
}

impl std::fmt::Display for OnFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnFailure::Abort => f.write_str("abort"),
            OnFailure::Continue => f.write_str("continue"),
            OnFailure::Fallback { steps, then } => write!(
                f,
                "fallback: {} (then {})",
                steps.join(", "),
                match then {
                    AfterFallback::Stop => "stop",
                    AfterFallback::Continue => "continue",
                }
            ),
        }
    }
}

/// A step's value as written, with its place in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub text: String,
    pub span: Range<usize>,
}

/// A step as written and validated; templates not yet filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSpec {
    pub id: String,
    pub kind: StepKind,
    pub title: String,
    /// The kind's own keys plus `timeout` and `backoff`, as text.
    pub fields: BTreeMap<&'static str, Field>,
    pub retries: u32,
    pub on_failure: OnFailure,
    /// Where `on_failure` is written (the step's table when it is not).
    pub on_failure_span: Range<usize>,
    /// Listed under `[[fallbacks]]`.
    pub fallback: bool,
    /// The step's table in the file.
    pub span: Range<usize>,
}

/// A field that does not resolve: which one, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// How many replicas a `scale` step asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplicaTarget {
    Absolute(i64),
    /// `+2`, `-1`.
    Delta(i64),
    /// `+50%`, `-25%`.
    Percent(f64),
    Max,
    Min,
}

impl ReplicaTarget {
    pub fn parse(text: &str) -> Result<ReplicaTarget, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "replicas must be a count (6), a change (+2, -1), a percentage change (+50%) \
                 or max/min; got `{t}`"
            )
        };
        match t {
            "max" => return Ok(ReplicaTarget::Max),
            "min" => return Ok(ReplicaTarget::Min),
            _ => {}
        }
        let signed = t.starts_with(['+', '-']);
        if let Some(pct) = t.strip_suffix('%') {
            if !signed {
                return Err(bad());
            }
            let p: f64 = pct.trim().parse().map_err(|_| bad())?;
            if !p.is_finite() || p <= -100.0 {
                return Err(bad());
            }
            return Ok(ReplicaTarget::Percent(p));
        }
        let n: i64 = t.parse().map_err(|_| bad())?;
        if signed {
            Ok(ReplicaTarget::Delta(n))
        } else if n < 0 {
            Err(bad())
        } else {
            Ok(ReplicaTarget::Absolute(n))
        }
    }

    /// The replica count for an app now at `current` with limits `min..=max`, always within
    /// the limits, and how it was reached: "+50% of 4 = 6", "12, capped at the maximum 10"
    /// (empty for a count that needed no arithmetic).
    pub fn resolve(&self, current: u32, min: u32, max: u32) -> (u32, String) {
        let cur = i64::from(current);
        let (raw, how) = match self {
            ReplicaTarget::Absolute(n) => (*n, String::new()),
            ReplicaTarget::Delta(d) => {
                let raw = cur.saturating_add(*d);
                (raw, format!("{d:+} from {current} = {raw}"))
            }
            ReplicaTarget::Percent(p) => {
                let exact = cur as f64 * (1.0 + p / 100.0);
                // Round away from the current count so that +10% of 3 still adds one.
                let n = if *p >= 0.0 {
                    exact.ceil()
                } else {
                    exact.floor()
                };
                // Finite and small: the cast saturates at worst.
                let n = n as i64;
                (n, format!("{p:+}% of {current} = {n}"))
            }
            ReplicaTarget::Max => (i64::from(max), format!("the maximum {max}")),
            ReplicaTarget::Min => (i64::from(min), format!("the minimum {min}")),
        };
        let clamped = raw.clamp(i64::from(min), i64::from(max));
        let target = u32::try_from(clamped).unwrap_or(max);
        let sep = if how.is_empty() {
            format!("{raw}, ")
        } else {
            format!("{how}, ")
        };
        let how = if clamped > raw {
            format!("{sep}raised to the minimum {min}")
        } else if clamped < raw {
            format!("{sep}capped at the maximum {max}")
        } else {
            how
        };
        (target, how)
    }
}

impl std::fmt::Display for ReplicaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaTarget::Absolute(n) => write!(f, "{n}"),
            ReplicaTarget::Delta(d) => write!(f, "{d:+}"),
            ReplicaTarget::Percent(p) => write!(f, "{p:+}%"),
            ReplicaTarget::Max => f.write_str("max"),
            ReplicaTarget::Min => f.write_str("min"),
        }
    }
}

/// What a step does, with every value known.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Scale {
        app: String,
        replicas: ReplicaTarget,
        wait: bool,
    },
    Rollback {
        app: String,
        to: Option<String>,
        wait: bool,
    },
    WaitFor {
        app: String,
        condition: Condition,
        hold_secs: u64,
    },
    Check {
        app: String,
        condition: Condition,
    },
    HttpProbe {
        url: String,
        expect_status: u16,
        expect_body: Option<String>,
    },
    Approval {
        message: String,
    },
    Silence {
        app: String,
        rule: Option<String>,
        duration_secs: u64,
        comment: String,
    },
    Note {
        message: String,
    },
    Sleep {
        secs: u64,
    },
}

impl Action {
    /// For people, without current data: "scale flash-sale to +50%".
    pub fn describe(&self) -> String {
        match self {
            Action::Scale { app, replicas, .. } => format!("scale {app} to {replicas}"),
            Action::Rollback { app, to, .. } => match to {
                Some(to) => format!("roll {app} back to {to}"),
                None => format!("roll {app} back to its previous good release"),
            },
            Action::WaitFor {
                app,
                condition,
                hold_secs,
            } => format!(
                "wait until {condition} holds on {app} for {}",
                format_secs(*hold_secs)
            ),
            Action::Check { app, condition } => format!("check that {condition} holds on {app}"),
            Action::HttpProbe {
                url,
                expect_status,
                expect_body,
            } => match expect_body {
                Some(body) => format!("GET {url}, expect {expect_status} with {body:?}"),
                None => format!("GET {url}, expect {expect_status}"),
            },
            Action::Approval { message } => format!("wait for an operator's approval: {message}"),
            Action::Silence {
                app,
                rule,
                duration_secs,
                ..
            } => format!(
                "silence {} alerts on {app} for {}",
                rule.as_deref().unwrap_or("active"),
                format_secs(*duration_secs)
            ),
            Action::Note { message } => format!("note: {message}"),
            Action::Sleep { secs } => format!("sleep {}", format_secs(*secs)),
        }
    }

    /// The app the step acts on or observes, if any.
    pub fn app(&self) -> Option<&str> {
        match self {
            Action::Scale { app, .. }
            | Action::Rollback { app, .. }
            | Action::WaitFor { app, .. }
            | Action::Check { app, .. }
            | Action::Silence { app, .. } => Some(app),
            _ => None,
        }
    }
}

/// Seconds for people: "45 s", "5 min", "1 h 30 min".
pub fn format_secs(secs: u64) -> String {
    crate::duration::spoken(secs)
}

/// A step with its parameters filled in, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedStep {
    pub id: String,
    pub kind: StepKind,
    pub title: String,
    pub action: Action,
    /// Platform seconds one attempt may take; `None` waits as long as it needs.
    pub timeout_secs: Option<u64>,
    pub retries: u32,
    /// Platform seconds before the first retry; doubled for each further one.
    pub backoff_secs: u64,
    pub on_failure: OnFailure,
    pub fallback: bool,
}

/// Default wait before the first retry.
pub const DEFAULT_BACKOFF_SECS: u64 = 10;

impl StepSpec {
    /// The field's text with parameters substituted, if the step has it.
    fn text(&self, field: &'static str, params: &Params) -> Result<Option<String>, FieldError> {
        self.fields
            .get(field)
            .map(|f| substitute(&f.text, params).map_err(|e| FieldError::new(field, e)))
            .transpose()
    }

    fn required(&self, field: &'static str, params: &Params) -> Result<String, FieldError> {
        self.text(field, params)?.ok_or_else(|| {
            FieldError::new(
                field,
                format!("a `{}` step needs `{field}`", self.kind.name()),
            )
        })
    }

    fn duration(&self, field: &'static str, params: &Params) -> Result<Option<u64>, FieldError> {
        self.text(field, params)?
            .map(|text| {
                parse_duration_secs(&text).ok_or_else(|| {
                    FieldError::new(
                        field,
                        format!(
                            "`{text}` is not a duration: use a positive whole number with s, m, h \
                             or d, e.g. \"90s\" or \"5m\""
                        ),
                    )
                })
            })
            .transpose()
    }

    /// An approval step marked `four_eyes = true`: someone other than the run's starter must
    /// approve it.
    pub fn four_eyes(&self) -> bool {
        self.kind == StepKind::Approval && self.flag("four_eyes", false)
    }

    fn flag(&self, field: &'static str, default: bool) -> bool {
        self.fields.get(field).map_or(default, |f| f.text == "true")
    }

    /// Fill in `params` and parse every value: the step as it will run.
    pub fn resolve(&self, params: &Params) -> Result<ResolvedStep, FieldError> {
        let condition = |field| -> Result<Condition, FieldError> {
            let text = self.required(field, params)?;
            Condition::parse(&text).map_err(|e| FieldError::new(field, e))
        };
        let action = match self.kind {
            StepKind::Scale => {
                let text = self.required("replicas", params)?;
                Action::Scale {
                    app: self.required("app", params)?,
                    replicas: ReplicaTarget::parse(&text)
                        .map_err(|e| FieldError::new("replicas", e))?,
                    wait: self.flag("wait", true),
                }
            }
            StepKind::Rollback => Action::Rollback {
                app: self.required("app", params)?,
                // Empty or "previous": the platform picks the previous good release.
                to: self
                    .text("to", params)?
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty() && t != "previous"),
                wait: self.flag("wait", true),
            },
            StepKind::WaitFor => Action::WaitFor {
                app: self.required("app", params)?,
                condition: condition("condition")?,
                hold_secs: self.duration("for", params)?.unwrap_or(0),
            },
            StepKind::Check => Action::Check {
                app: self.required("app", params)?,
                condition: condition("condition")?,
            },
            StepKind::HttpProbe => {
                let url = self.required("url", params)?;
                if !url.contains("://") {
                    return Err(FieldError::new(
                        "url",
                        format!("`{url}` is not a URL: write e.g. \"http://host:port/healthz\""),
                    ));
                }
                let expect_status = match self.text("expect_status", params)? {
                    None => 200,
                    Some(text) => text
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| {
                            FieldError::new(
                                "expect_status",
                                format!(
                                    "expect_status must be an HTTP status 100..=599, got {text}"
                                ),
                            )
                        })?,
                };
                Action::HttpProbe {
                    url,
                    expect_status,
                    expect_body: self.text("expect_body", params)?,
                }
            }
            StepKind::Approval => Action::Approval {
                message: self.required("message", params)?,
            },
            StepKind::Silence => Action::Silence {
                app: self.required("app", params)?,
                rule: self.text("rule", params)?.filter(|r| !r.trim().is_empty()),
                duration_secs: self.duration("duration", params)?.ok_or_else(|| {
                    FieldError::new("duration", "a `silence` step needs `duration`")
                })?,
                comment: self.text("comment", params)?.unwrap_or_default(),
            },
            StepKind::Note => Action::Note {
                message: self.required("message", params)?,
            },
            StepKind::Sleep => Action::Sleep {
                secs: self.duration("duration", params)?.ok_or_else(|| {
                    FieldError::new("duration", "a `sleep` step needs `duration`")
                })?,
            },
        };
        Ok(ResolvedStep {
            id: self.id.clone(),
            kind: self.kind,
            title: substitute(&self.title, params).map_err(|e| FieldError::new("title", e))?,
            action,
            timeout_secs: self
                .duration("timeout", params)?
                .or(self.kind.default_timeout()),
            retries: self.retries,
            backoff_secs: self
                .duration("backoff", params)?
                .unwrap_or(DEFAULT_BACKOFF_SECS),
            on_failure: self.on_failure.clone(),
            fallback: self.fallback,
        })
    }

    /// What the step does, as written: "scale {{app}} to {{replicas}}".
    pub fn summary(&self) -> String {
        if !self.title.is_empty() {
            return self.title.clone();
        }
        let f = |k: &str| self.fields.get(k).map_or("", |f| f.text.as_str());
        match self.kind {
            StepKind::Scale => format!("scale {} to {}", f("app"), f("replicas")),
            StepKind::Rollback if f("to").is_empty() => {
                format!("roll {} back to its previous good release", f("app"))
            }
            StepKind::Rollback => format!("roll {} back to {}", f("app"), f("to")),
            StepKind::WaitFor if f("for").is_empty() => {
                format!("wait until {} on {}", f("condition"), f("app"))
            }
            StepKind::WaitFor => {
                format!(
                    "wait until {} on {} for {}",
                    f("condition"),
                    f("app"),
                    f("for")
                )
            }
            StepKind::Check => format!("check {} on {}", f("condition"), f("app")),
            StepKind::HttpProbe => format!("GET {}", f("url")),
            StepKind::Approval => format!("approval: {}", f("message")),
            StepKind::Silence => format!("silence alerts on {} for {}", f("app"), f("duration")),
            StepKind::Note => format!("note: {}", f("message")),
            StepKind::Sleep => format!("sleep {}", f("duration")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn replica_targets_resolve_inside_the_limits_and_say_how() {
        let t = |s: &str| ReplicaTarget::parse(s).unwrap();
        assert_eq!(t("+50%").resolve(4, 2, 40), (6, "+50% of 4 = 6".into()));
        assert_eq!(
            t("+10%").resolve(3, 2, 40).0,
            4,
            "rounds away from the current count"
        );
        assert_eq!(t("-50%").resolve(5, 2, 40).0, 2);
        assert_eq!(
            t("+200%").resolve(20, 2, 40),
            (40, "+200% of 20 = 60, capped at the maximum 40".into())
        );
        assert_eq!(
            t("-3").resolve(4, 2, 40),
            (2, "-3 from 4 = 1, raised to the minimum 2".into())
        );
        assert_eq!(
            t("12").resolve(4, 2, 10),
            (10, "12, capped at the maximum 10".into())
        );
        assert_eq!(t("6").resolve(4, 2, 10), (6, String::new()));
        assert_eq!(t("max").resolve(4, 2, 10), (10, "the maximum 10".into()));
        for bad in ["lots", "50%", "-200%", "+x%", "-", "1.5"] {
            assert!(ReplicaTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_read_like_an_operator_writes_them() {
        assert_eq!(format_secs(45), "45 s");
        assert_eq!(format_secs(60), "1 min");
        assert_eq!(format_secs(90), "1 min 30 s");
        assert_eq!(format_secs(300), "5 min");
        assert_eq!(format_secs(330), "5 min 30 s");
        assert_eq!(format_secs(7200), "2 h");
    }
}

//! Conditions over an app's latest metrics, such as `p99 < 300ms`, `error_ratio < 1%`,
//! `replicas_ready >= 4`, `cache_hit_ratio > 0.9` or `alert_age <= release_age`, joined with
//! `and`. Parsed (units and dimensions checked) when a runbook loads; evaluated against an
//! [`Observation`] when a step runs.

use std::fmt;

use crate::protocol::MetricSample;

/// What a quantity measures; both sides of a comparison must measure the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// Milliseconds.
    Latency,
    /// A share, 0..=1 (written as `5%` or `0.05`).
    Ratio,
    /// A plain number (replicas, requests per second, connections).
    Number,
    /// Seconds.
    Age,
    /// MiB.
    Memory,
}

impl Dimension {
    fn describe(self) -> &'static str {
        match self {
            Dimension::Latency => "a latency: compare it with ms or s, e.g. 300ms",
            Dimension::Ratio => {
                "a ratio: compare it with a percentage or a fraction, e.g. 5% or 0.05"
            }
            Dimension::Number => "a plain number: compare it without a unit",
            Dimension::Age => "a duration: compare it with s, m or h, e.g. 2h",
            Dimension::Memory => "a memory size: compare it with mb or gb, e.g. 512mb",
        }
    }

    /// `value` (in base units) for people.
    fn format(self, value: f64) -> String {
        match self {
            Dimension::Latency => format!("{} ms", round(value, 1)),
            Dimension::Ratio => format!("{}%", round(value * 100.0, 2)),
            Dimension::Number => round(value, 3),
            Dimension::Age if value >= 0.0 => super::step::format_secs(value.round() as u64),
            Dimension::Age => format!("{} s", round(value, 0)),
            Dimension::Memory => format!("{} MiB", round(value, 0)),
        }
    }
}

fn round(value: f64, places: i32) -> String {
    let scale = 10f64.powi(places);
    let v = (value * scale).round() / scale;
    let text = format!("{v:.*}", usize::try_from(places).unwrap_or(0));
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A quantity a condition can read.
#[derive(Clone, Debug, PartialEq)]
pub enum Var {
    Rps,
    P50,
    P95,
    P99,
    ErrorRatio,
    Cpu,
    MemoryMb,
    ReplicasReady,
    ReplicasDesired,
    /// Seconds since the active release was created.
    ReleaseAge,
    /// Seconds since the app's oldest active alert started.
    AlertAge,
    /// The app's alerts not yet resolved.
    AlertsFiring,
    /// A platform gauge from `extras`, with the dimension it is known to have.
    Extra(String, Dimension),
}

/// Extras the simulator reports, with their dimensions; others are read as `extras.NAME`.
const KNOWN_EXTRAS: &[(&str, Dimension)] = &[
    ("cache_hit_ratio", Dimension::Ratio),
    ("db_latency_ms", Dimension::Latency),
    ("ws_connections", Dimension::Number),
    ("queue_depth", Dimension::Number),
    ("egress_mbps", Dimension::Number),
];

const CORE: &[&str] = &[
    "rps",
    "p50",
    "p95",
    "p99",
    "error_ratio",
    "cpu",
    "memory_mb",
    "replicas_ready",
    "replicas_desired",
    "release_age",
    "alert_age",
    "alerts_firing",
];

impl Var {
    fn parse(name: &str) -> Result<Var, String> {
        Ok(match name {
            "rps" => Var::Rps,
            "p50" => Var::P50,
            "p95" => Var::P95,
            "p99" => Var::P99,
            "error_ratio" => Var::ErrorRatio,
            "cpu" => Var::Cpu,
            "memory_mb" => Var::MemoryMb,
            "replicas_ready" => Var::ReplicasReady,
            "replicas_desired" => Var::ReplicasDesired,
            "release_age" => Var::ReleaseAge,
            "alert_age" => Var::AlertAge,
            "alerts_firing" => Var::AlertsFiring,
            _ => {
                if let Some((_, dim)) = KNOWN_EXTRAS.iter().find(|(n, _)| *n == name) {
                    Var::Extra(name.to_string(), *dim)
                } else if let Some(extra) = name.strip_prefix("extras.").filter(|e| is_ident(e)) {
                    Var::Extra(extra.to_string(), Dimension::Number)
                } else {
                    let known: Vec<&str> = CORE
                        .iter()
                        .copied()
                        .chain(KNOWN_EXTRAS.iter().map(|(n, _)| *n))
                        .collect();
                    return Err(format!(
                        "unknown metric `{name}`; known: {}; other platform gauges as extras.NAME",
                        known.join(", ")
                    ));
                }
            }
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Var::Rps => "rps",
            Var::P50 => "p50",
            Var::P95 => "p95",
            Var::P99 => "p99",
            Var::ErrorRatio => "error_ratio",
            Var::Cpu => "cpu",
            Var::MemoryMb => "memory_mb",
            Var::ReplicasReady => "replicas_ready",
            Var::ReplicasDesired => "replicas_desired",
            Var::ReleaseAge => "release_age",
            Var::AlertAge => "alert_age",
            Var::AlertsFiring => "alerts_firing",
            Var::Extra(name, _) => name,
        }
    }

    fn dimension(&self) -> Dimension {
        match self {
            Var::P50 | Var::P95 | Var::P99 => Dimension::Latency,
            Var::ErrorRatio | Var::Cpu => Dimension::Ratio,
            Var::Rps | Var::ReplicasReady | Var::ReplicasDesired | Var::AlertsFiring => {
                Dimension::Number
            }
            Var::MemoryMb => Dimension::Memory,
            Var::ReleaseAge | Var::AlertAge => Dimension::Age,
            Var::Extra(_, dim) => *dim,
        }
    }

    fn read(&self, obs: &Observation) -> Option<f64> {
        let m = obs.sample;
        match self {
            Var::Rps => Some(m.rps),
            Var::P50 => Some(m.latency_ms.p50),
            Var::P95 => Some(m.latency_ms.p95),
            Var::P99 => Some(m.latency_ms.p99),
            Var::ErrorRatio => Some(m.error_ratio),
            Var::Cpu => Some(m.cpu),
            Var::MemoryMb => Some(m.memory_mb),
            Var::ReplicasReady => Some(f64::from(m.replicas_ready)),
            Var::ReplicasDesired => Some(f64::from(m.replicas_desired)),
            Var::ReleaseAge => obs.release_age_secs,
            Var::AlertAge => obs.alert_age_secs,
            Var::AlertsFiring => Some(f64::from(obs.alerts_firing)),
            Var::Extra(name, _) => m.extras.get(name).copied(),
        }
    }
}

fn is_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => (a - b).abs() < 1e-9,
            Op::Ne => (a - b).abs() >= 1e-9,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Var(Var),
    /// A literal in base units, with the text as written.
    Value(f64, String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
}

/// One or more comparisons that must all hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub clauses: Vec<Comparison>,
    text: String,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a condition is evaluated against: an app's latest sample and a few derived ages.
#[derive(Clone, Debug)]
pub struct Observation<'a> {
    pub sample: &'a MetricSample,
    pub release_age_secs: Option<f64>,
    pub alert_age_secs: Option<f64>,
    pub alerts_firing: u32,
}

/// The outcome of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub holds: bool,
    /// What was seen against what was wanted: "p99 = 412 ms, want < 300 ms".
    pub observed: String,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the condition is empty; write e.g. \"p99 < 300ms\"".into());
        }
        let clauses = text
            .split(" and ")
            .map(parse_comparison)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Condition {
            clauses,
            text: text.to_string(),
        })
    }

    /// Whether the condition reads the release history.
    pub fn needs_releases(&self) -> bool {
        self.vars().any(|v| *v == Var::ReleaseAge)
    }

    /// Whether the condition reads the alert list.
    pub fn needs_alerts(&self) -> bool {
        self.vars()
            .any(|v| matches!(v, Var::AlertAge | Var::AlertsFiring))
    }

    fn vars(&self) -> impl Iterator<Item = &Var> {
        self.clauses.iter().flat_map(|c| {
            [&c.left, &c.right].into_iter().filter_map(|o| match o {
                Operand::Var(v) => Some(v),
                Operand::Value(..) => None,
            })
        })
    }

    /// Evaluate against `obs`. A quantity that is not reported (no such gauge, no alert for
    /// `alert_age`) makes the condition not hold, and says so.
    pub fn evaluate(&self, obs: &Observation) -> Evaluation {
        let mut holds = true;
        let mut parts = Vec::with_capacity(self.clauses.len());
        for clause in &self.clauses {
            let (ok, text) = evaluate_one(clause, obs);
            holds &= ok;
            parts.push(text);
        }
        Evaluation {
            holds,
            observed: parts.join("; "),
        }
    }
}

fn evaluate_one(c: &Comparison, obs: &Observation) -> (bool, String) {
    let dim = dimension_of(&c.left)
        .or_else(|| dimension_of(&c.right))
        .unwrap_or(Dimension::Number);
    let read = |o: &Operand| match o {
        Operand::Var(v) => v.read(obs),
        Operand::Value(x, _) => Some(*x),
    };
    let show = |o: &Operand| match o {
        Operand::Var(v) => v.name().to_string(),
        Operand::Value(_, text) => text.clone(),
    };
    match (read(&c.left), read(&c.right)) {
        (Some(a), Some(b)) => {
            let seen = match (&c.left, &c.right) {
                (Operand::Var(l), Operand::Var(r)) => format!(
                    "{} = {}, {} = {}, want {} {} {}",
                    l.name(),
                    dim.format(a),
                    r.name(),
                    dim.format(b),
                    l.name(),
                    c.op.as_str(),
                    r.name()
                ),
                (Operand::Var(l), Operand::Value(..)) => format!(
                    "{} = {}, want {} {}",
                    l.name(),
                    dim.format(a),
                    c.op.as_str(),
                    dim.format(b)
                ),
                _ => format!(
                    "{} {} {}",
                    show(&c.left),
                    c.op.as_str(),
                    match &c.right {
                        Operand::Var(r) => format!("{} ({})", r.name(), dim.format(b)),
                        Operand::Value(..) => dim.format(b),
                    }
                ),
            };
            (c.op.apply(a, b), seen)
        }
        (a, _) => {
            let missing = if a.is_none() { &c.left } else { &c.right };
            (false, format!("{} is not reported", show(missing)))
        }
    }
}

fn dimension_of(o: &Operand) -> Option<Dimension> {
    match o {
        Operand::Var(v) => Some(v.dimension()),
        Operand::Value(..) => None,
    }
}

fn parse_comparison(text: &str) -> Result<Comparison, String> {
    let text = text.trim();
    // Two-character operators first, so `<=` is not read as `<`.
    let ops = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let (at, op_text, op) = ops
        .iter()
        .filter_map(|(s, op)| text.find(s).map(|i| (i, *s, *op)))
        .min_by_key(|(i, s, _)| (*i, std::cmp::Reverse(s.len())))
        .ok_or_else(|| {
            format!(
                "`{text}` has no comparison; use one of <, <=, >, >=, ==, != as in \"p99 < 300ms\""
            )
        })?;
    let left = text[..at].trim();
    let right = text[at + op_text.len()..].trim();
    if left.is_empty() || right.is_empty() {
        return Err(format!(
            "`{text}` needs a quantity on both sides of {op_text}"
        ));
    }
    if right.contains(['<', '>', '=', '!']) {
        return Err(format!(
            "`{text}` has more than one comparison; join comparisons with `and`"
        ));
    }
    let left_var = parse_var(left)?;
    let right_var = parse_var(right)?;
    let (left, right) = match (left_var, right_var) {
        (Some(l), Some(r)) => {
            if l.dimension() != r.dimension() {
                return Err(format!(
                    "`{text}` compares {} with {}, which measure different things",
                    l.name(),
                    r.name()
                ));
            }
            (Operand::Var(l), Operand::Var(r))
        }
        (Some(l), None) => {
            let value = parse_quantity(right, l.dimension(), l.name())?;
            (Operand::Var(l), Operand::Value(value, right.to_string()))
        }
        (None, Some(r)) => {
            let value = parse_quantity(left, r.dimension(), r.name())?;
            (Operand::Value(value, left.to_string()), Operand::Var(r))
        }
        (None, None) => {
            return Err(format!(
                "`{text}` compares two numbers; one side must be a metric such as p99"
            ));
        }
    };
    Ok(Comparison { left, op, right })
}

/// A metric name, or `None` when the text is a number.
fn parse_var(text: &str) -> Result<Option<Var>, String> {
    if text.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') {
        return Ok(None);
    }
    Var::parse(text).map(Some)
}

/// A literal such as `300ms`, `1.5s`, `5%`, `0.9`, `2h`, `512mb`, converted to the base unit
/// of `dim`.
fn parse_quantity(text: &str, dim: Dimension, var: &str) -> Result<f64, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let wrong = || format!("`{text}` does not fit {var}, which is {}", dim.describe());
    let value = match (dim, unit.as_str()) {
        (Dimension::Latency, "" | "ms") => n,
        (Dimension::Latency, "s") => n * 1000.0,
        (Dimension::Ratio, "%") => n / 100.0,
        (Dimension::Ratio, "") if (0.0..=1.0).contains(&n) => n,
        (Dimension::Ratio, "") => {
            return Err(format!(
                "`{text}` is not a ratio: {var} lies between 0 and 1; write {n}% or {}",
                n / 100.0
            ));
        }
        (Dimension::Number, "") => n,
        (Dimension::Age, "" | "s") => n,
        (Dimension::Age, "ms") => n / 1000.0,
        (Dimension::Age, "m") => n * 60.0,
        (Dimension::Age, "h") => n * 3600.0,
        (Dimension::Age, "d") => n * 86_400.0,
        (Dimension::Memory, "" | "mb" | "mib") => n,
        (Dimension::Memory, "gb" | "gib") => n * 1024.0,
        _ => return Err(wrong()),
    };
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::Latency;

    fn sample() -> MetricSample {
        MetricSample {
            rps: 120.0,
            latency_ms: Latency {
                p50: 40.0,
                p95: 200.0,
                p99: 412.0,
            },
            error_ratio: 0.032,
            cpu: 0.5,
            memory_mb: 900.0,
            replicas_ready: 4,
            replicas_desired: 6,
            extras: [("cache_hit_ratio".to_string(), 0.95)].into(),
            absent: Vec::new(),
            problem: None,
        }
    }

    fn eval(text: &str) -> Evaluation {
        let s = sample();
        let obs = Observation {
            sample: &s,
            release_age_secs: Some(600.0),
            alert_age_secs: Some(300.0),
            alerts_firing: 1,
        };
        Condition::parse(text).unwrap().evaluate(&obs)
    }

    #[test]
    fn conditions_evaluate_with_units_and_say_what_they_saw() {
        let e = eval("p99 < 300ms");
        assert!(!e.holds);
        assert_eq!(e.observed, "p99 = 412 ms, want < 300 ms");
        assert!(eval("p99 < 0.5s").holds);
        assert!(eval("error_ratio < 5%").holds);
        assert_eq!(
            eval("error_ratio < 1%").observed,
            "error_ratio = 3.2%, want < 1%"
        );
        assert!(eval("cache_hit_ratio > 0.9").holds);
        assert!(eval("replicas_ready >= 4").holds);
        assert!(!eval("replicas_ready >= 4 and replicas_desired <= 4").holds);
        let ages = eval("alert_age <= release_age");
        assert!(ages.holds);
        assert_eq!(
            ages.observed,
            "alert_age = 5 min, release_age = 10 min, want alert_age <= release_age"
        );
        assert!(eval("release_age < 2h").holds);
        assert!(eval("memory_mb < 1gb").holds);
        assert!(eval("alerts_firing == 1").holds);
        let missing = eval("db_latency_ms < 50ms");
        assert!(!missing.holds);
        assert_eq!(missing.observed, "db_latency_ms is not reported");
    }

    #[test]
    fn malformed_conditions_are_refused_with_a_reason() {
        for (text, wanted) in [
            ("p999 < 300ms", "unknown metric `p999`"),
            ("p99 300ms", "has no comparison"),
            ("p99 < 5%", "does not fit p99, which is a latency"),
            ("error_ratio < 5", "is not a ratio"),
            ("p99 < error_ratio", "measure different things"),
            ("3 < 4", "compares two numbers"),
            ("p99 < abc", "unknown metric `abc`"),
            ("p99 < 3x", "does not fit p99"),
            ("1 < p99 < 3", "more than one comparison"),
            ("", "empty"),
        ] {
            let err = Condition::parse(text).unwrap_err();
            assert!(err.contains(wanted), "{text:?}: {err}");
        }
        assert!(Condition::parse("extras.gc_pause_ms < 20").is_ok());
    }
}

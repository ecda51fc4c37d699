//! Event payloads, one per topic, plus the enums they share with REST bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AuditRecord, RunStatus, Topic};

/// The payload of an [`super::Event`]; the variant is the topic.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "topic", content = "data", rename_all = "snake_case")]
pub enum Body {
    Metrics(MetricSample),
    Logs(LogLine),
    Alerts(Alert),
    Actions(ActionStatus),
    Events(PlatformEvent),
    Runs(RunStatus),
    Audit(Box<AuditRecord>),
}

impl Body {
    pub fn topic(&self) -> Topic {
        match self {
            Body::Metrics(_) => Topic::Metrics,
            Body::Logs(_) => Topic::Logs,
            Body::Alerts(_) => Topic::Alerts,
            Body::Actions(_) => Topic::Actions,
            Body::Events(_) => Topic::Events,
            Body::Runs(_) => Topic::Runs,
            Body::Audit(_) => Topic::Audit,
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One app's key metrics over the last second.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MetricSample {
    /// Requests per second.
    pub rps: f64,
    pub latency_ms: Latency,
    /// Share of requests that failed, 0..=1.
    pub error_ratio: f64,
    /// CPU used as a share of what the replicas requested, 0..=1 (can exceed 1 when throttled).
    pub cpu: f64,
    /// Resident memory across replicas, MiB.
    pub memory_mb: f64,
    pub replicas_ready: u32,
    pub replicas_desired: u32,
    /// Platform-specific gauges such as `cache_hit_ratio` or `db_latency_ms`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, f64>,
    /// Values the metrics source had no series for (or no number: NaN, ±Inf); they are 0 here
    /// and shown as absent, not as a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<Metric>,
    /// Set when the metrics could not be read this round: the values are not a reading (all
    /// 0) and the console keeps what it last had, marked with the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<MetricsProblem>,
}

impl MetricSample {
    /// Whether `metric` has a value in this sample.
    pub fn has(&self, metric: Metric) -> bool {
        !self.absent.contains(&metric)
    }
}

/// One value of a [`MetricSample`], by name.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Rps,
    P50,
    P95,
    P99,
    ErrorRatio,
    Cpu,
    Memory,
    ReplicasReady,
    ReplicasDesired,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Rps => "rps",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::ErrorRatio => "error_ratio",
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
            Metric::ReplicasReady => "replicas_ready",
            Metric::ReplicasDesired => "replicas_desired",
        }
    }
}

/// Why an app's metrics could not be read from their source (a Prometheus behind the gateway).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricsProblem {
    pub kind: MetricsProblemKind,
    /// What the source said, e.g. the PromQL parse error.
    pub message: String,
    /// When the last good sample was read (platform time): the values on screen are that old.
    /// `None` when none has been read since the gateway started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricsProblemKind {
    /// The query is wrong (Prometheus 400 `bad_data`): fix the template.
    BadQuery,
    /// The query could not be executed (Prometheus 422).
    Execution,
    /// The source did not answer (503, timeout, refused): the data is only old.
    Unavailable,
    /// An answer opsdeck cannot read.
    Unexpected,
}

impl MetricsProblemKind {
    /// Whether the values last read still stand (only old), rather than being unknown.
    pub fn is_stale(self) -> bool {
        matches!(self, MetricsProblemKind::Unavailable)
    }
}

/// Log severity, ordered from least to most severe.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One log line from one pod.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LogLine {
    pub pod: String,
    pub level: Level,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// Alert severity: P0 is the most urgent.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Acknowledged,
    Silenced,
    Resolved,
}

/// An alert as listed by GET /v1/alerts and as sent on the `alerts` topic at each transition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Alert {
    pub id: String,
    /// The rule that fired, e.g. `HighErrorRatio`.
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub summary: String,
    pub app: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Id of the runbook that handles this alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced_until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Set while the alert source (Alertmanager) cannot be reached: the last time it answered.
    /// The alert is as it was then; its age is the platform's now minus this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Scale,
    Rollback,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Accepted,
    InProgress,
    Succeeded,
    Failed,
}

impl ActionState {
    pub fn is_final(self) -> bool {
        matches!(self, ActionState::Succeeded | ActionState::Failed)
    }
}

/// Replicas ready out of replicas wanted, e.g. "ready 7/12".
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub ready: u32,
    pub desired: u32,
}

/// A change the operator asked for and how far it has got.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ActionStatus {
    pub id: String,
    pub kind: ActionKind,
    pub app: String,
    pub state: ActionState,
    /// What was asked, for people: "scale 6 -> 12", "rollback v42 -> v41".
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Deploy,
    Scale,
    Rollback,
    PodRestart,
    PodReady,
    Alert,
    Scenario,
    /// A runbook run started (or dry-ran), was resumed, or ended: succeeded, failed, aborted,
    /// interrupted. Recorded by the gateway, not the platform.
    Run,
    /// A step of a run waits for approval, was approved, or ended: succeeded, failed, skipped.
    RunStep,
    /// The apps as a whole changed: what the platform reads them from (the Kubernetes API
    /// server) could not be read or answers again (their `stale_since` changed), or an app
    /// appeared, left, or its availability flipped. Consoles list the apps again.
    Source,
    /// A kind this build does not know (a newer gateway's): shown, not refused.
    #[serde(other)]
    Other,
}

impl EventKind {
    /// The kind in words, as lists show it and filters match it ("pod restart").
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Deploy => "deploy",
            EventKind::Scale => "scale",
            EventKind::Rollback => "rollback",
            EventKind::PodRestart => "pod restart",
            EventKind::PodReady => "pod ready",
            EventKind::Alert => "alert",
            EventKind::Scenario => "scenario",
            EventKind::Run => "run",
            EventKind::RunStep => "run step",
            EventKind::Source => "source",
            EventKind::Other => "other",
        }
    }
}

/// Something that happened on the platform: the timeline.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PlatformEvent {
    pub kind: EventKind,
    pub message: String,
    /// Who caused it, when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The run it is about (kinds `run` and `run_step`), for GET /v1/runs/{id}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn events_of_older_and_newer_gateways_decode() {
        // An older gateway's event: no `run`.
        let old: PlatformEvent =
            serde_json::from_str(r#"{"kind":"scale","message":"scale 4 -> 6","actor":"li.lei"}"#)
                .unwrap();
        assert_eq!(old.run, None);
        // A kind this build does not know yet.
        let newer: PlatformEvent =
            serde_json::from_str(r#"{"kind":"canary_step","message":"10% of traffic"}"#).unwrap();
        assert_eq!(newer.kind, EventKind::Other);
        let step = PlatformEvent {
            kind: EventKind::RunStep,
            message: "approve-rollback approved".into(),
            actor: Some("wang.fang".into()),
            run: Some("run-9f2c1a7e-1".into()),
        };
        assert_eq!(
            serde_json::to_string(&step).unwrap(),
            r#"{"kind":"run_step","message":"approve-rollback approved","actor":"wang.fang","run":"run-9f2c1a7e-1"}"#
        );
    }
}

//! HTTP request and response bodies of the /v1 API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{MetricSample, PlatformEvent};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AppStatus {
    Healthy,
    Degraded,
    Down,
    Scaling,
    RollingBack,
}

impl AppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Healthy => "healthy",
            AppStatus::Degraded => "degraded",
            AppStatus::Down => "down",
            AppStatus::Scaling => "scaling",
            AppStatus::RollingBack => "rolling-back",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replicas {
    pub desired: u32,
    pub ready: u32,
    pub min: u32,
    pub max: u32,
}

/// One app as GET /v1/apps lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AppSummary {
    pub id: String,
    /// Display name; may be Chinese.
    pub name: String,
    pub region: String,
    /// Id of the active release.
    pub release: String,
    pub version: String,
    pub replicas: Replicas,
    pub status: AppStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricSample>,
    /// Set while the platform cannot reach what it reads apps from (the Kubernetes API
    /// server): the last time it could. The app is shown as it was then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<DateTime<Utc>>,
    /// Why the app is stale, for people: "Kubernetes API unavailable: …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
    /// Ids of runbooks that handle this app, as the platform names them (a Kubernetes
    /// Deployment's `opsdeck.io/runbooks` annotation); the console's `b` opens the first when
    /// no alert names one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runbooks: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PodState {
    Pending,
    Starting,
    Ready,
    CrashLoop,
    Terminating,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Pod {
    pub name: String,
    pub state: PodState,
    pub zone: String,
    pub restarts: u32,
    pub started_at: DateTime<Utc>,
    pub release: String,
}

/// GET /v1/apps/{app}: the summary plus its pods.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AppDetail {
    #[serde(flatten)]
    pub summary: AppSummary,
    pub pods: Vec<Pod>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    Active,
    Superseded,
    Failed,
    RolledBack,
}

impl ReleaseStatus {
    /// The status as the wire spells it: `active`, `rolled-back`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Active => "active",
            ReleaseStatus::Superseded => "superseded",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::RolledBack => "rolled-back",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Release {
    pub id: String,
    pub version: String,
    pub created_at: DateTime<Utc>,
    pub status: ReleaseStatus,
    pub change_cause: String,
    pub artifact: String,
}

/// Body of POST /v1/apps/{app}/scale. `replicas` stays a raw JSON value so that a string or a
/// fraction gets a 422 naming the allowed range rather than a generic parse error.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleRequest {
    pub replicas: serde_json::Value,
}

/// Body of POST /v1/apps/{app}/rollback; no `to` means the previous good release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Body of POST /v1/alerts/{id}/silence.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// e.g. "30m", "2h", "90s".
    pub duration: String,
    #[serde(default)]
    pub comment: String,
}

/// Body of POST /v1/sim/scenarios.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    pub name: String,
}

/// One app's sample at a time, as GET /v1/apps/{app}/metrics lists them (oldest first).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TimedSample {
    pub ts: DateTime<Utc>,
    pub sample: MetricSample,
}

/// A platform event as GET /v1/events lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub ts: DateTime<Utc>,
    pub app: String,
    #[serde(flatten)]
    pub event: PlatformEvent,
}

/// Every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

/// Longest duration anything in opsdeck accepts (silences, runbook timeouts, sleeps): a year.
pub const MAX_DURATION_SECS: u64 = 366 * 86_400;

/// Parse a duration such as "90s", "30m", "2h", "1d" into seconds: positive, at most a year.
pub fn parse_duration_secs(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
        .filter(|s| (1..=MAX_DURATION_SECS).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_reject_garbage() {
        assert_eq!(parse_duration_secs("30m"), Some(1800));
        assert_eq!(parse_duration_secs("2h"), Some(7200));
        assert_eq!(parse_duration_secs("45s"), Some(45));
        assert_eq!(parse_duration_secs("0m"), None);
        assert_eq!(parse_duration_secs("30"), None);
        assert_eq!(parse_duration_secs("m"), None);
        assert_eq!(parse_duration_secs("5w"), None);
        assert_eq!(parse_duration_secs("366d"), Some(MAX_DURATION_SECS));
        assert_eq!(parse_duration_secs("367d"), None, "beyond a year");
        assert_eq!(parse_duration_secs("100000000d"), None);
    }
}

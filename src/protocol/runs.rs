//! Runbooks and their runs on the wire: what GET /v1/runbooks lists, what POST
//! /v1/runbooks/{id}/runs takes, and the [`RunStatus`] sent on the `runs` topic at every run and
//! step transition.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A runbook parameter as the API describes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    /// `string`, `app`, `integer`, `release`, `duration` or `percent`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// No default: the caller must give it.
    pub required: bool,
}

/// One runbook as GET /v1/runbooks lists it. An invalid file is listed too, with `error` set
/// (file:line:column: message); it cannot be run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunbookSummary {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `embedded` for the runbooks built into the binary, else the file's path.
    pub source: String,
    #[serde(default)]
    pub params: Vec<ParamInfo>,
    /// Number of main steps (fallbacks not counted).
    pub steps: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One step of a runbook, as written (parameters not yet substituted).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StepInfo {
    pub id: String,
    pub kind: String,
    /// What the step does, for people: "scale {{app}} to +50%".
    pub summary: String,
    /// `abort`, `continue`, or `fallback: a, b (then stop|continue)`.
    pub on_failure: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub retries: u32,
    /// Listed under `[[fallbacks]]`: runs only when a step names it.
    #[serde(default)]
    pub fallback: bool,
}

/// GET /v1/runbooks/{id}: the summary, the steps, and the file's text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunbookDetail {
    #[serde(flatten)]
    pub summary: RunbookSummary,
    pub step_list: Vec<StepInfo>,
    /// The TOML as loaded.
    pub text: String,
}

/// Body of POST /v1/runbooks/{id}/runs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RunRequest {
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Resolve parameters and evaluate conditions against current data, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Body of POST /v1/runs/{id}/approve: the step the operator approves. The gateway approves only
/// if that step is the one waiting, so a retry or a decision taken on stale state cannot pass a
/// later gate. `step` is required; it is optional here only so its absence gets a clear 422.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Pending,
    Running,
    WaitingApproval,
    Succeeded,
    Failed,
    Aborted,
    /// The gateway stopped while the run was in flight; POST .../resume continues it.
    Interrupted,
}

impl RunState {
    /// Every state, in the order a run goes through them.
    pub const ALL: [RunState; 7] = [
        RunState::Pending,
        RunState::Running,
        RunState::WaitingApproval,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Aborted,
        RunState::Interrupted,
    ];

    /// Succeeded, failed or aborted: nothing more will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunState::Succeeded | RunState::Failed | RunState::Aborted
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Running => "running",
            RunState::WaitingApproval => "waiting_approval",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Aborted => "aborted",
            RunState::Interrupted => "interrupted",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    WaitingApproval,
    Succeeded,
    Failed,
    Skipped,
}

/// One step of a run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StepStatus {
    pub id: String,
    pub kind: String,
    pub state: StepState,
    /// Attempts started so far (retries included).
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The step's log, oldest first: what it did, saw and decided.
    #[serde(default)]
    pub output: Vec<String>,
    /// What a waiting step waits for, e.g. "p99 = 412 ms, want < 300 ms for 60 s, held 12 s".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<String>,
    /// A `[[fallbacks]]` step.
    #[serde(default)]
    pub fallback: bool,
}

/// A run of a runbook: GET /v1/runs/{id}, and the `data` of every `runs` event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunStatus {
    pub id: String,
    pub runbook: String,
    /// Every parameter, resolved (defaults filled in).
    pub params: BTreeMap<String, serde_json::Value>,
    pub state: RunState,
    pub dry_run: bool,
    /// Main steps in order, then the fallback steps.
    pub steps: Vec<StepStatus>,
    /// Id of the step running, waiting or (when interrupted) to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    /// Why the run ended as it did, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_by: String,
    /// Dry runs only: the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

/// What a dry run found: each step resolved and judged against current data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Plan {
    pub steps: Vec<PlannedStep>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PlannedStep {
    pub id: String,
    pub kind: String,
    /// What the step would do, parameters substituted: "scale flash-sale 3 -> 5 (+50%)".
    pub action: String,
    /// For conditions: how they evaluate now, e.g. "p99 = 412 ms, want < 300 ms: not yet".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<String>,
    /// For conditions: whether the condition holds now (`None` when it could not be judged).
    /// A `check` that does not hold is a failed precondition: the real run stops there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds: Option<bool>,
    #[serde(default)]
    pub fallback: bool,
}

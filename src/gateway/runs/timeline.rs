//! Runs on the platform timeline: what a run and its steps did, as timeline entries (kinds
//! `run` and `run_step`) with the actor who did it — the run's `started_by`, the approver, the
//! operator who aborted or resumed it. The gateway records them, not the platform, so they are
//! kept here (bounded) for GET /v1/events and announced on the `events` topic; the messages are
//! written here so every recording point words them alike.

use std::collections::VecDeque;

use crate::protocol::{EventKind, PlatformEvent, RunState, RunStatus, TimelineEntry};

/// Run entries kept for GET /v1/events; older ones are forgotten first.
pub const TIMELINE_CAP: usize = 500;

/// The run entries, oldest first, at most [`TIMELINE_CAP`].
#[derive(Default)]
pub(super) struct RunTimeline(VecDeque<TimelineEntry>);

impl RunTimeline {
    pub(super) fn push(&mut self, entry: TimelineEntry) {
        self.0.push_back(entry);
        while self.0.len() > TIMELINE_CAP {
            self.0.pop_front();
        }
    }

    /// Newest first.
    pub(super) fn list(&self) -> Vec<TimelineEntry> {
        self.0.iter().rev().cloned().collect()
    }
}

/// The app a run is about: its `app` parameter, else `platform` (as on the `runs` topic).
pub fn app_of(run: &RunStatus) -> String {
    run.params
        .get("app")
        .and_then(|v| v.as_str())
        .unwrap_or("platform")
        .to_string()
}

/// One thing a run or one of its steps did.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEvent<'a> {
    /// The run was started (or dry-ran) by its `started_by`.
    Started,
    /// The run continues after an interruption, from `step`.
    Resumed {
        step: Option<&'a str>,
    },
    /// The run reached a final state (or `interrupted`); `message` says why.
    Ended {
        state: RunState,
        message: &'a str,
    },
    WaitingApproval {
        step: &'a str,
        message: &'a str,
    },
    Approved {
        step: &'a str,
    },
    StepSucceeded {
        step: &'a str,
    },
    StepFailed {
        step: &'a str,
        why: &'a str,
    },
    StepSkipped {
        step: &'a str,
    },
}

impl RunEvent<'_> {
    /// The timeline entry for `run`, done by `actor`.
    pub fn entry(&self, run: &RunStatus, actor: Option<&str>) -> TimelineEntry {
        let runbook = &run.runbook;
        let (kind, message) = match self {
            RunEvent::Started if run.dry_run => (EventKind::Run, format!("{runbook} dry run")),
            RunEvent::Started => (EventKind::Run, format!("{runbook} started")),
            RunEvent::Resumed { step: Some(step) } => {
                (EventKind::Run, format!("{runbook} resumed at step {step}"))
            }
            RunEvent::Resumed { step: None } => (EventKind::Run, format!("{runbook} resumed")),
            RunEvent::Ended { state, message } => {
                // "aborted by li.wei during step `x`" says again what the actor and the step's
                // own entry (failed: aborted by li.wei) already say.
                let message = if *state == RunState::Aborted {
                    ""
                } else {
                    message
                };
                let state = state.as_str().to_uppercase();
                let message = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                (EventKind::Run, format!("{runbook} {state}{message}"))
            }
            RunEvent::WaitingApproval { step, message: "" } => {
                (EventKind::RunStep, format!("{step} waits for approval"))
            }
            RunEvent::WaitingApproval { step, message } => (
                EventKind::RunStep,
                format!("{step} waits for approval: {message}"),
            ),
            RunEvent::Approved { step } => (EventKind::RunStep, format!("{step} approved")),
            RunEvent::StepSucceeded { step } => (EventKind::RunStep, format!("{step} succeeded")),
            RunEvent::StepFailed { step, why } => {
                (EventKind::RunStep, format!("{step} failed: {why}"))
            }
            RunEvent::StepSkipped { step } => (EventKind::RunStep, format!("{step} skipped")),
        };
        TimelineEntry {
            ts: run.updated_at,
            app: app_of(run),
            event: PlatformEvent {
                kind,
                message,
                actor: actor.map(str::to_string),
                run: Some(run.id.clone()),
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run() -> RunStatus {
        let t0 = "2026-11-11T12:00:00Z".parse().unwrap();
        RunStatus {
            id: "run-9f2c1a7e-1".into(),
            runbook: "bad-release".into(),
            params: [("app".to_string(), serde_json::json!("shop-cart"))].into(),
            state: RunState::Pending,
            dry_run: false,
            steps: Vec::new(),
            current_step: None,
            message: String::new(),
            created_at: t0,
            updated_at: t0,
            started_by: "li.wei".into(),
            plan: None,
        }
    }

    #[test]
    fn entries_name_the_runbook_or_step_first_and_carry_run_and_actor() {
        let run = run();
        let started = RunEvent::Started.entry(&run, Some("li.wei"));
        assert_eq!(started.app, "shop-cart");
        assert_eq!(started.event.kind, EventKind::Run);
        assert_eq!(started.event.message, "bad-release started");
        assert_eq!(started.event.actor.as_deref(), Some("li.wei"));
        assert_eq!(started.event.run.as_deref(), Some("run-9f2c1a7e-1"));
        let ended = RunEvent::Ended {
            state: RunState::Failed,
            message: "step `verify` failed: does not hold",
        };
        assert_eq!(
            ended.entry(&run, None).event.message,
            "bad-release FAILED: step `verify` failed: does not hold"
        );
        let aborted = RunEvent::Ended {
            state: RunState::Aborted,
            message: "aborted by zhao.lei during step `verify`",
        };
        assert_eq!(
            aborted.entry(&run, Some("zhao.lei")).event.message,
            "bad-release ABORTED"
        );
        let failed = RunEvent::StepFailed {
            step: "verify",
            why: "does not hold",
        };
        assert_eq!(failed.entry(&run, None).event.kind, EventKind::RunStep);
        assert_eq!(
            failed.entry(&run, None).event.message,
            "verify failed: does not hold"
        );
        let dry = RunStatus {
            dry_run: true,
            params: Default::default(),
            ..run
        };
        let entry = RunEvent::Started.entry(&dry, Some("li.wei"));
        assert_eq!(entry.app, "platform");
        assert_eq!(entry.event.message, "bad-release dry run");
    }

    #[test]
    fn the_timeline_is_newest_first_and_bounded() {
        let mut timeline = RunTimeline::default();
        let run = run();
        for i in 0..TIMELINE_CAP + 3 {
            let step = format!("s{i}");
            timeline.push(RunEvent::StepSucceeded { step: &step }.entry(&run, None));
        }
        let list = timeline.list();
        assert_eq!(list.len(), TIMELINE_CAP);
        assert_eq!(
            list[0].event.message,
            format!("s{} succeeded", TIMELINE_CAP + 2)
        );
    }
}

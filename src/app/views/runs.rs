//! Runs of runbooks: the Runs list (GET /v1/runs, newest first), the Run view of one run
//! (GET /v1/runs/{id} on open, then live from the `runs` topic), and the y/N questions that
//! start, approve, abort or resume a run. No single key ever changes anything.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::app::core::NoticeLevel;
use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind, RunControl};
use crate::app::core::keymap::{Command, Layer};
use crate::app::core::list;
use crate::app::list_filter;
use crate::app::state::{Dialog, State, View};
use crate::protocol::{Plan, RunState, RunStatus};

/// Runs kept in memory; the oldest finished ones go first.
pub const MAX_RUNS: usize = 200;

/// Every run the console knows, the Runs list's cursor and the run the Run view shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunsView {
    pub runs: BTreeMap<String, RunStatus>,
    /// Run ids, newest first; kept current by [`upsert`].
    pub order: Vec<String>,
    /// GET /v1/runs has answered at least once.
    pub loaded: bool,
    pub error: Option<String>,
    /// The Runs list's selected row.
    pub cursor: usize,
    /// The run the Run view shows.
    pub current: Option<String>,
    /// First output line shown in the Run view.
    pub scroll: usize,
    pub(crate) list_request: Option<RequestId>,
    pub(crate) run_request: Option<RequestId>,
}

impl RunsView {
    pub fn current_run(&self) -> Option<&RunStatus> {
        self.runs.get(self.current.as_ref()?)
    }
}

/// What the y/N question is about.
#[derive(Clone, Debug, PartialEq)]
pub enum RunAsk {
    /// Start `runbook` for real with these parameters. `failed_check` is the dry run's first
    /// precondition that did not hold: then starting takes a second, explicit `y`.
    Start {
        runbook: String,
        params: BTreeMap<String, Value>,
        failed_check: Option<FailedCheck>,
    },
    /// Approve, abort or resume a run; every try of this decision goes with the same key. An
    /// approval holds the step that was waiting when the operator asked: that is the gate the
    /// question names and the request approves, whatever the run shows by the time `y` comes.
    Control {
        run: String,
        control: RunControl,
        step: Option<String>,
        idempotency_key: String,
    },
}

/// A precondition the dry run found not holding: a `check` step, where the real run would stop.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedCheck {
    /// The step's id, e.g. `errors-after-release`.
    pub step: String,
    /// What was seen against what was wanted: "error_ratio = 0.4%, want > 2%; …".
    pub observed: String,
}

impl FailedCheck {
    /// The first `check` of `plan` (not a fallback) whose condition does not hold now.
    pub fn first_in(plan: &Plan) -> Option<FailedCheck> {
        plan.steps
            .iter()
            .find(|s| s.kind == "check" && !s.fallback && s.holds == Some(false))
            .map(|s| {
                let evaluation = s.evaluation.as_deref().unwrap_or_default();
                let observed = evaluation.strip_prefix("now: ").unwrap_or(evaluation);
                let observed = observed
                    .strip_suffix(" (does not hold)")
                    .unwrap_or(observed);
                FailedCheck {
                    step: s.id.clone(),
                    observed: observed.to_string(),
                }
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunDialogStep {
    Ask,
    /// A precondition failed and the first `y` came: "The precondition failed. Start anyway?"
    AskAnyway,
    Sending {
        request_id: RequestId,
    },
}

/// "Start bad-release on shop-cart? y/N", "Approve run-…? y/N", …
#[derive(Clone, Debug, PartialEq)]
pub struct RunDialog {
    pub ask: RunAsk,
    pub step: RunDialogStep,
    /// Why the last try failed; `y` tries again.
    pub failure: Option<String>,
}

impl RunDialog {
    pub fn new(ask: RunAsk) -> Self {
        RunDialog {
            ask,
            step: RunDialogStep::Ask,
            failure: None,
        }
    }

    /// The precondition that failed in the dry run, for a start.
    pub fn failed_check(&self) -> Option<&FailedCheck> {
        match &self.ask {
            RunAsk::Start { failed_check, .. } => failed_check.as_ref(),
            RunAsk::Control { .. } => None,
        }
    }

    /// The question a failed try goes back to: the last one the operator answered `y` to.
    pub(crate) fn retry_step(&self) -> RunDialogStep {
        if self.failed_check().is_some() {
            RunDialogStep::AskAnyway
        } else {
            RunDialogStep::Ask
        }
    }
}

/// Show the Runs list and refresh it from GET /v1/runs.
pub fn open_runs(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    state.push_view(View::Runs);
    let id = state.core.send(RequestKind::FetchRuns, &mut effects);
    state.runs.list_request = Some(id);
    effects
}

/// Show the Run view of `run` and fetch it.
pub fn open_run(state: &mut State, run: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    show(state, run, &mut effects);
    state.push_view(View::Run);
    effects
}

fn show(state: &mut State, run: &str, effects: &mut Vec<Effect>) {
    state.runs.current = Some(run.to_string());
    state.runs.scroll = 0;
    if let Some(i) = state.runs.order.iter().position(|r| r == run) {
        state.runs.cursor = i;
    }
    let id = state.core.send(
        RequestKind::FetchRun {
            run: run.to_string(),
        },
        effects,
    );
    state.runs.run_request = Some(id);
}

/// A run as the stream or a reply reported it. An older report never replaces a newer one.
pub fn upsert(state: &mut State, status: RunStatus) {
    let view = &mut state.runs;
    if view
        .runs
        .get(&status.id)
        .is_some_and(|known| known.updated_at > status.updated_at)
    {
        return;
    }
    view.runs.insert(status.id.clone(), status);
    if view.runs.len() > MAX_RUNS {
        let oldest_final = view
            .runs
            .values()
            .filter(|r| r.state.is_final() && view.current.as_ref() != Some(&r.id))
            .min_by_key(|r| (r.created_at, r.id.clone()))
            .map(|r| r.id.clone());
        if let Some(id) = oldest_final {
            view.runs.remove(&id);
        }
    }
    refresh(state);
}

/// Recompute the Runs list's order (newest first, narrowed by its `/` filter: id, runbook,
/// state, or the app's id or name) and keep the cursor on a shown row.
pub(crate) fn refresh(state: &mut State) {
    let needle = state.filter_needle(View::Runs);
    let core = &state.core;
    let view = &mut state.runs;
    let mut rows: Vec<&RunStatus> = view
        .runs
        .values()
        .filter(|r| {
            let app = r.params.get("app").and_then(|v| v.as_str()).unwrap_or("");
            let name = core.apps.get(app).map_or("", |a| a.summary.name.as_str());
            list_filter::matches(
                &needle,
                [r.id.as_str(), &r.runbook, r.state.as_str(), app, name],
            )
        })
        .collect();
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    view.order = rows.iter().map(|r| r.id.clone()).collect();
    view.cursor = view.cursor.min(view.order.len().saturating_sub(1));
}

/// Keys of the Runs list and the Run view.
pub(crate) fn run_view(
    state: &mut State,
    layer: Layer,
    cmd: Command,
    effects: &mut Vec<Effect>,
) -> bool {
    match (layer, cmd) {
        (_, Command::Back) => state.go_back(),
        (_, Command::OpenRuns) => {
            if state.view != View::Runs {
                effects.extend(open_runs(state));
            }
        }
        (Layer::Runs, Command::MoveDown) => move_cursor(state, 1),
        (Layer::Runs, Command::MoveUp) => move_cursor(state, -1),
        (Layer::Runs, Command::PageDown) => move_cursor(state, 10),
        (Layer::Runs, Command::PageUp) => move_cursor(state, -10),
        (Layer::Runs, Command::Top) => move_cursor(state, isize::MIN / 2),
        (Layer::Runs, Command::Bottom) => move_cursor(state, isize::MAX / 2),
        (Layer::Runs, Command::Submit) => {
            if let Some(run) = state.runs.order.get(state.runs.cursor).cloned() {
                effects.extend(open_run(state, &run));
            }
        }
        (Layer::Run, Command::MoveDown) => scroll(state, 1),
        (Layer::Run, Command::MoveUp) => scroll(state, -1),
        (Layer::Run, Command::PageDown) => scroll(state, 10),
        (Layer::Run, Command::PageUp) => scroll(state, -10),
        (Layer::Run, Command::Top) => scroll(state, isize::MIN / 2),
        (Layer::Run, Command::NextRun) => switch_run(state, 1, effects),
        (Layer::Run, Command::PrevRun) => switch_run(state, -1, effects),
        (Layer::Run, Command::ApproveRun) => ask_control(state, RunControl::Approve),
        (Layer::Run, Command::AbortRun) => ask_control(state, RunControl::Abort),
        (Layer::Run, Command::ResumeRun) => ask_control(state, RunControl::Resume),
        _ => return false,
    }
    true
}

fn move_cursor(state: &mut State, delta: isize) {
    state.runs.cursor = list::moved(state.runs.cursor, delta, state.runs.order.len());
}

/// Scroll the Run view's steps. Their output wraps to the terminal's width, so the bound counts
/// wrapped rows (at most what the screen shows; it stops scrolling at the last one).
fn scroll(state: &mut State, delta: isize) {
    // The view's padding and the widest mark before a wrapped line ("    │ ").
    let cols = usize::from(state.core.size.0).saturating_sub(8);
    let lines = state.runs.current_run().map_or(0, |r| {
        r.steps
            .iter()
            .map(|s| {
                let waiting = s
                    .waiting_on
                    .as_ref()
                    .map_or(0, |w| list::wrapped_rows(&format!("waiting on: {w}"), cols));
                let output: usize = s.output.iter().map(|o| list::wrapped_rows(o, cols)).sum();
                2 + waiting + output
            })
            .sum()
    });
    state.runs.scroll = list::moved(state.runs.scroll, delta, lines);
}

/// The next (older, `+1`) or previous (newer, `-1`) run in the Runs list's order.
fn switch_run(state: &mut State, delta: isize, effects: &mut Vec<Effect>) {
    let order = &state.runs.order;
    let Some(at) = state
        .runs
        .current
        .as_ref()
        .and_then(|c| order.iter().position(|r| r == c))
    else {
        return;
    };
    let Some(next) = at
        .checked_add_signed(delta)
        .and_then(|i| order.get(i))
        .cloned()
    else {
        return;
    };
    show(state, &next, effects);
}

/// `A`, `X`, `u`: ask first, and only when the run is in a state that allows it.
fn ask_control(state: &mut State, control: RunControl) {
    let Some(run) = state.runs.current_run() else {
        return;
    };
    let verb = control.path();
    // An approval is for the step waiting now, as this console shows it.
    let (allowed, step) = match control {
        RunControl::Approve => (
            run.state == RunState::WaitingApproval && run.current_step.is_some(),
            run.current_step.clone(),
        ),
        RunControl::Abort => (!run.state.is_final(), None),
        RunControl::Resume => (run.state == RunState::Interrupted, None),
    };
    let (id, run_state) = (run.id.clone(), run.state.as_str());
    if state.core.readonly {
        state.core.notify(
            NoticeLevel::Warn,
            format!(
                "READ-ONLY: cannot {verb} runs in this session ({})",
                state.core.readonly_reason()
            ),
        );
        return;
    }
    if !allowed {
        state.core.notify(
            NoticeLevel::Info,
            format!("run {id} is {run_state}: nothing to {verb}"),
        );
        return;
    }
    if state.dialog.is_none() {
        let idempotency_key = state.core.new_idempotency_key();
        state.dialog = Some(Dialog::Run(RunDialog::new(RunAsk::Control {
            run: id,
            control,
            step,
            idempotency_key,
        })));
    }
}

/// `y` / `n` on the question.
pub(crate) fn run_confirm(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    let Some(Dialog::Run(d)) = &state.dialog else {
        return false;
    };
    let step = d.step;
    let asking = matches!(step, RunDialogStep::Ask | RunDialogStep::AskAnyway);
    match cmd {
        // A failed precondition: the first `y` only turns the question into "Start anyway?".
        Command::Confirm if step == RunDialogStep::Ask && d.failed_check().is_some() => {
            if let Some(Dialog::Run(d)) = &mut state.dialog {
                d.step = RunDialogStep::AskAnyway;
                d.failure = None;
            }
        }
        Command::Confirm if asking => send(state, effects),
        Command::Cancel => {
            state.dialog = None;
            if !asking {
                state.core.notify(
                    NoticeLevel::Info,
                    "request still on its way; the result shows here",
                );
            }
        }
        Command::Quit | Command::ToggleHelp => return false,
        _ => {}
    }
    true
}

fn send(state: &mut State, effects: &mut Vec<Effect>) {
    if state.core.readonly {
        return;
    }
    let Some(Dialog::Run(d)) = &state.dialog else {
        return;
    };
    let actor = state.core.actor.clone();
    let kind = match d.ask.clone() {
        RunAsk::Start {
            runbook, params, ..
        } => {
            let key = crate::app::views::runbooks::key_for(state, &params);
            RequestKind::StartRun {
                runbook,
                params,
                dry_run: false,
                idempotency_key: Some(key),
                actor,
            }
        }
        RunAsk::Control {
            run,
            control,
            step,
            idempotency_key,
        } => RequestKind::ControlRun {
            run,
            control,
            step,
            actor,
            idempotency_key,
        },
    };
    let request_id = state.core.send(kind, effects);
    if let Some(Dialog::Run(d)) = &mut state.dialog {
        d.step = RunDialogStep::Sending { request_id };
        d.failure = None;
    }
}

/// GET /v1/runs answered.
pub(crate) fn on_list(state: &mut State, request_id: RequestId, result: Result<Reply, HttpError>) {
    if state.runs.list_request != Some(request_id) {
        return;
    }
    state.runs.list_request = None;
    match result {
        Ok(Reply::Runs(list)) => {
            for run in list {
                upsert(state, run);
            }
            state.runs.loaded = true;
            state.runs.error = None;
        }
        Ok(_) => {}
        Err(err) => {
            state
                .core
                .notify(NoticeLevel::Warn, format!("loading runs: {err}"));
            state.runs.error = Some(err.to_string());
        }
    }
}

/// GET /v1/runs/{id} answered; only the newest request counts.
pub(crate) fn on_run(
    state: &mut State,
    request_id: RequestId,
    run: &str,
    result: Result<Reply, HttpError>,
) {
    if state.runs.run_request != Some(request_id) {
        return;
    }
    state.runs.run_request = None;
    match result {
        Ok(Reply::Run(status)) => upsert(state, *status),
        Ok(_) => {}
        Err(err) => state
            .core
            .notify(NoticeLevel::Warn, format!("loading run {run}: {err}")),
    }
}

/// POST /v1/runs/{id}/approve, /abort or /resume answered.
pub(crate) fn on_control(
    state: &mut State,
    request_id: RequestId,
    run: &str,
    control: RunControl,
    result: Result<Reply, HttpError>,
) {
    let waiting = matches!(
        &state.dialog,
        Some(Dialog::Run(d)) if d.step == RunDialogStep::Sending { request_id }
    );
    let verb = control.path();
    match result {
        Ok(reply) => {
            if waiting {
                state.dialog = None;
            }
            if let Reply::Run(status) = reply {
                upsert(state, *status);
            }
            state
                .core
                .notify(NoticeLevel::Info, format!("run {run}: {verb} accepted"));
        }
        Err(err) if waiting && err.is_transient() => {
            if let Some(Dialog::Run(d)) = &mut state.dialog {
                d.step = d.retry_step();
                d.failure = Some(err.to_string());
            }
        }
        Err(err) => {
            if waiting {
                state.dialog = None;
            }
            state.core.notify(
                NoticeLevel::Error,
                format!("cannot {verb} run {run}: {err}"),
            );
        }
    }
}

//! The Runbooks view and the parameter form: GET /v1/runbooks as a list (with the alerts that
//! point at each runbook), then one runbook's parameters, a dry run first, and only after `r`
//! and `y` the real run, sent with an idempotency key. A dry run whose precondition (a `check`)
//! does not hold takes a second `y`.
//!
//! Retries follow scale and rollback: a transient failure goes back to the question and `y`
//! sends the same key again; a refusal (4xx) goes back to the form with the reason and a new
//! key.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::app::core::NoticeLevel;
use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::keymap::{Command, Layer};
use crate::app::core::list;
use crate::app::list_filter;
use crate::app::state::{Dialog, State, View};
use crate::app::views::runbook_form::{FormStep, RunbookForm};
use crate::app::views::runs::{self, FailedCheck, RunAsk, RunDialog, RunDialogStep};
use crate::protocol::{Alert, AlertState, RunbookSummary};

/// What the Runbooks view shows and where its cursor is, and the open parameter form.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunbooksView {
    /// `None` until GET /v1/runbooks answers.
    pub list: Option<Vec<RunbookSummary>>,
    pub error: Option<String>,
    /// The selected row: an index into the rows the `/` filter shows
    /// ([`State::shown_runbooks`]).
    pub selected: usize,
    /// The id of the runbook under the cursor, so the cursor stays on it when the list changes.
    pub(crate) selected_id: Option<String>,
    /// The parameter form of the runbook being prepared.
    pub form: Option<RunbookForm>,
    pub(crate) list_request: Option<RequestId>,
}

impl State {
    /// The runbooks the Runbooks view shows, narrowed by its `/` filter: id, title, or an
    /// unresolved alert pointing at it (id, app, rule, summary).
    /// Those an unresolved alert points at come first, most urgent first, so the incident's
    /// runbook is on the top row where the cursor starts.
    pub fn shown_runbooks(&self) -> Vec<&RunbookSummary> {
        let needle = self.filter_needle(View::Runbooks);
        let mut shown: Vec<&RunbookSummary> = self
            .runbooks
            .list
            .iter()
            .flatten()
            .filter(|r| {
                list_filter::matches(&needle, [r.id.as_str(), &r.title])
                    || self.alerts_for_runbook(&r.id).any(|a| {
                        list_filter::matches(&needle, [a.id.as_str(), &a.app, &a.rule, &a.summary])
                    })
            })
            .collect();
        shown.sort_by_cached_key(|r| {
            self.alerts_for_runbook(&r.id)
                .map(|a| (a.state != AlertState::Firing, a.severity))
                .min()
                .map_or((1, None), |urgency| (0, Some(urgency)))
        });
        shown
    }

    /// The runbook under the Runbooks view's cursor.
    pub fn selected_runbook(&self) -> Option<&RunbookSummary> {
        self.shown_runbooks().get(self.runbooks.selected).copied()
    }

    /// Unresolved alerts whose runbook is `runbook`.
    pub fn alerts_for_runbook<'a>(&'a self, runbook: &'a str) -> impl Iterator<Item = &'a Alert> {
        self.core.alerts.values().filter(move |a| {
            a.state != AlertState::Resolved && a.runbook.as_deref() == Some(runbook)
        })
    }
}

/// Show the Runbooks view and refresh the list from GET /v1/runbooks.
pub fn open_runbooks(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    state.push_view(View::Runbooks);
    let id = state.core.send(RequestKind::FetchRunbooks, &mut effects);
    state.runbooks.list_request = Some(id);
    effects
}

/// Open the parameter form of runbook `id`, with `app` filled into its `app` parameter.
pub fn open_runbook(state: &mut State, id: &str, app: Option<&str>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(broken) = state
        .runbooks
        .list
        .as_ref()
        .and_then(|l| l.iter().find(|r| r.id == id))
        .and_then(|r| r.error.clone())
    {
        state.core.notify(
            NoticeLevel::Warn,
            format!("runbook {id} cannot run: {broken}"),
        );
        return effects;
    }
    let key = state.core.new_idempotency_key();
    let mut form = RunbookForm::new(id.to_string(), app.map(str::to_string), key);
    form.detail_request = Some(state.core.send(
        RequestKind::FetchRunbook {
            runbook: id.to_string(),
        },
        &mut effects,
    ));
    state.runbooks.form = Some(form);
    state.push_view(View::Runbook);
    effects
}

/// The keymap layer of the Runbook view: the form while editing, else the plan.
pub fn form_layer(state: &State) -> Layer {
    match state.runbooks.form.as_ref().map(|f| &f.step) {
        Some(FormStep::DryRunning { .. } | FormStep::Plan) => Layer::RunbookPlan,
        _ => Layer::RunbookForm,
    }
}

/// Keys of the runbook and run views and of their y/N question; false for other commands.
pub(crate) fn run(
    state: &mut State,
    layer: Layer,
    cmd: Command,
    effects: &mut Vec<Effect>,
) -> bool {
    match layer {
        Layer::Overview if cmd == Command::OpenRunbooks => {
            effects.extend(open_runbooks(state));
            true
        }
        Layer::Runbooks => run_list(state, cmd, effects),
        Layer::RunbookForm => run_form(state, cmd, effects),
        Layer::RunbookPlan => run_plan(state, cmd, effects),
        Layer::Runs | Layer::Run => runs::run_view(state, layer, cmd, effects),
        Layer::Confirm if matches!(state.dialog, Some(Dialog::Run(_))) => {
            runs::run_confirm(state, cmd, effects)
        }
        _ => false,
    }
}

/// Type into the focused field of the form.
pub(crate) fn type_char(state: &mut State, c: char) -> bool {
    match &mut state.runbooks.form {
        Some(form) if form.step == FormStep::Edit => {
            form.push_char(c);
            true
        }
        _ => false,
    }
}

/// Move the Runbooks view's cursor by `delta` shown rows (0 keeps it on a shown row).
pub(crate) fn move_cursor(state: &mut State, delta: isize) {
    let (cursor, id) = {
        let shown: Vec<&str> = state
            .shown_runbooks()
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        let view = &state.runbooks;
        list::follow(view.selected, view.selected_id.as_deref(), &shown, delta)
    };
    state.runbooks.selected = cursor;
    if id.is_some() {
        state.runbooks.selected_id = id;
    }
}

fn run_list(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::MoveDown => move_cursor(state, 1),
        Command::MoveUp => move_cursor(state, -1),
        Command::PageDown => move_cursor(state, 10),
        Command::PageUp => move_cursor(state, -10),
        Command::Top => move_cursor(state, isize::MIN / 2),
        Command::Bottom => move_cursor(state, isize::MAX / 2),
        Command::Submit => {
            if let Some(id) = state.selected_runbook().map(|r| r.id.clone()) {
                effects.extend(open_runbook(state, &id, None));
            }
        }
        Command::OpenRuns => effects.extend(runs::open_runs(state)),
        Command::Back => state.go_back(),
        _ => return false,
    }
    true
}

fn run_form(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::Submit => dry_run(state, effects),
        Command::Back => state.go_back(),
        _ => {
            let Some(form) = &mut state.runbooks.form else {
                return false;
            };
            if form.step != FormStep::Edit {
                return matches!(cmd, Command::NextField | Command::PrevField);
            }
            match cmd {
                Command::NextField | Command::MoveDown => form.move_focus(1),
                Command::PrevField | Command::MoveUp => form.move_focus(-1),
                Command::DeleteChar => form.delete_char(),
                Command::Complete => complete_app(state),
                _ => return false,
            }
        }
    }
    true
}

fn run_plan(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    let Some(form) = &mut state.runbooks.form else {
        return false;
    };
    match cmd {
        Command::Back => {
            form.step = FormStep::Edit;
            form.plan = None;
        }
        Command::StartRun => ask_to_start(state),
        Command::OpenRuns => effects.extend(runs::open_runs(state)),
        Command::MoveDown => scroll_plan(state, 1),
        Command::MoveUp => scroll_plan(state, -1),
        _ => return false,
    }
    true
}

/// Scroll a plan taller than the screen. Its steps wrap to the terminal's width, so the bound
/// counts wrapped rows (at most what the screen shows; it stops scrolling at the last one).
fn scroll_plan(state: &mut State, delta: isize) {
    // The view's padding and the step's number and kind before its text.
    let cols = usize::from(state.core.size.0).saturating_sub(16);
    let Some(form) = &mut state.runbooks.form else {
        return;
    };
    let rows: usize = form
        .plan
        .as_ref()
        .and_then(|run| run.plan.as_ref())
        .map_or(0, |plan| {
            plan.steps
                .iter()
                .map(|s| {
                    let evaluation = s
                        .evaluation
                        .as_ref()
                        .map_or(0, |e| list::wrapped_rows(e, cols));
                    list::wrapped_rows(&s.action, cols) + 1 + evaluation
                })
                .sum()
        });
    form.plan_scroll = list::moved(form.plan_scroll, delta, rows + 4);
}

/// App ids matching the focused `app` field's text, for completion.
pub fn app_candidates(state: &State) -> Vec<String> {
    let Some(field) = state.runbooks.form.as_ref().and_then(|f| f.focused()) else {
        return Vec::new();
    };
    if field.info.kind != "app" {
        return Vec::new();
    }
    let typed = field.input.trim().to_lowercase();
    state
        .core
        .apps
        .values()
        .filter(|a| {
            a.summary.id.to_lowercase().starts_with(&typed)
                || a.summary.name.to_lowercase().contains(&typed)
        })
        .map(|a| a.summary.id.clone())
        .collect()
}

/// Ctrl-n in an `app` field: the next app id that matches what was typed.
fn complete_app(state: &mut State) {
    let candidates = app_candidates(state);
    let Some(form) = &mut state.runbooks.form else {
        return;
    };
    if candidates.is_empty() {
        return;
    }
    let pick = candidates[form.completion % candidates.len()].clone();
    if let Some(field) = form.fields.get_mut(form.focus) {
        field.input = pick;
    }
    // Keep cycling through the same candidates on the next Ctrl-n.
    form.completion += 1;
}

/// Enter in the form: a dry run with these parameters, if every field is valid.
fn dry_run(state: &mut State, effects: &mut Vec<Effect>) {
    let apps = &state.core.apps;
    let known = |a: &str| apps.contains_key(a);
    let Some(form) = &state.runbooks.form else {
        return;
    };
    if form.step != FormStep::Edit {
        return;
    }
    let checked = form.values(&known);
    let runbook = form.runbook.clone();
    match checked {
        Err((i, problem)) => {
            if let Some(form) = &mut state.runbooks.form {
                let name = form.fields.get(i).map(|f| f.info.name.clone());
                form.focus = i;
                form.failure = Some(format!("{}: {problem}", name.unwrap_or_default()));
            }
        }
        Ok(params) => {
            let kind = RequestKind::StartRun {
                runbook,
                params: params.clone(),
                dry_run: true,
                idempotency_key: None,
                actor: state.core.actor.clone(),
            };
            let request_id = state.core.send(kind, effects);
            if let Some(form) = &mut state.runbooks.form {
                form.step = FormStep::DryRunning { request_id };
                form.planned = params;
                form.plan = None;
                form.plan_scroll = 0;
                form.failure = None;
            }
        }
    }
}

/// `r` on a plan: ask "Run … for real? y/N".
fn ask_to_start(state: &mut State) {
    if state.core.readonly {
        let text = format!(
            "READ-ONLY: runbooks can be dry-run but not started in this session ({})",
            state.core.readonly_reason()
        );
        state.core.notify(NoticeLevel::Warn, text);
        return;
    }
    let Some(form) = &state.runbooks.form else {
        return;
    };
    if form.step != FormStep::Plan || state.dialog.is_some() {
        return;
    }
    let failed_check = form
        .plan
        .as_ref()
        .and_then(|run| run.plan.as_ref())
        .and_then(FailedCheck::first_in);
    state.dialog = Some(Dialog::Run(RunDialog::new(RunAsk::Start {
        runbook: form.runbook.clone(),
        params: form.planned.clone(),
        failed_check,
    })));
}

/// The idempotency key for a real run of `params`: the form's key for a retry of the same
/// parameters, a new one for different parameters.
pub(crate) fn key_for(state: &mut State, params: &BTreeMap<String, Value>) -> String {
    let fresh = state
        .runbooks
        .form
        .as_ref()
        .is_none_or(|f| f.sent.as_ref().is_some_and(|sent| sent != params));
    let key = if fresh {
        state.core.new_idempotency_key()
    } else {
        state
            .runbooks
            .form
            .as_ref()
            .map(|f| f.idempotency_key.clone())
            .unwrap_or_default()
    };
    if let Some(form) = &mut state.runbooks.form {
        form.idempotency_key = key.clone();
        form.sent = Some(params.clone());
    }
    key
}

/// GET /v1/runbooks answered.
pub(crate) fn on_list(state: &mut State, request_id: RequestId, result: Result<Reply, HttpError>) {
    if state.runbooks.list_request != Some(request_id) {
        return;
    }
    state.runbooks.list_request = None;
    match result {
        Ok(Reply::Runbooks(list)) => {
            state.runbooks.list = Some(list);
            state.runbooks.error = None;
            move_cursor(state, 0);
        }
        Ok(_) => {}
        Err(err) => {
            state
                .core
                .notify(NoticeLevel::Warn, format!("loading runbooks: {err}"));
            state.runbooks.error = Some(err.to_string());
        }
    }
}

/// GET /v1/runbooks/{id} answered.
pub(crate) fn on_detail(
    state: &mut State,
    request_id: RequestId,
    result: Result<Reply, HttpError>,
) {
    let Some(form) = &mut state.runbooks.form else {
        return;
    };
    if form.detail_request != Some(request_id) {
        return;
    }
    form.detail_request = None;
    match result {
        Ok(Reply::Runbook(detail)) => form.load(*detail),
        Ok(_) => {}
        Err(err) => {
            let msg = format!("loading runbook {}: {err}", form.runbook);
            form.failure = Some(err.to_string());
            state.core.notify(NoticeLevel::Warn, msg);
        }
    }
}

/// POST /v1/runbooks/{id}/runs answered: a dry run's plan, or a real run started or refused.
pub(crate) fn on_started(
    state: &mut State,
    request_id: RequestId,
    runbook: &str,
    dry_run: bool,
    result: Result<Reply, HttpError>,
    effects: &mut Vec<Effect>,
) {
    if dry_run {
        let Some(form) = &mut state.runbooks.form else {
            return;
        };
        if form.step != (FormStep::DryRunning { request_id }) {
            return;
        }
        match result {
            Ok(Reply::Run(status)) => {
                form.plan = Some(status);
                form.step = FormStep::Plan;
            }
            Ok(_) => form.step = FormStep::Edit,
            Err(err) => {
                form.failure = Some(format!("dry run refused: {err}"));
                form.step = FormStep::Edit;
            }
        }
        return;
    }
    let waiting = matches!(
        &state.dialog,
        Some(Dialog::Run(d)) if d.step == RunDialogStep::Sending { request_id }
    );
    match result {
        Ok(reply) => {
            if waiting {
                state.dialog = None;
            }
            if waiting {
                // Started: running it again from the same plan is a new run, with a new key.
                let key = state.core.new_idempotency_key();
                if let Some(form) = &mut state.runbooks.form {
                    form.idempotency_key = key;
                    form.sent = None;
                }
            }
            if let Reply::Run(status) = reply {
                let id = status.id.clone();
                runs::upsert(state, *status);
                state.core.notify(
                    NoticeLevel::Info,
                    format!("runbook {runbook} started: {id}"),
                );
                if waiting {
                    effects.extend(runs::open_run(state, &id));
                }
            }
        }
        Err(err) if waiting && err.is_transient() => {
            if let Some(Dialog::Run(d)) = &mut state.dialog {
                d.step = d.retry_step();
                d.failure = Some(err.to_string());
            }
        }
        Err(err) if waiting => {
            state.dialog = None;
            let key = state.core.new_idempotency_key();
            if let Some(form) = &mut state.runbooks.form {
                form.failure = Some(format!("run refused: {err}"));
                form.step = FormStep::Edit;
                form.plan = None;
                form.idempotency_key = key;
                form.sent = None;
            }
        }
        Err(err) => state.core.notify(
            NoticeLevel::Error,
            format!("runbook {runbook} did not start: {err}"),
        ),
    }
}

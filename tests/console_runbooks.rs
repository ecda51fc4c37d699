//! Pure `update()` tests of the console's runbooks: the list and which alerts point at each
//! runbook, the parameter form's validation, the dry run first, the real run only after `r`
//! and `y` (once, with an idempotency key, retried like scale), read-only, approve / abort /
//! resume, live `runs` events, stale replies, and one key-driven path from a firing alert to a
//! running runbook.
#![allow(clippy::unwrap_used)]

mod common;

use alert_fixtures::*;
use common::keys::{press, type_text};
use common::{alert_fixtures, fixtures, runbook_fixtures};
use fixtures::*;
use opsdeck::app::{
    Action, Dialog, Effect, FormStep, HttpError, KeyCode, KeyInput, Reply, RequestKind, RunControl,
    RunDialogStep, State, View, update,
};
use opsdeck::protocol::{RunState, StepState, Topic};
use runbook_fixtures::*;
use serde_json::Value;

fn key(code: KeyCode) -> KeyInput {
    KeyInput::plain(code)
}

fn command(state: &mut State, line: &str) -> Vec<Effect> {
    let mut fx = press(state, KeyInput::char(':'));
    fx.extend(type_text(state, line));
    fx.extend(press(state, key(KeyCode::Enter)));
    fx
}

fn last_notice(state: &State) -> String {
    state.core.notifications.back().unwrap().text.clone()
}

fn start_runs(effects: &[Effect]) -> Vec<(u64, RequestKind)> {
    requests(effects)
        .into_iter()
        .filter(|(_, k)| matches!(k, RequestKind::StartRun { .. }))
        .collect()
}

fn changes(effects: &[Effect]) -> Vec<(u64, RequestKind)> {
    requests(effects)
        .into_iter()
        .filter(|(_, k)| k.changes_platform())
        .collect()
}

/// The fixture apps and alerts, runbooks listed, with the form of `runbook` open and loaded.
fn form_state(readonly: bool, runbook: &str) -> State {
    let mut state = alerts_state(readonly);
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char('B'));
    answer_runbooks(&mut state);
    command(&mut state, &format!("runbook {runbook}"));
    answer_detail(&mut state);
    state
}

/// Dry-run the open bad-release form and answer with the plan.
fn planned_state(readonly: bool) -> State {
    let mut state = form_state(readonly, "bad-release");
    press(&mut state, key(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::StartRun { .. }));
    reply(&mut state, id, Reply::Run(Box::new(dry_run("shop-cart"))));
    assert_eq!(state.runbooks.form.as_ref().unwrap().step, FormStep::Plan);
    state
}

/// The Run view of the waiting run, opened from the Runs list.
fn run_view_state(readonly: bool) -> State {
    let mut state = alerts_state(readonly);
    command(&mut state, "runs");
    answer_runs(&mut state);
    // Newest first: running (-190 s), waiting (-65 s)… the waiting one is the newest.
    assert_eq!(
        state.runs.order,
        ["run-9f2c1a7e-3", "run-9f2c1a7e-2", "run-9f2c1a7e-1"]
    );
    press(&mut state, key(KeyCode::Enter));
    assert_eq!(state.view, View::Run);
    let id = pending(&state, |k| matches!(k, RequestKind::FetchRun { .. }));
    reply(&mut state, id, Reply::Run(Box::new(waiting_run())));
    state
}

#[test]
fn b_from_the_overview_lists_runbooks_with_the_alerts_that_point_at_them() {
    let mut state = alerts_state(false);
    press(&mut state, key(KeyCode::Esc));
    let fx = press(&mut state, KeyInput::char('B'));
    assert_eq!(state.view, View::Runbooks);
    assert!(
        requests(&fx)
            .iter()
            .any(|(_, k)| *k == RequestKind::FetchRunbooks)
    );
    answer_runbooks(&mut state);
    let list = state.runbooks.list.as_ref().unwrap();
    assert_eq!(list.len(), 3);
    let ids = |rb: &str| -> Vec<String> {
        let mut v: Vec<String> = state.alerts_for_runbook(rb).map(|a| a.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids("bad-release"), ["al-1", "al-8"]);
    // A silenced alert still points at its runbook; resolved ones do not count.
    assert_eq!(ids("cache-degradation"), ["al-5"]);
    assert!(ids("flash-sale-spike").is_empty());

    // The broken runbook cannot be opened. Runbooks with alerts come first: bad-release (a
    // firing P1), cache-degradation (a silenced alert), then flash-sale-spike.
    let order: Vec<&str> = state
        .shown_runbooks()
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        order,
        ["bad-release", "cache-degradation", "flash-sale-spike"]
    );
    press(&mut state, key(KeyCode::Home));
    press(&mut state, key(KeyCode::Down));
    let fx = press(&mut state, key(KeyCode::Enter));
    assert!(requests(&fx).is_empty());
    assert_eq!(state.view, View::Runbooks);
    assert!(last_notice(&state).starts_with("runbook cache-degradation cannot run:"));
    // A good one opens its form.
    press(&mut state, key(KeyCode::Home));
    let fx = press(&mut state, key(KeyCode::Enter));
    assert_eq!(state.view, View::Runbook);
    assert!(requests(&fx).iter().any(|(_, k)| *k
        == RequestKind::FetchRunbook {
            runbook: "bad-release".into()
        }));
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Runbooks);
}

#[test]
fn commands_open_runbooks_runs_and_one_runbook() {
    let mut state = loaded_state(false);
    command(&mut state, "runbooks");
    assert_eq!(state.view, View::Runbooks);
    answer_runbooks(&mut state);
    command(&mut state, "runs");
    assert_eq!(state.view, View::Runs);
    command(&mut state, "runbook flash-sale-spike");
    assert_eq!(state.view, View::Runbook);
    // An unknown runbook is refused with a suggestion, and nothing opens.
    command(&mut state, "runbook bad-relase");
    let prompt = state.prompt.as_ref().unwrap();
    assert!(
        format!("{prompt:?}").contains("did you mean bad-release"),
        "{prompt:?}"
    );
}

#[test]
fn the_form_refuses_bad_values_and_sends_nothing() {
    let mut state = form_state(false, "flash-sale-spike");
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.fields.len(), 4);
    assert_eq!(form.fields[2].input, "24", "defaults are filled in");

    // `app` is required and empty: Enter sends nothing and says why.
    let fx = press(&mut state, key(KeyCode::Enter));
    assert!(start_runs(&fx).is_empty());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.failure.as_deref(), Some("app: required"));
    assert_eq!(form.step, FormStep::Edit);

    // An unknown app.
    type_text(&mut state, "nope");
    assert!(start_runs(&press(&mut state, key(KeyCode::Enter))).is_empty());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.failure.as_deref(), Some("app: no app \"nope\""));
    // Completion from the apps in state.
    for _ in 0..4 {
        press(&mut state, key(KeyCode::Backspace));
    }
    type_text(&mut state, "sea");
    press(&mut state, KeyInput::ctrl('n'));
    assert_eq!(
        state.runbooks.form.as_ref().unwrap().fields[0].input,
        "search"
    );

    // A bad integer: focus moves to it.
    press(&mut state, key(KeyCode::Tab));
    press(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "x");
    assert!(start_runs(&press(&mut state, key(KeyCode::Enter))).is_empty());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.focus, 2);
    assert_eq!(
        form.failure.as_deref(),
        Some("max_replicas: not a whole number")
    );
    press(&mut state, key(KeyCode::Backspace));

    // A bad duration.
    press(&mut state, key(KeyCode::Down));
    type_text(&mut state, "ins");
    assert!(start_runs(&press(&mut state, key(KeyCode::Enter))).is_empty());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.focus, 3);
    assert!(
        form.failure
            .as_deref()
            .unwrap()
            .starts_with("settle: not a duration")
    );
    for _ in 0..3 {
        press(&mut state, key(KeyCode::Backspace));
    }

    // Now valid: the dry run goes, with typed values.
    let fx = press(&mut state, key(KeyCode::Enter));
    let sent = start_runs(&fx);
    assert_eq!(sent.len(), 1);
    match &sent[0].1 {
        RequestKind::StartRun {
            params, dry_run, ..
        } => {
            assert!(dry_run);
            assert_eq!(
                *params,
                runbook_fixtures::params(&[
                    ("app", "search".into()),
                    ("extra", "50%".into()),
                    ("max_replicas", 24.into()),
                    ("settle", "5m".into()),
                ])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn enter_is_a_dry_run_and_shows_the_plan() {
    let mut state = form_state(false, "bad-release");
    let fx = press(&mut state, key(KeyCode::Enter));
    let sent = start_runs(&fx);
    assert_eq!(sent.len(), 1);
    assert!(changes(&fx).is_empty(), "a dry run changes nothing");
    let RequestKind::StartRun {
        runbook,
        dry_run: is_dry,
        idempotency_key,
        ..
    } = &sent[0].1
    else {
        unreachable!()
    };
    assert_eq!((runbook.as_str(), *is_dry), ("bad-release", true));
    assert_eq!(*idempotency_key, None);
    reply(
        &mut state,
        sent[0].0,
        Reply::Run(Box::new(dry_run("shop-cart"))),
    );
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.step, FormStep::Plan);
    assert_eq!(
        form.plan
            .as_ref()
            .unwrap()
            .plan
            .as_ref()
            .unwrap()
            .steps
            .len(),
        5
    );
    // `e` goes back to editing.
    press(&mut state, KeyInput::char('e'));
    assert_eq!(state.runbooks.form.as_ref().unwrap().step, FormStep::Edit);
}

#[test]
fn the_real_run_needs_r_and_y_and_sends_one_request_with_a_key() {
    let mut state = planned_state(false);
    let fx = press(&mut state, KeyInput::char('r'));
    assert!(requests(&fx).is_empty(), "r alone sends nothing");
    assert!(matches!(state.dialog, Some(Dialog::Run(_))));
    // n backs out without sending.
    assert!(requests(&press(&mut state, KeyInput::char('n'))).is_empty());
    assert!(state.dialog.is_none());
    press(&mut state, KeyInput::char('r'));
    let fx = press(&mut state, KeyInput::char('y'));
    let sent = changes(&fx);
    assert_eq!(sent.len(), 1);
    let RequestKind::StartRun {
        runbook,
        params,
        dry_run,
        idempotency_key,
        ..
    } = &sent[0].1
    else {
        panic!("{:?}", sent[0])
    };
    assert_eq!(runbook, "bad-release");
    assert!(!dry_run);
    assert_eq!(params["app"], Value::from("shop-cart"));
    assert!(idempotency_key.as_ref().is_some_and(|k| k.len() == 36));
    // A second y while sending sends nothing more.
    assert!(requests(&press(&mut state, KeyInput::char('y'))).is_empty());
    // Accepted: the Run view shows the new run.
    let fx = reply(&mut state, sent[0].0, Reply::Run(Box::new(waiting_run())));
    assert!(state.dialog.is_none());
    assert_eq!(state.view, View::Run);
    assert_eq!(state.runs.current.as_deref(), Some("run-9f2c1a7e-3"));
    assert!(requests(&fx).iter().any(|(_, k)| *k
        == RequestKind::FetchRun {
            run: "run-9f2c1a7e-3".into()
        }));
    // Back to the plan: running it again is another run, with another key.
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Runbook);
    press(&mut state, KeyInput::char('r'));
    let again = changes(&press(&mut state, KeyInput::char('y')));
    assert_eq!(again.len(), 1);
    assert_ne!(key_of(&again[0].1), key_of(&sent[0].1));
}

fn key_of(kind: &RequestKind) -> String {
    match kind {
        RequestKind::StartRun {
            idempotency_key: Some(k),
            ..
        } => k.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_transient_failure_retries_with_the_same_key_a_refusal_returns_to_the_form() {
    let mut state = planned_state(false);
    press(&mut state, KeyInput::char('r'));
    let (id, first) = changes(&press(&mut state, KeyInput::char('y'))).remove(0);
    update(
        &mut state,
        Action::HttpReply {
            request_id: id,
            result: Err(HttpError::transport("timed out")),
        },
    );
    let Some(Dialog::Run(d)) = &state.dialog else {
        panic!("dialog closed")
    };
    assert_eq!(d.step, RunDialogStep::Ask);
    assert!(d.failure.as_deref().unwrap().contains("timed out"));
    let (id, second) = changes(&press(&mut state, KeyInput::char('y'))).remove(0);
    assert_eq!(key_of(&first), key_of(&second), "a retry keeps its key");

    update(
        &mut state,
        Action::HttpReply {
            request_id: id,
            result: Err(HttpError {
                status: Some(422),
                code: "validation_failed".into(),
                message: "app shop-cart: no release before r-41".into(),
            }),
        },
    );
    assert!(state.dialog.is_none());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.step, FormStep::Edit);
    assert!(
        form.failure
            .as_deref()
            .unwrap()
            .contains("no release before r-41")
    );
    // Dry run again, run again: a new key.
    press(&mut state, key(KeyCode::Enter));
    let id = pending(&state, |k| {
        matches!(k, RequestKind::StartRun { dry_run: true, .. })
    });
    reply(&mut state, id, Reply::Run(Box::new(dry_run("shop-cart"))));
    press(&mut state, KeyInput::char('r'));
    let (_, third) = changes(&press(&mut state, KeyInput::char('y'))).remove(0);
    assert_ne!(key_of(&first), key_of(&third));
}

#[test]
fn readonly_offers_the_dry_run_but_no_run() {
    let mut state = planned_state(true);
    let fx = press(&mut state, KeyInput::char('r'));
    assert!(requests(&fx).is_empty());
    assert!(state.dialog.is_none());
    assert!(last_notice(&state).starts_with("READ-ONLY"));
    assert!(requests(&press(&mut state, KeyInput::char('y'))).is_empty());
    // Nor approve, abort or resume.
    let mut state = run_view_state(true);
    for c in ['A', 'X', 'u'] {
        let mut fx = press(&mut state, KeyInput::char(c));
        fx.extend(press(&mut state, KeyInput::char('y')));
        assert!(changes(&fx).is_empty(), "{c}");
        assert!(state.dialog.is_none());
    }
}

fn control_of(fx: &[Effect]) -> Vec<(String, RunControl)> {
    changes(fx)
        .into_iter()
        .map(|(_, k)| match k {
            RequestKind::ControlRun { run, control, .. } => (run, control),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The step each run control among `fx` names.
fn steps_of(fx: &[Effect]) -> Vec<Option<String>> {
    changes(fx)
        .into_iter()
        .map(|(_, k)| match k {
            RequestKind::ControlRun { step, .. } => step,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn an_approval_names_the_step_waiting_for_it() {
    let mut state = run_view_state(false);
    press(&mut state, KeyInput::char('A'));
    let fx = press(&mut state, KeyInput::char('y'));
    assert_eq!(steps_of(&fx), [Some("approve-rollback".to_string())]);
}

#[test]
fn an_approval_asked_at_one_gate_still_names_it_after_the_run_moves_to_another() {
    let mut state = run_view_state(false);
    press(&mut state, KeyInput::char('A'));
    // While the question is up, someone else approves and the run waits at a later gate.
    let mut later = waiting_run();
    later.steps[1].state = StepState::Succeeded;
    later.steps[1].waiting_on = None;
    later.steps[3].state = StepState::WaitingApproval;
    later.steps[3].waiting_on = Some("Roll back shop-cart again?".into());
    later.current_step = Some(later.steps[3].id.clone());
    later.updated_at = at(5);
    update(&mut state, run_event(1_000_001, later));
    assert_eq!(
        state.runs.current_run().unwrap().current_step.as_deref(),
        Some("verify")
    );
    // `y` answers the question that was asked: the gateway refuses it, since that gate is
    // passed, rather than approving one the operator never saw.
    let fx = press(&mut state, KeyInput::char('y'));
    assert_eq!(steps_of(&fx), [Some("approve-rollback".to_string())]);
}

#[test]
fn approve_abort_and_resume_each_need_y_and_send_one_request() {
    let mut state = run_view_state(false);
    // Approve.
    assert!(requests(&press(&mut state, KeyInput::char('A'))).is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Run(_))));
    let fx = press(&mut state, KeyInput::char('y'));
    assert_eq!(
        control_of(&fx),
        [("run-9f2c1a7e-3".to_string(), RunControl::Approve)]
    );
    assert!(requests(&press(&mut state, KeyInput::char('y'))).is_empty());
    let id = pending(&state, |k| matches!(k, RequestKind::ControlRun { .. }));
    let mut approved = waiting_run();
    approved.state = RunState::Running;
    approved.updated_at = at(1);
    reply(&mut state, id, Reply::Run(Box::new(approved)));
    assert!(state.dialog.is_none());
    assert_eq!(state.runs.current_run().unwrap().state, RunState::Running);

    // Approve again: nothing waits any more.
    press(&mut state, KeyInput::char('A'));
    assert!(state.dialog.is_none());
    assert!(last_notice(&state).contains("nothing to approve"));

    // Abort: n backs out, y sends.
    press(&mut state, KeyInput::char('X'));
    assert!(requests(&press(&mut state, key(KeyCode::Esc))).is_empty());
    press(&mut state, KeyInput::char('X'));
    let fx = press(&mut state, KeyInput::char('y'));
    assert_eq!(
        control_of(&fx),
        [("run-9f2c1a7e-3".to_string(), RunControl::Abort)]
    );

    // Resume: only the interrupted run (the oldest: `n` twice).
    let mut state = run_view_state(false);
    press(&mut state, KeyInput::char('u'));
    assert!(state.dialog.is_none(), "a waiting run is not interrupted");
    press(&mut state, KeyInput::char('n'));
    press(&mut state, KeyInput::char('n'));
    assert_eq!(state.runs.current.as_deref(), Some("run-9f2c1a7e-1"));
    assert!(requests(&press(&mut state, KeyInput::char('u'))).is_empty());
    let fx = press(&mut state, KeyInput::char('y'));
    assert_eq!(
        control_of(&fx),
        [("run-9f2c1a7e-1".to_string(), RunControl::Resume)]
    );
    assert_eq!(steps_of(&fx), [None]);
}

#[test]
fn runs_topic_events_update_the_run_view_and_are_subscribed() {
    let mut state = new_state();
    let fx = update(&mut state, Action::StreamConnected(hello()));
    assert!(fx.iter().any(|e| matches!(e,
        Effect::Subscribe { topics, .. } if topics.contains(&Topic::Runs))));
    let mut state = run_view_state(false);
    let mut next = waiting_run();
    next.state = RunState::Running;
    next.current_step = Some("roll-back".into());
    next.steps[1].state = StepState::Succeeded;
    next.steps[1].waiting_on = None;
    next.steps[2].state = StepState::Running;
    next.steps[2]
        .output
        .push("rollback shop-cart to r-41 started".into());
    next.updated_at = at(5);
    update(&mut state, run_event(1_000_001, next.clone()));
    let shown = state.runs.current_run().unwrap();
    assert_eq!(shown.current_step.as_deref(), Some("roll-back"));
    assert_eq!(
        shown.steps[2].output,
        ["rollback shop-cart to r-41 started"]
    );
    // An older report (a slow GET) never takes the view back.
    let id = {
        press(&mut state, KeyInput::char('n'));
        press(&mut state, KeyInput::char('p'));
        pending(&state, |k| matches!(k, RequestKind::FetchRun { .. }))
    };
    reply(&mut state, id, Reply::Run(Box::new(waiting_run())));
    assert_eq!(state.runs.current_run().unwrap().state, RunState::Running);
    // A new run announced on the stream is listed first.
    let mut newer = running_run();
    newer.id = "run-9f2c1a7e-4".into();
    newer.created_at = at(3);
    update(&mut state, run_event(1_000_002, newer));
    assert_eq!(state.runs.order[0], "run-9f2c1a7e-4");
}

#[test]
fn stale_replies_are_ignored() {
    // A dry run answered after the operator went back to editing.
    let mut state = form_state(false, "bad-release");
    press(&mut state, key(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::StartRun { .. }));
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.runbooks.form.as_ref().unwrap().step, FormStep::Edit);
    reply(&mut state, id, Reply::Run(Box::new(dry_run("shop-cart"))));
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.step, FormStep::Edit);
    assert!(form.plan.is_none());

    // A run's GET answered after switching to another run.
    let mut state = run_view_state(false);
    press(&mut state, KeyInput::char('n'));
    let old = pending(&state, |k| {
        *k == RequestKind::FetchRun {
            run: "run-9f2c1a7e-2".into(),
        }
    });
    press(&mut state, KeyInput::char('n'));
    let mut late = running_run();
    late.state = RunState::Failed;
    late.updated_at = at(9);
    reply(&mut state, old, Reply::Run(Box::new(late)));
    assert_eq!(
        state.runs.runs["run-9f2c1a7e-2"].state,
        RunState::Running,
        "the stale reply was dropped"
    );
    // A runbook list answered after a newer request.
    let mut state = loaded_state(false);
    command(&mut state, "runbooks");
    let old = pending(&state, |k| *k == RequestKind::FetchRunbooks);
    press(&mut state, key(KeyCode::Esc));
    command(&mut state, "runbooks");
    reply(&mut state, old, Reply::Runbooks(vec![]));
    assert!(state.runbooks.list.is_none());
}

#[test]
fn from_a_firing_alert_to_a_running_runbook_by_keys() {
    let mut state = alerts_state(false);
    // al-8: firing on coupon, its runbook is bad-release.
    press(&mut state, key(KeyCode::Home));
    while state.alerts_view.selected.as_deref() != Some("al-8") {
        press(&mut state, KeyInput::char('j'));
    }
    let fx = press(&mut state, KeyInput::char('b'));
    assert_eq!(state.view, View::Runbook);
    let (id, _) = requests(&fx)
        .into_iter()
        .find(|(_, k)| matches!(k, RequestKind::FetchRunbook { .. }))
        .unwrap();
    reply(
        &mut state,
        id,
        Reply::Runbook(Box::new(detail("bad-release"))),
    );
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.fields[0].info.kind, "app");
    assert_eq!(
        form.fields[0].input, "coupon",
        "the alert's app, not the default"
    );

    let fx = press(&mut state, key(KeyCode::Enter));
    let (id, kind) = start_runs(&fx).remove(0);
    assert!(matches!(kind, RequestKind::StartRun { dry_run: true, .. }));
    reply(&mut state, id, Reply::Run(Box::new(dry_run("coupon"))));
    assert!(changes(&press(&mut state, KeyInput::char('r'))).is_empty());
    let fx = press(&mut state, KeyInput::char('y'));
    let sent = changes(&fx);
    assert_eq!(sent.len(), 1);
    match &sent[0].1 {
        RequestKind::StartRun {
            runbook,
            params,
            dry_run,
            idempotency_key,
            ..
        } => {
            assert_eq!(runbook, "bad-release");
            assert_eq!(params["app"], Value::from("coupon"));
            assert!(!dry_run);
            assert!(idempotency_key.is_some());
        }
        other => panic!("{other:?}"),
    }
}

/// (request id, idempotency key) of each run control among `fx`.
fn control_keys(fx: &[Effect]) -> Vec<(u64, String)> {
    requests(fx)
        .into_iter()
        .filter_map(|(id, k)| match k {
            RequestKind::ControlRun {
                idempotency_key, ..
            } => Some((id, idempotency_key)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_run_control_retry_keeps_its_key_and_a_new_decision_gets_a_new_one() {
    let mut state = run_view_state(false);
    press(&mut state, KeyInput::char('X'));
    let first = control_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1.len(), 36, "uuid-shaped key: {}", first[0].1);
    update(
        &mut state,
        Action::HttpReply {
            request_id: first[0].0,
            result: Err(HttpError::transport("connection reset")),
        },
    );
    // Back at the question: `y` sends the same decision again, under the same key.
    let retry = control_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(retry.len(), 1);
    assert_ne!(retry[0].0, first[0].0);
    assert_eq!(retry[0].1, first[0].1);
    // The operator gives up waiting and asks again: a new decision, a new key.
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char('X'));
    let again = control_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].1, first[0].1);
}

/// The plan of a dry run whose first check does not hold.
fn failing_planned_state() -> State {
    let mut state = form_state(false, "bad-release");
    press(&mut state, key(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::StartRun { .. }));
    reply(
        &mut state,
        id,
        Reply::Run(Box::new(failing_dry_run("shop-cart"))),
    );
    assert_eq!(state.runbooks.form.as_ref().unwrap().step, FormStep::Plan);
    state
}

fn run_dialog_step(state: &State) -> RunDialogStep {
    match &state.dialog {
        Some(Dialog::Run(d)) => d.step,
        other => panic!("no run dialog: {other:?}"),
    }
}

#[test]
fn a_failed_precondition_takes_a_second_explicit_yes() {
    let mut state = failing_planned_state();
    press(&mut state, KeyInput::char('r'));
    let Some(Dialog::Run(d)) = &state.dialog else {
        panic!("no dialog")
    };
    let check = d.failed_check().expect("the failed check is named");
    assert_eq!(check.step, "errors-after-release");
    assert!(check.observed.starts_with("error_ratio = 0.4%, want > 2%"));
    assert!(!check.observed.contains("does not hold"));
    // The first y sends nothing: it asks again.
    assert!(changes(&press(&mut state, KeyInput::char('y'))).is_empty());
    assert_eq!(run_dialog_step(&state), RunDialogStep::AskAnyway);
    // n there sends nothing either, and closes the question.
    assert!(changes(&press(&mut state, KeyInput::char('n'))).is_empty());
    assert!(state.dialog.is_none());
    // Asked again from the plan: two y, one run.
    press(&mut state, KeyInput::char('r'));
    assert_eq!(run_dialog_step(&state), RunDialogStep::Ask);
    assert!(changes(&press(&mut state, KeyInput::char('y'))).is_empty());
    let sent = changes(&press(&mut state, KeyInput::char('y')));
    assert_eq!(sent.len(), 1, "{sent:?}");
    // A transient failure comes back to the question already answered twice: one y retries,
    // with the same key.
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Err(HttpError::transport("timed out")),
        },
    );
    assert_eq!(run_dialog_step(&state), RunDialogStep::AskAnyway);
    let again = changes(&press(&mut state, KeyInput::char('y')));
    assert_eq!(again.len(), 1);
    assert_eq!(key_of(&again[0].1), key_of(&sent[0].1));
}

#[test]
fn a_passing_dry_run_still_starts_on_one_yes() {
    let mut state = planned_state(false);
    press(&mut state, KeyInput::char('r'));
    let Some(Dialog::Run(d)) = &state.dialog else {
        panic!("no dialog")
    };
    assert_eq!(d.failed_check(), None);
    assert_eq!(changes(&press(&mut state, KeyInput::char('y'))).len(), 1);
}

/// The screen's rows inside the view, the marks that start a wrapped row (`│`, `»`) taken
/// off and spaces collapsed, joined: a sentence reads the same however it wrapped.
fn read(state: &State, width: u16, height: u16) -> String {
    common::screen::rows(state, width, height)
        .iter()
        .map(|r| r.trim().trim_start_matches(['│', '»']).trim().to_string())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn long_verdicts_are_read_in_full_at_80x24() {
    let state = failing_planned_state();
    let screen = read(&state, 80, 24);
    assert!(
        screen.contains(
            "now: error_ratio = 0.4%, want > 2%; alert_age = 14 min 5 s, release_age = 7 h 2 min, want alert_age <= release_age (does not hold)"
        ),
        "{screen}"
    );
    // The Run view: a step's output and what it waits on, in full.
    let state = run_view_state(false);
    let screen = read(&state, 80, 24);
    for said in [
        "holds: error_ratio = 3.4%, want > 2%; alert_age = 5 min, release_age = 41 min",
        "waiting on: Errors on shop-cart began after its latest release. Roll it back (target: previous)?",
    ] {
        assert!(screen.contains(said), "{said:?} in {screen}");
    }
    assert!(
        screen.contains("A approve"),
        "the hint line stays: {screen}"
    );
}

#[test]
fn a_plan_taller_than_the_screen_scrolls_under_its_hint_line() {
    let mut state = failing_planned_state();
    update(
        &mut state,
        Action::Resize {
            width: 80,
            height: 16,
        },
    );
    let rows = common::screen::rows(&state, 80, 16);
    // The view's last row (above the status bar) is the hint, with the scroll keys.
    assert!(rows[14].contains("r run for real"), "{rows:#?}");
    assert!(rows[14].contains("j/k scroll"), "{rows:#?}");
    assert!(!read(&state, 80, 16).contains("escalate to the owning team"));
    for _ in 0..20 {
        press(&mut state, KeyInput::char('j'));
    }
    let screen = read(&state, 80, 16);
    assert!(screen.contains("escalate to the owning team"), "{screen}");
    assert!(
        screen.contains("Precondition errors-after-release does not hold"),
        "{screen}"
    );
    let rows = common::screen::rows(&state, 80, 16);
    assert!(rows[14].contains("r run for real"), "{rows:#?}");
    // And back to the top.
    for _ in 0..40 {
        press(&mut state, KeyInput::char('k'));
    }
    assert!(read(&state, 80, 16).contains("Dry run with"));
}

//! Snapshots of the Runbooks view, the parameter form (with an invalid field), the dry-run plan,
//! the Run view (a step waiting for approval; a running step with its `waiting_on` condition;
//! outputs) and the Runs list, at 80x24 and 160x48, from fixed data, a fixed clock and Chinese
//! app names. Review changes by eye:
//! `INSTA_UPDATE=always cargo test --test console_runbooks_snapshots`, then read the `.snap`s.
#![allow(clippy::unwrap_used)]

mod common;

use alert_fixtures::*;
use common::keys::{press, type_text};
use common::screen::screen;
use common::{alert_fixtures, runbook_fixtures};
use opsdeck::app::{KeyCode, KeyInput, Reply, RequestKind, State};
use runbook_fixtures::*;

fn command(state: &mut State, line: &str) {
    press(state, KeyInput::char(':'));
    type_text(state, line);
    press(state, KeyInput::plain(KeyCode::Enter));
}

/// Both sizes of one screen.
fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), screen(state, 160, 48));
}

fn runbooks_state() -> State {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    press(&mut state, KeyInput::char('B'));
    answer_runbooks(&mut state);
    state.core.notifications.clear();
    state
}

#[test]
fn runbooks_view_filtered() {
    let mut state = runbooks_state();
    type_text(&mut state, "/coupon");
    insta::assert_snapshot!("runbooks_filtered_80x24", screen(&state, 80, 24));
    type_text(&mut state, "zzz");
    insta::assert_snapshot!("runbooks_filtered_to_nothing_80x24", screen(&state, 80, 24));
}

#[test]
fn runbooks_view() {
    both("runbooks", &runbooks_state());
}

#[test]
fn runbooks_view_broken_selected() {
    let mut state = runbooks_state();
    // Second: runbooks with alerts come first (bad-release, then cache-degradation's P1).
    press(&mut state, KeyInput::plain(KeyCode::Down));
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn form_with_an_invalid_field() {
    let mut state = runbooks_state();
    command(&mut state, "runbook flash-sale-spike");
    answer_detail(&mut state);
    // The app field gets a Chinese-named app by completion; max_replicas a bad value.
    type_text(&mut state, "sea");
    press(&mut state, KeyInput::ctrl('n'));
    press(&mut state, KeyInput::plain(KeyCode::Tab));
    press(&mut state, KeyInput::plain(KeyCode::Tab));
    type_text(&mut state, "x");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    both("form_invalid", &state);
}

#[test]
fn form_app_completion() {
    let mut state = runbooks_state();
    command(&mut state, "runbook flash-sale-spike");
    answer_detail(&mut state);
    type_text(&mut state, "s");
    insta::assert_snapshot!(screen(&state, 80, 24));
}

fn plan_state(readonly: bool) -> State {
    let mut state = alerts_state(readonly);
    press(&mut state, KeyInput::char('b'));
    answer_detail(&mut state);
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::StartRun { .. }));
    reply(&mut state, id, Reply::Run(Box::new(dry_run("coupon"))));
    state.core.notifications.clear();
    state
}

#[test]
fn dry_run_plan() {
    both("plan", &plan_state(false));
}

#[test]
fn dry_run_plan_readonly() {
    insta::assert_snapshot!(screen(&plan_state(true), 80, 24));
}

#[test]
fn start_confirmation() {
    let mut state = plan_state(false);
    press(&mut state, KeyInput::char('r'));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("start_confirmation_160x48", screen(&state, 160, 48));
}

/// The plan of a dry run whose first check does not hold (after a manual rollback).
fn failing_plan_state() -> State {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('b'));
    answer_detail(&mut state);
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::StartRun { .. }));
    reply(
        &mut state,
        id,
        Reply::Run(Box::new(failing_dry_run("coupon"))),
    );
    state.core.notifications.clear();
    state
}

#[test]
fn dry_run_plan_with_a_failed_precondition() {
    // The long verdict wraps and is read in full; at 80x24 the plan scrolls under its hint.
    both("plan_failed_precondition", &failing_plan_state());
}

#[test]
fn start_confirmation_after_a_failed_precondition() {
    let mut state = failing_plan_state();
    press(&mut state, KeyInput::char('r'));
    insta::assert_snapshot!("start_failed_precondition_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("start_failed_precondition_160x48", screen(&state, 160, 48));
    press(&mut state, KeyInput::char('y'));
    insta::assert_snapshot!("start_anyway_80x24", screen(&state, 80, 24));
}

fn runs_state() -> State {
    let mut state = runbooks_state();
    command(&mut state, "runs");
    answer_runs(&mut state);
    state
}

#[test]
fn runs_list() {
    both("runs", &runs_state());
}

fn run_state(run: opsdeck::protocol::RunStatus) -> State {
    let mut state = runs_state();
    let row = state.runs.order.iter().position(|r| *r == run.id).unwrap();
    for _ in 0..row {
        press(&mut state, KeyInput::char('j'));
    }
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    let id = pending(&state, |k| matches!(k, RequestKind::FetchRun { .. }));
    reply(&mut state, id, Reply::Run(Box::new(run)));
    state.core.notifications.clear();
    state
}

#[test]
fn run_waiting_for_approval() {
    both("run_waiting", &run_state(waiting_run()));
}

#[test]
fn run_running_with_a_condition() {
    both("run_running", &run_state(running_run()));
}

#[test]
fn approve_confirmation() {
    let mut state = run_state(waiting_run());
    press(&mut state, KeyInput::char('A'));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("approve_confirmation_160x48", screen(&state, 160, 48));
}

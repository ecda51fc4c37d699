//! A dry run whose precondition fails (#23): against a real gateway on 127.0.0.1:0, bad-release
//! on a healthy shop-cart — its first check, "errors began after the latest release", does not
//! hold. The confirmation says so before anything else, and starting takes a second `y`; the
//! real run then stops at that check, as the dry run said it would.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use common::fixtures::{config, hello};
use common::gateway::{get_json, start_sim};
use common::keys::{press, type_text};
use common::screen::rows;
use common::wait::poll_until;
use opsdeck::app::{Action, Dialog, Effect, FormStep, RequestKind, RunDialogStep, State, update};
use opsdeck::client::http::HttpClient;
use opsdeck::protocol::{RunState, RunStatus, StepState};

/// Answer every HTTP request among `effects` from the gateway, and those the answers lead to,
/// until none is left; the platform-changing requests sent, in order.
async fn settle(state: &mut State, client: &HttpClient, effects: Vec<Effect>) -> Vec<RequestKind> {
    let mut queue: VecDeque<Effect> = effects.into();
    let mut changes = Vec::new();
    while let Some(effect) = queue.pop_front() {
        let Effect::Http(request) = effect else {
            continue;
        };
        if request.kind.changes_platform() {
            changes.push(request.kind.clone());
        }
        let result = client.execute(&request.kind).await;
        queue.extend(update(
            state,
            Action::HttpReply {
                request_id: request.id,
                result,
            },
        ));
    }
    changes
}

/// The screen at `width`x`height` with runs of spaces collapsed, for reading sentences.
fn text(state: &State, width: u16, height: u16) -> Vec<String> {
    rows(state, width, height)
        .iter()
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The rows inside the run dialog's border, top to bottom.
fn dialog_rows(state: &State, width: u16, height: u16) -> Vec<String> {
    let rows = text(state, width, height);
    let top = rows
        .iter()
        .position(|r| r.contains("┌ Start run"))
        .expect("no start dialog");
    rows[top + 1..]
        .iter()
        .take_while(|r| !r.contains('└'))
        .map(|r| {
            let inside = r.split('│').nth(1).unwrap_or("");
            inside.trim().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_precondition_is_said_first_and_starting_takes_a_second_yes() {
    let gw = start_sim(3, 1.0, None).await;
    let client = HttpClient::new(&format!("ws://{}", gw.addr)).unwrap();
    let mut state = State::new(config(false));
    let fx = update(&mut state, Action::StreamConnected(hello()));
    settle(&mut state, &client, fx).await;
    assert!(state.core.apps.contains_key("shop-cart"));

    // :runbook bad-release, app shop-cart (its default), Enter: the dry run.
    let mut fx = press(&mut state, ":");
    fx.extend(type_text(&mut state, "runbook bad-release"));
    fx.extend(press(&mut state, "<Enter>"));
    settle(&mut state, &client, fx).await;
    let fx = press(&mut state, "<Enter>");
    assert!(settle(&mut state, &client, fx).await.is_empty());
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.step, FormStep::Plan);
    let plan = form.plan.as_ref().unwrap().plan.as_ref().unwrap();
    assert_eq!(plan.steps[0].id, "errors-after-release");
    assert_eq!(plan.steps[0].holds, Some(false), "{plan:?}");

    // r: the question, whose first line is the failed check.
    let fx = press(&mut state, "r");
    assert!(settle(&mut state, &client, fx).await.is_empty());
    for (w, h) in [(80, 24), (120, 40)] {
        let dialog = dialog_rows(&state, w, h);
        assert_eq!(
            dialog[0], "✖ Precondition failed: errors-after-release",
            "{dialog:#?}"
        );
        // What it saw against what it wanted, in full.
        let said = dialog[1..].join(" ");
        assert!(said.contains("error_ratio = "), "{dialog:#?}");
        assert!(said.contains("want > 2%"), "{dialog:#?}");
        assert!(said.contains("alert_age is not reported"), "{dialog:#?}");
        assert!(
            dialog
                .iter()
                .any(|r| r == "Start runbook bad-release for real? y/N"),
            "{dialog:#?}"
        );
    }

    // The first y starts nothing: it asks again, plainly.
    let fx = press(&mut state, "y");
    assert!(settle(&mut state, &client, fx).await.is_empty());
    let Some(Dialog::Run(d)) = &state.dialog else {
        panic!("the dialog closed after one y")
    };
    assert_eq!(d.step, RunDialogStep::AskAnyway);
    let dialog = dialog_rows(&state, 80, 24);
    assert_eq!(dialog[0], "✖ Precondition failed: errors-after-release");
    assert!(
        dialog
            .iter()
            .any(|r| r == "The precondition failed. Start anyway? y/N"),
        "{dialog:#?}"
    );
    assert!(
        dialog.iter().any(|r| r.starts_with("y start anyway")),
        "{dialog:#?}"
    );

    // The second y starts it, once.
    let fx = press(&mut state, "y");
    let sent = settle(&mut state, &client, fx).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(matches!(
        &sent[0],
        RequestKind::StartRun { dry_run: false, runbook, .. } if runbook == "bad-release"
    ));
    let run = state
        .runs
        .current
        .clone()
        .expect("the Run view shows the new run");

    // The real run stops at the check the dry run named.
    let failed: RunStatus = poll_until(Duration::from_secs(20), "the run to fail", async || {
        let status: RunStatus = get_json(&gw, &format!("/v1/runs/{run}")).await;
        status.state.is_final().then_some(status)
    })
    .await;
    assert_eq!(failed.state, RunState::Failed, "{failed:?}");
    assert_eq!(failed.steps[0].state, StepState::Failed);
    gw.stop().await;
}

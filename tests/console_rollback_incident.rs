//! The rollback dialog relates its target to the incident on the app (#23): the target's age,
//! and whether it is the release that ran before the first alert — or why rolling back to it
//! may not help. Releases and alerts at known times on the shared fixed clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::alert_fixtures::alert;
use common::fixtures::{at, loaded_state};
use common::keys::press;
use common::screen::{rows, screen};
use common::view_fixtures::{answer_with, release};
use opsdeck::app::{Action, Dialog, IncidentFit, State, open_app, update};
use opsdeck::protocol::{AlertState, Body, Event, Release, ReleaseStatus, ServerMsg, Severity};

const MIN: i64 = 60;

/// shop-cart open in the App view with `releases`, and, for `Some(ago)`, a P1 alert firing on
/// it since `ago` seconds (plus a later one, so the earliest is the one that counts).
fn state_with(releases: Vec<Release>, alert_ago: Option<i64>) -> State {
    let mut state = loaded_state(false);
    if let Some(ago) = alert_ago {
        let first = alert(
            "al-1",
            Severity::P1,
            AlertState::Firing,
            "shop-cart",
            "购物车错误率 3.4%，超过阈值 1%",
            ago,
        );
        let later = alert(
            "al-2",
            Severity::P2,
            AlertState::Firing,
            "shop-cart",
            "p99 above 1s",
            ago / 2,
        );
        let events = [first, later]
            .into_iter()
            .enumerate()
            .map(|(i, a)| Event {
                seq: i as u64 + 1,
                ts: a.started_at,
                app: "shop-cart".into(),
                body: Body::Alerts(a),
            })
            .collect();
        update(
            &mut state,
            Action::StreamFrame(ServerMsg::Events { events }),
        );
    }
    let fx = open_app(&mut state, "shop-cart");
    answer_with(&mut state, &fx, releases);
    update(&mut state, Action::Tick(at(0)));
    state
}

/// A bad release: v2.14.0 went live 20 minutes ago, the first alert 8 minutes after it;
/// v2.13.1 failed (it never ran), v2.13.0 ran before, v2.12.0 before that.
fn bad_release() -> Vec<Release> {
    vec![
        release(
            "r-2140",
            "v2.14.0",
            20 * MIN,
            ReleaseStatus::Active,
            "feat: 满减活动",
        ),
        release(
            "r-2131",
            "v2.13.1",
            40 * MIN,
            ReleaseStatus::Failed,
            "fix: rounding",
        ),
        release(
            "r-2130",
            "v2.13.0",
            2 * 86_400,
            ReleaseStatus::Superseded,
            "feat: cart API",
        ),
        release(
            "r-2120",
            "v2.12.0",
            5 * 86_400,
            ReleaseStatus::Superseded,
            "chore: deps",
        ),
    ]
}

fn fit(state: &State) -> Option<IncidentFit> {
    match &state.dialog {
        Some(Dialog::Rollback(d)) => d.incident.as_ref().map(|i| i.fit.clone()),
        other => panic!("no rollback dialog: {other:?}"),
    }
}

/// The dialog's text at `width`x`height`, its rows joined and spaces collapsed, so a sentence
/// reads the same however it wrapped. Panics if a row of the dialog is cut (ends in `…`).
fn dialog_text(state: &State, width: u16, height: u16) -> String {
    let rows = rows(state, width, height);
    let top = rows
        .iter()
        .position(|r| r.contains("┌ Roll back"))
        .expect("no rollback dialog on screen");
    let left = rows[top].chars().position(|c| c == '┌').unwrap();
    let right = rows[top].chars().position(|c| c == '┐').unwrap();
    let mut words = Vec::new();
    for row in &rows[top + 1..] {
        let cells: Vec<char> = row.chars().collect();
        if cells.get(left) == Some(&'└') {
            break;
        }
        let inner: String = cells[left + 1..right].iter().collect();
        assert!(!inner.trim_end().ends_with('…'), "cut: {inner:?}");
        words.extend(inner.split_whitespace().map(str::to_string));
    }
    words.join(" ")
}

#[test]
fn the_release_before_a_fresh_bad_release_is_marked_as_the_one_before_the_incident() {
    let mut state = state_with(bad_release(), Some(12 * MIN));
    press(&mut state, "R");
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::BeforeIncident { ref suspect, live_until })
            if suspect.id == "r-2140" && live_until == at(-20 * MIN)
    ));
    for (w, h) in [(80, 24), (120, 40)] {
        let text = dialog_text(&state, w, h);
        assert!(text.contains("Age 20m ago → 2d ago"), "{text}");
        assert!(
            text.contains("Incident first alert 12m ago, 8m after v2.14.0 went live"),
            "{text}"
        );
        assert!(
            text.contains(
                "✔ v2.13.0 is the release that ran before the incident (live until 20m ago)"
            ),
            "{text}"
        );
    }
    insta::assert_snapshot!("before_incident_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("before_incident_120x40", screen(&state, 120, 40));
}

#[test]
fn a_release_live_for_hours_before_the_alert_is_not_the_one_to_blame() {
    // flash-sale: v2.14.0 has run 7 hours; the alert fired 5 minutes ago.
    let releases = vec![
        release(
            "r-2140",
            "v2.14.0",
            7 * 3600,
            ReleaseStatus::Active,
            "feat: 满减活动",
        ),
        release(
            "r-2130",
            "v2.13.0",
            3 * 86_400,
            ReleaseStatus::Superseded,
            "feat: cart API",
        ),
    ];
    let mut state = state_with(releases, Some(5 * MIN));
    press(&mut state, "R");
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::LiveLongBefore { ref release, .. }) if release.id == "r-2140"
    ));
    let text = dialog_text(&state, 80, 24);
    assert!(
        text.contains("Incident first alert 5m ago; v2.14.0 had run 6h55m by then"),
        "{text}"
    );
    assert!(
        text.contains(
            "⚠ v2.13.0 is not the release before the incident; rolling back may not help"
        ),
        "{text}"
    );
    insta::assert_snapshot!("live_long_before_80x24", screen(&state, 80, 24));
}

#[test]
fn a_release_that_went_live_after_the_alert_is_said_to() {
    let releases = vec![
        release(
            "r-2140",
            "v2.14.0",
            3 * MIN,
            ReleaseStatus::Active,
            "fix: hotfix",
        ),
        release(
            "r-2130",
            "v2.13.0",
            2 * 86_400,
            ReleaseStatus::Superseded,
            "feat: cart API",
        ),
    ];
    let mut state = state_with(releases, Some(10 * MIN));
    press(&mut state, "R");
    assert_eq!(
        fit(&state),
        Some(IncidentFit::CurrentAfterStart {
            live_since: at(-3 * MIN)
        })
    );
    let text = dialog_text(&state, 80, 24);
    assert!(
        text.contains("first alert 10m ago; v2.14.0 went live 7m after it"),
        "{text}"
    );
    assert!(
        text.contains("⚠ the incident began before v2.14.0: rolling back may not help"),
        "{text}"
    );
}

#[test]
fn a_second_rollback_after_a_manual_one_is_flagged() {
    // v2.14.0 was rolled back to v2.13.0 already; R now offers v2.12.0.
    let releases = vec![
        release(
            "r-2140",
            "v2.14.0",
            20 * MIN,
            ReleaseStatus::RolledBack,
            "feat: 满减活动",
        ),
        release(
            "r-2130",
            "v2.13.0",
            2 * 86_400,
            ReleaseStatus::Active,
            "feat: cart API",
        ),
        release(
            "r-2120",
            "v2.12.0",
            5 * 86_400,
            ReleaseStatus::Superseded,
            "chore: deps",
        ),
    ];
    let mut state = state_with(releases, Some(12 * MIN));
    press(&mut state, "R");
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::AlreadyBefore { ref suspect, .. }) if suspect.id == "r-2140"
    ));
    let text = dialog_text(&state, 80, 24);
    assert!(
        text.contains(
            "⚠ v2.13.0 already is the release that ran before the incident: rolling back further may not help"
        ),
        "{text}"
    );
}

#[test]
fn a_named_release_from_the_releases_view_is_related_to_the_incident_too() {
    let mut state = state_with(bad_release(), Some(12 * MIN));
    // Releases, newest first: r-2140, r-2131, r-2130, r-2120; roll back to the oldest.
    press(&mut state, "rjjjR");
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::NotBeforeIncident { ref before, .. }) if before.id == "r-2130"
    ));
    let text = dialog_text(&state, 80, 24);
    assert!(text.contains("Version v2.14.0 → v2.12.0"), "{text}");
    assert!(
        text.contains(
            "⚠ v2.12.0 is not the release that ran before the incident: v2.13.0 (r-2130) is, live until 20m ago"
        ),
        "{text}"
    );
    insta::assert_snapshot!("named_not_before_80x24", screen(&state, 80, 24));
    // The release that did run before it, named: marked as such.
    press(&mut state, "<Esc>kR");
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::BeforeIncident { .. })
    ));
}

#[test]
fn without_a_firing_alert_the_dialog_shows_the_age_only() {
    let mut state = state_with(bad_release(), None);
    press(&mut state, "R");
    assert_eq!(fit(&state), None);
    let text = dialog_text(&state, 80, 24);
    assert!(text.contains("Age 20m ago → 2d ago"), "{text}");
    assert!(!text.contains("Incident"), "{text}");
}

#[test]
fn a_rollback_asked_for_outside_the_app_view_reads_the_releases_again() {
    // shop-cart's releases were loaded in its App view; then the operator left it and v2.14.0
    // was rolled back to v2.13.0 — an event the overview does not fetch releases for.
    let mut state = state_with(bad_release(), Some(12 * MIN));
    press(&mut state, "<Esc>");
    assert_eq!(state.view, opsdeck::app::View::Overview);
    let mut fx = press(&mut state, ":");
    fx.extend(common::keys::type_text(&mut state, "rollback shop-cart"));
    fx.extend(press(&mut state, "<Enter>"));
    // Not from the releases held since: they are asked for again, and the dialog waits.
    assert!(state.dialog.is_none(), "{:?}", state.dialog);
    let after = vec![
        release(
            "r-2140",
            "v2.14.0",
            20 * MIN,
            ReleaseStatus::RolledBack,
            "feat: 满减活动",
        ),
        release(
            "r-2131",
            "v2.13.1",
            40 * MIN,
            ReleaseStatus::Failed,
            "fix: rounding",
        ),
        release(
            "r-2130",
            "v2.13.0",
            2 * 86_400,
            ReleaseStatus::Active,
            "feat: cart API",
        ),
        release(
            "r-2120",
            "v2.12.0",
            5 * 86_400,
            ReleaseStatus::Superseded,
            "chore: deps",
        ),
    ];
    answer_with(&mut state, &fx, after);
    let Some(Dialog::Rollback(d)) = &state.dialog else {
        panic!("no rollback dialog")
    };
    assert_eq!((d.from.id.as_str(), d.to.id.as_str()), ("r-2130", "r-2120"));
    assert!(matches!(
        fit(&state),
        Some(IncidentFit::AlreadyBefore { .. })
    ));
}

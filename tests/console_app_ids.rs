//! The id an operator types (`:scale shop-cart 8`, production confirmations, runbook
//! parameters) is on screen wherever apps are listed, and lists find an app by id or name (#23).
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures::loaded_state;
use common::keys::{press, type_text};
use common::runbook_fixtures::answer_runs;
use common::screen::rows;

#[test]
fn every_apps_id_is_on_the_overview_at_80x24_and_120x40() {
    let state = loaded_state(false);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = rows(&state, w, h);
        for id in state.core.apps.keys() {
            assert!(
                screen[2..]
                    .iter()
                    .any(|row| row.split_whitespace().any(|word| word == id)),
                "{id} is not on the overview at {w}x{h}:\n{}",
                screen.join("\n")
            );
        }
        assert!(
            screen[1].contains(" ID "),
            "no ID column at {w}x{h}: {}",
            screen[1]
        );
    }
}

#[test]
fn the_runs_list_finds_an_apps_runs_by_its_display_name() {
    let mut state = loaded_state(false);
    press(&mut state, ":runs<Enter>");
    answer_runs(&mut state);
    assert_eq!(state.runs.order.len(), 3);
    press(&mut state, "/");
    type_text(&mut state, "购物车");
    assert_eq!(state.runs.order, vec!["run-9f2c1a7e-3".to_string()]);
    press(&mut state, "<Esc>");
    press(&mut state, "/");
    type_text(&mut state, "shop-cart");
    assert_eq!(state.runs.order, vec!["run-9f2c1a7e-3".to_string()]);
}

#[test]
fn the_alerts_list_finds_an_apps_alerts_by_its_display_name() {
    let mut state = common::alert_fixtures::alerts_state(false);
    let name = state.core.apps["pay-gateway"].summary.name.clone();
    press(&mut state, "/");
    type_text(&mut state, &name);
    assert!(!state.alerts_view.order.is_empty());
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| state.core.alerts[id].app == "pay-gateway"),
        "{:?}",
        state.alerts_view.order
    );
}

/// At 80x24 a chart's title keeps its latest values whole; the window's max goes where it does
/// not fit ("latency p50 p99 10.10s 10. max 10.89s" cut the p99).
#[test]
fn chart_titles_keep_the_latest_values_whole_at_80x24() {
    use common::fixtures::{metrics_event, sample};
    use opsdeck::app::{Action, update};
    use opsdeck::protocol::ServerMsg;
    let mut state = loaded_state(false);
    let mut slow = sample(700.0, 10_890.0, 0.9, 1.2, 3, 3);
    slow.latency_ms.p50 = 10_100.0;
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![metrics_event(700, "shop-cart", slow)],
        }),
    );
    press(&mut state, ":");
    type_text(&mut state, "app shop-cart");
    press(&mut state, "<Enter>");
    let screen = rows(&state, 80, 24);
    let title = screen
        .iter()
        .find(|r| r.contains("latency"))
        .unwrap_or_else(|| panic!("no latency chart:\n{}", screen.join("\n")));
    assert!(title.contains("10.10s 10.89s"), "{title}");
}

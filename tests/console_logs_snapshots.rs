//! Snapshots of the Logs view at fixed sizes, from fixed lines and a fixed clock.
//! Review changes by eye: `INSTA_UPDATE=always cargo test --test console_logs_snapshots`, then
//! read the `.snap` diff in git.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::FixedOffset;
use common::keys::{press, type_text};
use common::screen::{draw, screen};
use common::{fixtures, log_fixtures};
use fixtures::*;
use log_fixtures::*;
use opsdeck::app::logs::LogsConfig;
use opsdeck::app::{Action, KeyCode, KeyInput, State, update};
use opsdeck::protocol::{Level, ServerMsg, Topic};
use opsdeck::ui::theme::{Role, Theme};

/// All apps, 40 mixed lines (CJK, a stack trace every ten, fields), following.
fn all_logs() -> State {
    let mut state = loaded_state(false).with_logs(LogsConfig {
        capacity: 1000,
        local_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
    });
    feed(&mut state, mixed_lines(1, 40));
    press(&mut state, KeyInput::char('L'));
    state
}

#[test]
fn logs_disconnected() {
    let mut state = all_logs();
    drop_stream(&mut state);
    insta::assert_snapshot!("logs_reconnecting_80x24", screen(&state, 80, 24));
    let mut state = all_logs();
    go_stale(&mut state);
    insta::assert_snapshot!("logs_stale_80x24", screen(&state, 80, 24));
}

#[test]
fn logs_80x24() {
    insta::assert_snapshot!(screen(&all_logs(), 80, 24));
}

#[test]
fn logs_160x48() {
    insta::assert_snapshot!(screen(&all_logs(), 160, 48));
}

#[test]
fn logs_wrapped_with_pretty_fields_and_local_time_80x24() {
    let mut state = all_logs();
    type_text(&mut state, "wJt");
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn logs_one_app_wrapped_160x48() {
    let mut state = all_logs();
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    press(&mut state, KeyInput::char('g'));
    while state.overview.selected.as_deref() != Some("pay-gateway") {
        press(&mut state, KeyInput::char('j'));
    }
    type_text(&mut state, "lw");
    insta::assert_snapshot!(screen(&state, 160, 48));
}

#[test]
fn logs_paused_with_lines_waiting() {
    let mut state = all_logs();
    type_text(&mut state, "kkk");
    feed(&mut state, mixed_lines(41, 234));
    let shown = screen(&state, 80, 24);
    assert!(shown.contains("paused · 234 new"), "{shown}");
    assert!(
        shown.contains("03:12:50.069"),
        "the paused view moved: {shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn logs_search_highlights_matches() {
    let mut state = all_logs();
    press(&mut state, KeyInput::char('/'));
    type_text(&mut state, "slow");
    insta::assert_snapshot!("logs_search_typing", screen(&state, 80, 24));
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    let terminal = draw(&state, 80, 24);
    insta::assert_snapshot!("logs_search_kept", terminal.backend().to_string());

    // The matched text is drawn in the search-match role, the rest of the line is not.
    let buf = terminal.backend().buffer();
    let hit = Theme::default().style(Role::SearchMatch);
    let (mut hits, mut text) = (String::new(), String::new());
    for y in 0..24 {
        for x in 0..80 {
            let cell = &buf[(x, y)];
            if cell.bg == hit.bg.unwrap() {
                hits.push_str(cell.symbol());
            } else {
                text.push_str(cell.symbol());
            }
        }
    }
    assert!(hits.contains("slow"), "{hits:?}");
    assert!(!hits.contains("query"), "{hits:?}");
}

#[test]
fn logs_with_loss_markers_and_fallen_off_lines() {
    let mut state = loaded_state(false).with_logs(LogsConfig {
        capacity: 30,
        ..LogsConfig::default()
    });
    feed(&mut state, mixed_lines(1, 40));
    press(&mut state, KeyInput::char('L'));
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Dropped {
            topic: Topic::Logs,
            count: 42,
        }),
    );
    feed(&mut state, mixed_lines(83, 2));
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Gap {
            topic: Topic::Logs,
            from: 1200,
            to: 1450,
            reset: false,
        }),
    );
    feed(&mut state, mixed_lines(1451, 2));
    let shown = screen(&state, 80, 24);
    assert!(
        shown.contains("── 42 lines dropped by the gateway ──"),
        "{shown}"
    );
    assert!(shown.contains("── gap: lines 1200–1450 lost during reconnect ──"));
    assert!(
        shown.contains("⚠ 16 fell off (30 buffer) · 42 dropped by gateway · 1 gap (251 lost)"),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
    let wide = screen(&state, 160, 48);
    assert!(
        wide.contains(
            "⚠ 16 older lines dropped from the 30 buffer · 42 lines dropped by the gateway · \
             1 gap (251 lines lost)"
        ),
        "{wide}"
    );
}

#[test]
fn logs_empty_and_filtered_to_nothing() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('L'));
    insta::assert_snapshot!("logs_empty", screen(&state, 80, 24));
    feed(
        &mut state,
        vec![log_event(1, "feed", "feed-1a2b3-zz9y8", Level::Info, "ok")],
    );
    press(&mut state, KeyInput::char('5'));
    insta::assert_snapshot!("logs_filtered_to_nothing", screen(&state, 80, 24));
}

#[test]
fn logs_filter_bar_with_an_invalid_regex() {
    let mut state = all_logs();
    press(&mut state, KeyInput::char('F'));
    type_text(&mut state, "timeout(");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!(
        "logs_filter_bar_with_an_invalid_regex_160x48",
        screen(&state, 160, 48)
    );
}

#[test]
fn logs_error_jump_focuses_a_line() {
    let mut state = all_logs();
    type_text(&mut state, "EE");
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn logs_help_lists_the_log_keys() {
    let mut state = all_logs();
    press(&mut state, KeyInput::char('?'));
    let shown = screen(&state, 80, 24);
    assert!(shown.contains("Logs"), "{shown}");
    assert!(shown.contains("Pause or follow"), "{shown}");
}

#[test]
fn no_size_from_1x1_to_200x60_panics() {
    let mut state = all_logs();
    for keys in ["", "w", "J", "kk", "/slow", "F"] {
        type_text(&mut state, keys);
        for (w, h) in [(1, 1), (5, 3), (20, 5), (40, 10), (80, 24), (200, 60)] {
            screen(&state, w, h);
        }
    }
}

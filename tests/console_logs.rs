//! Pure `update()` tests of the Logs view: buffer, follow/pause, loss markers, filters,
//! search, error jumps and saving. No I/O, fixed clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::{press, type_text};
use common::{fixtures, log_fixtures};
use fixtures::*;
use log_fixtures::*;
use opsdeck::app::logs::{LogItem, LogMarker, LogsConfig, SavedLogs, format_entry, open_logs};
use opsdeck::app::{Action, Effect, KeyCode, KeyInput, State, View, update};
use opsdeck::protocol::{Level, ServerMsg, Topic};

fn enter() -> KeyInput {
    KeyInput::plain(KeyCode::Enter)
}

fn esc() -> KeyInput {
    KeyInput::plain(KeyCode::Esc)
}

/// The seq of the line at the bottom of the view.
fn bottom_seq(state: &State) -> Option<u64> {
    let logs = &state.logs;
    match logs.shown_item(logs.bottom_index()?)?.1 {
        LogItem::Line(e) => Some(e.seq),
        LogItem::Marker(_) => None,
    }
}

fn focus_seq(state: &State) -> Option<u64> {
    match state.logs.buffer.get(state.logs.focus?)? {
        LogItem::Line(e) => Some(e.seq),
        LogItem::Marker(_) => None,
    }
}

fn shown_seqs(state: &State) -> Vec<u64> {
    state
        .logs
        .shown_items()
        .filter_map(|i| match i {
            LogItem::Line(e) => Some(e.seq),
            LogItem::Marker(_) => None,
        })
        .collect()
}

fn all_logs(lines: u64) -> State {
    let mut state = loaded_state(false);
    feed(&mut state, mixed_lines(1, lines));
    press(&mut state, KeyInput::char('L'));
    state
}

#[test]
fn logs_topic_is_subscribed_and_resume_includes_its_last_seq() {
    let mut state = new_state();
    let fx = update(&mut state, Action::StreamConnected(hello()));
    let Some(Effect::Subscribe { topics, .. }) = fx.first() else {
        panic!("{fx:?}");
    };
    assert!(topics.contains(&Topic::Logs), "{topics:?}");

    feed(&mut state, mixed_lines(500, 3));
    update(
        &mut state,
        Action::StreamDown {
            reason: "reset".into(),
            retry_in_ms: 250,
            at: at(1),
        },
    );
    let fx = update(&mut state, Action::StreamConnected(hello()));
    let Some(Effect::Subscribe { resume, .. }) = fx.first() else {
        panic!("{fx:?}");
    };
    assert_eq!(resume.get(&Topic::Logs), Some(&502));
    // A replayed line already held is not held twice.
    feed(&mut state, mixed_lines(502, 2));
    assert_eq!(shown_seqs(&state), vec![500, 501, 502, 503]);
}

#[test]
fn ring_buffer_caps_at_capacity_and_counts_what_falls_off() {
    let mut state = loaded_state(false).with_logs(LogsConfig {
        capacity: 10,
        ..LogsConfig::default()
    });
    feed(&mut state, mixed_lines(1, 25));
    open_logs(&mut state, Vec::new());
    let logs = &state.logs;
    assert_eq!(logs.buffer.len(), 10);
    assert_eq!(logs.buffer.fallen_off(), 15);
    assert_eq!(shown_seqs(&state), (16..=25).collect::<Vec<_>>());
    // The filtered index drops fallen-off lines too.
    press(&mut state, KeyInput::char('5'));
    feed(&mut state, mixed_lines(26, 20));
    assert_eq!(shown_seqs(&state), vec![37]);
}

#[test]
fn pausing_buffers_new_lines_and_counts_them_and_follow_shows_them() {
    let mut state = all_logs(30);
    assert_eq!(state.logs.paused, None);
    assert_eq!(bottom_seq(&state), Some(30));

    press(&mut state, KeyInput::char('p'));
    feed(&mut state, mixed_lines(31, 1234));
    assert_eq!(bottom_seq(&state), Some(30), "the paused view moved");
    assert_eq!(state.logs.waiting(), 1234);
    assert_eq!(
        state.logs.buffer.len(),
        1264,
        "paused lines must not be lost"
    );

    press(&mut state, KeyInput::char('f'));
    assert_eq!(state.logs.paused, None);
    assert_eq!(state.logs.waiting(), 0);
    assert_eq!(bottom_seq(&state), Some(1264));
}

#[test]
fn scrolling_up_pauses_and_scrolling_back_down_follows() {
    let mut state = all_logs(30);
    press(&mut state, KeyInput::char('k'));
    press(&mut state, KeyInput::char('k'));
    assert!(state.logs.paused.is_some());
    assert_eq!(bottom_seq(&state), Some(28));
    feed(&mut state, mixed_lines(31, 5));
    assert_eq!((bottom_seq(&state), state.logs.waiting()), (Some(28), 5));
    for _ in 0..7 {
        press(&mut state, KeyInput::char('j'));
    }
    assert_eq!(state.logs.paused, None);
    assert_eq!(bottom_seq(&state), Some(35));
}

#[test]
fn dropped_and_gap_frames_become_visible_markers_and_counts() {
    let mut state = all_logs(5);
    press(&mut state, KeyInput::char('5')); // errors only: markers still show
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Dropped {
            topic: Topic::Logs,
            count: 42,
        }),
    );
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Gap {
            topic: Topic::Logs,
            from: 1200,
            to: 1450,
            reset: false,
        }),
    );
    // Loss on another topic is not a log marker.
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Dropped {
            topic: Topic::Metrics,
            count: 7,
        }),
    );
    let markers: Vec<String> = state
        .logs
        .shown_items()
        .filter_map(|i| match i {
            LogItem::Marker(m) => Some(m.describe()),
            LogItem::Line(_) => None,
        })
        .collect();
    assert_eq!(
        markers,
        vec![
            "── 42 lines dropped by the gateway ──",
            "── gap: lines 1200–1450 lost during reconnect ──",
        ]
    );
    assert_eq!(
        (state.logs.dropped, state.logs.gaps, state.logs.gap_lines),
        (42, 1, 251)
    );
    assert!(matches!(
        state.logs.buffer.get(state.logs.buffer.end_pos() - 1),
        Some(LogItem::Marker(LogMarker::Gap { .. }))
    ));
}

#[test]
fn level_regex_and_pod_filters_narrow_the_lines_and_apply_to_new_ones() {
    let mut state = all_logs(40);
    press(&mut state, KeyInput::char('4'));
    assert_eq!(shown_seqs(&state), vec![3, 7, 13, 17, 23, 27, 33, 37]);
    press(&mut state, KeyInput::char('v')); // warn -> error
    assert_eq!(shown_seqs(&state), vec![7, 17, 27, 37]);
    press(&mut state, KeyInput::char('1'));
    assert_eq!(state.logs.shown_len(), 40);

    press(&mut state, KeyInput::char('F'));
    type_text(&mut state, "slow QUERY|cache");
    press(&mut state, enter());
    assert!(state.logs.filter_bar.is_none());
    assert_eq!(
        shown_seqs(&state),
        vec![5, 15, 25, 35],
        "a pattern with upper case is case-sensitive"
    );
    press(&mut state, KeyInput::char('F'));
    for _ in 0.."slow QUERY|cache".len() {
        press(&mut state, KeyInput::plain(KeyCode::Backspace));
    }
    type_text(&mut state, "slow|cache");
    press(&mut state, KeyInput::plain(KeyCode::Tab));
    type_text(&mut state, "a1b2c");
    press(&mut state, enter());
    assert_eq!(state.logs.filter.pattern(), "slow|cache");
    assert_eq!(state.logs.filter.pod, "a1b2c");
    assert_eq!(shown_seqs(&state), vec![5, 23, 35]);
    // New lines go through the same filter as they arrive.
    feed(&mut state, mixed_lines(41, 30));
    assert_eq!(shown_seqs(&state), vec![5, 23, 35, 53, 65]);

    press(&mut state, KeyInput::char('c'));
    assert_eq!(state.logs.shown_len(), 70);
}

#[test]
fn an_invalid_regex_says_why_and_keeps_the_old_filter() {
    let mut state = all_logs(40);
    press(&mut state, KeyInput::char('F'));
    type_text(&mut state, "慢查询");
    press(&mut state, enter());
    let before = shown_seqs(&state);
    assert_eq!(before.len(), 4);

    press(&mut state, KeyInput::char('F'));
    type_text(&mut state, "(");
    press(&mut state, enter());
    let bar = state.logs.filter_bar.as_ref().expect("bar stays open");
    assert_eq!(bar.error.as_deref(), Some("invalid regex: unclosed group"));
    assert_eq!(state.logs.filter.pattern(), "慢查询");
    assert_eq!(shown_seqs(&state), before);
    // Esc leaves it as it was.
    press(&mut state, esc());
    assert!(state.logs.filter_bar.is_none());
    assert_eq!(state.logs.filter.pattern(), "慢查询");
}

#[test]
fn search_lands_on_the_newest_match_and_n_and_shift_n_move_between_matches() {
    let mut state = all_logs(40);
    press(&mut state, KeyInput::char('/'));
    type_text(&mut state, "slow");
    // Incremental: each key searches; the newest match at or before the bottom wins.
    assert_eq!(focus_seq(&state), Some(33));
    assert!(state.logs.paused.is_some(), "landing on a match pauses");
    press(&mut state, enter());
    assert!(!state.logs.search.editing);
    press(&mut state, KeyInput::char('N'));
    assert_eq!(focus_seq(&state), Some(23));
    press(&mut state, KeyInput::char('N'));
    press(&mut state, KeyInput::char('N'));
    assert_eq!(focus_seq(&state), Some(3));
    press(&mut state, KeyInput::char('N'));
    assert_eq!(focus_seq(&state), Some(3));
    assert_eq!(
        state.core.notifications.back().map(|n| n.text.as_str()),
        Some("no earlier match")
    );
    press(&mut state, KeyInput::char('n'));
    assert_eq!(focus_seq(&state), Some(13));

    // An invalid pattern while typing keeps the last good one and says why.
    press(&mut state, KeyInput::char('/'));
    type_text(&mut state, "upstream(");
    assert!(state.logs.search.error.is_some());
    assert_eq!(
        state.logs.search.regex.as_ref().unwrap().as_str(),
        "upstream"
    );
    press(&mut state, esc());
    assert!(state.logs.search.regex.is_none() && state.logs.focus.is_none());
}

#[test]
fn e_and_shift_e_jump_between_error_lines() {
    let mut state = all_logs(40);
    press(&mut state, KeyInput::char('E'));
    assert_eq!(focus_seq(&state), Some(37));
    press(&mut state, KeyInput::char('E'));
    assert_eq!(focus_seq(&state), Some(27));
    press(&mut state, KeyInput::char('e'));
    assert_eq!(focus_seq(&state), Some(37));
    press(&mut state, KeyInput::char('e'));
    assert_eq!(focus_seq(&state), Some(37));
    assert_eq!(
        state.core.notifications.back().map(|n| n.text.as_str()),
        Some("no later error line")
    );
}

#[test]
fn save_asks_for_exactly_the_filtered_lines_and_reports_the_result() {
    let mut state = loaded_state(false);
    feed(&mut state, mixed_lines(1, 40));
    press(&mut state, KeyInput::char('g'));
    while state.overview.selected.as_deref() != Some("pay-gateway") {
        press(&mut state, KeyInput::char('j'));
    }
    press(&mut state, KeyInput::char('l'));
    assert_eq!(state.view, View::Logs);
    press(&mut state, KeyInput::char('5'));
    let fx = press(&mut state, KeyInput::char('s'));
    let [Effect::SaveLogs { file_name, lines }] = fx.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(file_name, "opsdeck-logs-pay-gateway-20250314T031245Z.log");
    let expected: Vec<String> = mixed_lines(1, 40)
        .into_iter()
        .filter(|e| e.app == "pay-gateway")
        .filter_map(|e| match e.body {
            opsdeck::protocol::Body::Logs(l) if l.level == Level::Error => {
                Some(format_entry(&opsdeck::app::logs::LogEntry {
                    seq: e.seq,
                    ts: e.ts,
                    app: e.app.as_str().into(),
                    pod: l.pod.as_str().into(),
                    level: l.level,
                    message: l.message,
                    fields: l.fields.into_iter().collect(),
                }))
            }
            _ => None,
        })
        .collect();
    assert_eq!(lines, &expected);
    assert_eq!(lines.len(), 2, "{lines:?}"); // seq 7 and 37
    assert!(lines[1].starts_with(
        "2025-03-14T03:12:50.069Z pay-gateway pay-gateway-5b7d1-k9m2z ERROR 支付回调处理失败"
    ));

    update(
        &mut state,
        Action::LogsSaved(Ok(SavedLogs {
            path: "/tmp/x.log".into(),
            lines: 12_345,
        })),
    );
    assert_eq!(
        state.core.notifications.back().map(|n| n.text.as_str()),
        Some("saved 12,345 lines to /tmp/x.log")
    );
}

#[test]
fn l_opens_one_app_and_esc_goes_back_to_the_overview() {
    let mut state = loaded_state(false);
    feed(&mut state, mixed_lines(1, 30));
    press(&mut state, KeyInput::char('g'));
    while state.overview.selected.as_deref() != Some("shop-cart") {
        press(&mut state, KeyInput::char('j'));
    }
    press(&mut state, KeyInput::char('l'));
    assert_eq!(state.view, View::Logs);
    assert_eq!(
        shown_seqs(&state),
        (1..=10).map(|n| n * 3).collect::<Vec<_>>()
    );
    // `q` in the logs goes back rather than quitting.
    let fx = press(&mut state, KeyInput::char('q'));
    assert!(fx.is_empty() && !state.quitting);
    assert_eq!(state.view, View::Overview);
    press(&mut state, KeyInput::char('L'));
    assert_eq!(state.logs.shown_len(), 30);
    press(&mut state, esc());
    assert_eq!(state.view, View::Overview);
}

#[test]
fn toggles_change_only_how_lines_show() {
    let mut state = all_logs(10);
    let before = shown_seqs(&state);
    for key in ['w', 't', 'J'] {
        press(&mut state, KeyInput::char(key));
    }
    let logs = &state.logs;
    assert!(logs.wrap && logs.pretty_fields);
    assert_eq!(logs.timestamps, opsdeck::app::logs::TimestampMode::Local);
    press(&mut state, KeyInput::char('t'));
    assert_eq!(
        state.logs.timestamps,
        opsdeck::app::logs::TimestampMode::Off
    );
    assert_eq!(shown_seqs(&state), before);
}

//! Snapshots of the console's screens at fixed sizes, from fixed data and a fixed clock.
//! Review changes by eye: `INSTA_UPDATE=always cargo test --test console_snapshots`, then
//! read the `.snap` diff in git.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use common::keys::{press, type_text};
use common::screen::{draw, screen};
use fixtures::*;
use opsdeck::app::{Action, HttpError, KeyCode, KeyInput, State, update};
use opsdeck::protocol::{ActionKind, ActionState, ActionStatus, Body, Event, Progress, ServerMsg};
use opsdeck::ui::render;
use opsdeck::ui::theme::{Role, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn overview_80x24() {
    insta::assert_snapshot!(screen(&loaded_state(false), 80, 24));
}

#[test]
fn overview_160x48() {
    insta::assert_snapshot!(screen(&loaded_state(false), 160, 48));
}

#[test]
fn overview_200x60_readonly_sorted_by_rps_and_filtered() {
    let mut state = loaded_state(true);
    type_text(&mut state, "ss/cn-east");
    insta::assert_snapshot!(screen(&state, 200, 60));
}

#[test]
fn loading_state() {
    let state = State::new(config(false));
    insta::assert_snapshot!("connecting", screen(&state, 80, 24));
    let mut state = State::new(config(false));
    update(&mut state, Action::StreamConnected(hello()));
    insta::assert_snapshot!("loading_apps", screen(&state, 80, 24));
}

#[test]
fn unreachable_before_any_data() {
    let mut state = State::new(config(false));
    update(
        &mut state,
        Action::StreamDown {
            reason: "connection refused (os error 111)".into(),
            retry_in_ms: 4000,
            at: t0(),
        },
    );
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn reconnecting_with_data() {
    let mut state = loaded_state(false);
    update(
        &mut state,
        Action::StreamDown {
            reason: "connection reset".into(),
            retry_in_ms: 3000,
            at: t0(),
        },
    );
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn stale_with_data() {
    let mut state = loaded_state(false);
    for (s, retry) in [(0, 250), (1, 500), (2, 1000), (4, 2000), (8, 4000)] {
        update(
            &mut state,
            Action::StreamDown {
                reason: "connection reset".into(),
                retry_in_ms: retry,
                at: at(s),
            },
        );
    }
    update(&mut state, Action::Tick(at(10)));
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn overview_with_no_apps() {
    let state = no_apps_state();
    insta::assert_snapshot!("overview_no_apps_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("overview_no_apps_160x48", screen(&state, 160, 48));
}

fn open_scale_on_shop_cart() -> State {
    let mut state = loaded_state(false);
    while state.overview.selected.as_deref() != Some("shop-cart") {
        press(&mut state, KeyInput::char('j'));
    }
    press(&mut state, KeyInput::char('S'));
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    type_text(&mut state, "12");
    state
}

#[test]
fn scale_dialog_edit() {
    let state = open_scale_on_shop_cart();
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("scale_dialog_edit_160x48", screen(&state, 160, 48));
}

#[test]
fn scale_dialog_out_of_range() {
    let mut state = open_scale_on_shop_cart();
    type_text(&mut state, "0");
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("scale_dialog_out_of_range_160x48", screen(&state, 160, 48));
}

#[test]
fn scale_dialog_confirmation() {
    let mut state = open_scale_on_shop_cart();
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("scale_dialog_confirmation_160x48", screen(&state, 160, 48));
}

/// The production typed-name step of the scale dialog, with `typed` typed so far.
fn scale_production_typing(typed: &str) -> State {
    let mut state = loaded_state(false);
    state.core.production = true;
    while state.overview.selected.as_deref() != Some("shop-cart") {
        press(&mut state, KeyInput::char('j'));
    }
    press(&mut state, KeyInput::char('S'));
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    type_text(&mut state, "12");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    type_text(&mut state, typed);
    state
}

#[test]
fn scale_production_typed_name() {
    let state = scale_production_typing("shop-cart");
    insta::assert_snapshot!("scale_production_typed_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("scale_production_typed_160x48", screen(&state, 160, 48));
    let state = scale_production_typing("shop-car");
    insta::assert_snapshot!("scale_production_partial_80x24", screen(&state, 80, 24));
}

#[test]
fn scale_dialog_after_a_refusal_and_after_a_transient_failure() {
    for (name, err) in [
        (
            "scale_refused",
            HttpError {
                status: Some(422),
                code: "out_of_range".into(),
                message: "replicas must be 2..=10 while the quota review is open".into(),
            },
        ),
        ("scale_unreachable", HttpError::transport("cannot connect")),
    ] {
        let mut state = open_scale_on_shop_cart();
        press(&mut state, KeyInput::plain(KeyCode::Enter));
        press(&mut state, KeyInput::char('y'));
        let request_id = *state.core.pending.keys().last().unwrap();
        update(
            &mut state,
            Action::HttpReply {
                request_id,
                result: Err(err),
            },
        );
        insta::assert_snapshot!(name, screen(&state, 80, 24));
        insta::assert_snapshot!(format!("{name}_160x48"), screen(&state, 160, 48));
    }
}

#[test]
fn help_overlay() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('?'));
    insta::assert_snapshot!("help_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("help_160x48", screen(&state, 160, 48));
}

#[test]
fn action_progress_line_and_notification() {
    let mut state = loaded_state(false);
    let status = ActionStatus {
        id: "act-1".into(),
        kind: ActionKind::Scale,
        app: "shop-cart".into(),
        state: ActionState::InProgress,
        description: "scale 6 -> 12".into(),
        progress: Some(Progress {
            ready: 7,
            desired: 12,
        }),
        message: String::new(),
        created_at: t0(),
        updated_at: t0(),
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![Event {
                seq: 1,
                ts: t0(),
                app: "shop-cart".into(),
                body: Body::Actions(status),
            }],
        }),
    );
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Dropped {
            topic: opsdeck::protocol::Topic::Logs,
            count: 12,
        }),
    );
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn down_apps_are_drawn_in_the_down_role() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('j'));
    let terminal = draw(&state, 80, 24);
    let buf = terminal.backend().buffer();
    let theme = Theme::default();
    // Worst first: the first row is the down app, and its health mark uses the Down role.
    assert_eq!(buf[(0, 3)].symbol(), ">", "selection marker");
    let mark = &buf[(1, 2)];
    assert_eq!(mark.symbol(), "✖");
    assert_eq!(mark.fg, theme.style(Role::Down).fg.unwrap());
}

#[test]
fn the_selected_row_is_readable_in_every_column_and_theme() {
    for name in ["dark", "light", "high-contrast", "colorblind"] {
        let mut state = loaded_state(false);
        press(&mut state, KeyInput::char('j'));
        let mut terminal = Terminal::new(TestBackend::new(160, 24)).unwrap();
        let theme = Theme::builtin(name).unwrap();
        terminal.draw(|f| render(&state, &theme, f)).unwrap();
        let buf = terminal.backend().buffer();
        let selection = theme.style(Role::Selection);
        // Region (muted), numbers and the sparkline all take the selection's foreground.
        for x in (1..160u16).filter(|&x| !buf[(x, 3)].symbol().trim().is_empty()) {
            assert_eq!(buf[(x, 3)].fg, selection.fg.unwrap(), "{name} column {x}");
        }
    }
}

#[test]
fn firing_counts_in_the_header_are_badges_in_the_header_alert_role() {
    for name in ["dark", "light", "high-contrast", "colorblind"] {
        let theme = Theme::builtin(name).unwrap();
        let badge = theme.style(Role::HeaderAlert);
        let header = theme.style(Role::Header);
        assert!(badge.bg.is_some(), "{name}: a badge has its own background");
        assert_ne!(badge.bg, header.bg, "{name}");
        assert_ne!(badge.fg, badge.bg, "{name}");
    }
}

#[test]
fn a_popup_over_chinese_names_keeps_its_border() {
    let state = open_scale_on_shop_cart();
    let terminal = draw(&state, 80, 24);
    let buf = terminal.backend().buffer();
    let left = (0..24)
        .find(|&y| buf[(10, y)].symbol() == "┌")
        .expect("dialog's top-left corner at column 10");
    for y in left + 1..left + 8 {
        assert_eq!(buf[(10, y)].symbol(), "│", "row {y}");
        let spill = unicode_width::UnicodeWidthStr::width(buf[(9, y)].symbol());
        assert!(
            spill <= 1,
            "row {y}: a wide character runs under the border"
        );
    }
}

#[test]
fn no_size_from_20x5_to_200x60_panics() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('?'));
    for (w, h) in [(20, 5), (40, 10), (1, 1), (80, 24), (200, 60)] {
        screen(&state, w, h);
        let s = open_scale_on_shop_cart();
        screen(&s, w, h);
    }
}

#[test]
fn the_selected_row_stays_on_screen_with_many_apps() {
    let mut state = loaded_state(false);
    let many: Vec<_> = (0..500)
        .map(|i| {
            app(
                &format!("app-{i:03}"),
                &format!("应用 {i:03}"),
                "cn-east-1",
                "v1.0.0",
                3,
                3,
                opsdeck::protocol::AppStatus::Healthy,
                sample(f64::from(i), 100.0, 0.0, 0.3, 3, 3),
            )
        })
        .collect();
    let fx = update(&mut state, Action::StreamConnected(hello()));
    for e in fx {
        if let opsdeck::app::Effect::Http(r) = e
            && r.kind == opsdeck::app::RequestKind::FetchApps
        {
            update(
                &mut state,
                Action::HttpReply {
                    request_id: r.id,
                    result: Ok(opsdeck::app::Reply::Apps(many.clone())),
                },
            );
        }
    }
    type_text(&mut state, "s"); // by name
    for _ in 0..250 {
        press(&mut state, KeyInput::char('j'));
    }
    let shown = screen(&state, 80, 24);
    let marked: Vec<&str> = shown.lines().filter(|l| l.starts_with("\">")).collect();
    assert_eq!(marked.len(), 1, "{shown}");
    assert!(marked[0].contains("应用 250"), "{shown}");
    press(&mut state, KeyInput::char('G'));
    let shown = screen(&state, 80, 24);
    assert!(shown.contains(">● 应用 499"), "{shown}");
}

#[test]
fn the_status_bar_keeps_the_way_to_help_and_drops_the_event_rate_first_when_narrow() {
    let mut state = loaded_state(false);
    state.core.actor = "li.wei".into();
    let status_row =
        |state: &State, w: u16| screen(state, w, 24).lines().last().unwrap().to_string();
    let wide = status_row(&state, 120);
    assert!(
        wide.contains("li.wei · operator │ 0 ev/s │ 03:12:45 UTC │ ? help"),
        "{wide}"
    );
    // 80x24: the event rate goes; who acts, the clock and the way to help stay.
    let narrow = status_row(&state, 80);
    assert!(
        narrow.contains("li.wei · operator │ 03:12:45 UTC │ ? help"),
        "{narrow}"
    );
    assert!(!narrow.contains("ev/s"), "{narrow}");
    // Narrower still: user and role go, the clock and help stay.
    let narrower = status_row(&state, 60);
    assert!(!narrower.contains("li.wei"), "{narrower}");
    assert!(narrower.contains("03:12:45 UTC │ ? help"), "{narrower}");
    // A very long user name is cut, not the clock.
    state.core.actor = "a-very-long-user-name-from-the-directory".into();
    let long = status_row(&state, 140);
    assert!(long.contains("a-very-long-user-na… · operator"), "{long}");
}

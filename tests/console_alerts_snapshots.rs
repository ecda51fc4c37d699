//! Snapshots of the Alerts view, its dialogs and the command line, at fixed sizes from fixed
//! data and a fixed clock, with Chinese summaries. Review changes by eye:
//! `INSTA_UPDATE=always cargo test --test console_alerts_snapshots`, then read the `.snap` diff.
#![allow(clippy::unwrap_used)]

mod common;

use alert_fixtures::*;
use common::keys::{press, type_text};
use common::screen::{draw, screen};
use common::{alert_fixtures, fixtures};
use fixtures::*;
use opsdeck::app::{Action, KeyCode, KeyInput, update};
use opsdeck::ui::theme::{Role, Theme};

#[test]
fn alerts_80x24() {
    insta::assert_snapshot!(screen(&alerts_state(false), 80, 24));
}

#[test]
fn alerts_160x48() {
    let mut state = alerts_state(false);
    // The silenced alert selected, so the pane shows its comment.
    for _ in 0..5 {
        press(&mut state, KeyInput::char('j'));
    }
    insta::assert_snapshot!(screen(&state, 160, 48));
}

#[test]
fn alerts_readonly_with_runbook_note() {
    let mut state = alerts_state(true);
    press(&mut state, KeyInput::char('j'));
    press(&mut state, KeyInput::char('b'));
    // `b` opens the runbook's form; Esc comes back to the alert, which names the runbook.
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn alerts_empty_and_loading() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('a'));
    insta::assert_snapshot!("alerts_loading", screen(&state, 80, 24));
    answer_alerts(&mut state, Vec::new());
    insta::assert_snapshot!("alerts_empty", screen(&state, 80, 24));
}

#[test]
fn overview_header_counts_firing_alerts_by_severity() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn ack_confirmation() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('A'));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("ack_confirmation_160x48", screen(&state, 160, 48));
}

#[test]
fn silence_dialog() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('j'));
    press(&mut state, KeyInput::char('s'));
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    type_text(&mut state, "90m");
    press(&mut state, KeyInput::plain(KeyCode::Tab));
    type_text(&mut state, "发布回滚中，稍后复查");
    insta::assert_snapshot!("silence_dialog_edit", screen(&state, 80, 24));
    insta::assert_snapshot!("silence_dialog_edit_160x48", screen(&state, 160, 48));
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!("silence_dialog_confirm", screen(&state, 80, 24));
    insta::assert_snapshot!("silence_dialog_confirm_160x48", screen(&state, 160, 48));
}

#[test]
fn silence_dialog_bad_duration() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('s'));
    type_text(&mut state, "x");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!(
        "silence_dialog_bad_duration_160x48",
        screen(&state, 160, 48)
    );
}

#[test]
fn command_line_with_candidates() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char(':'));
    insta::assert_snapshot!("command_line_all_commands", screen(&state, 80, 24));
    insta::assert_snapshot!("command_line_all_commands_160x48", screen(&state, 160, 48));
    type_text(&mut state, "scale s");
    insta::assert_snapshot!("command_line_app_candidates", screen(&state, 80, 24));
    insta::assert_snapshot!(
        "command_line_app_candidates_160x48",
        screen(&state, 160, 48)
    );
}

#[test]
fn command_line_error() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "alrets");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state, 80, 24));
    insta::assert_snapshot!("command_line_error_160x48", screen(&state, 160, 48));
}

#[test]
fn firing_rows_use_the_alert_roles_and_resolved_rows_are_muted() {
    let mut state = alerts_state(false);
    // Select the second row, so the first shows its own colours.
    update(&mut state, Action::Key(KeyInput::char('j')));
    let terminal = draw(&state, 80, 24);
    let buf = terminal.backend().buffer();
    let theme = Theme::default();
    // Row 2 is the newest P0, firing; the last listed rows are resolved.
    assert_eq!(buf[(1, 2)].symbol(), "P");
    assert_eq!(buf[(1, 2)].fg, theme.style(Role::AlertCritical).fg.unwrap());
    // The selected row is in the selection's colours in every column, readable on its
    // background (muted grey or red on blue is not).
    let selection = theme.style(Role::Selection);
    for x in (1..80u16).filter(|&x| !buf[(x, 3)].symbol().trim().is_empty()) {
        assert_eq!(buf[(x, 3)].fg, selection.fg.unwrap(), "column {x}");
        assert_eq!(buf[(x, 3)].bg, selection.bg.unwrap(), "column {x}");
    }
    let resolved_row = (0..24u16)
        .find(|&y| {
            (0..80u16)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("al-7")
                || (0..80u16)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains("RESOLVED")
        })
        .unwrap();
    assert_eq!(
        buf[(1, resolved_row)].fg,
        theme.style(Role::Muted).fg.unwrap()
    );
}

#[test]
fn dialogs_over_chinese_summaries_keep_their_border() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('s'));
    let terminal = draw(&state, 80, 24);
    let buf = terminal.backend().buffer();
    let (x, top) = (0..24u16)
        .find_map(|y| {
            (0..80u16)
                .find(|&x| buf[(x, y)].symbol() == "┌")
                .map(|x| (x, y))
        })
        .unwrap();
    for y in top + 1..top + 6 {
        assert_eq!(buf[(x, y)].symbol(), "│", "row {y}");
        let spill = unicode_width::UnicodeWidthStr::width(buf[(x - 1, y)].symbol());
        assert!(
            spill <= 1,
            "row {y}: a wide character runs under the border"
        );
    }
}

#[test]
fn no_size_panics() {
    let mut state = alerts_state(false);
    for (w, h) in [(1, 1), (20, 5), (40, 10), (80, 24), (200, 60)] {
        screen(&state, w, h);
    }
    press(&mut state, KeyInput::char('s'));
    for (w, h) in [(1, 1), (20, 5), (40, 10), (200, 60)] {
        screen(&state, w, h);
    }
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    press(&mut state, KeyInput::char(':'));
    for (w, h) in [(1, 1), (20, 5), (40, 10), (200, 60)] {
        screen(&state, w, h);
    }
}

/// An alert whose source (Alertmanager) cannot be read is listed, marked stale with the age of
/// the data, in the row and in the detail pane.
#[test]
fn a_stale_alert_says_so_with_its_age() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('a'));
    let mut stale = alert(
        "fp-1",
        opsdeck::protocol::Severity::P1,
        opsdeck::protocol::AlertState::Firing,
        "shop-cart",
        "shop-cart errors above 5%",
        10 * 60,
    );
    stale.stale_since = Some(at(-3 * 60));
    answer_alerts(&mut state, vec![stale]);
    let text = screen(&state, 120, 30);
    assert!(text.contains("(stale 3m) shop-cart errors"), "{text}");
    assert!(
        text.contains("stale: the alert source last answered 3m ago"),
        "{text}"
    );
}

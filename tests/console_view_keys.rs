//! The views' own keys where the app they act on matters: the Events view's `a` narrows to the
//! app on screen in the App view when it is pressed, and `S` in the App view scales that app and
//! moves the overview's selection to it.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures::loaded_state;
use common::keys::{press, type_text};
use common::view_fixtures::app_view_state;
use opsdeck::app::{Dialog, State, View};

fn command(s: &mut State, line: &str) {
    press(s, ":");
    type_text(s, line);
    press(s, "<Enter>");
}

#[test]
fn events_toggle_reads_the_app_on_screen_when_a_is_pressed() {
    let mut s = loaded_state(false);
    press(&mut s, "E");
    command(&mut s, "app shop-cart");
    press(&mut s, "<Esc>");
    assert_eq!(s.view, View::Events);
    press(&mut s, "a");
    assert_eq!(s.events.filter_app.as_deref(), Some("shop-cart"));
}

#[test]
fn events_toggle_follows_the_last_app_opened_over_it() {
    let mut s = app_view_state(false, false);
    press(&mut s, "E");
    command(&mut s, "app user-center");
    press(&mut s, "<Esc>");
    press(&mut s, "aa");
    assert_eq!(s.events.filter_app.as_deref(), Some("user-center"));
}

#[test]
fn scale_from_the_app_view_selects_the_app_in_the_overview() {
    let mut s = app_view_state(false, false);
    command(&mut s, "rollback user-center");
    assert_eq!(s.app_view.app, "user-center");
    press(&mut s, "S");
    assert!(matches!(&s.dialog, Some(Dialog::Scale(d)) if d.app == "user-center"));
    assert_eq!(s.overview.selected.as_deref(), Some("user-center"));
}

/// The prefilled count is replaced by the first digit: `S 8 Enter` asks to scale to 8, where
/// it used to append (4 then `8` gave 48, refused; 6 then `8` gave 68, which would go through).
#[test]
fn the_first_digit_replaces_the_prefilled_replica_count() {
    let mut s = loaded_state(false);
    press(&mut s, "S");
    let Some(Dialog::Scale(d)) = &s.dialog else {
        panic!("no scale dialog");
    };
    assert!(d.prefilled);
    press(&mut s, "8");
    let Some(Dialog::Scale(d)) = &s.dialog else {
        panic!("no scale dialog");
    };
    assert_eq!(d.input, "8");
    press(&mut s, "2");
    let Some(Dialog::Scale(d)) = &s.dialog else {
        panic!("no scale dialog");
    };
    assert_eq!(d.input, "82", "later digits append");
}

/// `+`/`-` still adjust the prefilled count, and a digit after them appends.
#[test]
fn plus_adjusts_the_prefilled_count() {
    let mut s = loaded_state(false);
    press(&mut s, "S");
    let Some(Dialog::Scale(d)) = &s.dialog else {
        panic!("no scale dialog");
    };
    let from = d.from;
    press(&mut s, "+");
    let Some(Dialog::Scale(d)) = &s.dialog else {
        panic!("no scale dialog");
    };
    assert_eq!(d.input, (from + 1).to_string());
    assert!(!d.prefilled);
}

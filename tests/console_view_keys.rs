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

fn busy(s: &mut State, seq: u64, app: &str, rps: f64) {
    use common::fixtures::{metrics_event, sample};
    use opsdeck::app::{Action, update};
    use opsdeck::protocol::ServerMsg;
    let ev = metrics_event(seq, app, sample(rps, 120.0, 0.001, 0.5, 4, 4));
    update(
        s,
        Action::StreamFrame(ServerMsg::Events { events: vec![ev] }),
    );
}

/// A fresh console points at the top row: until the operator picks an app, the cursor stays
/// on the first row while rows re-sort (a failing app sorts to the top under the default
/// health sort; here rps sorting moves them); once picked, it follows its app.
#[test]
fn the_cursor_starts_on_the_first_row_and_follows_the_app_once_chosen() {
    let mut s = loaded_state(false);
    press(&mut s, "ss");
    assert_eq!(s.overview.sort.label(), "rps");
    let first = s.overview.order[0].clone();
    assert_eq!(s.overview.selected.as_ref(), Some(&first));
    // user-center gets the most traffic and sorts to the top: the untouched cursor goes too.
    busy(&mut s, 1_000, "user-center", 90_000.0);
    assert_eq!(s.overview.order[0], "user-center");
    assert_eq!(s.overview.selected.as_deref(), Some("user-center"));
    press(&mut s, "l");
    let shown: Vec<&str> = s.logs.filter.apps.iter().map(|a| &**a).collect();
    assert_eq!(shown, ["user-center"]);
    press(&mut s, "<Esc>j");
    let picked = s.overview.selected.clone();
    assert_eq!(picked.as_ref(), Some(&s.overview.order[1]));
    // Another app sorts to the top: the cursor stays on the app the operator picked.
    busy(&mut s, 1_001, "order-svc", 95_000.0);
    assert_eq!(s.overview.order[0], "order-svc");
    assert_eq!(s.overview.selected, picked);
}

/// The Alerts list too: untouched, its cursor stays on the worst alert as a new one sorts to
/// the top; once moved, it stays on its alert.
#[test]
fn the_alerts_cursor_stays_on_the_top_alert_until_moved() {
    use common::alert_fixtures::{alert, alert_event, alerts_state};
    use opsdeck::app::update;
    use opsdeck::protocol::{AlertState, Severity};
    let mut s = alerts_state(false);
    assert_eq!(
        s.alerts_view.selected.as_ref(),
        Some(&s.alerts_view.order[0])
    );
    let newest = alert(
        "a-new",
        Severity::P0,
        AlertState::Firing,
        "feed",
        "feed down",
        1,
    );
    update(&mut s, alert_event(500, newest));
    assert_eq!(
        s.alerts_view.order[0], "a-new",
        "a fresh P0 sorts to the top"
    );
    assert_eq!(s.alerts_view.selected.as_deref(), Some("a-new"));
    press(&mut s, "j");
    let picked = s.alerts_view.selected.clone();
    let another = alert(
        "a-newer",
        Severity::P0,
        AlertState::Firing,
        "feed",
        "again",
        0,
    );
    update(&mut s, alert_event(501, another));
    assert_eq!(s.alerts_view.order[0], "a-newer");
    assert_eq!(s.alerts_view.selected, picked);
}

/// One rule in every view: `q` goes back like Esc; only the overview quits.
#[test]
fn q_goes_back_in_every_view_and_quits_only_from_the_overview() {
    let mut s = app_view_state(false, false);
    press(&mut s, "E");
    assert_eq!(s.view, View::Events);
    press(&mut s, "q");
    assert_eq!(s.view, View::App);
    press(&mut s, "r");
    assert_eq!(s.view, View::Releases);
    press(&mut s, "q");
    assert_eq!(s.view, View::App);
    press(&mut s, "q");
    assert_eq!(s.view, View::Overview);
    assert!(!s.quitting, "q went back each time");
    press(&mut s, "q");
    assert!(s.quitting);
}

/// `R` rolls back the selected app from the overview too (the README says so).
#[test]
fn r_on_the_overview_rolls_back_the_selected_app() {
    use opsdeck::app::RequestKind;
    let mut s = loaded_state(false);
    let app = s.overview.selected.clone().unwrap();
    let effects = press(&mut s, "R");
    assert_eq!(s.app_view.app, app);
    let asks_releases = effects.iter().any(|e| {
        matches!(e, opsdeck::app::Effect::Http(r)
            if matches!(&r.kind, RequestKind::FetchReleases { app: a } if *a == app))
    });
    assert!(asks_releases, "{effects:?}");
}

/// A `/` filter that hides every row says so, never that the list is empty.
#[test]
fn a_filter_that_hides_every_row_says_so_in_alerts_events_and_runs() {
    use common::alert_fixtures::alerts_state;
    use common::screen::screen;
    let mut s = alerts_state(false);
    press(&mut s, "/zzz<Enter>");
    let alerts = screen(&s, 100, 30);
    assert!(
        alerts.contains("No alert matches /zzz (8 hidden)"),
        "{alerts}"
    );
    assert!(!alerts.contains("nothing is firing"), "{alerts}");

    let mut s = app_view_state(false, false);
    press(&mut s, "E/zzz<Enter>");
    let events = screen(&s, 100, 30);
    assert!(events.contains("No event matches /zzz ("), "{events}");
    assert!(!events.contains("Nothing has happened yet"), "{events}");
}

/// The keys that act on "this app" (`S`, `R`, `l`, `b`) work wherever an app is selected: `b`
/// opens the runbook of the app's incident from the overview, the App and Releases views; the
/// Alerts list adds `l` and `R` for the selected alert's app.
#[test]
fn the_app_keys_work_wherever_an_app_is_selected() {
    use common::alert_fixtures::alerts_state;
    // The overview, cursor on shop-cart, whose firing P1 names bad-release.
    let mut s = alerts_state(false);
    press(&mut s, "<Esc>");
    s.overview.choose("shop-cart".into());
    press(&mut s, "b");
    assert_eq!(s.view, View::Runbook);
    let form = s.runbooks.form.as_ref().unwrap();
    assert_eq!(
        (form.runbook.as_str(), form.prefill_app.as_deref()),
        ("bad-release", Some("shop-cart"))
    );
    // The App view and its Releases.
    let mut s = alerts_state(false);
    command(&mut s, "app shop-cart");
    press(&mut s, "b");
    assert_eq!(s.view, View::Runbook);
    let mut s = alerts_state(false);
    command(&mut s, "releases shop-cart");
    assert_eq!(s.view, View::Releases);
    press(&mut s, "l");
    assert_eq!(s.view, View::Logs);
    assert_eq!(s.logs.filter.apps, vec!["shop-cart".into()]);
    // Alerts: the selected alert's app.
    let mut s = alerts_state(false);
    let app = s.selected_alert().unwrap().app.clone();
    press(&mut s, "l");
    assert_eq!(s.view, View::Logs);
    assert_eq!(s.logs.filter.apps, vec![app.as_str().into()]);
    let mut s = alerts_state(false);
    press(&mut s, "R");
    assert_eq!(
        s.app_view.app, app,
        "R asks for {app}'s releases to roll back"
    );
}

/// `b` on an app no alert names a runbook for opens the runbook list, and says why.
#[test]
fn b_without_a_matching_runbook_opens_the_list() {
    let mut s = loaded_state(false);
    press(&mut s, "b");
    assert_eq!(s.view, View::Runbooks);
    let notice = &s.core.notifications.back().unwrap().text;
    assert!(notice.contains("names a runbook"), "{notice}");
}

/// `b` on an app no alert names a runbook for opens the runbook the app itself names (a
/// Kubernetes Deployment's `opsdeck.io/runbooks` annotation).
#[test]
fn b_opens_the_runbook_the_app_names_when_no_alert_does() {
    let mut s = loaded_state(false);
    let app = s.overview.selected.clone().unwrap();
    s.core.apps.get_mut(&app).unwrap().summary.runbooks = vec!["flash-sale-spike".into()];
    press(&mut s, "b");
    assert_eq!(s.view, View::Runbook);
    let note = s.alerts_view.note.as_ref().unwrap();
    assert_eq!(
        (note.runbook.as_str(), note.app.as_str()),
        ("flash-sale-spike", app.as_str())
    );
}

/// Quitting while a run the operator started waits for approval asks first; a run someone
/// else started does not hold the console.
#[test]
fn quitting_while_your_run_waits_for_approval_asks_first() {
    use common::runbook_fixtures::{run_event, waiting_run};
    use common::screen::screen;
    use opsdeck::app::update;
    let mut s = loaded_state(false);
    let mut theirs = waiting_run();
    theirs.id = "run-theirs".into();
    update(&mut s, run_event(1, theirs));
    press(&mut s, "q");
    assert!(s.quitting, "li.wei's run does not wait for this operator");

    let mut s = loaded_state(false);
    let mut mine = waiting_run();
    mine.started_by = s.core.actor.clone();
    update(&mut s, run_event(1, mine));
    press(&mut s, "q");
    assert!(!s.quitting);
    assert!(matches!(&s.dialog, Some(Dialog::Quit(d)) if d.waiting[0].id == "run-9f2c1a7e-3"));
    let text = screen(&s, 80, 24);
    assert!(text.contains("run-9f2c1a7e-3"), "{text}");
    assert!(text.contains("Quit anyway? y/N"), "{text}");
    press(&mut s, "n");
    assert!(s.dialog.is_none() && !s.quitting);
    press(&mut s, "q");
    press(&mut s, "y");
    assert!(s.quitting);
    // Ctrl-C asks too, and a second Ctrl-C quits.
    let mut s2 = loaded_state(false);
    let mut mine = waiting_run();
    mine.started_by = s2.core.actor.clone();
    update(&mut s2, run_event(1, mine));
    press(&mut s2, "<C-c>");
    assert!(!s2.quitting && s2.dialog.is_some());
    press(&mut s2, "<C-c>");
    assert!(s2.quitting);
}

/// The Runbooks list puts the runbooks an unresolved alert points at first, most urgent first,
/// so the cursor starts on the incident's runbook (it sat on the alphabetically first one).
#[test]
fn the_incidents_runbook_is_on_the_top_row() {
    use common::alert_fixtures::alerts_state;
    use common::alert_fixtures::{alert, alert_event};
    use common::runbook_fixtures::answer_runbooks;
    use opsdeck::app::update;
    use opsdeck::protocol::{AlertState, Severity};
    let mut s = alerts_state(false);
    // A P0 on feed that flash-sale-spike handles, besides bad-release's firing P0 and P1 (al-8,
    // al-1) and cache-degradation's silenced alert (al-5).
    let mut p0 = alert(
        "al-9",
        Severity::P0,
        AlertState::Firing,
        "feed",
        "feed 5xx",
        60,
    );
    p0.runbook = Some("flash-sale-spike".into());
    update(&mut s, alert_event(900, p0));
    press(&mut s, "<Esc>");
    press(&mut s, "B");
    answer_runbooks(&mut s);
    let order: Vec<&str> = s.shown_runbooks().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        order,
        ["bad-release", "flash-sale-spike", "cache-degradation"],
        "firing P0s (in the gateway's order), then silenced"
    );
    assert_eq!(s.selected_runbook().unwrap().id, "bad-release");
}

//! Pure `update()` tests of command mode: each `:` command, errors with suggestions,
//! completion of commands and app ids, history, and that nothing is ever sent by a command
//! that changes the platform.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::{press, type_text};
use common::{alert_fixtures, fixtures};
use fixtures::*;
use opsdeck::app::{
    Action, Dialog, Effect, KeyCode, KeyInput, Reply, RequestKind, ScaleStep, State, View, update,
};

fn key(code: KeyCode) -> KeyInput {
    KeyInput::plain(code)
}

/// Type `:` and `line`, press Enter; returns every effect.
fn run(state: &mut State, line: &str) -> Vec<Effect> {
    let mut fx = press(state, KeyInput::char(':'));
    assert!(state.prompt.is_some(), "`:` did not open the command line");
    fx.extend(type_text(state, line));
    fx.extend(press(state, key(KeyCode::Enter)));
    fx
}

fn prompt_error(state: &State) -> String {
    state.prompt.as_ref().unwrap().error.clone().unwrap()
}

fn input(state: &State) -> String {
    state.prompt.as_ref().unwrap().input.clone()
}

fn candidates(state: &State) -> Vec<String> {
    let p = state.prompt.as_ref().unwrap();
    p.candidates.iter().map(|c| c.text.clone()).collect()
}

fn themed(readonly: bool) -> State {
    let mut state = loaded_state(readonly);
    state.core.themes = ["dark", "light", "high-contrast", "colorblind"]
        .map(String::from)
        .to_vec();
    state
}

#[test]
fn views_open_by_command() {
    let mut state = themed(false);
    let fx = run(&mut state, "alerts");
    assert_eq!(state.view, View::Alerts);
    assert!(state.prompt.is_none());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Http(r) if r.kind == RequestKind::FetchAlerts))
    );
    run(&mut state, "apps");
    assert_eq!(state.view, View::Overview);
    run(&mut state, "help");
    assert!(state.help_open);
}

fn fetches(fx: &[Effect]) -> Vec<RequestKind> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Http(r) => Some(r.kind.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn app_opens_the_app_view() {
    let mut state = themed(false);
    let fx = run(&mut state, "app notify");
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, "notify");
    assert_eq!(state.overview.selected.as_deref(), Some("notify"));
    assert!(state.prompt.is_none());
    let kinds = fetches(&fx);
    assert!(
        kinds.contains(&RequestKind::FetchApp {
            app: "notify".into()
        }),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&RequestKind::FetchReleases {
            app: "notify".into()
        }),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(RequestKind::changes_platform),
        "{kinds:?}"
    );
    // Esc goes back to where the command was typed.
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Overview);
    // The display name works too.
    run(&mut state, "app 购物车 shop-cart");
    assert!(state.prompt.is_some(), "two words are two arguments");
    press(&mut state, key(KeyCode::Esc));
    run(&mut state, "app 支付网关");
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, "pay-gateway");
}

#[test]
fn releases_opens_the_releases_view() {
    let mut state = themed(false);
    let fx = run(&mut state, "releases notify");
    assert_eq!(state.view, View::Releases);
    assert_eq!(state.app_view.app, "notify");
    assert_eq!(state.overview.selected.as_deref(), Some("notify"));
    assert!(state.prompt.is_none());
    assert_eq!(
        fetches(&fx),
        [RequestKind::FetchReleases {
            app: "notify".into()
        }]
    );
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Overview, "Esc goes back");
    // By display name; a typo gets a suggestion and changes nothing.
    run(&mut state, "releases 支付网关");
    assert_eq!(state.view, View::Releases);
    assert_eq!(state.app_view.app, "pay-gateway");
    run(&mut state, "releases shop-crat");
    assert_eq!(
        prompt_error(&state),
        "no app \"shop-crat\" — did you mean shop-cart?"
    );
    assert_eq!(state.app_view.app, "pay-gateway");
    press(&mut state, key(KeyCode::Esc));
    run(&mut state, "releases");
    assert_eq!(
        prompt_error(&state),
        "missing app name — usage: :releases NAME"
    );
}

#[test]
fn tab_completes_releases_and_its_app() {
    let mut state = themed(false);
    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "rel");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "releases ");
    type_text(&mut state, "u");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "releases user-center ");
    press(&mut state, key(KeyCode::Enter));
    assert_eq!(state.view, View::Releases);
    assert_eq!(state.app_view.app, "user-center");
}

#[test]
fn logs_opens_the_logs_view_for_the_named_apps_or_all() {
    let mut state = themed(false);
    let fx = run(&mut state, "logs");
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(state.view, View::Logs);
    assert!(state.logs.filter.apps.is_empty(), "no names: every app");
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Overview);

    run(&mut state, "logs feed search");
    assert_eq!(state.view, View::Logs);
    let apps: Vec<&str> = state.logs.filter.apps.iter().map(|a| &**a).collect();
    assert_eq!(apps, ["feed", "search"]);
}

#[test]
fn events_opens_the_timeline() {
    let mut state = themed(false);
    let fx = run(&mut state, "events");
    assert_eq!(state.view, View::Events);
    assert_eq!(state.events.filter_app, None, "every app");
    assert!(fetches(&fx).contains(&RequestKind::FetchTimeline), "{fx:?}");
}

#[test]
fn rollback_opens_the_dialog_and_sends_nothing_that_changes_the_platform() {
    use opsdeck::protocol::{Release, ReleaseStatus};
    let release = |id: &str, version: &str, status| Release {
        id: id.into(),
        version: version.into(),
        created_at: at(-3600),
        status,
        change_cause: String::new(),
        artifact: String::new(),
    };
    let feed_releases = || {
        vec![
            release("r-42", "v7.1.0", ReleaseStatus::Active),
            release("r-41", "v7.0.9", ReleaseStatus::Superseded),
            release("r-40", "v7.0.8", ReleaseStatus::Superseded),
        ]
    };
    for (line, to) in [("rollback feed", "r-41"), ("rollback feed r-40", "r-40")] {
        let mut state = themed(false);
        let fx = run(&mut state, line);
        assert!(state.prompt.is_none(), "{line}");
        let kinds = fetches(&fx);
        assert!(
            !kinds.iter().any(RequestKind::changes_platform),
            "{line}: {kinds:?}"
        );
        // The releases are fetched first; the dialog opens when they arrive.
        let fetch = fx
            .iter()
            .find_map(|e| match e {
                Effect::Http(r) if r.kind == RequestKind::FetchReleases { app: "feed".into() } => {
                    Some(r.id)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{line}: no FetchReleases in {kinds:?}"));
        let fx = update(
            &mut state,
            Action::HttpReply {
                request_id: fetch,
                result: Ok(Reply::Releases(feed_releases())),
            },
        );
        assert!(
            !fetches(&fx).iter().any(RequestKind::changes_platform),
            "{line}"
        );
        let Some(Dialog::Rollback(d)) = &state.dialog else {
            panic!(
                "{line}: no rollback dialog: {:?}",
                state.core.notifications.back()
            );
        };
        assert_eq!(d.app, "feed", "{line}");
        assert_eq!(d.from.id, "r-42", "{line}");
        assert_eq!(d.to.id, to, "{line}");
    }
}

#[test]
fn unknown_apps_and_commands_keep_the_line_open_with_a_suggestion() {
    let mut state = themed(false);
    run(&mut state, "alrets");
    assert_eq!(
        prompt_error(&state),
        "unknown command :alrets — did you mean :alerts?"
    );
    assert_eq!(input(&state), "alrets", "the line stays for fixing");
    press(&mut state, key(KeyCode::Esc));
    run(&mut state, "logs feed shop-crat");
    assert_eq!(
        prompt_error(&state),
        "no app \"shop-crat\" — did you mean shop-cart?"
    );
    press(&mut state, key(KeyCode::Esc));
    run(&mut state, "scale shop-cart");
    assert_eq!(
        prompt_error(&state),
        "missing replica count — usage: :scale NAME N"
    );
    // Typing clears the error.
    type_text(&mut state, " 7");
    assert!(state.prompt.as_ref().unwrap().error.is_none());
}

#[test]
fn scale_opens_the_dialog_prefilled_and_sends_nothing() {
    let mut state = themed(false);
    let fx = run(&mut state, "scale shop-cart 12");
    assert!(fx.is_empty(), "{fx:?}");
    let Some(Dialog::Scale(d)) = &state.dialog else {
        panic!("no scale dialog");
    };
    assert_eq!((d.app.as_str(), d.input.as_str()), ("shop-cart", "12"));
    assert_eq!(d.step, ScaleStep::Edit);
    assert_eq!(d.target(), Ok(12));
    assert_eq!(state.overview.selected.as_deref(), Some("shop-cart"));
    // Still two deliberate steps from a request.
    assert!(press(&mut state, KeyInput::char('y')).is_empty());
    assert!(press(&mut state, key(KeyCode::Enter)).is_empty());
    let sent = press(&mut state, KeyInput::char('y'));
    assert!(matches!(&sent[..], [Effect::Http(r)]
        if matches!(&r.kind, RequestKind::ScaleApp { replicas: 12, .. })));
}

#[test]
fn readonly_scale_is_refused_by_command_too() {
    let mut state = themed(true);
    let fx = run(&mut state, "scale shop-cart 12");
    assert!(fx.is_empty());
    assert!(state.dialog.is_none());
    assert!(prompt_error(&state).contains("READ-ONLY"));
}

#[test]
fn q_and_quit_leave() {
    for line in ["q", "quit"] {
        let mut state = themed(false);
        assert_eq!(run(&mut state, line), vec![Effect::Quit]);
        assert!(state.quitting);
    }
    // `q` typed into the line is text.
    let mut state = themed(false);
    press(&mut state, KeyInput::char(':'));
    assert!(type_text(&mut state, "q").is_empty());
    assert!(!state.quitting);
}

#[test]
fn theme_switches_by_name_and_refuses_unknown_ones() {
    let mut state = themed(false);
    run(&mut state, "theme light");
    assert_eq!(state.core.theme, "light");
    assert!(state.prompt.is_none());
    run(&mut state, "theme neon");
    assert_eq!(
        prompt_error(&state),
        "no theme \"neon\" — themes: dark, light, high-contrast, colorblind"
    );
    press(&mut state, key(KeyCode::Esc));
    run(&mut state, "theme lihgt");
    assert_eq!(
        prompt_error(&state),
        "no theme \"lihgt\" — did you mean light?"
    );
    assert_eq!(state.core.theme, "light");
}

#[test]
fn tab_completes_command_names() {
    let mut state = themed(false);
    press(&mut state, KeyInput::char(':'));
    assert_eq!(
        candidates(&state).len(),
        opsdeck::app::COMMANDS.len(),
        "an empty line lists every command"
    );
    type_text(&mut state, "al");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "alerts");
    press(&mut state, key(KeyCode::Esc));

    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "a");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(
        input(&state),
        "a",
        "ambiguous: nothing in common beyond `a`"
    );
    assert_eq!(candidates(&state), ["apps", "app", "alerts"]);
    press(&mut state, key(KeyCode::Backspace));
    type_text(&mut state, "sc");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "scale ", "takes arguments: a space follows");
}

#[test]
fn tab_completes_app_ids_where_an_argument_is_an_app() {
    let mut state = themed(false);
    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "scale s");
    assert_eq!(candidates(&state), ["search", "shop-cart"]);
    type_text(&mut state, "h");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "scale shop-cart ");
    // The count is not an app: no candidates.
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "scale shop-cart ");
    assert!(candidates(&state).is_empty());
    press(&mut state, key(KeyCode::Esc));

    // :logs takes several; ones already typed are not offered again.
    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "logs search s");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "logs search shop-cart ");
    press(&mut state, key(KeyCode::Esc));

    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "app u");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "app user-center ");
    press(&mut state, key(KeyCode::Esc));

    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "theme h");
    press(&mut state, key(KeyCode::Tab));
    assert_eq!(input(&state), "theme high-contrast ");
}

#[test]
fn history_goes_back_and_forth_and_keeps_the_draft() {
    let mut state = themed(false);
    run(&mut state, "alerts");
    run(&mut state, "apps");
    run(&mut state, "app feed");
    press(&mut state, KeyInput::char(':'));
    type_text(&mut state, "the");
    press(&mut state, key(KeyCode::Up));
    assert_eq!(input(&state), "app feed");
    press(&mut state, key(KeyCode::Up));
    press(&mut state, key(KeyCode::Up));
    assert_eq!(input(&state), "alerts");
    press(&mut state, key(KeyCode::Up));
    assert_eq!(input(&state), "alerts", "stops at the oldest");
    press(&mut state, key(KeyCode::Down));
    assert_eq!(input(&state), "apps");
    press(&mut state, key(KeyCode::Down));
    press(&mut state, key(KeyCode::Down));
    assert_eq!(input(&state), "the", "past the newest: the draft");
    press(&mut state, key(KeyCode::Esc));
    // Failed lines are remembered too, so they can be fixed.
    run(&mut state, "alrets");
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char(':'));
    press(&mut state, key(KeyCode::Up));
    assert_eq!(input(&state), "alrets");
    assert_eq!(state.prompt_history.len(), 4);
}

#[test]
fn the_command_line_opens_from_views_but_not_over_dialogs() {
    let mut state = alert_fixtures::alerts_state(false);
    press(&mut state, KeyInput::char(':'));
    assert!(state.prompt.is_some(), "from the Alerts view");
    press(&mut state, key(KeyCode::Backspace));
    assert!(state.prompt.is_none(), "Backspace on an empty line closes");
    press(&mut state, KeyInput::char('A'));
    press(&mut state, KeyInput::char(':'));
    assert!(state.prompt.is_none(), "not over the ack question");
    assert!(matches!(state.dialog, Some(Dialog::Ack(_))));
}

#[test]
fn a_theme_that_fails_to_load_is_reported_and_the_old_one_kept() {
    use opsdeck::tui::event_loop::Themes;
    use opsdeck::ui::color_depth::ColorDepth;
    use opsdeck::ui::theme::Theme;

    let dir = std::env::temp_dir().join(format!("opsdeck-bad-theme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.toml"), "this is = = not toml").unwrap();
    let mut themes = Themes::new(
        Theme::builtin("dark").unwrap(),
        "dark".into(),
        false,
        ColorDepth::TrueColor,
    )
    .with_user_dir(Some(dir.clone()));
    let mut state = themed(false);
    state.core.theme = "dark".into();
    assert_eq!(themes.follow(&state), None);

    state.core.theme = "broken".into();
    let failed = themes.follow(&state).expect("a broken theme is reported");
    update(&mut state, failed);
    assert_eq!(
        state.core.theme, "dark",
        "the theme in use is the one named"
    );
    let last = state.core.notifications.back().unwrap();
    assert!(
        last.text.contains("theme broken not loaded") && last.text.contains("keeping dark"),
        "{}",
        last.text
    );
    // Nothing more to report once the state names the theme in use again.
    assert_eq!(themes.follow(&state), None);

    state.core.theme = "light".into();
    assert_eq!(themes.follow(&state), None);
    let _ = std::fs::remove_dir_all(&dir);
}

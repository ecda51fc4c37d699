//! Contexts and keymap overrides inside the console: a `[keys]` override drives the keys and
//! shows in help and hints; `:ctx` checks its name and asks to switch; and, with the real
//! binary in a pty, `:ctx NAME` moves from one gateway to another, keeping nothing of the
//! first on screen, with a production context impossible to miss.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::fixtures::loaded_state;
use common::gateway::start_sim;
use common::keys::{press, type_text};
use common::pty::{Console, TempDir};
use common::screen::rows;
use opsdeck::app::{Action, Dialog, Effect, KeyCode, KeyInput, Keymap, State, update};
use opsdeck::config::console::ConsoleFile;
use portable_pty::CommandBuilder;

/// The builtin keymap with the overrides of a console file holding `text`.
fn keymap_with(text: &str) -> Keymap {
    let file = ConsoleFile::parse(Path::new("config.toml"), text, false).unwrap();
    let mut keymap = Keymap::builtin().unwrap();
    file.apply_keys(&mut keymap).unwrap();
    keymap
}

fn overridden_state(text: &str) -> State {
    let mut state = loaded_state(false);
    // As run_console builds it: the configured keymap in the core.
    state.core.keymap = keymap_with(text);
    state
}

#[test]
fn a_key_override_drives_the_keys_and_shows_in_help_and_hints() {
    let mut state = overridden_state("[keys]\nscale = \"ctrl-s\"\n");
    press(&mut state, "S");
    assert!(state.dialog.is_none(), "S no longer scales");
    press(&mut state, "<C-s>");
    assert!(
        matches!(state.dialog, Some(Dialog::Scale(_))),
        "Ctrl-s opens the scale dialog"
    );
    press(&mut state, "<Esc>");
    assert!(state.dialog.is_none());

    // The overview's hints name the new key.
    update(
        &mut state,
        Action::Resize {
            width: 160,
            height: 60,
        },
    );
    let screen = rows(&state, 160, 60).join("\n");
    assert!(screen.contains("Ctrl-s scale"), "{screen}");

    // Help lists it where S was.
    press(&mut state, "?");
    let help = rows(&state, 160, 60);
    let line = help
        .iter()
        .find(|r| r.contains("Scale the selected app"))
        .unwrap_or_else(|| panic!("no scale line in help:\n{}", help.join("\n")));
    assert!(line.contains("Ctrl-s"), "{line}");
    assert!(!line.contains(" S "), "{line}");
    // On a wide terminal help also names the action, as `[keys]` takes it.
    assert!(line.contains("  scale "), "{line}");
}

#[test]
fn a_view_override_leaves_the_other_views_alone() {
    let mut state = overridden_state("[keys.logs]\ntoggle_wrap = \"W\"\n");
    press(&mut state, "l");
    let wrap = state.logs.wrap;
    press(&mut state, "w");
    assert_eq!(state.logs.wrap, wrap, "w no longer wraps in the Logs view");
    press(&mut state, "W");
    assert_ne!(state.logs.wrap, wrap, "W does");
}

fn run_command(state: &mut State, line: &str) -> Vec<Effect> {
    let mut fx = press(state, ":");
    fx.extend(type_text(state, line));
    fx.extend(press(state, KeyInput::plain(KeyCode::Enter)));
    fx
}

fn prompt_error(state: &State) -> Option<String> {
    state.prompt.as_ref().and_then(|p| p.error.clone())
}

#[test]
fn ctx_checks_the_name_and_asks_to_switch() {
    let mut state = loaded_state(false);
    run_command(&mut state, "ctx prod");
    assert_eq!(
        prompt_error(&state).as_deref(),
        Some("no contexts: they are set in the config file (opsdeck config init)")
    );
    press(&mut state, "<Esc>");

    state.core.contexts = vec!["prod".into(), "staging".into()];
    state.core.context = Some("staging".into());
    run_command(&mut state, "ctx prdo");
    assert_eq!(
        prompt_error(&state).as_deref(),
        Some("no context \"prdo\" — did you mean prod?")
    );
    press(&mut state, "<Esc>");

    let fx = run_command(&mut state, "ctx prod");
    assert_eq!(fx, vec![Effect::SwitchContext("prod".into())]);

    run_command(&mut state, "ctx");
    let notice = state.core.notifications.back().unwrap();
    assert_eq!(notice.text, "contexts: prod, *staging — :ctx NAME switches");

    // A switch that cannot be made says why; the console stays where it is.
    update(
        &mut state,
        Action::ContextFailed {
            name: "prod".into(),
            error: "the token variable PROD_TOKEN is not set".into(),
        },
    );
    assert_eq!(
        state.core.notifications.back().unwrap().text,
        "not switched to prod: the token variable PROD_TOKEN is not set"
    );
    assert_eq!(state.core.context.as_deref(), Some("staging"));
}

/// The header line and the status bar line of a screen.
fn bars(screen: &str) -> (String, String) {
    let lines: Vec<&str> = screen.lines().collect();
    (
        lines.first().copied().unwrap_or("").to_string(),
        lines.last().copied().unwrap_or("").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctx_switches_to_another_gateway_and_keeps_nothing_of_the_first() {
    let first = start_sim(3, 1.0, None).await;
    let second = start_sim(4, 1.0, None).await;
    let (a, b) = (first.addr.to_string(), second.addr.to_string());
    let home = TempDir::new("ctx-switch");
    let config = home.0.join("opsdeck").join("config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "current-context = \"staging\"\n\
             [contexts.staging]\nurl = \"ws://{a}\"\n\
             [contexts.prod]\nurl = \"ws://{b}\"\nproduction = true\nview = \"alerts\"\n\
             mouse = true\n\
             [contexts.broken]\nurl = \"ws://{b}\"\ntoken-env = \"OPSDECK_TEST_UNSET_TOKEN\"\n"
        ),
    )
    .unwrap();
    let result = tokio::task::spawn_blocking(move || {
        // Started with --url: the flag is for the context the console starts on; `:ctx prod`
        // must still go to prod's gateway.
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(["--url", &format!("ws://{a}")]);
        cmd.env("XDG_CONFIG_HOME", &home.0);
        cmd.env_remove("OPSDECK_TEST_UNSET_TOKEN");
        cmd.env_remove("OPSDECK_MOUSE");
        let mut console = Console::spawn_command(cmd, 30, 120);
        let screen = console.wait_for(20, "the staging context live", |s| {
            let (_, status) = bars(s);
            status.contains("staging") && status.contains(&a) && status.contains("live")
        });
        assert!(!bars(&screen).0.contains("PRODUCTION"), "{screen}");
        assert!(
            !console.mouse_captured(),
            "staging does not capture the mouse"
        );

        // A context whose token cannot be read: said, and nothing changes.
        console.keys(":ctx broken\r");
        console.wait_for(10, "why broken was not switched to", |s| {
            s.contains("not switched to broken: the token variable OPSDECK_TEST_UNSET_TOKEN")
        });
        assert!(bars(&console.text()).1.contains(&a));

        console.keys(":ctx prod\r");
        let screen = console.wait_for(20, "the prod context live", |s| {
            let (header, status) = bars(s);
            header.contains("PRODUCTION")
                && status.contains("prod")
                && status.contains(&b)
                && status.contains("live")
        });
        assert!(
            !screen.contains(&a),
            "the first gateway is still on screen:\n{screen}"
        );
        assert!(!screen.contains("staging"), "{screen}");
        assert!(
            bars(&screen).0.contains("Alerts"),
            "prod opens on its view:\n{screen}"
        );
        console.wait_until(10, "prod's mouse = true applied", Console::mouse_captured);
        console.quit();
        console.assert_terminal_restored();
    })
    .await;
    first.stop().await;
    second.stop().await;
    result.unwrap();
}

//! Where the console keeps its files, from the XDG base directory variables: the log (and the
//! gateway's run journal) in the state dir, user themes in the config dir, with the
//! `~/.local/state` and `~/.config` fallbacks.
//!
//! The only test in this binary, so changing the environment cannot race another test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use opsdeck::tui::{logging::log_dir, user_theme_dir};

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this binary runs this one test, so no other thread reads the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn the_xdg_variables_are_honoured_and_home_is_the_fallback() {
    set("HOME", Some("/home/li.wei"));

    set("XDG_STATE_HOME", Some("/var/tmp/state"));
    set("XDG_CONFIG_HOME", Some("/etc/xdg-user"));
    assert_eq!(log_dir(), PathBuf::from("/var/tmp/state/opsdeck"));
    assert_eq!(
        user_theme_dir(),
        Some(PathBuf::from("/etc/xdg-user/opsdeck/themes"))
    );

    for unset in [None, Some("")] {
        set("XDG_STATE_HOME", unset);
        set("XDG_CONFIG_HOME", unset);
        assert_eq!(
            log_dir(),
            PathBuf::from("/home/li.wei/.local/state/opsdeck"),
            "XDG_STATE_HOME={unset:?}"
        );
        assert_eq!(
            user_theme_dir(),
            Some(PathBuf::from("/home/li.wei/.config/opsdeck/themes")),
            "XDG_CONFIG_HOME={unset:?}"
        );
    }

    // The XDG spec: a relative path in these variables is invalid and is ignored.
    set("XDG_STATE_HOME", Some("state"));
    set("XDG_CONFIG_HOME", Some("config"));
    assert_eq!(
        log_dir(),
        PathBuf::from("/home/li.wei/.local/state/opsdeck")
    );
    assert_eq!(
        user_theme_dir(),
        Some(PathBuf::from("/home/li.wei/.config/opsdeck/themes"))
    );
}

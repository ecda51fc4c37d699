//! Rules of the console's architecture that the compiler does not check, as tests that fail
//! when the rule is broken, naming the file and line.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its text.
fn rust_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

fn src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

/// Text drawn in the key style that is not a key (so not in the keymap).
const NOT_KEYS: [&str; 4] = [
    // the help overlay's scroll marks
    " ↑ more ",
    " more ↓ ",
    // the rollback dialog's from → to arrow
    " → ",
    // the command line's prompt, as vim shows it whatever key opened it
    ":",
];

/// No key is written in `ui/`: a string literal drawn in the key style is a key hint that a
/// user's keymap cannot change. Hints are built by `ui::widgets::hints` from the keymap.
#[test]
fn ui_writes_no_key_in_the_key_style() {
    let pattern = "styled(";
    let mut found = Vec::new();
    for (path, text) in rust_files(&src("ui")) {
        if path.ends_with("widgets/hints.rs") {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            // The styled text and its style may be on this line or the next few.
            let Some(at) = line.find(pattern) else {
                continue;
            };
            let call: String = text.lines().skip(i).take(4).collect::<Vec<_>>().join(" ");
            let call = &call[at + pattern.len()..];
            let call = call.trim_start();
            let Some(rest) = call.strip_prefix('"') else {
                continue;
            };
            let Some(end) = rest.find('"') else {
                continue;
            };
            let (literal, after) = rest.split_at(end);
            let style = after.split(')').take(2).collect::<String>();
            if style.contains("Role::Key") && !NOT_KEYS.contains(&literal) {
                found.push(format!("{}:{}: {literal:?}", path.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "keys written in ui/ (use ui::widgets::hints):\n{}",
        found.join("\n")
    );
}

/// What each module of `src/app/` is: the shared core, a view (a group of files that belong to
/// one view), a dialog, or the router that ties them together (the aggregate `State`,
/// `update()`, key dispatch, navigation, stream and reply routing, the command line).
fn app_role(module: &str) -> (&'static str, &str) {
    match module {
        "core" | "action" | "effect" | "key" | "keymap" | "history" | "metric_history"
        | "typed_name" | "in_flight" => ("core", module),
        "alerts" | "app_view" | "logs" | "timeline" | "order" => ("view", module),
        // The Runbooks list, the parameter form, the Runs list and the Run view are one feature.
        "runbooks" | "runbook_form" | "runs" => ("view", "runbooks"),
        "dialog" | "rollback" | "alert_dialog" => ("dialog", module),
        _ => ("router", module),
    }
}

/// The `src/app/` modules a file names, with the line, from `use` paths and inline paths.
fn app_imports(path: &Path, text: &str) -> Vec<(usize, String)> {
    // In `app/logs/view.rs`, `super::` is `logs`; in `app/logs/mod.rs` it is `app`.
    let in_subdir = path.parent().is_some_and(|p| !p.ends_with("app")) && !path.ends_with("mod.rs");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let prefixes: &[&str] = if in_subdir {
            &["crate::app::", "super::super::"]
        } else {
            &["crate::app::", "super::"]
        };
        for prefix in prefixes {
            for (at, _) in code.match_indices(prefix) {
                // `super::super::x` also contains `super::x`: count it once.
                if *prefix == "super::" && code[..at].ends_with("super::") {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let inner = group.split('}').next().unwrap_or("");
                    for name in inner.split(',') {
                        let name = name.trim().split("::").next().unwrap_or("").trim();
                        if !name.is_empty() {
                            out.push((i + 1, name.to_string()));
                        }
                    }
                } else {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push((i + 1, name));
                    }
                }
            }
        }
    }
    out
}

/// The module of `src/app/` a file belongs to (`logs` for `src/app/logs/view.rs`).
fn app_module(app: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(app).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Arrows in the console core point one way: core <- dialogs <- views <- router. A view never
/// imports another view, a dialog never imports a view or another dialog, the core imports
/// neither, and views and dialogs reach the router only for the aggregate `State` they are
/// still handed (`state`), never its dispatch or navigation.
#[test]
fn app_arrows_point_one_way() {
    let app = src("app");
    let mut found = Vec::new();
    for (path, text) in rust_files(&app) {
        let module = app_module(&app, &path);
        let (role, group) = app_role(&module);
        for (line, name) in app_imports(&path, &text) {
            let (to_role, to_group) = app_role(&name);
            if to_group == group || name == "self" || name == "super" {
                continue;
            }
            let allowed = match (role, to_role) {
                ("router", _) => true,
                (_, "core") => true,
                ("view", "dialog") => true,
                ("view" | "dialog", "router") => name == "state" || name == "list_filter",
                _ => false,
            };
            if !allowed {
                found.push(format!(
                    "{}:{line}: {role} `{group}` imports {to_role} `{name}`",
                    path.display()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "arrows against the grain in src/app:\n{}",
        found.join("\n")
    );
}

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

/// What a file of `src/app/` is, by its folder: the shared core (`core/`), a view
/// (`views/`, grouped by the view it belongs to), a dialog (`dialogs/`), or the router that ties
/// them together (the files directly in `app/`: the aggregate `State`, `update()`, key dispatch,
/// navigation, stream and reply routing, the command line).
fn app_role(app: &Path, path: &Path) -> (&'static str, String) {
    let rel = path.strip_prefix(app).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.first().map(String::as_str) {
        Some("core") => ("core", "core".into()),
        Some("views") => ("view", view_group(&parts[1]).into()),
        Some("dialogs") => ("dialog", parts[1].clone()),
        _ => ("router", parts[0].clone()),
    }
}

/// The view a file of `views/` belongs to: the Runbooks list, the parameter form, the Runs list
/// and the Run view are one feature.
fn view_group(module: &str) -> &str {
    match module {
        "runbooks" | "runbook_form" | "runs" => "runbooks",
        other => other,
    }
}

/// What an import path under `crate::app::` names: (role, group).
fn import_role(path: &str) -> (&'static str, String) {
    let mut parts = path.split("::");
    let first = parts.next().unwrap_or("");
    let second = parts.next().unwrap_or("");
    match first {
        "core" => ("core", "core".into()),
        "views" => ("view", view_group(second).into()),
        "dialogs" => ("dialog", second.into()),
        other => ("router", other.into()),
    }
}

/// The module path under `app` of a file (`views::logs` for `views/logs/mod.rs`).
fn module_path(app: &Path, path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = path
        .strip_prefix(app)
        .unwrap()
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The paths under `crate::app::` a file names, with the line: written out in full, or as
/// `super::…` (resolved from where the file is).
fn app_imports(app: &Path, path: &Path, text: &str) -> Vec<(usize, String)> {
    let module = module_path(app, path);
    let parent = |up: usize| module[..module.len().saturating_sub(up)].join("::");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut starts: Vec<(usize, usize, String)> = code
            .match_indices("crate::app::")
            .map(|(at, m)| (at, m.len(), String::new()))
            .collect();
        for (at, m) in code.match_indices("super::") {
            if code[..at].ends_with("super::") {
                continue;
            }
            let len = code[at..]
                .char_indices()
                .scan(0, |seen, (j, _)| {
                    if code[at + j..].starts_with("super::") && j == *seen {
                        *seen += m.len();
                    }
                    Some(*seen)
                })
                .last()
                .unwrap_or(m.len());
            let levels = len / m.len();
            let base = parent(levels);
            let prefix = if base.is_empty() {
                base
            } else {
                format!("{base}::")
            };
            starts.push((at, len, prefix));
        }
        for (at, len, prefix) in starts {
            let rest = &code[at + len..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if let Some(group) = rest[path.len()..].strip_prefix('{') {
                // `crate::app::views::{alerts, logs}`
                let inner = group.split('}').next().unwrap_or("");
                for name in inner.split(',') {
                    let name = name.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() && name != "self" {
                        out.push((i + 1, format!("{prefix}{path}{name}")));
                    }
                }
            } else if !path.trim_end_matches(':').is_empty() {
                // (`use super::*;` in a file's own test module names nothing of the app.)
                out.push((i + 1, format!("{prefix}{}", path.trim_end_matches(':'))));
            }
        }
    }
    out
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
        let (role, group) = app_role(&app, &path);
        for (line, name) in app_imports(&app, &path, &text) {
            let (to_role, to_group) = import_role(&name);
            if to_role == role && to_group == group {
                continue;
            }
            let allowed = match (role, to_role) {
                ("router", _) => true,
                (_, "core") => true,
                ("view", "dialog") => true,
                ("view" | "dialog", "router") => to_group == "state" || to_group == "list_filter",
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

/// The fields of `State` that belong to one view, and the view group that owns each.
const VIEW_FIELDS: [(&str, &str); 7] = [
    ("overview", "overview"),
    ("app_view", "app_view"),
    ("events", "timeline"),
    ("logs", "logs"),
    ("alerts_view", "alerts"),
    ("runbooks", "runbooks"),
    ("runs", "runbooks"),
];

/// A view reads and changes its own fields and the core, never another view's fields; a dialog
/// touches no view's fields (what it needs it is handed, or the router does).
#[test]
fn views_and_dialogs_keep_out_of_other_views_fields() {
    let app = src("app");
    let mut found = Vec::new();
    for (path, text) in rust_files(&app) {
        let (role, group) = app_role(&app, &path);
        if role != "view" && role != "dialog" {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (field, owner) in VIEW_FIELDS {
                let touches = code
                    .match_indices(&format!("state.{field}"))
                    .any(|(at, m)| {
                        let next = code[at + m.len()..].chars().next();
                        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                if touches && owner != group {
                    found.push(format!(
                        "{}:{}: {role} `{group}` touches `state.{field}` of view `{owner}`",
                        path.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "fields reached across views in src/app:\n{}",
        found.join("\n")
    );
}

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

//! Architecture rules that can fail: which module may reach which, checked on the source text.
//! One `#[test]` per rule; each reads the files it governs with [`rust_files`] and fails naming
//! every file and line that breaks it. Add a rule as another test built from the same pieces.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use regex::Regex;

/// Every `.rs` file under `dir` (relative to the package root), with its text, sorted by path.
fn rust_files(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pending = vec![root.join(dir)];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                files.push((shown, text));
            }
        }
    }
    assert!(!files.is_empty(), "no Rust files under {dir}");
    files.sort();
    files
}

/// The code of a source: each line numbered from 1 with its `//` comment (doc comments too)
/// cut off, so prose may name anything.
fn code_lines(source: &str) -> Vec<(usize, &str)> {
    source
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.find("//").map_or(line, |at| &line[..at])))
        .collect()
}

/// A `use` declaration joined onto one line, with the lines it spans.
struct UseDeclaration {
    first: usize,
    last: usize,
    text: String,
}

/// The `use` declarations of a source.
fn use_declarations(source: &str) -> Vec<UseDeclaration> {
    let use_start = Regex::new(r"^\s*(pub(\([^)]*\))?\s+)?use\s").unwrap();
    let mut uses = Vec::new();
    let mut open: Option<UseDeclaration> = None;
    for (n, code) in code_lines(source) {
        if open.is_none() && use_start.is_match(code) {
            open = Some(UseDeclaration {
                first: n,
                last: n,
                text: String::new(),
            });
        }
        if let Some(decl) = &mut open {
            decl.text.push_str(code.trim());
            decl.text.push(' ');
            decl.last = n;
            if code.contains(';')
                && let Some(done) = open.take()
            {
                uses.push(done);
            }
        }
    }
    uses
}

/// `file:line: text` for every place in `files` where a `use` declaration matches `in_use`, or
/// any code matches `in_code`.
fn offences(files: &[(PathBuf, String)], in_use: &Regex, in_code: &Regex) -> Vec<String> {
    let mut found = Vec::new();
    for (path, source) in files {
        let uses = use_declarations(source);
        for decl in &uses {
            if in_use.is_match(&decl.text) {
                let (line, text) = (decl.first, decl.text.trim());
                found.push(format!("{}:{line}: {text}", path.display()));
            }
        }
        for (line, code) in code_lines(source) {
            let in_a_use = uses.iter().any(|d| (d.first..=d.last).contains(&line));
            if !in_a_use && in_code.is_match(code) {
                found.push(format!("{}:{line}: {}", path.display(), code.trim()));
            }
        }
    }
    found
}

fn assert_no_offences(rule: &str, found: &[String]) {
    assert!(found.is_empty(), "{rule}:\n  {}", found.join("\n  "));
}

/// A `use` naming the `routes` module, however it is reached (`crate::gateway::routes`,
/// `super::routes`, `super::super::routes`, `gateway::{routes, ..}`).
fn routes_in_use() -> Regex {
    Regex::new(r"\broutes\b").unwrap()
}

/// A path through the `routes` module in code (`routes::start_scale(..)`).
fn routes_in_code() -> Regex {
    Regex::new(r"\broutes\s*::").unwrap()
}

#[test]
fn the_runbook_engine_and_the_actions_layer_do_not_reach_into_http_routes() {
    let mut files = rust_files("src/gateway/runs");
    files.extend(rust_files("src/gateway/actions"));
    let found = offences(&files, &routes_in_use(), &routes_in_code());
    assert_no_offences(
        "gateway/runs and gateway/actions must not use gateway::routes (HTTP handlers); \
         call gateway::actions instead",
        &found,
    );
}

#[test]
fn the_actions_layer_does_not_know_http() {
    let files = rust_files("src/gateway/actions");
    let http = Regex::new(r"\b(axum|hyper|ApiError|StatusCode|HeaderMap)\b").unwrap();
    let found = offences(&files, &http, &http);
    assert_no_offences(
        "gateway/actions takes typed requests and answers typed errors; HTTP (axum, status \
         codes, headers, ApiError) belongs to routes and runs::api",
        &found,
    );
}

/// The rules above would catch what they are meant to catch.
#[test]
fn the_checks_find_routes_however_they_are_reached() {
    let sample = "//! Not `routes::x`: a comment.\n\
                  use std::sync::Arc;\n\
                  use crate::gateway::{\n    Gateway,\n    routes::start_scale,\n};\n\
                  use super::super::routes::start_scale;\n\
                  fn f() { let a = 1; }\n\
                  fn g() { crate::gateway::routes::parse_body(b\"\"); }\n";
    let files = vec![(PathBuf::from("sample.rs"), sample.to_string())];
    let found = offences(&files, &routes_in_use(), &routes_in_code());
    assert_eq!(
        found,
        vec![
            "sample.rs:3: use crate::gateway::{ Gateway, routes::start_scale, };",
            "sample.rs:7: use super::super::routes::start_scale;",
            "sample.rs:9: fn g() { crate::gateway::routes::parse_body(b\"\"); }",
        ]
    );
}

//! The runbooks a gateway offers: the shipped ones built into the binary, then every `*.toml` in
//! the configured folders. A file whose id matches a shipped runbook replaces it; a file that
//! does not validate is kept as a [`Problem`] (listed with its error, never runnable) and also
//! hides any runbook with the same id, so a broken edit never silently runs a stale version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Runbook, parse_runbook};
use crate::protocol::RunbookSummary;

/// The shipped runbooks: (file name, text). Compiled in so `opsdeck serve` has them anywhere.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "runbooks/flash-sale-spike.toml",
        include_str!("../../runbooks/flash-sale-spike.toml"),
    ),
    (
        "runbooks/bad-release.toml",
        include_str!("../../runbooks/bad-release.toml"),
    ),
    (
        "runbooks/cache-degradation.toml",
        include_str!("../../runbooks/cache-degradation.toml"),
    ),
    (
        "runbooks/az-outage.toml",
        include_str!("../../runbooks/az-outage.toml"),
    ),
    (
        "runbooks/memory-leak.toml",
        include_str!("../../runbooks/memory-leak.toml"),
    ),
];

/// A runbook file that could not be used.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The id the file declares if it can be read, else its file stem.
    pub id: String,
    pub source: String,
    pub error: String,
}

/// Loaded runbooks by id, and the files that failed.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    runbooks: BTreeMap<String, Arc<Runbook>>,
    problems: Vec<Problem>,
}

impl Catalog {
    /// The shipped runbooks, then the folders in order.
    pub fn load(dirs: &[PathBuf]) -> Catalog {
        let mut catalog = Catalog::default();
        for (file, text) in EMBEDDED {
            match parse_runbook(file, text) {
                Ok(mut runbook) => {
                    runbook.source = "embedded".into();
                    catalog
                        .runbooks
                        .insert(runbook.id.clone(), Arc::new(runbook));
                }
                // Shipped runbooks are tested; this would be a bug, so say it loudly.
                Err(err) => catalog.problem(file, text, err.to_string()),
            }
        }
        let mut from_files: BTreeMap<String, String> = BTreeMap::new();
        for dir in dirs {
            for path in toml_files(dir, &mut catalog) {
                let file = path.display().to_string();
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(err) => {
                        catalog.problem(&file, "", format!("{file}: cannot read: {err}"));
                        continue;
                    }
                };
                match parse_runbook(&file, &text) {
                    Ok(runbook) => {
                        if let Some(first) = from_files.get(&runbook.id) {
                            let message = format!(
                                "{file}:1:1: runbook id `{}` is already defined in {first}",
                                runbook.id
                            );
                            catalog.problem(&file, &text, message);
                            continue;
                        }
                        from_files.insert(runbook.id.clone(), file);
                        catalog
                            .runbooks
                            .insert(runbook.id.clone(), Arc::new(runbook));
                    }
                    Err(err) => catalog.problem(&file, &text, err.to_string()),
                }
            }
        }
        for p in &catalog.problems {
            tracing::warn!(runbook = %p.id, error = %p.error, "runbook not loaded");
        }
        catalog
    }

    /// A catalog of exactly these texts (file name, text), for tests and tools.
    pub fn from_texts(texts: &[(&str, &str)]) -> Catalog {
        let mut catalog = Catalog::default();
        for (file, text) in texts {
            match parse_runbook(file, text) {
                Ok(runbook) => {
                    catalog
                        .runbooks
                        .insert(runbook.id.clone(), Arc::new(runbook));
                }
                Err(err) => catalog.problem(file, text, err.to_string()),
            }
        }
        catalog
    }

    fn problem(&mut self, file: &str, text: &str, error: String) {
        let id = declared_id(text).unwrap_or_else(|| {
            Path::new(file)
                .file_stem()
                .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned())
        });
        // A broken file hides the runbook it was meant to define.
        self.runbooks.remove(&id);
        self.problems.push(Problem {
            id,
            source: file.to_string(),
            error,
        });
    }

    pub fn get(&self, id: &str) -> Option<Arc<Runbook>> {
        self.runbooks.get(id).cloned()
    }

    /// The problem recorded for `id`, if its file failed.
    pub fn problem_of(&self, id: &str) -> Option<&Problem> {
        self.problems.iter().rev().find(|p| p.id == id)
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Runnable runbooks by id, then the problems.
    pub fn summaries(&self) -> Vec<RunbookSummary> {
        let mut out: Vec<RunbookSummary> = self.runbooks.values().map(|r| r.summary()).collect();
        out.extend(self.problems.iter().map(|p| RunbookSummary {
            id: p.id.clone(),
            title: String::new(),
            description: String::new(),
            source: p.source.clone(),
            params: Vec::new(),
            steps: 0,
            error: Some(p.error.clone()),
        }));
        out
    }
}

/// `*.toml` files directly in `dir`, sorted; an unreadable folder is recorded as a problem.
fn toml_files(dir: &Path, catalog: &mut Catalog) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            let name = dir.display().to_string();
            catalog.problems.push(Problem {
                id: name.clone(),
                source: name.clone(),
                error: format!("{name}: cannot read the runbook folder: {err}"),
            });
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    files
}

/// The `id = "..."` a file declares, if its TOML can be read at all.
fn declared_id(text: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(text).ok()?;
    table.get("id")?.as_str().map(str::to_string)
}

//! Runbooks: incident procedures (应急预案) as TOML files that the gateway executes step by step.
//!
//! This module is pure — parsing and validation with file:line errors (`validate`), typed
//! parameters and `{{name}}` substitution (`params`), metric conditions (`condition`), step
//! kinds and their resolution (`step`), dry-run plans (`plan`) and the set of loaded runbooks
//! (`catalog`). It reads files but knows nothing of tokio, HTTP or the platform; the engine that
//! runs them lives in `gateway::runs`. docs/runbooks.md is the reference for the format.

mod catalog;
mod condition;
mod format;
mod params;
mod plan;
mod step;
mod validate;

pub use catalog::{Catalog, EMBEDDED, Problem};
pub use condition::{Condition, Evaluation, Observation};
pub use params::{ParamKind, ParamSpec, Params, placeholders, substitute};
pub use plan::{AppSnapshot, plan};
pub use step::{
    Action, AfterFallback, OnFailure, ReplicaTarget, ResolvedStep, StepKind, StepSpec, format_secs,
};
pub use validate::{RunbookError, line_column, parse_runbook};

use crate::protocol::{ParamInfo, RunbookDetail, RunbookSummary, StepInfo};

/// A runbook that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ParamSpec>,
    pub steps: Vec<StepSpec>,
    /// Steps that run only when a failing step names them.
    pub fallbacks: Vec<StepSpec>,
    /// `embedded` or the file's path.
    pub source: String,
    pub text: String,
}

impl Runbook {
    /// Main steps, then fallbacks: the order of a run's step list.
    pub fn all_steps(&self) -> impl Iterator<Item = &StepSpec> {
        self.steps.iter().chain(&self.fallbacks)
    }

    /// Every step with `params` filled in, main steps first. Fails only on values that the
    /// stand-in check at load time could not foresee (e.g. a string parameter that makes a
    /// condition unparseable).
    pub fn resolve(&self, params: &Params) -> Result<Vec<ResolvedStep>, String> {
        self.all_steps()
            .map(|s| {
                s.resolve(params)
                    .map_err(|e| format!("step `{}`: {}: {}", s.id, e.field, e.message))
            })
            .collect()
    }

    pub fn summary(&self) -> RunbookSummary {
        RunbookSummary {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            source: self.source.clone(),
            params: self
                .params
                .iter()
                .map(|p| ParamInfo {
                    name: p.name.clone(),
                    kind: p.kind.as_str().to_string(),
                    default: p.default.clone(),
                    description: p.description.clone(),
                    required: p.default.is_none(),
                })
                .collect(),
            steps: self.steps.len(),
            error: None,
        }
    }

    pub fn detail(&self) -> RunbookDetail {
        RunbookDetail {
            summary: self.summary(),
            step_list: self
                .all_steps()
                .map(|s| StepInfo {
                    id: s.id.clone(),
                    kind: s.kind.name().to_string(),
                    summary: s.summary(),
                    on_failure: s.on_failure.to_string(),
                    timeout_secs: s
                        .resolve(&Params::samples(&self.params))
                        .ok()
                        .and_then(|r| r.timeout_secs),
                    retries: s.retries,
                    fallback: s.fallback,
                })
                .collect(),
            text: self.text.clone(),
        }
    }
}

#[cfg(test)]
mod tests;

//! Loading a runbook file: TOML syntax, then every rule a runbook must follow, each failure
//! reported as `file:line:column: message` pointing at the offending value. A runbook that loads
//! has every template resolvable and every condition parsed, so it cannot fail half-way through
//! for a reason visible in the file.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::Runbook;
use super::format::{RawParam, RawRunbook, RawStep};
use super::params::{ParamKind, ParamSpec, Params, placeholders};
use super::step::{AfterFallback, COMMON_FIELDS, Field, OnFailure, StepKind, StepSpec};

/// Why a runbook file cannot be used, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RunbookError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Most retries a step may ask for.
pub const MAX_RETRIES: i64 = 10;

/// Where the errors of one file are reported.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> RunbookError {
        let (line, column) = line_column(self.text, span.start);
        RunbookError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parse and validate the runbook in `text`; `file` names it in errors and in `source`.
pub fn parse_runbook(file: &str, text: &str) -> Result<Runbook, RunbookError> {
    let src = Source { file, text };
    let raw: RawRunbook = toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        src.error(span, err.message().trim().to_string())
    })?;

    let id = raw
        .id
        .ok_or_else(|| src.error(0..0, "the runbook needs an `id`, e.g. id = \"bad-release\""))?;
    if !is_slug(id.get_ref()) {
        return Err(src.error(
            id.span(),
            format!(
                "runbook id `{}` must be lowercase letters, digits and dashes, e.g. \"bad-release\"",
                id.get_ref()
            ),
        ));
    }

    let params = params(&src, raw.params)?;
    if raw.steps.is_empty() {
        return Err(src.error(
            0..0,
            "the runbook has no steps: add at least one [[steps]] table",
        ));
    }
    let mut ids: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut steps = Vec::with_capacity(raw.steps.len());
    for raw_step in raw.steps {
        steps.push(step(&src, raw_step, false, &params, &mut ids)?);
    }
    let mut fallbacks = Vec::with_capacity(raw.fallbacks.len());
    for raw_step in raw.fallbacks {
        fallbacks.push(step(&src, raw_step, true, &params, &mut ids)?);
    }
    for s in steps.iter().chain(&fallbacks) {
        check_fallbacks(&src, s, &fallbacks)?;
    }

    Ok(Runbook {
        id: id.into_inner(),
        title: raw.title.map(Spanned::into_inner).unwrap_or_default(),
        description: raw
            .description
            .map(Spanned::into_inner)
            .unwrap_or_default()
            .trim()
            .to_string(),
        params,
        steps,
        fallbacks,
        source: file.to_string(),
        text: text.to_string(),
    })
}

fn is_slug(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn params(
    src: &Source,
    raw: BTreeMap<String, Spanned<RawParam>>,
) -> Result<Vec<ParamSpec>, RunbookError> {
    let mut raw: Vec<(String, Spanned<RawParam>)> = raw.into_iter().collect();
    // In file order, not alphabetical.
    raw.sort_by_key(|(_, p)| p.span().start);
    let mut out = Vec::with_capacity(raw.len());
    for (name, p) in raw {
        let span = p.span();
        let p = p.into_inner();
        let ident = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ident {
            return Err(src.error(
                span,
                format!("parameter name `{name}` must be lowercase letters, digits and `_`"),
            ));
        }
        let kind_field = p.kind.ok_or_else(|| {
            src.error(
                span.clone(),
                format!("parameter `{name}` needs a `type`: one of {}", kinds_list()),
            )
        })?;
        let kind = ParamKind::parse(kind_field.get_ref()).ok_or_else(|| {
            src.error(
                kind_field.span(),
                format!(
                    "parameter `{name}` has unknown type `{}`; use one of {}",
                    kind_field.get_ref(),
                    kinds_list()
                ),
            )
        })?;
        for bound in [&p.min, &p.max].into_iter().flatten() {
            if kind != ParamKind::Integer {
                return Err(src.error(
                    bound.span(),
                    format!("parameter `{name}`: min and max apply only to integers"),
                ));
            }
        }
        let mut spec = ParamSpec {
            name: name.clone(),
            kind,
            default: None,
            description: p.description.map(Spanned::into_inner).unwrap_or_default(),
            min: p.min.map(Spanned::into_inner),
            max: p.max.map(Spanned::into_inner),
        };
        if let Some(default) = p.default {
            let json = match default.get_ref() {
                toml::Value::String(s) => serde_json::Value::from(s.as_str()),
                toml::Value::Integer(i) => serde_json::Value::from(*i),
                toml::Value::Float(f) => serde_json::Value::from(*f),
                _ => {
                    return Err(src.error(
                        default.span(),
                        format!("parameter `{name}`: default must be a string or a number"),
                    ));
                }
            };
            let checked = spec
                .check(&json)
                .map_err(|e| src.error(default.span(), format!("default: {e}")))?;
            spec.default = Some(checked);
        }
        out.push(spec);
    }
    Ok(out)
}

fn kinds_list() -> String {
    ParamKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The raw step's kind-specific keys that are present, as (name, text, span).
fn present_fields(src: &Source, s: &RawStep) -> Result<Vec<(&'static str, Field)>, RunbookError> {
    let text = |v: &Option<Spanned<String>>| {
        v.as_ref().map(|v| Field {
            text: v.get_ref().clone(),
            span: v.span(),
        })
    };
    let mut out: Vec<(&'static str, Option<Field>)> = vec![
        ("app", text(&s.app)),
        ("to", text(&s.to)),
        ("condition", text(&s.condition)),
        ("for", text(&s.hold)),
        ("url", text(&s.url)),
        ("expect_body", text(&s.expect_body)),
        ("message", text(&s.message)),
        ("rule", text(&s.rule)),
        ("duration", text(&s.duration)),
        ("comment", text(&s.comment)),
        ("timeout", text(&s.timeout)),
        ("backoff", text(&s.backoff)),
    ];
    if let Some(r) = &s.replicas {
        let value = match r.get_ref() {
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::String(s) => s.clone(),
            other => {
                return Err(src.error(
                    r.span(),
                    format!(
                        "replicas must be a count (6) or a string such as \"+50%\" or \"max\", \
                         got a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        out.push((
            "replicas",
            Some(Field {
                text: value,
                span: r.span(),
            }),
        ));
    }
    out.push((
        "wait",
        s.wait.as_ref().map(|w| Field {
            text: w.get_ref().to_string(),
            span: w.span(),
        }),
    ));
    out.push((
        "four_eyes",
        s.four_eyes.as_ref().map(|w| Field {
            text: w.get_ref().to_string(),
            span: w.span(),
        }),
    ));
    out.push((
        "expect_status",
        s.expect_status.as_ref().map(|w| Field {
            text: w.get_ref().to_string(),
            span: w.span(),
        }),
    ));
    Ok(out
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}

fn step(
    src: &Source,
    raw: Spanned<RawStep>,
    fallback: bool,
    params: &[ParamSpec],
    ids: &mut BTreeMap<String, Range<usize>>,
) -> Result<StepSpec, RunbookError> {
    let span = raw.span();
    let section = if fallback {
        "[[fallbacks]]"
    } else {
        "[[steps]]"
    };
    let s = raw.into_inner();
    let id =
        s.id.as_ref()
            .ok_or_else(|| src.error(span.clone(), format!("a {section} entry needs an `id`")))?;
    if !is_slug(id.get_ref()) {
        return Err(src.error(
            id.span(),
            format!(
                "step id `{}` must be lowercase letters, digits, `-` and `_`",
                id.get_ref()
            ),
        ));
    }
    let step_id = id.get_ref().clone();
    if let Some(first) = ids.get(&step_id) {
        let (line, _) = line_column(src.text, first.start);
        return Err(src.error(
            id.span(),
            format!("duplicate step id `{step_id}` (first used on line {line})"),
        ));
    }
    ids.insert(step_id.clone(), id.span());
    let at = |span: Range<usize>, message: String| {
        src.error(span, format!("step `{step_id}`: {message}"))
    };

    let kind_field = s
        .kind
        .as_ref()
        .ok_or_else(|| at(span.clone(), "needs a `kind`".into()))?;
    let kind = StepKind::parse(kind_field.get_ref()).ok_or_else(|| {
        at(
            kind_field.span(),
            format!(
                "unknown step kind `{}`; known kinds: {}",
                kind_field.get_ref(),
                StepKind::ALL
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;

    let fields = present_fields(src, &s)?;
    for (name, field) in &fields {
        let allowed = COMMON_FIELDS.contains(name)
            || kind.required().contains(name)
            || kind.optional().contains(name);
        if !allowed {
            return Err(at(
                field.span.clone(),
                format!("`{name}` does not apply to a `{}` step", kind.name()),
            ));
        }
    }
    for name in kind.required() {
        if !fields.iter().any(|(k, _)| k == name) {
            return Err(at(
                span.clone(),
                format!("a `{}` step needs `{name}`", kind.name()),
            ));
        }
    }

    let title = s.title.as_ref().map(|t| Field {
        text: t.get_ref().clone(),
        span: t.span(),
    });
    for field in fields.iter().map(|(_, f)| f).chain(&title) {
        check_references(src, &step_id, field, params)?;
    }

    let retries = match &s.retries {
        None => 0,
        Some(r) => u32::try_from(*r.get_ref())
            .ok()
            .filter(|n| i64::from(*n) <= MAX_RETRIES)
            .ok_or_else(|| {
                at(
                    r.span(),
                    format!(
                        "retries must be between 0 and {MAX_RETRIES}, got {}",
                        r.get_ref()
                    ),
                )
            })?,
    };
    let on_failure = match &s.on_failure {
        None => OnFailure::Abort,
        Some(v) => on_failure(v).map_err(|m| at(v.span(), m))?,
    };
    if fallback && matches!(on_failure, OnFailure::Fallback { .. }) {
        let span = s.on_failure.as_ref().map_or(span.clone(), |v| v.span());
        return Err(at(
            span,
            "fallback steps cannot have fallbacks of their own; use \"abort\" or \"continue\""
                .into(),
        ));
    }

    let spec = StepSpec {
        id: step_id.clone(),
        kind,
        title: title.map(|t| t.text).unwrap_or_default(),
        fields: fields.into_iter().collect(),
        retries,
        on_failure,
        on_failure_span: s.on_failure.as_ref().map_or(span.clone(), |v| v.span()),
        fallback,
        span: span.clone(),
    };
    // Resolve once with stand-in values: bad durations, conditions and replica counts show up
    // now, at the line that holds them.
    if let Err(err) = spec.resolve(&Params::samples(params)) {
        let field = spec.fields.get(err.field);
        // A value built from a free-text parameter can only be judged with the real value,
        // when the run starts (and is refused then, before anything runs).
        let free_text = field.is_some_and(|f| {
            placeholders(&f.text).is_ok_and(|found| {
                found.iter().any(|p| {
                    params
                        .iter()
                        .any(|s| s.name == p.name && s.kind == ParamKind::String)
                })
            })
        });
        if !free_text {
            let field_span = field.map_or(span, |f| f.span.clone());
            return Err(at(field_span, err.message));
        }
    }
    Ok(spec)
}

/// Every `{{name}}` in `field` must be a declared parameter.
fn check_references(
    src: &Source,
    step: &str,
    field: &Field,
    params: &[ParamSpec],
) -> Result<(), RunbookError> {
    let found = placeholders(&field.text)
        .map_err(|e| src.error(field.span.clone(), format!("step `{step}`: {e}")))?;
    for p in found {
        if !params.iter().any(|s| s.name == p.name) {
            let defined = if params.is_empty() {
                "this runbook defines no parameters".to_string()
            } else {
                format!(
                    "this runbook defines {}",
                    params
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(src.error(
                field.span.clone(),
                format!(
                    "step `{step}`: unknown parameter `{{{{{}}}}}`; {defined}",
                    p.name
                ),
            ));
        }
    }
    Ok(())
}

fn on_failure(value: &Spanned<toml::Value>) -> Result<OnFailure, String> {
    let usage = "on_failure must be \"abort\", \"continue\" or { fallback = [\"step-id\", ...], \
                 then = \"stop\" | \"continue\" }";
    match value.get_ref() {
        toml::Value::String(s) => match s.as_str() {
            "abort" => Ok(OnFailure::Abort),
            "continue" => Ok(OnFailure::Continue),
            "fallback" => Err(format!(
                "name the fallback steps: on_failure = {{ fallback = [\"step-id\"] }}; {usage}"
            )),
            other => Err(format!("unknown on_failure `{other}`; {usage}")),
        },
        toml::Value::Table(table) => {
            if let Some(key) = table.keys().find(|k| *k != "fallback" && *k != "then") {
                return Err(format!("unknown key `{key}` in on_failure; {usage}"));
            }
            let steps = match table.get("fallback") {
                Some(toml::Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("fallback must list step ids as strings; {usage}"))?,
                _ => {
                    return Err(format!(
                        "on_failure needs a non-empty `fallback` list; {usage}"
                    ));
                }
            };
            let then = match table.get("then").map(|t| t.as_str()) {
                None | Some(Some("stop")) => AfterFallback::Stop,
                Some(Some("continue")) => AfterFallback::Continue,
                Some(_) => return Err(format!("then must be \"stop\" or \"continue\"; {usage}")),
            };
            Ok(OnFailure::Fallback { steps, then })
        }
        _ => Err(usage.to_string()),
    }
}

/// Every fallback a step names must be defined under `[[fallbacks]]`.
fn check_fallbacks(
    src: &Source,
    step: &StepSpec,
    fallbacks: &[StepSpec],
) -> Result<(), RunbookError> {
    let OnFailure::Fallback { steps, .. } = &step.on_failure else {
        return Ok(());
    };
    for name in steps {
        if !fallbacks.iter().any(|f| &f.id == name) {
            let defined = if fallbacks.is_empty() {
                "this runbook defines no [[fallbacks]]".to_string()
            } else {
                format!(
                    "[[fallbacks]] defines {}",
                    fallbacks
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(src.error(
                step.on_failure_span.clone(),
                format!(
                    "step `{}`: fallback step `{name}` does not exist; {defined}",
                    step.id
                ),
            ));
        }
    }
    Ok(())
}

//! The runbook parameter form: one typed field per parameter, checked as it is typed so that a
//! bad integer, duration, percentage or an unknown app can never be submitted.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::app::core::effect::RequestId;
use crate::protocol::{ParamInfo, RunStatus, RunbookDetail, parse_duration_secs};

/// Longest value a field accepts, characters.
const MAX_INPUT: usize = 200;

/// Where the operator is in the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormStep {
    /// Waiting for GET /v1/runbooks/{id}.
    Loading,
    /// Editing the parameters; Enter asks for a dry run.
    Edit,
    /// The dry run was sent.
    DryRunning { request_id: RequestId },
    /// The dry run's plan is shown; `r` offers the real run.
    Plan,
}

/// Why a field's value cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamProblem {
    Required,
    NotInteger,
    NotDuration,
    NotPercent,
    UnknownApp(String),
}

impl fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamProblem::Required => f.write_str("required"),
            ParamProblem::NotInteger => f.write_str("not a whole number"),
            ParamProblem::NotDuration => f.write_str("not a duration (90s, 5m, 2h, 1d)"),
            ParamProblem::NotPercent => f.write_str("not a percentage (50 or 50%)"),
            ParamProblem::UnknownApp(app) => write!(f, "no app {app:?}"),
        }
    }
}

/// One parameter and its value as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamField {
    pub info: ParamInfo,
    pub input: String,
}

impl ParamField {
    pub fn new(info: ParamInfo) -> Self {
        let input = match &info.default {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        ParamField { info, input }
    }

    /// The value to send (`None`: leave it to the default), or why it cannot be sent.
    pub fn value(&self, known_app: &dyn Fn(&str) -> bool) -> Result<Option<Value>, ParamProblem> {
        let text = self.input.trim();
        if text.is_empty() {
            return if self.info.required {
                Err(ParamProblem::Required)
            } else {
                Ok(None)
            };
        }
        let value = match self.info.kind.as_str() {
            "integer" => Value::from(text.parse::<i64>().map_err(|_| ParamProblem::NotInteger)?),
            "duration" => {
                parse_duration_secs(text).ok_or(ParamProblem::NotDuration)?;
                Value::from(text)
            }
            "percent" => {
                let number = text.strip_suffix('%').unwrap_or(text).trim();
                match number.parse::<f64>() {
                    Ok(n) if n.is_finite() => Value::from(format!("{number}%")),
                    _ => return Err(ParamProblem::NotPercent),
                }
            }
            "app" if !known_app(text) => return Err(ParamProblem::UnknownApp(text.to_string())),
            _ => Value::from(text),
        };
        Ok(Some(value))
    }
}

/// The form for one runbook, then its dry-run plan.
#[derive(Clone, Debug, PartialEq)]
pub struct RunbookForm {
    pub runbook: String,
    /// `None` until GET /v1/runbooks/{id} answers.
    pub detail: Option<Box<RunbookDetail>>,
    pub fields: Vec<ParamField>,
    /// The focused field.
    pub focus: usize,
    pub step: FormStep,
    /// The last dry run's answer, with the parameters it was asked with.
    pub plan: Option<Box<RunStatus>>,
    pub planned: BTreeMap<String, Value>,
    /// The app an alert asked for, filled into the first `app` parameter.
    pub prefill_app: Option<String>,
    /// Why the last try failed (a refused run, a failed dry run, a field to fix).
    pub failure: Option<String>,
    /// Sent with every try of the real run, so the gateway starts it once.
    pub idempotency_key: String,
    /// The parameters last sent for real with `idempotency_key`; others need a new key.
    pub sent: Option<BTreeMap<String, Value>>,
    /// Index into the completion candidates of an `app` field (Ctrl-n cycles).
    pub completion: usize,
    /// First row of the plan shown, when it is taller than the screen.
    pub plan_scroll: usize,
    pub(crate) detail_request: Option<RequestId>,
}

impl RunbookForm {
    pub fn new(runbook: String, prefill_app: Option<String>, idempotency_key: String) -> Self {
        RunbookForm {
            runbook,
            detail: None,
            fields: Vec::new(),
            focus: 0,
            step: FormStep::Loading,
            plan: None,
            planned: BTreeMap::new(),
            prefill_app,
            failure: None,
            idempotency_key,
            sent: None,
            completion: 0,
            plan_scroll: 0,
            detail_request: None,
        }
    }

    /// The runbook's description arrived: one field per parameter, defaults and the alert's
    /// app filled in.
    pub fn load(&mut self, detail: RunbookDetail) {
        self.fields = detail
            .summary
            .params
            .iter()
            .cloned()
            .map(ParamField::new)
            .collect();
        if let Some(app) = &self.prefill_app
            && let Some(field) = self.fields.iter_mut().find(|f| f.info.kind == "app")
        {
            field.input = app.clone();
        }
        self.focus = 0;
        self.detail = Some(Box::new(detail));
        self.step = FormStep::Edit;
    }

    /// Every field's value, or the first field that is wrong (index, problem).
    pub fn values(
        &self,
        known_app: &dyn Fn(&str) -> bool,
    ) -> Result<BTreeMap<String, Value>, (usize, ParamProblem)> {
        let mut out = BTreeMap::new();
        for (i, f) in self.fields.iter().enumerate() {
            if let Some(v) = f.value(known_app).map_err(|p| (i, p))? {
                out.insert(f.info.name.clone(), v);
            }
        }
        Ok(out)
    }

    pub fn focused(&self) -> Option<&ParamField> {
        self.fields.get(self.focus)
    }

    pub fn move_focus(&mut self, delta: isize) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let next = (self.focus as isize + delta).rem_euclid(n as isize);
        self.focus = usize::try_from(next).unwrap_or(0);
        self.completion = 0;
    }

    pub fn push_char(&mut self, c: char) {
        if let Some(f) = self.fields.get_mut(self.focus)
            && f.input.chars().count() < MAX_INPUT
        {
            f.input.push(c);
            self.completion = 0;
            self.failure = None;
        }
    }

    pub fn delete_char(&mut self) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.input.pop();
            self.completion = 0;
            self.failure = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: &str, input: &str) -> ParamField {
        ParamField {
            info: ParamInfo {
                name: "p".into(),
                kind: kind.into(),
                default: None,
                description: String::new(),
                required: true,
            },
            input: input.into(),
        }
    }

    #[test]
    fn values_are_checked_by_type() {
        let known = |a: &str| a == "shop-cart";
        let v = |k: &str, i: &str| field(k, i).value(&known);
        assert_eq!(v("integer", "24"), Ok(Some(Value::from(24))));
        assert_eq!(v("integer", "2x"), Err(ParamProblem::NotInteger));
        assert_eq!(v("duration", "5m"), Ok(Some(Value::from("5m"))));
        assert_eq!(v("duration", "5 parsecs"), Err(ParamProblem::NotDuration));
        assert_eq!(v("percent", "50"), Ok(Some(Value::from("50%"))));
        assert_eq!(v("percent", "x%"), Err(ParamProblem::NotPercent));
        assert_eq!(v("app", "shop-cart"), Ok(Some(Value::from("shop-cart"))));
        assert_eq!(
            v("app", "nope"),
            Err(ParamProblem::UnknownApp("nope".into()))
        );
        assert_eq!(v("string", ""), Err(ParamProblem::Required));
    }
}

//! Typed runbook parameters and `{{name}}` substitution. A run's parameters are checked against
//! their types before anything runs, so a bad value is a 422, never a half-run.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::protocol::parse_duration_secs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Any text.
    String,
    /// An app id; the gateway checks that the platform knows it when a run starts.
    App,
    /// A whole number, optionally within `min..=max`.
    Integer,
    /// A release id such as `r-41`.
    Release,
    /// A duration such as `90s`, `5m`, `2h`.
    Duration,
    /// A percentage such as `50%`.
    Percent,
}

impl ParamKind {
    pub const ALL: [ParamKind; 6] = [
        ParamKind::String,
        ParamKind::App,
        ParamKind::Integer,
        ParamKind::Release,
        ParamKind::Duration,
        ParamKind::Percent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::App => "app",
            ParamKind::Integer => "integer",
            ParamKind::Release => "release",
            ParamKind::Duration => "duration",
            ParamKind::Percent => "percent",
        }
    }

    pub fn parse(name: &str) -> Option<ParamKind> {
        ParamKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A stand-in value of this type, to validate templates at load time.
    pub fn sample(self) -> Value {
        match self {
            ParamKind::String => Value::from("text"),
            ParamKind::App => Value::from("app"),
            ParamKind::Integer => Value::from(1),
            ParamKind::Release => Value::from("r-1"),
            ParamKind::Duration => Value::from("1m"),
            ParamKind::Percent => Value::from("50%"),
        }
    }
}

/// A parameter as declared under `[params.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    pub default: Option<Value>,
    pub description: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl ParamSpec {
    /// Check `value` against this parameter's type; returns it normalised (`50` -> `"50%"` for
    /// a percent, `"4"` -> `4` for an integer).
    pub fn check(&self, value: &Value) -> Result<Value, String> {
        let name = &self.name;
        match self.kind {
            ParamKind::String | ParamKind::App | ParamKind::Release => match value {
                Value::String(s) if !s.trim().is_empty() => Ok(Value::from(s.trim())),
                _ => Err(format!(
                    "parameter `{name}` must be a non-empty string ({}), got {value}",
                    self.kind.as_str()
                )),
            },
            ParamKind::Integer => {
                let n = match value {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("parameter `{name}` must be an integer, got {value}"))?;
                if self.min.is_some_and(|min| n < min) || self.max.is_some_and(|max| n > max) {
                    return Err(format!(
                        "parameter `{name}` must be between {} and {}, got {n}",
                        self.min.map_or("-∞".into(), |v| v.to_string()),
                        self.max.map_or("∞".into(), |v| v.to_string()),
                    ));
                }
                Ok(Value::from(n))
            }
            ParamKind::Duration => match value {
                Value::String(s) if parse_duration_secs(s).is_some() => Ok(Value::from(s.trim())),
                _ => Err(format!(
                    "parameter `{name}` must be a duration such as \"90s\", \"5m\" or \"2h\", got {value}"
                )),
            },
            ParamKind::Percent => {
                let pct = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s
                        .trim()
                        .strip_suffix('%')
                        .and_then(|n| n.trim().parse().ok()),
                    _ => None,
                }
                .filter(|p: &f64| p.is_finite())
                .ok_or_else(|| {
                    format!("parameter `{name}` must be a percentage such as \"50%\", got {value}")
                })?;
                Ok(Value::from(format!("{}%", trim_number(pct))))
            }
        }
    }
}

/// A number without a trailing `.0`.
fn trim_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// The values of a run's parameters, every one checked and defaults filled in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Value>,
}

impl Params {
    /// Check `supplied` against `specs`: unknown names, missing required values and values of
    /// the wrong type are errors; absent ones take their defaults.
    pub fn resolve(
        specs: &[ParamSpec],
        supplied: &BTreeMap<String, Value>,
    ) -> Result<Params, String> {
        if let Some(unknown) = supplied
            .keys()
            .find(|k| !specs.iter().any(|s| &s.name == *k))
        {
            return Err(format!(
                "unknown parameter `{unknown}`; this runbook takes {}",
                names(specs)
            ));
        }
        let mut values = BTreeMap::new();
        for spec in specs {
            let value = match (supplied.get(&spec.name), &spec.default) {
                (Some(v), _) | (None, Some(v)) => spec.check(v)?,
                (None, None) => {
                    return Err(format!(
                        "parameter `{}` ({}) is required{}",
                        spec.name,
                        spec.kind.as_str(),
                        if spec.description.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", spec.description)
                        }
                    ));
                }
            };
            values.insert(spec.name.clone(), value);
        }
        Ok(Params { values })
    }

    /// Stand-in values (defaults, else a sample of each type) to validate templates at load.
    pub fn samples(specs: &[ParamSpec]) -> Params {
        let values = specs
            .iter()
            .map(|s| {
                let value = s
                    .default
                    .as_ref()
                    .and_then(|d| s.check(d).ok())
                    .unwrap_or_else(|| s.kind.sample());
                (s.name.clone(), value)
            })
            .collect();
        Params { values }
    }

    pub fn values(&self) -> &BTreeMap<String, Value> {
        &self.values
    }

    /// The text a placeholder is replaced with.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

fn names(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        return "no parameters".into();
    }
    specs
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One `{{name}}` in a template: the name and its byte range in the template.
#[derive(Clone, Debug, PartialEq)]
pub struct Placeholder<'a> {
    pub name: &'a str,
    pub start: usize,
    pub end: usize,
}

/// Every placeholder in `template`; an unclosed `{{` or a malformed name is an error.
pub fn placeholders(template: &str) -> Result<Vec<Placeholder<'_>>, String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = template[from..].find("{{").map(|i| i + from) {
        let close = template[open..]
            .find("}}")
            .map(|i| i + open)
            .ok_or_else(|| format!("unclosed `{{{{` in {template:?}"))?;
        let name = template[open + 2..close].trim();
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(format!(
                "`{}` is not a parameter reference: write {{{{name}}}} with a lowercase name",
                &template[open..close + 2]
            ));
        }
        out.push(Placeholder {
            name,
            start: open,
            end: close + 2,
        });
        from = close + 2;
    }
    Ok(out)
}

/// Replace every `{{name}}` in `template` with the parameter's value.
pub fn substitute(template: &str, params: &Params) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for p in placeholders(template)? {
        let value = params
            .text(p.name)
            .ok_or_else(|| format!("unknown parameter `{{{{{}}}}}`", p.name))?;
        out.push_str(&template[last..p.start]);
        out.push_str(&value);
        last = p.end;
    }
    out.push_str(&template[last..]);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, kind: ParamKind, default: Option<Value>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind,
            default,
            description: String::new(),
            min: None,
            max: None,
        }
    }

    #[test]
    fn values_are_checked_by_type_and_normalised() {
        let pct = spec("step", ParamKind::Percent, None);
        assert_eq!(pct.check(&json!(50)).unwrap(), json!("50%"));
        assert_eq!(pct.check(&json!("12.5 %")).unwrap(), json!("12.5%"));
        assert!(pct.check(&json!("half")).is_err());
        let mut int = spec("n", ParamKind::Integer, None);
        int.min = Some(1);
        int.max = Some(40);
        assert_eq!(int.check(&json!("4")).unwrap(), json!(4));
        let err = int.check(&json!(41)).unwrap_err();
        assert_eq!(err, "parameter `n` must be between 1 and 40, got 41");
        assert!(int.check(&json!(2.5)).is_err());
        let dur = spec("d", ParamKind::Duration, None);
        assert!(dur.check(&json!("5m")).is_ok());
        assert!(dur.check(&json!("5 minutes")).is_err());
        assert!(spec("a", ParamKind::App, None).check(&json!("")).is_err());
    }

    #[test]
    fn resolving_fills_defaults_and_refuses_unknown_or_missing() {
        let specs = vec![
            spec("app", ParamKind::App, Some(json!("shop-cart"))),
            spec("release", ParamKind::Release, None),
        ];
        let supplied = BTreeMap::from([("release".to_string(), json!("r-41"))]);
        let params = Params::resolve(&specs, &supplied).unwrap();
        assert_eq!(params.text("app").unwrap(), "shop-cart");
        let err = Params::resolve(&specs, &BTreeMap::new()).unwrap_err();
        assert_eq!(err, "parameter `release` (release) is required");
        let extra = BTreeMap::from([
            ("release".to_string(), json!("r-41")),
            ("replicas".to_string(), json!(4)),
        ]);
        let err = Params::resolve(&specs, &extra).unwrap_err();
        assert_eq!(
            err,
            "unknown parameter `replicas`; this runbook takes app, release"
        );
    }

    #[test]
    fn placeholders_are_substituted_and_malformed_ones_refused() {
        let specs = vec![spec("app", ParamKind::App, Some(json!("live-chat")))];
        let params = Params::resolve(&specs, &BTreeMap::new()).unwrap();
        assert_eq!(
            substitute("scale {{app}} and {{ app }}", &params).unwrap(),
            "scale live-chat and live-chat"
        );
        assert_eq!(
            substitute("{{nope}}", &params).unwrap_err(),
            "unknown parameter `{{nope}}`"
        );
        assert!(placeholders("{{app").unwrap_err().contains("unclosed"));
        assert!(
            placeholders("{{App}}")
                .unwrap_err()
                .contains("not a parameter reference")
        );
        assert_eq!(placeholders("no braces").unwrap(), vec![]);
    }
}

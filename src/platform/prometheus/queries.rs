//! Which PromQL reads each value of each app: a preset (`opsdeck`, `kubernetes`), or a TOML
//! file that starts from a preset and replaces queries for every app or for one:
//!
//! ```toml
//! preset = "kubernetes"        # the queries to start from (default "opsdeck")
//! namespace = "shop"           # what {{namespace}} is (default "default")
//!
//! [queries]                    # replaces these for every app
//! p99 = 'histogram_quantile(0.99, sum by (le) (rate(rpc_duration_seconds_bucket{service="{{app}}"}[1m]))) * 1000'
//!
//! [apps.pay-gateway]           # and these for one app
//! namespace = "payments"
//! queries.rps = 'sum(rate(nginx_http_requests_total{app="{{app}}"}[1m]))'
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Templates;

/// The namespace when neither the file nor `--prometheus-namespace` names one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The queries of every app.
#[derive(Clone, Debug, PartialEq)]
pub struct Queries {
    /// For every app without its own.
    pub default: Templates,
    /// Filled into `{{namespace}}` for every app without its own.
    pub namespace: String,
    /// Apps whose queries or namespace differ, fully resolved.
    pub apps: BTreeMap<String, (Templates, String)>,
}

impl Queries {
    /// One set of templates for every app.
    pub fn uniform(default: Templates, namespace: &str) -> Queries {
        Queries {
            default,
            namespace: namespace.to_string(),
            apps: BTreeMap::new(),
        }
    }

    /// A preset by name: `opsdeck` or `kubernetes`.
    pub fn preset(name: &str) -> Option<Templates> {
        match name {
            "opsdeck" => Some(Templates::opsdeck()),
            "kubernetes" => Some(Templates::kubernetes()),
            _ => None,
        }
    }

    /// `app`'s templates and namespace.
    pub fn for_app(&self, app: &str) -> (&Templates, &str) {
        self.apps
            .get(app)
            .map_or((&self.default, self.namespace.as_str()), |(t, ns)| {
                (t, ns.as_str())
            })
    }

    /// A preset name, or the path of a queries file. `namespace` (the flag) overrides the
    /// file's.
    pub fn from_setting(setting: &str, namespace: Option<&str>) -> Result<Queries, String> {
        let mut queries = match Queries::preset(setting) {
            Some(t) => Queries::uniform(t, DEFAULT_NAMESPACE),
            None => Queries::load(Path::new(setting))?,
        };
        if let Some(ns) = namespace {
            queries.namespace = ns.to_string();
        }
        Ok(queries)
    }

    /// Read a queries file; every mistake is named with the file, line and key.
    pub fn load(path: &Path) -> Result<Queries, String> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            format!(
                "--prometheus-queries {}: not a preset (opsdeck, kubernetes) and not a readable file: {err}",
                path.display()
            )
        })?;
        Queries::parse(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    /// Parse a queries file's text.
    pub fn parse(text: &str) -> Result<Queries, String> {
        let file: File = toml::from_str(text).map_err(|err| err.to_string())?;
        let preset = file.preset.as_deref().unwrap_or("opsdeck");
        let base = Queries::preset(preset).ok_or_else(|| {
            format!("preset = \"{preset}\": not a preset (give opsdeck or kubernetes)")
        })?;
        let default = file.queries.apply(base, "queries")?;
        let namespace = file
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        let mut apps = BTreeMap::new();
        for (app, over) in file.apps {
            let templates = over
                .queries
                .apply(default.clone(), &format!("apps.{app}.queries"))?;
            let ns = over.namespace.unwrap_or_else(|| namespace.clone());
            apps.insert(app, (templates, ns));
        }
        Ok(Queries {
            default,
            namespace,
            apps,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    preset: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    queries: Overrides,
    #[serde(default)]
    apps: BTreeMap<String, AppFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    namespace: Option<String>,
    #[serde(default)]
    queries: Overrides,
}

/// Queries that replace a preset's, each optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Overrides {
    rps: Option<String>,
    p50: Option<String>,
    p95: Option<String>,
    p99: Option<String>,
    error_ratio: Option<String>,
    cpu: Option<String>,
    memory_bytes: Option<String>,
    replicas_ready: Option<String>,
    replicas_desired: Option<String>,
}

impl Overrides {
    /// `base` with these in place, each checked; `table` names where they were written.
    fn apply(self, mut base: Templates, table: &str) -> Result<Templates, String> {
        let slots = [
            ("rps", self.rps, &mut base.rps),
            ("p50", self.p50, &mut base.p50),
            ("p95", self.p95, &mut base.p95),
            ("p99", self.p99, &mut base.p99),
            ("error_ratio", self.error_ratio, &mut base.error_ratio),
            ("cpu", self.cpu, &mut base.cpu),
            ("memory_bytes", self.memory_bytes, &mut base.memory_bytes),
            (
                "replicas_ready",
                self.replicas_ready,
                &mut base.replicas_ready,
            ),
            (
                "replicas_desired",
                self.replicas_desired,
                &mut base.replicas_desired,
            ),
        ];
        for (key, given, slot) in slots {
            let Some(query) = given else { continue };
            check(&query).map_err(|why| format!("{table}.{key}: {why}"))?;
            *slot = query;
        }
        Ok(base)
    }
}

/// A template is not empty and names no placeholder but `{{app}}` and `{{namespace}}`.
fn check(query: &str) -> Result<(), String> {
    if query.trim().is_empty() {
        return Err("empty query".into());
    }
    let mut rest = query;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("`{{` without `}}`".into());
        };
        let name = after[..close].trim();
        if name != "app" && name != "namespace" {
            return Err(format!(
                "unknown placeholder {{{{{name}}}}} (there are {{{{app}}}} and {{{{namespace}}}})"
            ));
        }
        rest = &after[close + 2..];
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_file_starts_from_its_preset_and_replaces_per_app() {
        let q = Queries::parse(
            r#"
preset = "kubernetes"
namespace = "shop"
[queries]
p99 = 'my_p99{app="{{app}}"}'
[apps.pay-gateway]
namespace = "payments"
queries.rps = 'my_rps{app="{{app}}",ns="{{namespace}}"}'
"#,
        )
        .unwrap();
        let (t, ns) = q.for_app("shop-cart");
        assert_eq!(ns, "shop");
        assert_eq!(t.p99, r#"my_p99{app="{{app}}"}"#);
        assert_eq!(t.rps, Templates::kubernetes().rps);
        let (t, ns) = q.for_app("pay-gateway");
        assert_eq!(ns, "payments");
        assert_eq!(t.rps, r#"my_rps{app="{{app}}",ns="{{namespace}}"}"#);
        // The app's own start from the file's [queries], not the bare preset.
        assert_eq!(t.p99, r#"my_p99{app="{{app}}"}"#);
    }

    #[test]
    fn presets_by_name_and_the_flag_namespace_wins() {
        let q = Queries::from_setting("kubernetes", Some("prod")).unwrap();
        assert_eq!(q.for_app("x"), (&Templates::kubernetes(), "prod"));
        let q = Queries::from_setting("opsdeck", None).unwrap();
        assert_eq!(q.for_app("x"), (&Templates::opsdeck(), DEFAULT_NAMESPACE));
    }

    #[test]
    fn each_mistake_is_named() {
        let err = |text: &str| Queries::parse(text).unwrap_err();
        let e = err("[queries]\nrps99 = 'x'\n");
        assert!(e.contains("rps99") && e.contains("line 2"), "{e}");
        let e = err("preset = \"victoria\"\n");
        assert!(
            e.contains("victoria") && e.contains("opsdeck or kubernetes"),
            "{e}"
        );
        let e = err("[apps.shop-cart.queries]\ncpu = '  '\n");
        assert_eq!(e, "apps.shop-cart.queries.cpu: empty query");
        let e = err("[queries]\ncpu = 'x{ns=\"{{ns}}\"}'\n");
        assert!(
            e.starts_with("queries.cpu: unknown placeholder {{ns}}"),
            "{e}"
        );
        let e = err("[queries]\ncpu = 'x{ns=\"{{app\"}'\n");
        assert!(e.contains("without `}}`"), "{e}");
        let e = err("[apps.a]\nnamespaces = 'x'\n");
        assert!(e.contains("namespaces"), "{e}");
        let e = Queries::from_setting("/nonexistent/q.toml", None).unwrap_err();
        assert!(
            e.contains("not a preset") && e.contains("/nonexistent/q.toml"),
            "{e}"
        );
    }
}

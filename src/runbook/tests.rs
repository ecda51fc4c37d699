//! Loading runbooks: every shipped runbook validates, and every kind of invalid file is refused
//! with the file, line and column of the offending value and a message that says what is wrong.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

/// A valid runbook; each test breaks one thing in it. Lines are numbered in the comments.
const VALID: &str = r#"id = "demo"
title = "Demo"

[params.app]
type = "app"
default = "shop-cart"

[params.hold]
type = "duration"
default = "2m"

[[steps]]
id = "scale-out"
kind = "scale"
app = "{{app}}"
replicas = "+50%"

[[steps]]
id = "recover"
kind = "wait_for"
app = "{{app}}"
condition = "p99 < 300ms and error_ratio < 1%"
for = "{{hold}}"
timeout = "10m"
on_failure = { fallback = ["roll-back"] }

[[fallbacks]]
id = "roll-back"
kind = "rollback"
app = "{{app}}"
"#;

/// Replace the first `from` in VALID with `to` and load it, expecting an error.
fn broken(from: &str, to: &str) -> RunbookError {
    assert!(VALID.contains(from), "test bug: {from:?} is not in VALID");
    let text = VALID.replacen(from, to, 1);
    match parse_runbook("runbooks/demo.toml", &text) {
        Ok(_) => panic!("{to:?} should not load"),
        Err(err) => err,
    }
}

fn assert_error(err: &RunbookError, line: usize, message: &str) {
    assert_eq!(err.file, "runbooks/demo.toml");
    assert_eq!(
        (err.line, err.message.as_str()),
        (line, message),
        "full error: {err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("runbooks/demo.toml:{line}:"))
    );
}

#[test]
fn the_valid_example_loads_with_params_steps_and_fallbacks() {
    let rb = parse_runbook("runbooks/demo.toml", VALID).unwrap();
    assert_eq!(rb.id, "demo");
    assert_eq!(rb.params.len(), 2);
    assert_eq!(rb.params[0].name, "app", "params keep file order");
    assert_eq!(rb.steps.len(), 2);
    assert_eq!(rb.fallbacks.len(), 1);
    let params = Params::resolve(&rb.params, &BTreeMap::new()).unwrap();
    let steps = rb.resolve(&params).unwrap();
    assert_eq!(
        steps[0].action,
        Action::Scale {
            app: "shop-cart".into(),
            replicas: ReplicaTarget::Percent(50.0),
            wait: true
        }
    );
    let Action::WaitFor { hold_secs, .. } = &steps[1].action else {
        panic!("{:?}", steps[1].action);
    };
    assert_eq!(*hold_secs, 120);
    assert_eq!(steps[1].timeout_secs, Some(600));
    assert_eq!(
        steps[1].on_failure,
        OnFailure::Fallback {
            steps: vec!["roll-back".into()],
            then: AfterFallback::Stop
        }
    );
    assert!(steps[2].fallback);
}

#[test]
fn every_shipped_runbook_loads_and_uses_the_id_its_alerts_name() {
    let ids: Vec<String> = EMBEDDED
        .iter()
        .map(|(file, text)| match parse_runbook(file, text) {
            Ok(rb) => {
                assert!(!rb.title.is_empty() && !rb.description.is_empty(), "{file}");
                let params = Params::resolve(&rb.params, &BTreeMap::new())
                    .unwrap_or_else(|e| panic!("{file}: defaults must resolve: {e}"));
                rb.resolve(&params).unwrap();
                rb.id
            }
            Err(err) => panic!("{err}"),
        })
        .collect();
    assert_eq!(
        ids,
        [
            "flash-sale-spike",
            "bad-release",
            "cache-degradation",
            "az-outage",
            "memory-leak"
        ]
    );
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let err = broken("kind = \"scale\"", "kind = \"scale");
    assert_eq!(err.line, 14, "{err}");
    assert!(err.message.contains("string"), "{err}");
}

#[test]
fn an_unknown_step_kind_lists_the_known_ones() {
    let err = broken("kind = \"scale\"", "kind = \"scael\"");
    assert_error(
        &err,
        14,
        "step `scale-out`: unknown step kind `scael`; known kinds: scale, rollback, wait_for, \
         check, http_probe, approval, silence, note, sleep",
    );
}

#[test]
fn a_missing_required_field_is_named() {
    let err = broken("condition = \"p99 < 300ms and error_ratio < 1%\"\n", "");
    assert_error(
        &err,
        18,
        "step `recover`: a `wait_for` step needs `condition`",
    );
}

#[test]
fn scale_without_replicas_is_refused() {
    let err = broken("replicas = \"+50%\"\n", "");
    assert_error(
        &err,
        12,
        "step `scale-out`: a `scale` step needs `replicas`",
    );
}

#[test]
fn a_bad_duration_says_how_to_write_one() {
    let err = broken("timeout = \"10m\"", "timeout = \"10 minutes\"");
    assert_error(
        &err,
        24,
        "step `recover`: `10 minutes` is not a duration: use a positive whole number with s, m, \
         h or d, e.g. \"90s\" or \"5m\"",
    );
}

#[test]
fn a_bad_duration_default_is_refused_at_the_default() {
    let err = broken("default = \"2m\"", "default = \"soon\"");
    assert_error(
        &err,
        10,
        "default: parameter `hold` must be a duration such as \"90s\", \"5m\" or \"2h\", got \"soon\"",
    );
}

#[test]
fn a_bad_condition_says_what_is_wrong() {
    let err = broken("p99 < 300ms and", "p99 < 5% and");
    assert_error(
        &err,
        22,
        "step `recover`: `5%` does not fit p99, which is a latency: compare it with ms or s, e.g. \
         300ms",
    );
    let err = broken("p99 < 300ms and", "p999 < 300ms and");
    assert_eq!(err.line, 22);
    assert!(
        err.message
            .starts_with("step `recover`: unknown metric `p999`; known: rps, p50"),
        "{err}"
    );
}

#[test]
fn an_unknown_parameter_reference_lists_the_defined_ones() {
    let err = broken("app = \"{{app}}\"", "app = \"{{ap}}\"");
    assert_error(
        &err,
        15,
        "step `scale-out`: unknown parameter `{{ap}}`; this runbook defines app, hold",
    );
}

#[test]
fn a_duplicate_step_id_points_at_the_first() {
    let err = broken("id = \"recover\"", "id = \"scale-out\"");
    assert_error(
        &err,
        19,
        "duplicate step id `scale-out` (first used on line 13)",
    );
}

#[test]
fn a_fallback_that_does_not_exist_is_named() {
    let err = broken("fallback = [\"roll-back\"]", "fallback = [\"roll-bak\"]");
    assert_error(
        &err,
        25,
        "step `recover`: fallback step `roll-bak` does not exist; [[fallbacks]] defines roll-back",
    );
}

#[test]
fn a_bad_on_failure_says_what_is_allowed() {
    let err = broken(
        "on_failure = { fallback = [\"roll-back\"] }",
        "on_failure = \"retry\"",
    );
    assert_error(
        &err,
        25,
        "step `recover`: unknown on_failure `retry`; on_failure must be \"abort\", \"continue\" or \
         { fallback = [\"step-id\", ...], then = \"stop\" | \"continue\" }",
    );
    let err = broken(
        "fallback = [\"roll-back\"] }",
        "fallback = [\"roll-back\"], then = \"later\" }",
    );
    assert_eq!(err.line, 25);
    assert!(
        err.message
            .contains("then must be \"stop\" or \"continue\""),
        "{err}"
    );
}

#[test]
fn a_misspelt_key_is_an_error_not_a_no_op() {
    let err = broken("replicas = \"+50%\"", "replcas = \"+50%\"");
    assert_eq!(err.line, 16, "{err}");
    assert!(err.message.starts_with("unknown field `replcas`"), "{err}");
}

#[test]
fn a_key_of_another_kind_does_not_apply() {
    let err = broken(
        "replicas = \"+50%\"",
        "replicas = \"+50%\"\nduration = \"5m\"",
    );
    assert_error(
        &err,
        17,
        "step `scale-out`: `duration` does not apply to a `scale` step",
    );
}

#[test]
fn bad_replicas_say_which_forms_exist() {
    let err = broken("replicas = \"+50%\"", "replicas = \"lots\"");
    assert_error(
        &err,
        16,
        "step `scale-out`: replicas must be a count (6), a change (+2, -1), a percentage change \
         (+50%) or max/min; got `lots`",
    );
    let err = broken("replicas = \"+50%\"", "replicas = 2.5");
    assert_eq!(err.line, 16);
    assert!(err.message.contains("got a float"), "{err}");
}

#[test]
fn an_unknown_parameter_type_lists_the_types() {
    let err = broken("type = \"app\"", "type = \"application\"");
    assert_error(
        &err,
        5,
        "parameter `app` has unknown type `application`; use one of string, app, integer, \
         release, duration, percent",
    );
}

#[test]
fn a_runbook_without_id_or_steps_is_refused() {
    let err = broken("id = \"demo\"\n", "");
    assert_error(
        &err,
        1,
        "the runbook needs an `id`, e.g. id = \"bad-release\"",
    );
    let text = "id = \"empty\"\n";
    let err = parse_runbook("runbooks/demo.toml", text).unwrap_err();
    assert_error(
        &err,
        1,
        "the runbook has no steps: add at least one [[steps]] table",
    );
    let err = broken("id = \"demo\"", "id = \"Demo Runbook\"");
    assert_eq!(err.line, 1);
    assert!(
        err.message.contains("lowercase letters, digits and dashes"),
        "{err}"
    );
}

#[test]
fn retries_are_bounded() {
    let err = broken("timeout = \"10m\"", "timeout = \"10m\"\nretries = 99");
    assert_error(
        &err,
        25,
        "step `recover`: retries must be between 0 and 10, got 99",
    );
}

#[test]
fn fallbacks_cannot_have_fallbacks_of_their_own() {
    let text = format!("{VALID}on_failure = {{ fallback = [\"roll-back\"] }}\n");
    let err = parse_runbook("runbooks/demo.toml", &text).unwrap_err();
    assert_eq!(err.line, 31, "{err}");
    assert!(
        err.message
            .contains("fallback steps cannot have fallbacks of their own")
    );
}

#[test]
fn an_unclosed_placeholder_is_refused() {
    let err = broken("app = \"{{app}}\"", "app = \"{{app\"");
    assert_eq!(err.line, 15);
    assert!(err.message.contains("unclosed `{{`"), "{err}");
}

#[test]
fn a_folder_runbook_replaces_a_shipped_one_and_a_broken_one_hides_it() {
    let dir = std::env::temp_dir().join(format!(
        "opsdeck-runbooks-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let own = VALID.replacen("id = \"demo\"", "id = \"bad-release\"", 1);
    std::fs::write(dir.join("bad-release.toml"), own).unwrap();
    std::fs::write(
        dir.join("memory-leak.toml"),
        "id = \"memory-leak\"\n[[steps]]\nid = \"x\"\nkind = \"nope\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a runbook").unwrap();
    let catalog = Catalog::load(std::slice::from_ref(&dir));
    let bad_release = catalog.get("bad-release").unwrap();
    assert_eq!(
        bad_release.source,
        dir.join("bad-release.toml").display().to_string()
    );
    assert_eq!(catalog.get("flash-sale-spike").unwrap().source, "embedded");
    assert!(
        catalog.get("memory-leak").is_none(),
        "a broken file is never runnable"
    );
    let problem = catalog.problem_of("memory-leak").unwrap();
    assert!(
        problem
            .error
            .contains("memory-leak.toml:4:8: step `x`: unknown step kind `nope`"),
        "{}",
        problem.error
    );
    let listed = catalog.summaries();
    assert_eq!(listed.len(), 5, "four runnable, one broken");
    assert!(
        listed
            .iter()
            .any(|s| s.id == "memory-leak" && s.error.is_some())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_parameters_are_checked_before_anything_runs() {
    let rb = parse_runbook("runbooks/demo.toml", VALID).unwrap();
    let err = Params::resolve(
        &rb.params,
        &BTreeMap::from([("hold".to_string(), json!("forever"))]),
    )
    .unwrap_err();
    assert!(err.contains("parameter `hold` must be a duration"), "{err}");
}

#[test]
fn a_dry_run_plan_resolves_parameters_and_evaluates_conditions() {
    use crate::protocol::{AppStatus, AppSummary, Latency, MetricSample, Replicas};
    let rb = parse_runbook("runbooks/demo.toml", VALID).unwrap();
    let params = Params::resolve(&rb.params, &BTreeMap::new()).unwrap();
    let steps = rb.resolve(&params).unwrap();
    let now = chrono::Utc::now();
    let snapshot = AppSnapshot {
        summary: AppSummary {
            id: "shop-cart".into(),
            name: "购物车".into(),
            region: "cn-shanghai".into(),
            release: "r-42".into(),
            version: "v2.3.1".into(),
            replicas: Replicas {
                desired: 4,
                ready: 4,
                min: 2,
                max: 40,
            },
            status: AppStatus::Degraded,
            metrics: Some(MetricSample {
                latency_ms: Latency {
                    p50: 50.0,
                    p95: 200.0,
                    p99: 412.0,
                },
                error_ratio: 0.002,
                ..MetricSample::default()
            }),
            stale_since: None,
            stale_reason: None,
            runbooks: Vec::new(),
        },
        releases: Vec::new(),
        alerts: Vec::new(),
        now,
    };
    let apps = BTreeMap::from([("shop-cart".to_string(), snapshot)]);
    let plan = plan(&steps, &apps);
    assert_eq!(
        plan.steps[0].action,
        "would scale shop-cart 4 -> 6 (+50% of 4 = 6)"
    );
    assert_eq!(
        plan.steps[1].evaluation.as_deref(),
        Some("now: p99 = 412 ms, want < 300 ms; error_ratio = 0.2%, want < 1% (does not hold)")
    );
    // The verdict is there for programs too: the console asks twice before a run whose check
    // does not hold.
    assert_eq!(plan.steps[1].holds, Some(false));
    assert_eq!(plan.steps[0].holds, None);
    assert!(plan.steps[2].fallback);
}

/// docs/runbooks.md quotes these errors; they must stay what the loader says.
#[test]
fn the_documented_validation_errors_are_the_real_ones() {
    let docs = include_str!("../../docs/runbooks.md");
    for (from, to) in [
        ("kind = \"scale\"", "kind = \"scael\""),
        ("replicas = \"+50%\"\n", ""),
        ("timeout = \"10m\"", "timeout = \"10 minutes\""),
        ("p99 < 300ms and", "p99 < 5% and"),
        ("app = \"{{app}}\"", "app = \"{{ap}}\""),
        ("id = \"recover\"", "id = \"scale-out\""),
        ("fallback = [\"roll-back\"]", "fallback = [\"roll-bak\"]"),
        (
            "on_failure = { fallback = [\"roll-back\"] }",
            "on_failure = \"retry\"",
        ),
        ("replicas = \"+50%\"", "replcas = \"+50%\""),
        (
            "replicas = \"+50%\"",
            "replicas = \"+50%\"\nduration = \"5m\"",
        ),
        ("type = \"app\"", "type = \"application\""),
    ] {
        let err = broken(from, to).to_string();
        // Long lists are cut with an ellipsis in the docs.
        let quoted = err.split("`kind`, ").next().unwrap_or(&err);
        assert!(
            docs.contains(quoted),
            "docs/runbooks.md does not quote:\n{err}"
        );
    }
}

/// Every complete runbook shown in docs/runbooks.md loads.
#[test]
fn the_documented_examples_load() {
    let docs = include_str!("../../docs/runbooks.md");
    let examples: Vec<&str> = docs
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|block| block.starts_with("id = "))
        .collect();
    assert!(examples.len() >= 2);
    for text in examples {
        if let Err(err) = parse_runbook("docs/runbooks.md", text) {
            panic!("{err}\n{text}");
        }
    }
}

#[test]
fn four_eyes_is_an_approval_steps_flag_and_off_unless_set() {
    let gate = "[[steps]]\nid = \"gate\"\nkind = \"approval\"\nmessage = \"go?\"\n";
    let text = VALID.replacen(
        "[[steps]]",
        &format!("{gate}four_eyes = true\n\n[[steps]]"),
        1,
    );
    let runbook = parse_runbook("runbooks/demo.toml", &text).unwrap();
    let four_eyes: Vec<_> = runbook
        .all_steps()
        .map(|s| (s.id.as_str(), s.four_eyes()))
        .collect();
    assert_eq!(four_eyes[0], ("gate", true));
    assert!(four_eyes[1..].iter().all(|(_, f)| !f));
    let plain = VALID.replacen("[[steps]]", &format!("{gate}\n[[steps]]"), 1);
    let runbook = parse_runbook("runbooks/demo.toml", &plain).unwrap();
    assert!(runbook.all_steps().all(|s| !s.four_eyes()));
    let err = broken(
        "replicas = \"+50%\"",
        "replicas = \"+50%\"\nfour_eyes = true",
    );
    assert_error(
        &err,
        17,
        "step `scale-out`: `four_eyes` does not apply to a `scale` step",
    );
}

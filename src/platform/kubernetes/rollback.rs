//! Rollback as `kubectl rollout undo` does it (kubectl's pkg/polymorphichelpers/rollback.go):
//! pick the ReplicaSet of the wanted revision (or the second newest), refuse a paused
//! Deployment and a template that already matches, then send a JSON patch that replaces
//! `/spec/template` with the ReplicaSet's template minus `pod-template-hash` and
//! `/metadata/annotations` with the Deployment's own bookkeeping annotations plus the
//! ReplicaSet's others. The gateway sets `kubernetes.io/change-cause`. Pure, no I/O.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use serde_json::{Value, json};

use super::shape::{CHANGE_CAUSE, POD_TEMPLATE_HASH, name_of, revision};
use crate::platform::PlatformError;

/// Annotations kept from the Deployment rather than copied from the ReplicaSet (kubectl's
/// `annotationsToSkip`).
pub const KEPT_FROM_DEPLOYMENT: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The content type of the patch.
pub const PATCH_CONTENT_TYPE: &str = "application/json-patch+json";

/// The ReplicaSet to go back to: revision `to`, or the second newest when `None`.
pub fn pick<'a>(
    d: &Deployment,
    sets: &'a [ReplicaSet],
    to: Option<i64>,
) -> Result<&'a ReplicaSet, PlatformError> {
    let name = name_of(&d.metadata);
    let mut numbered: Vec<(i64, &ReplicaSet)> = sets
        .iter()
        .filter_map(|rs| revision(&rs.metadata).map(|r| (r, rs)))
        .collect();
    numbered.sort_by_key(|n| std::cmp::Reverse(n.0));
    match to {
        Some(to) => numbered
            .into_iter()
            .find(|(r, _)| *r == to)
            .map(|(_, rs)| rs)
            .ok_or_else(|| {
                PlatformError::NotFound(format!("deployment {name:?} has no revision {to}"))
            }),
        None => numbered.get(1).map(|(_, rs)| *rs).ok_or_else(|| {
            PlatformError::Conflict(format!(
                "no rollout history found for deployment {name:?}: nothing to roll back to"
            ))
        }),
    }
}

/// A pod template as JSON, without the hash label and without empty leftovers.
fn template_without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    t
}

/// Nulls, empty objects and empty arrays dropped, so that "absent" and "empty" compare equal
/// (as Kubernetes' semantic equality treats a nil and an empty map).
fn normalized(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(map) => {
            let kept: serde_json::Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| normalized(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            (!items.is_empty()).then(|| Value::Array(items.iter().filter_map(normalized).collect()))
        }
        other => Some(other.clone()),
    }
}

/// The JSON patch that puts `rs`'s template back into `d`, with `change_cause`; or a conflict
/// when `d` is paused or already runs that template.
pub fn patch(d: &Deployment, rs: &ReplicaSet, change_cause: &str) -> Result<Value, PlatformError> {
    let name = name_of(&d.metadata);
    let rev = revision(&rs.metadata).unwrap_or(0);
    let spec = d.spec.as_ref();
    if spec.and_then(|s| s.paused) == Some(true) {
        return Err(PlatformError::Conflict(format!(
            "deployment {name:?} is paused: resume it first (kubectl rollout resume) and try again"
        )));
    }
    let current = serde_json::to_value(spec.map(|s| &s.template)).unwrap_or(Value::Null);
    let wanted = serde_json::to_value(rs.spec.as_ref().and_then(|s| s.template.as_ref()))
        .unwrap_or(Value::Null);
    if wanted.is_null() {
        return Err(PlatformError::Unavailable(format!(
            "revision {rev} of deployment {name:?} has no pod template"
        )));
    }
    let wanted = template_without_hash(&wanted);
    if normalized(&wanted) == normalized(&template_without_hash(&current)) {
        return Err(PlatformError::Conflict(format!(
            "deployment {name:?} already runs the template of revision {rev}: nothing to roll back"
        )));
    }
    let empty = BTreeMap::new();
    let own = d.metadata.annotations.as_ref().unwrap_or(&empty);
    let theirs = rs.metadata.annotations.as_ref().unwrap_or(&empty);
    let mut annotations: BTreeMap<String, String> = own
        .iter()
        .filter(|(k, _)| KEPT_FROM_DEPLOYMENT.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.extend(
        theirs
            .iter()
            .filter(|(k, _)| !KEPT_FROM_DEPLOYMENT.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    annotations.insert(CHANGE_CAUSE.to_string(), change_cause.to_string());
    Ok(json!([
        {"op": "replace", "path": "/spec/template", "value": wanted},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]))
}

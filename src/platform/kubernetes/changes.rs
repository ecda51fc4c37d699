//! What a change to an app's Deployment or ReplicaSets means on the `events` topic: replicas
//! moved, a new release, the app appeared or left, its availability flipped. A watch event and
//! a re-list after `410 Gone` (the fresh list compared with what the gateway held) go through
//! the same functions, so a change missed while the watch was gone is told as the watch would
//! have told it. Pure, no I/O.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::shape::{self, CHANGE_CAUSE, name_of, namespace_of};
use crate::protocol::{EventKind, PlatformEvent, TimelineEntry};

/// What told the gateway about the change, for the release's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Nothing of the gateway's: kubectl, a pipeline, the HPA.
    Outside,
    /// A rollback of the gateway's is in flight on this Deployment.
    Rollback,
}

fn entry(now: DateTime<Utc>, app: &str, kind: EventKind, message: String) -> TimelineEntry {
    TimelineEntry {
        ts: now,
        app: app.to_string(),
        event: PlatformEvent {
            kind,
            message,
            actor: None,
            run: None,
        },
    }
}

/// The Available condition's status and reason (`("False", "MinimumReplicasUnavailable")`).
fn availability(d: &Deployment) -> Option<(String, String)> {
    let c = d
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Available")?;
    Some((c.status.clone(), c.reason.clone().unwrap_or_default()))
}

/// The entries Deployment `before` becoming `after` brings (`None`: not there), apart from its
/// release ([`release`]). `app` is the app id of whichever is there.
pub fn deployment(
    now: DateTime<Utc>,
    app: &str,
    before: Option<&Deployment>,
    after: Option<&Deployment>,
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    match (before, after) {
        (None, Some(d)) => out.push(entry(
            now,
            app,
            EventKind::Source,
            format!(
                "Deployment {}/{} appeared: app {app} is served",
                namespace_of(&d.metadata),
                name_of(&d.metadata)
            ),
        )),
        (Some(d), None) => out.push(entry(
            now,
            app,
            EventKind::Source,
            format!(
                "Deployment {}/{} is gone: app {app} is no longer served",
                namespace_of(&d.metadata),
                name_of(&d.metadata)
            ),
        )),
        (Some(old), Some(new)) => {
            let (from, to) = (shape::desired(old), shape::desired(new));
            if from != to {
                out.push(entry(
                    now,
                    app,
                    EventKind::Scale,
                    format!(
                        "Deployment {} scaled from {from} to {to} replicas",
                        name_of(&new.metadata)
                    ),
                ));
            }
            let (was, is) = (availability(old), availability(new));
            if let Some((status, reason)) =
                is.filter(|is| was.as_ref().map(|w| &w.0) != Some(&is.0))
            {
                let ready = shape::ready(new);
                out.push(entry(
                    now,
                    app,
                    EventKind::Source,
                    format!(
                        "Deployment {} available: {status} ({reason}), {ready} of {to} replicas ready",
                        name_of(&new.metadata)
                    ),
                ));
            }
        }
        (None, None) => {}
    }
    out
}

/// The entry announcing revision `rev` of app `app` (its pod template and change cause).
pub fn release(
    now: DateTime<Utc>,
    app: &str,
    rev: i64,
    template: Option<&PodTemplateSpec>,
    change_cause: Option<&str>,
    cause: Cause,
) -> TimelineEntry {
    let images = template.map(shape::images).unwrap_or_default().join(", ");
    let version = shape::version(template, Some(rev));
    let mut message = match cause {
        Cause::Outside => format!("release {rev} ({version}) rolled out"),
        Cause::Rollback => format!("rolled back as release {rev} ({version})"),
    };
    if !images.is_empty() {
        message.push_str(&format!(": {images}"));
    }
    if let Some(why) = change_cause.filter(|c| !c.is_empty()) {
        message.push_str(&format!(" — {why}"));
    }
    let kind = match cause {
        Cause::Outside => EventKind::Deploy,
        Cause::Rollback => EventKind::Rollback,
    };
    entry(now, app, kind, message)
}

/// The revision, pod template and change cause a Deployment says it runs.
pub fn deployment_release(d: &Deployment) -> Option<(i64, Option<&PodTemplateSpec>, Option<&str>)> {
    let rev = shape::revision(&d.metadata)?;
    let cause = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CHANGE_CAUSE))
        .map(String::as_str);
    Some((rev, d.spec.as_ref().map(|s| &s.template), cause))
}

/// The revision, pod template and change cause of a ReplicaSet.
pub fn replica_set_release(
    rs: &ReplicaSet,
) -> Option<(i64, Option<&PodTemplateSpec>, Option<&str>)> {
    let rev = shape::revision(&rs.metadata)?;
    let cause = rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CHANGE_CAUSE))
        .map(String::as_str);
    Some((
        rev,
        rs.spec.as_ref().and_then(|s| s.template.as_ref()),
        cause,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn deployment_of(replicas: i64, available: &str) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": {"readyReplicas": 1, "conditions": [
                {"type": "Available", "status": available, "reason": "MinimumReplicasUnavailable"}]},
        }))
        .unwrap()
    }

    #[test]
    fn a_deployment_change_is_told_by_what_moved() {
        let now = Utc::now();
        let kinds = |before: Option<&Deployment>, after: Option<&Deployment>| {
            deployment(now, "cart", before, after)
                .into_iter()
                .map(|e| (e.event.kind, e.event.message))
                .collect::<Vec<_>>()
        };
        let (two, five, down) = (
            deployment_of(2, "True"),
            deployment_of(5, "True"),
            deployment_of(5, "False"),
        );
        assert_eq!(
            kinds(Some(&two), Some(&five)),
            [(
                EventKind::Scale,
                "Deployment cart scaled from 2 to 5 replicas".to_string()
            )]
        );
        assert_eq!(
            kinds(Some(&five), Some(&down)),
            [(
                EventKind::Source,
                "Deployment cart available: False (MinimumReplicasUnavailable), 1 of 5 replicas ready"
                    .to_string()
            )]
        );
        assert!(kinds(Some(&five), Some(&five)).is_empty());
        assert!(kinds(None, Some(&two))[0].1.contains("appeared"));
        assert!(kinds(Some(&two), None)[0].1.contains("is gone"));
    }
}

//! Kubernetes objects read as opsdeck's nouns: a Deployment is an [`AppSummary`], its
//! ReplicaSets are [`Release`]s, its Pods are [`Pod`]s. Pure functions, no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod as KubePod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::protocol::{AppStatus, AppSummary, Pod, PodState, Release, ReleaseStatus, Replicas};

/// The annotation holding a ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation holding why a revision was made.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// The label the Deployment controller adds to a ReplicaSet's pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The Progressing condition's reason once the progress deadline has passed.
pub const DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

/// Annotations on a Deployment that tell opsdeck about the app.
pub mod annotation {
    /// Display name (may be Chinese).
    pub const NAME: &str = "opsdeck.io/name";
    /// Fewest replicas the console may scale to.
    pub const MIN_REPLICAS: &str = "opsdeck.io/min-replicas";
    /// Most replicas the console may scale to.
    pub const MAX_REPLICAS: &str = "opsdeck.io/max-replicas";
    /// Runbook ids that handle this app, comma-separated.
    pub const RUNBOOKS: &str = "opsdeck.io/runbooks";
}

/// What a Deployment's own annotations do not say.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    pub min_replicas: u32,
    pub max_replicas: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            min_replicas: 0,
            max_replicas: 50,
        }
    }
}

pub fn time(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

fn annotations(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> &BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    meta.annotations.as_ref().unwrap_or(&EMPTY)
}

/// The app id of a Deployment: the value of the app label, else its name.
pub fn app_id(d: &Deployment, label: &str) -> String {
    d.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(label))
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| d.metadata.name.clone().unwrap_or_default())
}

pub fn name_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

pub fn namespace_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or_default()
}

/// A revision annotation as a number.
pub fn revision(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    annotations(meta).get(REVISION)?.trim().parse().ok()
}

/// Replicas the Deployment asks for (Kubernetes defaults an absent count to 1).
pub fn desired(d: &Deployment) -> u32 {
    let n = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    u32::try_from(n).unwrap_or(0)
}

pub fn ready(d: &Deployment) -> u32 {
    let n = d
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    u32::try_from(n).unwrap_or(0)
}

/// Whether the Deployment's Progressing condition says its deadline passed.
pub fn deadline_exceeded(d: &Deployment) -> bool {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some(DEADLINE_EXCEEDED))
        })
}

/// The images of a pod template, in container order.
pub fn images(template: &PodTemplateSpec) -> Vec<String> {
    template
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A version for people: the first image's tag (or digest), else `rev{N}`.
pub fn version(template: Option<&PodTemplateSpec>, revision: Option<i64>) -> String {
    let image = template.and_then(|t| images(t).into_iter().next());
    let tag = image.as_deref().and_then(|image| {
        if let Some((_, digest)) = image.split_once('@') {
            return Some(digest.chars().take(19).collect());
        }
        let last = image.rsplit('/').next().unwrap_or(image);
        last.split_once(':').map(|(_, tag)| tag.to_string())
    });
    match (tag, revision) {
        (Some(tag), _) => tag,
        (None, Some(rev)) => format!("rev{rev}"),
        (None, None) => String::new(),
    }
}

/// The HPA that scales this Deployment, if any.
pub fn autoscaler_of<'a>(
    d: &Deployment,
    hpas: impl IntoIterator<Item = &'a HorizontalPodAutoscaler>,
) -> Option<&'a HorizontalPodAutoscaler> {
    let name = name_of(&d.metadata);
    hpas.into_iter().find(|h| {
        h.spec.as_ref().is_some_and(|s| {
            s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
        })
    })
}

/// An HPA's bounds as (min, max).
pub fn autoscaler_bounds(h: &HorizontalPodAutoscaler) -> (u32, u32) {
    let spec = h.spec.as_ref();
    let min = spec.and_then(|s| s.min_replicas).unwrap_or(1);
    let max = spec.map(|s| s.max_replicas).unwrap_or(0);
    (
        u32::try_from(min).unwrap_or(0),
        u32::try_from(max).unwrap_or(0),
    )
}

/// What a Deployment is doing, as the console's status words.
pub fn status(d: &Deployment, acting: Option<AppStatus>) -> AppStatus {
    let (desired, ready) = (desired(d), ready(d));
    if desired > 0 && ready == 0 {
        return AppStatus::Down;
    }
    if let Some(acting) = acting {
        return acting;
    }
    let status = d.status.clone().unwrap_or_default();
    let updated = u32::try_from(status.updated_replicas.unwrap_or(0)).unwrap_or(0);
    if deadline_exceeded(d) || ready < desired || updated < desired {
        return AppStatus::Degraded;
    }
    AppStatus::Healthy
}

/// One Deployment as the apps list shows it. `acting` is the status of an action of the
/// gateway's in flight on it (scaling, rolling back).
pub fn summary(
    d: &Deployment,
    label: &str,
    defaults: &Defaults,
    autoscaler: Option<&HorizontalPodAutoscaler>,
    acting: Option<AppStatus>,
) -> AppSummary {
    let notes = annotations(&d.metadata);
    let number = |key: &str| notes.get(key).and_then(|v| v.trim().parse::<u32>().ok());
    let (mut min, mut max) = (
        number(annotation::MIN_REPLICAS).unwrap_or(defaults.min_replicas),
        number(annotation::MAX_REPLICAS).unwrap_or(defaults.max_replicas),
    );
    if let Some(h) = autoscaler {
        (min, max) = autoscaler_bounds(h);
    }
    let rev = revision(&d.metadata);
    let template = d.spec.as_ref().map(|s| &s.template);
    AppSummary {
        id: app_id(d, label),
        name: notes
            .get(annotation::NAME)
            .cloned()
            .unwrap_or_else(|| name_of(&d.metadata).to_string()),
        region: namespace_of(&d.metadata).to_string(),
        release: rev.map(|r| r.to_string()).unwrap_or_default(),
        version: version(template, rev),
        replicas: Replicas {
            desired: desired(d),
            ready: ready(d),
            min,
            max: max.max(min),
        },
        status: status(d, acting),
        metrics: None,
        stale_since: None,
        stale_reason: None,
        runbooks: runbooks(d),
    }
}

/// Runbook ids the Deployment names in its annotation.
pub fn runbooks(d: &Deployment) -> Vec<String> {
    annotations(&d.metadata)
        .get(annotation::RUNBOOKS)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `rs` is controlled by `d` (its controller owner reference has `d`'s uid).
pub fn owned_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    uid: &str,
) -> bool {
    meta.owner_references.as_ref().is_some_and(|refs| {
        refs.iter()
            .any(|r| r.controller == Some(true) && r.uid == uid)
    })
}

/// A Deployment's ReplicaSets as releases, newest revision first. The one whose revision is
/// the Deployment's is active; a deadline that passed fails it.
pub fn releases(d: &Deployment, sets: &[ReplicaSet]) -> Vec<Release> {
    let current = revision(&d.metadata);
    let failed = deadline_exceeded(d);
    let mut out: Vec<(i64, Release)> = sets
        .iter()
        .filter_map(|rs| {
            let rev = revision(&rs.metadata)?;
            let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
            let status = match (Some(rev) == current, failed) {
                (true, true) => ReleaseStatus::Failed,
                (true, false) => ReleaseStatus::Active,
                (false, _) => ReleaseStatus::Superseded,
            };
            Some((
                rev,
                Release {
                    id: rev.to_string(),
                    version: version(template, Some(rev)),
                    created_at: rs
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .map(time)
                        .unwrap_or_default(),
                    status,
                    change_cause: annotations(&rs.metadata)
                        .get(CHANGE_CAUSE)
                        .cloned()
                        .unwrap_or_default(),
                    artifact: template.map(images).unwrap_or_default().join(", "),
                },
            ))
        })
        .collect();
    out.sort_by_key(|n| std::cmp::Reverse(n.0));
    out.into_iter().map(|(_, r)| r).collect()
}

/// Whether a pod's labels satisfy the Deployment's `matchLabels`. A Deployment without
/// matchLabels (expressions only) matches its pods by name prefix instead.
pub fn selects(d: &Deployment, pod: &KubePod) -> bool {
    if namespace_of(&d.metadata) != namespace_of(&pod.metadata) {
        return false;
    }
    let wanted = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .filter(|m| !m.is_empty());
    match wanted {
        Some(wanted) => {
            let labels = pod.metadata.labels.as_ref();
            wanted
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        }
        None => name_of(&pod.metadata).starts_with(&format!("{}-", name_of(&d.metadata))),
    }
}

/// Container restarts of a pod, summed.
pub fn restarts(pod: &KubePod) -> u32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// A pod as the app view lists it; its release is the revision of its ReplicaSet when known.
pub fn pod(p: &KubePod, revisions: &BTreeMap<String, String>) -> Pod {
    let status = p.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let waiting = |reason: &str| {
        statuses.iter().any(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                == Some(reason)
        })
    };
    let ready = status
        .conditions
        .as_ref()
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let state = if p.metadata.deletion_timestamp.is_some() {
        PodState::Terminating
    } else if waiting("CrashLoopBackOff") {
        PodState::CrashLoop
    } else if ready {
        PodState::Ready
    } else if status.phase.as_deref() == Some("Pending") && statuses.is_empty() {
        PodState::Pending
    } else {
        PodState::Starting
    };
    let owner = p
        .metadata
        .owner_references
        .as_ref()
        .and_then(|refs| refs.iter().find(|r| r.kind == "ReplicaSet"))
        .map(|r| r.name.clone());
    Pod {
        name: name_of(&p.metadata).to_string(),
        state,
        zone: p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        restarts: restarts(p),
        started_at: status
            .start_time
            .as_ref()
            .or(p.metadata.creation_timestamp.as_ref())
            .map(time)
            .unwrap_or_default(),
        release: owner
            .and_then(|rs| revisions.get(&rs).cloned())
            .unwrap_or_default(),
    }
}

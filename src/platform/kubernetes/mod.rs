//! A real Kubernetes cluster behind the gateway (`opsdeck serve --platform kubernetes`),
//! through kube-rs.
//!
//! Apps are the Deployments that carry the app label (default `opsdeck.io/app`) in the
//! configured namespaces; their display name, replica bounds and runbooks come from
//! annotations ([`shape::annotation`]), an HPA's bounds win over those. Releases are a
//! Deployment's ReplicaSets by revision. Scale goes through the scale subresource; rollback
//! sends the patch `kubectl rollout undo` sends ([`rollback`]); both are followed the way
//! `kubectl rollout status` follows a rollout ([`rollout`]) and reported on the `actions` topic.
//!
//! Deployments, ReplicaSets, Pods, HPAs and Events are listed, then watched ([`watch`]) into a
//! cache that the reads answer from; when the API server cannot be reached (or, asked its
//! version every few seconds, stops answering) the cache is kept and the apps are marked stale
//! (`stale_since`). What a Deployment or ReplicaSet change means (replicas moved, a new
//! release, an app appeared or left) goes on the `events` topic ([`changes`]), from a watch
//! event or from a re-list compared with what was held. Logs of every pod of every app are
//! followed ([`logs`]). Metrics are ready/desired replicas and pod restarts, every few seconds
//! and at once when they move.

mod changes;
mod events;
mod logs;
pub mod rollback;
pub mod rollout;
pub mod shape;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod as KubePod;
use k8s_openapi::api::events::v1::Event as KubeEvent;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use self::rollout::Rollout;
use self::shape::{Defaults, name_of, namespace_of};
use self::watch::Change;
use super::{ActionRequest, Emission, EventSink, Platform, PlatformError, RollbackPlan};
use crate::protocol::{
    ActionKind, ActionState, ActionStatus, Alert, AppDetail, AppStatus, AppSummary, Body,
    EventKind, Metric, MetricSample, PlatformEvent, Release, ReleaseStatus, TimelineEntry,
};

/// How the Kubernetes platform is set up.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeSettings {
    /// Namespaces whose Deployments are apps (at least one).
    pub namespaces: Vec<String>,
    /// The label that makes a Deployment an app; its value is the app's id.
    pub app_label: String,
    /// Replica bounds of Deployments whose annotations do not give them.
    pub defaults: Defaults,
    /// Between two metric samples of every app.
    pub metrics_every: Duration,
    /// Log lines read back when a pod's log is first followed.
    pub log_tail: i64,
    /// Most lines of one pod sent per log batch (a tenth of a second); the rest are counted.
    pub log_lines_per_batch: usize,
    /// Scaling an app that an HPA manages sets the HPA's bounds (minReplicas to the count,
    /// maxReplicas at least the count) instead of the Deployment's replicas, which the HPA
    /// would override.
    pub scale_hpa: bool,
    /// With `scale_hpa`: how long the HPA has to bring the Deployment into its new bounds
    /// before the action fails.
    pub hpa_patience: Duration,
    /// How often the API server is asked its version, to notice one that stopped answering
    /// while the watches wait in silence (a partition); it must answer within this too.
    pub probe_every: Duration,
}

impl KubeSettings {
    pub fn new(namespaces: Vec<String>) -> KubeSettings {
        KubeSettings {
            namespaces,
            app_label: "opsdeck.io/app".into(),
            defaults: Defaults::default(),
            metrics_every: Duration::from_secs(5),
            log_tail: 50,
            log_lines_per_batch: 200,
            scale_hpa: false,
            hpa_patience: Duration::from_secs(300),
            probe_every: Duration::from_secs(10),
        }
    }
}

/// The source name of the probe on the timeline and in `lost`.
const PROBE: &str = "probe /version";

/// Timeline entries kept.
const TIMELINE: usize = 500;
/// How often actions in flight are judged again from the cache.
const JUDGE_EVERY: Duration = Duration::from_secs(1);

type Key = (String, String);

/// An action of the gateway's, followed until the rollout is done or failed.
#[derive(Clone, Debug)]
struct Tracked {
    status: ActionStatus,
    key: Key,
    since_generation: i64,
    /// Said with every status until the end (e.g. the HPA will override the count).
    warning: Option<String>,
    /// Scaled through the HPA: the bounds the Deployment must come into, and by when.
    through_autoscaler: Option<AutoscalerWait>,
}

/// A scale through an HPA (`--kube-scale-hpa`) waits for the HPA to move the Deployment.
#[derive(Clone, Debug)]
struct AutoscalerWait {
    name: String,
    min: u32,
    max: u32,
    until: tokio::time::Instant,
    patience: Duration,
}

/// What the watches have told, and what the gateway is doing.
#[derive(Default)]
struct Cache {
    deployments: BTreeMap<Key, Deployment>,
    pods: BTreeMap<Key, KubePod>,
    replica_sets: BTreeMap<Key, ReplicaSet>,
    autoscalers: BTreeMap<Key, HorizontalPodAutoscaler>,
    /// Per watch that cannot reach the API server: when it last could, and why not now.
    lost: BTreeMap<String, (DateTime<Utc>, String)>,
    /// When each watch last heard from the API server.
    heard: BTreeMap<String, DateTime<Utc>>,
    actions: Vec<Tracked>,
    timeline: VecDeque<TimelineEntry>,
    events_seen: events::Seen,
    /// The watches (`deployments/shop`) that have listed once: a later list is a re-list,
    /// compared with what was held.
    listed: BTreeSet<String>,
    /// Watches (of any kind) whose last attempt failed: what they hold may be behind.
    failing: BTreeSet<String>,
    /// Per Deployment, the newest revision told on the timeline (or known at the first list).
    announced: BTreeMap<Key, i64>,
}

impl Cache {
    /// Since when the apps are stale, and why ("Kubernetes API unavailable: …").
    fn stale(&self) -> Option<(DateTime<Utc>, String)> {
        self.lost
            .values()
            .min_by_key(|(since, _)| *since)
            .map(|(since, why)| (*since, format!("Kubernetes API unavailable: {why}")))
    }

    fn find(&self, app: &str, label: &str) -> Result<&Deployment, PlatformError> {
        self.deployments
            .values()
            .find(|d| shape::app_id(d, label) == app)
            .ok_or_else(|| PlatformError::NotFound(format!("no app {app:?}")))
    }

    fn acting(&self, key: &Key) -> Option<AppStatus> {
        self.actions
            .iter()
            .find(|a| &a.key == key)
            .map(|a| match a.status.kind {
                ActionKind::Scale => AppStatus::Scaling,
                ActionKind::Rollback => AppStatus::RollingBack,
            })
    }

    fn remember(&mut self, entry: TimelineEntry) {
        self.timeline.push_front(entry);
        self.timeline.truncate(TIMELINE);
    }

    /// Revision `rev` of Deployment `key`, told once: the entry when it is newer than what
    /// was told (none when `tell` is false, or for the first revision known of `key`).
    fn announce(
        &mut self,
        key: &Key,
        app: &str,
        release: (
            i64,
            Option<&k8s_openapi::api::core::v1::PodTemplateSpec>,
            Option<&str>,
        ),
        tell: bool,
    ) -> Option<TimelineEntry> {
        let (rev, template, change_cause) = release;
        let known = self.announced.get(key).copied();
        if known.is_some_and(|k| k >= rev) {
            return None;
        }
        self.announced.insert(key.clone(), rev);
        if !tell || known.is_none() {
            return None;
        }
        let cause = match self.acting(key) {
            Some(AppStatus::RollingBack) => changes::Cause::Rollback,
            _ => changes::Cause::Outside,
        };
        let entry = changes::release(Utc::now(), app, rev, template, change_cause, cause);
        self.remember(entry.clone());
        Some(entry)
    }

    /// `source` (a watch, the probe) cannot reach the API server: the apps are stale from the
    /// last time it answered. The timeline entry saying so, the first time.
    fn lose(&mut self, source: &str, why: &str, now: DateTime<Utc>) -> Option<TimelineEntry> {
        if self.lost.contains_key(source) {
            return None;
        }
        let since = self.heard.get(source).copied().unwrap_or(now);
        self.lost
            .insert(source.to_string(), (since, why.to_string()));
        Some(self.say(now, format!("{source}: {why}; showing what was known")))
    }

    /// `source` reached the API server: the timeline entry when it had not before.
    fn answered(&mut self, source: &str, now: DateTime<Utc>) -> Option<TimelineEntry> {
        self.failing.remove(source);
        self.heard.insert(source.to_string(), now);
        self.lost.remove(source)?;
        Some(self.say(now, format!("{source}: the API server answers again")))
    }

    /// A `source` entry about the apps as a whole, remembered.
    fn say(&mut self, now: DateTime<Utc>, message: String) -> TimelineEntry {
        let entry = TimelineEntry {
            ts: now,
            app: String::new(),
            event: PlatformEvent {
                kind: EventKind::Source,
                message,
                actor: None,
                run: None,
            },
        };
        self.remember(entry.clone());
        entry
    }

    /// The Deployment that controls `rs`, when held.
    fn owner_of(&self, rs: &ReplicaSet) -> Option<Key> {
        let owner = rs
            .metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|r| r.controller == Some(true) && r.kind == "Deployment")?;
        let key = (namespace_of(&rs.metadata).to_string(), owner.name.clone());
        self.deployments
            .get(&key)
            .filter(|d| d.metadata.uid.as_deref() == Some(owner.uid.as_str()))
            .map(|_| key)
    }
}

/// What the watches send to the platform's loop.
/// Each change is boxed: Kubernetes objects are large and of very different sizes.
enum Update {
    Deployments(String, Box<Change<Deployment>>),
    Pods(String, Box<Change<KubePod>>),
    ReplicaSets(String, Box<Change<ReplicaSet>>),
    Autoscalers(String, Box<Change<HorizontalPodAutoscaler>>),
    Events(String, Box<Change<KubeEvent>>),
    /// What the probe found: `None` when the API server answered, else why not.
    Probe(Option<String>),
}

/// Kubernetes as a [`Platform`].
pub struct KubePlatform {
    client: Client,
    settings: KubeSettings,
    cache: Arc<Mutex<Cache>>,
    /// The sink `run` was given, for statuses sent from an operator call.
    sink: Mutex<Option<EventSink>>,
}

impl KubePlatform {
    pub fn new(client: Client, settings: KubeSettings) -> KubePlatform {
        KubePlatform {
            client,
            settings,
            cache: Arc::new(Mutex::new(Cache::default())),
            sink: Mutex::new(None),
        }
    }

    /// A client from a kubeconfig file and context, or inferred (`$KUBECONFIG`,
    /// `~/.kube/config`, else the pod's service account).
    pub async fn connect(
        kubeconfig: Option<&std::path::Path>,
        context: Option<&str>,
    ) -> Result<Client, String> {
        use kube::config::{KubeConfigOptions, Kubeconfig};
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = KubeConfigOptions {
            context: context.map(str::to_string),
            ..KubeConfigOptions::default()
        };
        let config = match kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|err| format!("kubeconfig {}: {err}", path.display()))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|err| format!("kubeconfig {}: {err}", path.display()))?
            }
            None if context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|err| format!("kubeconfig: {err}"))?,
            None => kube::Config::infer()
                .await
                .map_err(|err| format!("no Kubernetes configuration found: {err}"))?,
        };
        Client::try_from(config).map_err(|err| format!("cannot build a Kubernetes client: {err}"))
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deployments(&self, namespace: &str) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Scale through the HPA that manages the Deployment `key` (`--kube-scale-hpa`): its
    /// minReplicas becomes `replicas`, its maxReplicas at least that. What to say with the
    /// action's progress, and what to wait for.
    async fn scale_autoscaler(
        &self,
        key: &Key,
        h: &HorizontalPodAutoscaler,
        replicas: u32,
    ) -> Result<(String, AutoscalerWait), PlatformError> {
        if replicas == 0 {
            return Err(PlatformError::Invalid(format!(
                "HorizontalPodAutoscaler {:?} cannot keep 0 replicas; delete it to scale to 0",
                name_of(&h.metadata)
            )));
        }
        let (_, max) = shape::autoscaler_bounds(h);
        let max = max.max(replicas);
        let name = name_of(&h.metadata);
        let api: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), &key.0);
        let patch = serde_json::json!({"spec": {"minReplicas": replicas, "maxReplicas": max}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(platform_error)?;
        let patience = self.settings.hpa_patience;
        Ok((
            format!(
                "HorizontalPodAutoscaler {name:?} now keeps {replicas}-{max} replicas and scales the Deployment"
            ),
            AutoscalerWait {
                name: name.to_string(),
                min: replicas,
                max,
                until: tokio::time::Instant::now() + patience,
                patience,
            },
        ))
    }

    fn find(&self, app: &str) -> Result<(Key, Deployment), PlatformError> {
        let cache = self.lock();
        let d = cache.find(app, &self.settings.app_label)?;
        let key = key_of(&d.metadata);
        Ok((key, d.clone()))
    }

    /// The ReplicaSets `d` controls: from the watch when its pod template carries the app
    /// label (so its ReplicaSets do) and the watch has listed and is not failing (e.g. RBAC
    /// that grants list but not watch), else read now.
    async fn sets_of(&self, d: &Deployment) -> Result<Vec<ReplicaSet>, PlatformError> {
        let labelled = d
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.as_ref())
            .is_some_and(|l| l.contains_key(&self.settings.app_label));
        let ns = namespace_of(&d.metadata);
        if labelled {
            let cache = self.lock();
            let watch = format!("replicasets/{ns}");
            if cache.listed.contains(&watch) && !cache.failing.contains(&watch) {
                let uid = d.metadata.uid.as_deref().unwrap_or_default();
                return Ok(cache
                    .replica_sets
                    .values()
                    .filter(|rs| {
                        namespace_of(&rs.metadata) == ns && shape::owned_by(&rs.metadata, uid)
                    })
                    .cloned()
                    .collect());
            }
        }
        self.replica_sets(d).await
    }

    /// The ReplicaSets `d` controls, read now.
    async fn replica_sets(&self, d: &Deployment) -> Result<Vec<ReplicaSet>, PlatformError> {
        let ns = namespace_of(&d.metadata);
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let selector = d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(platform_error)?;
        Ok(list
            .items
            .into_iter()
            .filter(|rs| shape::owned_by(&rs.metadata, &uid))
            .collect())
    }

    async fn emit(&self, emissions: Vec<Emission>) {
        let sink = self.sink.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(sink) = sink {
            for e in emissions {
                if sink.send(e).await.is_err() {
                    return;
                }
            }
        }
    }

    /// Follow an action from now on: its first status at once, the rest from the loop.
    async fn track(&self, tracked: Tracked, latest: Deployment) {
        let key = tracked.key.clone();
        let emissions = {
            let mut cache = self.lock();
            let mut out = Vec::new();
            // A newer action of the same kind on the same app takes over: the older one fails
            // (as the simulator's do), never left in flight.
            cache.actions.retain_mut(|old| {
                if old.key != key || old.status.kind != tracked.status.kind {
                    return true;
                }
                old.status.state = ActionState::Failed;
                old.status.message = format!("superseded by action {}", tracked.status.id);
                old.status.updated_at = Utc::now();
                out.push(action_emission(&old.status));
                false
            });
            let mut first = tracked.clone();
            first.status.state = ActionState::InProgress;
            first.status.message = tracked.warning.clone().unwrap_or_default();
            first.status.updated_at = Utc::now();
            out.push(action_emission(&first.status));
            // The watch may already hold a newer object than the answer; judge the newer.
            let newer = cache
                .deployments
                .get(&key)
                .filter(|d| d.metadata.generation >= latest.metadata.generation)
                .cloned()
                .unwrap_or(latest);
            cache.deployments.insert(key.clone(), newer.clone());
            cache.actions.push(first);
            out.extend(judge_actions(&mut cache.actions, &key, &newer));
            out
        };
        self.emit(emissions).await;
    }

    /// Every app; a Deployment whose app id an earlier one (by namespace, then name) already
    /// has is left out, as [`Cache::find`] would never pick it.
    fn summaries(&self, cache: &Cache) -> Vec<AppSummary> {
        let stale = cache.stale();
        let mut ids = std::collections::HashSet::new();
        cache
            .deployments
            .iter()
            .filter(|(_, d)| ids.insert(shape::app_id(d, &self.settings.app_label)))
            .map(|(key, d)| {
                let mut s = shape::summary(
                    d,
                    &self.settings.app_label,
                    &self.settings.defaults,
                    // With `scale_hpa` the gateway moves the HPA's bounds itself: the range it
                    // may move them in is the annotations' (or defaults'), not their value now.
                    shape::autoscaler_of(d, cache.autoscalers.values())
                        .filter(|_| !self.settings.scale_hpa),
                    cache.acting(key),
                );
                s.metrics = Some(sample(d, cache.pods.values()));
                s.stale_since = stale.as_ref().map(|(since, _)| *since);
                s.stale_reason = stale.as_ref().map(|(_, why)| why.clone());
                s
            })
            .collect()
    }

    /// Apply one watch update; what it makes worth sending.
    fn apply(&self, update: Update, logs: &mut logs::Followers) -> Vec<Emission> {
        let now = Utc::now();
        let mut cache = self.lock();
        let cache = &mut *cache;
        let mut out = Vec::new();
        let source = match &update {
            Update::Deployments(ns, _) => format!("deployments/{ns}"),
            Update::Pods(ns, _) => format!("pods/{ns}"),
            Update::ReplicaSets(ns, _) => format!("replicasets/{ns}"),
            Update::Autoscalers(ns, _) => format!("horizontalpodautoscalers/{ns}"),
            Update::Events(ns, _) => format!("events/{ns}"),
            Update::Probe(_) => PROBE.to_string(),
        };
        let lost = match &update {
            Update::Deployments(_, c) => lost_reason(c),
            Update::Pods(_, c) => lost_reason(c),
            Update::ReplicaSets(_, c) => lost_reason(c),
            Update::Autoscalers(_, c) => lost_reason(c),
            Update::Events(_, c) => lost_reason(c),
            Update::Probe(why) => why.clone(),
        };
        // Only the watches apps need make the data stale; ReplicaSets (whose releases are
        // listed on demand without them), HPAs and events are extras.
        let essential = matches!(
            update,
            Update::Deployments(..) | Update::Pods(..) | Update::Probe(_)
        );
        match lost {
            Some(why) => {
                tracing::warn!(watch = %source, "{why}");
                cache.failing.insert(source.clone());
                if essential {
                    out.extend(cache.lose(&source, &why, now).map(timeline_emission));
                }
                return out;
            }
            // Only an essential source is ever lost, so only it says it answers again.
            None => out.extend(cache.answered(&source, now).map(timeline_emission)),
        }
        // A list after the first (after 410 Gone) is compared with what was held.
        let relisted =
            |cache: &mut Cache, listed: bool| listed && !cache.listed.insert(source.clone());
        match update {
            Update::Deployments(ns, change) => {
                let relisted = relisted(cache, matches!(*change, Change::Listed(_)));
                let held: BTreeMap<Key, Deployment> = match &*change {
                    Change::Listed(_) => cache
                        .deployments
                        .iter()
                        .filter(|(k, _)| k.0 == ns)
                        .map(|(k, d)| (k.clone(), d.clone()))
                        .collect(),
                    Change::Applied(d) | Change::Deleted(d) => {
                        let key = key_of(&d.metadata);
                        cache
                            .deployments
                            .get(&key)
                            .map(|d| (key, d.clone()))
                            .into_iter()
                            .collect()
                    }
                    Change::Lost(_) | Change::Answering => BTreeMap::new(),
                };
                let first = matches!(*change, Change::Listed(_)) && !relisted;
                let touched = apply_change(&mut cache.deployments, &ns, *change);
                let keys: BTreeSet<Key> = held.keys().chain(&touched).cloned().collect();
                for key in keys {
                    if let Some(d) = cache.deployments.get(&key).cloned() {
                        out.extend(judge_actions(&mut cache.actions, &key, &d));
                    }
                    out.extend(self.tell_deployment(cache, &key, held.get(&key), !first));
                }
                logs.reconcile(cache, &self.settings);
            }
            Update::Pods(ns, change) => {
                apply_change(&mut cache.pods, &ns, *change);
                logs.reconcile(cache, &self.settings);
            }
            Update::ReplicaSets(ns, change) => {
                let tell = !matches!(*change, Change::Listed(_)) || relisted(cache, true);
                let touched = apply_change(&mut cache.replica_sets, &ns, *change);
                for key in touched {
                    let Some(rs) = cache.replica_sets.get(&key).cloned() else {
                        continue;
                    };
                    let (Some(owner), Some(release)) =
                        (cache.owner_of(&rs), changes::replica_set_release(&rs))
                    else {
                        continue;
                    };
                    let app = cache
                        .deployments
                        .get(&owner)
                        .map(|d| shape::app_id(d, &self.settings.app_label))
                        .unwrap_or_default();
                    if let Some(entry) = cache.announce(&owner, &app, release, tell) {
                        out.push(timeline_emission(entry));
                    }
                }
            }
            Update::Autoscalers(ns, change) => {
                apply_change(&mut cache.autoscalers, &ns, *change);
            }
            Update::Probe(_) => {}
            Update::Events(_, change) => {
                let first = matches!(*change, Change::Listed(_)) && !relisted(cache, true);
                let entries = events::observe(cache, *change, &self.settings.app_label, first);
                for entry in entries {
                    cache.remember(entry.clone());
                    out.push(timeline_emission(entry));
                }
            }
        }
        out
    }

    /// What consoles hear of Deployment `key` having been `before` (`None`: not held) and
    /// being what the cache holds now: timeline entries of what moved ([`changes`]), its new
    /// release, and its replicas at once when they moved. `tell` false (the first list) only
    /// remembers its revision.
    fn tell_deployment(
        &self,
        cache: &mut Cache,
        key: &Key,
        before: Option<&Deployment>,
        tell: bool,
    ) -> Vec<Emission> {
        let after = cache.deployments.get(key).cloned();
        let Some(app) = after
            .as_ref()
            .or(before)
            .map(|d| shape::app_id(d, &self.settings.app_label))
        else {
            return Vec::new();
        };
        let release = after.as_ref().and_then(changes::deployment_release);
        if !tell {
            if let Some((rev, _, _)) = release {
                cache.announced.insert(key.clone(), rev);
            }
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(d) = &after {
            let moved = before.is_none_or(|b| {
                (shape::desired(b), shape::ready(b)) != (shape::desired(d), shape::ready(d))
            });
            if moved {
                out.push(Emission {
                    ts: Utc::now(),
                    app: app.clone(),
                    body: Body::Metrics(sample(d, cache.pods.values())),
                });
            }
        }
        for entry in changes::deployment(Utc::now(), &app, before, after.as_ref()) {
            cache.remember(entry.clone());
            out.push(timeline_emission(entry));
        }
        match release {
            // An app that appeared starts from the revision it has.
            Some(release) => {
                if let Some(entry) = cache.announce(key, &app, release, before.is_some()) {
                    out.push(timeline_emission(entry));
                }
            }
            None if after.is_none() => {
                cache.announced.remove(key);
            }
            None => {}
        }
        out
    }

    fn metric_emissions(&self) -> Vec<Emission> {
        let cache = self.lock();
        let now = Utc::now();
        cache
            .deployments
            .values()
            .map(|d| Emission {
                ts: now,
                app: shape::app_id(d, &self.settings.app_label),
                body: Body::Metrics(sample(d, cache.pods.values())),
            })
            .collect()
    }

    fn judge_all(&self) -> Vec<Emission> {
        let mut cache = self.lock();
        let cache = &mut *cache;
        let keys: Vec<Key> = cache.actions.iter().map(|a| a.key.clone()).collect();
        let mut out = Vec::new();
        for key in keys {
            if let Some(d) = cache.deployments.get(&key).cloned() {
                out.extend(judge_actions(&mut cache.actions, &key, &d));
            }
        }
        // An action on a Deployment that was deleted fails; while the API server cannot be
        // reached, the cache may simply be behind, so it waits.
        if cache.lost.is_empty() {
            let now = Utc::now();
            let deployments = &cache.deployments;
            cache.actions.retain_mut(|a| {
                if deployments.contains_key(&a.key) {
                    return true;
                }
                a.status.state = ActionState::Failed;
                a.status.message = format!("deployment {:?} was deleted", a.key.1);
                a.status.updated_at = now;
                out.push(action_emission(&a.status));
                false
            });
        }
        out
    }

    fn spawn_watches(&self, tasks: &mut JoinSet<()>, tx: &mpsc::Sender<Update>) {
        for ns in &self.settings.namespaces {
            let client = self.client.clone();
            let label = self.settings.app_label.clone();
            let (ns1, ns2, ns3, ns4, ns5) =
                (ns.clone(), ns.clone(), ns.clone(), ns.clone(), ns.clone());
            tasks.spawn(watch::follow(
                Api::<Deployment>::namespaced(client.clone(), ns),
                Some(label.clone()),
                tx.clone(),
                move |c| Update::Deployments(ns1.clone(), Box::new(c)),
            ));
            // A Deployment's ReplicaSets carry its pod template's labels: those with the app
            // label are watched (the others are listed when asked for, [`Self::sets_of`]).
            tasks.spawn(watch::follow(
                Api::<ReplicaSet>::namespaced(client.clone(), ns),
                Some(label),
                tx.clone(),
                move |c| Update::ReplicaSets(ns5.clone(), Box::new(c)),
            ));
            tasks.spawn(watch::follow(
                Api::<KubePod>::namespaced(client.clone(), ns),
                None,
                tx.clone(),
                move |c| Update::Pods(ns2.clone(), Box::new(c)),
            ));
            tasks.spawn(watch::follow(
                Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), ns),
                None,
                tx.clone(),
                move |c| Update::Autoscalers(ns3.clone(), Box::new(c)),
            ));
            tasks.spawn(watch::follow(
                Api::<KubeEvent>::namespaced(client, ns),
                None,
                tx.clone(),
                move |c| Update::Events(ns4.clone(), Box::new(c)),
            ));
        }
    }
}

fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Key {
    (namespace_of(meta).to_string(), name_of(meta).to_string())
}

fn lost_reason<K>(change: &Change<K>) -> Option<String> {
    match change {
        Change::Lost(why) => Some(why.clone()),
        _ => None,
    }
}

/// Apply a change to the objects of namespace `ns`; the keys it touched.
fn apply_change<K: kube::Resource>(
    objects: &mut BTreeMap<Key, K>,
    ns: &str,
    change: Change<K>,
) -> Vec<Key> {
    match change {
        Change::Listed(items) => {
            objects.retain(|(n, _), _| n != ns);
            let mut keys = Vec::new();
            for obj in items {
                let mut key = key_of(obj.meta());
                if key.0.is_empty() {
                    key.0 = ns.to_string();
                }
                keys.push(key.clone());
                objects.insert(key, obj);
            }
            keys
        }
        Change::Applied(obj) => {
            let key = key_of(obj.meta());
            objects.insert(key.clone(), obj);
            vec![key]
        }
        Change::Deleted(obj) => {
            let key = key_of(obj.meta());
            objects.remove(&key);
            vec![key]
        }
        Change::Lost(_) | Change::Answering => Vec::new(),
    }
}

/// Judge every action on `key` against `d`; the statuses that changed. Finished actions leave.
fn judge_actions(actions: &mut Vec<Tracked>, key: &Key, d: &Deployment) -> Vec<Emission> {
    let mut out = Vec::new();
    let now = Utc::now();
    for a in actions.iter_mut().filter(|a| &a.key == key) {
        let before = (a.status.state, a.status.progress, a.status.message.clone());
        let judged = match &a.through_autoscaler {
            Some(wait) => wait_for_autoscaler(wait, d, a.since_generation),
            None => rollout::judge(d, a.since_generation),
        };
        let (state, progress, message) = match judged {
            Rollout::Waiting { progress, message } => (ActionState::InProgress, progress, message),
            Rollout::Done { progress } => (
                ActionState::Succeeded,
                progress,
                format!("ready {}/{}", progress.ready, progress.desired),
            ),
            Rollout::Failed { progress, message } => (ActionState::Failed, progress, message),
        };
        a.status.state = state;
        a.status.progress = Some(progress);
        a.status.message = match &a.warning {
            Some(w) => format!("{message}; {w}"),
            None => message,
        };
        if (a.status.state, a.status.progress, a.status.message.clone()) != before {
            a.status.updated_at = now;
            out.push(action_emission(&a.status));
        }
    }
    actions.retain(|a| !a.status.state.is_final());
    out
}

/// A scale through an HPA: waiting until the HPA has asked the Deployment for a count within
/// its new bounds (failed when that takes longer than the patience), then judged as any
/// rollout.
fn wait_for_autoscaler(wait: &AutoscalerWait, d: &Deployment, since_generation: i64) -> Rollout {
    let desired = shape::desired(d);
    if (wait.min..=wait.max).contains(&desired) {
        return rollout::judge(d, since_generation);
    }
    let progress = crate::protocol::Progress {
        ready: shape::ready(d),
        desired: desired.clamp(wait.min, wait.max),
    };
    if tokio::time::Instant::now() >= wait.until {
        return Rollout::Failed {
            progress,
            message: format!(
                "HorizontalPodAutoscaler {:?} did not bring the Deployment to {}-{} replicas within {}s: it asks for {desired}",
                wait.name,
                wait.min,
                wait.max,
                wait.patience.as_secs()
            ),
        };
    }
    Rollout::Waiting {
        progress,
        message: format!(
            "waiting for HorizontalPodAutoscaler {:?} to bring the Deployment to {}-{} replicas: it asks for {desired}",
            wait.name, wait.min, wait.max
        ),
    }
}

fn action_emission(status: &ActionStatus) -> Emission {
    Emission {
        ts: status.updated_at,
        app: status.app.clone(),
        body: Body::Actions(status.clone()),
    }
}

fn timeline_emission(entry: TimelineEntry) -> Emission {
    Emission {
        ts: entry.ts,
        app: entry.app,
        body: Body::Events(entry.event),
    }
}

/// What the API alone says of an app's health: ready and desired replicas, and its pods'
/// restarts (as the extra `pod_restarts`).
fn sample<'a>(d: &Deployment, pods: impl Iterator<Item = &'a KubePod>) -> MetricSample {
    let restarts: u32 = pods
        .filter(|p| shape::selects(d, p))
        .map(shape::restarts)
        .sum();
    MetricSample {
        replicas_ready: shape::ready(d),
        replicas_desired: shape::desired(d),
        extras: BTreeMap::from([("pod_restarts".to_string(), f64::from(restarts))]),
        // The API knows no traffic, latency or usage: absent, not 0.
        absent: vec![
            Metric::Rps,
            Metric::P50,
            Metric::P95,
            Metric::P99,
            Metric::ErrorRatio,
            Metric::Cpu,
            Metric::Memory,
        ],
        ..MetricSample::default()
    }
}

/// A kube error as the gateway's kinds: the API server's own answer keeps its meaning.
fn platform_error(err: kube::Error) -> PlatformError {
    let text = watch::describe(&err);
    match &err {
        kube::Error::Api(status) => match status.code {
            404 => PlatformError::NotFound(text),
            409 => PlatformError::Conflict(text),
            400 | 422 => PlatformError::Invalid(text),
            _ => PlatformError::Unavailable(text),
        },
        _ => PlatformError::Unavailable(text),
    }
}

/// A release id (`7`, or `rev7`) as a revision number.
fn revision_of(id: &str) -> Result<i64, PlatformError> {
    id.trim().trim_start_matches("rev").parse().map_err(|_| {
        PlatformError::NotFound(format!("no release {id:?}: releases are revision numbers"))
    })
}

#[async_trait]
impl Platform for KubePlatform {
    fn name(&self) -> &str {
        "kubernetes"
    }

    async fn run(&self, sink: EventSink) {
        *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink.clone());
        let (tx, mut rx) = mpsc::channel(256);
        let mut tasks = JoinSet::new();
        self.spawn_watches(&mut tasks, &tx);
        let probe = tokio::spawn(watch::probe(
            self.client.clone(),
            self.settings.probe_every,
            tx.clone(),
            Update::Probe,
        ));
        let mut logs = logs::Followers::new(
            self.client.clone(),
            sink.clone(),
            self.settings.log_lines_per_batch,
        );
        let mut metrics = tokio::time::interval(self.settings.metrics_every);
        metrics.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut judge = tokio::time::interval(JUDGE_EVERY);
        judge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let batch = tokio::select! {
                biased;
                () = sink.closed() => break,
                update = rx.recv() => match update {
                    Some(update) => {
                        let recovered = matches!(update, Update::Probe(None))
                            && self.lock().lost.contains_key(PROBE);
                        let batch = self.apply(update, &mut logs);
                        if recovered {
                            // The watches may still wait on connections that died in silence:
                            // start them again; their lists tell what changed meanwhile.
                            tasks.shutdown().await;
                            self.spawn_watches(&mut tasks, &tx);
                        }
                        batch
                    }
                    None => break,
                },
                _ = judge.tick() => self.judge_all(),
                _ = metrics.tick() => self.metric_emissions(),
            };
            for emission in batch {
                if sink.send(emission).await.is_err() {
                    break;
                }
            }
        }
        logs.stop();
        probe.abort();
        tasks.shutdown().await;
    }

    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        let cache = self.lock();
        Ok(self.summaries(&cache))
    }

    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        let (key, d) = self.find(app)?;
        // Pods name their ReplicaSet; its revision is their release. Best effort: without the
        // ReplicaSets the pods are still listed.
        let revisions: BTreeMap<String, String> = match self.sets_of(&d).await {
            Ok(sets) => sets
                .iter()
                .filter_map(|rs| {
                    shape::revision(&rs.metadata)
                        .map(|r| (name_of(&rs.metadata).to_string(), r.to_string()))
                })
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        let cache = self.lock();
        let summary = self
            .summaries(&cache)
            .into_iter()
            .find(|s| s.id == app)
            .ok_or_else(|| PlatformError::NotFound(format!("no app {app:?}")))?;
        let d = cache.deployments.get(&key).unwrap_or(&d);
        let pods = cache
            .pods
            .values()
            .filter(|p| shape::selects(d, p))
            .map(|p| shape::pod(p, &revisions))
            .collect();
        Ok(AppDetail { summary, pods })
    }

    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        let (_, d) = self.find(app)?;
        let sets = self.sets_of(&d).await?;
        Ok(shape::releases(&d, &sets))
    }

    async fn scale(
        &self,
        app: &str,
        replicas: u32,
        action: ActionRequest,
    ) -> Result<(), PlatformError> {
        let (key, d) = self.find(app)?;
        let autoscaler = {
            let cache = self.lock();
            shape::autoscaler_of(&d, cache.autoscalers.values()).cloned()
        };
        let api = self.deployments(&key.0);
        let via_autoscaler = self.settings.scale_hpa && autoscaler.is_some();
        let (warning, through_autoscaler) = match autoscaler {
            Some(h) if self.settings.scale_hpa => {
                let (said, wait) = self.scale_autoscaler(&key, &h, replicas).await?;
                (Some(said), Some(wait))
            }
            Some(h) => {
                let (min, max) = shape::autoscaler_bounds(&h);
                let said = format!(
                    "HorizontalPodAutoscaler {:?} ({min}-{max} replicas) manages this Deployment and will override this count",
                    name_of(&h.metadata)
                );
                (Some(said), None)
            }
            None => (None, None),
        };
        if !via_autoscaler {
            let patch = serde_json::json!({"spec": {"replicas": replicas}});
            api.patch_scale(&key.1, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(platform_error)?;
        }
        // The scale answer does not carry the generation the change made; the object does.
        let latest = api.get(&key.1).await.map_err(platform_error)?;
        let tracked = Tracked {
            status: ActionStatus {
                id: action.id,
                kind: ActionKind::Scale,
                app: app.to_string(),
                state: ActionState::Accepted,
                description: format!("scale {app} {} -> {replicas}", shape::desired(&d)),
                progress: None,
                message: String::new(),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            key,
            since_generation: latest.metadata.generation.unwrap_or(0),
            warning,
            through_autoscaler,
        };
        self.track(tracked, latest).await;
        Ok(())
    }

    async fn rollback(
        &self,
        app: &str,
        to: Option<&str>,
        action: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        let (key, _) = self.find(app)?;
        let to = to.map(revision_of).transpose()?;
        let api = self.deployments(&key.0);
        // As kubectl does: the Deployment as it is now, not as the cache last saw it.
        let d = api.get(&key.1).await.map_err(platform_error)?;
        let sets = self.sets_of(&d).await?;
        let target = rollback::pick(&d, &sets, to)?;
        let rev = shape::revision(&target.metadata).unwrap_or(0);
        let cause = format!(
            "opsdeck: rollback to revision {rev} by {} (action {})",
            action.actor, action.id
        );
        let patch = rollback::patch(&d, target, &cause)?;
        let releases = shape::releases(&d, &sets);
        let to_release = releases
            .iter()
            .find(|r| r.id == rev.to_string())
            .cloned()
            .ok_or_else(|| PlatformError::NotFound(format!("no revision {rev}")))?;
        let from_release = releases
            .iter()
            .find(|r| matches!(r.status, ReleaseStatus::Active | ReleaseStatus::Failed))
            .cloned()
            .unwrap_or_else(|| Release {
                id: shape::revision(&d.metadata)
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                version: shape::version(d.spec.as_ref().map(|s| &s.template), None),
                created_at: Utc::now(),
                status: ReleaseStatus::Active,
                change_cause: String::new(),
                artifact: String::new(),
            });
        let body = serde_json::to_vec(&patch)
            .map_err(|err| PlatformError::Unavailable(format!("cannot write the patch: {err}")))?;
        let request = http::Request::patch(format!(
            "/apis/apps/v1/namespaces/{}/deployments/{}",
            key.0, key.1
        ))
        .header(http::header::CONTENT_TYPE, rollback::PATCH_CONTENT_TYPE)
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .map_err(|err| PlatformError::Unavailable(format!("cannot build the patch: {err}")))?;
        let latest: Deployment = self.client.request(request).await.map_err(platform_error)?;
        let tracked = Tracked {
            status: ActionStatus {
                id: action.id,
                kind: ActionKind::Rollback,
                app: app.to_string(),
                state: ActionState::Accepted,
                description: format!(
                    "rollback {app} {} -> {}",
                    from_release.version, to_release.version
                ),
                progress: None,
                message: String::new(),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            key,
            since_generation: latest.metadata.generation.unwrap_or(0),
            warning: None,
            through_autoscaler: None,
        };
        self.track(tracked, latest).await;
        Ok(RollbackPlan {
            from: from_release,
            to: to_release,
        })
    }

    /// Kubernetes has no alerts of its own: use `--alertmanager`.
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(Vec::new())
    }

    async fn acknowledge(&self, alert: &str, _by: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound(format!(
            "no alert {alert:?}: Kubernetes has no alerts of its own; use --alertmanager"
        )))
    }

    async fn silence(
        &self,
        alert: &str,
        _secs: u64,
        _comment: &str,
        _by: &str,
    ) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound(format!(
            "no alert {alert:?}: Kubernetes has no alerts of its own; use --alertmanager"
        )))
    }

    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(self.lock().timeline.iter().cloned().collect())
    }
}

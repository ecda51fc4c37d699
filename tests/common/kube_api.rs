//! A fake Kubernetes API server on 127.0.0.1:0 for the Kubernetes platform's contract tests.
//! It answers with the API's documented JSON shapes (lists with `metadata.resourceVersion`,
//! watch streams of `{"type","object"}` lines, `Status` errors, the `Scale` subresource,
//! `--timestamps` log lines) and it CHECKS what it is asked: an unknown path or method, a
//! wrong content type, a patch of the wrong shape or a missing query parameter is recorded as
//! a violation (and answered 4xx), so a test that ends with [`FakeKube::assert_clean`] fails
//! on a wrong call, and on a call that the gateway's RBAC (deploy/kubernetes/rbac.yaml) would
//! not allow.
//!
//! The world is one namespace's Deployments, ReplicaSets, Pods, HPAs and Events, as JSON values the
//! test edits with [`FakeKube::update`]; every change bumps the resourceVersion and goes to
//! the open watches. Watches resume from the resourceVersion asked (changes since are
//! replayed); [`FakeKube::expire`] makes older versions answer `410 Gone`, and
//! [`FakeKube::drop_watches`] closes every open watch as a dropped connection would.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: String,
    pub body: String,
}

/// The kinds the fake serves, by their plural.
pub const KINDS: [&str; 5] = [
    "deployments",
    "replicasets",
    "pods",
    "horizontalpodautoscalers",
    "events",
];

#[derive(Default)]
struct World {
    rv: u64,
    /// Objects by kind, then name.
    objects: BTreeMap<&'static str, BTreeMap<String, Value>>,
    /// Every change by kind: (resourceVersion, watch line).
    history: BTreeMap<&'static str, Vec<(u64, String)>>,
    /// Watches from a version below this answer 410 Gone.
    expired_below: BTreeMap<&'static str, u64>,
    watchers: BTreeMap<&'static str, Vec<mpsc::UnboundedSender<Bytes>>>,
    /// Watches kept open but sent nothing since the server was silent.
    silenced: BTreeMap<&'static str, Vec<mpsc::UnboundedSender<Bytes>>>,
    /// Log lines by pod: (time, message).
    logs: BTreeMap<String, Vec<(DateTime<Utc>, String)>>,
    log_followers: BTreeMap<String, Vec<mpsc::UnboundedSender<Bytes>>>,
    /// Every request answers 500 while set.
    down: bool,
    /// Watches of these kinds answer 403, as RBAC without `watch` does.
    watch_forbidden: Vec<&'static str>,
    seen: Vec<Seen>,
    violations: Vec<String>,
}

#[derive(Clone)]
pub struct FakeKube {
    pub addr: SocketAddr,
    world: Arc<Mutex<World>>,
    /// While true, requests wait unanswered and open watches stay silent (a partition).
    silent: Arc<tokio::sync::watch::Sender<bool>>,
}

pub const NS: &str = "shop";

fn kind_of(plural: &str) -> Option<&'static str> {
    KINDS.iter().copied().find(|k| *k == plural)
}

fn api_version(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "deployments" => ("apps/v1", "Deployment"),
        "replicasets" => ("apps/v1", "ReplicaSet"),
        "pods" => ("v1", "Pod"),
        "horizontalpodautoscalers" => ("autoscaling/v2", "HorizontalPodAutoscaler"),
        _ => ("events.k8s.io/v1", "Event"),
    }
}

/// A `Status` failure as the API server sends it.
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    })
}

fn answer(code: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn streaming(rx: mpsc::UnboundedReceiver<Bytes>, content_type: &'static str) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::io::Error>(b), rx))
    });
    (
        StatusCode::OK,
        [("content-type", content_type)],
        Body::from_stream(stream),
    )
        .into_response()
}

impl World {
    fn violation(&mut self, what: String) -> Response {
        self.violations.push(what.clone());
        answer(
            400,
            status(400, "BadRequest", &format!("fake API server: {what}")),
        )
    }

    fn stamp(&mut self, kind: &'static str, mut obj: Value) -> Value {
        self.rv += 1;
        let (api, k) = api_version(kind);
        obj["apiVersion"] = json!(api);
        obj["kind"] = json!(k);
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        obj["metadata"]["namespace"] = json!(NS);
        obj
    }

    /// Record a change and send it to the open watches.
    fn publish(&mut self, kind: &'static str, kind_word: &str, obj: &Value) {
        let line = format!("{}\n", json!({"type": kind_word, "object": obj}));
        self.history
            .entry(kind)
            .or_default()
            .push((self.rv, line.clone()));
        if let Some(ws) = self.watchers.get_mut(kind) {
            ws.retain(|w| w.send(Bytes::from(line.clone())).is_ok());
        }
    }

    fn put(&mut self, kind: &'static str, obj: Value) -> Value {
        let name = obj["metadata"]["name"].as_str().unwrap().to_string();
        let existed = self
            .objects
            .get(kind)
            .is_some_and(|m| m.contains_key(&name));
        let obj = self.stamp(kind, obj);
        self.objects
            .entry(kind)
            .or_default()
            .insert(name, obj.clone());
        self.publish(kind, if existed { "MODIFIED" } else { "ADDED" }, &obj);
        obj
    }

    fn list(&self, kind: &'static str, selector: Option<&str>) -> Value {
        let (api, k) = api_version(kind);
        let items: Vec<Value> = self
            .objects
            .get(kind)
            .map(|m| {
                m.values()
                    .filter(|o| selector.is_none_or(|s| selects(s, o)))
                    .map(|o| {
                        let mut o = o.clone();
                        // Items of a list carry no kind of their own.
                        o.as_object_mut().unwrap().remove("kind");
                        o.as_object_mut().unwrap().remove("apiVersion");
                        o
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "kind": format!("{k}List"), "apiVersion": api,
            "metadata": {"resourceVersion": self.rv.to_string()},
            "items": items,
        })
    }
}

/// Whether `obj`'s labels satisfy a selector of `k=v` and bare `k` (exists) terms.
fn selects(selector: &str, obj: &Value) -> bool {
    let labels = &obj["metadata"]["labels"];
    selector
        .split(',')
        .filter(|t| !t.is_empty())
        .all(|term| match term.split_once('=') {
            Some((k, v)) => labels[k].as_str() == Some(v),
            None => !labels[term].is_null(),
        })
}

fn log_line(ts: &DateTime<Utc>, message: &str) -> String {
    format!(
        "{} {message}\n",
        ts.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    )
}

impl FakeKube {
    pub async fn start() -> FakeKube {
        let world = Arc::new(Mutex::new(World::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = FakeKube {
            addr,
            world,
            silent: Arc::new(tokio::sync::watch::Sender::new(false)),
        };
        let app = axum::Router::new().fallback({
            let fake = fake.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let fake = fake.clone();
                async move {
                    let mut silent = fake.silent.subscribe();
                    let _ = silent.wait_for(|s| !*s).await;
                    fake.handle(method, uri, headers, body)
                }
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// A kube client for this server (plain http, no credentials, namespace `default`).
    pub fn client(&self) -> kube::Client {
        let url: axum::http::Uri = format!("http://{}", self.addr).parse().unwrap();
        kube::Client::try_from(kube::Config::new(url)).unwrap()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Add or replace an object (stamped with kind, namespace and a new resourceVersion).
    pub fn put(&self, kind: &'static str, obj: Value) -> Value {
        self.lock().put(kind, obj)
    }

    /// Change an object in place, as a controller would.
    pub fn update(&self, kind: &'static str, name: &str, change: impl FnOnce(&mut Value)) {
        let mut w = self.lock();
        let mut obj = w.objects[kind][name].clone();
        change(&mut obj);
        w.put(kind, obj);
    }

    pub fn delete(&self, kind: &'static str, name: &str) {
        let mut w = self.lock();
        if let Some(obj) = w.objects.get_mut(kind).and_then(|m| m.remove(name)) {
            let obj = w.stamp(kind, obj);
            w.publish(kind, "DELETED", &obj);
        }
    }

    pub fn get(&self, kind: &'static str, name: &str) -> Value {
        self.lock().objects[kind][name].clone()
    }

    /// Watches of `kind` from a version older than now answer 410 Gone from here on.
    pub fn expire(&self, kind: &'static str) {
        let mut w = self.lock();
        let now = w.rv + 1;
        w.expired_below.insert(kind, now);
    }

    /// Watches of `kind` answer 403 Forbidden from here on (RBAC granting list, not watch).
    pub fn forbid_watch(&self, kind: &'static str) {
        let mut w = self.lock();
        w.watch_forbidden.push(kind);
        w.watchers.remove(kind);
    }

    /// Close every open watch of `kind`, as a dropped connection would.
    pub fn drop_watches(&self, kind: &'static str) {
        self.lock().watchers.remove(kind);
    }

    /// Answer every request 500 (true) or serve again (false).
    pub fn set_down(&self, down: bool) {
        let mut w = self.lock();
        w.down = down;
        if down {
            w.watchers.clear();
            w.log_followers.clear();
        }
    }

    /// Answer nothing (true), as a server behind a partition: requests wait, open watches
    /// stay open and silent, changes reach no watch. Back (false): the waiting requests are
    /// answered; the watches that were open stay open and silent for good, as connections
    /// that died unseen do, so only a client that watches again hears of a change.
    pub fn set_silent(&self, silent: bool) {
        let mut w = self.lock();
        if silent {
            let open = std::mem::take(&mut w.watchers);
            for (kind, watches) in open {
                w.silenced.entry(kind).or_default().extend(watches);
            }
        }
        drop(w);
        self.silent.send_replace(silent);
    }

    /// Append a line to a pod's log (sent to its followers).
    pub fn log(&self, pod: &str, ts: DateTime<Utc>, message: &str) {
        let mut w = self.lock();
        w.logs
            .entry(pod.to_string())
            .or_default()
            .push((ts, message.to_string()));
        let line = Bytes::from(log_line(&ts, message));
        if let Some(fs) = w.log_followers.get_mut(pod) {
            fs.retain(|f| f.send(line.clone()).is_ok());
        }
    }

    /// Close every log stream of `pod`, as a dropped connection would.
    pub fn drop_logs(&self, pod: &str) {
        self.lock().log_followers.remove(pod);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Requests so far with this method whose path ends with `suffix`.
    pub fn requests(&self, method: &str, suffix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.path.ends_with(suffix))
            .collect()
    }

    /// Fail the test if any request was wrong, or needed a permission that the gateway's
    /// RBAC (deploy/kubernetes/rbac.yaml) does not grant.
    pub fn assert_clean(&self) {
        let w = self.lock();
        assert!(
            w.violations.is_empty(),
            "the fake API server got wrong requests: {:#?}",
            w.violations
        );
        let granted = granted();
        let refused: std::collections::BTreeSet<_> = w
            .seen
            .iter()
            .filter_map(permission)
            .filter(|p| !granted.contains(p))
            .collect();
        assert!(
            refused.is_empty(),
            "deploy/kubernetes/rbac.yaml does not grant (resource, verb): {refused:?}"
        );
    }

    fn handle(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let query: BTreeMap<String, String> = uri
            .query()
            .map(|q| {
                url_pairs(q)
                    .into_iter()
                    .collect::<BTreeMap<String, String>>()
            })
            .unwrap_or_default();
        let seen = Seen {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: query.clone(),
            content_type: headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let mut w = self.lock();
        w.seen.push(seen.clone());
        if w.down {
            // 500, not 503: the client retries a 503 itself for a while.
            return answer(
                500,
                status(500, "InternalError", "the fake API server is down"),
            );
        }
        if method == Method::GET && uri.path() == "/version" {
            return answer(
                200,
                json!({"major": "1", "minor": "31", "gitVersion": "v1.31.2",
                       "gitCommit": "5864a4677267e6adeae276ad85882a8714d69d9d",
                       "gitTreeState": "clean", "buildDate": "2024-10-22T20:28:14Z",
                       "goVersion": "go1.22.8", "compiler": "gc", "platform": "linux/amd64"}),
            );
        }
        let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
        // /api/v1/namespaces/{ns}/{kind}[/{name}[/{sub}]] and /apis/{group}/{v}/namespaces/...
        let rest: &[&str] = match parts.as_slice() {
            ["api", "v1", "namespaces", rest @ ..] => rest,
            [
                "apis",
                "apps" | "autoscaling" | "events.k8s.io",
                _,
                "namespaces",
                rest @ ..,
            ] => rest,
            _ => return w.violation(format!("unknown path {} {}", method, uri.path())),
        };
        let (ns, plural, name, sub) = match rest {
            [ns, plural] => (*ns, *plural, None, None),
            [ns, plural, name] => (*ns, *plural, Some(*name), None),
            [ns, plural, name, sub] => (*ns, *plural, Some(*name), Some(*sub)),
            _ => return w.violation(format!("unknown path {} {}", method, uri.path())),
        };
        if ns != NS {
            return w.violation(format!("namespace {ns:?} was not configured"));
        }
        let Some(kind) = kind_of(plural) else {
            return w.violation(format!("unknown kind {plural:?}"));
        };
        let expected_prefix = match kind {
            "pods" => "/api/v1/",
            "deployments" | "replicasets" => "/apis/apps/v1/",
            "horizontalpodautoscalers" => "/apis/autoscaling/v2/",
            _ => "/apis/events.k8s.io/v1/",
        };
        if !uri.path().starts_with(expected_prefix) {
            return w.violation(format!("{kind} asked at the wrong group: {}", uri.path()));
        }
        match (&method, name, sub) {
            (&Method::GET, None, None) => self.list_or_watch(&mut w, kind, &query),
            (&Method::GET, Some(name), None) => match w.objects.get(kind).and_then(|m| m.get(name))
            {
                Some(obj) => answer(200, obj.clone()),
                None => answer(
                    404,
                    status(404, "NotFound", &format!("{plural} {name:?} not found")),
                ),
            },
            (&Method::PATCH, Some(name), Some("scale")) if kind == "deployments" => {
                Self::scale(&mut w, name, &seen)
            }
            (&Method::PATCH, Some(name), None) if kind == "horizontalpodautoscalers" => {
                Self::autoscaler_patch(&mut w, name, &seen)
            }
            (&Method::PATCH, Some(name), None) if kind == "deployments" => {
                Self::json_patch(&mut w, name, &seen)
            }
            (&Method::GET, Some(pod), Some("log")) if kind == "pods" => {
                Self::follow_log(&mut w, pod, &query)
            }
            _ => w.violation(format!("unexpected {method} {}", uri.path())),
        }
    }

    fn list_or_watch(
        &self,
        w: &mut World,
        kind: &'static str,
        query: &BTreeMap<String, String>,
    ) -> Response {
        let selector = query.get("labelSelector").map(String::as_str);
        match kind {
            "deployments" if selector != Some("opsdeck.io/app") => {
                return w.violation(format!(
                    "deployments must be selected by the app label, got {selector:?}"
                ));
            }
            // Watched by the app label, or listed by a Deployment's matchLabels.
            "replicasets"
                if selector != Some("opsdeck.io/app")
                    && selector.is_none_or(|s| !s.contains('=')) =>
            {
                return w.violation(format!(
                    "replicasets must be selected by the app label or the Deployment's matchLabels, got {selector:?}"
                ));
            }
            _ => {}
        }
        if query.get("watch").map(String::as_str) != Some("true") {
            return answer(200, w.list(kind, selector));
        }
        if kind == "replicasets" && selector != Some("opsdeck.io/app") {
            return w.violation(format!(
                "replicasets are watched by the app label, got {selector:?}"
            ));
        }
        if w.watch_forbidden.contains(&kind) {
            return answer(
                403,
                status(
                    403,
                    "Forbidden",
                    &format!("{kind} is forbidden: User cannot watch resource \"{kind}\""),
                ),
            );
        }
        let Some(from) = query
            .get("resourceVersion")
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return w.violation(format!("a watch of {kind} without a resourceVersion"));
        };
        let (tx, rx) = mpsc::unbounded_channel();
        if from < w.expired_below.get(kind).copied().unwrap_or(0) {
            let gone = status(410, "Expired", &format!("too old resource version: {from}"));
            let _ = tx.send(Bytes::from(format!(
                "{}\n",
                json!({"type": "ERROR", "object": gone})
            )));
            drop(tx);
            return streaming(rx, "application/json");
        }
        for (rv, line) in w.history.get(kind).into_iter().flatten() {
            if *rv > from {
                let _ = tx.send(Bytes::from(line.clone()));
            }
        }
        w.watchers.entry(kind).or_default().push(tx);
        streaming(rx, "application/json")
    }

    fn scale(w: &mut World, name: &str, seen: &Seen) -> Response {
        if seen.content_type != "application/merge-patch+json" {
            return w.violation(format!(
                "scale patch sent as {:?}, not application/merge-patch+json",
                seen.content_type
            ));
        }
        let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let Some(replicas) = body.pointer("/spec/replicas").and_then(Value::as_i64) else {
            return w.violation(format!("scale patch without spec.replicas: {}", seen.body));
        };
        if body.as_object().map(|o| o.len()) != Some(1)
            || body["spec"].as_object().map(|o| o.len()) != Some(1)
        {
            return w.violation(format!(
                "scale patch with more than spec.replicas: {}",
                seen.body
            ));
        }
        let Some(mut d) = w
            .objects
            .get("deployments")
            .and_then(|m| m.get(name))
            .cloned()
        else {
            return answer(404, status(404, "NotFound", "deployment not found"));
        };
        let before = d["status"]["replicas"].clone();
        d["spec"]["replicas"] = json!(replicas);
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
        d["metadata"]["generation"] = json!(generation + 1);
        let d = w.put("deployments", d);
        answer(
            200,
            json!({
                "kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {
                    "name": name, "namespace": NS,
                    "uid": d["metadata"]["uid"], "resourceVersion": d["metadata"]["resourceVersion"],
                },
                "spec": {"replicas": replicas},
                "status": {"replicas": before, "selector": "app=cart"},
            }),
        )
    }

    /// `--kube-scale-hpa`: a merge patch of the HPA's spec.minReplicas and spec.maxReplicas,
    /// nothing else.
    fn autoscaler_patch(w: &mut World, name: &str, seen: &Seen) -> Response {
        if seen.content_type != "application/merge-patch+json" {
            return w.violation(format!(
                "HPA patch sent as {:?}, not application/merge-patch+json",
                seen.content_type
            ));
        }
        let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let (Some(min), Some(max)) = (
            body.pointer("/spec/minReplicas").and_then(Value::as_i64),
            body.pointer("/spec/maxReplicas").and_then(Value::as_i64),
        ) else {
            return w.violation(format!("HPA patch without both bounds: {}", seen.body));
        };
        if body.as_object().map(|o| o.len()) != Some(1)
            || body["spec"].as_object().map(|o| o.len()) != Some(2)
            || min < 1
            || min > max
        {
            return w.violation(format!("HPA patch not just 1 <= min <= max: {}", seen.body));
        }
        let Some(mut h) = w
            .objects
            .get("horizontalpodautoscalers")
            .and_then(|m| m.get(name))
            .cloned()
        else {
            return answer(
                404,
                status(404, "NotFound", "horizontalpodautoscaler not found"),
            );
        };
        h["spec"]["minReplicas"] = json!(min);
        h["spec"]["maxReplicas"] = json!(max);
        let h = w.put("horizontalpodautoscalers", h);
        answer(200, h)
    }

    fn json_patch(w: &mut World, name: &str, seen: &Seen) -> Response {
        if seen.content_type != "application/json-patch+json" {
            return w.violation(format!(
                "deployment patch sent as {:?}, not application/json-patch+json",
                seen.content_type
            ));
        }
        let ops: Vec<Value> = match serde_json::from_str(&seen.body) {
            Ok(ops) => ops,
            Err(err) => return w.violation(format!("deployment patch is not a JSON patch: {err}")),
        };
        let Some(mut d) = w
            .objects
            .get("deployments")
            .and_then(|m| m.get(name))
            .cloned()
        else {
            return answer(404, status(404, "NotFound", "deployment not found"));
        };
        for op in &ops {
            let (Some("replace"), Some(path), Some(value)) =
                (op["op"].as_str(), op["path"].as_str(), op.get("value"))
            else {
                return w.violation(format!("unexpected patch operation {op}"));
            };
            match path {
                "/spec/template" => d["spec"]["template"] = value.clone(),
                "/metadata/annotations" => d["metadata"]["annotations"] = value.clone(),
                other => return w.violation(format!("patch of an unexpected path {other}")),
            }
        }
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
        d["metadata"]["generation"] = json!(generation + 1);
        let d = w.put("deployments", d);
        answer(200, d)
    }

    fn follow_log(w: &mut World, pod: &str, query: &BTreeMap<String, String>) -> Response {
        if !w.objects.get("pods").is_some_and(|m| m.contains_key(pod)) {
            return answer(
                404,
                status(404, "NotFound", &format!("pods {pod:?} not found")),
            );
        }
        for (param, want) in [("follow", "true"), ("timestamps", "true")] {
            if query.get(param).map(String::as_str) != Some(want) {
                return w.violation(format!("log of {pod} without {param}=true: {query:?}"));
            }
        }
        if !query.contains_key("container") {
            return w.violation(format!("log of {pod} without a container: {query:?}"));
        }
        let since = match (query.get("sinceTime"), query.get("tailLines")) {
            (Some(_), Some(_)) => {
                return w.violation(format!("log of {pod} with both sinceTime and tailLines"));
            }
            (Some(t), None) => match DateTime::parse_from_rfc3339(t) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(_) => return w.violation(format!("sinceTime {t:?} is not RFC 3339")),
            },
            (None, Some(_)) => None,
            (None, None) => {
                return w.violation(format!("first log of {pod} without tailLines"));
            }
        };
        let tail: usize = query
            .get("tailLines")
            .and_then(|t| t.parse().ok())
            .unwrap_or(usize::MAX);
        let (tx, rx) = mpsc::unbounded_channel();
        let lines = w.logs.get(pod).cloned().unwrap_or_default();
        let kept: Vec<_> = lines
            .iter()
            .filter(|(ts, _)| since.is_none_or(|s| *ts >= s))
            .collect();
        let skip = kept.len().saturating_sub(tail);
        for (ts, message) in kept.into_iter().skip(skip) {
            let _ = tx.send(Bytes::from(log_line(ts, message)));
        }
        w.log_followers.entry(pod.to_string()).or_default().push(tx);
        streaming(rx, "text/plain")
    }
}

/// The (resource, verb) pairs deploy/kubernetes/rbac.yaml grants, read from its
/// `resources: [...]` and `verbs: [...]` lines.
fn granted() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kubernetes/rbac.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut resources: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(list) = line.strip_prefix("resources:") {
            resources = serde_json::from_str(list.trim()).unwrap();
        } else if let Some(list) = line.strip_prefix("verbs:") {
            let verbs: Vec<String> = serde_json::from_str(list.trim()).unwrap();
            for r in &resources {
                out.extend(verbs.iter().map(|v| (r.clone(), v.clone())));
            }
        }
    }
    out
}

/// The (resource, verb) a request needs, as the API server's authorizer names them.
fn permission(seen: &Seen) -> Option<(String, String)> {
    let (_, rest) = seen.path.split_once("/namespaces/")?;
    let parts: Vec<&str> = rest.split('/').skip(1).collect();
    let watch = seen.query.get("watch").map(String::as_str) == Some("true");
    let (resource, verb) = match (seen.method.as_str(), parts.as_slice()) {
        ("GET", [plural]) => (plural.to_string(), if watch { "watch" } else { "list" }),
        ("GET", [plural, _]) => (plural.to_string(), "get"),
        ("GET", [plural, _, sub]) => (format!("{plural}/{sub}"), "get"),
        ("PATCH", [plural, _]) => (plural.to_string(), "patch"),
        ("PATCH", [plural, _, sub]) => (format!("{plural}/{sub}"), "patch"),
        _ => return None,
    };
    Some((resource, verb.to_string()))
}

/// `a=b&c=d` decoded (percent escapes and `+`).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Deployment `name` of app `app` in the fake's namespace: `replicas` wanted, the rollout
/// done (observed, updated, ready, available), at `revision` with `image`.
pub fn deployment(name: &str, app: &str, replicas: i64, revision: i64, image: &str) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": NS, "uid": format!("uid-{name}"), "generation": 4,
            "creationTimestamp": "2026-12-01T08:00:00Z",
            "labels": {"opsdeck.io/app": app},
            "annotations": {
                "deployment.kubernetes.io/revision": revision.to_string(),
                "opsdeck.io/name": "购物车",
                "opsdeck.io/min-replicas": "1",
                "opsdeck.io/max-replicas": "12",
                "opsdeck.io/runbooks": "bad-release, flash-sale-spike",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}",
            },
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": template(app, image, None),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 4, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "lastUpdateTime": "2026-12-01T08:01:00Z", "lastTransitionTime": "2026-12-01T08:01:00Z"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "lastUpdateTime": "2026-12-01T08:01:00Z", "lastTransitionTime": "2026-12-01T08:00:00Z"},
            ],
        },
    })
}

/// A pod template of app `app` running `image`, with the hash label when given.
pub fn template(app: &str, image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": app, "opsdeck.io/app": app});
    if let Some(hash) = hash {
        labels["pod-template-hash"] = json!(hash);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {
            "containers": [{
                "name": "app", "image": image,
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {}, "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
            }],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler",
        },
    })
}

/// ReplicaSet `{deployment}-{hash}` owned by the Deployment, at `revision`.
pub fn replica_set(
    deployment: &str,
    app: &str,
    hash: &str,
    revision: i64,
    image: &str,
    change_cause: &str,
) -> Value {
    json!({
        "metadata": {
            "name": format!("{deployment}-{hash}"), "namespace": NS,
            "uid": format!("uid-rs-{hash}"),
            "creationTimestamp": format!("2026-12-0{revision}T08:00:00Z"),
            // A ReplicaSet's labels are its template's, with the hash.
            "labels": {"app": app, "opsdeck.io/app": app, "pod-template-hash": hash},
            "annotations": {
                "deployment.kubernetes.io/revision": revision.to_string(),
                "deployment.kubernetes.io/desired-replicas": "3",
                "deployment.kubernetes.io/max-replicas": "4",
                "kubernetes.io/change-cause": change_cause,
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment,
                "uid": format!("uid-{deployment}"), "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": app, "pod-template-hash": hash}},
            "template": template(app, image, Some(hash)),
        },
        "status": {"replicas": 0, "observedGeneration": 2},
    })
}

/// A running, ready pod of a ReplicaSet.
pub fn pod(name: &str, app: &str, replica_set: &str, restarts: i64) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": NS, "uid": format!("uid-{name}"),
            "creationTimestamp": "2026-12-06T10:00:00Z",
            "labels": {"app": app, "pod-template-hash": replica_set.rsplit('-').next().unwrap_or("")},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                "uid": "uid-rs", "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "shop/cart:1"}]},
        "status": {
            "phase": "Running", "startTime": "2026-12-06T10:00:00Z",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "ready": true, "restartCount": restarts, "image": "shop/cart:1",
                "imageID": "", "started": true,
                "state": {"running": {"startedAt": "2026-12-06T10:00:01Z"}},
            }],
        },
    })
}

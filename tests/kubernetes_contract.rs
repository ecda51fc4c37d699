//! The Kubernetes platform against a fake API server (tests/common/kube_api.rs) that answers
//! with the API's JSON shapes and checks every request it gets. No cluster runs here: these
//! tests pin the calls the adapter makes (paths, queries, content types, patch bodies) and
//! what it makes of the answers, through the gateway's HTTP API and stream as a user drives it.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::gateway::{get_json, http, loopback_config, start, url};
use common::kube_api::{FakeKube, NS, deployment, pod, replica_set, template};
use common::stream::Client;
use common::wait::poll_until;
use opsdeck::gateway::Running;
use opsdeck::platform::kubernetes::{KubePlatform, KubeSettings};
use opsdeck::protocol::{
    ActionState, ActionStatus, AppDetail, AppSummary, Body, ClientMsg, ErrorBody, EventKind,
    Filter, Metric, Release, ReleaseStatus, ServerMsg, Topic,
};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(10);

/// The world of most tests: app `cart` (Deployment `cart`, 3 replicas) at revision 3 with
/// two older revisions, one ready pod.
async fn cluster() -> (FakeKube, Running) {
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 3, 3, "shop/cart:1.3"),
    );
    for (hash, rev, tag, cause) in [
        ("aaa111", 1, "1.1", "first release"),
        ("bbb222", 2, "1.2", "faster checkout"),
        ("ccc333", 3, "1.3", "new coupons"),
    ] {
        let image = format!("shop/cart:{tag}");
        fake.put(
            "replicasets",
            replica_set("cart", "cart", hash, rev, &image, cause),
        );
    }
    fake.put("pods", pod("cart-ccc333-x1", "cart", "cart-ccc333", 2));
    let gw = gateway_over(&fake).await;
    (fake, gw)
}

async fn gateway_over(fake: &FakeKube) -> Running {
    let settings = KubeSettings {
        metrics_every: Duration::from_millis(200),
        ..KubeSettings::new(vec![NS.to_string()])
    };
    let platform = KubePlatform::new(fake.client(), settings);
    let gw = start(loopback_config(), Arc::new(platform)).await;
    app_where(&gw, "cart", |_| true).await;
    gw
}

/// App `id` once `cond` holds for it.
async fn app_where(gw: &Running, id: &str, cond: impl Fn(&AppSummary) -> bool) -> AppSummary {
    poll_until(PATIENCE, &format!("app {id} as expected"), async || {
        let apps: Vec<AppSummary> = get_json(gw, "/v1/apps").await;
        apps.into_iter().find(|a| a.id == id && cond(a))
    })
    .await
}

async fn watch(gw: &Running, topics: &[Topic]) -> Client {
    watch_from(gw, topics, BTreeMap::new()).await
}

/// A stream of `topics`, replayed after the sequence numbers in `resume`.
async fn watch_from(gw: &Running, topics: &[Topic], resume: BTreeMap<Topic, u64>) -> Client {
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: topics.to_vec(),
            filter: Filter::default(),
            resume,
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    client
}

/// Bodies from the stream until `done` holds for one; fails after [`PATIENCE`].
async fn until(client: &mut Client, mut done: impl FnMut(&Body) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if let Some(ServerMsg::Events { events }) = client.try_recv(Duration::from_secs(1)).await {
            for e in events {
                if done(&e.body) {
                    return;
                }
            }
        }
    }
    panic!("the stream did not show what was awaited within {PATIENCE:?}");
}

async fn post(gw: &Running, path: &str, body: Value) -> reqwest::Response {
    http().post(url(gw, path)).json(&body).send().await.unwrap()
}

/// The controller's view after it observed the newest generation: `updated`, `ready` of the
/// wanted replicas.
fn observe(d: &mut Value, updated: i64, ready: i64) {
    d["status"]["observedGeneration"] = d["metadata"]["generation"].clone();
    d["status"]["updatedReplicas"] = json!(updated);
    d["status"]["readyReplicas"] = json!(ready);
    d["status"]["availableReplicas"] = json!(ready);
    d["status"]["replicas"] = json!(updated);
}

#[tokio::test]
async fn apps_are_the_labelled_deployments_named_and_bounded_by_their_annotations() {
    let (fake, gw) = cluster().await;
    // A second Deployment claiming the same app id is not a second app.
    fake.put(
        "deployments",
        deployment("cart-copy", "cart", 1, 1, "shop/cart:9"),
    );
    // A Deployment without opsdeck's annotations: named by itself, bounded by the settings.
    let mut bare = deployment("search-v2", "search", 2, 1, "shop/search:1");
    bare["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
    fake.put("deployments", bare);
    // A later change on the same watch: once it shows, the others have been seen too.
    fake.update("deployments", "cart", |d| {
        d["metadata"]["annotations"]["opsdeck.io/max-replicas"] = json!("11");
    });
    let cart = app_where(&gw, "cart", |a| a.replicas.max == 11).await;
    let apps: Vec<AppSummary> = get_json(&gw, "/v1/apps").await;
    assert_eq!(apps.iter().filter(|a| a.id == "cart").count(), 1);
    let search = apps.iter().find(|a| a.id == "search").unwrap();
    assert_eq!(search.name, "search-v2");
    assert_eq!((search.replicas.min, search.replicas.max), (0, 50));
    assert!(search.runbooks.is_empty());
    assert_eq!(cart.name, "购物车");
    assert_eq!(cart.region, NS);
    assert_eq!((cart.release.as_str(), cart.version.as_str()), ("3", "1.3"));
    assert_eq!((cart.replicas.min, cart.replicas.max), (1, 11));
    assert_eq!((cart.replicas.desired, cart.replicas.ready), (3, 3));
    assert_eq!(cart.stale_since, None);
    assert_eq!(cart.runbooks, ["bad-release", "flash-sale-spike"]);
    let metrics = cart.metrics.unwrap();
    assert_eq!(metrics.extras.get("pod_restarts"), Some(&2.0));

    let detail: AppDetail = get_json(&gw, "/v1/apps/cart").await;
    assert_eq!(detail.pods.len(), 1);
    assert_eq!(detail.pods[0].name, "cart-ccc333-x1");
    assert_eq!(
        detail.pods[0].release, "3",
        "a pod's release is its ReplicaSet's revision"
    );
    assert_eq!(detail.pods[0].restarts, 2);

    let releases: Vec<Release> = get_json(&gw, "/v1/apps/cart/releases").await;
    let ids: Vec<&str> = releases.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["3", "2", "1"], "newest revision first");
    assert_eq!(releases[0].status, ReleaseStatus::Active);
    assert_eq!(releases[1].status, ReleaseStatus::Superseded);
    assert_eq!(releases[1].change_cause, "faster checkout");
    assert_eq!(releases[1].artifact, "shop/cart:1.2");
    // Releases come from the ReplicaSets watch (by the app label), not a list per request.
    let rs_asked = fake.requests("GET", "/namespaces/shop/replicasets");
    assert!(rs_asked.iter().any(|s| s.query.contains_key("watch")));
    assert!(
        rs_asked
            .iter()
            .all(|s| s.query.get("labelSelector").map(String::as_str) == Some("opsdeck.io/app")),
        "{rs_asked:?}"
    );
    // Without Prometheus, the API's counts are a reading and the rest is absent, not 0.
    assert!(metrics.has(Metric::ReplicasReady) && metrics.has(Metric::ReplicasDesired));
    for absent in [Metric::Rps, Metric::P99, Metric::ErrorRatio, Metric::Cpu] {
        assert!(!metrics.has(absent), "{absent:?} read as 0");
    }
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn scaling_patches_the_scale_subresource_and_follows_the_rollout_to_success() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 5}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted.state, ActionState::Accepted);
    let patches = fake.requests("PATCH", "/deployments/cart/scale");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].content_type, "application/merge-patch+json");
    let body: Value = serde_json::from_str(&patches[0].body).unwrap();
    assert_eq!(body, json!({"spec": {"replicas": 5}}));

    // Not yet observed by the controller: waiting, whatever the counts say.
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.state == ActionState::InProgress && s.message.contains("observed"))
    })
    .await;
    fake.update("deployments", "cart", |d| observe(d, 5, 3));
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.state == ActionState::InProgress
            && s.progress.is_some_and(|p| p.ready == 3 && p.desired == 5)
            && s.message.contains("3 of 5 updated replicas are available"))
    })
    .await;
    fake.update("deployments", "cart", |d| observe(d, 5, 5));
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id && s.state == ActionState::Succeeded)
    })
    .await;
    let done: ActionStatus = get_json(&gw, &format!("/v1/actions/{}", accepted.id)).await;
    assert_eq!(done.state, ActionState::Succeeded);
    app_where(&gw, "cart", |a| {
        a.replicas.desired == 5 && a.replicas.ready == 5
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn a_rollout_past_its_progress_deadline_fails_the_action() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 6}))
        .await
        .json()
        .await
        .unwrap();
    fake.update("deployments", "cart", |d| {
        observe(d, 6, 4);
        d["status"]["conditions"][1] = json!({
            "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"cart-ccc333\" has timed out progressing.",
            "lastUpdateTime": "2026-12-06T10:10:00Z", "lastTransitionTime": "2026-12-06T10:10:00Z",
        });
    });
    let mut message = String::new();
    until(&mut stream, |b| match b {
        Body::Actions(s) if s.id == accepted.id && s.state.is_final() => {
            assert_eq!(s.state, ActionState::Failed, "{s:?}");
            message = s.message.clone();
            true
        }
        _ => false,
    })
    .await;
    assert!(
        message.contains("exceeded its progress deadline"),
        "{message}"
    );
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn an_hpa_gives_the_bounds_and_scaling_warns_it_will_override() {
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 3, 1, "shop/cart:1.3"),
    );
    fake.put(
        "horizontalpodautoscalers",
        json!({
            "metadata": {"name": "cart-hpa", "namespace": NS, "uid": "uid-hpa"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"},
                "minReplicas": 2, "maxReplicas": 8,
            },
        }),
    );
    let gw = gateway_over(&fake).await;
    app_where(&gw, "cart", |a| (a.replicas.min, a.replicas.max) == (2, 8)).await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 4}))
        .await
        .json()
        .await
        .unwrap();
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.message.contains("HorizontalPodAutoscaler \"cart-hpa\"")
            && s.message.contains("override"))
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn with_kube_scale_hpa_scaling_sets_the_hpas_bounds_not_the_deployments_replicas() {
    let (fake, gw) = cluster_with_hpa(KubeSettings::new(vec![NS.to_string()]).hpa_patience).await;
    // The gateway moves the HPA's bounds: the app's range is its annotations' (1-12), not 2-8.
    app_where(&gw, "cart", |a| (a.replicas.min, a.replicas.max) == (1, 12)).await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 5}))
        .await
        .json()
        .await
        .unwrap();
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.message.contains("HorizontalPodAutoscaler \"cart-hpa\" now keeps 5-8 replicas"))
    })
    .await;
    let hpa = fake.get("horizontalpodautoscalers", "cart-hpa");
    assert_eq!(
        (&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]),
        (&json!(5), &json!(8))
    );
    let patches: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(
        patches[0].path,
        format!("/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/cart-hpa")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&patches[0].body).unwrap(),
        json!({"spec": {"minReplicas": 5, "maxReplicas": 8}})
    );
    // Back down below the HPA's new minimum, and past its maximum: both allowed.
    for (to, bounds) in [(3, (3, 8)), (12, (12, 12))] {
        let r = post(&gw, "/v1/apps/cart/scale", json!({"replicas": to})).await;
        assert_eq!(r.status(), 202);
        poll_until(PATIENCE, "the HPA's new bounds", async || {
            let hpa = fake.get("horizontalpodautoscalers", "cart-hpa");
            let now = (
                hpa["spec"]["minReplicas"].as_i64(),
                hpa["spec"]["maxReplicas"].as_i64(),
            );
            (now == (Some(bounds.0), Some(bounds.1))).then_some(())
        })
        .await;
    }
    // Out of the app's range: refused, and the HPA is left alone.
    let r = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 0})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(fake.requests("PATCH", "cart-hpa").len(), 3);
    fake.assert_clean();
    gw.stop().await;
}

/// The patch `kubectl rollout undo` sends to go back to the ReplicaSet `cart-{hash}`.
fn kubectl_patch(hash: &str, image: &str, cause: &str) -> Value {
    let mut wanted = template("cart", image, Some(hash));
    wanted["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    json!([
        {"op": "replace", "path": "/spec/template", "value": wanted},
        {"op": "replace", "path": "/metadata/annotations", "value": {
            // Kept from the Deployment:
            "deployment.kubernetes.io/revision": "3",
            "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}",
            // From the ReplicaSet, the change cause overwritten by the gateway:
            "kubernetes.io/change-cause": cause,
        }},
    ])
}

#[tokio::test]
async fn rollback_sends_kubectls_patch_for_the_previous_revision_and_follows_it() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let r = post(&gw, "/v1/apps/cart/rollback", json!({})).await;
    assert_eq!(r.status(), 202);
    let accepted: ActionStatus = r.json().await.unwrap();
    assert_eq!(accepted.description, "rollback cart 1.3 -> 1.2");
    let patches = fake.requests("PATCH", "/namespaces/shop/deployments/cart");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].content_type, "application/json-patch+json");
    let sent: Value = serde_json::from_str(&patches[0].body).unwrap();
    let cause = format!(
        "opsdeck: rollback to revision 2 by operator (action {})",
        accepted.id
    );
    assert_eq!(sent, kubectl_patch("bbb222", "shop/cart:1.2", &cause));

    fake.update("deployments", "cart", |d| observe(d, 3, 3));
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id && s.state == ActionState::Succeeded)
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn rollback_to_a_named_revision_takes_that_replicaset() {
    let (fake, gw) = cluster().await;
    let r = post(&gw, "/v1/apps/cart/rollback", json!({"to": "1"})).await;
    assert_eq!(r.status(), 202);
    let accepted: ActionStatus = r.json().await.unwrap();
    let patches = fake.requests("PATCH", "/namespaces/shop/deployments/cart");
    let sent: Value = serde_json::from_str(&patches[0].body).unwrap();
    let cause = format!(
        "opsdeck: rollback to revision 1 by operator (action {})",
        accepted.id
    );
    assert_eq!(sent, kubectl_patch("aaa111", "shop/cart:1.1", &cause));

    let missing = post(&gw, "/v1/apps/cart/rollback", json!({"to": "9"})).await;
    assert_eq!(missing.status(), 404);
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn rollback_of_a_paused_deployment_or_to_the_running_template_is_a_conflict() {
    let (fake, gw) = cluster().await;
    fake.update("deployments", "cart", |d| d["spec"]["paused"] = json!(true));
    let paused = post(&gw, "/v1/apps/cart/rollback", json!({})).await;
    assert_eq!(paused.status(), 409);
    let body: ErrorBody = paused.json().await.unwrap();
    assert!(
        body.error.message.contains("paused"),
        "{}",
        body.error.message
    );

    fake.update("deployments", "cart", |d| {
        d["spec"]["paused"] = json!(false)
    });
    let same = post(&gw, "/v1/apps/cart/rollback", json!({"to": "3"})).await;
    assert_eq!(same.status(), 409);
    let body: ErrorBody = same.json().await.unwrap();
    assert!(
        body.error
            .message
            .contains("already runs the template of revision 3"),
        "{}",
        body.error.message
    );
    assert!(
        fake.requests("PATCH", "/deployments/cart").is_empty(),
        "a refused rollback patches nothing"
    );
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn a_dropped_watch_resumes_from_its_version_and_410_gone_lists_again() {
    let (fake, gw) = cluster().await;
    let lists = || {
        fake.requests("GET", "/namespaces/shop/deployments")
            .into_iter()
            .filter(|s| !s.query.contains_key("watch"))
            .count()
    };
    let watches = || {
        fake.requests("GET", "/namespaces/shop/deployments")
            .into_iter()
            .filter(|s| s.query.get("watch").map(String::as_str) == Some("true"))
            .collect::<Vec<_>>()
    };
    assert_eq!(lists(), 1);
    let version = watches()[0].query["resourceVersion"].clone();

    // A dropped connection: the next watch starts from the last version seen, no new list.
    fake.drop_watches("deployments");
    fake.update("deployments", "cart", |d| {
        d["status"]["readyReplicas"] = json!(2)
    });
    app_where(&gw, "cart", |a| a.replicas.ready == 2).await;
    let resumed = watches();
    assert!(resumed.len() >= 2);
    assert_eq!(
        resumed[1].query.get("resourceVersion"),
        Some(&version),
        "nothing changed in between: the watch resumes from the same version"
    );
    assert_eq!(lists(), 1, "a dropped watch does not list again");

    // 410 Gone: the version is too old; everything is listed again.
    fake.expire("deployments");
    fake.drop_watches("deployments");
    fake.update("deployments", "cart", |d| {
        d["status"]["readyReplicas"] = json!(1)
    });
    app_where(&gw, "cart", |a| a.replicas.ready == 1).await;
    poll_until(PATIENCE, "a second list after 410", async || {
        (lists() == 2).then_some(())
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn an_unreachable_api_server_marks_the_apps_stale_and_keeps_them() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Events]).await;
    fake.set_down(true);
    // Consoles hear it on `events` (kind `source`) and list the apps again.
    until(&mut stream, |b| {
        matches!(b, Body::Events(e) if e.kind == EventKind::Source
            && e.message.contains("showing what was known"))
    })
    .await;
    let stale = app_where(&gw, "cart", |a| a.stale_since.is_some()).await;
    assert_eq!(stale.replicas.desired, 3, "what was known is kept");
    let why = stale.stale_reason.unwrap_or_default();
    assert!(why.starts_with("Kubernetes API unavailable: "), "{why}");
    fake.set_down(false);
    until(&mut stream, |b| {
        matches!(b, Body::Events(e) if e.kind == EventKind::Source
            && e.message.contains("answers again"))
    })
    .await;
    let fresh = app_where(&gw, "cart", |a| a.stale_since.is_none()).await;
    assert_eq!(fresh.stale_reason, None);
    fake.assert_clean();
    gw.stop().await;
}

/// Log lines (pod, message) from the stream into `lines`, whole frames at a time, until one
/// says `last`.
async fn logs_until(client: &mut Client, lines: &mut Vec<(String, String)>, last: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        let Some(ServerMsg::Events { events }) = client.try_recv(Duration::from_secs(1)).await
        else {
            continue;
        };
        let mut seen = false;
        for e in events {
            if let Body::Logs(l) = e.body {
                seen |= l.message == last;
                lines.push((l.pod, l.message));
            }
        }
        if seen {
            return;
        }
    }
    panic!("no log line {last:?} within {PATIENCE:?}; got {lines:?}");
}

fn at(secs: i64, millis: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_796_000_000 + secs, 0).unwrap() + chrono::Duration::milliseconds(millis)
}

#[tokio::test]
async fn logs_follow_every_pod_across_a_replacement_with_no_line_twice() {
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 1, 1, "shop/cart:1.1"),
    );
    fake.log("cart-aaa111-a", at(0, 100), "starting");
    fake.log("cart-aaa111-a", at(1, 200), "listening on :8080");
    fake.put("pods", pod("cart-aaa111-a", "cart", "cart-aaa111", 0));
    let gw = gateway_over(&fake).await;
    // From the first line on: the pod may have been followed before this subscription.
    let mut stream = watch_from(&gw, &[Topic::Logs], BTreeMap::from([(Topic::Logs, 0)])).await;
    let mut lines: Vec<(String, String)> = Vec::new();
    logs_until(&mut stream, &mut lines, "listening on :8080").await;

    // Two lines in the same second, then the stream drops: the follower resumes from that
    // second and must skip what it already sent.
    fake.log("cart-aaa111-a", at(2, 100), "GET /cart 200");
    fake.log("cart-aaa111-a", at(2, 700), "GET /cart 200");
    logs_until(&mut stream, &mut lines, "GET /cart 200").await;
    if lines.iter().filter(|(_, m)| m == "GET /cart 200").count() < 2 {
        logs_until(&mut stream, &mut lines, "GET /cart 200").await;
    }
    fake.drop_logs("cart-aaa111-a");
    fake.log("cart-aaa111-a", at(2, 900), "GET /cart/items 200");
    logs_until(&mut stream, &mut lines, "GET /cart/items 200").await;

    // A rollout replaces the pod.
    fake.log("cart-bbb222-b", at(3, 0), "new pod up");
    fake.put("pods", pod("cart-bbb222-b", "cart", "cart-bbb222", 0));
    fake.delete("pods", "cart-aaa111-a");
    logs_until(&mut stream, &mut lines, "new pod up").await;

    let a = |m: &str| ("cart-aaa111-a".to_string(), m.to_string());
    assert_eq!(
        lines,
        [
            a("starting"),
            a("listening on :8080"),
            a("GET /cart 200"),
            a("GET /cart 200"),
            a("GET /cart/items 200"),
            ("cart-bbb222-b".to_string(), "new pod up".to_string()),
        ]
    );
    let resumed = fake.requests("GET", "/pods/cart-aaa111-a/log");
    assert!(resumed.len() >= 2, "{resumed:?}");
    assert_eq!(
        resumed[0].query.get("tailLines").map(String::as_str),
        Some("50")
    );
    let since = resumed[1]
        .query
        .get("sinceTime")
        .expect("resumed with sinceTime");
    assert_eq!(
        DateTime::parse_from_rfc3339(since).unwrap(),
        at(2, 0),
        "resumed from the second of the last line"
    );
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn kubernetes_events_about_an_app_reach_the_events_topic() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Events]).await;
    fake.put(
        "events",
        json!({
            "metadata": {"name": "cart.17f1", "namespace": NS, "uid": "uid-ev-1",
                         "creationTimestamp": "2026-12-06T10:00:00Z"},
            "eventTime": "2026-12-06T10:00:00.000000Z",
            "reportingController": "deployment-controller", "reportingInstance": "kcm-1",
            "action": "Scale", "reason": "ScalingReplicaSet", "type": "Normal",
            "regarding": {"kind": "Deployment", "namespace": NS, "name": "cart", "apiVersion": "apps/v1"},
            "note": "Scaled up replica set cart-ccc333 from 3 to 5",
        }),
    );
    until(
        &mut stream,
        |b| matches!(b, Body::Events(e) if e.message.contains("Scaled up replica set cart-ccc333")),
    )
    .await;
    let timeline: Vec<opsdeck::protocol::TimelineEntry> = get_json(&gw, "/v1/events").await;
    assert!(timeline.iter().any(|e| e.app == "cart"));
    fake.assert_clean();
    gw.stop().await;
}

/// `opsdeck serve` killed (and reaped) when the test ends, however it ends.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn opsdeck_serve_takes_the_cluster_and_namespace_from_a_kubeconfig_context() {
    use std::io::{BufRead, BufReader};
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 2, 1, "shop/cart:1.1"),
    );
    let dir = common::pty::TempDir::new("kubeconfig");
    let kubeconfig = dir.0.join("config");
    // The current context points nowhere: --kube-context must pick the other one, and its
    // namespace is served when no --namespace is given.
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
current-context: elsewhere
clusters:
- name: nowhere
  cluster: {{server: 'http://127.0.0.1:9'}}
- name: fake
  cluster: {{server: 'http://{}'}}
users:
- name: nobody
  user: {{}}
contexts:
- name: elsewhere
  context: {{cluster: nowhere, user: nobody, namespace: other}}
- name: fake
  context: {{cluster: fake, user: nobody, namespace: {NS}}}
",
            fake.addr
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-journal"])
        .args([
            "--platform",
            "kubernetes",
            "--kube-context",
            "fake",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let serve = Serve(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on http://").nth(1) {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("opsdeck serve says where it listens");
    let apps = poll_until(PATIENCE, "cart served by the binary", async || {
        let apps: Vec<AppSummary> = http()
            .get(format!("http://{addr}/v1/apps"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        apps.iter().any(|a| a.id == "cart").then_some(apps)
    })
    .await;
    assert_eq!(apps[0].region, NS);
    drop(serve);
    fake.assert_clean();
}

#[tokio::test]
async fn an_api_server_that_refuses_connections_is_said_on_the_timeline() {
    // A loopback port nobody listens on: every connection is refused.
    let port = common::real::free_port();
    let url: http::Uri = format!("http://127.0.0.1:{port}").parse().unwrap();
    let client = kube::Client::try_from(kube::Config::new(url)).unwrap();
    let platform = KubePlatform::new(client, KubeSettings::new(vec![NS.to_string()]));
    let gw = start(loopback_config(), Arc::new(platform)).await;
    let entry = poll_until(PATIENCE, "the timeline saying so", async || {
        let timeline: Vec<opsdeck::protocol::TimelineEntry> = get_json(&gw, "/v1/events").await;
        timeline
            .into_iter()
            .find(|e| e.event.message.contains("cannot be reached"))
    })
    .await;
    assert!(
        ["deployments/shop", "pods/shop", "probe /version"]
            .iter()
            .any(|source| entry.event.message.starts_with(source)),
        "{}",
        entry.event.message
    );
    let apps: Vec<AppSummary> = get_json(&gw, "/v1/apps").await;
    assert!(apps.is_empty(), "nothing was ever known");
    gw.stop().await;
}

/// Every (app, body) from the stream until `done` holds for what was gathered; fails after
/// [`PATIENCE`] with what was gathered.
async fn gather(
    client: &mut Client,
    mut done: impl FnMut(&[(String, Body)]) -> bool,
) -> Vec<(String, Body)> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut got = Vec::new();
    while tokio::time::Instant::now() < deadline {
        if let Some(ServerMsg::Events { events }) = client.try_recv(Duration::from_secs(1)).await {
            got.extend(events.into_iter().map(|e| (e.app, e.body)));
            if done(&got) {
                return got;
            }
        }
    }
    panic!("the stream did not show what was awaited within {PATIENCE:?}; got {got:#?}");
}

/// Whether `got` holds a timeline entry of `kind` about `app` saying `text`.
fn told(got: &[(String, Body)], app: &str, kind: EventKind, text: &str) -> bool {
    got.iter().any(|(a, b)| {
        a == app && matches!(b, Body::Events(e) if e.kind == kind && e.message.contains(text))
    })
}

/// A Kubernetes Event about Deployment `cart`.
fn cart_event(uid: &str, note: &str) -> Value {
    json!({
        "metadata": {"name": format!("cart.{uid}"), "namespace": NS, "uid": uid,
                     "creationTimestamp": "2026-12-06T10:00:00Z"},
        "eventTime": "2026-12-06T10:00:00.000000Z",
        "reportingController": "deployment-controller", "reportingInstance": "kcm-1",
        "action": "Scale", "reason": "ScalingReplicaSet", "type": "Normal",
        "regarding": {"kind": "Deployment", "namespace": NS, "name": "cart", "apiVersion": "apps/v1"},
        "note": note,
    })
}

#[tokio::test]
async fn what_a_watch_missed_before_410_gone_is_told_after_the_relist() {
    let (fake, gw) = cluster().await;
    fake.put(
        "deployments",
        deployment("legacy", "legacy", 1, 1, "shop/legacy:1"),
    );
    app_where(&gw, "legacy", |_| true).await;
    let mut stream = watch(&gw, &[Topic::Events, Topic::Metrics]).await;

    // A watch event is told at once: the replicas moved (kubectl scale).
    fake.update("deployments", "cart", |d| d["spec"]["replicas"] = json!(4));
    gather(&mut stream, |got| {
        told(got, "cart", EventKind::Scale, "scaled from 3 to 4 replicas")
    })
    .await;

    // The API server goes away; meanwhile cart is scaled and gets a new image, search
    // appears, legacy is deleted, an Event is recorded. It comes back with those versions
    // too old to watch from: 410 Gone, and the gateway lists again.
    fake.set_down(true);
    gather(&mut stream, |got| {
        told(got, "", EventKind::Source, "showing what was known")
    })
    .await;
    fake.expire("deployments");
    fake.expire("events");
    fake.update("deployments", "cart", |d| {
        d["spec"]["replicas"] = json!(5);
        d["spec"]["template"] = template("cart", "shop/cart:1.4", None);
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("4");
        d["metadata"]["generation"] = json!(6);
        observe(d, 5, 5);
    });
    fake.put(
        "deployments",
        deployment("search", "search", 2, 1, "shop/search:2.0"),
    );
    fake.delete("deployments", "legacy");
    fake.put(
        "events",
        cart_event("uid-ev-9", "Scaled up replica set cart-ddd444 to 5"),
    );
    fake.set_down(false);

    let got = gather(&mut stream, |got| {
        told(got, "cart", EventKind::Scale, "scaled from 4 to 5 replicas")
            && told(
                got,
                "cart",
                EventKind::Deploy,
                "release 4 (1.4) rolled out: shop/cart:1.4",
            )
            && told(
                got,
                "search",
                EventKind::Source,
                "Deployment shop/search appeared",
            )
            && told(
                got,
                "legacy",
                EventKind::Source,
                "Deployment shop/legacy is gone",
            )
            && told(
                got,
                "cart",
                EventKind::Scale,
                "Scaled up replica set cart-ddd444 to 5",
            )
            && got.iter().any(|(a, b)| {
                a == "cart" && matches!(b, Body::Metrics(m) if m.replicas_desired == 5)
            })
            && got
                .iter()
                .any(|(a, b)| a == "search" && matches!(b, Body::Metrics(_)))
    })
    .await;
    // Told once: the first list after start told nothing, the re-list only what changed.
    let releases = got
        .iter()
        .filter(|(_, b)| matches!(b, Body::Events(e) if e.kind == EventKind::Deploy))
        .count();
    assert_eq!(releases, 1, "{got:#?}");
    assert!(
        !told(&got, "cart", EventKind::Source, "appeared"),
        "an app held before is not new"
    );
    let lists = fake
        .requests("GET", "/namespaces/shop/deployments")
        .into_iter()
        .filter(|s| !s.query.contains_key("watch"))
        .count();
    assert_eq!(lists, 2, "the change came from a re-list, not a watch");
    let apps: Vec<AppSummary> = get_json(&gw, "/v1/apps").await;
    let ids: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["cart", "search"]);
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn a_revision_made_outside_opsdeck_is_a_release_at_once_and_rollback_takes_it() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Events]).await;
    // `kubectl set image`: the controller makes ReplicaSet revision 4, then marks the
    // Deployment with it.
    fake.put(
        "replicasets",
        replica_set(
            "cart",
            "cart",
            "ddd444",
            4,
            "shop/cart:1.4",
            "kubectl set image",
        ),
    );
    gather(&mut stream, |got| {
        told(
            got,
            "cart",
            EventKind::Deploy,
            "release 4 (1.4) rolled out: shop/cart:1.4 — kubectl set image",
        )
    })
    .await;
    let releases: Vec<Release> = get_json(&gw, "/v1/apps/cart/releases").await;
    let ids: Vec<&str> = releases.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["4", "3", "2", "1"]);
    assert_eq!(releases[0].change_cause, "kubectl set image");

    fake.update("deployments", "cart", |d| {
        d["spec"]["template"] = template("cart", "shop/cart:1.4", None);
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("4");
    });
    app_where(&gw, "cart", |a| a.release == "4").await;
    let timeline: Vec<opsdeck::protocol::TimelineEntry> = get_json(&gw, "/v1/events").await;
    let told_4 = timeline
        .iter()
        .filter(|e| e.event.kind == EventKind::Deploy && e.event.message.contains("release 4"))
        .count();
    assert_eq!(
        told_4, 1,
        "a release is told once, by its ReplicaSet or its Deployment"
    );

    // Rollback picks from the watched ReplicaSets: back to 3, which only the watch knew to
    // be the previous one.
    let r = post(&gw, "/v1/apps/cart/rollback", json!({})).await;
    assert_eq!(r.status(), 202);
    let accepted: ActionStatus = r.json().await.unwrap();
    assert_eq!(accepted.description, "rollback cart 1.4 -> 1.3");
    let patches = fake.requests("PATCH", "/namespaces/shop/deployments/cart");
    let sent: Value = serde_json::from_str(&patches[0].body).unwrap();
    assert_eq!(sent[0]["value"], {
        let mut t = template("cart", "shop/cart:1.3", None);
        t["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("pod-template-hash");
        t
    });
    let listed_by_match = fake
        .requests("GET", "/namespaces/shop/replicasets")
        .into_iter()
        .filter(|s| s.query.get("labelSelector").map(String::as_str) != Some("opsdeck.io/app"))
        .count();
    assert_eq!(listed_by_match, 0, "no ReplicaSet list on demand");

    // A Deployment whose pod template lacks the app label: its ReplicaSets do too, so they
    // are not watched and are listed by its matchLabels when asked for.
    let unlabelled = |mut v: Value, pointer: &str| {
        v.pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove("opsdeck.io/app");
        v
    };
    fake.put(
        "deployments",
        unlabelled(
            deployment("search", "search", 1, 1, "shop/search:1"),
            "/spec/template/metadata/labels",
        ),
    );
    let rs = unlabelled(
        replica_set("search", "search", "eee555", 1, "shop/search:1", "first"),
        "/metadata/labels",
    );
    fake.put(
        "replicasets",
        unlabelled(rs, "/spec/template/metadata/labels"),
    );
    app_where(&gw, "search", |_| true).await;
    let releases: Vec<Release> = get_json(&gw, "/v1/apps/search/releases").await;
    assert_eq!(releases.len(), 1);
    assert_eq!(
        fake.requests("GET", "/namespaces/shop/replicasets")
            .last()
            .and_then(|s| s.query.get("labelSelector").cloned())
            .as_deref(),
        Some("app=search")
    );
    fake.assert_clean();
    gw.stop().await;
}

/// The fake with app `cart` (3 replicas) under HPA `cart-hpa` (2-8), served with
/// `--kube-scale-hpa` and the HPA given `patience` to move the Deployment.
async fn cluster_with_hpa(patience: Duration) -> (FakeKube, Running) {
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 3, 3, "shop/cart:1.3"),
    );
    fake.put(
        "horizontalpodautoscalers",
        json!({
            "metadata": {"name": "cart-hpa", "namespace": NS, "uid": "uid-hpa"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"},
                "minReplicas": 2, "maxReplicas": 8,
            },
        }),
    );
    let settings = KubeSettings {
        scale_hpa: true,
        hpa_patience: patience,
        ..KubeSettings::new(vec![NS.to_string()])
    };
    let gw = start(
        loopback_config(),
        Arc::new(KubePlatform::new(fake.client(), settings)),
    )
    .await;
    app_where(&gw, "cart", |_| true).await;
    (fake, gw)
}

#[tokio::test]
async fn scaling_through_the_hpa_follows_the_deployment_into_the_new_bounds() {
    let (fake, gw) = cluster_with_hpa(Duration::from_secs(300)).await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 5}))
        .await
        .json()
        .await
        .unwrap();
    // Not done while the Deployment still asks for 3: the HPA has not acted yet.
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.state == ActionState::InProgress
            && s.message.contains("waiting for HorizontalPodAutoscaler \"cart-hpa\" to bring the Deployment to 5-8 replicas: it asks for 3")
            && s.progress.is_some_and(|p| p.desired == 5))
    })
    .await;
    // The HPA scales the Deployment to 5; the controller rolls it out.
    fake.update("deployments", "cart", |d| {
        d["spec"]["replicas"] = json!(5);
        d["metadata"]["generation"] = json!(5);
        observe(d, 5, 4);
    });
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id
            && s.state == ActionState::InProgress
            && s.message.contains("4 of 5 updated replicas are available"))
    })
    .await;
    fake.update("deployments", "cart", |d| observe(d, 5, 5));
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == accepted.id && s.state == ActionState::Succeeded)
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn scaling_through_an_hpa_that_does_not_move_the_deployment_fails_in_time() {
    let (fake, gw) = cluster_with_hpa(Duration::from_secs(1)).await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let accepted: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 6}))
        .await
        .json()
        .await
        .unwrap();
    let mut failed = None;
    until(&mut stream, |b| match b {
        Body::Actions(s) if s.id == accepted.id && s.state.is_final() => {
            failed = Some(s.clone());
            true
        }
        _ => false,
    })
    .await;
    let failed = failed.unwrap();
    assert_eq!(failed.state, ActionState::Failed, "{failed:?}");
    assert!(
        failed.message.contains(
            "HorizontalPodAutoscaler \"cart-hpa\" did not bring the Deployment to 6-8 replicas within 1s: it asks for 3"
        ),
        "{}",
        failed.message
    );
    let done: ActionStatus = get_json(&gw, &format!("/v1/actions/{}", accepted.id)).await;
    assert_eq!(done.state, ActionState::Failed);
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn an_api_server_that_stops_answering_is_noticed_by_the_probe_and_relisted_after() {
    let fake = FakeKube::start().await;
    fake.put(
        "deployments",
        deployment("cart", "cart", 3, 3, "shop/cart:1.3"),
    );
    let settings = KubeSettings {
        probe_every: Duration::from_millis(300),
        ..KubeSettings::new(vec![NS.to_string()])
    };
    let gw = start(
        loopback_config(),
        Arc::new(KubePlatform::new(fake.client(), settings)),
    )
    .await;
    app_where(&gw, "cart", |_| true).await;
    let mut stream = watch(&gw, &[Topic::Events]).await;
    // A partition: nothing answers, the open watches say nothing (no error to notice), and
    // cart is scaled meanwhile.
    fake.set_silent(true);
    fake.update("deployments", "cart", |d| d["spec"]["replicas"] = json!(4));
    gather(&mut stream, |got| {
        told(
            got,
            "",
            EventKind::Source,
            "probe /version: the API server did not answer within 0.3s; showing what was known",
        )
    })
    .await;
    let stale = app_where(&gw, "cart", |a| a.stale_since.is_some()).await;
    assert_eq!(stale.replicas.desired, 3, "what was known is kept");
    // Back: the watches start again and their lists tell what changed.
    fake.set_silent(false);
    gather(&mut stream, |got| {
        told(
            got,
            "",
            EventKind::Source,
            "probe /version: the API server answers again",
        ) && told(got, "cart", EventKind::Scale, "scaled from 3 to 4 replicas")
    })
    .await;
    app_where(&gw, "cart", |a| {
        a.stale_since.is_none() && a.replicas.desired == 4
    })
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn a_newer_scale_of_the_same_app_fails_the_older_one_as_superseded() {
    let (fake, gw) = cluster().await;
    let mut stream = watch(&gw, &[Topic::Actions]).await;
    let first: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 5}))
        .await
        .json()
        .await
        .unwrap();
    let second: ActionStatus = post(&gw, "/v1/apps/cart/scale", json!({"replicas": 6}))
        .await
        .json()
        .await
        .unwrap();
    let expected = format!("superseded by action {}", second.id);
    until(&mut stream, |b| {
        matches!(b, Body::Actions(s) if s.id == first.id
            && s.state == ActionState::Failed && s.message == expected)
    })
    .await;
    let done: ActionStatus = get_json(&gw, &format!("/v1/actions/{}", first.id)).await;
    assert_eq!(done.state, ActionState::Failed);
    fake.update("deployments", "cart", |d| observe(d, 6, 6));
    until(
        &mut stream,
        |b| matches!(b, Body::Actions(s) if s.id == second.id && s.state == ActionState::Succeeded),
    )
    .await;
    fake.assert_clean();
    gw.stop().await;
}

#[tokio::test]
async fn releases_are_listed_when_the_replicaset_watch_is_refused() {
    let (fake, gw) = cluster().await;
    // An RBAC that grants ReplicaSets list but not watch (the rbac.yaml of before): the
    // watch's first list is all it ever holds, so releases are listed when asked for.
    fake.forbid_watch("replicasets");
    fake.put(
        "replicasets",
        replica_set(
            "cart",
            "cart",
            "ddd444",
            4,
            "shop/cart:1.4",
            "kubectl set image",
        ),
    );
    let releases = poll_until(PATIENCE, "revision 4 among the releases", async || {
        let releases: Vec<Release> = get_json(&gw, "/v1/apps/cart/releases").await;
        releases.iter().any(|r| r.id == "4").then_some(releases)
    })
    .await;
    assert_eq!(releases.len(), 4);
    assert!(
        fake.requests("GET", "/namespaces/shop/replicasets")
            .iter()
            .any(|s| s.query.get("labelSelector").map(String::as_str) == Some("app=cart"))
    );
    fake.assert_clean();
    gw.stop().await;
}

//! Alerts from a real Alertmanager (`opsdeck serve --alertmanager URL`), in place of the
//! platform's own: [`WithAlertmanager`] wraps any [`Platform`] and answers `alerts`,
//! `acknowledge` and `silence` itself, passing everything else through.
//!
//! Alerts are read from `GET /api/v2/alerts` on an interval and pushed at once by Alertmanager's
//! webhook (payload version 4, `POST /v1/hooks/alertmanager` on the gateway); both are diffed by
//! fingerprint and every change goes out on the `alerts` topic. Labels carry opsdeck's
//! meaning: severity (P0–P3), runbook id and app, by configurable label names. A silence from the
//! console is an Alertmanager silence; an acknowledgement is recorded here (Alertmanager has none).
//! When Alertmanager cannot be reached, the alerts are kept and marked stale (`stale_since`),
//! never emptied.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{ActionRequest, EventSink, Platform, PlatformError, ProbeResponse, RollbackPlan};
use crate::protocol::{
    Alert, AlertState, AppDetail, AppSummary, Body, Release, Severity, TimelineEntry,
};

/// Resolved alerts kept for the list, newest first.
pub const RESOLVED_KEPT: usize = 100;

/// Where the alerts come from and how they are read.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertmanagerSource {
    /// Base URL, e.g. `http://127.0.0.1:9093`.
    pub url: String,
    /// Between two reads of `/api/v2/alerts` (real time).
    pub interval: Duration,
    /// Longest a request to Alertmanager may take.
    pub timeout: Duration,
    pub labels: LabelNames,
}

impl AlertmanagerSource {
    pub fn new(url: &str) -> AlertmanagerSource {
        AlertmanagerSource {
            url: url.trim_end_matches('/').to_string(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            labels: LabelNames::default(),
        }
    }
}

/// Which labels carry opsdeck's meaning.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelNames {
    /// P0–P3 (or critical / high / warning / info); default `severity`.
    pub severity: String,
    /// The id of the runbook that handles the alert; default `runbook`.
    pub runbook: String,
    /// The app the alert belongs to; default `app`.
    pub app: String,
}

impl Default for LabelNames {
    fn default() -> Self {
        LabelNames {
            severity: "severity".into(),
            runbook: "runbook".into(),
            app: "app".into(),
        }
    }
}

/// A severity label's value as opsdeck's P0–P3: `P0`..`P3` (any case, or the bare digit), or
/// the usual words: critical/page → P0, high/error/major → P1, warning/medium/minor → P2;
/// anything else or none → P3.
pub fn severity(value: Option<&str>) -> Severity {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("p0" | "0" | "critical" | "page") => Severity::P0,
        Some("p1" | "1" | "high" | "error" | "major") => Severity::P1,
        Some("p2" | "2" | "warning" | "warn" | "medium" | "minor") => Severity::P2,
        _ => Severity::P3,
    }
}

/// One alert as Alertmanager reports it, from its API or its webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    /// The zero time (year 1) or in the future while the alert fires.
    pub ends_at: Option<DateTime<Utc>>,
    /// Ids of the silences that hold it; `None` when the source does not say (the webhook).
    pub silenced_by: Option<Vec<String>>,
}

impl Observed {
    /// Whether it still fires at `now`: no end, the zero time, or an end still to come.
    pub fn firing(&self, now: DateTime<Utc>) -> bool {
        match self.ends_at {
            None => true,
            Some(end) => end.timestamp() <= 0 || end > now,
        }
    }
}

#[derive(Deserialize)]
struct ApiAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    fingerprint: String,
    #[serde(rename = "startsAt")]
    starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt", default)]
    ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    status: Option<ApiStatus>,
}

#[derive(Deserialize)]
struct ApiStatus {
    #[serde(default)]
    state: String,
    #[serde(rename = "silencedBy", default)]
    silenced_by: Vec<String>,
}

/// `GET /api/v2/alerts`'s body, read.
pub fn read_alerts(body: &str) -> Result<Vec<Observed>, String> {
    let alerts: Vec<ApiAlert> = serde_json::from_str(body)
        .map_err(|err| format!("unexpected answer from Alertmanager: {err}"))?;
    Ok(alerts
        .into_iter()
        .map(|a| {
            let silenced_by = a.status.map(|s| {
                if s.state == "suppressed" {
                    s.silenced_by
                } else {
                    Vec::new()
                }
            });
            Observed {
                fingerprint: a.fingerprint,
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                silenced_by,
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct HookPayload {
    version: String,
    alerts: Vec<HookAlert>,
}

#[derive(Deserialize)]
struct HookAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt", default)]
    ends_at: Option<DateTime<Utc>>,
    fingerprint: String,
}

/// A webhook body (payload version 4), read; the error says what is wrong with it.
pub fn read_hook(body: &[u8]) -> Result<Vec<Observed>, String> {
    let payload: HookPayload = serde_json::from_slice(body)
        .map_err(|err| format!("not an Alertmanager webhook payload: {err}"))?;
    if payload.version != "4" {
        return Err(format!(
            "webhook payload version {:?}: only version \"4\" is read",
            payload.version
        ));
    }
    payload
        .alerts
        .into_iter()
        .map(|a| {
            let ends_at = match a.status.as_str() {
                "firing" => None,
                "resolved" => Some(a.ends_at.unwrap_or_else(Utc::now)),
                other => {
                    return Err(format!(
                        "alert {}: status {other:?} is neither \"firing\" nor \"resolved\"",
                        a.fingerprint
                    ));
                }
            };
            if a.fingerprint.is_empty() {
                return Err("an alert without a fingerprint".to_string());
            }
            Ok(Observed {
                fingerprint: a.fingerprint,
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                ends_at,
                silenced_by: None,
            })
        })
        .collect()
}

/// What the gateway knows of an alert besides what Alertmanager says.
#[derive(Clone, Debug, Default, PartialEq)]
struct Known {
    acknowledged_by: Option<String>,
    /// A silence made from the console: until when, and its comment.
    silenced_until: Option<DateTime<Utc>>,
    comment: Option<String>,
    silenced_by: Vec<String>,
}

/// `observed` as opsdeck's alert, with what the gateway recorded of it.
fn to_alert(names: &LabelNames, observed: &Observed, known: &Known, now: DateTime<Utc>) -> Alert {
    let label = |name: &str| observed.labels.get(name).cloned();
    let rule = label("alertname").unwrap_or_else(|| "alert".into());
    let firing = observed.firing(now);
    let state = if !firing {
        AlertState::Resolved
    } else if !known.silenced_by.is_empty() {
        AlertState::Silenced
    } else if known.acknowledged_by.is_some() {
        AlertState::Acknowledged
    } else {
        AlertState::Firing
    };
    Alert {
        id: observed.fingerprint.clone(),
        summary: observed
            .annotations
            .get("summary")
            .or_else(|| observed.annotations.get("description"))
            .cloned()
            .unwrap_or_else(|| rule.clone()),
        rule,
        severity: severity(observed.labels.get(&names.severity).map(String::as_str)),
        state,
        app: label(&names.app).unwrap_or_default(),
        labels: observed.labels.clone(),
        runbook: label(&names.runbook),
        started_at: observed.starts_at,
        resolved_at: (!firing).then(|| observed.ends_at.unwrap_or(now)),
        silenced_until: (state == AlertState::Silenced)
            .then_some(known.silenced_until)
            .flatten(),
        acknowledged_by: known.acknowledged_by.clone(),
        comment: known.comment.clone(),
        stale_since: None,
    }
}

/// A silence as Alertmanager lists it (`GET /api/v2/silences`): what the console shows of one
/// made elsewhere.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SilenceInfo {
    pub id: String,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "createdBy", default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

/// `GET /api/v2/silences`'s body, read.
pub fn read_silences(body: &str) -> Result<Vec<SilenceInfo>, String> {
    serde_json::from_str(body).map_err(|err| format!("unexpected answer from Alertmanager: {err}"))
}

#[derive(Default)]
struct Book {
    /// Every alert by fingerprint, as last published.
    alerts: BTreeMap<String, (Observed, Alert)>,
    known: HashMap<String, Known>,
    /// Silences by id, as last listed: until when, by whom, why.
    silences: HashMap<String, SilenceInfo>,
    /// When Alertmanager last answered.
    last_ok: Option<DateTime<Utc>>,
    stale: bool,
}

/// The alerts read from Alertmanager, what the gateway adds to them, and the way to tell
/// consoles of each change.
pub struct Alerts {
    source: AlertmanagerSource,
    client: reqwest::Client,
    book: Mutex<Book>,
    sink: OnceLock<EventSink>,
}

impl Alerts {
    pub fn new(source: AlertmanagerSource) -> Result<Alerts, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(3))
            .timeout(source.timeout)
            .build()
            .map_err(|err| format!("cannot build an HTTP client: {err}"))?;
        Ok(Alerts {
            source,
            client,
            book: Mutex::new(Book::default()),
            sink: OnceLock::new(),
        })
    }

    fn book(&self) -> Result<std::sync::MutexGuard<'_, Book>, PlatformError> {
        self.book
            .lock()
            .map_err(|_| PlatformError::Unavailable("the alert book is poisoned".into()))
    }

    /// Every alert, firing first then resolved, newest first within each.
    pub fn list(&self) -> Result<Vec<Alert>, PlatformError> {
        let book = self.book()?;
        let mut list: Vec<Alert> = book.alerts.values().map(|(_, a)| a.clone()).collect();
        list.sort_by_key(|a| {
            (
                a.state == AlertState::Resolved,
                std::cmp::Reverse(a.started_at),
            )
        });
        Ok(list)
    }

    /// Learn the silences named by `observed` that the book does not know yet, with one
    /// `GET /api/v2/silences`; a failure leaves them unknown (shown without an end) until the
    /// next read.
    pub async fn learn_silences(&self, observed: &[Observed]) {
        let unknown = {
            let Ok(book) = self.book() else { return };
            observed
                .iter()
                .filter_map(|o| o.silenced_by.as_ref())
                .flatten()
                .any(|id| !book.silences.contains_key(id))
        };
        if !unknown {
            return;
        }
        let url = format!("{}/api/v2/silences", self.source.url);
        let listed = match self.client.get(&url).send().await {
            Ok(r) if r.status().is_success() => match r.text().await {
                Ok(body) => read_silences(&body),
                Err(err) => Err(err.to_string()),
            },
            Ok(r) => Err(format!("Alertmanager answered {}", r.status())),
            Err(err) => Err(chain(&err)),
        };
        match listed {
            Ok(silences) => {
                if let Ok(mut book) = self.book() {
                    book.silences = silences.into_iter().map(|s| (s.id.clone(), s)).collect();
                }
            }
            Err(err) => tracing::warn!(%err, "cannot list Alertmanager's silences"),
        }
    }

    /// Read `/api/v2/alerts` once: the full set of active alerts.
    pub async fn fetch(&self) -> Result<Vec<Observed>, PlatformError> {
        let url = format!("{}/api/v2/alerts", self.source.url);
        let response = self.client.get(&url).send().await.map_err(|err| {
            PlatformError::Unavailable(format!("Alertmanager: GET {url}: {}", chain(&err)))
        })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|err| PlatformError::Unavailable(format!("Alertmanager: {err}")))?;
        if !status.is_success() {
            return Err(PlatformError::Unavailable(format!(
                "Alertmanager answered {status} to GET /api/v2/alerts: {}",
                body.trim()
            )));
        }
        read_alerts(&body).map_err(PlatformError::Unavailable)
    }

    /// Apply a full read: alerts not in it have resolved. Returns what changed.
    pub fn apply_full(&self, observed: Vec<Observed>, now: DateTime<Utc>) -> Vec<Alert> {
        let Ok(mut book) = self.book() else {
            return Vec::new();
        };
        let present: std::collections::HashSet<String> =
            observed.iter().map(|o| o.fingerprint.clone()).collect();
        let mut changed = self.apply(&mut book, observed, now);
        let gone: Vec<String> = book
            .alerts
            .iter()
            .filter(|(fp, (o, _))| !present.contains(*fp) && o.firing(now))
            .map(|(fp, _)| fp.clone())
            .collect();
        for fp in gone {
            if let Some((mut o, _)) = book.alerts.get(&fp).cloned() {
                o.ends_at = Some(now);
                changed.extend(self.apply(&mut book, vec![o], now));
            }
        }
        book.last_ok = Some(now);
        if book.stale {
            book.stale = false;
            // Back: every alert loses its stale mark.
            for (_, alert) in book.alerts.values_mut() {
                if alert.stale_since.take().is_some() && !changed.iter().any(|c| c.id == alert.id) {
                    changed.push(alert.clone());
                }
            }
        }
        changed
    }

    fn apply(&self, book: &mut Book, observed: Vec<Observed>, now: DateTime<Utc>) -> Vec<Alert> {
        let mut changed = Vec::new();
        for mut o in observed {
            // A silence listed by Alertmanager (made here or elsewhere) says until when.
            let listed: Vec<SilenceInfo> = o
                .silenced_by
                .iter()
                .flatten()
                .filter_map(|id| book.silences.get(id).cloned())
                .collect();
            let known = book.known.entry(o.fingerprint.clone()).or_default();
            match o.silenced_by.clone() {
                Some(ids) => {
                    if ids.is_empty() {
                        known.silenced_until = None;
                        known.comment = None;
                    } else if let Some(s) = listed.iter().max_by_key(|s| s.ends_at) {
                        known.silenced_until = Some(s.ends_at);
                        if known.comment.is_none() || ids != known.silenced_by {
                            known.comment = Some(if s.comment.is_empty() {
                                format!("silenced by {}", s.created_by)
                            } else {
                                format!("{} — {}", s.comment, s.created_by)
                            });
                        }
                    }
                    known.silenced_by = ids;
                }
                // The webhook does not say: keep what the last read said.
                None => o.silenced_by = Some(known.silenced_by.clone()),
            }
            if !o.firing(now) {
                // A resolved alert starts afresh if it fires again.
                let ack = known.acknowledged_by.take();
                let alert = to_alert(&self.source.labels, &o, known, now);
                known.acknowledged_by = ack;
                if book.alerts.get(&o.fingerprint).map(|(_, a)| a) != Some(&alert) {
                    changed.push(alert.clone());
                }
                book.known.remove(&o.fingerprint);
                book.alerts.insert(o.fingerprint.clone(), (o, alert));
                continue;
            }
            // Fresh news (a read or the webhook): not stale, whatever came before.
            let alert = to_alert(&self.source.labels, &o, known, now);
            if book.alerts.get(&o.fingerprint).map(|(_, a)| a) != Some(&alert) {
                changed.push(alert.clone());
            }
            book.alerts.insert(o.fingerprint.clone(), (o, alert));
        }
        prune(book);
        changed
    }

    /// Alertmanager did not answer: mark every alert not yet marked stale since its last
    /// answer (the webhook counts), so each is told once.
    pub fn mark_stale(&self, now: DateTime<Utc>) -> Vec<Alert> {
        let Ok(mut book) = self.book() else {
            return Vec::new();
        };
        book.stale = true;
        let since = book.last_ok.unwrap_or(now);
        book.alerts
            .values_mut()
            .filter(|(_, alert)| alert.stale_since.is_none())
            .map(|(_, alert)| {
                alert.stale_since = Some(since);
                alert.clone()
            })
            .collect()
    }

    /// Tell every console of `changed`.
    pub async fn publish(&self, changed: Vec<Alert>, now: DateTime<Utc>) {
        let Some(sink) = self.sink.get() else {
            return;
        };
        for alert in changed {
            let emission = super::Emission {
                ts: now,
                app: alert.app.clone(),
                body: Body::Alerts(alert),
            };
            if sink.send(emission).await.is_err() {
                return;
            }
        }
    }

    /// Take a webhook body: apply its alerts and tell every console at once.
    pub async fn hook(&self, body: &[u8]) -> Result<usize, String> {
        let observed = read_hook(body)?;
        let n = observed.len();
        let now = Utc::now();
        let changed = match self.book() {
            Ok(mut book) => {
                book.last_ok = Some(now);
                self.apply(&mut book, observed, now)
            }
            Err(_) => Vec::new(),
        };
        self.publish(changed, now).await;
        Ok(n)
    }

    /// Read Alertmanager every interval until the sink closes.
    async fn poll(&self) {
        let mut tick = tokio::time::interval(self.source.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Said once when reads start failing, and once when they work again.
        let mut reachable = true;
        loop {
            tick.tick().await;
            if self.sink.get().is_some_and(|s| s.is_closed()) {
                return;
            }
            let now = Utc::now();
            let changed = match self.fetch().await {
                Ok(observed) => {
                    if !reachable {
                        tracing::info!("Alertmanager answers again");
                        reachable = true;
                    }
                    self.learn_silences(&observed).await;
                    self.apply_full(observed, now)
                }
                Err(err) => {
                    if reachable {
                        tracing::warn!(%err, "Alertmanager unavailable: alerts marked stale");
                        reachable = false;
                    }
                    self.mark_stale(now)
                }
            };
            self.publish(changed, now).await;
        }
    }

    fn observed(&self, id: &str) -> Result<Observed, PlatformError> {
        let book = self.book()?;
        match book.alerts.get(id) {
            Some((o, a)) if a.state != AlertState::Resolved => Ok(o.clone()),
            Some(_) => Err(PlatformError::Conflict(format!("alert {id} has resolved"))),
            None => Err(PlatformError::NotFound(format!("unknown alert {id:?}"))),
        }
    }

    /// Record that `by` is on alert `id`, and tell every console.
    pub async fn acknowledge(&self, id: &str, by: &str) -> Result<Alert, PlatformError> {
        let observed = self.observed(id)?;
        let now = Utc::now();
        let changed = {
            let mut book = self.book()?;
            book.known
                .entry(id.to_string())
                .or_default()
                .acknowledged_by = Some(by.to_string());
            self.apply(&mut book, vec![observed], now)
        };
        self.publish(changed, now).await;
        self.current(id)
    }

    /// Create an Alertmanager silence matching every label of alert `id`.
    pub async fn silence(
        &self,
        id: &str,
        secs: u64,
        comment: &str,
        by: &str,
    ) -> Result<Alert, PlatformError> {
        let mut observed = self.observed(id)?;
        let now = Utc::now();
        let ends_at = now + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX));
        let comment = if comment.trim().is_empty() {
            format!("silenced from opsdeck by {by}")
        } else {
            comment.to_string()
        };
        let matchers: Vec<serde_json::Value> = observed
            .labels
            .iter()
            .map(|(name, value)| {
                serde_json::json!({"name": name, "value": value, "isRegex": false, "isEqual": true})
            })
            .collect();
        let body = serde_json::json!({
            "matchers": matchers,
            "startsAt": now,
            "endsAt": ends_at,
            "createdBy": by,
            "comment": comment,
        });
        let url = format!("{}/api/v2/silences", self.source.url);
        let response = self
            .client
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|err| {
                PlatformError::Unavailable(format!("Alertmanager: POST {url}: {}", chain(&err)))
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let why = format!(
                "Alertmanager refused the silence ({status}): {}",
                text.trim()
            );
            return Err(if status.is_client_error() {
                PlatformError::Invalid(why)
            } else {
                PlatformError::Unavailable(why)
            });
        }
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        let created: Created = serde_json::from_str(&text).map_err(|err| {
            PlatformError::Unavailable(format!("unexpected answer from Alertmanager: {err}"))
        })?;
        let changed = {
            let mut book = self.book()?;
            let known = book.known.entry(id.to_string()).or_default();
            known.silenced_until = Some(ends_at);
            known.comment = Some(comment);
            observed.silenced_by = Some(vec![created.silence_id]);
            self.apply(&mut book, vec![observed], now)
        };
        self.publish(changed, now).await;
        self.current(id)
    }

    /// Expire every silence that holds alert `id` (`DELETE /api/v2/silence/{id}`), made here
    /// or elsewhere.
    pub async fn expire_silence(&self, id: &str) -> Result<Alert, PlatformError> {
        let mut observed = self.observed(id)?;
        let silences = self
            .book()?
            .known
            .get(id)
            .map(|k| k.silenced_by.clone())
            .unwrap_or_default();
        if silences.is_empty() {
            return Err(PlatformError::Conflict(format!(
                "alert {id} is not silenced: nothing to expire"
            )));
        }
        for silence in &silences {
            let url = format!("{}/api/v2/silence/{silence}", self.source.url);
            let response = self.client.delete(&url).send().await.map_err(|err| {
                PlatformError::Unavailable(format!("Alertmanager: DELETE {url}: {}", chain(&err)))
            })?;
            let status = response.status();
            // 404: already gone (expired, or deleted elsewhere) — what was wanted.
            if !status.is_success() && status != reqwest::StatusCode::NOT_FOUND {
                let text = response.text().await.unwrap_or_default();
                return Err(PlatformError::Unavailable(format!(
                    "Alertmanager refused to expire silence {silence} ({status}): {}",
                    text.trim()
                )));
            }
        }
        let now = Utc::now();
        let changed = {
            let mut book = self.book()?;
            observed.silenced_by = Some(Vec::new());
            self.apply(&mut book, vec![observed], now)
        };
        self.publish(changed, now).await;
        self.current(id)
    }

    fn current(&self, id: &str) -> Result<Alert, PlatformError> {
        self.book()?
            .alerts
            .get(id)
            .map(|(_, a)| a.clone())
            .ok_or_else(|| PlatformError::NotFound(format!("unknown alert {id:?}")))
    }
}

/// `err` and its causes, as one line: reqwest's own message alone hides why ("connection
/// refused", "timed out").
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Keep at most [`RESOLVED_KEPT`] resolved alerts, the newest.
fn prune(book: &mut Book) {
    let mut resolved: Vec<(DateTime<Utc>, String)> = book
        .alerts
        .iter()
        .filter_map(|(fp, (_, a))| a.resolved_at.map(|t| (t, fp.clone())))
        .collect();
    if resolved.len() <= RESOLVED_KEPT {
        return;
    }
    resolved.sort();
    let excess = resolved.len() - RESOLVED_KEPT;
    for (_, fp) in resolved.into_iter().take(excess) {
        book.alerts.remove(&fp);
    }
}

/// A platform whose alerts come from Alertmanager; everything else is `inner`'s.
pub struct WithAlertmanager {
    inner: Arc<dyn Platform>,
    alerts: Arc<Alerts>,
}

impl WithAlertmanager {
    pub fn new(inner: Arc<dyn Platform>, alerts: Arc<Alerts>) -> WithAlertmanager {
        WithAlertmanager { inner, alerts }
    }
}

#[async_trait]
impl Platform for WithAlertmanager {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn run(&self, sink: EventSink) {
        let _ = self.alerts.sink.set(sink.clone());
        // The inner platform's own alerts are left out: Alertmanager's replace them.
        let (inner_sink, mut inner_feed) = mpsc::channel::<super::Emission>(4096);
        let inner = self.inner.clone();
        let forward = async {
            while let Some(e) = inner_feed.recv().await {
                if matches!(e.body, Body::Alerts(_)) {
                    continue;
                }
                if sink.send(e).await.is_err() {
                    return;
                }
            }
        };
        tokio::join!(inner.run(inner_sink), forward, self.alerts.poll());
    }

    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        self.inner.apps().await
    }
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        self.inner.app(app).await
    }
    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        self.inner.releases(app).await
    }
    async fn scale(
        &self,
        app: &str,
        replicas: u32,
        action: ActionRequest,
    ) -> Result<(), PlatformError> {
        self.inner.scale(app, replicas, action).await
    }
    async fn rollback(
        &self,
        app: &str,
        to: Option<&str>,
        action: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        self.inner.rollback(app, to, action).await
    }
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        self.alerts.list()
    }
    async fn acknowledge(&self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        self.alerts.acknowledge(alert, by).await
    }
    async fn silence(
        &self,
        alert: &str,
        secs: u64,
        comment: &str,
        by: &str,
    ) -> Result<Alert, PlatformError> {
        self.alerts.silence(alert, secs, comment, by).await
    }
    async fn expire_silence(&self, alert: &str, _by: &str) -> Result<Alert, PlatformError> {
        self.alerts.expire_silence(alert).await
    }
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        self.inner.events().await
    }
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }
    fn clock_rate(&self) -> f64 {
        self.inner.clock_rate()
    }
    async fn probe(&self, url: &str, timeout: Duration) -> Result<ProbeResponse, PlatformError> {
        self.inner.probe(url, timeout).await
    }
    async fn start_scenario(&self, name: &str) -> Result<(), PlatformError> {
        self.inner.start_scenario(name).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn alerts() -> Alerts {
        Alerts::new(AlertmanagerSource::new("http://127.0.0.1:1")).unwrap()
    }

    const API: &str = r#"[{
        "labels": {"alertname": "HighErrorRatio", "app": "shop-cart", "severity": "P1",
                   "runbook": "rollback-bad-release", "team": "payments"},
        "annotations": {"summary": "shop-cart errors above 5%"},
        "fingerprint": "a1b2", "startsAt": "2026-12-06T10:00:00Z",
        "endsAt": "2026-12-06T10:05:00Z", "updatedAt": "2026-12-06T10:00:30Z",
        "receivers": [{"name": "opsdeck"}],
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}
    }]"#;

    #[test]
    fn labels_map_to_severity_runbook_app_and_summary() {
        let now = at("2026-12-06T10:01:00Z");
        let observed = read_alerts(API).unwrap();
        let alert = to_alert(&LabelNames::default(), &observed[0], &Known::default(), now);
        assert_eq!(alert.id, "a1b2");
        assert_eq!(alert.rule, "HighErrorRatio");
        assert_eq!(alert.severity, Severity::P1);
        assert_eq!(alert.runbook.as_deref(), Some("rollback-bad-release"));
        assert_eq!(alert.app, "shop-cart");
        assert_eq!(alert.summary, "shop-cart errors above 5%");
        assert_eq!(alert.state, AlertState::Firing);
        assert_eq!(alert.labels["team"], "payments");
        // Past its endsAt it has resolved.
        let later = to_alert(
            &LabelNames::default(),
            &observed[0],
            &Known::default(),
            at("2026-12-06T11:00:00Z"),
        );
        assert_eq!(later.state, AlertState::Resolved);
        assert_eq!(later.resolved_at, Some(at("2026-12-06T10:05:00Z")));
    }

    #[test]
    fn label_names_are_configurable() {
        let names = LabelNames {
            severity: "team".into(),
            runbook: "alertname".into(),
            app: "severity".into(),
        };
        let observed = read_alerts(API).unwrap();
        let alert = to_alert(&names, &observed[0], &Known::default(), Utc::now());
        assert_eq!(alert.severity, Severity::P3);
        assert_eq!(alert.runbook.as_deref(), Some("HighErrorRatio"));
        assert_eq!(alert.app, "P1");
    }

    #[test]
    fn severities_read_p_levels_and_the_usual_words() {
        for (value, want) in [
            (Some("P0"), Severity::P0),
            (Some("p2"), Severity::P2),
            (Some("critical"), Severity::P0),
            (Some("warning"), Severity::P2),
            (Some("high"), Severity::P1),
            (Some("whatever"), Severity::P3),
            (None, Severity::P3),
        ] {
            assert_eq!(severity(value), want, "{value:?}");
        }
    }

    #[test]
    fn the_zero_end_time_is_firing() {
        let hook = br#"{"version": "4", "status": "firing", "receiver": "opsdeck",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
            "alerts": [{"status": "firing", "labels": {"alertname": "Down"}, "annotations": {},
              "startsAt": "2026-12-06T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "", "fingerprint": "f1"}]}"#;
        let observed = read_hook(hook).unwrap();
        assert!(observed[0].firing(Utc::now()));
        let zero = Observed {
            ends_at: Some(at("0001-01-01T00:00:00Z")),
            ..observed[0].clone()
        };
        assert!(zero.firing(Utc::now()));
    }

    #[test]
    fn a_malformed_hook_says_what_is_wrong() {
        let wrong_version = br#"{"version": "3", "alerts": []}"#;
        assert!(
            read_hook(wrong_version)
                .unwrap_err()
                .contains("version \"3\"")
        );
        let not_json = b"{\"version\": ";
        assert!(
            read_hook(not_json)
                .unwrap_err()
                .contains("not an Alertmanager webhook")
        );
        let bad_status = br#"{"version": "4", "alerts": [{"status": "odd", "labels": {},
            "startsAt": "2026-12-06T10:00:00Z", "fingerprint": "f1"}]}"#;
        assert!(read_hook(bad_status).unwrap_err().contains("\"odd\""));
        let no_alerts = br#"{"version": "4"}"#;
        assert!(read_hook(no_alerts).unwrap_err().contains("alerts"));
    }

    #[test]
    fn an_unreadable_api_answer_is_an_error_not_an_empty_list() {
        assert!(read_alerts("<html>").is_err());
        assert!(read_alerts(r#"{"alerts": []}"#).is_err());
    }

    #[test]
    fn reads_are_diffed_by_fingerprint_and_a_missing_alert_resolves() {
        let am = alerts();
        let now = at("2026-12-06T10:01:00Z");
        let first = am.apply_full(read_alerts(API).unwrap(), now);
        assert_eq!(first.len(), 1);
        // The same read again changes nothing.
        assert!(am.apply_full(read_alerts(API).unwrap(), now).is_empty());
        // Gone from the read: resolved, and kept in the list.
        let gone = am.apply_full(Vec::new(), at("2026-12-06T10:02:00Z"));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].state, AlertState::Resolved);
        assert_eq!(am.list().unwrap()[0].state, AlertState::Resolved);
    }

    #[test]
    fn silences_made_elsewhere_show_as_silenced() {
        let am = alerts();
        let suppressed = API
            .replace(r#""state": "active""#, r#""state": "suppressed""#)
            .replace(r#""silencedBy": []"#, r#""silencedBy": ["s-1"]"#);
        let now = at("2026-12-06T10:01:00Z");
        let changed = am.apply_full(read_alerts(&suppressed).unwrap(), now);
        assert_eq!(changed[0].state, AlertState::Silenced);
        assert_eq!(
            changed[0].silenced_until, None,
            "not listed yet: no end known"
        );
        // Once listed, its end and who made it show.
        am.book().unwrap().silences = read_silences(
            r#"[{"id": "s-1", "status": {"state": "active"}, "matchers": [],
                 "startsAt": "2026-12-06T09:00:00Z", "endsAt": "2026-12-06T12:00:00Z",
                 "updatedAt": "2026-12-06T09:00:00Z", "createdBy": "amtool-ana",
                 "comment": "db maintenance"}]"#,
        )
        .unwrap()
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
        let changed = am.apply_full(read_alerts(&suppressed).unwrap(), now);
        assert_eq!(changed[0].silenced_until, Some(at("2026-12-06T12:00:00Z")));
        assert_eq!(
            changed[0].comment.as_deref(),
            Some("db maintenance — amtool-ana")
        );
        // The silence expires: firing again.
        let changed = am.apply_full(read_alerts(API).unwrap(), now);
        assert_eq!(changed[0].state, AlertState::Firing);
    }

    #[test]
    fn unreachable_marks_every_alert_stale_once_and_keeps_them() {
        let am = alerts();
        let ok = at("2026-12-06T10:01:00Z");
        am.apply_full(read_alerts(API).unwrap(), ok);
        let stale = am.mark_stale(at("2026-12-06T10:02:00Z"));
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].stale_since, Some(ok));
        assert!(am.mark_stale(at("2026-12-06T10:03:00Z")).is_empty());
        let list = am.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].state, AlertState::Firing);
        // Back: the mark goes.
        let back = am.apply_full(read_alerts(API).unwrap(), at("2026-12-06T10:04:00Z"));
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].stale_since, None);
    }

    #[tokio::test]
    async fn an_alert_the_webhook_brought_while_reads_fail_is_marked_at_the_next_failure() {
        let am = alerts();
        am.mark_stale(Utc::now());
        let hook = br#"{"version": "4", "alerts": [{"status": "firing",
            "labels": {"alertname": "Down"}, "startsAt": "2026-12-06T10:00:00Z",
            "fingerprint": "f1"}]}"#;
        am.hook(hook).await.unwrap();
        assert_eq!(am.list().unwrap()[0].stale_since, None);
        let marked = am.mark_stale(Utc::now());
        assert_eq!(marked.len(), 1);
        assert!(marked[0].stale_since.is_some());
    }

    #[tokio::test]
    async fn acknowledging_is_recorded_and_an_unknown_alert_is_not_found() {
        let am = alerts();
        let hook = br#"{"version": "4", "alerts": [{"status": "firing",
            "labels": {"alertname": "Down", "app": "shop-cart"},
            "startsAt": "2026-12-06T10:00:00Z", "fingerprint": "f1"}]}"#;
        am.hook(hook).await.unwrap();
        let acked = am.acknowledge("f1", "ana").await.unwrap();
        assert_eq!(acked.state, AlertState::Acknowledged);
        assert_eq!(acked.acknowledged_by.as_deref(), Some("ana"));
        assert!(matches!(
            am.acknowledge("nope", "ana").await,
            Err(PlatformError::NotFound(_))
        ));
        // Silencing needs Alertmanager: unreachable is Unavailable, and nothing changes.
        assert!(matches!(
            am.silence("f1", 60, "", "ana").await,
            Err(PlatformError::Unavailable(_))
        ));
        assert_eq!(am.current("f1").unwrap().state, AlertState::Acknowledged);
    }
}

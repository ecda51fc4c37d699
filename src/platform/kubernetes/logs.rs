//! Logs of every pod of every app, followed while the pod exists (pods come and go during a
//! rollout: a follower starts when a pod starts, ends when it is gone). Each line carries the
//! API server's timestamp; lines of all pods are merged by time in short batches. A stream
//! that drops is resumed with `sinceTime` (whole seconds, so it overlaps) and the overlap is
//! skipped: lines older than the last one seen, and lines at its very timestamp already sent.
//! A pod sends at most a bounded number of lines per batch; the rest are counted and said.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod as KubePod;
use kube::api::LogParams;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::shape;
use super::{Cache, Key, KubeSettings};
use crate::platform::{Emission, EventSink};
use crate::protocol::{Body, Level, LogLine};

/// How long lines are gathered before they are sorted and sent.
const BATCH: Duration = Duration::from_millis(100);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// One line read from a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub ts: DateTime<Utc>,
    pub app: String,
    pub pod: String,
    pub message: String,
}

/// The followers, one per pod.
pub struct Followers {
    client: Client,
    lines: mpsc::Sender<Read>,
    running: HashMap<Key, AbortHandle>,
    merger: AbortHandle,
}

impl Followers {
    pub fn new(client: Client, sink: EventSink, per_batch: usize) -> Followers {
        let (lines, rx) = mpsc::channel(4_096);
        let merger = tokio::spawn(merge(rx, sink, per_batch)).abort_handle();
        Followers {
            client,
            lines,
            running: HashMap::new(),
            merger,
        }
    }

    /// Follow every started pod of an app that is not followed yet; stop following pods that
    /// are gone.
    pub fn reconcile(&mut self, cache: &Cache, settings: &KubeSettings) {
        let mut wanted: BTreeMap<Key, (String, Option<String>)> = BTreeMap::new();
        for (key, pod) in &cache.pods {
            let started = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|phase| phase != "Pending");
            if !started {
                continue;
            }
            if let Some(d) = cache.deployments.values().find(|d| shape::selects(d, pod)) {
                let container = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.first())
                    .map(|c| c.name.clone());
                wanted.insert(
                    key.clone(),
                    (shape::app_id(d, &settings.app_label), container),
                );
            }
        }
        self.running.retain(|key, task| {
            let keep = wanted.contains_key(key);
            if !keep {
                task.abort();
            }
            keep
        });
        for (key, (app, container)) in wanted {
            if self.running.contains_key(&key) {
                continue;
            }
            let api: Api<KubePod> = Api::namespaced(self.client.clone(), &key.0);
            let task = tokio::spawn(follow(
                api,
                key.1.clone(),
                container,
                app,
                settings.log_tail,
                self.lines.clone(),
            ));
            self.running.insert(key, task.abort_handle());
        }
    }

    pub fn stop(&mut self) {
        for task in self.running.values() {
            task.abort();
        }
        self.running.clear();
        self.merger.abort();
    }
}

impl Drop for Followers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a follower is in a pod's log: the newest timestamp sent and the lines sent at it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Position {
    last: Option<DateTime<Utc>>,
    at_last: Vec<String>,
}

impl Position {
    /// `sinceTime` for a resumed stream: the last timestamp, cut to whole seconds.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.last
            .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0))
    }

    /// Whether a line is new, remembering it when it is. `replayed` holds what the resumed
    /// stream may repeat at the last timestamp (taken from `at_last` when it was opened).
    pub fn take(&mut self, ts: DateTime<Utc>, message: &str, replayed: &mut Vec<String>) -> bool {
        match self.last {
            Some(last) if ts < last => false,
            Some(last) if ts == last => {
                if let Some(i) = replayed.iter().position(|m| m == message) {
                    replayed.swap_remove(i);
                    return false;
                }
                self.at_last.push(message.to_string());
                true
            }
            _ => {
                self.last = Some(ts);
                self.at_last = vec![message.to_string()];
                replayed.clear();
                true
            }
        }
    }
}

/// A line of `kubectl logs --timestamps`: RFC 3339 time, a space, the message.
pub fn split_line(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let (ts, message) = line.split_once(' ').unwrap_or((line, ""));
    let ts = DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc);
    Some((ts, message))
}

/// A level guessed from the words a line uses.
pub fn level(message: &str) -> Level {
    let lower = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["error", "fatal", "panic", "exception"]) {
        Level::Error
    } else if has(&["warn"]) {
        Level::Warn
    } else if has(&["debug"]) {
        Level::Debug
    } else if has(&["trace"]) {
        Level::Trace
    } else {
        Level::Info
    }
}

/// Follow one pod's log until aborted, resuming after every dropped stream.
async fn follow(
    api: Api<KubePod>,
    pod: String,
    container: Option<String>,
    app: String,
    tail: i64,
    out: mpsc::Sender<Read>,
) {
    let mut position = Position::default();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let since = position.since();
        let params = LogParams {
            container: container.clone(),
            follow: true,
            timestamps: true,
            tail_lines: since.is_none().then_some(tail),
            since_time: since
                .and_then(|t| k8s_openapi::jiff::Timestamp::from_second(t.timestamp()).ok()),
            ..LogParams::default()
        };
        let mut replayed = position.at_last.clone();
        match api.log_stream(&pod, &params).await {
            Ok(stream) => {
                let mut lines = std::pin::pin!(stream.lines());
                while let Some(Ok(line)) = lines.next().await {
                    let Some((ts, message)) = split_line(&line) else {
                        continue;
                    };
                    if !position.take(ts, message, &mut replayed) {
                        continue;
                    }
                    backoff = FIRST_BACKOFF;
                    let read = Read {
                        ts,
                        app: app.clone(),
                        pod: pod.clone(),
                        message: message.to_string(),
                    };
                    if out.send(read).await.is_err() {
                        return;
                    }
                }
            }
            Err(kube::Error::Api(status)) if status.code == 404 => return,
            Err(err) => tracing::debug!(pod = %pod, error = %err, "cannot follow the log"),
        }
        if out.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Gather lines for a batch, sort them by time, cap each pod, send.
async fn merge(mut rx: mpsc::Receiver<Read>, sink: EventSink, per_batch: usize) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => break,
                read = rx.recv() => match read {
                    Some(read) => batch.push(read),
                    None => break,
                },
            }
        }
        for emission in merged(batch, per_batch) {
            if sink.send(emission).await.is_err() {
                return;
            }
        }
    }
}

/// Lines sorted by time, at most `per_batch` per pod, with a warning line for what was cut.
pub fn merged(mut batch: Vec<Read>, per_batch: usize) -> Vec<Emission> {
    batch.sort_by_key(|r| r.ts);
    let mut sent: HashMap<String, usize> = HashMap::new();
    let mut cut: BTreeMap<(String, String), (usize, DateTime<Utc>)> = BTreeMap::new();
    let mut out = Vec::new();
    for read in batch {
        let n = sent.entry(read.pod.clone()).or_default();
        if *n >= per_batch {
            let entry = cut.entry((read.app, read.pod)).or_insert((0, read.ts));
            entry.0 += 1;
            entry.1 = read.ts;
            continue;
        }
        *n += 1;
        out.push(Emission {
            ts: read.ts,
            app: read.app,
            body: Body::Logs(LogLine {
                pod: read.pod,
                level: level(&read.message),
                message: read.message,
                fields: BTreeMap::new(),
            }),
        });
    }
    for ((app, pod), (count, ts)) in cut {
        out.push(Emission {
            ts,
            app,
            body: Body::Logs(LogLine {
                pod,
                level: Level::Warn,
                message: format!("opsdeck: {count} lines of this pod skipped (too many at once)"),
                fields: BTreeMap::new(),
            }),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_resumed_stream_skips_what_was_sent_and_keeps_what_was_not() {
        let mut pos = Position::default();
        let mut none = Vec::new();
        assert!(pos.take(t("2026-12-06T10:00:01.5Z"), "a", &mut none));
        assert!(pos.take(t("2026-12-06T10:00:02.2Z"), "b", &mut none));
        assert!(
            pos.take(t("2026-12-06T10:00:02.2Z"), "b", &mut none),
            "a second equal line"
        );
        assert_eq!(pos.since(), Some(t("2026-12-06T10:00:02Z")));
        // The stream drops and resumes from 10:00:02: the overlap comes again.
        let mut replayed = pos.at_last.clone();
        assert!(!pos.take(t("2026-12-06T10:00:02.2Z"), "b", &mut replayed));
        assert!(!pos.take(t("2026-12-06T10:00:02.2Z"), "b", &mut replayed));
        assert!(
            pos.take(t("2026-12-06T10:00:02.2Z"), "c", &mut replayed),
            "new at the same instant"
        );
        assert!(pos.take(t("2026-12-06T10:00:03Z"), "d", &mut replayed));
        assert!(!pos.take(t("2026-12-06T10:00:01.5Z"), "a", &mut replayed));
    }

    #[test]
    fn lines_are_split_merged_by_time_and_capped_per_pod() {
        assert_eq!(
            split_line("2026-12-06T10:00:01.123456789Z GET /cart 200"),
            Some((t("2026-12-06T10:00:01.123456789Z"), "GET /cart 200"))
        );
        assert_eq!(split_line("no timestamp here"), None);
        let read = |pod: &str, secs: u32| Read {
            ts: t(&format!("2026-12-06T10:00:{secs:02}Z")),
            app: "cart".into(),
            pod: pod.into(),
            message: format!("{pod} {secs}"),
        };
        let batch = vec![read("a", 3), read("b", 1), read("a", 2), read("a", 4)];
        let out = merged(batch, 2);
        let messages: Vec<String> = out
            .iter()
            .map(|e| match &e.body {
                Body::Logs(l) => l.message.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            messages,
            [
                "b 1",
                "a 2",
                "a 3",
                "opsdeck: 1 lines of this pod skipped (too many at once)"
            ]
        );
        assert_eq!(level("ERROR payment failed"), Level::Error);
        assert_eq!(level("served"), Level::Info);
    }
}

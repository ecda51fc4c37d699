//! List, then watch, one kind of object in one namespace, for as long as the platform runs:
//! a watch that ends (the server's timeout, a dropped connection) is started again from the
//! last resourceVersion seen; `410 Gone` (the version is too old) lists everything again. An
//! API server that cannot be reached is reported ([`Change::Lost`]) and retried with a
//! growing pause; what was known is kept by the receiver, never emptied.

use std::fmt::Debug;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

/// What a watch saw.
#[derive(Clone, Debug)]
pub enum Change<K> {
    /// A full list: everything there is now (after the first list, and after 410 Gone).
    Listed(Vec<K>),
    Applied(K),
    Deleted(K),
    /// The API server could not be reached or refused; the message says why.
    Lost(String),
    /// A watch started again after [`Change::Lost`]: the API server answers again.
    Answering,
}

/// Longest pause between two attempts to reach the API server.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Seconds the API server keeps one watch open.
const WATCH_TIMEOUT_SECS: u32 = 290;

/// Follow `api` (objects matching `selector`, when given) and send every change, wrapped by
/// `wrap`, to `out` until it closes.
pub async fn follow<K, U>(
    api: Api<K>,
    selector: Option<String>,
    out: mpsc::Sender<U>,
    wrap: impl Fn(Change<K>) -> U,
) where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    let mut version: Option<String> = None;
    let mut lost = false;
    let send = async |change: Change<K>| out.send(wrap(change)).await.is_ok();
    loop {
        let Some(from) = version.clone() else {
            let mut lp = ListParams::default();
            if let Some(s) = &selector {
                lp = lp.labels(s);
            }
            match api.list(&lp).await {
                Ok(list) => {
                    backoff = FIRST_BACKOFF;
                    lost = false;
                    version = Some(list.metadata.resource_version.clone().unwrap_or_default());
                    if !send(Change::Listed(list.items)).await {
                        return;
                    }
                }
                Err(err) => {
                    lost = true;
                    if !send(Change::Lost(describe(&err))).await {
                        return;
                    }
                    pause(&out, &mut backoff).await;
                }
            }
            continue;
        };
        let mut wp = WatchParams::default().timeout(WATCH_TIMEOUT_SECS);
        if let Some(s) = &selector {
            wp = wp.labels(s);
        }
        let stream = match api.watch(&wp, &from).await {
            Ok(stream) => stream,
            Err(err) => {
                lost = true;
                if !send(Change::Lost(describe(&err))).await {
                    return;
                }
                pause(&out, &mut backoff).await;
                continue;
            }
        };
        if std::mem::take(&mut lost) && !send(Change::Answering).await {
            return;
        }
        let mut stream = std::pin::pin!(stream.into_stream());
        while let Some(event) = stream.next().await {
            let change = match event {
                Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj)) => {
                    remember(&mut version, &obj);
                    Change::Applied(obj)
                }
                Ok(WatchEvent::Deleted(obj)) => {
                    remember(&mut version, &obj);
                    Change::Deleted(obj)
                }
                Ok(WatchEvent::Bookmark(mark)) => {
                    version = Some(mark.metadata.resource_version);
                    continue;
                }
                Ok(WatchEvent::Error(status)) => {
                    if status.code != 410 {
                        tracing::warn!(code = status.code, message = %status.message, "watch error; listing again");
                        pause(&out, &mut backoff).await;
                    }
                    // 410 Gone: the version is too old; list everything again.
                    version = None;
                    break;
                }
                Err(err) => {
                    // A dropped connection: watch again from the last version seen.
                    tracing::debug!(error = %err, "watch stream broke");
                    break;
                }
            };
            backoff = FIRST_BACKOFF;
            if !send(change).await {
                return;
            }
        }
    }
}

fn remember<K: kube::Resource>(version: &mut Option<String>, obj: &K) {
    if let Some(v) = obj.meta().resource_version.clone() {
        *version = Some(v);
    }
}

/// Ask the API server its version every `every`, and send what came of it (`None`: it
/// answered within `every`; else why not), wrapped by `wrap`, until `out` closes. A watch
/// notices a server that refuses or fails; only this notices one that stopped answering.
pub async fn probe<U>(
    client: kube::Client,
    every: Duration,
    out: mpsc::Sender<U>,
    wrap: impl Fn(Option<String>) -> U,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let answer = match tokio::time::timeout(every, client.apiserver_version()).await {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => Some(describe(&err)),
            Err(_) => Some(format!(
                "the API server did not answer within {}s",
                every.as_secs_f64()
            )),
        };
        if out.send(wrap(answer)).await.is_err() {
            return;
        }
    }
}

/// Wait `backoff` (or until nobody listens), then double it up to [`MAX_BACKOFF`].
async fn pause<U>(out: &mpsc::Sender<U>, backoff: &mut Duration) {
    tokio::select! {
        () = tokio::time::sleep(*backoff) => {}
        () = out.closed() => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}

/// A kube error in a sentence.
pub fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!(
            "the API server answered {} {}: {}",
            status.code, status.reason, status.message
        ),
        other => format!("the API server cannot be reached: {other}"),
    }
}

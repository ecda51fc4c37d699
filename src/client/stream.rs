//! Stream driver: keeps one WebSocket to `{url}/v1/stream` open for the console.
//!
//! Per connection: read `hello`, report `StreamConnected`, send the `subscribe` the core asks
//! for (with its resume map), then forward every frame as `StreamFrame`. On any error, close,
//! or silence longer than two heartbeats, report `StreamDown` and reconnect with jittered
//! backoff. Pings are answered by tungstenite as long as we keep reading.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, connect_async_tls_with_config};

use super::BearerToken;
use super::backoff::Backoff;
use crate::app::Action;
use crate::protocol::{ClientMsg, Filter, Seq, ServerMsg, Topic, decode_server_msg};

/// How long connecting and reading `hello` may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Heartbeat assumed until `hello` says otherwise, and the shortest one believed.
const MIN_HEARTBEAT: Duration = Duration::from_millis(500);

/// What the core asks the stream driver to do.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamCommand {
    Subscribe {
        topics: Vec<Topic>,
        resume: BTreeMap<Topic, Seq>,
    },
}

/// Why a connection ended.
enum End {
    /// The console is gone: stop for good.
    Shutdown,
    /// The link failed; try again.
    Lost(String),
    /// The gateway refused the token (401, 403, 429): try again, but only after
    /// [`REFUSED_RETRY`], so a wrong token never locks its address out by retrying.
    Refused(String),
}

/// How long the driver waits after the gateway refused its token. The gateway blocks an address
/// after 10 failures a minute; one retry a minute stays under that.
const REFUSED_RETRY: Duration = Duration::from_secs(60);

/// Start the driver. It runs until `actions` is closed (the console quit). A `wss://` URL is
/// verified with `tls`.
/// `token` is sent as `Authorization: Bearer` on every connection.
pub fn spawn(
    url: String,
    tls: Arc<rustls::ClientConfig>,
    token: Option<BearerToken>,
    actions: mpsc::Sender<Action>,
    commands: watch::Receiver<Option<StreamCommand>>,
) -> JoinHandle<()> {
    tokio::spawn(run(url, tls, token, actions, commands))
}

async fn run(
    url: String,
    tls: Arc<rustls::ClientConfig>,
    token: Option<BearerToken>,
    actions: mpsc::Sender<Action>,
    mut commands: watch::Receiver<Option<StreamCommand>>,
) {
    let endpoint = format!("{}/v1/stream", url.trim_end_matches('/'));
    let mut backoff = Backoff::new();
    loop {
        let (reason, delay) = match connect_once(
            &endpoint,
            &tls,
            token.as_ref(),
            &actions,
            &mut commands,
            &mut backoff,
        )
        .await
        {
            End::Shutdown => return,
            End::Lost(reason) => (reason, backoff.next_delay(fastrand::f64())),
            End::Refused(reason) => (reason, REFUSED_RETRY),
        };
        tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "stream lost; will retry");
        let down = Action::StreamDown {
            reason,
            retry_in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            at: Utc::now(),
        };
        if actions.send(down).await.is_err() {
            return;
        }
        // Wait out the backoff, unless the console has gone (its channels closed).
        let wake = sleep(delay);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                _ = actions.closed() => return,
                changed = commands.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Why connecting failed, in the gateway's words when it answered with an error body (e.g.
/// `tls_required` for ws:// to a TLS gateway).
fn describe(e: &tokio_tungstenite::tungstenite::Error) -> String {
    if let tokio_tungstenite::tungstenite::Error::Http(response) = e {
        let said = response
            .body()
            .as_deref()
            .and_then(|body| serde_json::from_slice::<crate::protocol::ErrorBody>(body).ok());
        if let Some(said) = said {
            return format!("{} ({})", said.error.message, response.status());
        }
    }
    e.to_string()
}

async fn connect_once(
    endpoint: &str,
    tls: &Arc<rustls::ClientConfig>,
    token: Option<&BearerToken>,
    actions: &mpsc::Sender<Action>,
    commands: &mut watch::Receiver<Option<StreamCommand>>,
    backoff: &mut Backoff,
) -> End {
    let mut request = match endpoint.into_client_request() {
        Ok(request) => request,
        Err(e) => return End::Lost(format!("bad gateway URL {endpoint}: {e}")),
    };
    if let Some(value) = token.and_then(BearerToken::header) {
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    // Used only for wss://; ws:// stays plain.
    let connector = Connector::Rustls(tls.clone());
    let connect = connect_async_tls_with_config(request, None, false, Some(connector));
    let ws = match timeout(HANDSHAKE_TIMEOUT, connect).await {
        Err(_) => return End::Lost(format!("connecting to {endpoint} timed out")),
        Ok(Err(e)) => {
            if let tungstenite::Error::Http(response) = &e {
                let status = response.status().as_u16();
                if matches!(status, 401 | 403 | 429) {
                    return End::Refused(refusal(status, token.is_some()));
                }
            }
            return End::Lost(format!("cannot connect to {endpoint}: {}", describe(&e)));
        }
        Ok(Ok((ws, _response))) => ws,
    };
    let (mut sink, mut frames) = ws.split();

    let (hello, heartbeat_ms) = match timeout(HANDSHAKE_TIMEOUT, next_server_msg(&mut frames)).await
    {
        Err(_) => return End::Lost("gateway sent no hello".into()),
        Ok(Err(reason)) => return End::Lost(reason),
        Ok(Ok(msg @ ServerMsg::Hello { heartbeat_ms, .. })) => (msg, heartbeat_ms),
        Ok(Ok(other)) => return End::Lost(format!("expected hello, got {other:?}")),
    };
    // Whatever the gateway announces, check the link at least hourly and at most twice a second.
    let heartbeat =
        Duration::from_millis(heartbeat_ms).clamp(MIN_HEARTBEAT, Duration::from_secs(3600));
    let dead_after = heartbeat * 2;
    backoff.reset();

    // A subscription asked for earlier was meant for an earlier connection: the core asks
    // again once it has this connection's hello.
    commands.borrow_and_update();
    if actions.send(Action::StreamConnected(hello)).await.is_err() {
        return End::Shutdown;
    }

    let mut deadline = Instant::now() + dead_after;
    loop {
        tokio::select! {
            biased;
            changed = commands.changed() => {
                if changed.is_err() {
                    return End::Shutdown;
                }
                let cmd = commands.borrow_and_update().clone();
                let Some(StreamCommand::Subscribe { topics, resume }) = cmd else {
                    continue;
                };
                let msg = ClientMsg::Subscribe { topics, filter: Filter::default(), resume };
                let text = match serde_json::to_string(&msg) {
                    Ok(t) => t,
                    Err(e) => return End::Lost(format!("cannot encode subscribe: {e}")),
                };
                if let Err(e) = sink.send(Message::Text(text.into())).await {
                    return End::Lost(format!("sending subscribe failed: {e}"));
                }
            }
            frame = frames.next() => {
                deadline = Instant::now() + dead_after;
                match frame {
                    None => return End::Lost("gateway closed the connection".into()),
                    Some(Err(e)) => return End::Lost(format!("stream error: {e}")),
                    Some(Ok(Message::Text(text))) => match decode_server_msg(text.as_str()) {
                        Ok(msg) => {
                            // The clock is stamped with when it arrived, so the console can
                            // tell how far the platform has moved since.
                            let action = match msg {
                                ServerMsg::Clock { platform_time, rate } => Action::Clock {
                                    platform_time,
                                    rate,
                                    at: Utc::now(),
                                },
                                msg => Action::StreamFrame(msg),
                            };
                            if actions.send(action).await.is_err() {
                                return End::Shutdown;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a frame that is not a ServerMsg"),
                    },
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame
                            .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                            .unwrap_or_else(|| "no reason".into());
                        return End::Lost(format!("gateway closed the stream: {why}"));
                    }
                    Some(Ok(_)) => {} // pings (answered by tungstenite), pongs, binary
                }
            }
            _ = sleep_until(deadline) => {
                if woke_late(deadline, Instant::now()) {
                    // The process was not running (Ctrl-Z, then `fg`) or not scheduled: the
                    // silence was ours, not the link's. Frames waiting in the socket are read
                    // before a fresh deadline can pass.
                    tracing::info!("stream watchdog woke late; giving the link a fresh window");
                    deadline = Instant::now() + dead_after;
                    continue;
                }
                return End::Lost(format!(
                    "nothing from the gateway for {}s: link presumed dead",
                    dead_after.as_secs_f32()
                ));
            }
            _ = actions.closed() => return End::Shutdown,
        }
    }
}

/// How late a watchdog may wake before its silence counts as the console's own (a stopped or
/// starved process) rather than the link's.
const LATE_WAKE: Duration = Duration::from_secs(2);

/// Whether a deadline that passed at `deadline` was only noticed at `now` long after: then
/// nothing was listening in between, and the silence proves nothing about the link.
fn woke_late(deadline: Instant, now: Instant) -> bool {
    now.saturating_duration_since(deadline) > LATE_WAKE
}

/// Read frames until a text frame decodes as a [`ServerMsg`].
/// Why the gateway refused the stream, in words that say what to do.
fn refusal(status: u16, sent_token: bool) -> String {
    match (status, sent_token) {
        (401, false) => "the gateway needs a token (401): set OPSDECK_TOKEN, or use \
                         --token-file or --token-command"
            .into(),
        (401, true) => "the gateway refused the token (401): it is unknown or was revoked".into(),
        (403, _) => "the gateway refused this token the stream (403)".into(),
        (429, _) => "too many failed authentications from this address (429); waiting".into(),
        (status, _) => format!("the gateway refused the stream (HTTP {status})"),
    }
}

async fn next_server_msg<S>(frames: &mut S) -> Result<ServerMsg, String>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match frames.next().await {
            None => return Err("gateway closed the connection".into()),
            Some(Err(e)) => return Err(format!("stream error: {e}")),
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("gateway sent something that is not hello: {e}"));
            }
            Some(Ok(Message::Close(_))) => return Err("gateway closed the stream".into()),
            Some(Ok(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_noticed_long_after_it_passed_proves_nothing_about_the_link() {
        let deadline = Instant::now();
        assert!(!woke_late(deadline, deadline));
        assert!(!woke_late(deadline, deadline + Duration::from_millis(500)));
        assert!(woke_late(deadline, deadline + Duration::from_secs(40)));
        // A clock read before the deadline (it cannot be late).
        assert!(!woke_late(deadline + Duration::from_secs(1), deadline));
    }
}

//! One WebSocket stream connection: hello, subscriptions, replay on resume, live delivery with
//! lag limits, heartbeats, and clear errors for bad frames.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior, timeout};

use crate::protocol::{ClientMsg, Filter, Identity, Level, Seq, ServerMsg, Topic, close_code};

use super::Gateway;
use super::hub::{Batch, Stored};

/// Why a session ended early, for the log.
#[derive(Debug)]
enum End {
    ClientGone,
    Closed(u16, &'static str),
}

/// What one client asked for.
struct Subscription {
    topics: [bool; Topic::COUNT],
    /// The filter's apps, as a set for lookups per event.
    apps: Option<HashSet<String>>,
    min_level: Option<Level>,
    /// Per topic, the last sequence delivered (or skipped) for this client.
    cursor: [Seq; Topic::COUNT],
    /// Replaying after a resume: the whole replay buffer may be sent, not just the lag limit.
    replaying: bool,
    /// The last catch-up stopped at its time budget with more to send.
    behind: bool,
}

impl Subscription {
    fn empty(heads: [Seq; Topic::COUNT]) -> Self {
        Subscription {
            topics: [false; Topic::COUNT],
            apps: None,
            min_level: None,
            cursor: heads,
            replaying: false,
            behind: false,
        }
    }

    fn any(&self) -> bool {
        self.topics.iter().any(|t| *t)
    }

    /// Every topic, no filter: the shared batch frame fits this client as it is.
    fn takes_whole_batches(&self) -> bool {
        self.topics.iter().all(|t| *t) && self.apps.is_none() && self.min_level.is_none()
    }

    fn admits(&self, stored: &Stored) -> bool {
        if let Some(apps) = &self.apps
            && !apps.contains(&*stored.app)
        {
            return false;
        }
        match (self.min_level, stored.level) {
            (Some(min), Some(level)) => level >= min,
            _ => true,
        }
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

pub async fn run(gateway: Arc<Gateway>, socket: WebSocket, identity: Option<Identity>) {
    gateway.stats.client_connected();
    let (mut sink, mut stream) = socket.split();
    let result = serve(&gateway, &mut sink, &mut stream, identity).await;
    match result {
        End::ClientGone => {}
        End::Closed(code, reason) => {
            tracing::info!(code, reason, "closing stream connection");
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = timeout(
                Duration::from_secs(1),
                sink.send(Message::Close(Some(frame))),
            )
            .await;
        }
    }
    gateway.stats.client_disconnected();
}

async fn serve(
    gateway: &Gateway,
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    identity: Option<Identity>,
) -> End {
    let cfg = &gateway.config;
    let hello = gateway.hello(chrono::Utc::now(), identity);
    if send_msg(gateway, sink, &hello).await.is_err()
        || send_msg(gateway, sink, &gateway.clock()).await.is_err()
    {
        return End::ClientGone;
    }

    let mut batches = gateway.hub.subscribe_batches();
    let mut sub = Subscription::empty(gateway.hub.heads());
    let mut closing = gateway.closing.clone();
    let mut heartbeat = tokio::time::interval(cfg.heartbeat);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    heartbeat.reset();
    // Since when a ping has gone unanswered (any frame from the client answers it).
    let mut unanswered_since: Option<Instant> = None;
    let mut lag = LagStreak::default();

    loop {
        tokio::select! {
            biased;
            () = closed(&mut closing) => {
                return End::Closed(close_code::GOING_AWAY, "gateway shutting down");
            }
            incoming = stream.next() => {
                unanswered_since = None;
                match incoming {
                    None | Some(Ok(Message::Close(_))) => return End::ClientGone,
                    Some(Err(err)) => return client_error_end(gateway, &err),
                    Some(Ok(Message::Text(text))) => {
                        if let Err(end) = handle_client_msg(gateway, sink, &mut sub, &text).await {
                            return end;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        gateway.stats.client_error();
                        let msg = error_msg("bad_message", "binary frames are not supported; send JSON text frames");
                        if send_msg(gateway, sink, &msg).await.is_err() {
                            return End::ClientGone;
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                }
            }
            _ = heartbeat.tick() => {
                if let Some(since) = unanswered_since
                    && since.elapsed() + cfg.heartbeat / 4 >= cfg.heartbeat * 2
                {
                    gateway.stats.closed_slow();
                    return End::Closed(close_code::POLICY, "heartbeat timeout: no answer to pings for two intervals");
                }
                let ping = timeout(cfg.send_timeout, sink.send(Message::Ping(axum::body::Bytes::new()))).await;
                if !matches!(ping, Ok(Ok(()))) {
                    return End::ClientGone;
                }
                unanswered_since.get_or_insert_with(Instant::now);
                if send_msg(gateway, sink, &gateway.clock()).await.is_err() {
                    return End::ClientGone;
                }
            }
            batch = batches.recv(), if sub.any() => {
                let delivered = match batch {
                    Ok(batch) => deliver(gateway, sink, &mut sub, &batch).await,
                    Err(RecvError::Lagged(_)) => catch_up(gateway, sink, &mut sub).await,
                    Err(RecvError::Closed) => return End::Closed(close_code::GOING_AWAY, "gateway shutting down"),
                };
                if let Some(end) = judge(gateway, delivered, &mut lag) {
                    return end;
                }
            }
            () = std::future::ready(()), if sub.behind => {
                let delivered = catch_up(gateway, sink, &mut sub).await;
                if let Some(end) = judge(gateway, delivered, &mut lag) {
                    return end;
                }
            }
        }
    }
}

/// What a delivery means for the connection: the client went away, or it has kept falling
/// behind for longer than the grace and is closed with 1008.
fn judge(gateway: &Gateway, delivered: Result<bool, ()>, lag: &mut LagStreak) -> Option<End> {
    match delivered {
        Err(()) => Some(End::ClientGone),
        Ok(false) => None,
        Ok(true) if lag.skipped(Instant::now(), gateway.config.slow_client_grace) => {
            gateway.stats.closed_slow();
            Some(End::Closed(
                close_code::POLICY,
                "client too slow: kept falling behind the stream",
            ))
        }
        Ok(true) => None,
    }
}

/// Resolves once the gateway is stopping (never, if the gateway's handle was dropped instead).
async fn closed(closing: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        let stopping = *closing.borrow_and_update();
        if stopping {
            return;
        }
        if closing.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Tracks whether a client keeps falling behind: skips that come within `grace` of each other
/// form one streak, and a streak longer than `grace` closes the client. A slow client is not
/// skipped on every delivery (the socket buffers absorb bursts, so many deliveries go through
/// and then one waits long and must skip), but its skips keep coming; a client that falls
/// behind once in a while never builds a streak.
#[derive(Default)]
struct LagStreak {
    started: Option<Instant>,
    last: Option<Instant>,
}

impl LagStreak {
    /// Record a delivery that skipped, at `now`; true when the streak has lasted over `grace`.
    fn skipped(&mut self, now: Instant, grace: Duration) -> bool {
        let continues = self
            .last
            .is_some_and(|last| now.duration_since(last) <= grace);
        if !continues {
            self.started = Some(now);
        }
        self.last = Some(now);
        self.started
            .is_some_and(|start| now.duration_since(start) > grace)
    }
}

fn client_error_end(gateway: &Gateway, err: &axum::Error) -> End {
    gateway.stats.client_error();
    let text = err.to_string();
    if text.contains("Space limit exceeded")
        || text.contains("too long")
        || text.contains("Message too big")
    {
        End::Closed(close_code::TOO_BIG, "frame larger than max_frame_bytes")
    } else {
        tracing::debug!(%text, "stream read error");
        End::ClientGone
    }
}

async fn handle_client_msg(
    gateway: &Gateway,
    sink: &mut Sink,
    sub: &mut Subscription,
    text: &str,
) -> Result<(), End> {
    let msg: ClientMsg = match serde_json::from_str(text) {
        Ok(msg) => msg,
        Err(err) => {
            gateway.stats.client_error();
            let msg = error_msg("bad_message", &format!("could not parse message: {err}"));
            return send_msg(gateway, sink, &msg)
                .await
                .map_err(|()| End::ClientGone);
        }
    };
    match msg {
        ClientMsg::Subscribe {
            topics,
            filter,
            resume,
        } => {
            if topics.is_empty() {
                let msg = error_msg("bad_message", "subscribe needs at least one topic");
                return send_msg(gateway, sink, &msg)
                    .await
                    .map_err(|()| End::ClientGone);
            }
            subscribe(gateway, sink, sub, &topics, filter, &resume).await
        }
        ClientMsg::Unsubscribe { topics } => {
            for topic in topics {
                sub.topics[topic.index()] = false;
            }
            let msg = subscribed_msg(sub);
            send_msg(gateway, sink, &msg)
                .await
                .map_err(|()| End::ClientGone)
        }
    }
}

async fn subscribe(
    gateway: &Gateway,
    sink: &mut Sink,
    sub: &mut Subscription,
    topics: &[Topic],
    filter: Filter,
    resume: &BTreeMap<Topic, Seq>,
) -> Result<(), End> {
    sub.apps = filter.apps.map(|a| a.into_iter().collect());
    sub.min_level = filter.min_level;
    let mut gaps = Vec::new();
    for topic in Topic::ALL.into_iter().filter(|t| topics.contains(t)) {
        let window = gateway.hub.window(topic);
        let was_on = sub.topics[topic.index()];
        sub.topics[topic.index()] = true;
        let cursor = match resume.get(&topic) {
            Some(&last) if last > window.head => {
                // Numbers from another gateway (restarted on a host whose clock is behind):
                // they cannot be compared with ours. Replay what we hold and say so.
                gaps.push(ServerMsg::Gap {
                    topic,
                    from: 0,
                    to: window.oldest - 1,
                    reset: true,
                });
                window.oldest - 1
            }
            Some(&last) if last.saturating_add(1) < window.oldest => {
                gaps.push(ServerMsg::Gap {
                    topic,
                    from: last.saturating_add(1),
                    to: window.oldest - 1,
                    reset: false,
                });
                window.oldest - 1
            }
            Some(&last) => last,
            None if was_on => sub.cursor[topic.index()],
            None => window.head,
        };
        sub.cursor[topic.index()] = cursor;
    }
    let msg = subscribed_msg(sub);
    send_msg(gateway, sink, &msg)
        .await
        .map_err(|()| End::ClientGone)?;
    for gap in gaps {
        gateway.stats.gap();
        send_msg(gateway, sink, &gap)
            .await
            .map_err(|()| End::ClientGone)?;
    }
    // Replay everything the buffer holds after the resume points: a resume is not lag. What
    // does not fit in this call's time budget follows from the session loop.
    sub.replaying = !resume.is_empty();
    catch_up(gateway, sink, sub)
        .await
        .map(|_| ())
        .map_err(|()| End::ClientGone)
}

/// `subscribed`, with each topic's cursor: the last sequence before the first event this
/// subscription delivers.
fn subscribed_msg(sub: &Subscription) -> ServerMsg {
    let topics: Vec<Topic> = Topic::ALL
        .into_iter()
        .filter(|t| sub.topics[t.index()])
        .collect();
    let head = topics.iter().map(|t| (*t, sub.cursor[t.index()])).collect();
    ServerMsg::Subscribed { topics, head }
}

/// Send `batch` to this client. Returns whether the client had to skip events.
async fn deliver(
    gateway: &Gateway,
    sink: &mut Sink,
    sub: &mut Subscription,
    batch: &Batch,
) -> Result<bool, ()> {
    let contiguous = Topic::ALL.iter().all(|t| match batch.ranges[t.index()] {
        Some((first, _)) => first == sub.cursor[t.index()] + 1,
        None => true,
    });
    if contiguous && !sub.behind && sub.takes_whole_batches() {
        send_text(gateway, sink, batch.frame.clone()).await?;
        for t in Topic::ALL {
            if let Some((_, last)) = batch.ranges[t.index()] {
                sub.cursor[t.index()] = last;
            }
        }
        return Ok(false);
    }
    catch_up(gateway, sink, sub).await
}

/// Time one catch-up may spend sending before the session serves pings and client frames again.
const CATCH_UP_BUDGET: Duration = Duration::from_millis(50);

/// Bring the client up to the head of every subscribed topic from its cursors, one frame at a
/// time, for at most [`CATCH_UP_BUDGET`] (then `sub.behind` says there is more). Before each
/// frame, whatever lies more than the lag limit (the whole replay buffer while replaying a
/// resume) behind the head is skipped: metrics coalesced to
/// the latest per app, everything else counted in a `dropped` notice. Returns whether anything
/// was skipped.
async fn catch_up(gateway: &Gateway, sink: &mut Sink, sub: &mut Subscription) -> Result<bool, ()> {
    let limit = if sub.replaying {
        gateway.config.replay_buffer as u64
    } else {
        gateway.config.client_lag_limit as u64
    };
    let started = Instant::now();
    let mut skipped_any = false;
    loop {
        let admit = |stored: &Stored| sub.admits(stored);
        let mut dropped = [0u64; Topic::COUNT];
        let mut coalesced: Vec<Box<str>> = Vec::new();
        let mut cursors = sub.cursor;
        for topic in Topic::ALL {
            if !sub.topics[topic.index()] {
                continue;
            }
            let window = gateway.hub.window(topic);
            let cursor = cursors[topic.index()];
            if window.head > cursor && window.head - cursor > limit {
                let to = window.head - limit;
                let (kept, discarded) = gateway.hub.skip(topic, cursor, to, &admit);
                coalesced.extend(kept);
                dropped[topic.index()] += discarded;
                cursors[topic.index()] = to;
            }
        }
        let mut frame = String::from(r#"{"type":"events","events":["#);
        let mut appended = 0;
        for json in &coalesced {
            if appended > 0 {
                frame.push(',');
            }
            frame.push_str(json);
            appended += 1;
        }
        let mut progressed = false;
        for topic in Topic::ALL {
            if !sub.topics[topic.index()] {
                continue;
            }
            let before = cursors[topic.index()];
            let (after, lost) =
                gateway
                    .hub
                    .collect(topic, before, &admit, &mut frame, &mut appended);
            dropped[topic.index()] += lost;
            progressed |= after != before;
            cursors[topic.index()] = after;
        }
        sub.cursor = cursors;
        for topic in Topic::ALL {
            let count = dropped[topic.index()];
            if count > 0 {
                skipped_any = true;
                gateway.stats.dropped(topic, count);
                send_msg(gateway, sink, &ServerMsg::Dropped { topic, count }).await?;
            }
        }
        if appended > 0 {
            frame.push_str("]}");
            send_text(gateway, sink, frame.into()).await?;
        }
        if !progressed {
            sub.behind = false;
            sub.replaying = false;
            return Ok(skipped_any);
        }
        if started.elapsed() > CATCH_UP_BUDGET {
            sub.behind = true;
            return Ok(skipped_any);
        }
    }
}

fn error_msg(code: &str, message: &str) -> ServerMsg {
    ServerMsg::Error {
        code: code.to_string(),
        message: message.to_string(),
    }
}

async fn send_msg(gateway: &Gateway, sink: &mut Sink, msg: &ServerMsg) -> Result<(), ()> {
    let text = serde_json::to_string(msg).map_err(|err| {
        tracing::error!(%err, "could not encode server message");
    })?;
    send_text(gateway, sink, text.into()).await
}

async fn send_text(gateway: &Gateway, sink: &mut Sink, text: Utf8Bytes) -> Result<(), ()> {
    let len = text.len();
    match timeout(gateway.config.send_timeout, sink.send(Message::Text(text))).await {
        Ok(Ok(())) => {
            gateway.stats.frame_sent(len);
            Ok(())
        }
        Ok(Err(_)) => Err(()),
        Err(_) => {
            gateway.stats.closed_slow();
            tracing::info!("dropping a client whose socket accepted nothing for the send timeout");
            Err(())
        }
    }
}

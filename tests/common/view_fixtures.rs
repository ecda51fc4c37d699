//! Fixed pods, releases, events and an hour of metrics for the App, Releases and Events view
//! tests, on top of `fixtures` (same clock, same apps).
#![allow(dead_code, clippy::unwrap_used)]

use opsdeck::app::{Action, Effect, MetricHistory, Reply, RequestKind, State, update};
use opsdeck::protocol::{
    AppDetail, Body, Event, EventKind, PlatformEvent, Pod, PodState, Release, ReleaseStatus,
    ServerMsg, TimelineEntry,
};

use super::fixtures::*;

pub fn release(
    id: &str,
    version: &str,
    ago_secs: i64,
    status: ReleaseStatus,
    cause: &str,
) -> Release {
    Release {
        id: id.into(),
        version: version.into(),
        created_at: at(-ago_secs),
        status,
        change_cause: cause.into(),
        artifact: format!("registry.cn-east-1.example.com/shop/shop-cart:{version}"),
    }
}

/// shop-cart's releases, newest first: active, failed, rolled back, then two good ones.
pub fn releases() -> Vec<Release> {
    vec![
        release(
            "r-2140",
            "v2.14.0",
            2 * 3600,
            ReleaseStatus::Active,
            "feat: 满减活动 checkout banner",
        ),
        release(
            "r-2131",
            "v2.13.1",
            86_400,
            ReleaseStatus::Failed,
            "fix: 优惠券 rounding",
        ),
        release(
            "r-2130",
            "v2.13.0",
            2 * 86_400,
            ReleaseStatus::RolledBack,
            "feat: new cart API",
        ),
        release(
            "r-2120",
            "v2.12.0",
            5 * 86_400,
            ReleaseStatus::Superseded,
            "chore: bump deps",
        ),
        release(
            "r-2110",
            "v2.11.0",
            9 * 86_400,
            ReleaseStatus::Superseded,
            "feat: 购物车 sharing",
        ),
    ]
}

pub fn pods() -> Vec<Pod> {
    let states = [
        PodState::Ready,
        PodState::Ready,
        PodState::Ready,
        PodState::CrashLoop,
        PodState::Ready,
        PodState::Starting,
    ];
    states
        .iter()
        .enumerate()
        .map(|(i, s)| Pod {
            name: format!(
                "shop-cart-7f9c4d-{}",
                ["x2kq", "b8mn", "p3zt", "c9wd", "h5ru", "n1ea"][i]
            ),
            state: *s,
            zone: format!("cn-east-1{}", ['a', 'b', 'c'][i % 3]),
            restarts: if *s == PodState::CrashLoop { 7 } else { 0 },
            started_at: at(-(i as i64 + 1) * 1500),
            release: "r-2140".into(),
        })
        .collect()
}

pub fn detail() -> AppDetail {
    AppDetail {
        summary: apps().into_iter().find(|a| a.id == "shop-cart").unwrap(),
        pods: pods(),
    }
}

pub fn entry(
    ago: i64,
    app: &str,
    kind: EventKind,
    message: &str,
    actor: Option<&str>,
) -> TimelineEntry {
    TimelineEntry {
        ts: at(-ago),
        app: app.into(),
        event: PlatformEvent {
            kind,
            message: message.into(),
            actor: actor.map(Into::into),
            run: None,
        },
    }
}

/// Recent events across apps, newest first, some by people with Chinese names.
pub fn timeline() -> Vec<TimelineEntry> {
    vec![
        entry(
            20,
            "shop-cart",
            EventKind::PodRestart,
            "shop-cart-7f9c4d-c9wd restarted (OOMKilled)",
            None,
        ),
        entry(
            95,
            "pay-gateway",
            EventKind::Alert,
            "HighLatency firing: p99 1.45s > 1s",
            None,
        ),
        entry(
            300,
            "shop-cart",
            EventKind::Scale,
            "scale 4 -> 6",
            Some("王芳"),
        ),
        entry(
            610,
            "coupon",
            EventKind::Scenario,
            "scenario bad-release started",
            Some("sim"),
        ),
        entry(
            900,
            "feed",
            EventKind::Scale,
            "scale 3 -> 5",
            Some("li.lei"),
        ),
        entry(
            7200,
            "shop-cart",
            EventKind::Deploy,
            "deploy v2.14.0 (r-2140): feat: 满减活动",
            Some("张伟"),
        ),
        entry(
            7300,
            "用户中心",
            EventKind::PodReady,
            "user-center-5d8 ready",
            None,
        ),
    ]
}

/// Answer every HTTP request in `effects` the way a healthy gateway would.
pub fn answer(state: &mut State, effects: &[Effect]) -> Vec<Effect> {
    answer_with(state, effects, releases())
}

/// [`answer`], with shop-cart's releases being `releases` (newest first).
pub fn answer_with(state: &mut State, effects: &[Effect], releases: Vec<Release>) -> Vec<Effect> {
    let mut more = Vec::new();
    for e in effects {
        let Effect::Http(r) = e else { continue };
        let reply = match &r.kind {
            RequestKind::FetchApp { app } if app == "shop-cart" => Reply::App(Box::new(detail())),
            RequestKind::FetchReleases { app } if app == "shop-cart" => {
                Reply::Releases(releases.clone())
            }
            RequestKind::FetchTimeline => Reply::Timeline(timeline()),
            RequestKind::FetchMetrics { .. } => Reply::Metrics(Vec::new()),
            _ => continue,
        };
        more.extend(update(
            state,
            Action::HttpReply {
                request_id: r.id,
                result: Ok(reply),
            },
        ));
    }
    more
}

/// One hour of shop-cart metrics at 1 Hz through the stream, ending at t0: a daily-ish wave,
/// a latency and error spike 20 minutes ago, a scale-up 5 minutes ago.
pub fn feed_an_hour(state: &mut State) {
    if let Some(app) = state.core.apps.get_mut("shop-cart") {
        app.metrics_history = MetricHistory::default();
    }
    let mut events = Vec::new();
    for i in 0..3600i64 {
        let ago = 3599 - i;
        let phase = i as f64 / 3600.0 * std::f64::consts::TAU;
        let spike = (1140..1200).contains(&ago);
        let desired = if ago < 300 { 6 } else { 4 };
        let ready = if ago < 300 && ago > 240 { 4 } else { desired };
        let mut m = sample(
            1000.0 + 300.0 * phase.sin() + if spike { 400.0 } else { 0.0 },
            if spike {
                1450.0
            } else {
                180.0 + 40.0 * (phase * 3.0).cos()
            },
            if spike { 0.034 } else { 0.002 },
            0.45 + 0.15 * phase.sin(),
            ready,
            desired,
        );
        m.memory_mb = 2048.0 + i as f64 * 0.2;
        events.push(Event {
            seq: 1_000_001 + i as u64,
            ts: at(-ago),
            app: "shop-cart".into(),
            body: Body::Metrics(m),
        });
    }
    update(state, Action::StreamFrame(ServerMsg::Events { events }));
    update(state, Action::Tick(t0()));
}

/// The fixture apps, shop-cart open in the App view with pods, releases, events and an hour of
/// metrics.
pub fn app_view_state(readonly: bool, production: bool) -> State {
    let mut state = if production {
        let mut c = config(readonly);
        c.production = true;
        c.demo = false;
        let mut s = State::new(c);
        let fx = update(&mut s, Action::StreamConnected(hello()));
        answer_fetch_apps(&mut s, &fx);
        s
    } else {
        loaded_state(readonly)
    };
    feed_an_hour(&mut state);
    let fx = opsdeck::app::open_app(&mut state, "shop-cart");
    answer(&mut state, &fx);
    state
}

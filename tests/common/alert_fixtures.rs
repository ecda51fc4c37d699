//! Fixed alerts for the Alerts view's tests: every state and severity, Chinese summaries,
//! times relative to the shared fixed clock.
#![allow(dead_code, clippy::unwrap_used)]

use opsdeck::app::{Action, Effect, KeyInput, Reply, RequestKind, State, update};
use opsdeck::protocol::{Alert, AlertState, Body, Event, ServerMsg, Severity};

use super::fixtures::{at, loaded_state};

pub fn alert(
    id: &str,
    severity: Severity,
    state: AlertState,
    app: &str,
    summary: &str,
    started_secs_ago: i64,
) -> Alert {
    Alert {
        id: id.into(),
        rule: "HighErrorRatio".into(),
        severity,
        state,
        summary: summary.into(),
        app: app.into(),
        labels: Default::default(),
        runbook: None,
        started_at: at(-started_secs_ago),
        resolved_at: None,
        silenced_until: None,
        acknowledged_by: None,
        comment: None,
        stale_since: None,
    }
}

/// Eight alerts: four firing (two P0 of different ages), one acknowledged, one silenced, two
/// resolved.
pub fn alerts() -> Vec<Alert> {
    use AlertState::*;
    use Severity::*;
    let mut al1 = alert(
        "al-1",
        P1,
        Firing,
        "shop-cart",
        "购物车错误率 3.4%，超过阈值 1%",
        5 * 60,
    );
    al1.runbook = Some("bad-release".into());
    let mut al2 = alert(
        "al-2",
        P0,
        Firing,
        "coupon",
        "优惠券服务全部副本不可用 (0/2 ready)",
        12 * 60,
    );
    al2.rule = "AppDown".into();
    al2.runbook = Some("app-down".into());
    let mut al3 = alert(
        "al-3",
        P2,
        Firing,
        "pay-gateway",
        "p99 latency 1.45s above 1s for 10m",
        30 * 60,
    );
    al3.rule = "HighLatency".into();
    let mut al4 = alert(
        "al-4",
        P0,
        Acknowledged,
        "order-svc",
        "订单服务数据库连接池耗尽",
        3600 + 5 * 60,
    );
    al4.acknowledged_by = Some("alice".into());
    al4.runbook = Some("db-pool".into());
    let mut al5 = alert(
        "al-5",
        P1,
        Silenced,
        "search",
        "搜索缓存命中率下降到 41%",
        25 * 60,
    );
    al5.silenced_until = Some(at(55 * 60));
    al5.comment = Some("cache warm-up after deploy".into());
    al5.runbook = Some("cache-degradation".into());
    let mut al6 = alert(
        "al-6",
        P1,
        Resolved,
        "feed",
        "feed error ratio above 1%",
        20 * 60,
    );
    al6.resolved_at = Some(at(-2 * 60));
    let mut al7 = alert("al-7", P3, Resolved, "notify", "消息队列积压 1.2k", 90 * 60);
    al7.resolved_at = Some(at(-40 * 60));
    let mut al8 = alert(
        "al-8",
        P0,
        Firing,
        "coupon",
        "优惠券活动页 5xx 比例 100%",
        60,
    );
    al8.runbook = Some("bad-release".into());
    vec![al1, al2, al3, al4, al5, al6, al7, al8]
}

/// The id of the newest pending request of this kind.
pub fn pending_id(state: &State, kind: &RequestKind) -> u64 {
    *state
        .core
        .pending
        .iter()
        .filter(|(_, p)| &p.kind == kind)
        .map(|(id, _)| id)
        .next_back()
        .unwrap()
}

/// Answer GET /v1/alerts.
pub fn answer_alerts(state: &mut State, list: Vec<Alert>) -> Vec<Effect> {
    let request_id = pending_id(state, &RequestKind::FetchAlerts);
    update(
        state,
        Action::HttpReply {
            request_id,
            result: Ok(Reply::Alerts(list)),
        },
    )
}

/// The fixture apps and alerts, with the Alerts view open (`a` from the overview).
pub fn alerts_state(readonly: bool) -> State {
    let mut state = loaded_state(readonly);
    update(&mut state, Action::Key(KeyInput::char('a')));
    answer_alerts(&mut state, alerts());
    state
}

/// An `alerts` topic event carrying `alert` after a transition.
pub fn alert_event(seq: u64, alert: Alert) -> Action {
    Action::StreamFrame(ServerMsg::Events {
        events: vec![Event {
            seq,
            ts: at(0),
            app: alert.app.clone(),
            body: Body::Alerts(alert),
        }],
    })
}

//! Fixed log lines for the Logs view's tests: several apps, Chinese messages, a stack trace,
//! structured fields, every level.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use opsdeck::app::{Action, State, update};
use opsdeck::protocol::{Body, Event, Level, LogLine, ServerMsg};

use super::fixtures::at;

/// One log event at `t0() + secs` (plus `seq` milliseconds, so lines have distinct times).
pub fn log_event(seq: u64, app: &str, pod: &str, level: Level, message: &str) -> Event {
    Event {
        seq,
        ts: at(0) + chrono::Duration::milliseconds(seq as i64 * 137),
        app: app.into(),
        body: Body::Logs(LogLine {
            pod: pod.into(),
            level,
            message: message.into(),
            fields: BTreeMap::new(),
        }),
    }
}

pub fn with_fields(mut e: Event, fields: &[(&str, &str)]) -> Event {
    if let Body::Logs(line) = &mut e.body {
        line.fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }
    e
}

pub fn feed(state: &mut State, events: Vec<Event>) {
    update(state, Action::StreamFrame(ServerMsg::Events { events }));
}

pub const STACK: &str = "支付回调处理失败: upstream timeout after 3000ms\n    at PayCallback.handle (pay/callback.js:88:13)\n    at Router.dispatch (core/router.js:214:9)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";

/// A morning's worth of mixed lines from three apps, seq 1..=`n`.
pub fn mixed_lines(first_seq: u64, n: u64) -> Vec<Event> {
    (first_seq..first_seq + n)
        .map(|seq| {
            let (app, pod) = match seq % 3 {
                0 => ("shop-cart", "shop-cart-7f9c4-x2lqp"),
                1 => ("pay-gateway", "pay-gateway-5b7d1-k9m2z"),
                _ => ("user-center", "user-center-3c8e2-a1b2c"),
            };
            let (level, msg): (Level, String) = match seq % 10 {
                3 => (
                    Level::Warn,
                    format!("慢查询 slow query on orders: {}ms", 800 + seq),
                ),
                7 => (Level::Error, STACK.to_string()),
                5 => (Level::Debug, format!("cache miss key=sku:{}", 10_000 + seq)),
                _ => (
                    Level::Info,
                    format!(
                        "GET /api/cart/{} 200 {}ms 用户下单成功",
                        1000 + seq,
                        10 + seq % 90
                    ),
                ),
            };
            let e = log_event(seq, app, pod, level, &msg);
            if seq % 10 == 0 {
                with_fields(
                    e,
                    &[
                        ("trace_id", "4bf92f3577b34da6"),
                        ("user", "{\"id\":42,\"vip\":true}"),
                    ],
                )
            } else {
                e
            }
        })
        .collect()
}

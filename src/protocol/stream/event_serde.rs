//! Hand-written serde for [`Event`]: a flat object whose `data` is decoded by `topic`.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Event, Topic};
use crate::protocol::Body;

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Event", 5)?;
        s.serialize_field("topic", &self.body.topic())?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("ts", &self.ts)?;
        s.serialize_field("app", &self.app)?;
        match &self.body {
            Body::Metrics(d) => s.serialize_field("data", d)?,
            Body::Logs(d) => s.serialize_field("data", d)?,
            Body::Alerts(d) => s.serialize_field("data", d)?,
            Body::Actions(d) => s.serialize_field("data", d)?,
            Body::Events(d) => s.serialize_field("data", d)?,
            Body::Runs(d) => s.serialize_field("data", d)?,
            Body::Audit(d) => s.serialize_field("data", d)?,
        }
        s.end()
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Topic,
    Seq,
    Ts,
    App,
    Data,
    #[serde(other)]
    Other,
}

struct EventVisitor;

fn body_from_value(topic: Topic, data: serde_json::Value) -> Result<Body, serde_json::Error> {
    Ok(match topic {
        Topic::Metrics => Body::Metrics(serde_json::from_value(data)?),
        Topic::Logs => Body::Logs(serde_json::from_value(data)?),
        Topic::Alerts => Body::Alerts(serde_json::from_value(data)?),
        Topic::Actions => Body::Actions(serde_json::from_value(data)?),
        Topic::Events => Body::Events(serde_json::from_value(data)?),
        Topic::Runs => Body::Runs(serde_json::from_value(data)?),
        Topic::Audit => Body::Audit(serde_json::from_value(data)?),
    })
}

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object with topic, seq, ts, app and data")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let (mut topic, mut seq, mut ts, mut app) = (None, None, None, None);
        let mut body = None;
        // `data` before `topic` (not what the gateway sends, but valid JSON) is kept as a tree.
        let mut early_data: Option<serde_json::Value> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Topic => topic = Some(map.next_value::<Topic>()?),
                Field::Seq => seq = Some(map.next_value()?),
                Field::Ts => ts = Some(map.next_value()?),
                Field::App => app = Some(map.next_value()?),
                Field::Data => match topic {
                    Some(Topic::Metrics) => body = Some(Body::Metrics(map.next_value()?)),
                    Some(Topic::Logs) => body = Some(Body::Logs(map.next_value()?)),
                    Some(Topic::Alerts) => body = Some(Body::Alerts(map.next_value()?)),
                    Some(Topic::Actions) => body = Some(Body::Actions(map.next_value()?)),
                    Some(Topic::Events) => body = Some(Body::Events(map.next_value()?)),
                    Some(Topic::Runs) => body = Some(Body::Runs(map.next_value()?)),
                    Some(Topic::Audit) => body = Some(Body::Audit(map.next_value()?)),
                    None => early_data = Some(map.next_value()?),
                },
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let topic = topic.ok_or_else(|| de::Error::missing_field("topic"))?;
        let body = match (body, early_data) {
            (Some(body), _) => body,
            (None, Some(data)) => body_from_value(topic, data).map_err(de::Error::custom)?,
            (None, None) => return Err(de::Error::missing_field("data")),
        };
        if body.topic() != topic {
            return Err(de::Error::custom("data does not match topic"));
        }
        Ok(Event {
            seq: seq.ok_or_else(|| de::Error::missing_field("seq"))?,
            ts: ts.ok_or_else(|| de::Error::missing_field("ts"))?,
            app: app.ok_or_else(|| de::Error::missing_field("app"))?,
            body,
        })
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::{Level, LogLine};

    fn sample() -> Event {
        Event {
            seq: 1235,
            ts: "2026-11-23T03:00:00.123Z".parse().unwrap(),
            app: "shop-cart".into(),
            body: Body::Logs(LogLine {
                pod: "shop-cart-7f9c4-x2lqp".into(),
                level: Level::Warn,
                message: "库存服务响应慢".into(),
                fields: Default::default(),
            }),
        }
    }

    #[test]
    fn events_round_trip_in_the_documented_shape() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.starts_with(r#"{"topic":"logs","seq":1235,"ts":"2026-11-23T03:00:00.123Z","app":"shop-cart","data":{"#));
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), sample());
    }

    #[test]
    fn runs_events_round_trip() {
        let t = "2026-11-23T03:00:00Z".parse().unwrap();
        let event = Event {
            seq: 7,
            ts: t,
            app: "shop-cart".into(),
            body: Body::Runs(crate::protocol::RunStatus {
                id: "run-1".into(),
                runbook: "bad-release".into(),
                params: [("app".to_string(), serde_json::json!("shop-cart"))].into(),
                state: crate::protocol::RunState::WaitingApproval,
                dry_run: false,
                steps: vec![crate::protocol::StepStatus {
                    id: "approve-rollback".into(),
                    kind: "approval".into(),
                    state: crate::protocol::StepState::WaitingApproval,
                    attempts: 1,
                    started_at: Some(t),
                    finished_at: None,
                    output: vec!["wait for an operator's approval".into()],
                    waiting_on: Some("Roll shop-cart back?".into()),
                    fallback: false,
                }],
                current_step: Some("approve-rollback".into()),
                message: String::new(),
                created_at: t,
                updated_at: t,
                started_by: "li.wei".into(),
                plan: None,
            }),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.starts_with(r#"{"topic":"runs","seq":7,"#), "{json}");
        assert!(json.contains(r#""state":"waiting_approval""#), "{json}");
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    }

    #[test]
    fn field_order_and_unknown_fields_do_not_matter() {
        let json = r#"{"extra":[1,2],"data":{"pod":"shop-cart-7f9c4-x2lqp","level":"warn","message":"库存服务响应慢"},
                       "app":"shop-cart","ts":"2026-11-23T03:00:00.123Z","seq":1235,"topic":"logs"}"#;
        assert_eq!(serde_json::from_str::<Event>(json).unwrap(), sample());
    }

    #[test]
    fn missing_or_mismatched_parts_are_errors_not_panics() {
        for bad in [
            r#"{"seq":1,"ts":"2026-11-23T03:00:00Z","app":"a","data":{}}"#,
            r#"{"topic":"logs","ts":"2026-11-23T03:00:00Z","app":"a","data":{"pod":"p","level":"info","message":"m"}}"#,
            r#"{"topic":"metrics","seq":1,"ts":"2026-11-23T03:00:00Z","app":"a","data":{"pod":"p","level":"info","message":"m"}}"#,
            r#"{"topic":"weather","seq":1,"ts":"2026-11-23T03:00:00Z","app":"a","data":{}}"#,
            r#"[1,2,3]"#,
        ] {
            assert!(serde_json::from_str::<Event>(bad).is_err(), "{bad}");
        }
    }
}

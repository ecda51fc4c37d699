//! The console's pure core wired straight to the simulator's pure core: no sockets, no terminal,
//! no clock. Used to regenerate screenshots and to benchmark rendering with realistic data; the
//! same seed always gives the same screens.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::app::{
    Action, Effect, HttpError, KeyInput, Keymap, KeymapError, Reply, RequestKind, State,
    StateConfig, update,
};
use crate::platform::sim::{Sim, SimConfig};
use crate::platform::{ActionRequest, PlatformError};
use crate::protocol::{
    ActionKind, ActionState, ActionStatus, Body, Event, PROTOCOL_VERSION, Seq, ServerMsg, Topic,
    parse_duration_secs,
};
use crate::runbook::Catalog;

pub struct Offline {
    pub sim: Sim,
    pub state: State,
    next_seq: [Seq; Topic::COUNT],
    /// Actions started here, as last reported by the simulator (for `FetchAction`).
    actions: BTreeMap<String, ActionStatus>,
    /// The shipped runbooks, for the Runbooks view (runs need the gateway's engine).
    runbooks: Catalog,
}

impl Offline {
    /// A console that has just connected to a simulator started at `start` with `seed`.
    pub fn new(
        seed: u64,
        scenario: Option<&str>,
        start: DateTime<Utc>,
    ) -> Result<Offline, KeymapError> {
        let sim = Sim::new(&SimConfig {
            seed,
            speed: 1.0,
            scenario: scenario.map(str::to_string),
            start,
        });
        let state = State::new(StateConfig {
            gateway: "ws://127.0.0.1:7070".into(),
            demo: true,
            readonly: false,
            production: false,
            keymap: Keymap::builtin()?,
            key_seed: seed,
            now: start,
        });
        let mut offline = Offline {
            sim,
            state,
            next_seq: [1; Topic::COUNT],
            actions: BTreeMap::new(),
            runbooks: Catalog::load(&[]),
        };
        offline.apply(Action::StreamConnected(ServerMsg::Hello {
            protocol: PROTOCOL_VERSION,
            gateway_id: "offline".into(),
            server_time: start,
            topics: Topic::ALL.to_vec(),
            platform: "sim".into(),
            heartbeat_ms: 15_000,
            max_frame_bytes: 1 << 20,
        }));
        Ok(offline)
    }

    /// Feed `action` to the console and answer every HTTP call it makes from the simulator.
    pub fn apply(&mut self, action: Action) {
        let mut queue = vec![action];
        while let Some(action) = queue.pop() {
            for effect in update(&mut self.state, action) {
                if let Effect::Http(request) = effect {
                    queue.push(Action::HttpReply {
                        request_id: request.id,
                        result: self.answer(request.kind),
                    });
                }
            }
        }
    }

    pub fn press(&mut self, key: KeyInput) {
        self.apply(Action::Key(key));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyInput::char(c));
        }
    }

    /// Run the platform for `secs` platform seconds, streaming everything to the console.
    pub fn advance(&mut self, secs: u64) {
        for _ in 0..secs {
            let events: Vec<Event> = self
                .sim
                .step()
                .into_iter()
                .map(|e| self.sequence(e.app, e.ts, e.body))
                .collect();
            for event in &events {
                if let Body::Actions(status) = &event.body
                    && let Some(known) = self.actions.get_mut(&status.id)
                {
                    *known = status.clone();
                }
            }
            self.apply(Action::StreamFrame(ServerMsg::Events { events }));
            self.apply(Action::Tick(self.sim.now()));
        }
    }

    /// Stream extra events to the console, numbered after the simulator's (benchmarks use it
    /// to add a log firehose the simulator does not produce).
    pub fn stream(&mut self, events: impl IntoIterator<Item = (String, DateTime<Utc>, Body)>) {
        let events: Vec<Event> = events
            .into_iter()
            .map(|(app, ts, body)| self.sequence(app, ts, body))
            .collect();
        self.apply(Action::StreamFrame(ServerMsg::Events { events }));
    }

    /// An event with the next sequence number of its topic, as the gateway would number it.
    fn sequence(&mut self, app: String, ts: DateTime<Utc>, body: Body) -> Event {
        let topic = body.topic();
        let seq = self.next_seq[topic.index()];
        self.next_seq[topic.index()] += 1;
        Event { seq, ts, app, body }
    }

    fn answer(&mut self, kind: RequestKind) -> Result<Reply, HttpError> {
        Ok(match kind {
            RequestKind::FetchApps => Reply::Apps(self.sim.apps()),
            RequestKind::FetchAlerts => Reply::Alerts(self.sim.alerts()),
            RequestKind::FetchApp { app } => {
                Reply::App(Box::new(self.sim.app(&app).map_err(http_error)?))
            }
            RequestKind::FetchReleases { app } => {
                Reply::Releases(self.sim.releases(&app).map_err(http_error)?)
            }
            RequestKind::FetchTimeline => Reply::Timeline(self.sim.events()),
            RequestKind::ScaleApp {
                app,
                replicas,
                actor,
                ..
            } => {
                let status = self.new_action(ActionKind::Scale, &app);
                let request = ActionRequest {
                    id: status.id.clone(),
                    actor,
                };
                self.sim
                    .scale(&app, replicas, &request)
                    .map_err(http_error)?;
                self.actions.insert(status.id.clone(), status.clone());
                Reply::Action(Box::new(status))
            }
            RequestKind::Rollback { app, to, actor, .. } => {
                let status = self.new_action(ActionKind::Rollback, &app);
                let request = ActionRequest {
                    id: status.id.clone(),
                    actor,
                };
                self.sim
                    .rollback(&app, to.as_deref(), &request)
                    .map_err(http_error)?;
                self.actions.insert(status.id.clone(), status.clone());
                Reply::Action(Box::new(status))
            }
            RequestKind::AckAlert { alert, actor, .. } => Reply::Alert(Box::new(
                self.sim.acknowledge(&alert, &actor).map_err(http_error)?,
            )),
            RequestKind::SilenceAlert {
                alert,
                duration,
                comment,
                actor,
                ..
            } => {
                let secs = parse_duration_secs(&duration).ok_or_else(|| HttpError {
                    status: Some(422),
                    code: "validation_failed".into(),
                    message: format!("bad duration {duration:?}"),
                })?;
                Reply::Alert(Box::new(
                    self.sim
                        .silence(&alert, secs, &comment, &actor)
                        .map_err(http_error)?,
                ))
            }
            RequestKind::FetchRunbooks => Reply::Runbooks(self.runbooks.summaries()),
            RequestKind::FetchRunbook { runbook } => match self.runbooks.get(&runbook) {
                Some(r) => Reply::Runbook(Box::new(r.detail())),
                None => {
                    return Err(HttpError {
                        status: Some(404),
                        code: "not_found".into(),
                        message: format!("unknown runbook {runbook:?}"),
                    });
                }
            },
            // The offline console has no runbook engine.
            RequestKind::StartRun { .. }
            | RequestKind::FetchRuns
            | RequestKind::FetchRun { .. }
            | RequestKind::ControlRun { .. } => {
                return Err(HttpError {
                    status: Some(501),
                    code: "unsupported".into(),
                    message: "runbooks need a gateway; the offline console has none".into(),
                });
            }
            RequestKind::FetchAction { action } => match self.actions.get(&action) {
                Some(status) => Reply::Action(Box::new(status.clone())),
                None => {
                    return Err(HttpError {
                        status: Some(404),
                        code: "not_found".into(),
                        message: format!("no action {action}"),
                    });
                }
            },
        })
    }

    fn new_action(&self, kind: ActionKind, app: &str) -> ActionStatus {
        let now = self.sim.now();
        ActionStatus {
            id: format!("act-offline-{}", self.actions.len() + 1),
            kind,
            app: app.to_string(),
            state: ActionState::Accepted,
            description: String::new(),
            progress: None,
            message: String::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

fn http_error(err: PlatformError) -> HttpError {
    let (status, code) = match err {
        PlatformError::NotFound(_) => (404, "not_found"),
        PlatformError::Invalid(_) => (422, "validation_failed"),
        PlatformError::Conflict(_) => (409, "conflict"),
        PlatformError::Unsupported(_) => (501, "unsupported"),
        PlatformError::Unavailable(_) => (503, "unavailable"),
    };
    HttpError {
        status: Some(status),
        code: code.into(),
        message: err.to_string(),
    }
}

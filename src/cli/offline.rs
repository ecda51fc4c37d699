//! The console's pure core driven against the real gateway in-process, over the simulator
//! stepped on its own clock: no sockets, no terminal, no wall clock. Every HTTP call the console
//! makes is answered by the gateway's actions layer and reads, and every event reaches the
//! console as the gateway sequences and encodes it for streams, so a screenshot cannot show what
//! the gateway would refuse. Used to regenerate screenshots and to benchmark rendering with
//! realistic data; the same seed always gives the same screens.

use std::sync::Arc;

use anyhow::Context;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};

use crate::app::{
    Action, Effect, HttpError, KeyInput, Keymap, Reply, RequestKind, RunControl, State,
    StateConfig, update,
};
use crate::gateway::actions::{self, ActionError, IdempotencyKey, Source};
use crate::gateway::{ApiError, Gateway, GatewayConfig, InProcess, actor_from};
use crate::platform::sim::{SimConfig, SimPlatform};
use crate::platform::{Emission, Platform, PlatformError};
use crate::protocol::{
    ApproveRequest, Body, RollbackRequest, RunRequest, ServerMsg, SilenceRequest, decode_server_msg,
};

/// Events each topic keeps for replay: nobody resumes here, so a little is enough.
const REPLAY_BUFFER: usize = 4096;

pub struct Offline {
    pub state: State,
    sim: Arc<SimPlatform>,
    gateway: InProcess,
    /// Runs the gateway's async calls; only while the console waits for an answer.
    runtime: tokio::runtime::Runtime,
}

impl Offline {
    /// A console that has just connected to a gateway in front of a simulator started at
    /// `start` with `seed`.
    pub fn new(seed: u64, scenario: Option<&str>, start: DateTime<Utc>) -> anyhow::Result<Offline> {
        let sim = Arc::new(SimPlatform::stepped(SimConfig {
            seed,
            speed: 1.0,
            scenario: scenario.map(str::to_string),
            start,
        }));
        let config = GatewayConfig {
            replay_buffer: REPLAY_BUFFER,
            ..GatewayConfig::default()
        };
        let platform: Arc<dyn Platform> = sim.clone();
        let gateway =
            InProcess::new(config, platform, "offline").context("starting the gateway")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .context("starting a runtime for the gateway")?;
        let state = State::new(StateConfig {
            gateway: "ws://127.0.0.1:7070".into(),
            demo: true,
            readonly: false,
            production: false,
            keymap: Keymap::builtin()?,
            key_seed: seed,
            now: start,
        });
        let hello = gateway.gateway().hello(start, None);
        let mut offline = Offline {
            state,
            sim,
            gateway,
            runtime,
        };
        offline.apply(Action::StreamConnected(hello));
        Ok(offline)
    }

    /// Platform time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim.now()
    }

    /// Feed `action` to the console, answer every HTTP call it makes from the gateway, then
    /// stream what those calls changed, as the gateway would at once.
    pub fn apply(&mut self, action: Action) {
        let mut queue = vec![action];
        let mut called = false;
        while let Some(action) = queue.pop() {
            for effect in update(&mut self.state, action) {
                if let Effect::Http(request) = effect {
                    called = true;
                    let result = self
                        .runtime
                        .block_on(answer(self.gateway.gateway(), request.kind));
                    queue.push(Action::HttpReply {
                        request_id: request.id,
                        result,
                    });
                }
            }
        }
        if called {
            let queued = self.sim.drain_outbox().unwrap_or_default();
            self.publish(queued);
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
            // Let run tasks (if any) take their turn, on the platform's clock.
            self.runtime.block_on(tokio::task::yield_now());
            let emissions = self.sim.step().unwrap_or_default();
            self.publish(emissions);
            self.apply(Action::Tick(self.sim.now()));
        }
    }

    /// Publish extra events through the gateway; returns the stream frames for the console,
    /// to [`Offline::apply`] (so a benchmark can time the console alone).
    pub fn sequence(
        &mut self,
        events: impl IntoIterator<Item = (String, DateTime<Utc>, Body)>,
    ) -> Vec<Action> {
        let emissions = events
            .into_iter()
            .map(|(app, ts, body)| Emission { ts, app, body })
            .collect();
        self.frames(emissions)
    }

    /// Publish `emissions` through the gateway and stream its frames to the console.
    fn publish(&mut self, emissions: Vec<Emission>) {
        for frame in self.frames(emissions) {
            self.apply(frame);
        }
    }

    /// The gateway's encoded frames for `emissions`, decoded as the console's stream driver does.
    fn frames(&mut self, emissions: Vec<Emission>) -> Vec<Action> {
        self.gateway
            .publish(emissions)
            .iter()
            .filter_map(|text| match decode_server_msg(text) {
                Ok(msg @ ServerMsg::Events { .. }) => Some(Action::StreamFrame(msg)),
                Ok(_) => None,
                Err(err) => {
                    tracing::error!(%err, "the gateway encoded a frame the console cannot read");
                    None
                }
            })
            .collect()
    }
}

/// What the gateway answers to `kind`, as the console's HTTP driver would report it.
async fn answer(gw: &Arc<Gateway>, kind: RequestKind) -> Result<Reply, HttpError> {
    Ok(match kind {
        RequestKind::FetchApps => Reply::Apps(gw.platform.apps().await.map_err(platform)?),
        RequestKind::FetchAlerts => Reply::Alerts(gw.platform.alerts().await.map_err(platform)?),
        RequestKind::FetchApp { app } => {
            Reply::App(Box::new(gw.platform.app(&app).await.map_err(platform)?))
        }
        RequestKind::FetchReleases { app } => {
            Reply::Releases(gw.platform.releases(&app).await.map_err(platform)?)
        }
        RequestKind::FetchTimeline => Reply::Timeline(gw.timeline().await.map_err(platform)?),
        RequestKind::FetchMetrics { app } => Reply::Metrics(
            crate::gateway::metrics_source::history(gw, &app, 3_600)
                .await
                .map_err(|err| HttpError {
                    status: Some(503),
                    code: "metrics_unavailable".into(),
                    message: err,
                })?,
        ),
        RequestKind::FetchAction { action } => match gw.action(&action) {
            Some(status) => Reply::Action(Box::new(status)),
            None => {
                return Err(refused(ApiError::not_found(format!(
                    "unknown action {action:?}"
                ))));
            }
        },
        RequestKind::ScaleApp {
            app,
            replicas,
            idempotency_key,
            actor,
        } => {
            let body = serde_json::json!({ "replicas": replicas });
            let source = keyed(Some(idempotency_key), &body);
            let req = actions::Scale {
                app,
                replicas: replicas.into(),
            };
            let status = actions::scale(gw, &actor_named(&actor)?, req, source).await;
            Reply::Action(Box::new(status.map_err(action)?))
        }
        RequestKind::Rollback {
            app,
            to,
            idempotency_key,
            actor,
        } => {
            let source = keyed(Some(idempotency_key), &RollbackRequest { to: to.clone() });
            let req = actions::Rollback { app, to };
            let (status, _) = actions::rollback(gw, &actor_named(&actor)?, req, source)
                .await
                .map_err(action)?;
            Reply::Action(Box::new(status))
        }
        RequestKind::AckAlert {
            alert,
            actor,
            idempotency_key,
        } => {
            let source = keyed(Some(idempotency_key), &serde_json::json!({}));
            let alert = actions::acknowledge(gw, &actor_named(&actor)?, alert, source).await;
            Reply::Alert(Box::new(alert.map_err(action)?))
        }
        RequestKind::ExpireSilence {
            alert,
            actor,
            idempotency_key,
        } => {
            let source = keyed(Some(idempotency_key), &serde_json::json!({}));
            let alert = actions::expire_silence(gw, &actor_named(&actor)?, alert, source).await;
            Reply::Alert(Box::new(alert.map_err(action)?))
        }
        RequestKind::SilenceAlert {
            alert,
            duration,
            comment,
            actor,
            idempotency_key,
        } => {
            let body = SilenceRequest {
                duration: duration.clone(),
                comment: comment.clone(),
            };
            let source = keyed(Some(idempotency_key), &body);
            let req = actions::Silence::parse(alert, &duration, comment).map_err(action)?;
            let alert = actions::silence(gw, &actor_named(&actor)?, req, source).await;
            Reply::Alert(Box::new(alert.map_err(action)?))
        }
        RequestKind::FetchRunbooks => Reply::Runbooks(gw.runs.catalog().summaries()),
        RequestKind::FetchRunbook { runbook } => Reply::Runbook(Box::new(
            actions::runbook(gw, &runbook).map_err(action)?.detail(),
        )),
        RequestKind::StartRun {
            runbook,
            params,
            dry_run,
            idempotency_key,
            actor,
        } => {
            let body = RunRequest {
                params: params.clone(),
                dry_run,
            };
            let source = keyed(idempotency_key, &body);
            let req = actions::StartRun {
                runbook,
                params,
                dry_run,
            };
            let run = actions::start_run(gw, &actor_named(&actor)?, req, source).await;
            Reply::Run(Box::new(run.map_err(action)?))
        }
        RequestKind::FetchRuns => Reply::Runs(gw.runs.list()),
        RequestKind::FetchRun { run } => match gw.runs.get(&run) {
            Some(status) => Reply::Run(Box::new(status)),
            None => return Err(refused(ApiError::not_found(format!("unknown run {run:?}")))),
        },
        RequestKind::ControlRun {
            run,
            control,
            step,
            actor,
            idempotency_key,
        } => {
            let actor = actor_named(&actor)?;
            let source = keyed(
                Some(idempotency_key),
                &ApproveRequest { step: step.clone() },
            );
            let status = match control {
                RunControl::Approve => {
                    let req = actions::Approve::new(run, step).map_err(action)?;
                    actions::approve_run(gw, &actor, req, source).await
                }
                RunControl::Abort => actions::abort_run(gw, &actor, run, source).await,
                RunControl::Resume => actions::resume_run(gw, &actor, run, source).await,
            };
            Reply::Run(Box::new(status.map_err(action)?))
        }
    })
}

/// A request from the console with `key`, fingerprinted by the body its HTTP driver sends.
fn keyed(key: Option<String>, body: &impl serde::Serialize) -> Source {
    let request = serde_json::to_value(body)
        .map(|v| v.to_string())
        .unwrap_or_default();
    Source::Request(
        key.map(|key| IdempotencyKey { key, request }),
        actions::Origin::default(),
    )
}

/// The actor the console names, checked as the gateway checks the `X-Opsdeck-User` header.
fn actor_named(name: &str) -> Result<actions::Actor, HttpError> {
    let value = HeaderValue::from_bytes(name.as_bytes()).map_err(|_| {
        refused(ApiError::bad_request(
            "X-Opsdeck-User must be a valid header value",
        ))
    })?;
    actor_from(Some(&value)).map_err(refused)
}

fn refused(err: ApiError) -> HttpError {
    HttpError {
        status: Some(err.status.as_u16()),
        code: err.code.to_string(),
        message: err.message,
    }
}

fn action(err: ActionError) -> HttpError {
    refused(err.into())
}

fn platform(err: PlatformError) -> HttpError {
    refused(err.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scale(offline: &Offline, replicas: u32) -> Result<Reply, HttpError> {
        let kind = RequestKind::ScaleApp {
            app: "shop-cart".into(),
            replicas,
            idempotency_key: format!("k-{replicas}"),
            actor: "li.wei".into(),
        };
        offline
            .runtime
            .block_on(answer(offline.gateway.gateway(), kind))
    }

    #[test]
    fn the_offline_console_is_refused_what_the_gateway_refuses() {
        let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap();
        let offline = Offline::new(42, None, start).unwrap();
        let err = scale(&offline, 10_000).unwrap_err();
        assert_eq!(err.status, Some(422));
        assert_eq!(err.code, "validation_failed");
        assert!(err.message.contains("between"), "{}", err.message);

        let Ok(Reply::Action(status)) = scale(&offline, 3) else {
            panic!("a scale within range is accepted");
        };
        assert_eq!(status.id, "act-offline-1");
        assert_eq!(
            status.created_at, start,
            "stamped with the simulator's clock"
        );
    }
}

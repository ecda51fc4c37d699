//! HTTP replies: match each to the request that asked, drop stale ones, apply the rest.

use super::core::in_flight;
use super::dialogs::rollback;
use super::views::{app_view, runbooks, runs};
use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::{AppEntry, NoticeLevel};
use crate::app::dialogs::scale::ScaleStep;
use crate::app::state::{Dialog, State};
use crate::app::views::alerts;
use crate::protocol::AppSummary;

pub fn apply_reply(
    state: &mut State,
    request_id: RequestId,
    result: Result<Reply, HttpError>,
    effects: &mut Vec<Effect>,
) {
    let Some(pending) = state.core.pending.remove(&request_id) else {
        tracing::debug!(request_id, "stale reply dropped");
        return;
    };
    match (pending.kind, result) {
        (RequestKind::FetchApps, Ok(Reply::Apps(list))) => replace_apps(state, list),
        (RequestKind::FetchAlerts, Ok(Reply::Alerts(list))) => {
            state.core.alerts = list.into_iter().map(|a| (a.id.clone(), a)).collect();
            let ids: Vec<String> = state.core.apps.keys().cloned().collect();
            for id in ids {
                state.core.recount_firing(&id);
            }
        }
        (RequestKind::FetchApp { .. }, result) => app_view::on_detail(state, request_id, result),
        (RequestKind::FetchReleases { app }, result) => {
            if let Some(intent) = app_view::on_releases(state, request_id, &app, result) {
                crate::app::navigate::open_rollback_dialog(state, intent);
            }
        }
        (RequestKind::FetchTimeline, result) => state.core.on_timeline(request_id, result),
        (RequestKind::FetchMetrics { app }, Ok(Reply::Metrics(points))) => {
            if let Some(entry) = state.core.apps.get_mut(&app) {
                let samples: Vec<_> = points.into_iter().map(|p| (p.ts, p.sample)).collect();
                entry.metrics_history.backfill(&samples);
            }
        }
        (RequestKind::FetchMetrics { app }, Err(err)) => {
            // The charts fill from the stream instead; nothing is lost.
            tracing::info!(%app, %err, "no metrics history");
        }
        (RequestKind::FetchAction { action }, result) => {
            in_flight::on_reply(&mut state.core, request_id, &action, result)
        }
        (RequestKind::Rollback { app, .. }, result) => {
            rollback::on_reply(state, request_id, &app, result)
        }
        (RequestKind::ScaleApp { app, replicas, .. }, result) => {
            on_scale_reply(state, request_id, &app, replicas, result)
        }
        (RequestKind::FetchRunbooks, result) => runbooks::on_list(state, request_id, result),
        (RequestKind::FetchRunbook { .. }, result) => {
            runbooks::on_detail(state, request_id, result)
        }
        (
            RequestKind::StartRun {
                runbook, dry_run, ..
            },
            result,
        ) => runbooks::on_started(state, request_id, &runbook, dry_run, result, effects),
        (RequestKind::FetchRuns, result) => runs::on_list(state, request_id, result),
        (RequestKind::FetchRun { run }, result) => runs::on_run(state, request_id, &run, result),
        (RequestKind::ControlRun { run, control, .. }, result) => {
            runs::on_control(state, request_id, &run, control, result)
        }
        (
            kind @ (RequestKind::AckAlert { .. }
            | RequestKind::SilenceAlert { .. }
            | RequestKind::ExpireSilence { .. }),
            result,
        ) => alerts::on_reply(state, request_id, &kind, result),
        (_, Ok(Reply::Action(status))) => in_flight::track(&mut state.core, *status),
        (_, Ok(Reply::Alert(alert))) => {
            let app = alert.app.clone();
            state.core.alerts.insert(alert.id.clone(), *alert);
            state.core.recount_firing(&app);
        }
        (kind, Err(err)) => {
            state
                .core
                .notify(NoticeLevel::Warn, format!("{}: {err}", describe(&kind)));
        }
        (_, Ok(_)) => {}
    }
}

fn replace_apps(state: &mut State, list: Vec<AppSummary>) {
    let mut old = std::mem::take(&mut state.core.apps);
    for summary in list {
        let entry = match old.remove(&summary.id) {
            Some(mut e) => {
                if e.latest.is_none() {
                    e.latest = summary.metrics.clone();
                }
                e.summary = summary;
                e
            }
            None => AppEntry::new(summary),
        };
        state.core.apps.insert(entry.summary.id.clone(), entry);
    }
    state.core.apps_loaded = true;
    let ids: Vec<String> = state.core.apps.keys().cloned().collect();
    for id in ids {
        state.core.recount_firing(&id);
    }
}

fn on_scale_reply(
    state: &mut State,
    request_id: RequestId,
    app: &str,
    replicas: u32,
    result: Result<Reply, HttpError>,
) {
    let dialog_waits = matches!(
        &state.dialog,
        Some(Dialog::Scale(d)) if d.step == ScaleStep::Sending { request_id }
    );
    match result {
        Ok(reply) => {
            if dialog_waits {
                state.dialog = None;
            }
            if let Reply::Action(status) = reply {
                in_flight::track(&mut state.core, *status);
            }
            state.core.notify(
                NoticeLevel::Info,
                format!("scale {app} to {replicas} accepted"),
            );
        }
        Err(err) => {
            if dialog_waits && let Some(Dialog::Scale(d)) = &mut state.dialog {
                // A transient failure goes back to the confirmation, where `y` tries again
                // with the same key; a refusal goes back to editing the count.
                d.step = if err.is_transient() {
                    ScaleStep::Confirm
                } else {
                    ScaleStep::Edit
                };
                d.failure = Some(err.to_string());
            } else {
                state.core.notify(
                    NoticeLevel::Error,
                    format!("scale {app} to {replicas} failed: {err}"),
                );
            }
        }
    }
}

fn describe(kind: &RequestKind) -> String {
    match kind {
        RequestKind::FetchApps => "loading apps".into(),
        RequestKind::FetchAlerts => "loading alerts".into(),
        RequestKind::FetchApp { app } => format!("loading {app}"),
        RequestKind::FetchReleases { app } => format!("loading releases of {app}"),
        RequestKind::FetchMetrics { app } => format!("loading the metrics history of {app}"),
        RequestKind::FetchAction { action } => format!("loading action {action}"),
        RequestKind::FetchTimeline => "loading events".into(),
        RequestKind::ScaleApp { app, .. } => format!("scaling {app}"),
        RequestKind::Rollback { app, .. } => format!("rolling back {app}"),
        RequestKind::AckAlert { alert, .. } => format!("acknowledging {alert}"),
        RequestKind::ExpireSilence { alert, .. } => format!("expiring the silence of {alert}"),
        RequestKind::SilenceAlert { alert, .. } => format!("silencing {alert}"),
        RequestKind::FetchRunbooks => "loading runbooks".into(),
        RequestKind::FetchRunbook { runbook } => format!("loading runbook {runbook}"),
        RequestKind::StartRun { runbook, .. } => format!("starting runbook {runbook}"),
        RequestKind::FetchRuns => "loading runs".into(),
        RequestKind::FetchRun { run } => format!("loading run {run}"),
        RequestKind::ControlRun { run, control, .. } => format!("{} run {run}", control.path()),
    }
}

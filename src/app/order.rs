//! The overview's display order: apps filtered by the `/` text and sorted by the chosen column.

use std::cmp::Ordering;

use super::core::AppEntry;
use super::state::{SortColumn, State};

/// Recompute `state.order` and keep the selection on a visible app.
pub fn refresh(state: &mut State) {
    let needle = state.filter.text.to_lowercase();
    let mut rows: Vec<&AppEntry> = state
        .core
        .apps
        .values()
        .filter(|a| needle.is_empty() || matches_filter(a, &needle))
        .collect();
    let sort = state.sort;
    rows.sort_by(|a, b| compare(sort, a, b));
    state.order.clear();
    state
        .order
        .extend(rows.iter().map(|a| a.summary.id.clone()));
    let visible = state
        .selected
        .as_ref()
        .is_some_and(|id| state.order.contains(id));
    if !visible {
        state.selected = state.order.first().cloned();
    }
}

fn matches_filter(app: &AppEntry, needle: &str) -> bool {
    let s = &app.summary;
    [&s.id, &s.name, &s.region]
        .iter()
        .any(|field| field.to_lowercase().contains(needle))
}

fn metric(app: &AppEntry, pick: impl Fn(&crate::protocol::MetricSample) -> f64) -> f64 {
    app.latest.as_ref().map(pick).unwrap_or(-1.0)
}

/// Worst or busiest first; name breaks ties so the order is stable.
fn compare(sort: SortColumn, a: &AppEntry, b: &AppEntry) -> Ordering {
    let desc = |x: f64, y: f64| y.total_cmp(&x);
    let primary = match sort {
        SortColumn::Health => b.health().cmp(&a.health()),
        SortColumn::Name => Ordering::Equal,
        SortColumn::Rps => desc(metric(a, |m| m.rps), metric(b, |m| m.rps)),
        SortColumn::P99 => desc(
            metric(a, |m| m.latency_ms.p99),
            metric(b, |m| m.latency_ms.p99),
        ),
        SortColumn::Errors => desc(metric(a, |m| m.error_ratio), metric(b, |m| m.error_ratio)),
        SortColumn::Cpu => desc(metric(a, |m| m.cpu), metric(b, |m| m.cpu)),
        SortColumn::Alerts => b.firing_alerts.cmp(&a.firing_alerts),
    };
    primary
        .then_with(|| a.summary.name.cmp(&b.summary.name))
        .then_with(|| a.summary.id.cmp(&b.summary.id))
}

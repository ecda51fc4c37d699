//! The App view: one app's summary line, charts of its metrics over the chosen window, and its
//! pods, events, firing alerts and releases.
//!
//! At 80x24 the charts stack two across and the four lists share one tabbed pane (Tab
//! switches); from 120 columns and enough rows the charts go three across and the lists show
//! side by side, the focused one outlined. Only the rows that fit are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::overview::{health_mark, health_role};
use crate::app::logs::LogCommand;
use crate::app::{AppEntry, Command, Layer, Pane, Series, State};
use crate::protocol::{AlertState, PodState, ReleaseStatus, Severity};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::chart::{self, ChartSpec};
use crate::ui::widgets::hints::{self, Keys};

/// The charts, in the order they are laid out (and dropped from the end when space is short).
const CHARTS: [ChartSpec<'static>; 6] = [
    ChartSpec {
        title: "rps",
        series: &[Series::Rps],
        format: format::rps,
        min_top: 1.0,
    },
    ChartSpec {
        title: "latency p50 p99",
        series: &[Series::P50, Series::P99],
        format: format::latency_ms,
        min_top: 10.0,
    },
    ChartSpec {
        title: "errors",
        series: &[Series::ErrorRatio],
        format: format::percent2,
        min_top: 0.01,
    },
    ChartSpec {
        title: "cpu",
        series: &[Series::Cpu],
        format: format::percent0,
        min_top: 1.0,
    },
    ChartSpec {
        title: "memory",
        series: &[Series::MemoryMb],
        format: memory,
        min_top: 1.0,
    },
    ChartSpec {
        title: "replicas ready desired",
        series: &[Series::ReplicasReady, Series::ReplicasDesired],
        format: count,
        min_top: 1.0,
    },
];

fn memory(mb: f64) -> String {
    if mb >= 1024.0 {
        format!("{:.1}G", mb / 1024.0)
    } else {
        format!("{mb:.0}M")
    }
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

/// `text` cut or padded to exactly `width` columns.
pub(crate) fn fit(text: &str, width: usize) -> String {
    let mut s = format::truncate(text, width);
    let w = s.width();
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    s
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let view = &state.app_view;
    let Some(app) = state.core.apps.get(&view.app) else {
        let msg = if view.app.is_empty() {
            "No app selected.".to_string()
        } else {
            format!("Loading {} …", view.app)
        };
        frame.render_widget(
            Paragraph::new(msg)
                .style(theme.style(Role::Muted))
                .centered(),
            area,
        );
        return;
    };
    let wide = area.width >= 120;
    // The hint line stays down to 80x24: it is the operator's way out.
    let hint_rows = u16::from(area.height >= 12);
    // Charts get about 40% of the rows, in rows of at least 4 (title + 3 plot rows).
    let columns: u16 = if wide { 3 } else { 2 };
    let chart_rows_wanted = CHARTS.len().div_ceil(usize::from(columns)) as u16;
    let room = area.height.saturating_sub(1 + hint_rows);
    let per_chart = (room * 2 / 5 / chart_rows_wanted).clamp(4, 10);
    let chart_rows = (room * 3 / 5 / per_chart).min(chart_rows_wanted);
    let charts_height = chart_rows * per_chart;
    let [summary_area, charts_area, panes_area, hint_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(charts_height),
        Constraint::Min(0),
        Constraint::Length(hint_rows),
    ])
    .areas(area);

    render_summary(state, app, theme, frame, summary_area);
    render_charts(app, state, theme, frame, charts_area, columns, per_chart);
    if wide && panes_area.height >= 12 {
        let [top, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(panes_area);
        let [a, b] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(top);
        let [c, d] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
        for (pane, rect) in Pane::ALL.into_iter().zip([a, b, c, d]) {
            let focused = pane == view.pane;
            let title = Line::from(Span::styled(
                format!(" {} ", pane.title()),
                theme.style(if focused {
                    Role::DialogTitle
                } else {
                    Role::ColumnHeader
                }),
            ));
            let block = Block::bordered()
                .border_style(theme.style(if focused { Role::Accent } else { Role::Border }))
                .title(title);
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            render_pane(state, pane, theme, frame, inner);
        }
    } else {
        let mut tabs = vec![Span::raw(" ")];
        for pane in Pane::ALL {
            let role = if pane == view.pane {
                Role::Selection
            } else {
                Role::Muted
            };
            tabs.push(Span::styled(
                format!(" {} ", pane.title()),
                theme.style(role),
            ));
            tabs.push(Span::raw(" "));
        }
        if let Some(keys) = hints::label(
            &state.core.keymap,
            Layer::App,
            &[Keys::First(Command::NextPane)],
        ) {
            tabs.push(Span::styled(format!("{keys} ⇥"), theme.style(Role::Key)));
        }
        let block = Block::new()
            .borders(ratatui::widgets::Borders::TOP)
            .border_style(theme.style(Role::Border))
            .title(Line::from(tabs));
        let inner = block.inner(panes_area);
        frame.render_widget(block, panes_area);
        render_pane(state, view.pane, theme, frame, inner);
    }
    if hint_rows > 0 {
        // Only what the keymap binds: `--readonly` leaves out scale and roll back.
        let first = |cmd| [Keys::First(cmd)];
        let window = [
            Keys::First(Command::CycleWindow),
            Keys::First(Command::Window1m),
            Keys::First(Command::Window5m),
            Keys::First(Command::Window15m),
            Keys::First(Command::Window1h),
        ];
        // The incident's tasks first: logs, scale, roll back, the runbook; the way out last.
        let pairs: [hints::Hint; 10] = [
            (&first(Command::Logs(LogCommand::OpenLogs)), "logs"),
            (&first(Command::OpenScale), "scale"),
            (&first(Command::OpenRollback), "roll back"),
            (&first(Command::OpenRunbook), "runbook"),
            (&first(Command::OpenReleases), "releases"),
            (&first(Command::OpenAppEvents), "events"),
            (&first(Command::NextPane), "pane"),
            (&window, "window"),
            (&first(Command::OpenCommand), "command"),
            (&first(Command::Back), "back"),
        ];
        let mut spans = vec![Span::raw(" ")];
        spans.extend(hints::spans_within(
            &state.core.keymap,
            Layer::App,
            &pairs,
            "  ",
            theme,
            usize::from(hint_area.width.saturating_sub(1)),
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), hint_area);
    }
}

fn render_summary(state: &State, app: &AppEntry, theme: &Theme, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let health = app.health();
    let text = theme.style(Role::Text);
    let muted = theme.style(Role::Muted);
    let mut spans = vec![
        Span::styled(
            format!(" {} ", health_mark(health)),
            theme.style(health_role(health)),
        ),
        Span::styled(
            format::truncate(&s.name, 28),
            theme.style(Role::DialogTitle),
        ),
        // The id is what `:scale`, production confirmations and runbook parameters take: it
        // stays in the header at every width.
        Span::styled(
            if s.name.contains(s.id.as_str()) {
                String::new()
            } else {
                format!(" {}", s.id)
            },
            text,
        ),
        Span::styled(
            format!("  {}", s.status.as_str()),
            theme.style(health_role(health)),
        ),
        Span::styled(format!("  {}", s.version), text),
        Span::styled(format!(" ({})", s.release), muted),
        Span::styled(
            format!("  ready {}/{}", s.replicas.ready, s.replicas.desired),
            if s.replicas.ready < s.replicas.desired {
                theme.style(Role::Degraded)
            } else {
                text
            },
        ),
    ];
    if app.firing_alerts > 0 {
        spans.push(Span::styled(
            format!("  {} firing", app.firing_alerts),
            theme.style(Role::AlertCritical),
        ));
    }
    if area.width >= 100 {
        spans.push(Span::styled(format!("  {}", s.region), muted));
    }
    let window = format!(" window {} ", state.app_view.window.label());
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line.clone()), area);
    let w = window.width() as u16;
    if line.width() as u16 + w < area.width {
        let r = Rect {
            x: area.x + area.width - w,
            width: w,
            ..area
        };
        frame.render_widget(
            Paragraph::new(Span::styled(window, theme.style(Role::Accent))),
            r,
        );
    }
}

fn render_charts(
    app: &AppEntry,
    state: &State,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    columns: u16,
    per_chart: u16,
) {
    if area.height < per_chart || per_chart == 0 {
        return;
    }
    if let Some(problem) = app.metrics_problem.as_ref().filter(|p| !p.kind.is_stale()) {
        // The query itself fails: say why where the charts would be.
        let lines: Vec<Line> = format::wrap(
            &format!("Metrics cannot be read: {}", problem.message),
            usize::from(area.width.saturating_sub(2)).max(1),
        )
        .into_iter()
        .map(|l| Line::styled(l, theme.style(Role::Error)))
        .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::new().padding(ratatui::widgets::Padding::horizontal(1))),
            area,
        );
        return;
    }
    let rows = area.height / per_chart;
    let shown = usize::from(rows * columns).min(CHARTS.len());
    let col_constraints = vec![Constraint::Fill(1); usize::from(columns)];
    let row_areas =
        Layout::vertical(vec![Constraint::Length(per_chart); usize::from(rows)]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(col_constraints.clone())
            .spacing(1)
            .split(*row_area);
        for (c, cell) in cells.iter().enumerate() {
            let i = r * usize::from(columns) + c;
            if i >= shown {
                return;
            }
            chart::render(
                &app.metrics_history,
                state.app_view.window,
                &CHARTS[i],
                theme,
                frame,
                *cell,
            );
        }
    }
}

/// Draw one list of the App view: the rows from the pane's scroll offset that fit.
fn render_pane(state: &State, pane: Pane, theme: &Theme, frame: &mut Frame, area: Rect) {
    let view = &state.app_view;
    let rows = usize::from(area.height);
    let width = usize::from(area.width);
    let offset = view.pane_offset[pane.index()];
    let muted = theme.style(Role::Muted);
    let text = theme.style(Role::Text);
    let message = |m: String| Text::from(Line::styled(m, muted));
    let content: Text = match pane {
        Pane::Pods => match (&view.pods, &view.detail_error) {
            (None, Some(e)) => Text::from(Line::styled(
                format!("Cannot load pods: {e}"),
                theme.style(Role::Error),
            )),
            (None, None) => message("Loading pods …".into()),
            (Some(pods), _) if pods.is_empty() => message("No pods.".into()),
            (Some(pods), _) => {
                // State 12, restarts 5, age 5, zone 13 and a release id of about 7.
                let name_w = width.saturating_sub(43).clamp(10, 40);
                pods.iter()
                    .skip(offset)
                    .take(rows)
                    .map(|p| {
                        let (state_text, role) = match p.state {
                            PodState::Ready => ("ready", Role::Healthy),
                            PodState::Pending => ("pending", Role::Busy),
                            PodState::Starting => ("starting", Role::Busy),
                            PodState::CrashLoop => ("crashloop", Role::Down),
                            PodState::Terminating => ("terminating", Role::Muted),
                        };
                        let restarts_role = if p.restarts > 0 {
                            Role::Degraded
                        } else {
                            Role::Muted
                        };
                        Line::from(vec![
                            Span::styled(fit(&p.name, name_w), text),
                            Span::styled(
                                format!(" {}", format::column(state_text, 11)),
                                theme.style(role),
                            ),
                            Span::styled(
                                format!(" ↻{:<3}", p.restarts),
                                theme.style(restarts_role),
                            ),
                            Span::styled(
                                format!(" {:>4}", format::age(state.core.now, p.started_at)),
                                muted,
                            ),
                            Span::styled(format!(" {}", fit(&p.zone, 12)), muted),
                            Span::styled(format!(" {}", p.release), muted),
                        ])
                    })
                    .collect::<Vec<_>>()
                    .into()
            }
        },
        Pane::Events => {
            let mut lines = Vec::new();
            for e in state
                .core
                .timeline
                .for_app(Some(&view.app))
                .skip(offset)
                .take(rows)
            {
                let actor = e.event.actor.as_deref().unwrap_or("");
                let msg_w = width.saturating_sub(9 + 12 + 1 + actor.width().min(12) + 1);
                lines.push(Line::from(vec![
                    Span::styled(format!("{} ", format::clock(e.ts)), muted),
                    Span::styled(
                        format::column(e.event.kind.label(), 12),
                        theme.style(Role::Accent),
                    ),
                    Span::styled(fit(&e.event.message, msg_w), text),
                    Span::styled(
                        format!(" {}", format::truncate(actor, 12)),
                        theme.style(Role::Key),
                    ),
                ]));
            }
            if lines.is_empty() {
                if state.core.timeline.loaded {
                    message("No events for this app yet.".into())
                } else {
                    message("Loading events …".into())
                }
            } else {
                lines.into()
            }
        }
        Pane::Alerts => {
            let mut lines = Vec::new();
            for a in state
                .core
                .alerts
                .values()
                .filter(|a| a.app == view.app && a.state == AlertState::Firing)
                .skip(offset)
                .take(rows)
            {
                let role = match a.severity {
                    Severity::P0 | Severity::P1 => Role::AlertCritical,
                    Severity::P2 | Severity::P3 => Role::AlertWarning,
                };
                let sev = format!("{:?}", a.severity);
                lines.push(Line::from(vec![
                    Span::styled(format!("{sev} "), theme.style(role)),
                    Span::styled(format!("{} ", a.rule), theme.style(Role::Accent)),
                    Span::styled(
                        format::truncate(&a.summary, width.saturating_sub(a.rule.width() + 12)),
                        text,
                    ),
                    Span::styled(
                        format!(" {}", format::age(state.core.now, a.started_at)),
                        muted,
                    ),
                ]));
            }
            if lines.is_empty() {
                message("No firing alerts.".into())
            } else {
                lines.into()
            }
        }
        Pane::Releases => match (&view.releases, &view.releases_error) {
            (None, Some(e)) => Text::from(Line::styled(
                format!("Cannot load releases: {e}"),
                theme.style(Role::Error),
            )),
            (None, None) => message("Loading releases …".into()),
            (Some(list), _) if list.is_empty() => message("No releases.".into()),
            (Some(list), _) => list
                .iter()
                .skip(offset)
                .take(rows)
                .map(|r| {
                    let (label, role) = release_status(r.status);
                    Line::from(vec![
                        Span::styled(format::column(label, 14), theme.style(role)),
                        Span::styled(format::column(&r.version, 9), text),
                        Span::styled(
                            format!("{:>4} ", format::age(state.core.now, r.created_at)),
                            muted,
                        ),
                        Span::styled(
                            format::truncate(&r.change_cause, width.saturating_sub(28)),
                            text,
                        ),
                    ])
                })
                .collect::<Vec<_>>()
                .into(),
        },
    };
    frame.render_widget(Paragraph::new(content), area);
}

/// A release status as the lists show it, with its role.
pub(crate) fn release_status(status: ReleaseStatus) -> (&'static str, Role) {
    match status {
        ReleaseStatus::Active => ("● active", Role::Healthy),
        ReleaseStatus::Superseded => ("○ superseded", Role::Muted),
        ReleaseStatus::Failed => ("✖ failed", Role::Down),
        ReleaseStatus::RolledBack => ("↶ rolled-back", Role::Degraded),
    }
}

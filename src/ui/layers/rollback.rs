//! The rollback dialog: from → to and what differs (version, release, age, change cause,
//! artifact), how the target relates to the incident on the app (the release that ran before
//! it, or why rolling back may not help), then the explicit confirmation ("Roll back shop-cart v2.3.1 → v2.3.0? y/N") or,
//! in production, the typed app name.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{centered, clear_popup, typed_name_field};
use crate::app::{
    Command, Incident, IncidentFit, Keymap, Layer, ReleaseMark, RollbackDialog, RollbackStep,
};
use crate::duration;
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const WIDTH: u16 = 68;
const LABEL: usize = 10;

/// One "what differs" line: `label  from → to`, or `(same)` when equal.
fn diff_line<'a>(theme: &Theme, label: &str, from: &str, to: &str, room: usize) -> Vec<Line<'a>> {
    let label = Span::styled(format!("{label:<LABEL$}"), theme.style(Role::Muted));
    if from == to {
        return vec![Line::from(vec![
            label,
            Span::styled(format::truncate(from, room), theme.style(Role::Text)),
            Span::styled("  (same)", theme.style(Role::Muted)),
        ])];
    }
    if from.width() + to.width() + 3 <= room {
        return vec![Line::from(vec![
            label,
            Span::styled(from.to_string(), theme.style(Role::Muted)),
            Span::styled(" → ", theme.style(Role::Key)),
            Span::styled(to.to_string(), theme.style(Role::Accent)),
        ])];
    }
    // Too long for one line: the old value above the new one.
    vec![
        Line::from(vec![
            label,
            Span::styled("- ", theme.style(Role::Muted)),
            Span::styled(
                format::truncate(from, room.saturating_sub(2)),
                theme.style(Role::Muted),
            ),
        ]),
        Line::from(vec![
            Span::raw(" ".repeat(LABEL)),
            Span::styled("+ ", theme.style(Role::Accent)),
            Span::styled(
                format::truncate(to, room.saturating_sub(2)),
                theme.style(Role::Accent),
            ),
        ]),
    ]
}

/// How long before `now` `t` was, two units: `12m`, `1h45m`.
fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    duration::age(duration::clamp((now - t).num_seconds()))
}

/// The incident lines: when the first alert fired and what the release before it was, then the
/// verdict on the target (✔ the release that ran before the incident, or ⚠ why rolling back may
/// not help), each wrapped under the label.
fn incident_lines<'a>(
    dialog: &RollbackDialog,
    incident: &Incident,
    now: DateTime<Utc>,
    theme: &Theme,
    room: usize,
) -> Vec<Line<'a>> {
    let (from, to) = (&dialog.from.version, &dialog.to.version);
    let start = incident.started_at;
    let first = format!("first alert {} ago", ago(now, start));
    let span =
        |a: DateTime<Utc>, b: DateTime<Utc>| duration::age(duration::clamp((b - a).num_seconds()));
    let after = |suspect: &ReleaseMark, live_since: &DateTime<Utc>| {
        format!(
            "{first}, {} after {} went live",
            span(*live_since, start),
            suspect.version
        )
    };
    let (fact, verdict, good) = match &incident.fit {
        IncidentFit::BeforeIncident {
            suspect,
            live_until,
        } => (
            after(suspect, live_until),
            format!(
                "{to} is the release that ran before the incident (live until {} ago)",
                ago(now, *live_until)
            ),
            true,
        ),
        IncidentFit::NotBeforeIncident {
            suspect,
            before,
            live_until,
        } => (
            after(suspect, live_until),
            format!(
                "{to} is not the release that ran before the incident: {} ({}) is, live until {} ago",
                before.version,
                before.id,
                ago(now, *live_until)
            ),
            false,
        ),
        IncidentFit::AlreadyBefore {
            suspect,
            live_until,
        } => (
            after(suspect, live_until),
            format!(
                "{from} already is the release that ran before the incident: rolling back further may not help"
            ),
            false,
        ),
        IncidentFit::LiveLongBefore {
            release,
            live_since,
        } => (
            format!(
                "{first}; {} had run {} by then",
                release.version,
                span(*live_since, start)
            ),
            format!("{to} is not the release before the incident; rolling back may not help"),
            false,
        ),
        IncidentFit::CurrentAfterStart { live_since } => (
            format!(
                "{first}; {from} went live {} after it",
                span(start, *live_since)
            ),
            format!("the incident began before {from}: rolling back may not help"),
            false,
        ),
    };
    let (mark, role) = if good {
        ("✔ ", Role::Healthy)
    } else {
        ("⚠ ", Role::AlertWarning)
    };
    // One column short of the border, as the other lines leave.
    let indent = " ".repeat(LABEL);
    let mut lines = Vec::new();
    for (i, row) in format::wrap(&fact, room.saturating_sub(1))
        .into_iter()
        .enumerate()
    {
        let label = if i == 0 {
            format!("{:<LABEL$}", "Incident")
        } else {
            indent.clone()
        };
        lines.push(Line::from(vec![
            Span::styled(label, theme.style(Role::Muted)),
            Span::styled(row, theme.style(Role::Text)),
        ]));
    }
    for (i, row) in format::wrap(&verdict, room.saturating_sub(3))
        .into_iter()
        .enumerate()
    {
        let lead = if i == 0 { mark } else { "  " };
        lines.push(Line::from(vec![
            Span::raw(indent.clone()),
            Span::styled(format!("{lead}{row}"), theme.style(role)),
        ]));
    }
    lines
}

pub fn render(
    dialog: &RollbackDialog,
    now: DateTime<Utc>,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let hint = |layer, pairs: &[hints::Hint]| hints::line(keymap, layer, pairs, theme);
    let inner = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let room = inner.saturating_sub(LABEL);
    let title_name = format::truncate(&dialog.app_name, inner.saturating_sub(14));
    let mut block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(" Roll back {title_name} "),
            theme.style(Role::DialogTitle),
        ));
    if dialog.production {
        block = block.title_bottom(Span::styled(" PRODUCTION ", theme.style(Role::Down)));
    }
    let (from, to) = (&dialog.from, &dialog.to);
    let mut lines: Vec<Line> = vec![Line::from(vec![
        Span::styled(format!("{:<LABEL$}", "App"), theme.style(Role::Muted)),
        Span::styled(dialog.app.as_str(), theme.style(Role::Text)),
    ])];
    lines.extend(diff_line(
        theme,
        "Version",
        &from.version,
        &to.version,
        room,
    ));
    lines.extend(diff_line(theme, "Release", &from.id, &to.id, room));
    lines.extend(diff_line(
        theme,
        "Age",
        &format!("{} ago", format::age(now, from.created_at)),
        &format!("{} ago", format::age(now, to.created_at)),
        room,
    ));
    if let Some(incident) = &dialog.incident {
        lines.extend(incident_lines(dialog, incident, now, theme, room));
    }
    lines.extend(diff_line(
        theme,
        "Cause",
        &from.change_cause,
        &to.change_cause,
        room,
    ));
    lines.extend(diff_line(
        theme,
        "Artifact",
        &from.artifact,
        &to.artifact,
        room,
    ));
    lines.push(Line::default());

    let question = Line::from(vec![
        Span::styled(
            format!(
                "Roll back {} {} → {}? ",
                dialog.app, from.version, to.version
            ),
            theme.style(Role::DialogTitle),
        ),
        Span::styled(hints::yes_no(keymap), theme.style(Role::Key)),
    ]);
    match &dialog.step {
        RollbackStep::Review => {
            if let Some(failure) = &dialog.failure {
                lines.push(Line::styled(
                    format!("✖ gateway refused: {failure}"),
                    theme.style(Role::Error),
                ));
            }
            lines.push(hint(
                Layer::Rollback,
                &[
                    (&[Keys::First(Command::Submit)], "continue"),
                    (&[Keys::First(Command::Back)], "cancel"),
                ],
            ));
        }
        RollbackStep::Confirm => {
            lines.push(question);
            if let Some(failure) = &dialog.failure {
                lines.push(Line::styled(
                    format!("✖ last try failed: {failure}"),
                    theme.style(Role::Error),
                ));
                lines.push(hint(
                    Layer::Confirm,
                    &[
                        (&[Keys::First(Command::Confirm)], "try again (same request)"),
                        (&[Keys::All(Command::Cancel)], "back"),
                    ],
                ));
            } else {
                lines.push(hint(
                    Layer::Confirm,
                    &[
                        (&[Keys::First(Command::Confirm)], "roll back now"),
                        (&[Keys::All(Command::Cancel)], "back"),
                    ],
                ));
            }
        }
        RollbackStep::TypeName => {
            lines.push(Line::from(vec![
                Span::styled("PRODUCTION", theme.style(Role::Down)),
                Span::styled(" — type ", theme.style(Role::Text)),
                Span::styled(dialog.app.as_str(), theme.style(Role::DialogTitle)),
                Span::styled(" to roll back:", theme.style(Role::Text)),
            ]));
            lines.push(typed_name_field(
                &dialog.typed,
                dialog.name_matches(),
                room,
                theme,
            ));
            if let Some(failure) = &dialog.failure {
                lines.push(Line::styled(
                    format!("✖ last try failed: {failure}"),
                    theme.style(Role::Error),
                ));
            }
            let enter = if dialog.name_matches() {
                "continue to the confirmation"
            } else {
                "(type the app id exactly)"
            };
            lines.push(hint(
                Layer::RollbackName,
                &[
                    (&[Keys::First(Command::Submit)], enter),
                    (&[Keys::First(Command::Back)], "back"),
                ],
            ));
        }
        RollbackStep::Sending { .. } => {
            lines.push(question);
            lines.push(Line::styled("Sending…", theme.style(Role::Busy)));
            lines.push(hint(
                Layer::Confirm,
                &[(&[Keys::All(Command::Cancel)], "close (request continues)")],
            ));
        }
    }
    lines.push(Line::styled(
        format!("request key {}", dialog.idempotency_key),
        theme.style(Role::Muted),
    ));
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let rect = centered(area, WIDTH, height);
    clear_popup(frame, rect);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

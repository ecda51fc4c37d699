//! The Run view: one run live — its state, parameters, and every step with its state, duration,
//! output lines and what a waiting step waits on (with the live value). Verdicts and output
//! lines wrap at words under their mark, never cut; the view scrolls and keeps its hint line.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Padding, Paragraph};

use super::runbooks::{message, plain};
use crate::app::{Command, Layer, State};
use crate::protocol::{RunState, RunStatus, StepState, StepStatus};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

pub fn run_state_label(s: RunState) -> (&'static str, Role) {
    match s {
        RunState::Pending => ("PENDING", Role::Muted),
        RunState::Running => ("RUNNING", Role::Busy),
        RunState::WaitingApproval => ("WAITING APPROVAL", Role::AlertWarning),
        RunState::Succeeded => ("SUCCEEDED", Role::Healthy),
        RunState::Failed => ("FAILED", Role::Error),
        RunState::Aborted => ("ABORTED", Role::Error),
        RunState::Interrupted => ("INTERRUPTED", Role::AlertWarning),
    }
}

fn step_label(s: StepState) -> (&'static str, &'static str, Role) {
    match s {
        StepState::Pending => ("·", "pending", Role::Muted),
        StepState::Running => ("▶", "running", Role::Busy),
        StepState::WaitingApproval => ("?", "waiting for approval", Role::AlertWarning),
        StepState::Succeeded => ("✔", "succeeded", Role::Healthy),
        StepState::Failed => ("✖", "failed", Role::Error),
        StepState::Skipped => ("-", "skipped", Role::Muted),
    }
}

/// `12s`, `3m05s`, `1h02m`.
fn duration(secs: i64) -> String {
    crate::duration::stopwatch(crate::duration::clamp(secs))
}

/// How long a step took, or has taken so far: to `now`, platform time like the step's own
/// times, so a waiting step's count ticks with the clock.
fn step_duration(step: &StepStatus, now: DateTime<Utc>) -> String {
    match (step.started_at, step.finished_at) {
        (Some(start), Some(end)) => duration((end - start).num_seconds()),
        (Some(start), None) => format!("{} so far", duration((now - start).num_seconds())),
        _ => String::new(),
    }
}

/// `text` wrapped to `width` columns after `first` on its first row and `rest` on the others,
/// all in `style`.
pub(crate) fn hanging<'a>(
    first: &str,
    rest: &str,
    text: &str,
    width: usize,
    style: Style,
) -> Vec<Line<'a>> {
    let room = width.saturating_sub(first.chars().count().max(rest.chars().count()));
    format::wrap(text, room)
        .into_iter()
        .enumerate()
        .map(|(i, row)| Line::styled(format!("{}{row}", if i == 0 { first } else { rest }), style))
        .collect()
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(run) = state.runs.current_run() else {
        let text = match &state.runs.current {
            Some(id) => format!("Loading run {id}…"),
            None => format!(
                "No run open: {} lists the runs.",
                hints::key(&state.core.keymap, Layer::Run, Command::OpenRuns)
            ),
        };
        message(&text, Role::Muted, theme, frame, area);
        return;
    };
    let width = usize::from(area.width.saturating_sub(2));
    let mut head = header_lines(run, theme, width);
    let mut body = step_lines(run, theme, width, state.core.now);
    let footer = footer(state, run, theme);
    let room = usize::from(area.height).saturating_sub(head.len() + 1);
    let scroll = state.runs.scroll.min(body.len().saturating_sub(room));
    head.extend(body.drain(..).skip(scroll).take(room));
    while head.len() < usize::from(area.height).saturating_sub(1) {
        head.push(Line::default());
    }
    head.push(footer);
    let para =
        Paragraph::new(Text::from(head)).block(Block::default().padding(Padding::horizontal(1)));
    frame.render_widget(para, area);
}

fn header_lines<'a>(run: &RunStatus, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let (label, role) = run_state_label(run.state);
    let mut first = vec![
        Span::styled(format!("{} ", run.id), theme.style(Role::DialogTitle)),
        Span::styled(format!("{} ", run.runbook), theme.style(Role::Text)),
        Span::styled(label, theme.style(role)),
    ];
    if run.dry_run {
        first.push(Span::styled(" (dry run)", theme.style(Role::Muted)));
    }
    first.push(Span::styled(
        format!(
            "  started {} UTC by {}",
            format::clock(run.created_at),
            run.started_by
        ),
        theme.style(Role::Muted),
    ));
    let params: Vec<String> = run
        .params
        .iter()
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect();
    let mut lines = vec![
        Line::from(first),
        Line::styled(
            format::truncate(&format!("params  {}", params.join("  ")), width),
            theme.style(Role::Muted),
        ),
    ];
    if !run.message.is_empty() {
        lines.extend(hanging(
            "",
            "",
            &run.message,
            width,
            theme.style(Role::Text),
        ));
    }
    lines.push(Line::default());
    lines
}

fn step_lines<'a>(
    run: &RunStatus,
    theme: &Theme,
    width: usize,
    now: DateTime<Utc>,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for step in &run.steps {
        let (icon, label, role) = step_label(step.state);
        let current = run.current_step.as_deref() == Some(step.id.as_str());
        let id_role = if current { Role::Accent } else { Role::Text };
        let mut spans = vec![
            Span::styled(format!("{icon} "), theme.style(role)),
            Span::styled(format::column(&step.id, 23), theme.style(id_role)),
            Span::styled(
                format::column(&step.kind.to_string(), 11),
                theme.style(Role::Muted),
            ),
            Span::styled(label, theme.style(role)),
        ];
        let took = step_duration(step, now);
        if !took.is_empty() {
            spans.push(Span::styled(format!("  {took}"), theme.style(Role::Muted)));
        }
        if step.attempts > 1 {
            spans.push(Span::styled(
                format!("  attempt {}", step.attempts),
                theme.style(Role::AlertWarning),
            ));
        }
        if step.fallback {
            spans.push(Span::styled("  fallback", theme.style(Role::Muted)));
        }
        lines.push(Line::from(spans));
        if let Some(w) = &step.waiting_on {
            lines.extend(hanging(
                "    » ",
                "      ",
                &format!("waiting on: {w}"),
                width,
                theme.style(Role::AlertWarning),
            ));
        }
        for out in &step.output {
            lines.extend(hanging(
                "    │ ",
                "    │ ",
                out,
                width,
                theme.style(Role::Text),
            ));
        }
    }
    lines
}

fn footer<'a>(state: &State, run: &RunStatus, theme: &Theme) -> Line<'a> {
    let next_prev = [Keys::First(Command::NextRun), Keys::First(Command::PrevRun)];
    let back = [Keys::First(Command::Back)];
    let mut pairs: Vec<hints::Hint> = Vec::new();
    if state.core.readonly {
        let mut spans = vec![Span::styled(
            "READ-ONLY: no approve, abort or resume  ",
            theme.style(Role::Notice),
        )];
        spans.extend(hints::spans(
            &state.core.keymap,
            Layer::Run,
            &[(&next_prev, "next/prev run"), (&back, "back")],
            "  ",
            theme,
        ));
        return Line::from(spans);
    }
    if run.state == RunState::WaitingApproval {
        pairs.push((&[Keys::First(Command::ApproveRun)], "approve"));
    }
    if !run.state.is_final() {
        pairs.push((&[Keys::First(Command::AbortRun)], "abort"));
    }
    if run.state == RunState::Interrupted {
        pairs.push((&[Keys::First(Command::ResumeRun)], "resume"));
    }
    let scroll = [Keys::First(Command::MoveDown), Keys::First(Command::MoveUp)];
    pairs.extend([
        (&scroll[..], "scroll"),
        (&next_prev[..], "next/prev run"),
        (&[Keys::First(Command::OpenRuns)][..], "runs"),
        (&back[..], "back"),
    ]);
    hints::line(&state.core.keymap, Layer::Run, &pairs, theme)
}

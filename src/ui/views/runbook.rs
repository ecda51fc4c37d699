//! The Runbook view: one runbook's parameters as an editable form (type, default, description,
//! and what is wrong with a value as it is typed), then the dry run's plan — each step with its
//! parameters resolved and its conditions evaluated against current data, wrapped at words and
//! never cut; a plan taller than the screen scrolls under its pinned hint line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Padding, Paragraph};

use super::runbooks::{message, plain};
use crate::app::{Command, FailedCheck, FormStep, Layer, RunbookForm, State, app_candidates};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// Width of the parameter name column.
/// The parameter-name column: at least this wide, wider for a longer name (up to `MAX_NAME_W`).
const NAME_W: usize = 14;
const MAX_NAME_W: usize = 24;
/// Columns before a plan step's text: ` 1. ` and the kind.
const PLAN_INDENT: usize = 14;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(form) = &state.runbooks.form else {
        message("No runbook open.", Role::Muted, theme, frame, area);
        return;
    };
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = title_lines(form, theme, width);
    match &form.step {
        FormStep::Loading => {
            let text = match &form.failure {
                Some(f) => (format!("✖ {f}"), Role::Error),
                None => ("Loading parameters…".to_string(), Role::Muted),
            };
            lines.push(Line::styled(text.0, theme.style(text.1)));
        }
        FormStep::Edit => form_lines(state, form, theme, width, &mut lines),
        FormStep::DryRunning { .. } | FormStep::Plan => {
            let body = plan_lines(form, theme, width);
            let height = usize::from(area.height);
            let fits = lines.len() + body.len() + plan_footer(state, theme, false).len() <= height;
            let footer = plan_footer(state, theme, !fits);
            if fits {
                lines.extend(body);
            } else {
                // Scrolled: as much of the plan as fits, the hint line on the last row.
                let room = height.saturating_sub(lines.len() + footer.len());
                let scroll = form.plan_scroll.min(body.len().saturating_sub(room));
                lines.extend(body.into_iter().skip(scroll).take(room));
                lines.resize(height.saturating_sub(footer.len()), Line::default());
            }
            lines.extend(footer);
        }
    }
    let para =
        Paragraph::new(Text::from(lines)).block(Block::default().padding(Padding::horizontal(1)));
    frame.render_widget(para, area);
}

fn title_lines<'a>(form: &RunbookForm, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let summary = form.detail.as_ref().map(|d| &d.summary);
    let title = summary.map(|s| s.title.clone()).unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("Runbook {}", form.runbook),
            theme.style(Role::DialogTitle),
        ),
        Span::styled(
            format::truncate(
                &format!("  {title}"),
                width.saturating_sub(9 + form.runbook.len()),
            ),
            theme.style(Role::Text),
        ),
    ])];
    if let Some(s) = summary.filter(|s| !s.description.is_empty()) {
        lines.push(Line::styled(
            format::truncate(&s.description, width),
            theme.style(Role::Muted),
        ));
    }
    lines.push(Line::default());
    lines
}

fn form_lines<'a>(
    state: &State,
    form: &RunbookForm,
    theme: &Theme,
    width: usize,
    lines: &mut Vec<Line<'a>>,
) {
    let known = |a: &str| state.core.apps.contains_key(a);
    let keymap = &state.core.keymap;
    lines.push(Line::styled(
        format!(
            "Parameters (a dry run comes first; nothing changes before {} and {})",
            hints::key(keymap, Layer::RunbookPlan, Command::StartRun),
            hints::key(keymap, Layer::Confirm, Command::Confirm)
        ),
        theme.style(Role::ColumnHeader),
    ));
    let name_w = form
        .fields
        .iter()
        .map(|f| f.info.name.chars().count() + 1)
        .max()
        .unwrap_or(0)
        .clamp(NAME_W, MAX_NAME_W);
    for (i, f) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let marker = if focused { ">" } else { " " };
        let role = if focused { Role::Accent } else { Role::Text };
        let room = width.saturating_sub(name_w + 24).clamp(8, 40);
        let mut spans = vec![
            Span::styled(format!("{marker} "), theme.style(Role::Accent)),
            Span::styled(
                format::column(&f.info.name, name_w),
                theme.style(Role::Text),
            ),
            Span::styled(
                format!("[{}", format::truncate(&f.input, room)),
                theme.style(role),
            ),
        ];
        if focused {
            spans.push(Span::styled("▏", theme.style(Role::Accent)));
        }
        spans.push(Span::styled("]", theme.style(role)));
        spans.push(Span::styled(
            format!(" {}", f.info.kind),
            theme.style(Role::Muted),
        ));
        match f.value(&known) {
            Err(problem) => spans.push(Span::styled(
                format!("  ✖ {problem}"),
                theme.style(Role::Error),
            )),
            Ok(_) => {
                if let Some(d) = &f.info.default {
                    spans.push(Span::styled(
                        format!("  default {}", plain(d)),
                        theme.style(Role::Muted),
                    ));
                }
            }
        }
        lines.push(Line::from(spans));
        if !f.info.description.is_empty() {
            lines.push(Line::styled(
                format::truncate(&format!("  {:<name_w$} {}", "", f.info.description), width),
                theme.style(Role::Muted),
            ));
        }
    }
    if form.fields.is_empty() {
        lines.push(Line::styled("  (no parameters)", theme.style(Role::Muted)));
    }
    let candidates = app_candidates(state);
    if !candidates.is_empty() && form.focused().is_some_and(|f| f.info.kind == "app") {
        let shown: Vec<String> = candidates
            .iter()
            .take(6)
            .map(|id| match state.core.apps.get(id) {
                Some(a) if a.summary.name != *id => format!("{id} ({})", a.summary.name),
                _ => id.clone(),
            })
            .collect();
        lines.push(Line::styled(
            format::truncate(&format!("  apps: {}", shown.join(", ")), width),
            theme.style(Role::Muted),
        ));
    }
    lines.push(Line::default());
    if let Some(f) = &form.failure {
        lines.extend(super::run::hanging(
            "✖ ",
            "  ",
            f,
            width,
            theme.style(Role::Error),
        ));
    }
    let valid = form.values(&known).is_ok();
    let field = [
        Keys::All(Command::NextField),
        Keys::First(Command::PrevField),
    ];
    let mut pairs: Vec<hints::Hint> = Vec::new();
    if valid {
        pairs.push((&[Keys::First(Command::Submit)], "dry run"));
    }
    pairs.extend([
        (&field[..], "field"),
        (&[Keys::First(Command::Complete)][..], "complete app"),
        (&[Keys::First(Command::Back)][..], "back"),
    ]);
    lines.push(hints::line(
        &state.core.keymap,
        Layer::RunbookForm,
        &pairs,
        theme,
    ));
}

fn plan_lines<'a>(form: &RunbookForm, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let params: Vec<String> = form
        .planned
        .iter()
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect();
    lines.push(Line::from(vec![
        Span::styled("Dry run", theme.style(Role::ColumnHeader)),
        Span::styled(
            format::truncate(
                &format!(" with {}", params.join(" ")),
                width.saturating_sub(7),
            ),
            theme.style(Role::Text),
        ),
    ]));
    let Some(plan) = form.plan.as_ref().and_then(|p| p.plan.as_ref()) else {
        lines.push(Line::styled(
            "Asking the gateway for a plan…",
            theme.style(Role::Busy),
        ));
        return lines;
    };
    lines.push(Line::styled(
        "Nothing was changed. The plan, against current data:",
        theme.style(Role::Muted),
    ));
    // The step's number and kind, then its text wrapped under itself.
    let indent = " ".repeat(PLAN_INDENT);
    let room = width.saturating_sub(PLAN_INDENT);
    for (i, step) in plan.steps.iter().enumerate() {
        // Fallbacks run only when a step names them: marked, not numbered.
        let label = if step.fallback {
            " ↳ ".to_string()
        } else {
            format!("{:>2}.", i + 1)
        };
        let action = if step.fallback {
            format!("fallback: {}", step.action)
        } else {
            step.action.clone()
        };
        for (j, row) in format::wrap(&action, room).into_iter().enumerate() {
            let mut spans = if j == 0 {
                vec![
                    Span::styled(format!("{label} "), theme.style(Role::Muted)),
                    Span::styled(
                        format::column(&step.kind.to_string(), 10),
                        theme.style(Role::Accent),
                    ),
                ]
            } else {
                vec![Span::raw(indent.clone())]
            };
            spans.push(Span::styled(row, theme.style(Role::Text)));
            lines.push(Line::from(spans));
        }
        if let Some(e) = &step.evaluation {
            let role = match step.holds {
                Some(false) => Role::AlertWarning,
                Some(true) => Role::Healthy,
                None if e.contains("does not hold") || e.contains("not yet") => Role::AlertWarning,
                None => Role::Healthy,
            };
            for row in format::wrap(e, room) {
                lines.push(Line::styled(format!("{indent}{row}"), theme.style(role)));
            }
        }
    }
    if let Some(check) = FailedCheck::first_in(plan) {
        lines.push(Line::default());
        lines.extend(super::run::hanging(
            "✖ ",
            "  ",
            &format!(
                "Precondition {} does not hold now: starting asks twice",
                check.step
            ),
            width,
            theme.style(Role::Error),
        ));
    }
    lines
}

/// Below the plan: a blank row, the read-only notice, the hint line (with the scroll keys when
/// the plan is taller than the screen).
fn plan_footer<'a>(state: &State, theme: &Theme, scrolls: bool) -> Vec<Line<'a>> {
    let mut lines = vec![Line::default()];
    if state.core.readonly {
        lines.push(Line::styled(
            format!(
                "READ-ONLY: dry run only; this session cannot start runs ({})",
                state.core.readonly_reason()
            ),
            theme.style(Role::Notice),
        ));
    }
    let run_for_real = format!("run for real (asks {})", hints::yes_no(&state.core.keymap));
    let scroll = [Keys::First(Command::MoveDown), Keys::First(Command::MoveUp)];
    let mut pairs: Vec<hints::Hint> = vec![
        (&[Keys::First(Command::StartRun)], &run_for_real),
        (&[Keys::All(Command::Back)], "edit"),
        (&[Keys::First(Command::OpenRuns)], "runs"),
    ];
    if scrolls {
        pairs.push((&scroll, "scroll"));
    }
    lines.push(hints::line(
        &state.core.keymap,
        Layer::RunbookPlan,
        &pairs,
        theme,
    ));
    lines
}

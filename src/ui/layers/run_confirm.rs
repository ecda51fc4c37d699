//! The y/N questions of runbook runs: start for real, approve, abort, resume. A start whose dry
//! run found a precondition not holding says so first (which check, what it saw against what it
//! wanted), and asks a second time: "The precondition failed. Start anyway? y/N".

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{centered, clear_popup, question, question_footer};
use crate::app::{RunAsk, RunControl, RunDialog, RunDialogStep, State};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::views::runbooks::plain;

const WIDTH: u16 = 66;

pub fn render(dialog: &RunDialog, state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let inner = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let muted = theme.style(Role::Muted);
    let mut lines = Vec::new();
    let mut lead = Vec::new();
    let (title, question_text, yes) = match &dialog.ask {
        RunAsk::Start {
            runbook,
            params,
            failed_check,
        } => {
            for (k, v) in params {
                lines.push(Line::styled(
                    format::truncate(&format!("{k} = {}", plain(v)), inner),
                    theme.style(Role::Text),
                ));
            }
            lines.push(Line::styled(
                "This is the real run: its steps change the platform.",
                muted,
            ));
            match (failed_check, dialog.step) {
                (None, _) => (
                    " Start run ",
                    format!("Start runbook {runbook} for real? "),
                    "start",
                ),
                (Some(check), step) => {
                    let error = theme.style(Role::Error);
                    lead.push(Line::styled(
                        format::truncate(&format!("✖ Precondition failed: {}", check.step), inner),
                        error,
                    ));
                    for row in format::wrap(&check.observed, inner.saturating_sub(2)) {
                        lead.push(Line::styled(format!("  {row}"), error));
                    }
                    if step == RunDialogStep::Ask {
                        (
                            " Start run ",
                            format!("Start runbook {runbook} for real? "),
                            "go on (asks again)",
                        )
                    } else {
                        (
                            " Start run ",
                            "The precondition failed. Start anyway? ".to_string(),
                            "start anyway",
                        )
                    }
                }
            }
        }
        RunAsk::Control {
            run, control, step, ..
        } => {
            let status = state.runs.runs.get(run);
            // An approval names the step it was asked for, even if the run has moved on since.
            let step = step
                .clone()
                .or_else(|| status.and_then(|r| r.current_step.clone()))
                .unwrap_or_default();
            let waiting = status
                .and_then(|r| r.steps.iter().find(|s| s.id == step))
                .and_then(|s| s.waiting_on.clone());
            match control {
                RunControl::Approve => {
                    if let Some(w) = waiting {
                        lines.push(Line::styled(
                            format::truncate(&w, inner * 2),
                            theme.style(Role::Text),
                        ));
                    }
                    lines.push(Line::styled(
                        format!("as {}; recorded in the run's output", state.core.actor),
                        muted,
                    ));
                    (
                        " Approve step ",
                        format!("Approve {step} of {run}? "),
                        "approve",
                    )
                }
                RunControl::Abort => {
                    lines.push(Line::styled(
                        format!("{step} stops at its next poll; the remaining steps are skipped."),
                        muted,
                    ));
                    (" Abort run ", format!("Abort {run}? "), "abort")
                }
                RunControl::Resume => {
                    lines.push(Line::styled(
                        format!("continues from {step}, which runs again"),
                        muted,
                    ));
                    (" Resume run ", format!("Resume {run}? "), "resume")
                }
            }
        }
    };
    lines.insert(0, question(question_text, &state.core.keymap, theme));
    lead.append(&mut lines);
    let mut lines = lead;
    let sending = matches!(dialog.step, RunDialogStep::Sending { .. });
    question_footer(
        &mut lines,
        sending,
        dialog.failure.as_deref(),
        yes,
        &state.core.keymap,
        theme,
    );
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(title, theme.style(Role::DialogTitle)));
    let inner_w = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let rect = centered(area, WIDTH, u16::try_from(rows + 2).unwrap_or(u16::MAX));
    clear_popup(frame, rect);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

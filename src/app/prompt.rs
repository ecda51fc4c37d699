//! The command line: the one-line `:` prompt at the bottom of the screen, its completion
//! candidates, and the session's command history (↑/↓, bounded).

use std::collections::VecDeque;

use crate::app::command::{self, Candidate};
use crate::app::core::effect::Effect;
use crate::app::core::keymap::{Command, Layer};
use crate::app::state::State;

/// Commands remembered for ↑/↓; older ones are dropped.
pub const HISTORY_CAP: usize = 100;
/// Longest command line accepted, characters.
const MAX_LINE_CHARS: usize = 256;

/// The open command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompt {
    /// What was typed after `:`.
    pub input: String,
    /// What the word being typed could become, shown above the prompt.
    pub candidates: Vec<Candidate>,
    /// Why the last Enter did nothing.
    pub error: Option<String>,
    /// Index into the history while browsing it with ↑/↓.
    browsing: Option<usize>,
    /// The line being typed before browsing started, restored by ↓ past the newest entry.
    draft: String,
}

/// Commands entered this session, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PromptHistory {
    entries: VecDeque<String>,
}

impl PromptHistory {
    /// Remember a line; blank lines and a repeat of the newest entry are not kept twice.
    pub fn push(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() || self.entries.back().is_some_and(|l| l == line) {
            return;
        }
        if self.entries.len() == HISTORY_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back(line.to_string());
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        self.entries.get(i).map(String::as_str)
    }
}

/// Open the command line (not over a dialog or the help overlay).
pub fn open(state: &mut State) {
    if state.dialog.is_some() || state.help_open {
        return;
    }
    state.prompt = Some(Prompt {
        candidates: command::complete(state, "").candidates,
        ..Prompt::default()
    });
}

/// Keys of the command-line layer. False for commands it does not handle (quit).
pub fn run(state: &mut State, layer: Layer, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    if layer != Layer::Command {
        return false;
    }
    let Some(prompt) = state.prompt.as_mut() else {
        return false;
    };
    match cmd {
        Command::Submit => submit(state, effects),
        Command::Back => state.prompt = None,
        Command::DeleteChar => {
            if prompt.input.pop().is_none() {
                // Backspace on an empty line leaves command mode, as in vim.
                state.prompt = None;
            } else {
                edited(state);
            }
        }
        Command::Complete => {
            let input = prompt.input.clone();
            let completion = command::complete(state, &input);
            if let Some(p) = state.prompt.as_mut() {
                p.input = completion.line;
                p.candidates = completion.candidates;
                p.error = None;
            }
        }
        Command::HistoryPrev => browse(state, -1),
        Command::HistoryNext => browse(state, 1),
        _ => return false,
    }
    true
}

/// Type a character into the command line.
pub fn type_char(state: &mut State, c: char) -> bool {
    let Some(prompt) = state.prompt.as_mut() else {
        return false;
    };
    if !c.is_control() && prompt.input.chars().count() < MAX_LINE_CHARS {
        prompt.input.push(c);
    }
    edited(state);
    true
}

/// After an edit: leave history browsing, clear the error, refresh the candidates.
fn edited(state: &mut State) {
    let Some(input) = state.prompt.as_ref().map(|p| p.input.clone()) else {
        return;
    };
    let candidates = command::complete(state, &input).candidates;
    if let Some(p) = state.prompt.as_mut() {
        p.candidates = candidates;
        p.error = None;
        p.browsing = None;
    }
}

/// ↑ (`delta` -1) older, ↓ (+1) newer; past the newest comes back to what was being typed.
fn browse(state: &mut State, delta: isize) {
    let len = state.prompt_history.len();
    let Some(p) = state.prompt.as_mut() else {
        return;
    };
    if len == 0 {
        return;
    }
    let next = match (p.browsing, delta < 0) {
        (None, true) => {
            p.draft = p.input.clone();
            Some(len - 1)
        }
        (None, false) => None,
        (Some(i), true) => Some(i.saturating_sub(1)),
        (Some(i), false) if i + 1 < len => Some(i + 1),
        (Some(_), false) => None,
    };
    p.browsing = next;
    p.input = match next {
        Some(i) => state.prompt_history.get(i).unwrap_or_default().to_string(),
        None => std::mem::take(&mut p.draft),
    };
    p.error = None;
    p.candidates.clear();
}

/// Enter: run the line. A parse or execution error keeps the line open with the reason.
fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(line) = state.prompt.as_ref().map(|p| p.input.clone()) else {
        return;
    };
    if line.trim().is_empty() {
        state.prompt = None;
        return;
    }
    state.prompt_history.push(&line);
    let result = command::parse(&line)
        .map_err(|e| e.to_string())
        .and_then(|cmd| {
            // Close first: a command may open a dialog, or the help overlay.
            let open = state.prompt.take();
            let result = command::execute(state, cmd, effects);
            if result.is_err() {
                state.prompt = open;
            }
            result
        });
    if let Err(error) = result
        && let Some(p) = state.prompt.as_mut()
    {
        p.error = Some(error);
        p.candidates.clear();
        p.browsing = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_skips_repeats() {
        let mut h = PromptHistory::default();
        h.push("alerts");
        h.push("alerts");
        h.push("  ");
        assert_eq!(h.len(), 1);
        for i in 0..HISTORY_CAP + 10 {
            h.push(&format!("app a{i}"));
        }
        assert_eq!(h.len(), HISTORY_CAP);
        assert_eq!(h.get(0), Some("app a10"));
    }
}

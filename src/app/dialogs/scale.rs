//! The scale dialog: edit a replica count, review it, confirm it. Two deliberate steps, so no
//! single key ever changes the platform; in a production context a third comes between them:
//! the operator types the app id, and only an exact match leads on to the `y/N` question.

use std::fmt;

use crate::app::core::NoticeLevel;
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::keymap::{Command, Layer};
use crate::app::state::{Dialog, State};

/// Where the operator is in the scale flow.
#[derive(Clone, Debug, PartialEq)]
pub enum ScaleStep {
    /// Typing the new replica count.
    Edit,
    /// Production: type the app id before the confirmation.
    TypeName,
    /// "Scale shop-cart from 6 to 12? y/N"
    Confirm,
    /// Sent; waiting for the gateway to accept it.
    Sending { request_id: RequestId },
}

/// Why the typed replica count cannot be confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScaleProblem {
    Empty,
    BelowMin { min: u32 },
    AboveMax { max: u32 },
    Unchanged { replicas: u32 },
}

impl fmt::Display for ScaleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaleProblem::Empty => f.write_str("type a replica count"),
            ScaleProblem::BelowMin { min } => write!(f, "at least {min} replicas"),
            ScaleProblem::AboveMax { max } => write!(f, "at most {max} replicas"),
            ScaleProblem::Unchanged { replicas } => {
                write!(f, "already {replicas} replicas")
            }
        }
    }
}

/// Longest replica count the dialog accepts, in digits.
const MAX_DIGITS: usize = 5;

/// The scale dialog for one app.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleDialog {
    pub app: String,
    /// Display name, possibly Chinese.
    pub app_name: String,
    /// Desired replicas when the dialog opened.
    pub from: u32,
    pub min: u32,
    pub max: u32,
    /// The replica count as typed.
    pub input: String,
    /// `input` is still the count the dialog opened with, shown selected: the first digit
    /// typed replaces it (`S 8 Enter` scales to 8, not 48); `+`/`-` adjust it.
    pub prefilled: bool,
    pub step: ScaleStep,
    /// Typing the app name is required before the confirmation.
    pub production: bool,
    /// The app name as typed (production only).
    pub typed: String,
    /// Sent with every try of this change, so the gateway applies it once.
    pub idempotency_key: String,
    /// The count last sent with `idempotency_key`; a different count needs a new key.
    pub sent_replicas: Option<u32>,
    /// Why the last try failed, shown until the next edit.
    pub failure: Option<String>,
}

impl ScaleDialog {
    pub fn new(
        app: String,
        app_name: String,
        from: u32,
        min: u32,
        max: u32,
        idempotency_key: String,
    ) -> Self {
        ScaleDialog {
            app,
            app_name,
            from,
            min,
            max,
            input: from.to_string(),
            prefilled: true,
            step: ScaleStep::Edit,
            production: false,
            typed: String::new(),
            idempotency_key,
            sent_replicas: None,
            failure: None,
        }
    }

    /// The dialog for a production context, where the app name must be typed to confirm.
    pub fn on_production(mut self, production: bool) -> Self {
        self.production = production;
        self
    }

    /// Whether the typed name allows the confirmation (always true outside production).
    pub fn name_matches(&self) -> bool {
        crate::app::core::typed_name::confirms(self.production, &self.typed, &self.app)
    }

    /// Type one character of the app name (production step only).
    pub fn push_name_char(&mut self, c: char) {
        if self.step == ScaleStep::TypeName {
            let _ = crate::app::core::typed_name::push(&mut self.typed, c);
        }
    }

    /// The typed count if it may be confirmed, or why not.
    pub fn target(&self) -> Result<u32, ScaleProblem> {
        if self.input.is_empty() {
            return Err(ScaleProblem::Empty);
        }
        // Only digits are ever typed and MAX_DIGITS keeps it in range, so this cannot fail;
        // treat a failure as "too many" all the same.
        let n: u32 = self
            .input
            .parse()
            .map_err(|_| ScaleProblem::AboveMax { max: self.max })?;
        if n < self.min {
            Err(ScaleProblem::BelowMin { min: self.min })
        } else if n > self.max {
            Err(ScaleProblem::AboveMax { max: self.max })
        } else if n == self.from {
            Err(ScaleProblem::Unchanged { replicas: n })
        } else {
            Ok(n)
        }
    }

    /// The typed count, valid or not (0 when empty).
    pub fn typed(&self) -> u32 {
        self.input.parse().unwrap_or(0)
    }

    pub fn push_digit(&mut self, d: char) {
        if !d.is_ascii_digit() {
            return;
        }
        if self.prefilled || self.input == "0" {
            self.input.clear();
        }
        self.prefilled = false;
        if self.input.len() < MAX_DIGITS {
            self.input.push(d);
        }
        self.failure = None;
    }

    pub fn delete_digit(&mut self) {
        if self.prefilled {
            self.input.clear();
        }
        self.prefilled = false;
        self.input.pop();
        self.failure = None;
    }

    pub fn step_by(&mut self, delta: i64) {
        let next = (i64::from(self.typed()) + delta).clamp(0, 99_999);
        self.input = next.to_string();
        self.prefilled = false;
        self.failure = None;
    }
}

/// Run a command while the scale dialog is open: edit the count, review, type the name on
/// production, confirm or cancel. False when the command is not the dialog's (help, quit, and
/// Esc on the confirmation, which closes any dialog), so the caller runs it.
pub(crate) fn run(
    state: &mut State,
    layer: Layer,
    cmd: Command,
    effects: &mut Vec<Effect>,
) -> bool {
    match (layer, cmd) {
        (Layer::Scale, Command::Back) => state.dialog = None,
        // Production: back from typing the name to the replica count.
        (Layer::ScaleName, Command::Back) => with_dialog(state, |d| d.step = ScaleStep::Edit),
        (Layer::Scale, Command::Submit) => with_dialog(state, |d| {
            if d.step == ScaleStep::Edit && d.target().is_ok() {
                // On production the name is typed afresh for every change reviewed.
                d.typed.clear();
                d.step = if d.production {
                    ScaleStep::TypeName
                } else {
                    ScaleStep::Confirm
                };
            }
        }),
        (Layer::ScaleName, Command::Submit) => with_dialog(state, |d| {
            if d.step == ScaleStep::TypeName && d.target().is_ok() && d.name_matches() {
                d.step = ScaleStep::Confirm;
            }
        }),
        (Layer::Scale, Command::DeleteChar) => with_scale(state, ScaleDialog::delete_digit),
        (Layer::ScaleName, Command::DeleteChar) => with_dialog(state, |d| {
            d.typed.pop();
        }),
        (_, Command::Increment) => with_scale(state, |d| d.step_by(1)),
        (_, Command::Decrement) => with_scale(state, |d| d.step_by(-1)),
        (_, Command::Confirm) => confirm_scale(state, effects),
        (_, Command::Cancel) => cancel_confirmation(state),
        _ => return false,
    }
    true
}

fn with_dialog(state: &mut State, edit: impl FnOnce(&mut ScaleDialog)) {
    if let Some(Dialog::Scale(d)) = &mut state.dialog {
        edit(d);
    }
}

fn with_scale(state: &mut State, edit: impl FnOnce(&mut ScaleDialog)) {
    if let Some(Dialog::Scale(d)) = &mut state.dialog
        && d.step == ScaleStep::Edit
    {
        edit(d);
    }
}

/// The last deliberate step: `y` on "Scale X from A to B? y/N" sends the request (on
/// production only after the app name was typed exactly).
fn confirm_scale(state: &mut State, effects: &mut Vec<Effect>) {
    if state.core.readonly {
        return;
    }
    let Some(Dialog::Scale(d)) = &state.dialog else {
        return;
    };
    if d.step != ScaleStep::Confirm {
        return;
    }
    let Ok(replicas) = d.target() else {
        return;
    };
    if !d.name_matches() {
        return;
    }
    // The same change retried keeps its key; a different count is a different change.
    let fresh_key = d.sent_replicas.is_some_and(|sent| sent != replicas);
    let (app, old_key) = (d.app.clone(), d.idempotency_key.clone());
    let key = if fresh_key {
        state.core.new_idempotency_key()
    } else {
        old_key
    };
    let request_id = state.core.send(
        RequestKind::ScaleApp {
            app,
            replicas,
            idempotency_key: key.clone(),
            actor: state.core.actor.clone(),
        },
        effects,
    );
    if let Some(Dialog::Scale(d)) = &mut state.dialog {
        d.idempotency_key = key;
        d.sent_replicas = Some(replicas);
        d.failure = None;
        d.step = ScaleStep::Sending { request_id };
    }
}

fn cancel_confirmation(state: &mut State) {
    let Some(Dialog::Scale(d)) = &mut state.dialog else {
        return;
    };
    match d.step {
        ScaleStep::Confirm => d.step = ScaleStep::Edit,
        ScaleStep::Sending { .. } => {
            state.dialog = None;
            state.core.notify(
                NoticeLevel::Info,
                "scale request still on its way; progress shows below",
            );
        }
        ScaleStep::Edit | ScaleStep::TypeName => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> ScaleDialog {
        ScaleDialog::new("a".into(), "a".into(), 6, 2, 20, "k".into())
    }

    #[test]
    fn target_checks_range_and_change() {
        let mut d = dialog();
        assert_eq!(d.target(), Err(ScaleProblem::Unchanged { replicas: 6 }));
        d.delete_digit();
        assert_eq!(d.target(), Err(ScaleProblem::Empty));
        d.push_digit('1');
        assert_eq!(d.target(), Err(ScaleProblem::BelowMin { min: 2 }));
        d.push_digit('2');
        assert_eq!(d.target(), Ok(12));
        d.push_digit('0');
        assert_eq!(d.target(), Err(ScaleProblem::AboveMax { max: 20 }));
        for _ in 0..10 {
            d.push_digit('9');
        }
        assert_eq!(d.input.len(), MAX_DIGITS);
        d.step_by(-200_000);
        assert_eq!(d.input, "0");
    }

    #[test]
    fn only_the_exact_app_id_matches_on_production() {
        let mut d = dialog();
        assert!(d.name_matches(), "outside production no name is needed");
        let mut d2 = dialog().on_production(true);
        assert!(!d2.name_matches());
        d2.push_name_char('a');
        assert!(!d2.name_matches(), "typing only counts in the name step");
        d2.step = ScaleStep::TypeName;
        d2.push_name_char('A');
        assert!(!d2.name_matches(), "case matters");
        d2.typed = "a".into();
        assert!(d2.name_matches());
        d.step = ScaleStep::TypeName;
        d.push_name_char('x');
        assert_eq!(d.typed, "x");
    }
}

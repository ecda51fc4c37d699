//! Key hints ("Enter review  Esc cancel"), built from the keymap: no key is written in a view or
//! a dialog, so a user's override shows in its hints, and a command `--readonly` removed is not
//! offered.

use ratatui::text::{Line, Span};

use crate::app::{Command, KeyCode, KeyInput, Keymap, Layer};
use crate::ui::theme::{Role, Theme};

/// Which keys of a command a hint names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// Its first key only: `Enter`.
    First(Command),
    /// Every key, less the upper-case twin of a letter already named: `n/Esc` for `n N Esc`.
    All(Command),
    /// Digits typed into a number field (no binding: any digit is typed).
    Digits,
}

/// One hint: the keys, and what they do.
pub type Hint<'a> = (&'a [Keys], &'a str);

/// The label of `keys` in `layer` ("Enter", "n/Esc", "w/1-4"), or None when nothing of it is
/// bound.
pub fn label(keymap: &Keymap, layer: Layer, keys: &[Keys]) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for k in keys {
        match *k {
            Keys::First(cmd) => {
                if let Some(key) = keymap.keys_for(layer, cmd).first() {
                    names.push(key.to_string());
                }
            }
            Keys::All(cmd) => {
                let bound = keymap.keys_for(layer, cmd);
                for (i, key) in bound.iter().enumerate() {
                    if !is_twin(key, &bound[..i]) {
                        names.push(key.to_string());
                    }
                }
            }
            Keys::Digits => names.push("0-9".into()),
        }
    }
    (!names.is_empty()).then(|| join_ranges(&names))
}

/// The first key of `cmd` in `layer`, for a sentence ("Esc clears the filter"); `(unbound)`
/// when a user's keymap left the command without a key.
pub fn key(keymap: &Keymap, layer: Layer, cmd: Command) -> String {
    label(keymap, layer, &[Keys::First(cmd)]).unwrap_or_else(|| "(unbound)".into())
}

/// What a list says when its `/` filter hides every row: "No alert matches /zzz (3 hidden):
/// Esc clears the filter." — never that the list is empty when it is not.
pub fn filter_hides_all(
    keymap: &Keymap,
    layer: Layer,
    what: &str,
    filter: &str,
    hidden: usize,
) -> String {
    format!(
        "No {what} matches /{filter} ({hidden} hidden): {} clears the filter.",
        key(keymap, layer, Command::Back)
    )
}

/// Whether `key` is the upper-case twin of a letter among `earlier` (`N` after `n`).
fn is_twin(key: &KeyInput, earlier: &[KeyInput]) -> bool {
    let KeyCode::Char(c) = key.code else {
        return false;
    };
    c.is_uppercase()
        && earlier.iter().any(|e| {
            e.ctrl == key.ctrl
                && e.alt == key.alt
                && matches!(e.code, KeyCode::Char(l) if l.to_uppercase().eq(c.to_uppercase()))
        })
}

/// `names` joined with `/`, a run of three or more consecutive digits shown as `1-4`.
fn join_ranges(names: &[String]) -> String {
    let digit = |s: &str| -> Option<u32> {
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then(|| c.to_digit(10)).flatten()
    };
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let mut j = i;
        if let Some(first) = digit(&names[i]) {
            while j + 1 < names.len()
                && digit(&names[j + 1]) == Some(first + u32::try_from(j + 1 - i).unwrap_or(0))
            {
                j += 1;
            }
        }
        if j - i >= 2 {
            parts.push(format!("{}-{}", names[i], names[j]));
        } else {
            parts.extend(names[i..=j].iter().cloned());
        }
        i = j + 1;
    }
    parts.join("/")
}

/// `key what`, for each hint whose keys are bound, separated by `sep`.
pub fn spans(
    keymap: &Keymap,
    layer: Layer,
    hints: &[Hint],
    sep: &str,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (keys, what) in hints {
        let Some(label) = label(keymap, layer, keys) else {
            continue;
        };
        if !out.is_empty() {
            out.push(Span::styled(sep.to_string(), theme.style(Role::Muted)));
        }
        out.push(Span::styled(label, theme.style(Role::Key)));
        out.push(Span::styled(format!(" {what}"), theme.style(Role::Muted)));
    }
    out
}

/// [`spans`] in at most `width` columns: hints are listed most useful first, so those that do
/// not fit are dropped from the end — except the last, the way out (`Esc back`), which stays.
pub fn spans_within(
    keymap: &Keymap,
    layer: Layer,
    hints: &[Hint],
    sep: &str,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'static>> {
    let bound: Vec<Hint> = hints
        .iter()
        .filter(|(keys, _)| label(keymap, layer, keys).is_some())
        .copied()
        .collect();
    let mut kept = bound.clone();
    let columns = |hs: &[Hint]| -> usize {
        let words: usize = hs
            .iter()
            .map(|(keys, what)| {
                let label = label(keymap, layer, keys).unwrap_or_default();
                crate::ui::format::width(&label) + 1 + crate::ui::format::width(what)
            })
            .sum();
        words + crate::ui::format::width(sep) * hs.len().saturating_sub(1)
    };
    while kept.len() > 1 && columns(&kept) > width {
        kept.remove(kept.len() - 2);
    }
    spans(keymap, layer, &kept, sep, theme)
}

/// `key what  key what …` as one line.
pub fn line(keymap: &Keymap, layer: Layer, hints: &[Hint], theme: &Theme) -> Line<'static> {
    Line::from(spans(keymap, layer, hints, "  ", theme))
}

/// `key what · key what …` as plain text, for a line drawn in one style.
pub fn text(keymap: &Keymap, layer: Layer, hints: &[Hint], sep: &str) -> String {
    let mut out = Vec::new();
    for (keys, what) in hints {
        if let Some(label) = label(keymap, layer, keys) {
            out.push(format!("{label} {what}"));
        }
    }
    out.join(sep)
}

/// The answer keys of a y/N question: the confirm key, then the cancel key in upper case (the
/// default), e.g. `y/N`.
pub fn yes_no(keymap: &Keymap) -> String {
    let first = |cmd| {
        keymap
            .keys_for(Layer::Confirm, cmd)
            .first()
            .map(ToString::to_string)
    };
    let yes = first(Command::Confirm).unwrap_or_default();
    let no = first(Command::Cancel).unwrap_or_default();
    let no = if no.chars().count() == 1 {
        no.to_uppercase()
    } else {
        no
    };
    format!("{yes}/{no}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_keymap() {
        let km = Keymap::builtin().unwrap();
        let l = |layer, keys: &[Keys]| label(&km, layer, keys).unwrap();
        assert_eq!(l(Layer::Confirm, &[Keys::All(Command::Cancel)]), "n/Esc");
        assert_eq!(
            l(Layer::Releases, &[Keys::All(Command::OpenRollback)]),
            "Enter/R"
        );
        assert_eq!(
            l(Layer::Alerts, &[Keys::First(Command::JumpToApp)]),
            "Enter"
        );
        let window = [
            Keys::First(Command::CycleWindow),
            Keys::First(Command::Window1m),
            Keys::First(Command::Window5m),
            Keys::First(Command::Window15m),
            Keys::First(Command::Window1h),
        ];
        assert_eq!(l(Layer::App, &window), "w/1-4");
        assert_eq!(l(Layer::Overview, &[Keys::First(Command::ToggleHelp)]), "?");
        assert_eq!(yes_no(&km), "y/N");
    }

    #[test]
    fn an_override_shows_and_an_unbound_command_is_left_out() {
        let km = Keymap::from_toml(
            "[[app]]\non = [\"<C-s>\"]\nrun = \"scale\"\n\
             [[confirm]]\non = [\"j\"]\nrun = \"confirm\"\n",
        )
        .unwrap();
        assert_eq!(
            label(&km, Layer::App, &[Keys::First(Command::OpenScale)]).as_deref(),
            Some("Ctrl-s")
        );
        assert_eq!(
            label(&km, Layer::App, &[Keys::First(Command::OpenRollback)]),
            None
        );
        assert_eq!(yes_no(&km), "j/");
    }
}

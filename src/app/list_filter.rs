//! The `/` filter of every list view: one [`FilterInput`] per view (the overview keeps its own
//! `State::filter`), typed through the same `filter` keymap layer. Matching is a
//! case-insensitive substring of any of the row's fields; the Events view reads its filter as
//! a regex instead ([`RowPattern`]), as the Logs view reads its search.

use std::collections::BTreeMap;

use crate::app::core::FilterInput;
use crate::app::core::pattern::{Pattern, PatternError};
use crate::app::state::{State, View};

/// The filters of the list views other than the overview, by view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListFilters(BTreeMap<View, FilterInput>);

/// The views that have a `/` filter.
pub fn has_filter(view: View) -> bool {
    matches!(
        view,
        View::Overview | View::Alerts | View::Events | View::Releases | View::Runs | View::Runbooks
    )
}

impl State {
    /// The `/` filter of `view`, if it has one.
    pub fn filter_of(&self, view: View) -> Option<&FilterInput> {
        match view {
            View::Overview => Some(&self.overview.filter),
            v if has_filter(v) => Some(self.list_filters.0.get(&v).unwrap_or(&EMPTY)),
            _ => None,
        }
    }

    /// The filter text of `view`, lower-cased for matching ("" when none).
    pub fn filter_needle(&self, view: View) -> String {
        self.filter_of(view)
            .map(|f| f.text.to_lowercase())
            .unwrap_or_default()
    }

    /// The filter of `view` read as a regex ([`RowPattern`]).
    pub fn filter_pattern(&self, view: View) -> RowPattern {
        RowPattern::new(self.filter_of(view).map_or("", |f| f.text.as_str()))
    }

    /// The current view's filter, if it has one.
    pub(crate) fn current_filter_mut(&mut self) -> Option<&mut FilterInput> {
        match self.view {
            View::Overview => Some(&mut self.overview.filter),
            v if has_filter(v) => Some(self.list_filters.0.entry(v).or_default()),
            _ => None,
        }
    }

    /// Clear `view`'s filter (to show a row it hides).
    pub(crate) fn clear_filter(&mut self, view: View) {
        match view {
            View::Overview => self.overview.filter = FilterInput::default(),
            v => {
                self.list_filters.0.remove(&v);
            }
        }
    }

    /// Keys are being typed into the current view's filter.
    pub fn filter_editing(&self) -> bool {
        self.filter_of(self.view).is_some_and(|f| f.editing)
    }

    /// Stop typing into any filter (a view or dialog opened over it).
    pub(crate) fn stop_filter_editing(&mut self) {
        self.overview.filter.editing = false;
        for f in self.list_filters.0.values_mut() {
            f.editing = false;
        }
    }
}

static EMPTY: FilterInput = FilterInput {
    text: String::new(),
    editing: false,
};

/// Whether any of `fields` contains `needle` (already lower-case); an empty needle matches.
pub fn matches<'a>(needle: &str, fields: impl IntoIterator<Item = &'a str>) -> bool {
    needle.is_empty()
        || fields
            .into_iter()
            .any(|f| f.to_lowercase().contains(needle))
}

/// A `/` filter read as a regex, compiled by the Logs view's [`Pattern`], case-insensitive like
/// every `/` filter (`(?-i)` in the pattern turns that off). Text that is not a
/// regex (yet: `(` typed on the way to `(a|b)`) is matched as plain text, as before regexes,
/// and says why it is not one, so a half-typed pattern neither hides every row nor is lost.
#[derive(Clone, Debug)]
pub enum RowPattern {
    /// No filter: every row.
    All,
    Regex(Pattern),
    /// Not a regex: a case-insensitive substring (`needle`, lower-case), and why.
    Text {
        needle: String,
        error: PatternError,
    },
}

impl RowPattern {
    pub fn new(text: &str) -> RowPattern {
        if text.is_empty() {
            return RowPattern::All;
        }
        match Pattern::ignoring_case(text) {
            Ok(pattern) => RowPattern::Regex(pattern),
            Err(error) => RowPattern::Text {
                needle: text.to_lowercase(),
                error,
            },
        }
    }

    /// Whether any of `fields` matches.
    pub fn matches<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> bool {
        match self {
            RowPattern::All => true,
            RowPattern::Regex(pattern) => fields.into_iter().any(|f| pattern.is_match(f)),
            RowPattern::Text { needle, .. } => matches(needle, fields),
        }
    }

    /// Why the filter is matched as plain text, when it is not a regex.
    pub fn error(&self) -> Option<&PatternError> {
        match self {
            RowPattern::Text { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_pattern_is_a_regex_or_else_plain_text() {
        let fields = ["shop-cart", "scale", "scale 4 -> 6 (OOMKilled)"];
        assert!(RowPattern::new("").matches(fields));
        assert!(RowPattern::new("alert|scale").matches(fields));
        assert!(RowPattern::new("SCALE").matches(["scale"]));
        assert!(!RowPattern::new("(?-i)SCALE").matches(["scale"]));
        assert!(RowPattern::new("oomkilled").matches(fields));
        assert!(RowPattern::new("^scale \\d").matches(fields));
        let half_typed = RowPattern::new("(oom");
        assert_eq!(
            half_typed.error().map(ToString::to_string).as_deref(),
            Some("invalid regex: unclosed group")
        );
        assert!(half_typed.matches(fields), "matched as plain text");
        assert!(!RowPattern::new("(oom").matches(["deploy"]));
    }
}

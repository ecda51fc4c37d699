//! The `/` filter of every list view: one [`FilterInput`] per view (the overview keeps its own
//! `State::filter`), typed through the same `filter` keymap layer. Matching is a
//! case-insensitive substring of any of the row's fields.

use std::collections::BTreeMap;

use crate::app::core::FilterInput;
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
